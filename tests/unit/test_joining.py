"""Joining chunk takes: pauses trimmed to a natural length, equal-power crossfade, seam times."""
from __future__ import annotations

import numpy as np
import pytest

from pytest_luxgate.speech.joining import PHRASE_PAUSE_S, SENTENCE_PAUSE_S, WORD_PAUSE_S, join, pause_after, sound_bounds

RATE = 22_050


def _chunk(sound_s: float, lead_s: float, tail_s: float, seed: int, floor: float = 0.0) -> np.ndarray:
    """A vowel-like burst (150 Hz harmonics, 5 ms ramps) between silences, over a noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sound_s * RATE)) / RATE
    sound = sum(np.sin(2 * np.pi * 150 * k * t + rng.uniform(0, 6)) / k for k in range(1, 8))
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.005)
    x = np.concatenate([np.zeros(int(lead_s * RATE)), 0.3 * sound * ramp, np.zeros(int(tail_s * RATE))])
    return (x + rng.normal(0, floor, len(x))).astype(np.float32)


def _sound_spans(x: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of the stretches louder than -40 dB re peak."""
    loud = np.abs(x) > np.abs(x).max() * 0.01
    edges = np.diff(np.concatenate([[0], loud.astype(int), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    spans: list[list[int]] = []
    for s, e in zip(starts, ends):  # merge the zero crossings inside one burst
        if spans and s - spans[-1][1] < 0.02 * RATE:
            spans[-1][1] = e
        else:
            spans.append([s, e])
    return [(s / RATE, e / RATE) for s, e in spans]


def test_one_chunk_is_returned_as_is() -> None:
    x = _chunk(0.5, 0.2, 0.3, 0)
    out, seams = join([x], RATE)
    assert seams == [] and np.array_equal(out, x)


def test_inner_silences_become_the_pause_and_outer_edges_stay() -> None:
    a, b, c = _chunk(0.6, 0.12, 0.8, 1), _chunk(0.5, 0.9, 0.7, 2), _chunk(0.4, 0.6, 0.2, 3)
    out, seams = join([a, b, c], RATE, crossfade_s=0.03, pauses_s=[0.35, 0.25])
    spans = _sound_spans(out)
    assert len(spans) == 3 and len(seams) == 2
    gaps = [spans[1][0] - spans[0][1], spans[2][0] - spans[1][1]]
    assert gaps == pytest.approx([0.35, 0.25], abs=0.015)
    # each seam is the centre of its crossfade, i.e. the middle of the pause
    assert seams[0] == pytest.approx((spans[0][1] + spans[1][0]) / 2, abs=0.015)
    assert seams[1] == pytest.approx((spans[1][1] + spans[2][0]) / 2, abs=0.015)
    assert spans[0][0] == pytest.approx(0.12, abs=0.01)  # lead-in of the first chunk kept
    assert len(out) / RATE - spans[2][1] == pytest.approx(0.2, abs=0.01)  # tail of the last kept


def test_chunks_without_silence_get_the_pause_as_digital_silence() -> None:
    a, b = _chunk(0.5, 0.0, 0.0, 4), _chunk(0.5, 0.0, 0.0, 5)
    out, seams = join([a, b], RATE, crossfade_s=0.02, pauses_s=0.2)
    spans = _sound_spans(out)
    assert spans[1][0] - spans[0][1] == pytest.approx(0.2, abs=0.015)
    assert len(out) / RATE == pytest.approx(1.0 + 0.2, abs=0.02)


def test_crossfade_is_equal_power_over_the_noise_floor() -> None:
    # the fade lies in the pause, over two uncorrelated noise floors: their power is kept
    floor = 0.002
    a, b = _chunk(0.5, 0.2, 0.6, 6, floor), _chunk(0.5, 0.6, 0.2, 7, floor)
    out, (seam,) = join([a, b], RATE, crossfade_s=0.05, pauses_s=0.25)
    mid = int(seam * RATE)
    fade = out[mid - int(0.02 * RATE): mid + int(0.02 * RATE)]
    assert 20 * np.log10(fade.std() / floor) == pytest.approx(0.0, abs=1.0)
    assert np.max(np.abs(np.diff(out[mid - 600: mid + 600]))) < 8 * floor


def test_sound_bounds_find_the_burst() -> None:
    first, last = sound_bounds(_chunk(0.5, 0.3, 0.4, 7), RATE)
    assert first / RATE == pytest.approx(0.3, abs=0.015)
    assert last / RATE == pytest.approx(0.8, abs=0.015)


def test_pause_follows_the_punctuation() -> None:
    assert pause_after("It rained.") == SENTENCE_PAUSE_S
    assert pause_after('"Are you sure?"') == SENTENCE_PAUSE_S
    assert pause_after("at five thirty p.m.,") == PHRASE_PAUSE_S
    assert pause_after("really sure;") == PHRASE_PAUSE_S
    assert pause_after("a longer paragraph to evaluate") == WORD_PAUSE_S


def test_bad_input_is_refused() -> None:
    x = _chunk(0.3, 0.1, 0.1, 8)
    with pytest.raises(ValueError, match="at least one chunk"):
        join([], RATE)
    with pytest.raises(ValueError, match="3 chunks need 2 pauses, got 1"):
        join([x, x, x], RATE, pauses_s=[0.2])
    with pytest.raises(ValueError, match=">= 0"):
        join([x, x], RATE, crossfade_s=-0.01)
