"""`luxgate check` with the listener checks: voice against --prompt, quality and pauses."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.asr import get_asr
from pytest_luxgate.cli import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS, main
from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.judging.checks import CHECKS
from pytest_luxgate.listeners import dnsmos, speaker
from pytest_luxgate.matrix.prompts import DEFAULT_FILE, load_prompts

FAST = ["--asr", "tiny.en"]
TEXT = "The quick brown fox jumps over the lazy dog near the river bank."
PROMPTS = {p.id: p.wav for p in load_prompts(DEFAULT_FILE)}  # prompt_a: Piper joe, prompt_b: espeak-ng f3
needs_listen = pytest.mark.skipif(bool(dnsmos.unavailable() or speaker.unavailable()),
                                  reason=str(dnsmos.unavailable() or speaker.unavailable()))


@pytest.fixture(scope="module")
def take(piper_stack) -> tuple[np.ndarray, int]:
    out = piper_stack.synthesize(TEXT, None, piper_stack.default_params(), seed=7)
    return out.audio, out.sample_rate


def _check(capsys, wav: Path, *args: str) -> tuple[int, dict]:
    code = main(["check", str(wav), "--text", TEXT, "--json", *FAST, *args])
    return code, json.loads(capsys.readouterr().out)


@needs_listen
def test_prompt_adds_voice_and_names_add_quality_and_pauses(capsys, tmp_path: Path, take) -> None:
    wav = write_wav_atomic(tmp_path / "take.wav", *take)
    code, out = _check(capsys, wav, "--prompt", str(PROMPTS["prompt_a"]))
    assert set(out["checks"]) == set(CHECKS)  # the gate's set: voice, quality and pauses among them
    assert out["checks"]["voice"]["passed"], out["checks"]["voice"]["message"]
    assert out["metrics"]["voice_similarity"] >= out["checks"]["voice"]["threshold"]
    assert out["checks"]["quality"]["value"] == out["metrics"]["mos_ovrl"]
    assert code == (EXIT_PASS if out["passed"] else EXIT_FAIL)

    code, out = _check(capsys, wav, "--checks", "quality,pauses")
    assert code == EXIT_PASS and set(out["checks"]) == {"quality", "pauses"}
    assert out["checks"]["quality"]["value"] == out["metrics"]["mos_ovrl"] >= 2.5
    assert out["metrics"]["voice_similarity"] is None


@needs_listen
def test_another_voice_fails_the_voice_check(capsys, tmp_path: Path, take) -> None:
    wav = write_wav_atomic(tmp_path / "take.wav", *take)
    code, out = _check(capsys, wav, "--prompt", str(PROMPTS["prompt_b"]), "--checks", "voice")
    assert code == EXIT_FAIL and not out["passed"]
    assert out["checks"]["voice"]["message"].startswith("voice_similarity ")
    assert out["checks"]["voice"]["value"] < out["checks"]["voice"]["threshold"]


def test_a_spliced_pause_fails_with_time_and_words(capsys, tmp_path: Path, take) -> None:
    audio, rate = take
    words = get_asr("tiny.en").transcribe(audio, rate).words
    i = [w.text.strip(" ,.").lower() for w in words].index("over")
    at = int((words[i - 1].end + words[i].start) / 2 * rate)
    spliced = np.concatenate([audio[:at], np.zeros(int(0.35 * rate), np.float32), audio[at:]])
    wav = write_wav_atomic(tmp_path / "gap.wav", spliced, rate)
    code, out = _check(capsys, wav, "--checks", "pauses")
    assert code == EXIT_FAIL
    msg = out["checks"]["pauses"]["message"]
    assert msg.startswith("pause_gap_s 0.3") and "“jumps”" in msg and "“over”" in msg, msg
    assert out["metrics"]["longest_unexplained_pause_s"] >= 0.3


def test_voice_without_prompt_and_a_missing_prompt_are_bad_input(capsys, tmp_path: Path, take) -> None:
    wav = write_wav_atomic(tmp_path / "take.wav", *take)
    code, out = _check(capsys, wav, "--checks", "voice")
    assert code == EXIT_BAD_INPUT and "give --prompt PROMPT.wav" in out["error"]
    code, out = _check(capsys, wav, "--prompt", str(tmp_path / "nope.wav"))
    assert code == EXIT_BAD_INPUT
    assert out["error"].startswith("--prompt: ") and "nope.wav: file not found" in out["error"]
