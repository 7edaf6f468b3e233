"""What a voice prompt's transcript is when the prompts file gives none.

A voice-cloning stack conditions on the prompt's words as well as its sound;
a wrong transcript is a top cause of bad takes (docs/ORIGIN.md). So the
production path always passes the transcript, and a prompt without one is
handled by an explicit policy (``--luxgate-prompt-text``):

* ``strict`` (default): the cell fails, saying which prompt and how to fix it.
* ``asr``: transcribe the prompt with the gate's own offline ASR, and refuse
  an unstable transcript (empty, more than 24 words, repeat ratio > 0.72).
* ``target-fallback``: use the text being spoken (the original scripts' last
  resort; conditions the stack on words the prompt does not say).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

POLICIES = ("strict", "asr", "target-fallback")
DEFAULT_POLICY = "strict"
MAX_WORDS = 24
MAX_REPEAT_RATIO = 0.72


class PromptTextError(ValueError):
    """No usable transcript for a prompt under the chosen policy."""


def validate_policy(value: str) -> str:
    policy = (value or DEFAULT_POLICY).strip().lower()
    if policy not in POLICIES:
        raise ValueError(f"--luxgate-prompt-text must be one of {'|'.join(POLICIES)}, got {value!r}")
    return policy


def unstable_reason(text: str) -> str | None:
    """Why an automatic transcript cannot be trusted as a prompt transcript, or None."""
    from ..metrics.text import _legacy_repeat_ratio  # the original tool's repeat score

    words = text.split()
    if not words:
        return "it is empty"
    if len(words) > MAX_WORDS:
        return f"it has {len(words)} words (> {MAX_WORDS}: a prompt is a few seconds of speech)"
    ratio = _legacy_repeat_ratio(text)
    if ratio > MAX_REPEAT_RATIO:
        return f"its repeat ratio is {ratio:.2f} (> {MAX_REPEAT_RATIO}: looks like an ASR loop)"
    return None


def resolve_prompt_text(prompt_id: str, given: str | None, policy: str, *, target: str,
                        transcribe: Callable[[], str]) -> tuple[str, str]:
    """(transcript, source) for one prompt; source is 'given', 'asr' or 'target-fallback'.

    `transcribe` is called only under the ``asr`` policy (the caller caches it).
    """
    if given and given.strip():
        return given.strip(), "given"
    fix = (f"add `text = \"...\"` (the exact words spoken) to prompt {prompt_id!r} in the prompts file, "
           "or choose --luxgate-prompt-text asr|target-fallback")
    if policy == "strict":
        raise PromptTextError(f"prompt {prompt_id!r} has no transcript and --luxgate-prompt-text is strict; {fix}")
    if policy == "target-fallback":
        return target, "target-fallback"
    heard = transcribe().strip()
    why = unstable_reason(heard)
    if why is not None:
        raise PromptTextError(f"prompt {prompt_id!r} has no transcript and its ASR transcript {heard!r} is "
                              f"unstable: {why}; {fix}")
    return heard, "asr"


def asr_transcript(asr_spec: str, wav: np.ndarray, rate: int) -> str:
    """The gate's own offline ASR on the prompt (same model as the checks)."""
    from ..asr import get_asr

    return get_asr(asr_spec).transcribe(np.asarray(wav, dtype=np.float32), int(rate)).text
