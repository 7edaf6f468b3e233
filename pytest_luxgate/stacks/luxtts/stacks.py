"""The two LuxTTS stacks, each end to end on its own framework.

* ``mlx``: the package's own ``LuxTTS(path, device='mlx', vocoder_backend='mlx')``
  -- MLX flow-matching model and MLX (vocos-mlx) vocoder.
* ``torch``: eager Torch ZipVoice-distill built from ``model.pt`` +
  ``config.json`` + ``tokens.txt`` and the Torch 48 kHz vocoder from
  ``vocoder/``, on cpu/cuda/mps. Built here because ``luxtts-mlx`` 0.1.0 offers
  no such path: its ``device='cpu'`` runs ONNX files resolved through the hub
  (ignoring the path), and ``'cuda'/'mps'`` load a Whisper pipeline from the
  hub (and ``generate_speech`` then calls an unimported ``generate``). The
  pieces used are the package's own: ``ZipVoiceDistill``, ``load_checkpoint``,
  ``EmiliaTokenizer``, ``VocosFbank``, ``LuxTTS.encode_prompt`` and
  ``modeling_utils.generate``.

Both always pass the prompt transcript (never the hub Whisper), take the
prompt already resampled to 24 kHz and cut (start, duration) by the gate, and
seed torch and mx.random before every take.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...asr.base import resample
from ..base import StackError, StackUnavailable, Synthesized
from .runtime import contained, import_luxtts, linacodec_impl, seed_everything, versions
from .settings import ModelDir, model_dir, torch_device

OUTPUT_RATE = 48_000
PROMPT_RATE = 24_000

#: generation defaults of the matrix runs that pytest-luxgate replaces (docs ORIGIN.md)
DEFAULT_PARAMS: dict[str, Any] = {
    "num_steps": 6,
    "guidance_scale": 2.6,
    "t_shift": 0.45,
    "speed": 0.96,
    "duration_pad_frames": 20,
    "return_smooth": True,
    "ref_duration": 2.4,        # seconds of prompt used
    "prompt_start": 0.0,        # seconds skipped at the prompt's start
    "prompt_fade_ms": 14.0,
    "trim_silence": True,
    "silence_threshold_db": -44.0,
    "keep_silence_ms": 35.0,
    "prompt_rms": 0.01,
    "rms_min": 0.006,
    "rms_max": 0.03,
}

#: `tune_space()`: ranges around DEFAULT_PARAMS (speed is LuxTTS's factor, 1.0 = its natural pace)
TUNE_SPACE: dict[str, list[float]] = {
    "num_steps": [3, 16], "guidance_scale": [1.0, 4.0], "t_shift": [0.2, 0.9], "speed": [0.8, 1.15],
    "duration_pad_frames": [0, 40], "ref_duration": [1.5, 6.0], "prompt_start": [0.0, 2.0],
    "silence_threshold_db": [-60.0, -30.0], "keep_silence_ms": [0.0, 120.0],
}


def _need(*modules: str, extra: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise StackUnavailable(
            f"LuxTTS {extra} stack needs {', '.join(missing)}: pip install 'pytest-luxgate[{extra}]' "
            "(on Linux CPU use `scripts/dev setup`, which installs the CPU-only pieces; README 'LuxTTS stacks')")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def prompt_audio_24k(wav: np.ndarray, rate: int, params: dict[str, Any]) -> np.ndarray:
    """The part of the prompt LuxTTS conditions on: 24 kHz mono from `prompt_start`
    for `ref_duration` s -- what ``librosa.load(path, sr=24000, offset, duration)``
    gives upstream, resampled with the same soxr HQ filter."""
    audio = resample(np.asarray(wav, dtype=np.float32).reshape(-1), rate, PROMPT_RATE)  # soxr HQ
    start = max(0, int(round(float(params["prompt_start"]) * PROMPT_RATE)))
    length = int(round(float(params["ref_duration"]) * PROMPT_RATE))
    audio = audio[start:start + length] if length > 0 else audio[start:]
    if audio.size < PROMPT_RATE // 10:
        raise StackError(f"prompt has {audio.size / PROMPT_RATE:.3f} s left after prompt_start="
                         f"{params['prompt_start']} s; LuxTTS needs at least 0.1 s")
    return audio


def _mlx_weight_check(model: Any, fresh: Any, state: dict[str, Any], mlx_utils: Any) -> dict[str, Any]:
    """Did the checkpoint fill every MLX parameter with the shape the architecture wants?

    luxtts-mlx's copier skips names it cannot place and sets mis-shaped arrays
    without complaint, so the loaded model is compared with `fresh`, the same
    architecture built from the config and never loaded (MLX is lazy: its random
    init is never computed). Weight-norm pairs count as the weight they make;
    buffers MLX recomputes (STFT windows, mel filterbanks) are not parameters there."""
    params = dict(mlx_utils.tree_flatten(model.parameters()))
    want = {k: tuple(v.shape) for k, v in mlx_utils.tree_flatten(fresh.parameters())}
    names = set(state)
    for name in list(names):
        for suffix in (".parametrizations.weight.original1", ".weight_v"):
            if name.endswith(suffix):
                names.add(name[: -len(suffix)] + ".weight")
    not_loaded = sorted(k for k in want if k not in names)
    mismatch = sorted(k for k in want if k in params and tuple(params[k].shape) != want[k])
    return {"copied": f"{len(want) - len(not_loaded) - len(mismatch)}/{len(want)}",
            "not_loaded": not_loaded[:10], "shape_mismatch": mismatch[:10]}


def _mlx_weights(tts: Any, path: Path, torch: Any, mlx_utils: Any) -> dict[str, dict[str, Any]]:
    """`_mlx_weight_check` for the flow-matching model and the vocoder of a loaded MLX LuxTTS."""
    import yaml
    from zipvoice.mlx import vocoder as mv

    config = json.loads((path / "config.json").read_text())["model"]
    fresh_model = type(tts.model)(**config, vocab_size=tts.tokenizer.vocab_size, pad_id=tts.tokenizer.pad_id)
    voc = yaml.safe_load((path / "vocoder" / "config.yaml").read_text())
    fresh_vocoder = mv.LuxVocoderMLX(backbone=mv.VocosBackbone(**voc["backbone"]["init_args"]),
                                     head=mv.ISTFTHead(**voc["head"]["init_args"]),
                                     upsampler=mv.UpSamplerBlock(**voc["upsampler"]["init_args"]),
                                     head_48k=mv.ISTFTHead(**voc["head_48k"]["init_args"]))
    ckpt = torch.load(str(path / "model.pt"), map_location="cpu", weights_only=False)
    vocos = torch.load(str(path / "vocoder" / "vocos.bin"), map_location="cpu")
    return {"model": _mlx_weight_check(tts.model, fresh_model, ckpt.get("model", ckpt), mlx_utils),
            "vocoder": _mlx_weight_check(tts.vocos, fresh_vocoder, vocos, mlx_utils)}


class _LuxTTSStack:
    clones_voice: ClassVar[bool] = True
    #: its calls stay on the main thread (stacks.base.may_overlap): `contained()` saves and
    #: restores process-wide state (warning filters, root log handlers, os.environ) around each
    #: call, which would undo what pytest's main thread set meanwhile; and MLX streams are
    #: thread-affine since mlx 0.31.2 (a stream made on one thread cannot run on another)
    overlap: ClassVar[bool] = False
    prompt_sample_rate: ClassVar[int] = PROMPT_RATE  # the runner hands prompts over at 24 kHz
    name: ClassVar[str]
    markers: ClassVar[tuple[str, ...]] = ("luxtts",)
    extra: ClassVar[str]  # the pytest-luxgate extra that installs `packages`
    packages: ClassVar[tuple[str, ...]]  # import names load() needs

    def __init__(self) -> None:
        self.model: ModelDir | None = None
        self.timings: dict[str, float] = {}
        self._identity: dict[str, Any] = {}

    def load(self) -> None:
        self.model = model_dir()  # weights first: the commonest reason to skip
        _need(*self.packages, extra=self.extra)
        t0 = time.perf_counter()
        self._load(self.model.path)
        self.timings["load_s"] = round(time.perf_counter() - t0, 3)
        self._identity = {
            "model_dir": str(self.model.path), "model_source": self.model.source,
            "model_sha256": _digest(self.model.path / "model.pt"),
            "vocoder_sha256": _digest(self.model.path / "vocoder" / "vocos.bin"),
            "model_config": json.loads((self.model.path / "config.json").read_text())["model"],
        }

    def _load(self, path: Path) -> None:
        raise NotImplementedError

    def default_params(self) -> dict[str, Any]:
        return dict(DEFAULT_PARAMS)

    def tune_space(self) -> dict[str, Any]:
        """What `luxgate tune` searches: the original feedback loop's space (docs/ORIGIN.md:
        prompt start, reference duration, silence-trim threshold and kept silence, speed,
        steps, guidance, t_shift, duration padding), bracketing DEFAULT_PARAMS by what it explored."""
        return dict(TUNE_SPACE)

    def describe(self) -> dict[str, Any]:
        # identity only, nothing that varies between runs: the take cache keys on this
        # (load time is in BENCHMARKS.md / self.timings, not here)
        return {"engine": "luxtts-mlx", "stack": self.name, **self._identity,
                "versions": versions(), **self._describe()}

    def _describe(self) -> dict[str, Any]:
        return {}

    def encode_prompt(self, wav: np.ndarray, sample_rate: int, text: str | None,
                      params: dict[str, Any]) -> Any:
        if not text or not text.strip():
            # the runner resolves the prompt-text policy first; never fall back to hub ASR
            raise StackError(f"stack {self.name!r} needs the prompt's transcript (see --luxgate-prompt-text)")
        audio = prompt_audio_24k(wav, sample_rate, params)
        with contained():  # both stacks' `tts` is a LuxTTS, whose encode_prompt is device-agnostic
            return self.tts.encode_prompt(
                audio, duration=float(params["ref_duration"]), rms=float(params["prompt_rms"]),
                prompt_text=text.strip(), offset=0.0, fade_ms=float(params["prompt_fade_ms"]),
                trim_silence=bool(params["trim_silence"]),
                silence_threshold_db=float(params["silence_threshold_db"]),
                keep_silence_ms=float(params["keep_silence_ms"]),
                rms_min=float(params["rms_min"]), rms_max=float(params["rms_max"]))

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        with contained():
            seed_everything(seed)
            audio = self._generate(text, prompt, params)
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        return Synthesized(audio, OUTPUT_RATE, {"seed": int(seed)})

    def _generate(self, text: str, prompt: Any, params: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError


class LuxTTSMLXStack(_LuxTTSStack):
    """MLX flow matching + MLX vocoder, through the package's own ``LuxTTS`` class."""

    name: ClassVar[str] = "mlx"
    extra: ClassVar[str] = "mlx"
    packages: ClassVar[tuple[str, ...]] = ("zipvoice", "mlx", "vocos_mlx", "torch")

    def _load(self, path: Path) -> None:
        mods = import_luxtts("zipvoice.luxvoice", "mlx.core", "mlx.utils", "torch", "zipvoice.mlx.vocoder")
        self.mx = mods["mlx.core"]
        with contained():
            self.tts = mods["zipvoice.luxvoice"].LuxTTS(str(path), device="mlx", vocoder_backend="mlx")
            self.weights = _mlx_weights(self.tts, path, mods["torch"], mods["mlx.utils"])
        broken = {k: v for k, v in self.weights.items() if v["not_loaded"] or v["shape_mismatch"]}
        if broken:
            # luxtts-mlx copies weights with a function that silently skips what does not fit
            raise StackUnavailable(f"the MLX port did not load every weight of {path}: {broken}")

    def _describe(self) -> dict[str, Any]:
        return {"device": f"mlx:{self.mx.default_device()}", "vocoder": "vocos-mlx (MLX)",
                "mlx_weights": {k: v["copied"] for k, v in self.weights.items()}}

    def _generate(self, text: str, prompt: Any, params: dict[str, Any]) -> np.ndarray:
        wav = self.tts.generate_speech(
            text, prompt, num_steps=int(params["num_steps"]), guidance_scale=float(params["guidance_scale"]),
            t_shift=float(params["t_shift"]), speed=float(params["speed"]),
            return_smooth=bool(params["return_smooth"]), duration_pad_frames=int(params["duration_pad_frames"]))
        return np.array(wav, dtype=np.float32)


class LuxTTSTorchStack(_LuxTTSStack):
    """Eager Torch ZipVoice-distill + Torch 48 kHz vocoder on cpu/cuda/mps."""

    name: ClassVar[str] = "torch"
    extra: ClassVar[str] = "torch"
    packages: ClassVar[tuple[str, ...]] = ("zipvoice", "torch", "torchaudio", "vocos")

    def _load(self, path: Path) -> None:
        self.device = torch_device()
        mods = import_luxtts("torch", "zipvoice.modeling_utils", "zipvoice.luxvoice")
        torch, mu = mods["torch"], mods["zipvoice.modeling_utils"]
        self.torch, self._generate_fn = torch, mu.generate
        with contained():
            tokenizer = mu.EmiliaTokenizer(token_file=str(path / "tokens.txt"))
            config = json.loads((path / "config.json").read_text())
            model = mu.ZipVoiceDistill(**config["model"], vocab_size=tokenizer.vocab_size,
                                       pad_id=tokenizer.pad_id)
            mu.load_checkpoint(filename=str(path / "model.pt"), model=model, strict=True)
            model = model.to(torch.device(self.device)).eval()
            mu.apply_linacodec_linkwitz_patch()
            vocos = mu.Vocos.from_hparams(str(path / "vocoder" / "config.yaml"))
            for layer in getattr(vocos.upsampler, "upsample_layers", []):
                try:
                    mu.parametrize.remove_parametrizations(layer, "weight")
                except ValueError:  # already plain
                    continue
            vocos.load_state_dict(torch.load(str(path / "vocoder" / "vocos.bin"), map_location=self.device))
            vocos = vocos.to(self.device).eval()
            # LuxTTS.encode_prompt is device-agnostic; its __init__ is not (it
            # would fetch Whisper from the hub), so the instance is assembled here
            tts = object.__new__(mods["zipvoice.luxvoice"].LuxTTS)
            tts.model, tts.vocos, tts.tokenizer = model, vocos, tokenizer
            tts.feature_extractor, tts.transcriber = mu.VocosFbank(), None
            tts.device, tts._process_audio = self.device, mu.process_audio
        self.tts = tts

    def _describe(self) -> dict[str, Any]:
        impl = linacodec_impl()
        return {"device": f"torch:{self.device}", "vocoder_impl": impl,
                "vocoder": "linacodec Vocos (Torch)" if impl == "linacodec"
                else "STAND-IN for linacodec Vocos (Torch; linacodec not installed)"}

    def _generate(self, text: str, prompt: Any, params: dict[str, Any]) -> np.ndarray:
        # what LuxTTS.generate_speech does on cuda/mps, without its unimported `generate`
        if hasattr(self.tts.vocos, "return_48k"):
            self.tts.vocos.return_48k = not bool(params["return_smooth"])
        wav = self._generate_fn(
            prompt["prompt_tokens"], prompt["prompt_features_lens"], prompt["prompt_features"],
            prompt["prompt_rms"], text, self.tts.model, self.tts.vocos, self.tts.tokenizer,
            num_step=int(params["num_steps"]), guidance_scale=float(params["guidance_scale"]),
            t_shift=float(params["t_shift"]), speed=float(params["speed"]),
            target_rms=float(prompt.get("target_rms", 0.01)),
            duration_pad_frames=int(params["duration_pad_frames"]))
        return wav.detach().cpu().numpy()
