"""Prompt-text policy in a gate run: strict errors the cell, target-fallback and asr fill the text in."""
from __future__ import annotations

from pathlib import Path

import pytest
from pytester_gate import read_report, run_gate

from pytest_luxgate.matrix.prompts import DEFAULT_FILE


PROBE = "speaks_prompt_text=luxtts_tiny:SpeaksPromptText"


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
