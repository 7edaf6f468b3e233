"""The compiled detector loops (core/jit.py) compute what numpy computed, bit for bit.

`level.window_rms` keeps a running sum of squares only where windows start and end,
`glued._yin_minimum` walks YIN's lags row by row; both must give the bits of the numpy
formulas they replaced (written out below), also when called from a second thread (the
gate's overlap thread, run/ahead.py). The loop search's DP: tests/unit/test_loops_search.py.

The VAD's LSTM (listeners/silero.py `_input_gates`, `_lstm_steps`) is the exception: the
numpy cell took x @ W_ih and h @ W_hh from BLAS, whose summation order is BLAS's own, and
exp/tanh from libm, where the compiled cell uses its own exp polynomial (within 1 ulp), so
float64 last bits may differ (~1e-15). There the hidden states must agree within 1e-12 and the float32
probabilities (what the VAD hands on) bit for bit.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import soundfile as sf

from pytest_luxgate.listeners import silero, vad
from pytest_luxgate.metrics import glued, level

HUMAN = Path(__file__).resolve().parents[1] / "data" / "human"


def _off_main_thread(fn: Callable[[], Any]) -> Any:
    got: list[Any] = []
    worker = threading.Thread(target=lambda: got.append(fn()))
    worker.start()
    worker.join()
    assert len(got) == 1
    return got[0]


def _numpy_window_power(x: np.ndarray, start: int, stop: int, win: int, hop: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x[start:stop] ** 2)])
    idx = np.arange(0, stop - start - win + 1, hop)
    return np.maximum((c[idx + win] - c[idx]) / win, 0.0)


@pytest.mark.parametrize("seed", range(6))
def test_window_rms_equals_the_cumsum_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sr = int(rng.choice([16_000, 22_050, 48_000]))
    x = (rng.standard_normal(int(rng.integers(sr // 2, 3 * sr))) * rng.uniform(1e-4, 1.0)).astype(np.float32)
    x[: sr // 10] = 0.0  # silence: running sums that stay 0
    win_s, hop_s = [(0.02, 0.01), (0.05, 0.01), (0.002, 0.001), (0.03, 0.03)][seed % 4]
    win, hop = round(win_s * sr), round(hop_s * sr)
    for start, stop in [(0, len(x)), (int(rng.integers(1, len(x) // 2)), len(x) - int(rng.integers(0, sr // 4)))]:
        t, rms = _off_main_thread(lambda: level.window_rms(x, sr, win_s, hop_s, start, stop))
        want = np.sqrt(_numpy_window_power(x.astype(np.float64), start, stop, win, hop))
        assert rms.tobytes() == want.tobytes() and len(t) == len(want)
    assert level._energy_at.dispatcher().signatures  # compiled, not the Python function


@pytest.mark.parametrize("sr", [16_000, 22_050, 48_000])
def test_window_rms_many_equals_window_rms_for_each_window(sr: int) -> None:
    rng = np.random.default_rng(sr)
    x = (rng.standard_normal(int(1.7 * sr)) * 0.2).astype(np.float32)
    windows = [(0.02, 0.01), (0.05, 0.01), (0.03, 0.03), (5.0, 0.01)]  # the last: longer than the clip
    many = level.window_rms_many(x, sr, windows)
    assert len(many) == len(windows)
    for (win_s, hop_s), (t, rms) in zip(windows, many):
        t1, rms1 = level.window_rms(x, sr, win_s, hop_s)
        assert t.tobytes() == t1.tobytes() and rms.tobytes() == rms1.tobytes()


def _numpy_yin_minimum(fr: np.ndarray, r: np.ndarray, win: int, tmax: int, tmin: int) -> np.ndarray:
    e = np.cumsum(np.concatenate([np.zeros((fr.shape[0], 1)), fr ** 2], axis=1), axis=1)
    et = e[:, win:win + tmax + 1] - e[:, 0:tmax + 1]
    d = np.maximum(e[:, win:win + 1] + et - 2 * r[:, :tmax + 1], 0.0)
    d[:, 0] = 0.0
    cm = np.cumsum(d[:, 1:], axis=1) / np.arange(1, tmax + 1)
    return (d[:, 1:] / np.maximum(cm, 1e-20))[:, tmin - 1:].min(axis=1)


def test_yin_minimum_equals_the_numpy_formula() -> None:
    rng = np.random.default_rng(3)
    win, tmax, tmin = 640, 266, 32
    n = win + tmax
    t = np.arange(n) / 16_000
    rows = [np.sin(2 * np.pi * f0 * t) * a for f0, a in [(100, 0.3), (220, 0.05), (450, 0.8)]]
    rows += [rng.standard_normal(n) * 0.1, np.zeros(n), np.r_[np.zeros(n - 5), np.ones(5)]]
    fr = np.ascontiguousarray(rows)
    r = np.fft.irfft(np.fft.rfft(fr, 1024) * np.conj(np.fft.rfft(fr[:, :win], 1024)), 1024)
    got = _off_main_thread(lambda: glued._yin_minimum(fr, r, win, tmax, tmin))
    assert got.tobytes() == _numpy_yin_minimum(fr, r, win, tmax, tmin).tobytes()
    assert got[0] < 0.1 and got[3] > 0.5  # periodic vs noise: the measure still means what it says
    assert glued._yin_minimum.dispatcher().signatures


def _plus_one(x: float) -> float:
    return x + 1.0


def test_compiles_without_a_writable_cache_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where numba finds no writable place for its cache (a read-only install, no writable
    home) it refuses cache=True; the detectors then compile in each process instead."""
    from numba.core import caching

    from pytest_luxgate.core.jit import compiled

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    monkeypatch.delenv("NUMBA_CACHE_LOCATOR_CLASSES", raising=False)
    fn = compiled(_plus_one)
    assert fn(1.0) == 2.0 and fn.dispatcher().signatures


def _numpy_lstm(gates_in: np.ndarray, w_hh_t: np.ndarray) -> np.ndarray:
    """The cell as listeners/silero.py stepped it before it was compiled (gates i, f, o, g)."""
    hs = np.empty((len(gates_in), 128))
    h = np.zeros(128)
    c = np.zeros(128)
    g = np.empty(512)
    for t in range(len(gates_in)):
        np.dot(h, w_hh_t, out=g)
        g += gates_in[t]
        s = 1.0 / (1.0 + np.exp(-g[:384]))
        c = s[128:256] * c + s[:128] * np.tanh(g[384:])
        h = s[256:] * np.tanh(c)
        hs[t] = h
    return hs


def _probs(hs: np.ndarray, w: silero.SileroWeights) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-(np.maximum(hs, 0.0) @ w.out_w + w.out_b)))).astype(np.float32)


@pytest.mark.parametrize("clip", ["speech", "noise"])
def test_compiled_lstm_equals_the_numpy_cell(clip: str) -> None:
    w = vad._weights()
    if clip == "speech":
        audio, sr = sf.read(HUMAN / "arctic_a0007.wav", dtype="float32")
        x = vad.to_16k(audio, sr)
    else:
        x = (0.1 * np.random.default_rng(5).standard_normal(3 * vad.VAD_RATE)).astype(np.float32)
    n = len(x) // silero.WINDOW
    feats = silero._encode(x[: n * silero.WINDOW].reshape(n, silero.WINDOW).astype(np.float64), w)
    gates_in = np.ascontiguousarray(feats @ w.w_ih_t + w.bias)
    want = _numpy_lstm(gates_in, w.w_hh_t)
    got = silero._lstm_steps(gates_in, w.w_hh_t)
    assert np.abs(got - want).max() < 1e-12
    assert _probs(got, w).tobytes() == _probs(want, w).tobytes()
    assert _off_main_thread(lambda: silero._lstm_steps(gates_in, w.w_hh_t)).tobytes() == got.tobytes()
    assert silero._lstm_steps.dispatcher().signatures  # compiled, not the Python function


def test_input_gates_skip_only_zeros() -> None:
    """The LSTM's input product skips the encoder's zeros (its ReLU's): the same bits as the
    dense sum in the same order (numpy, feature by feature), within 1e-12 of BLAS's product,
    and the same bits from a second thread."""
    w = vad._weights()
    audio, sr = sf.read(HUMAN / "arctic_a0007.wav", dtype="float32")
    x = vad.to_16k(audio, sr)
    n = len(x) // silero.WINDOW
    feats = silero._encode(x[: n * silero.WINDOW].reshape(n, silero.WINDOW).astype(np.float64), w)
    assert 0.3 < (feats == 0).mean() < 0.95  # there are zeros to skip, and features left
    dense = np.zeros((n, 512))
    for k in range(128):
        dense += feats[:, k:k + 1] * w.w_ih_t[k].astype(np.float64)
    dense += w.bias
    got = silero._input_gates(feats, w.w_ih_t, w.bias)
    assert got.tobytes() == dense.tobytes()
    assert np.abs(got - (feats @ w.w_ih_t.astype(np.float64) + w.bias)).max() < 1e-12
    assert _off_main_thread(lambda: silero._input_gates(feats, w.w_ih_t, w.bias)).tobytes() == got.tobytes()


@pytest.mark.parametrize("scale", [1e-9, 1.0, 30.0, 1e3])
def test_compiled_lstm_saturates_like_the_numpy_cell(scale: float) -> None:
    """Pre-activations from ~0 (tanh x = 1 - 2 / (exp 2x + 1) cancels there: absolute error
    only) to far beyond where sigmoid and tanh are flat (the polynomial exp clamps its
    argument): the hidden states stay within 1e-12 of libm's, never nan."""
    w = vad._weights()
    gates_in = scale * np.random.default_rng(7).standard_normal((40, 512))
    got = silero._lstm_steps(gates_in, w.w_hh_t)
    assert np.isfinite(got).all()
    with np.errstate(over="ignore"):  # libm's exp(-x) overflows to inf: sigmoid 0, as meant
        want = _numpy_lstm(gates_in, w.w_hh_t)
    assert np.abs(got - want).max() < 1e-12
