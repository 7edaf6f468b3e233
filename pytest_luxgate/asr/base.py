"""The ASR protocol, its error type and the resampler every backend shares.

Imports no backend: the factory that does is `registry` (a backend imports
this module, so a factory here would make an import cycle).
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..types import Transcript

WHISPER_RATE = 16_000


class ASRError(RuntimeError):
    """An ASR model could not be loaded or run."""


@runtime_checkable
class ASRBackend(Protocol):
    """Anything that turns mono float audio into a transcript with word times."""

    #: identity recorded in every report row (backend, model, revision, settings)
    name: str

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> Transcript: ...


def resample(audio: np.ndarray, rate: int, target: int = WHISPER_RATE) -> np.ndarray:
    """Resample mono float audio with soxr (high quality, no torch)."""
    audio = np.asarray(audio, dtype=np.float32)
    if rate == target:
        return audio
    import soxr

    return soxr.resample(audio, rate, target).astype(np.float32)

