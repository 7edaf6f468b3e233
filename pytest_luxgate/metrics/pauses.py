"""Unnatural pauses: silent gaps inside speech that the text's punctuation does not explain.

LuxTTS users hear an audible pause in the middle of a phrase, where the text
has no comma or full stop. WER cannot see it (the words are all there), so this
measures it directly:

1. :func:`silent_gaps` - runs of 10 ms windows quieter than `silence_db` below
   the loudest window, at least `min_gap_s` long, with sound on both sides
   (leading and trailing silence belong to the start/tail checks).
2. Each gap is placed between two heard words (ASR word timestamps, compared
   by midpoint so a word whose end the ASR stretched into the pause still
   counts as the word before it), and the heard words are aligned to the
   reference text (difflib on lower-cased letters and digits), so the gap
   knows which written words it falls between.
3. A gap is *explained* when the reference has a punctuation mark between
   those written words ("," ";" ":" "." "!" "?" "…" dashes, brackets,
   quotes). Only unexplained gaps can fail the check.

Pure functions of (audio, rate, words, text); no models.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any

import numpy as np

from ..core.types import Word
from .level import ROOM_MARGIN_DB, db, window_rms

#: a window this far below the loudest 10 ms window counts as silence. Speech
#: inside a word stays within ~35 dB of the peak (even the closure of a stop
#: carries voicing or aspiration); a real pause falls to the noise floor of
#: the synthesiser (Piper: < -60 dB, espeak-ng: digital zero). See CALIBRATION.md.
SILENCE_DB = -45.0
#: shorter silences are not recorded at all (stop closures run 30-80 ms)
MIN_GAP_S = 0.08
WIN_S, HOP_S = 0.01, 0.005

DEFAULTS: dict[str, float] = {
    # longest silent gap allowed where the text has no punctuation: clean
    # speech (Piper length_scale 0.75-1.6, espeak-ng 80-200 wpm) reads at most
    # 0.22 s (a stop closure in very slow Piper speech, p95 0.12 s), an
    # inserted 0.3 s gap reads 0.3 s (docs/CALIBRATION.md, "Listener checks")
    "pause_gap_s": 0.25,
}

#: punctuation that licenses a pause at a word boundary
#: (single quotes are left out: "dogs'" and "'cause" are words, not pauses)
_MARKS = frozenset(",;:.!?…—–-()[]\"“”/")
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Gap:
    """One silent gap between two stretches of sound."""

    start: float
    end: float
    before: str | None      # heard word before the gap (None: no word before)
    after: str | None       # heard word after the gap
    mark: str               # the punctuation in the text at that boundary ("" none)
    explained: bool

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 3)

    def words(self) -> str:
        b = f"“{self.before}”" if self.before else "the start"
        a = f"“{self.after}”" if self.after else "the end"
        return f"between {b} and {a}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "duration": self.duration}


@dataclass(frozen=True)
class PauseMetrics:
    gaps: tuple[Gap, ...]
    silence_db: float
    min_gap_s: float

    @property
    def inner(self) -> list[Gap]:
        """Gaps between two heard words (pauses inside the take, not its edges)."""
        return [g for g in self.gaps if g.before and g.after]

    @property
    def unexplained(self) -> list[Gap]:
        return [g for g in self.gaps if not g.explained]

    @property
    def longest_unexplained(self) -> Gap | None:
        return max(self.unexplained, key=lambda g: g.duration, default=None)

    @property
    def longest_unexplained_s(self) -> float:
        g = self.longest_unexplained
        return 0.0 if g is None else g.duration

    def to_dict(self) -> dict[str, Any]:
        return {"gaps": [g.to_dict() for g in self.gaps], "silence_db": self.silence_db,
                "min_gap_s": self.min_gap_s, "longest_unexplained_s": self.longest_unexplained_s}


def silent_gaps(audio: np.ndarray, sample_rate: int, *, silence_db: float = SILENCE_DB,
                min_gap_s: float = MIN_GAP_S, room_dbfs: float | None = None) -> list[tuple[float, float]]:
    """(start, end) in seconds of every silence of at least `min_gap_s` with
    sound on both sides. Silence: 10 ms windows (5 ms hop) at least
    `silence_db` below the loudest window, or within ROOM_MARGIN_DB of the
    recording's own steady background `room_dbfs` (level.background_dbfs) where
    that is higher: in a room the pause sounds like the room, not like nothing."""
    times, rms = window_rms(audio, sample_rate, WIN_S, HOP_S)
    if rms.size == 0 or rms.max() <= 0:
        return []
    level = db(rms)
    floor = level.max() + silence_db
    if room_dbfs is not None:
        floor = max(floor, room_dbfs + ROOM_MARGIN_DB)
    loud = level > floor
    idx = np.nonzero(loud)[0]
    if idx.size < 2:
        return []
    out = []
    # consecutive loud windows further apart than one hop enclose a silent run
    for a, b in pairwise(idx):
        if b - a < 2:
            continue
        # window a is loud and a+1 (a hop later) silent, so the sound ends inside
        # the first hop of window a; likewise it resumes inside the last hop of
        # window b. Mid-hop estimates leave no bias (an inserted 0.3 s gap reads 0.3 s).
        start = times[a] + HOP_S / 2
        end = times[b] + WIN_S - HOP_S / 2
        if end - start >= min_gap_s - 1e-9:
            out.append((round(float(start), 3), round(float(end), 3)))
    return out


def _norm(token: str) -> str:
    return re.sub(r"[^\w']|_", "", token.lower()).strip("'")


def _reference(text: str) -> tuple[list[str], list[str]]:
    """Written words (normalised) and, for each, the punctuation right after it
    (its own trailing marks plus leading marks of the next token, and marks
    standing alone between words such as " — ")."""
    words: list[str] = []
    after: list[str] = []
    for tok in _TOKEN.findall(text):
        core = _norm(tok)
        if not core:  # a mark on its own ("—", "...")
            if after:
                after[-1] += tok
            continue
        lead = tok[: len(tok) - len(tok.lstrip("".join(_MARKS)))]
        if lead and after:
            after[-1] += lead
        words.append(core)
        trail = tok[len(tok.rstrip("".join(_MARKS))):]
        after.append(trail)
    # "don't" keeps its apostrophe inside the word; only marks at word edges count
    return words, ["".join(ch for ch in a if ch in _MARKS) for a in after]


def _hyp_to_ref(ref: Sequence[str], hyp: Sequence[str]) -> list[int]:
    """For each heard word, the index of the written word it stands for
    (equal runs map one to one, substituted runs proportionally, inserted
    words to the written word before them)."""
    out = [0] * len(hyp)
    sm = SequenceMatcher(None, list(ref), list(hyp), autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        for j in range(j1, j2):
            if op == "equal":
                out[j] = i1 + (j - j1)
            elif op == "replace":
                out[j] = i1 + min(i2 - i1 - 1, (j - j1) * (i2 - i1) // (j2 - j1))
            else:  # insert: no written word; the one before it
                out[j] = max(0, i1 - 1)
    return out


def pause_metrics(audio: np.ndarray, sample_rate: int, words: Sequence[Word], text: str, *,
                  silence_db: float = SILENCE_DB, min_gap_s: float = MIN_GAP_S,
                  room_dbfs: float | None = None) -> PauseMetrics:
    """Every inner silent gap, with the heard words either side and whether the
    text's punctuation between them explains it (`room_dbfs`: see silent_gaps)."""
    gaps = silent_gaps(audio, sample_rate, silence_db=silence_db, min_gap_s=min_gap_s, room_dbfs=room_dbfs)
    heard = [w for w in words if _norm(w.text)]
    ref, marks = _reference(text)
    mapping = _hyp_to_ref(ref, [_norm(w.text) for w in heard]) if ref and heard else []
    mids = [(w.start + w.end) / 2 for w in heard]
    out = []
    for start, end in gaps:
        centre = (start + end) / 2
        i_after = next((i for i, m in enumerate(mids) if m > centre), len(heard))
        i_before = i_after - 1
        before = heard[i_before].text.strip() if i_before >= 0 else None
        after = heard[i_after].text.strip() if i_after < len(heard) else None
        if before is None or after is None:
            # before the first or after the last heard word: an edge (start/tail
            # checks), or speech the ASR did not hear (wer); not a pause in a phrase
            out.append(Gap(start, end, before, after, "", True))
            continue
        r0, r1 = mapping[i_before], mapping[i_after]
        mark = "".join(marks[k] for k in range(r0, max(r0 + 1, r1)) if k < len(marks))
        out.append(Gap(start, end, before, after, mark, bool(mark)))
    return PauseMetrics(tuple(out), silence_db, min_gap_s)
