"""The text forced on a take, per reference word: the content-word rule's second opinion.

Whisper hears 30 s at a time, so a longer take is forced window by window: each window
ends in the gap after a word heard right (no word is cut), and holds the text's own words
(as written: punctuation and case are part of what the model scores) from where the previous
window ended to the word heard right it ends on. A stretch with no word heard right within
reach of a window is left unscored (None), and a region there counts as heard.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..asr.base import WHISPER_WINDOW_S, Forcer
from ..core.types import Word
from ..metrics.content_words import hyp_probabilities
from ..metrics.text import WordError, word_sources

#: a window's length: Whisper's 30 s less room for its word times' error at the cut
WINDOW_S = WHISPER_WINDOW_S - 1.0

#: the most a cut lies after the last word of a window (Whisper's word ends are ~0.1 s early or late)
CUT_S = 0.1


def forced_reference(wer: WordError, words: Sequence[Word], text: str, audio: np.ndarray, rate: int,
                     force: Forcer) -> list[float | None] | None:
    """Each reference word's probability with the recogniser forced to the text on this take
    (None where unscored); None when the backend cannot force at all."""
    if len(audio) <= WINDOW_S * rate:
        got = force(audio, rate, text)
        return None if got is None else hyp_probabilities(wer.ref_words, got)
    raw = text.split()
    ref_raw = word_sources(wer.ref_words, raw)
    out: list[float | None] = [None] * len(wer.ref_words)
    asked = False
    for t0, t1, r0, r1 in windows(wer, words, len(audio) / rate):
        owned = [i for r in range(r0, r1) for i in ref_raw[r]]
        if not owned:
            continue
        got = force(audio[int(t0 * rate):int(t1 * rate)], rate, " ".join(raw[min(owned):max(owned) + 1]))
        if got is None:
            continue
        asked = True
        # the span is normalised on its own, as the whole text was: its words line up with r0..r1
        out[r0:r1] = hyp_probabilities(wer.ref_words[r0:r1], got)
    return out if asked else None


def windows(wer: WordError, words: Sequence[Word], duration_s: float,
            length_s: float = WINDOW_S) -> list[tuple[float, float, int, int]]:
    """(start s, end s, first reference index, end reference index) of consecutive windows
    of at most `length_s` covering the take, each but the last cut just after a word heard
    right (half the gap to the next heard word, at most CUT_S)."""
    heard = word_sources(wer.hyp_words, [w.text for w in words])
    anchors = []  # words heard right: (reference index, end s, where the cut goes)
    for r, h in wer.matches():
        if heard[h]:
            last = heard[h][-1]
            end = words[last].end
            after = words[last + 1].start if last + 1 < len(words) else duration_s
            anchors.append((r, end, end + min(CUT_S, max(0.0, (after - end) / 2))))
    out: list[tuple[float, float, int, int]] = []
    t0, r0 = 0.0, 0
    while r0 < len(wer.ref_words):
        if duration_s - t0 <= length_s:
            out.append((t0, duration_s, r0, len(wer.ref_words)))
            break
        fits = [(r, cut) for r, end, cut in anchors if r >= r0 and t0 < end and cut <= t0 + length_s]
        if not fits:  # no word heard right ends within reach: the rest is unscored
            break
        r, cut = fits[-1]
        out.append((t0, cut, r0, r + 1))
        t0, r0 = cut, r + 1
    return out
