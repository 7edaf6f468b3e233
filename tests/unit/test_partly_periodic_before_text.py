"""Before the aligned text only a vowel's steady part is voiced (glued.BEFORE_TEXT_VOICED_APERIODICITY).

Noise shaped like a voice's spectrum keeps the voice's harmonics, and YIN reads it 0.2-0.8:
under VOICED_APERIODICITY (0.5) on 19-45 % of its loud frames, so a burst of it glued before
the first word held a "voiced" run that ended the search for it. Here the same in miniature: a
harmonic tone under noise at +3 dB (YIN 0.32-0.37) glued to a steady vowel (YIN under 0.2).
Before the text it is noise; taken into the text by the aligner, or with voicing at 0.5 before
the text too, it is the word's. A steady vowel the aligner leaves before the text (a voice's
epenthetic vowel) stays voiced. After the last word the same partly periodic sound is what a
slow final vowel's decay reads, which the aligner may leave outside: voicing stays at 0.5 there.
"""
from __future__ import annotations

import numpy as np
import pytest

from pytest_luxgate.metrics import glued
from pytest_luxgate.metrics.level import db

SR = 16_000
LEAD = 0.2  # silence before and after, s


def _vowel(seconds: float, f0: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, 25) if f0 * k < 4000)
    return x / np.sqrt(np.mean(x ** 2))


def _partly_periodic(seconds: float, seed: int = 1, snr_db: float = 3.0) -> np.ndarray:
    """A 190 Hz harmonic tone under white noise `snr_db` weaker: at +3 dB partly periodic, as
    speech-shaped noise (YIN 0.32-0.37); at -6 dB unvoiced (over 0.5)."""
    v = _vowel(seconds, 190.0)
    x = v * 10 ** (snr_db / 20) + np.random.default_rng(seed).standard_normal(len(v))
    return x / np.sqrt(np.mean(x ** 2))


def _take(burst: np.ndarray, side: str) -> tuple[np.ndarray, float, float]:
    """(audio, burst start, burst end): the burst glued before (lead) or after (tail) a 0.4 s
    vowel, both at one level (-20 dBFS), with silence around."""
    pad, word = np.zeros(int(LEAD * SR)), _vowel(0.4, 140.0)
    parts = [pad, burst, word, pad] if side == "lead" else [pad, word, burst, pad]
    b0 = LEAD if side == "lead" else LEAD + len(word) / SR
    return 0.1 * np.concatenate(parts), b0, b0 + len(burst) / SR


def _found(x: np.ndarray, side: str, b0: float, b1: float, text_edge: float) -> tuple[float, float] | None:
    level_db = db(0.1)
    if side == "lead":
        return glued.lead_noise(x, SR, level_db, b0, text_start=text_edge)
    return glued.tail_noise(x, SR, level_db, b1, text_end=text_edge)


def test_the_burst_reads_partly_periodic() -> None:
    x, b0, b1 = _take(_partly_periodic(0.1), "lead")
    f = glued.frame_features(x, SR, db(0.1), b0, b1 - glued.FRAME_S + 1e-9)
    assert np.all((f["aper"] >= glued.BEFORE_TEXT_VOICED_APERIODICITY) & (f["aper"] < glued.VOICED_APERIODICITY)), f["aper"]
    assert np.all(f["level"] > glued.NOISE_LEVEL_DB) and np.all(f["low"] > glued.SIBILANT_LOW_DB), f


def test_partly_periodic_sound_before_the_text_is_noise() -> None:
    x, b0, b1 = _take(_partly_periodic(0.1), "lead")
    got = _found(x, "lead", b0, b1, b1)  # the aligner left the burst before the text
    assert got is not None
    assert abs(got[0] - b0) <= 0.03 and abs(got[1] - b1) <= 0.03, (got, b0, b1)


def test_inside_the_text_or_with_voicing_at_half_it_is_the_words(monkeypatch: pytest.MonkeyPatch) -> None:
    x, b0, b1 = _take(_partly_periodic(0.1), "lead")
    assert _found(x, "lead", b0, b1, b0) is None  # the aligner took the burst into the text
    monkeypatch.setattr(glued, "BEFORE_TEXT_VOICED_APERIODICITY", glued.VOICED_APERIODICITY)
    assert _found(x, "lead", b0, b1, b1) is None


def test_after_the_text_partly_periodic_sound_stays_voiced() -> None:
    x, b0, b1 = _take(_partly_periodic(0.1), "tail")
    assert _found(x, "tail", b0, b1, b0) is None
    # ...while unvoiced sound there is noise, as before the text
    y, c0, c1 = _take(_partly_periodic(0.1, snr_db=-6.0), "tail")
    assert _found(y, "tail", c0, c1, c0) is not None


@pytest.mark.parametrize("side", ["lead", "tail"])
def test_a_steady_vowel_left_outside_the_text_is_no_noise(side: str) -> None:
    x, b0, b1 = _take(_vowel(0.1, 190.0), side)
    assert _found(x, side, b0, b1, b1 if side == "lead" else b0) is None
