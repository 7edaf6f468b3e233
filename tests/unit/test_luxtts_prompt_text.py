"""Prompt-text policy for prompts without a transcript: strict | asr | target-fallback."""
from __future__ import annotations

import pytest

from pytest_luxgate.matrix.prompt_text import PromptTextError, resolve_prompt_text, unstable_reason, validate_policy


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
