"""Refusing bad option values up front (issue 16): ASR specs without loading a model, generation
parameters against the stacks' own, `luxgate check`'s text files and length limit."""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_luxgate.asr.base import ASRError
from pytest_luxgate.asr.registry import check_spec
from pytest_luxgate.cli.check_inputs import (
    InputError,
    check_duration,
    max_seconds,
    read_text,
)
from pytest_luxgate.matrix.scenarios import Scenario
from pytest_luxgate.plugin.options import (
    ConfigError,
    GateConfig,
    check_generation_params,
    stack_param_defaults,
)
from pytest_luxgate.stacks.piper import PiperStack


@pytest.mark.parametrize("spec", ["tiny.en", "base", "faster-whisper:tiny.en", "faster-whisper:base",
                                  "transformers:openai/whisper-small"])
def test_bundled_models_and_hub_ids_are_accepted(spec: str) -> None:
    check_spec(spec)


@pytest.mark.parametrize("spec, message", [
    ("nonexistent", "unknown ASR model 'nonexistent': not a bundled model and no such directory; known: "),
    ("faster-whisper:tiny", "unknown ASR model 'faster-whisper:tiny'"),
    ("whisper:base", "unknown ASR backend 'whisper' in 'whisper:base'"),
    ("faster-whisper:", "no model in 'faster-whisper:'"),
    ("transformers:./no/such/dir", "unknown ASR model 'transformers:./no/such/dir'"),
])
def test_unknown_specs_are_refused_naming_what_is_known(spec: str, message: str) -> None:
    with pytest.raises(ASRError) as err:
        check_spec(spec)
    assert str(err.value).startswith(message)
    assert "known: faster-whisper:tiny.en, faster-whisper:base" in str(err.value)


def test_a_directory_must_hold_a_ct2_model(tmp_path: Path) -> None:
    with pytest.raises(ASRError, match="no model.bin in"):
        check_spec(f"faster-whisper:{tmp_path}")
    (tmp_path / "model.bin").write_bytes(b"weights")
    check_spec(f"faster-whisper:{tmp_path}")


def test_checking_a_spec_loads_no_model() -> None:
    """Start-up stays fast: the check neither imports the ASR runtime nor joins the base model."""
    code = ("import sys; from pytest_luxgate.asr.registry import check_spec; check_spec('base'); "
            "check_spec('tiny.en'); print(sorted(m for m in ('ctranslate2', 'faster_whisper', 'torch') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def _cfg(**kw) -> GateConfig:
    return GateConfig(rootdir=Path("."), stacks=("piper", "other"), prompts_file=None, scenario_dirs=(),
                      scenario_ids=(), output=Path("out"), keep_wavs="none", asr="tiny.en", seed=1, **kw)


DEFAULTS = {"piper": {"length_scale": 1.0, "volume": 0.89}, "other": {"speed": 1.0, "steps": 6}}


def test_piper_parameters_are_known_before_its_model_loads() -> None:
    assert stack_param_defaults(PiperStack) == PiperStack().default_params()
    assert set(stack_param_defaults(PiperStack)) == {"length_scale", "noise_scale", "noise_w_scale", "volume"}

    class Broken:
        def __init__(self) -> None:
            raise RuntimeError("needs its model")

    assert stack_param_defaults(Broken) is None


@pytest.mark.parametrize("kw, scenario, message", [
    ({"params": {"lenght_scale": "1.1"}}, {}, "--luxgate-params: unknown generation parameter 'lenght_scale' "
     "(value '1.1'); stacks 'piper', 'other' know: length_scale, speed, steps, volume"),
    ({"params": {"steps": "many"}}, {}, "--luxgate-params: stack 'other': parameter 'steps': 'many' is not a int"),
    ({}, {"spped": 1.1}, "scenario 's' [params] (s.toml): unknown generation parameter 'spped'"),
    ({"prompt_params": {"piper": {"p": {"speed": 1.1}}}, "params_file": Path("f.toml")}, {},
     "--luxgate-params-file f.toml [params.piper.p]: unknown generation parameter 'speed' (value 1.1); "
     "stack 'piper' knows: length_scale, volume"),
])
def test_unknown_parameters_are_usage_errors(kw: dict, scenario: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_generation_params(_cfg(**kw), DEFAULTS, [Scenario("s", "Hi.", {}, scenario, "s.toml")])
    assert str(err.value) == message or str(err.value).startswith(message)


def test_known_parameters_pass_even_when_only_one_stack_has_them() -> None:
    check_generation_params(_cfg(params={"speed": "1.1", "length_scale": "0.9"},
                                 prompt_params={"piper": {"p": {"volume": 0.5}},
                                                "absent": {"p": {"anything": 1}}}),
                            DEFAULTS, [Scenario("s", "Hi.", {}, {"steps": 4}, "s.toml")])
    check_generation_params(_cfg(params={"whatever": "1"}), {}, [])  # no stack's parameters known: the cells say


def test_text_files_must_be_text(tmp_path: Path) -> None:
    good = tmp_path / "t.txt"
    good.write_text("Tab\tand new line\n are fine.\r\n")
    assert read_text(good, "--text-file").startswith("Tab")
    for name, body, message in [("nul.txt", b"hi\x00there", "not text (control character '\\x00' at offset 2)"),
                                ("bell.txt", b"\x07", "not text (control character '\\x07' at offset 0)"),
                                ("latin1.txt", b"caf\xe9", "not UTF-8 text (byte 0xe9 at offset 3)")]:
        (tmp_path / name).write_bytes(body)
        with pytest.raises(InputError) as err:
            read_text(tmp_path / name, "--text-file")
        assert str(err.value).startswith(f"--text-file {tmp_path / name}: {message}")


def test_length_is_read_from_the_header(tmp_path: Path) -> None:
    wav = tmp_path / "long.wav"
    rate, frames = 8000, 8000 * 3600
    with open(wav, "wb") as fh:  # a one-hour 16-bit WAV, as a sparse file
        fh.write(b"RIFF" + struct.pack("<I", 36 + 2 * frames) + b"WAVEfmt " +
                 struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", 2 * frames))
        fh.truncate(44 + 2 * frames)
    check_duration(wav, 3600)
    with pytest.raises(InputError, match=r"long.wav: 3600 s long \(60.0 min\), over --max-duration 3599 s"):
        check_duration(wav, 3599)
    check_duration(tmp_path / "missing.wav", 1)  # left to the reader, which names what is wrong
    assert max_seconds("90") == 90.0
    for bad in ("0", "-1", "nan", "inf", "ten"):
        with pytest.raises(InputError, match="--max-duration: expected seconds > 0"):
            max_seconds(bad)
