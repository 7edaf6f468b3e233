"""Which heard words stand for the text's first and last words, and how fast the take speaks.

Whisper may add words for garbage before or after the speech, split a word ("Lux TDS") or
spell it otherwise ("5.30pm"); the edge metrics (edges.py) need the heard words that are the
text's edges, and a speaking rate (seconds per spoken letter) to say how long a word may last.
Pure functions of the words and the text.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

import numpy as np

from ..core.types import Word

DEFAULT_S_PER_CHAR = 0.08  # speaking rate when a clip has too few words to measure it
MIN_S_PER_CHAR = 0.06      # floor for the measured rate (see speaking_rate)

_TOKEN = re.compile(r"[a-z0-9']+")


def norm_token(text: str) -> str:
    """A word as compared: lower case, letters and digits only ("LuxTTS," -> "luxtts")."""
    return "".join(_TOKEN.findall(text.lower())).replace("'", "")


_ACRONYM = re.compile(r"[A-Z]{2,}")


def spoken_letters(text: str) -> int:
    """Letters as a proxy for spoken length: an acronym letter ("TTS") is said
    as a syllable (~3 letters), a digit as a word (~4)."""
    core = norm_token(text)
    digits = sum(ch.isdigit() for ch in core)
    caps = sum(len(m) for m in _ACRONYM.findall(text))
    return max(1, len(core) + 3 * digits + 2 * caps)


def anchors(words: Sequence[Word], expected_text: str | None,
             sizes: Sequence[int]) -> tuple[int, int, bool, dict[int, int]]:
    """Indices of the ASR words standing for the first and last expected words.

    Exact token matches anchor the alignment (difflib keeps the longest common
    run, so words invented for garbage rarely steal it). Expected words before
    the first match (or after the last) that were misheard are covered by the
    ASR words next to the match, as long as those hold about as many letters
    ("LuxTTS" heard as "Lux TDS"); ASR words beyond that are extra, i.e. what
    the garbage sounded like. Without expected text: the first and last words.
    The flag is False when expected text was given and not one word of it was
    heard: then the words say nothing about where the speech is. The dict maps
    id(edge word) to the spoken letters of the expected words it stands for,
    when that is more than its own (digits, misheard multi-word spans).
    `sizes`: the words' `spoken_letters`.
    """
    n = len(words)
    if n == 0:
        return 0, 0, False, {}
    tokens = [(x, norm_token(x)) for x in (expected_text or "").split()]
    raw = [x for x, core in tokens if core]
    if not raw:
        return 0, n - 1, True, {}
    exp = [core for _, core in tokens if core]
    asr = [norm_token(w.text) for w in words]
    blocks = [b for b in difflib.SequenceMatcher(a=exp, b=asr, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return 0, n - 1, False, {}
    i0, j0 = blocks[0].a, blocks[0].b
    i1, j1 = blocks[-1].a + blocks[-1].size - 1, blocks[-1].b + blocks[-1].size - 1
    lead_letters = sum(spoken_letters(x) for x in raw[:i0])
    trail_letters = sum(spoken_letters(x) for x in raw[i1 + 1:])
    first = _cover(sizes, range(j0 - 1, -1, -1), lead_letters, j0)
    last = _cover(sizes, range(j1 + 1, n), trail_letters, j1)
    if first > last:
        return 0, n - 1, True, {}
    # what the unmatched edge words must still say, beyond the other words there
    edge = {}
    if first < j0:
        edge[id(words[first])] = lead_letters - sum(sizes[first + 1:j0])
    if last > j1:
        edge[id(words[last])] = trail_letters - sum(sizes[j1 + 1:last])
    return first, last, True, edge


def _cover(sizes: Sequence[int], order: range, letters: int, start: int) -> int:
    """Walk from a matched word over neighbours while their (spoken) letters fit
    into `letters` (slack for spelling and splitting: 1.2x + 1, enough for
    "LuxTTS" heard as "Lux TDS", not for "bank" heard as "mike, in"); return
    the last index taken."""
    if letters == 0:
        return start
    budget, got, idx = 1.2 * letters + 1, 0, start
    for j in order:
        got += sizes[j]
        if got > budget:
            break
        idx = j
    return idx


def speaking_rate(words: Sequence[Word], first: int, last: int, sizes: Sequence[int]) -> float:
    """Seconds per letter from the words between the anchors (their Whisper times
    are reliable), median so one stretched word does not skew it. `sizes`: the
    words' `spoken_letters`."""
    inner = [(w, k) for w, k in zip(words[first + 1:last], sizes[first + 1:last]) if k >= 2 and w.end > w.start]
    if len(inner) < 2:
        return DEFAULT_S_PER_CHAR
    rates = [(w.end - w.start) / k for w, k in inner]
    # floor: inner words are often quick function words ("how are you") while the
    # edge words are stressed and lengthened; below 0.06 s/letter the cap got too tight
    return float(np.clip(np.median(rates), MIN_S_PER_CHAR, 0.16))
