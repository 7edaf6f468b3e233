"""`luxgate check --seams`: the seams check on one file, and the whole-file click scan without times."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.cli import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS, main
from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.judging.checks import CHECKS
from pytest_luxgate.speech.chunking import ChunkingOptions
from pytest_luxgate.speech.synthesis import synthesize_chunked

TEXT = "We walked along the river after lunch. By noon the rain had stopped again."
FAST = ["--asr", "tiny.en"]


@pytest.fixture(scope="module")
def joined(piper_stack):
    take = synthesize_chunked(piper_stack, TEXT, None, piper_stack.default_params(), 7,
                              ChunkingOptions(max_chars=50))
    assert len(take.seams) == 1
    return take


def _check(capsys, wav: Path, *args: str) -> tuple[int, dict]:
    code = main(["check", str(wav), "--text", TEXT, "--json", *FAST, *args])
    return code, json.loads(capsys.readouterr().out)


def test_seams_at_given_times(capsys, tmp_path: Path, joined) -> None:
    wav = write_wav_atomic(tmp_path / "joined.wav", joined.audio, joined.sample_rate)
    seams = ",".join(f"{t:.3f}" for t in joined.seams)
    code, out = _check(capsys, wav, "--seams", seams, "--skip", "voice")
    assert set(out["checks"]) == set(CHECKS) - {"voice"}
    assert set(out["checks"]["seams"]) == {"passed", "value", "threshold", "message"}
    assert out["checks"]["seams"]["passed"], out["checks"]["seams"]["message"]
    assert out["metrics"]["seam_count"] == 1
    assert code == (EXIT_PASS if out["passed"] else EXIT_FAIL)

    spoiled = joined.audio.copy()
    at = int(joined.seams[0] * joined.sample_rate)
    spoiled[at:at + 3] += np.float32(0.05) * np.array([1.0, -0.7, 0.4], np.float32)
    wav = write_wav_atomic(tmp_path / "click.wav", spoiled, joined.sample_rate)
    code, out = _check(capsys, wav, "--seams", seams, "--checks", "seams")
    assert code == EXIT_FAIL and set(out["checks"]) == {"seams"}
    assert "seam_click_db" in out["checks"]["seams"]["message"]
    assert "at seam 0 (" in out["checks"]["seams"]["message"]


def test_without_times_the_seams_check_scans_the_whole_file(capsys, tmp_path: Path, joined) -> None:
    spoiled = joined.audio.copy()
    at = int(joined.seams[0] * joined.sample_rate)
    spoiled[at:at + 3] += np.float32(0.1) * np.array([1.0, -0.7, 0.4], np.float32)
    wav = write_wav_atomic(tmp_path / "click.wav", spoiled, joined.sample_rate)
    code, out = _check(capsys, wav, "--checks", "seams")
    assert code == EXIT_FAIL
    assert out["checks"]["seams"]["message"].startswith("click_scan_db")
    assert out["metrics"]["seam_count"] is None and out["metrics"]["click_scan_db"] > 45


@pytest.mark.parametrize("seams, expect", [("1.2,abc", "--seams: expected seconds"),
                                           ("-1", "--seams: expected seconds >= 0"),
                                           ("999", "outside the audio")])
def test_bad_seam_times_exit_2(capsys, tmp_path: Path, joined, seams: str, expect: str) -> None:
    wav = write_wav_atomic(tmp_path / "joined.wav", joined.audio, joined.sample_rate)
    code = main(["check", str(wav), "--text", TEXT, "--seams", seams, *FAST])
    assert code == EXIT_BAD_INPUT
    assert expect in capsys.readouterr().err
