"""The ASR protocol, its error type and the resampler every backend shares.

Imports no backend: the factory that does is `registry` (a backend imports
this module, so a factory here would make an import cycle).
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..core.types import Transcript

WHISPER_RATE = 16_000

#: Intra-op threads of every ASR backend (CTranslate2, torch), the same everywhere
#: (issue 15, "reproducible verdicts"). Not the cores this process may use, nor
#: LUXGATE_THREADS/OMP_NUM_THREADS, which xdist sets to cores // workers: a cell's
#: transcript must not depend on the machine or on ``-n``, since a cached
#: transcript, a baseline's word-error count and a ``-n 0`` vs ``-n 2`` report
#: comparison all assume it does not. Measured (bench/asr_perturbation.py):
#: faster-whisper transcripts and word probabilities were identical at 1, 2, 3, 4
#: and 8 threads on this machine, but nothing in CTranslate2 or torch promises
#: that (MKL and oneDNN pick kernels, and split reductions, by thread count and
#: ISA), so the count is fixed rather than trusted. 1, like Piper's ONNX Runtime
#: (stacks/piper.py): parallelism comes from xdist workers, and N workers never
#: oversubscribe the cores.
CPU_THREADS = 1


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

