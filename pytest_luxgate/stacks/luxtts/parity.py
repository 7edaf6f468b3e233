"""MLX vs Torch numeric parity: same weights, same inputs, same starting noise.

`compare(mlx_stack, torch_stack, wav, rate, prompt_text, text, params)` runs
both loaded stacks stage by stage and returns one `StageDiff` per stage:

* ``prompt_features`` -- each stack's own prompt encoding of the same audio
  (Torch: torchaudio MelSpectrogram, HTK mel; MLX: librosa, Slaney mel);
* ``text_embedding`` -- the text encoder on the same prompt+text tokens;
* ``flow_matching`` -- ``model.sample`` given the SAME prompt features (the
  Torch ones) and the SAME starting noise, injected for ``torch.randn`` /
  ``mx.random.normal`` while it runs;
* ``vocoder.*`` -- both vocoders on the same (Torch) mel features: backbone,
  24 kHz head, upsampler, 48 kHz head, and the final ``decode`` output.

Each row says where the stacks diverge and by how much, against a tolerance.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from unittest import mock

import numpy as np

from .runtime import contained, seed_everything

#: float32 kernels on different frameworks: 1e-4 of the signal scale is
#: far above rounding noise (~1e-6 seen) and far below a real difference
TOLERANCE = 1e-4


@dataclass(frozen=True)
class StageDiff:
    stage: str
    shape_torch: tuple[int, ...]
    shape_mlx: tuple[int, ...]
    max_abs: float
    mean_abs: float
    scale: float  # max |torch| at the compared positions
    tolerance: float

    @property
    def rel(self) -> float:
        return self.max_abs / self.scale if self.scale > 0 else self.max_abs

    @property
    def ok(self) -> bool:
        return self.shape_torch == self.shape_mlx and self.rel <= self.tolerance

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rel": self.rel, "ok": self.ok}


def diff(stage: str, a_torch: Any, b_mlx: Any, tolerance: float = TOLERANCE) -> StageDiff:
    """Compare on the overlapping region (shapes are reported separately)."""
    a = np.asarray(a_torch, dtype=np.float64)
    b = np.asarray(b_mlx, dtype=np.float64)
    if a.ndim != b.ndim:  # (1, N) from Torch heads, (N,) from vocos-mlx: drop the batch axis
        a, b = a.reshape([n for n in a.shape if n != 1]), b.reshape([n for n in b.shape if n != 1])
    if a.ndim != b.ndim:
        return StageDiff(stage, a.shape, b.shape, float("inf"), float("inf"), 0.0, tolerance)
    region = tuple(slice(0, min(x, y)) for x, y in zip(a.shape, b.shape))
    d = np.abs(a[region] - b[region])
    scale = float(np.max(np.abs(a[region]))) if a[region].size else 0.0
    return StageDiff(stage, tuple(a.shape), tuple(b.shape), float(d.max()) if d.size else 0.0,
                     float(d.mean()) if d.size else 0.0, scale, tolerance)


def table(rows: list[StageDiff]) -> str:
    lines = [f"{'stage':<28} {'torch shape':<16} {'mlx shape':<16} {'max abs':>10} {'rel':>10}  ok"]
    for r in rows:
        lines.append(f"{r.stage:<28} {str(r.shape_torch):<16} {str(r.shape_mlx):<16} "
                     f"{r.max_abs:>10.3g} {r.rel:>10.3g}  {'yes' if r.ok else 'NO'}")
    return "\n".join(lines)


@contextlib.contextmanager
def _same_noise(noise: np.ndarray) -> Iterator[None]:
    """Both models draw their starting noise from `noise` instead of their RNGs."""
    import mlx.core as mx
    import torch

    real_randn = torch.randn

    def randn(*size: Any, **kw: Any) -> Any:
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        if tuple(shape) != noise.shape:
            return real_randn(*size, **kw)
        return torch.from_numpy(noise.copy()).to(kw.get("device") or "cpu")

    def normal(shape: Any = (), *args: Any, **kw: Any) -> Any:
        assert tuple(shape) == noise.shape, (shape, noise.shape)
        return mx.array(noise)

    with mock.patch.object(torch, "randn", randn), mock.patch.object(mx.random, "normal", normal):
        yield


def compare(mlx_stack: Any, torch_stack: Any, wav: np.ndarray, rate: int, prompt_text: str,
            text: str, params: dict[str, Any], seed: int = 0) -> list[StageDiff]:
    import mlx.core as mx
    import torch

    rows: list[StageDiff] = []
    enc_t = torch_stack.encode_prompt(wav, rate, prompt_text, params)
    enc_m = mlx_stack.encode_prompt(wav, rate, prompt_text, params)
    feats_t = enc_t["prompt_features"].detach().cpu().numpy()
    rows.append(diff("prompt_features", feats_t, enc_m["prompt_features"]))
    tm, mm = torch_stack.tts.model, mlx_stack.tts.model
    tokens = torch_stack.tts.tokenizer.texts_to_token_ids([text])
    cat = [enc_t["prompt_tokens"][0] + tokens[0]]
    dev = next(tm.parameters()).device
    with contained(), torch.inference_mode():
        emb_t, _ = tm.forward_text_embed(cat)
        emb_m, _ = mm.forward_text_embed(cat)
        rows.append(diff("text_embedding", emb_t.cpu().numpy(), np.array(emb_m)))
        lens_t = torch.tensor([feats_t.shape[1]], device=dev)
        lens_m = mx.array([feats_t.shape[1]], dtype=mx.int64)
        kw = dict(speed=float(params["speed"]), duration_pad_frames=int(params["duration_pad_frames"]))
        cond_t, _ = tm.forward_text_inference_ratio_duration(tokens=tokens, prompt_tokens=enc_t["prompt_tokens"],
                                                              prompt_features_lens=lens_t, **kw)
        cond_m, _ = mm.forward_text_inference_ratio_duration(tokens=tokens, prompt_tokens=enc_t["prompt_tokens"],
                                                              prompt_features_lens=lens_m, **kw)
        rows.append(diff("text_condition", cond_t.cpu().numpy(), np.array(cond_m)))
        seed_everything(seed)
        noise = np.random.default_rng(seed).standard_normal(
            (1, cond_t.shape[1], feats_t.shape[-1])).astype(np.float32)
        sample_kw = dict(tokens=tokens, prompt_tokens=enc_t["prompt_tokens"], t_shift=float(params["t_shift"]),
                         duration="predict", num_step=int(params["num_steps"]),
                         guidance_scale=float(params["guidance_scale"]), **kw)
        with _same_noise(noise):
            x_t = tm.sample(prompt_features=torch.from_numpy(feats_t).to(dev), prompt_features_lens=lens_t,
                            **sample_kw)[0].cpu().numpy()
            x_m = np.array(mm.sample(prompt_features=mx.array(feats_t), prompt_features_lens=lens_m,
                                     **sample_kw)[0])
        rows.append(diff("flow_matching", x_t, x_m))
        rows += _vocoder_rows(torch_stack.tts.vocos, mlx_stack.tts.vocos, x_t / 0.1)
    return rows


def _vocoder_rows(tv: Any, mv: Any, mel: np.ndarray) -> list[StageDiff]:
    """mel: (B, T, 100) features as the flow-matching model emits them (already / 0.1)."""
    import mlx.core as mx
    import torch

    x_t = torch.from_numpy(np.ascontiguousarray(mel.transpose(0, 2, 1))).to(next(tv.parameters()).device)
    x_m = mx.array(mel)
    rows = []
    feat_t = tv.backbone(x_t)                       # (B, L, C)
    feat_m = mv.backbone(x_m)
    rows.append(diff("vocoder.backbone", feat_t.cpu().numpy(), np.array(feat_m)))
    up_t = tv.upsampler(feat_t.transpose(1, 2)).transpose(1, 2)   # (B, 4L, C)
    up_m = mv.upsampler(feat_m)
    rows.append(diff("vocoder.upsampler", up_t.cpu().numpy(), np.array(up_m)))
    for name, head_t, head_m, inp_t, inp_m in (("head_24k", tv.head, mv.head, feat_t, feat_m),
                                               ("head_48k", tv.head_48k, mv.head_48k, up_t, up_m)):
        a, b = head_t(inp_t).cpu().numpy().reshape(-1), np.array(head_m(inp_m)).reshape(-1)
        rows.append(diff(f"vocoder.{name}", a, b))
        rows.append(_explained_istft(f"vocoder.{name}~explained", head_t, a, b))
    if hasattr(mv, "return_48k"):
        mv.return_48k = True  # the merged two-head output, as the Torch vocoder gives
    rows.append(diff("vocoder.decode", tv.decode(x_t).cpu().numpy(), np.array(mv.decode(x_m))))
    return rows


def _explained_istft(stage: str, head_t: Any, a: np.ndarray, b: np.ndarray) -> StageDiff:
    """The known ISTFT-head difference, undone: vocos-mlx keeps the padding the
    Torch head trims (n_fft/2 each side for padding='center', (n_fft-hop)/2 for
    'same') and does not divide by the Hann window envelope (x4/3 at hop n_fft/4).
    Compared away from the edges; if this row fails, the explanation is wrong."""
    istft = head_t.istft
    n_fft, hop = int(istft.n_fft), int(istft.hop_length)
    pad = n_fft // 2 if getattr(istft, "padding", "center") == "center" else (n_fft - hop) // 2
    gain = n_fft / (n_fft - hop) if n_fft == 4 * hop else 1.0
    shifted = b[pad:pad + a.size] * gain
    inner = slice(n_fft, min(a.size, shifted.size) - n_fft)
    return diff(stage, a[inner], shifted[inner], tolerance=1e-2)


def default_inputs() -> tuple[np.ndarray, int, str]:
    """The shipped prompt_a (real speech) and its transcript."""
    from ...matrix.prompts import load_prompts, read_prompt_audio

    prompt = load_prompts()[0]
    wav, rate = read_prompt_audio(prompt)
    return wav, rate, prompt.text or ""

