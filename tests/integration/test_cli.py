"""`luxgate check`: the gate's checks on one file, its JSON shape and exit codes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.cli import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS, main
from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.judging.checks import CHECKS

FAST = ["--asr", "tiny.en"]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["check", *args, "--json", *FAST])
    return code, json.loads(capsys.readouterr().out)


def test_clean_take_passes_with_stable_json_shape(capsys, piper_wav) -> None:
    wav, text = piper_wav
    code, out = _run(capsys, str(wav), "--text", text, "--skip", "voice")  # Piper clones no voice
    assert set(out) == {"passed", "checks", "metrics", "transcript", "excluded"}
    assert list(out["checks"]) == [n for n in CHECKS if n != "voice"] and out["excluded"] == ["voice"]
    for chk in out["checks"].values():
        assert set(chk) == {"passed", "value", "threshold", "message"}
        assert isinstance(chk["passed"], bool)
    assert "fox" in out["transcript"].lower()
    assert out["passed"] is all(c["passed"] for c in out["checks"].values())
    assert code == (EXIT_PASS if out["passed"] else EXIT_FAIL)
    assert out["checks"]["wer"]["passed"] and out["checks"]["clipping"]["passed"]


def test_wrong_text_fails_wer_and_names_the_words(capsys, piper_wav) -> None:
    wav, _ = piper_wav
    code, out = _run(capsys, str(wav), "--text", "The quick brown cat sleeps under the lazy dog.",
                     "--checks", "wer")
    assert code == EXIT_FAIL
    msg = out["checks"]["wer"]["message"]
    assert "cat" in msg and "fox" in msg
    assert out["checks"]["wer"]["value"] > out["checks"]["wer"]["threshold"]


def test_clipped_take_fails_clipping(capsys, tmp_path: Path, piper_take) -> None:
    audio, rate, text = piper_take
    wav = write_wav_atomic(tmp_path / "clipped.wav", np.clip(audio * 4, -1, 1), rate)
    code, out = _run(capsys, str(wav), "--text", text, "--checks", "clipping")
    assert code == EXIT_FAIL and not out["checks"]["clipping"]["passed"]


@pytest.mark.parametrize("case", ["missing", "empty_file", "corrupt", "empty_text", "bad_threshold"])
def test_bad_input_exits_2_with_a_clear_message(capsys, tmp_path: Path, piper_wav, case: str) -> None:
    wav, text = piper_wav
    args = [str(wav), "--text", text]
    expect = ""
    if case == "missing":
        args[0], expect = str(tmp_path / "nope.wav"), "file not found"
    elif case == "empty_file":
        (tmp_path / "empty.wav").write_bytes(b"")
        args[0], expect = str(tmp_path / "empty.wav"), "empty"
    elif case == "corrupt":
        (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
        args[0], expect = str(tmp_path / "bad.wav"), "not a readable audio file"
    elif case == "empty_text":
        args[2], expect = "   ", "--text is empty"
    elif case == "bad_threshold":
        args += ["--threshold", "wer=2"]
        expect = "between 0 and 1"
    code = main(["check", *args, *FAST])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert expect in err
    if case in ("missing", "empty_file", "corrupt"):
        assert Path(args[0]).name in err


def test_console_script_is_installed(piper_wav) -> None:
    wav, text = piper_wav
    exe = shutil.which("luxgate", path=str(Path(sys.executable).parent))
    assert exe, "the luxgate console script is not installed"
    proc = subprocess.run([exe, "check", str(wav), "--text", text, "--json", "--checks", "clipping", *FAST],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == EXIT_PASS, proc.stderr
    assert json.loads(proc.stdout)["checks"]["clipping"]["passed"] is True
