"""The Silero encoder's convs without the padding (listeners/silero.py `_conv_relu`) equal
the padded conv, and the encoder in blocks equals it over all frames at once.

Both only leave out multiplications by zero or regroup rows of a BLAS product, so float64
last bits may move (~1e-14, a product's summation order) but not more; that the float32
probabilities stay equal is checked on real audio by tests/unit/test_vad_numpy.py and
bench/detectors_equal.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from pytest_luxgate.listeners import silero, vad


def _padded_conv_relu(x: np.ndarray, taps: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Conv1d (kernel 3, padding 1) + ReLU written out with the zero padding."""
    n, steps, _ = x.shape
    padded = np.zeros((n, steps + 2, x.shape[2]))
    padded[:, 1:-1] = x
    out_steps = (steps - 1) // stride + 1
    y = np.stack([sum(padded[:, t * stride + k] @ taps[k] for k in range(3)) for t in range(out_steps)], axis=1)
    return np.maximum(y + bias, 0.0)


@pytest.mark.parametrize(("steps", "stride"), [(4, 1), (4, 2), (2, 2), (1, 1), (5, 2), (3, 1)])
def test_conv_without_padding_equals_the_padded_conv(steps: int, stride: int) -> None:
    rng = np.random.default_rng(steps * 10 + stride)
    x = rng.standard_normal((7, steps, 16))
    taps, bias = rng.standard_normal((3, 16, 5)), rng.standard_normal(5)
    got = silero._conv_relu(x, taps, bias, stride)
    want = _padded_conv_relu(x, taps, bias, stride)
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-12


def test_encoder_in_blocks_equals_one_block() -> None:
    w = vad._weights()
    frames = 0.1 * np.random.default_rng(3).standard_normal((2 * silero._BLOCK + 17, silero.WINDOW))
    whole = silero._encode(frames, w)
    x = np.zeros((len(frames), 640))
    x[1:, :64] = frames[:-1, -64:]
    x[:, 64:576] = frames
    x[:, 576:] = x[:, 574:510:-1]
    assert np.abs(whole - silero._encode_block(x, w)).max() < 1e-12
