"""Speaker similarity with resemblyzer's GE2E voice encoder (weights ship in the wheel).

The encoder turns a clip into a 256-d unit vector (resemblyzer's own preprocessing:
16 kHz, loudness normalised to -30 dBFS, long silences cut with webrtcvad, then
1.6 s partials averaged); the cosine similarity of a take's and its prompt's
embeddings says whether the clone sounds like the input voice.

Optional dependency (extra `listen`): resemblyzer (torch, librosa, webrtcvad;
it imports pkg_resources, hence setuptools < 81). The encoder loads once per
process, lazily, the first time a `voice` check needs it.
"""
from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .vad import VAD_RATE, to_16k

ENCODER_RATE = VAD_RATE
#: less speech than this (after resemblyzer trims silences) gives no reliable
#: embedding: the encoder averages 1.6 s windows, and on one-word clips the
#: same voice scores as low as 0.49 (docs/CALIBRATION.md); the check is skipped
MIN_SPEECH_S = 1.0
INSTALL_HINT = "pip install 'pytest-luxgate[listen]'"

_LOCK = threading.Lock()
_ENCODER: Any = None


@dataclass(frozen=True)
class VoiceMatch:
    """Cosine similarity of a take's speaker embedding with its prompt's."""

    similarity: float
    take_speech_s: float     # speech left after resemblyzer's silence trimming
    prompt_speech_s: float

    def to_dict(self) -> dict[str, float]:
        return {"similarity": self.similarity, "take_speech_s": self.take_speech_s,
                "prompt_speech_s": self.prompt_speech_s}


def unavailable() -> str | None:
    """Why the speaker encoder cannot run here, or None when it can."""
    try:
        with warnings.catch_warnings():  # resemblyzer 0.1.4's own imports warn on every run; nothing to act on
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*scipy.ndimage.morphology", category=DeprecationWarning)
            import resemblyzer  # noqa: F401
    except Exception as exc:  # ImportError, or pkg_resources missing with setuptools >= 81
        return f"the speaker encoder is not installed ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
    return None


def _encoder() -> Any:
    global _ENCODER
    if _ENCODER is None:
        with _LOCK:
            if _ENCODER is None:
                if (why := unavailable()) is not None:
                    raise RuntimeError(why)
                from resemblyzer import VoiceEncoder

                _ENCODER = VoiceEncoder(device="cpu", verbose=False)
    return _ENCODER


def _preprocess(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    _encoder()  # imports resemblyzer quietly, once
    from resemblyzer import preprocess_wav

    # soxr rather than resemblyzer's librosa path: same rate, faster
    return preprocess_wav(to_16k(audio, sample_rate), source_sr=ENCODER_RATE)


def voice_match(audio: np.ndarray, sample_rate: int, prompt: np.ndarray, prompt_rate: int) -> VoiceMatch:
    """How much the take sounds like the prompt's speaker (cosine, 0..1 for these embeddings)."""
    a = _preprocess(audio, sample_rate)
    b = _preprocess(prompt, prompt_rate)
    for name, wav in (("take", a), ("prompt", b)):
        if len(wav) < MIN_SPEECH_S * ENCODER_RATE:
            raise ValueError(f"the {name} has only {len(wav) / ENCODER_RATE:.2f} s of speech (after silence "
                             f"trimming): too little to tell a voice reliably (needs {MIN_SPEECH_S:g} s)")
    enc = _encoder()
    with _LOCK:  # one torch module, shared by threads
        ea = np.asarray(enc.embed_utterance(a), dtype=np.float64)
        eb = np.asarray(enc.embed_utterance(b), dtype=np.float64)
    return VoiceMatch(similarity=round(float(np.dot(ea, eb)), 4),
                      take_speech_s=round(len(a) / ENCODER_RATE, 3),
                      prompt_speech_s=round(len(b) / ENCODER_RATE, 3))
