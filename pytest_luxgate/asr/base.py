"""The ASR protocol, its error type and the resampler every backend shares.

Imports no backend: the factory that does is `registry` (a backend imports
this module, so a factory here would make an import cycle).
"""
from __future__ import annotations

from typing import Callable, Optional, Protocol, Sequence, Tuple, runtime_checkable

import numpy as np

from ..core.types import Transcript

WHISPER_RATE = 16_000
#: Whisper hears 30 s at a time (its encoder's fixed window)
WHISPER_WINDOW_S = 30

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


#: The text forced on a take: (word as the model's tokenizer split it, lowest probability of
#: its tokens) per word of the text, in order; None where the backend cannot force this take
Forced = Optional[Tuple[Tuple[str, float], ...]]
#: `force(audio, sample_rate, text)`, a backend's second opinion (see :class:`ForcingBackend`)
Forcer = Callable[[np.ndarray, int, str], Forced]


@runtime_checkable
class ForcingBackend(Protocol):
    """A backend that can also score a given text against a take (teacher forcing).

    Asked where the free decode heard a content word other than the text's: a
    real swap leaves the text's word improbable, a confident mishearing of a
    word the voice did say does not (metrics/content_words.py, "forced").
    """

    def force(self, audio: np.ndarray, sample_rate: int, text: str) -> Forced: ...


def force_text(backend: object, audio: np.ndarray, sample_rate: int, text: str) -> Forced:
    """`backend.force(...)` where the backend can force a text (:class:`ForcingBackend`), else None."""
    return backend.force(audio, sample_rate, text) if isinstance(backend, ForcingBackend) else None


def forceable(audio: np.ndarray, sample_rate: int, text: str) -> np.ndarray | None:
    """The take at Whisper's rate when a text can be forced on it in one window, else None
    (longer: judging/forcing.py cuts it into windows first; no words: nothing to score)."""
    audio16 = resample(audio, sample_rate, WHISPER_RATE)
    return audio16 if len(audio16) <= WHISPER_WINDOW_S * WHISPER_RATE and text.strip() else None


def lowest_per_word(words: Sequence[Tuple[str, int]], token_probs: Sequence[float]
                    ) -> Tuple[Tuple[str, float], ...]:
    """(word, lowest probability of its tokens) for ``words`` given as (text, number of
    tokens) in token order: a word is as sure as its least likely piece ("grand|mother")."""
    out, k = [], 0
    for text, n in words:
        out.append((text.strip(), float(min(token_probs[k:k + n]))))
        k += n
    return tuple(out)


def resample(audio: np.ndarray, rate: int, target: int = WHISPER_RATE) -> np.ndarray:
    """Resample mono float audio with soxr (high quality, no torch)."""
    audio = np.asarray(audio, dtype=np.float32)
    if rate == target:
        return audio
    import soxr

    return soxr.resample(audio, rate, target).astype(np.float32)

