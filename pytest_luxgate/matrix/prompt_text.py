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

A transcript that *is* given is checked against the prompt audio with the same
ASR (`transcript_mismatch`): one that is not what the wav says is a cell error
under ``strict`` and a note under the other policies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..core.types import Transcript

POLICIES = ("strict", "asr", "target-fallback")
DEFAULT_POLICY = "strict"
MAX_WORDS = 24
MAX_REPEAT_RATIO = 0.72

#: A given transcript is another text when more than this share of its words differ from what
#: the ASR heard (the WER the gate counts, sounds-alike regions left out). Bundled prompts,
#: right transcript: 0.0 (tiny.en and base on prompt_a), 0.125 / 0.062 (prompt_b, an espeak-ng
#: voice: tiny.en hears "herbs and a row" as "firm and a lot"); the other prompt's sentence:
#: 0.94-1.45. Backs up the content-word rule when the ASR was unsure of every word it heard.
MAX_PROMPT_WER = 0.5
#: ... or when content words differ in two or more places (error regions: runs of adjacent
#: word differences, metrics/content_words.py; the gate's slips excused: homophones, other
#: endings, rare words heard close, words the ASR was unsure of). One region is one
#: mishearing: tiny.en hears a human "ill-disposed" as "old-sposed" (two words, one region) ...
MAX_SLIPS = 1
#: ... or when a region that differs was heard this surely (its lowest Whisper word
#: probability): one the ASR was less sure of reads as its slip on a right transcript
#: (tiny.en: "lot" for "row" on prompt_b 0.62, "old-sposed" 0.53), one it is sure of as a
#: wrong word (one word changed in prompt_a's transcript: heard at 0.96-0.99, tiny.en and base).
#: The limit this leaves: a single changed word that the ASR heard unsurely passes. About one
#: content word in four is heard under 0.9 on the bundled and held-out recordings, and of ten
#: single-word changes to the held-out human transcripts 6 are flagged (tiny.en and base);
#: changes in two places always are (tests/models/test_prompt_transcript_check.py).
SURE_PROBABILITY = 0.9


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


@dataclass(frozen=True)
class Mismatch:
    """What differs between a prompt's given transcript and what the ASR heard in its wav."""

    heard: str
    #: the differences, for a person: content words heard otherwise, extra words heard, the diff
    what: str
    wer: float

    def message(self, prompt_id: str, model: str) -> str:
        return (f"prompt {prompt_id!r}: its transcript does not match its audio ({self.what}; "
                f"the gate's ASR {model} heard {self.heard!r})")


def transcript_mismatch(given: str, heard: "Transcript") -> Mismatch | None:
    """None when `heard` (the ASR on the prompt wav) can be a reading of `given` with the
    recogniser's usual slips; else what differs.

    The comparison is the gate's own for a take against its text (metrics/text.py,
    metrics/content_words.py): Whisper normalisation (punctuation, casing, numbers in
    words or digits), sounds-alike segmentations left out of the WER, and content words
    counted with the slips excused. A transcript is flagged when it is another text
    (counted WER over MAX_PROMPT_WER), when content words differ (substituted or dropped,
    or heard surely in the wav but missing from the transcript) in more places than one
    slip explains (MAX_SLIPS), or when one place that differs was heard surely
    (SURE_PROBABILITY)."""
    from ..metrics.content_words import (
        content_word_errors,
        hyp_probabilities,
        is_content_word,
        rare_words,
        sounds_alike_wer,
    )
    from ..metrics.text import normalize_words, word_error

    if not normalize_words(heard.text):
        return Mismatch(heard.text, "no words were heard in the wav", 1.0)
    wer = word_error(given, heard.text)
    probs = hyp_probabilities(wer.hyp_words, [(w.text, w.probability) for w in heard.words])
    counted = sounds_alike_wer(wer)
    content = content_word_errors(wer, probs, rare=rare_words(given))
    # words the wav says that the transcript leaves out: content words heard with confidence
    extra = [p["hyp"] for p in wer.pairs if p["op"] == "insert" and is_content_word(p["hyp"])
             and (probs[p["hyp_index"]] or 0.0) >= SURE_PROBABILITY]
    differ = len(content.errors) + len(extra)  # places, not words: one mishearing spans several
    sure = [e for e in content.errors
            if e["probability"] is None or e["probability"] >= SURE_PROBABILITY] or extra
    if counted.wer <= MAX_PROMPT_WER and (differ <= MAX_SLIPS and not (differ and sure)):
        return None
    what = []
    if content.count:
        what.append(content.describe())
    if extra:
        what.append("heard but not in the transcript: " + ", ".join(f"“{w}”" for w in extra))
    if counted.wer > MAX_PROMPT_WER:
        what.append(f"{counted.errors} of its {len(wer.ref_words)} words differ")
    what.append(f"diff: {wer.diff()}")
    return Mismatch(heard.text, "; ".join(what), round(counted.wer, 4))
