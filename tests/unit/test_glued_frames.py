"""glued.frame_features on long stretches at rates whose 10 ms hop is not whole samples.

At 22.05 kHz the clip's frames step 220 samples (9.977 ms) while the voicing measure runs at
16 kHz; stepping it a fixed 160 samples drifted one frame per ~4.4 s and, past ~12 s, ran out of
frames (IndexError). edges now asks for the voicing of whole lead and tail stretches
(`_Context._missed_voicing`), which can be that long.
"""
from __future__ import annotations

import numpy as np
import pytest

from pytest_luxgate.metrics import glued


def _tone_after_silence(sr: int, silence_s: float, tone_s: float) -> np.ndarray:
    t = np.arange(int(tone_s * sr)) / sr
    tone = sum(np.sin(2 * np.pi * k * 150.0 * t) / k for k in range(1, 8))
    quiet = 1e-4 * np.random.default_rng(1).standard_normal(int(silence_s * sr))
    return np.concatenate([quiet, 0.3 * tone]).astype(np.float32)


@pytest.mark.parametrize("sr", [22_050, 11_025, 16_000, 44_100])
def test_voicing_is_found_where_it_starts_however_long_the_stretch(sr: int) -> None:
    x = _tone_after_silence(sr, 14.0, 1.0)
    feat = glued.frame_features(x, sr, -10.0, 0.0, len(x) / sr)
    assert len(feat["aper"]) == len(feat["t"])
    voiced = np.nonzero(feat["aper"] < glued.VOWEL_APERIODICITY)[0]
    assert voiced.size and abs(feat["t"][voiced[0]] - 14.0) <= 0.015, feat["t"][voiced[:3]]
    assert (feat["aper"][feat["t"] < 13.9] > glued.VOICED_APERIODICITY).all()  # the quiet stretch is not voiced
    assert glued.vowel_spans(x, sr, -10.0, 0.0, len(x) / sr)[0][0] == pytest.approx(14.0, abs=0.015)


def test_rumble_bridges_only_between_noise_frames() -> None:
    """Brown noise dips under the noise gate for a few frames at a time; those frames join the
    noise run when rumble fills the whole gap, and never extend a run outward (a quiet rumble
    after a loud release is not noise of its own)."""
    core = np.array([1, 1, 0, 0, 0, 1, 1, 0, 0, 0], dtype=bool)
    rumble = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 1], dtype=bool)
    assert glued._bridged(core, rumble, 8).tolist() == [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    gap_not_all_rumble = rumble.copy()
    gap_not_all_rumble[3] = False  # a periodic or sibilant frame inside the gap: speech, not a dip
    assert glued._bridged(core, gap_not_all_rumble, 8).tolist() == core.tolist()
    assert glued._bridged(core, rumble, 2).tolist() == core.tolist()  # a gap longer than allowed


def test_rumble_frames_are_low_frequency_aperiodic_and_audible() -> None:
    feat = {"level": np.array([-20.0, -20.0, -20.0, -30.0]), "aper": np.array([1.2, 0.4, 1.2, 1.2]),
            "low": np.array([15.0, 15.0, -5.0, 15.0])}
    # brown noise; a breathy vowel (periodic); /f/ (its energy above 1 kHz); too quiet
    assert glued.rumble_frames(feat).tolist() == [True, False, False, False]


def test_click_gaps_hold_a_quieter_click_or_near_silence() -> None:
    feat = {"level": np.array([-20.0, -40.0, -20.0, -20.0]), "aper": np.array([0.8, 1.0, 0.8, 0.1]),
            "kurt": np.array([40.0, 3.0, 3.0, 40.0])}
    # a quiet click; near silence; steady noise under the gate (not a click); a voiced frame
    assert glued.click_gap_frames(feat).tolist() == [True, True, False, False]
