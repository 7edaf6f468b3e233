"""The LuxTTS stacks' real loading and inference code, on the tiny random checkpoint.

The tiny checkpoint speaks noise, so these tests check the machinery: layout,
loading, prompt encoding, seeding, parameters reaching the model, the
missing-weights reasons and that nothing leaks into the user's process.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from luxtts_tiny import requires_luxtts, tiny_checkpoint  # noqa: F401  (fixture)

from pytest_luxgate.matrix.prompts import load_prompts, read_prompt_audio
from pytest_luxgate.stacks.base import StackUnavailable, set_stack_options

pytestmark = requires_luxtts
TEXT = "Quick quality check for LuxTTS."


@pytest.fixture(scope="module")
def stacks(tiny_checkpoint: Path):  # noqa: F811
    from pytest_luxgate.stacks.luxtts.stacks import LuxTTSMLXStack, LuxTTSTorchStack

    set_stack_options({"luxtts_path": str(tiny_checkpoint), "luxtts_device": "cpu"})
    loaded = {}
    for cls in (LuxTTSMLXStack, LuxTTSTorchStack):
        stack = cls()
        stack.load()
        loaded[cls.name] = stack
    yield loaded
    set_stack_options({})


@pytest.fixture(scope="module")
def prompt():
    p = load_prompts()[0]
    wav, rate = read_prompt_audio(p)
    return wav, rate, p.text


def test_tiny_checkpoint_has_the_real_layout(tiny_checkpoint: Path) -> None:  # noqa: F811
    import torch
    import yaml

    from pytest_luxgate.stacks.luxtts.settings import REQUIRED

    for name in REQUIRED:
        assert (tiny_checkpoint / name).is_file(), name
    config = json.loads((tiny_checkpoint / "config.json").read_text())
    assert config["model"]["time_embed_dim"] == 192 and config["feature"]["sampling_rate"] == 24000
    ckpt = torch.load(tiny_checkpoint / "model.pt", map_location="cpu", weights_only=False)
    assert "model" in ckpt and any(k.startswith("fm_decoder.") for k in ckpt["model"])
    vocoder = yaml.safe_load((tiny_checkpoint / "vocoder" / "config.yaml").read_text())
    assert {"backbone", "head", "upsampler", "head_48k"} <= set(vocoder)
    state = torch.load(tiny_checkpoint / "vocoder" / "vocos.bin", map_location="cpu")
    assert "upsampler.upsample_layers.0.weight" in state  # weight norm removed, as both loaders expect
    lines = (tiny_checkpoint / "tokens.txt").read_text("utf-8").splitlines()
    assert lines[0] == "_\t0" and len(lines) > 40


def _encoded(stacks, prompt, name: str) -> tuple[Any, dict, Any]:
    """(stack, its default params, the prompt encoded with them)."""
    stack = stacks[name]
    wav, rate, text = prompt
    params = stack.default_params()
    return stack, params, stack.encode_prompt(wav, rate, text, params)


@pytest.mark.parametrize("name", ["mlx", "torch"])
def test_stack_speaks_48k_and_same_seed_gives_same_audio(stacks, prompt, name: str) -> None:
    stack, params, enc = _encoded(stacks, prompt, name)
    a = stack.synthesize(TEXT, enc, params, seed=11)
    b = stack.synthesize(TEXT, enc, params, seed=11)
    c = stack.synthesize(TEXT, enc, params, seed=12)
    assert a.sample_rate == 48000 and a.audio.ndim == 1 and a.audio.dtype == np.float32
    assert a.audio.size > 48000 * 0.3 and np.all(np.isfinite(a.audio))
    assert np.array_equal(a.audio, b.audio), "same seed must give the same audio"
    assert not np.array_equal(a.audio, c.audio), "another seed must give other audio"


@pytest.mark.parametrize("name", ["mlx", "torch"])
def test_generation_params_reach_the_model(stacks, prompt, name: str) -> None:
    stack, params, enc = _encoded(stacks, prompt, name)
    wav, rate, text = prompt
    slow = stack.synthesize(TEXT, enc, {**params, "speed": 0.6}, seed=3).audio.size
    fast = stack.synthesize(TEXT, enc, {**params, "speed": 1.6}, seed=3).audio.size
    assert slow > 2 * fast  # duration = prompt frames per token * tokens / speed
    short = stack.encode_prompt(wav, rate, text, {**params, "ref_duration": 1.0})
    assert short["prompt_features"].shape[1] < enc["prompt_features"].shape[1]


@pytest.mark.parametrize("name", ["mlx", "torch"])
def test_missing_transcript_is_refused_not_sent_to_hub_asr(stacks, prompt, name: str) -> None:
    from pytest_luxgate.stacks.base import StackError

    wav, rate, _ = prompt
    with pytest.raises(StackError, match="--luxgate-prompt-text"):
        stacks[name].encode_prompt(wav, rate, None, stacks[name].default_params())


def test_describe_names_the_weights_device_and_vocoder(stacks) -> None:
    mlx, torch_ = stacks["mlx"].describe(), stacks["torch"].describe()
    assert mlx["device"].startswith("mlx:") and torch_["device"] == "torch:cpu"
    assert mlx["model_sha256"] == torch_["model_sha256"] and mlx["model_source"] == "option"
    # the Torch vocoder says whether it is the real linacodec or the stand-in
    assert torch_["vocoder_impl"] in ("linacodec", "stand-in")
    if torch_["vocoder_impl"] == "stand-in":
        assert "STAND-IN" in torch_["vocoder"]


def test_nothing_leaks_into_the_process(stacks, prompt) -> None:
    """Loading and running both stacks leaves env, root logging and warning filters as they were."""
    env, handlers, filters = dict(os.environ), list(logging.getLogger().handlers), list(warnings.filters)
    wav, rate, text = prompt
    for stack in stacks.values():
        enc = stack.encode_prompt(wav, rate, text, stack.default_params())
        stack.synthesize(TEXT, enc, stack.default_params(), seed=1)
    assert dict(os.environ) == env
    assert logging.getLogger().handlers == handlers
    assert warnings.filters == filters
    # names LuxTTS is known to set; other libraries in this process may have set them first
    # (transformers: TORCHINDUCTOR_CACHE_DIR, librosa's joblib: KMP_INIT_AT_FORK)
    assert not [k for k in os.environ if k.startswith(("KMP_", "TORCHINDUCTOR", "LUXTTS_")) and k not in env]


def test_missing_weights_path_gives_an_actionable_reason(tmp_path: Path) -> None:
    from pytest_luxgate.stacks.luxtts.stacks import LuxTTSMLXStack, LuxTTSTorchStack

    set_stack_options({"luxtts_path": str(tmp_path / "nowhere")})
    try:
        for cls in (LuxTTSMLXStack, LuxTTSTorchStack):
            with pytest.raises(StackUnavailable, match=r"does not exist.*--luxgate-luxtts-path"):
                cls().load()
        (tmp_path / "partial").mkdir()
        (tmp_path / "partial" / "config.json").write_text("{}")
        set_stack_options({"luxtts_path": str(tmp_path / "partial")})
        with pytest.raises(StackUnavailable, match=r"lacks tokens\.txt, model\.pt"):
            LuxTTSTorchStack().load()
    finally:
        set_stack_options({})


def test_no_path_and_empty_hf_cache_names_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_luxgate.stacks.luxtts.stacks import LuxTTSMLXStack

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("LUXGATE_LUXTTS_PATH", raising=False)
    set_stack_options({})
    with pytest.raises(StackUnavailable, match=r"YatharthS/LuxTTS is not in the Hugging Face cache"):
        LuxTTSMLXStack().load()


def test_hf_cache_snapshot_is_found_offline(tiny_checkpoint: Path, tmp_path: Path,  # noqa: F811
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A YatharthS/LuxTTS snapshot in the HF cache layout is used with no path given."""
    import shutil

    from pytest_luxgate.stacks.luxtts.settings import model_dir

    repo = tmp_path / "hub" / "models--YatharthS--LuxTTS"
    snap = repo / "snapshots" / ("0" * 40)
    shutil.copytree(tiny_checkpoint, snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("LUXGATE_LUXTTS_PATH", raising=False)
    set_stack_options({})
    found = model_dir()
    assert found.source == "hf-cache" and found.path == snap


def test_env_var_points_at_weights(tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from pytest_luxgate.stacks.luxtts.settings import model_dir

    set_stack_options({})
    monkeypatch.setenv("LUXGATE_LUXTTS_PATH", str(tiny_checkpoint))
    found = model_dir()
    assert found.source == "env" and found.path == tiny_checkpoint


def test_real_linacodec_wins_over_the_stand_in(tmp_path: Path) -> None:
    """With a package named linacodec importable, no alias is installed."""
    fake = tmp_path / "linacodec"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    code = ("import sys; from pytest_luxgate.stacks.luxtts.runtime import ensure_linacodec;"
            "print(ensure_linacodec(), getattr(sys.modules.get('linacodec'), 'STANDIN', False))")
    real = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}).stdout.split()
    standin = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
    assert real == ["linacodec", "False"]
    assert standin == ["stand-in", "True"]


def test_importing_the_plugin_does_not_import_torch_or_mlx() -> None:
    code = ("import sys, pytest_luxgate.plugin, pytest_luxgate.stacks.luxtts.stacks;"
            "print(sorted(m for m in ('torch', 'mlx', 'zipvoice') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_mlx_stack_refuses_weights_the_port_silently_skips(tiny_checkpoint: Path, tmp_path: Path) -> None:  # noqa: F811
    """luxtts-mlx skips checkpoint tensors that do not fit; the gate must not run on half-random weights."""
    import shutil

    import torch

    from pytest_luxgate.stacks.luxtts.stacks import LuxTTSMLXStack

    broken = tmp_path / "broken"
    shutil.copytree(tiny_checkpoint, broken)
    ckpt = torch.load(broken / "model.pt", map_location="cpu", weights_only=False)
    ckpt["model"]["embed.weight"] = ckpt["model"]["embed.weight"][:, :-1].clone()  # wrong width
    torch.save(ckpt, broken / "model.pt")
    set_stack_options({"luxtts_path": str(broken)})
    try:
        with pytest.raises(StackUnavailable, match=r"did not load every weight.*embed\.weight"):
            LuxTTSMLXStack().load()
    finally:
        set_stack_options({})


def test_mlx_stack_reports_every_weight_copied(stacks) -> None:
    copied = stacks["mlx"].describe()["mlx_weights"]
    for part, frac in copied.items():
        done, total = frac.split("/")
        assert done == total and int(total) > 10, (part, frac)


def test_describe_is_stable_across_loads(stacks, tiny_checkpoint: Path) -> None:  # noqa: F811
    """describe() keys the take cache: a reload of the same weights must describe the same."""
    from pytest_luxgate.stacks.luxtts.stacks import LuxTTSMLXStack

    set_stack_options({"luxtts_path": str(tiny_checkpoint), "luxtts_device": "cpu"})
    try:
        again = LuxTTSMLXStack()
        again.load()
    finally:
        set_stack_options({})
    assert again.describe() == stacks["mlx"].describe()
