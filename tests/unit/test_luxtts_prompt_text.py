"""Prompt-text policy for prompts without a transcript: strict | asr | target-fallback."""
from __future__ import annotations

from pathlib import Path

import pytest
from pytester_gate import read_report, run_gate

from pytest_luxgate.matrix.prompt_text import PromptTextError, resolve_prompt_text, unstable_reason, validate_policy
from pytest_luxgate.matrix.prompts import DEFAULT_FILE

PROBE = "speaks_prompt_text=luxtts_tiny:SpeaksPromptText"


def _never() -> str:
    raise AssertionError("ASR must not run unless the policy is asr and the transcript is missing")


def test_given_transcript_always_wins() -> None:
    assert resolve_prompt_text("p", " Hello there. ", "asr", target="x", transcribe=_never) == ("Hello there.", "given")


def test_strict_fails_naming_the_prompt_and_the_fix() -> None:
    with pytest.raises(PromptTextError, match=r"prompt 'p1' has no transcript.*strict.*add `text = "):
        resolve_prompt_text("p1", None, "strict", target="x", transcribe=_never)


def test_target_fallback_uses_the_spoken_text() -> None:
    assert resolve_prompt_text("p", "", "target-fallback", target="Say this.", transcribe=_never) == \
        ("Say this.", "target-fallback")


@pytest.mark.parametrize("heard, why", [
    ("", "empty"),
    (" ".join(["word"] + [f"w{i}" for i in range(24)]), "25 words"),
    ("the the the the the the the the and", "repeat ratio 0.89"),
])
def test_asr_refuses_unstable_transcripts(heard: str, why: str) -> None:
    assert unstable_reason(heard) is not None, why
    with pytest.raises(PromptTextError, match="unstable"):
        resolve_prompt_text("p", None, "asr", target="x", transcribe=lambda: heard)


def test_asr_accepts_a_normal_sentence() -> None:
    assert unstable_reason("No, no, I said the morning train was late.") is None
    assert resolve_prompt_text("p", None, "asr", target="x", transcribe=lambda: " It was late. ") == \
        ("It was late.", "asr")


def test_bad_policy_value_is_refused() -> None:
    assert validate_policy("") == "strict"
    with pytest.raises(ValueError, match="strict|asr|target-fallback"):
        validate_policy("hello-fallback")


def _prompts_without_text(tmp: Path) -> Path:
    wav = DEFAULT_FILE.parent / "prompt_a.wav"
    path = tmp / "prompts.toml"
    path.write_text(f'[[prompt]]\nid = "untranscribed"\nwav = "{wav}"\n')
    return path


@pytest.mark.parametrize("policy", ["strict", "target-fallback", "asr"])
def test_policy_in_the_gate(pytester: pytest.Pytester, tmp_path: Path, policy: str) -> None:
    args = [f"--luxgate-prompts={_prompts_without_text(tmp_path)}", "--luxgate-scenario=short_plain",
            f"--luxgate-prompt-text={policy}", "-k", "test_wer"]
    result = run_gate(pytester, *args, stacks=PROBE)
    cell = read_report(pytester)["cells"][0]
    if policy == "strict":
        assert result.ret == 1 and cell["status"] == "error"
        assert "prompt 'untranscribed' has no transcript and --luxgate-prompt-text is strict" in cell["error"]
    elif policy == "target-fallback":  # the stack was handed the cell's own text
        assert cell["checks"]["wer"]["passed"], cell["transcript"]
        assert cell["prompt_text_source"] == "target-fallback"
    else:  # the gate's ASR heard prompt_a (Piper joe reading its sentence)
        assert "morning train" in cell["transcript"].lower()
        assert cell["prompt_text_source"] == "asr"


def test_unknown_policy_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run_gate(pytester, "--luxgate-prompt-text=maybe", "--luxgate-scenario=short_plain")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--luxgate-prompt-text must be one of strict|asr|target-fallback*"])
