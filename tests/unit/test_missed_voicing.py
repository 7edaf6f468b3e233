"""Voicing the VAD missed at the start: speech, not room and not noise (metrics/edges.py).

Silero can hear a clear onset later than the edge walk's bound (EDGE_MAX_S): a Kokoro
"Potatoes" read 0.45 s late. The voicing before the VAD onset was then taken for the room
(raising the walk's levels over the word) and the first syllable, before a stop closure, for
pre-onset noise. Synthetic takes with a late VAD segment given by hand, so the test is about
the edge rules alone: the missed syllable passes, the same span filled with noise fails.
"""
from __future__ import annotations

import numpy as np
import pytest
from edge_rules import noisy_start

from pytest_luxgate.core.types import Segment, TextSpan
from pytest_luxgate.metrics.edges import EDGE_MAX_S, StartMetrics, start_metrics

SR = 16_000


def _voiced(seconds: float, f0: float, amp: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 12))
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    return (amp * x / np.sqrt(np.mean(x ** 2)) * ramp).astype(np.float32)


def _noise(seconds: float, amp: float, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(int(seconds * SR))
    return (amp * x / np.sqrt(np.mean(x ** 2))).astype(np.float32)


def _silence(seconds: float) -> np.ndarray:
    return _noise(seconds, 1e-5, 9)


def _take(first: np.ndarray) -> np.ndarray:
    """0.2 s silence, `first` (0.08 s), a 50 ms stop closure, a 20 ms release, a 0.85 s vowel."""
    return np.concatenate([_silence(0.2), first, _silence(0.05), _noise(0.02, 0.05, 2),
                           _voiced(0.85, 140.0, 0.2), _silence(0.3)])


def _start(audio: np.ndarray, vad_start: float) -> StartMetrics:
    return start_metrics(audio, SR, [Segment(vad_start, 1.2)], ())


def test_a_syllable_the_vad_missed_beyond_the_walk_is_speech() -> None:
    audio = _take(_voiced(0.08, 150.0, 0.1))
    vad_start = 0.75  # 0.55 s after the syllable: later than the walk's bound
    assert vad_start - 0.2 > EDGE_MAX_S
    s = _start(audio, vad_start)
    assert not noisy_start(s), s
    assert s.onset_s is not None and s.onset_s <= 0.21, s


def test_noise_in_its_place_is_still_measured() -> None:
    audio = _take(_noise(0.08, 0.1, 1))
    s = _start(audio, 0.75)
    assert noisy_start(s), s
    assert s.onset_s is not None and s.onset_s >= 0.28, s  # the burst stays before the onset


def test_an_onset_the_vad_placed_right_is_unchanged() -> None:
    """The walk ends in the closure's silence: nothing further back is looked at, and the
    noise burst before that silence is measured as before."""
    audio = _take(_noise(0.08, 0.1, 1))
    s = _start(audio, 0.33)
    assert noisy_start(s) and s.onset_s is not None and s.onset_s >= 0.27, s


# ---------------------------------------------------------------- a syllable parted by a closure

def _po_tatoes(first: np.ndarray, closure_s: float = 0.1) -> np.ndarray:
    """A slow "Potatoes": 20 ms silence, `first` (0.1 s), a `closure_s` stop closure, a 20 ms
    release, a 0.85 s vowel (as Kokoro says it at 0.77x)."""
    return np.concatenate([_silence(0.02), first, _silence(closure_s), _noise(0.02, 0.05, 2),
                           _voiced(0.85, 140.0, 0.2), _silence(0.3)])


def _aligned(audio: np.ndarray, text_start: float, vad_start: float = 0.45) -> StartMetrics:
    # Silero hears the take late, inside the second syllable; the aligner starts the text at
    # `text_start` and ends its first word at 0.9 s
    return start_metrics(audio, SR, [Segment(vad_start, 1.2)], (),
                         text_span=TextSpan(text_start, 1.1, 0.9, "P"))


def test_a_first_syllable_a_closure_parts_from_the_word_is_the_words() -> None:
    audio = _po_tatoes(_voiced(0.1, 150.0, 0.3))  # louder than the word, as Kokoro's /p@/ was
    s = _aligned(audio, 0.0)
    assert not noisy_start(s) and s.onset_s is not None and s.onset_s <= 0.03, s
    assert noisy_start(start_metrics(audio, SR, [Segment(0.45, 1.2)], ()))  # without the alignment


@pytest.mark.parametrize("why", ["noise, not a vowel", "the aligner starts the text after it",
                                 "a pause, not a closure", "longer than a syllable"])
def test_what_a_missed_first_syllable_does_not_excuse(why: str) -> None:
    first = _noise(0.1, 0.3, 3) if why == "noise, not a vowel" else _voiced(
        0.4 if why == "longer than a syllable" else 0.1, 150.0, 0.3)
    audio = _po_tatoes(first, 0.2 if why == "a pause, not a closure" else 0.1)
    text_start = 0.2 if why == "the aligner starts the text after it" else 0.0
    vad_start = 0.45 + (len(first) / SR - 0.1) + (0.1 if why == "a pause, not a closure" else 0.0)
    s = _aligned(audio, text_start, vad_start)
    assert noisy_start(s), s
