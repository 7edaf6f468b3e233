"""`luxgate check` on many takes in one process: texts beside the files or a manifest."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.cli import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS, main
from pytest_luxgate.core.audio import write_wav_atomic

FAST = ["--asr", "tiny.en"]
NO_VOICE = ["--skip", "voice"]  # Piper takes clone no voice: without this voice is not run (INCOMPLETE)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


@pytest.fixture
def folder(tmp_path: Path, piper_take: tuple[np.ndarray, int, str]) -> Path:
    audio, rate, text = piper_take
    write_wav_atomic(tmp_path / "good.wav", audio, rate)
    (tmp_path / "good.txt").write_text(text)
    write_wav_atomic(tmp_path / "wrong.wav", audio, rate)  # the same speech, another text: fails wer
    (tmp_path / "wrong.txt").write_text("A slow green turtle walks around the busy cat.")
    return tmp_path


def test_texts_beside_the_files_each_judged_once_in_one_process(capsys, folder: Path) -> None:
    code = main(["check", str(folder / "good.wav"), str(folder / "wrong.wav"), "--json", *FAST, *NO_VOICE])
    good, wrong = _lines(capsys)
    assert good["wav"].endswith("good.wav") and good["passed"] and good["checks"]["wer"]["passed"]
    assert wrong["wav"].endswith("wrong.wav") and not wrong["checks"]["wer"]["passed"]
    assert code == EXIT_FAIL


def test_a_bad_file_is_said_and_the_others_still_judged(capsys, folder: Path) -> None:
    (folder / "broken.wav").write_bytes(b"RIFF not a wav")
    (folder / "broken.txt").write_text("Anything at all.")
    write_wav_atomic(folder / "untexted.wav", np.zeros(8000, dtype=np.float32), 16000)
    code = main(["check", str(folder / "broken.wav"), str(folder / "untexted.wav"), str(folder / "good.wav"),
                 "--json", *FAST, *NO_VOICE])
    broken, untexted, good = _lines(capsys)
    assert broken["error"].startswith(f"{folder / 'broken.wav'}:") and broken["passed"] is False
    assert "no text for" in untexted["error"] and "untexted.txt" in untexted["error"]
    assert good["passed"] is True  # judged although two before it could not be
    assert code == EXIT_BAD_INPUT


def test_manifest_jsonl_and_tsv_with_seams_and_summary(capsys, folder: Path) -> None:
    text = (folder / "good.txt").read_text()
    manifest = folder / "takes.jsonl"
    manifest.write_text("\n".join([
        "# one take per line; paths relative to this file",
        json.dumps({"wav": "good.wav", "text": text, "seams": [0.5]}),
        json.dumps({"wav": "wrong.wav", "text_file": "wrong.txt"}),
    ]) + "\n")
    code = main(["check", "--manifest", str(manifest), *FAST, *NO_VOICE])
    out = capsys.readouterr().out
    assert "good.wav: PASS" in out and "ok   seams:" in out  # seams given: the seams check ran
    assert "wrong.wav: FAIL" in out
    assert out.strip().splitlines()[-1] == "luxgate check: 1 passed, 1 failed of 2 takes"
    assert code == EXIT_FAIL
    tsv = folder / "takes.tsv"
    tsv.write_text(f"good.wav\t{text}\n")
    assert main(["check", "--manifest", str(tsv), "--json", *FAST, *NO_VOICE]) == EXIT_PASS
    (line,) = _lines(capsys)
    assert line["passed"] and line["metrics"]["seam_count"] is None  # no times: the whole-file click scan


@pytest.mark.parametrize("args, message", [
    (["--manifest", "missing.jsonl"], "--manifest missing.jsonl: No such file or directory"),
    (["a.wav", "b.wav", "--seams", "1.0", "--text", "x"], "--seams gives the joins of one take"),
    ([], "give the takes to judge"),
    (["a.wav", "--text", "x", "--threshold", "wer=abc"], "--threshold wer: must be a number, got 'abc'"),
])
def test_option_errors_name_the_option_before_any_take(capsys, tmp_path: Path, monkeypatch,
                                                       args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", *args, *FAST]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_manifest_line_that_is_not_a_take_is_refused_with_its_line(capsys, folder: Path) -> None:
    manifest = folder / "m.jsonl"
    manifest.write_text('{"wav": "a.wav", "txt": "typo"}\n' + '{"wav": "good.wav", "text_file": "good.txt"}\n')
    assert main(["check", "--manifest", str(manifest), *FAST, *NO_VOICE]) == EXIT_BAD_INPUT
    out = capsys.readouterr()
    assert f"--manifest {manifest}:1: needs \"wav\"" in out.err
    assert "good.wav: PASS" in out.out  # the other lines are still judged
    assert out.out.strip().splitlines()[-1] == "luxgate check: 1 passed, 0 failed, 1 not judged (bad input) of 2 takes"
