"""The ASR protocol and the per-process model registry."""
from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

import numpy as np

from ..core.types import Transcript

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


_LOCK = threading.Lock()
_CACHE: dict[str, ASRBackend] = {}


def get_asr(spec: str) -> ASRBackend:
    """Load (once per process) the backend named by `spec`.

    Specs: ``faster-whisper:tiny.en`` / ``faster-whisper:base`` (weights shipped
    in packages), ``faster-whisper:/path/to/ct2-dir``,
    ``transformers:openai/whisper-small`` or ``transformers:/path/to/hf-dir``.
    A bare ``tiny.en``/``base`` means faster-whisper.
    """
    backend, _, model = spec.partition(":")
    if not model:
        backend, model = "faster-whisper", backend
    key = f"{backend}:{model}"
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(backend, model)
        return _CACHE[key]


def _load(backend: str, model: str) -> ASRBackend:
    if backend == "faster-whisper":
        from .faster_whisper_backend import FasterWhisperASR

        return FasterWhisperASR(model)
    if backend == "transformers":
        from .transformers_backend import TransformersWhisperASR

        return TransformersWhisperASR(model)
    raise ASRError(
        f"unknown ASR backend {backend!r} in --luxgate-asr; use 'faster-whisper:<model>' "
        "or 'transformers:<hub id or local dir>'"
    )
