"""The Silero encoder's convs without the padding (listeners/silero.py `_conv_relu`) equal
the padded conv, and the encoder in blocks equals it over all frames at once.

Both only leave out multiplications by zero or regroup rows of a BLAS product, so float64
last bits may move (~1e-14, a product's summation order) but not more; so does the first
layer as Winograd's F(4, 3), the same sums by another route with small (<= 8) mixing
coefficients, within ~1e-14 relative; that the float32
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


@pytest.mark.parametrize("source", ["stft", "random"])
def test_winograd_first_layer_equals_the_padded_conv(source: str) -> None:
    """Layer 1 as Winograd's F(4, 3) (6 products for 4 outputs) is the same conv: float64
    moves by ~1e-14 relative (rounding in its mixing and in the mixed taps), not more."""
    w = vad._weights()
    rng = np.random.default_rng(11)
    if source == "stft":
        frames = 0.3 * rng.standard_normal((40, 640))
        win = np.lib.stride_tricks.sliding_window_view(frames, 256, axis=1)[:, ::128]
        h = np.abs(np.fft.rfft(win * w.window, axis=-1))
    else:
        h = np.abs(rng.standard_normal((40, 4, 129))) * rng.uniform(0, 50, (40, 1, 1))
    taps, bias, stride = w.convs[0]
    got = silero._first_conv_relu(h, w)
    want = _padded_conv_relu(h, taps, bias, stride)
    assert got.shape == want.shape == (40, 4, 128)
    assert np.abs(got - want).max() < 1e-13 * np.abs(want).max()
    assert (want > 0).mean() > 0.2  # the ReLU left outputs to compare


def test_encoder_in_blocks_equals_one_block() -> None:
    w = vad._weights()
    frames = 0.1 * np.random.default_rng(3).standard_normal((2 * silero._BLOCK + 17, silero.WINDOW))
    whole = silero._encode(frames, w)
    x = np.zeros((len(frames), 640))
    x[1:, :64] = frames[:-1, -64:]
    x[:, 64:576] = frames
    x[:, 576:] = x[:, 574:510:-1]
    assert np.abs(whole - silero._encode_block(x, w)).max() < 1e-12
