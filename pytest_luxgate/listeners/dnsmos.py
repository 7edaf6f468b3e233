"""Predicted MOS with Microsoft's DNSMOS (ONNX models shipped in `speechmos`).

DNSMOS rates a clip like a P.835 listening panel: SIG (the speech itself),
BAK (background noise), OVRL (overall), plus the P.808 overall rating, each
1-5. It hears noise, hum, distortion and codec/vocoder damage; it was trained on
real recordings, so it also rates clean but robotic formant speech lower than
natural speech - the `quality` floor is set so that clean TTS passes (see
docs/CALIBRATION.md).

Optional dependency (extra `listen`): `speechmos` plus librosa. Both sessions
load once per process, on the first clip; nothing is imported before that.
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

import numpy as np

from .vad import VAD_RATE, to_16k

DNSMOS_RATE = VAD_RATE
INSTALL_HINT = "pip install 'pytest-luxgate[listen]'"

_LOCK = threading.Lock()


@dataclass(frozen=True)
class MOS:
    """DNSMOS ratings of one clip (1 = bad .. 5 = excellent)."""

    ovrl: float
    sig: float
    bak: float
    p808: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def unavailable() -> str | None:
    """Why DNSMOS cannot run here, or None when it can."""
    try:
        import speechmos.dnsmos  # noqa: F401
    except Exception as exc:  # ImportError, or a broken librosa/numba install
        return f"DNSMOS is not installed ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
    return None


def score(audio: np.ndarray, sample_rate: int) -> MOS:
    """DNSMOS of mono float audio at any rate (resampled to 16 kHz with soxr).

    The models take [-1, 1]; resampling can overshoot a full-scale peak by a
    fraction of a percent, so the 16 kHz signal is clipped to the range (what
    a DAC would do), which changes nothing a listener hears.
    """
    from speechmos import dnsmos  # the import lock makes its first load happen once

    x = np.clip(to_16k(audio, sample_rate), -1.0, 1.0)
    with _LOCK:  # speechmos keeps one module-level model; serialise calls across threads
        r = dnsmos.run(x, DNSMOS_RATE)
    return MOS(ovrl=round(float(r["ovrl_mos"]), 3), sig=round(float(r["sig_mos"]), 3),
               bak=round(float(r["bak_mos"]), 3), p808=round(float(r["p808_mos"]), 3))
