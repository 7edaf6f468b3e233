"""Speech-like signals made from formulas, for the unit tests of the edge detectors: a vowel (a
gliding harmonic tone) and noise, broadband or shaped like a sibilant. 16 kHz; levels re RMS 0.1
(the vowel's)."""
from __future__ import annotations

import numpy as np

SR = 16_000


def vowel(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A voiced vowel at RMS 0.1: 24 harmonics of a pitch gliding around 120 Hz."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 10 * np.sin(2 * np.pi * 3 * t)
    x = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / SR) / k for k in range(1, 25))
    return 0.1 * x / np.sqrt(np.mean(x ** 2)) + 1e-4 * rng.standard_normal(len(t))


def noise(seconds: float, rel_db: float, rng: np.random.Generator, high_pass_hz: float = 0.0) -> np.ndarray:
    """White noise `rel_db` re the vowel; with `high_pass_hz`, nothing below it (a sibilant's shape)."""
    x = rng.standard_normal(int(seconds * SR))
    if high_pass_hz:
        spec = np.fft.rfft(x)
        spec[np.fft.rfftfreq(len(x), 1 / SR) < high_pass_hz] = 0
        x = np.fft.irfft(spec, len(x))
    return 0.1 * 10 ** (rel_db / 20) * x / np.sqrt(np.mean(x ** 2))
