"""Chunk takes into one take: inner silences trimmed to a natural pause, then an
equal-power crossfade at every join.

Each chunk a stack speaks carries its own lead-in and tail silence, so plain
concatenation doubles every pause. Here each inner edge is cut back to the
chunk's sound (energy more than SILENCE_DB below the chunk's loud level)
plus half the wanted pause, and neighbours overlap by the crossfade: the gap
between the last sound of one chunk and the first of the next is exactly the
pause. The first chunk's start and the last chunk's end are left as the stack
made them, so the start and tail checks still judge the stack's own edges.

The pause follows the text: Piper, speaking a long text in one pass, leaves
0.23-0.40 s at commas and 0.25-0.30 s between sentences (length_scale 1.0,
measured in docs/SEAMS.md); read human speech pauses longer between sentences
than within them. A cut between words (a phrase too long for one pass) gets
only a breath-free word gap.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..metrics.level import db, window_rms

SENTENCE_PAUSE_S = 0.35
PHRASE_PAUSE_S = 0.25
WORD_PAUSE_S = 0.06
#: long enough to span 2-3 pitch periods of a low voice (no click), short
#: enough not to blur a phoneme (vowels last 50-150 ms); joins sit in pauses,
#: so the fade mostly covers the two chunks' quiet edges anyway
DEFAULT_CROSSFADE_S = 0.03
#: below the chunk's loud level (95th percentile of 10 ms windows) = silence;
#: low enough to keep soft fricative and breathy word endings as sound
SILENCE_DB = -40.0

_SENTENCE_END = ".!?\u2026"
_PHRASE_END = ",;:\u2014\u2013-"
_CLOSERS = "\"')]}\u201d\u2019"


def pause_after(text: str) -> float:
    """The pause that follows a chunk ending with this text, in seconds."""
    end = text.rstrip().rstrip(_CLOSERS)[-1:]
    if end and end in _SENTENCE_END:
        return SENTENCE_PAUSE_S
    if end and end in _PHRASE_END:
        return PHRASE_PAUSE_S
    return WORD_PAUSE_S


def sound_bounds(audio: np.ndarray, rate: int) -> tuple[int, int]:
    """[first, last) sample of the chunk's sound; the whole chunk if it is all quiet."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    win = max(1, int(round(0.01 * rate)))
    _, rms = window_rms(x, rate, 0.01, 0.005)
    if rms.size == 0 or rms.max() <= 0:
        return 0, len(x)
    level = db(rms)
    floor_db = np.percentile(level, 95) + SILENCE_DB
    loud = np.nonzero(level >= floor_db)[0]
    hop = max(1, int(round(0.005 * rate)))
    # to the sample: the first/last sample inside the edge windows that reaches the floor
    loud_samples = np.abs(x) >= 10 ** (floor_db / 20)
    a = loud[0] * hop
    first = a + int(np.argmax(loud_samples[a: a + win])) if loud[0] > 0 else 0
    b = min(len(x), loud[-1] * hop + win)
    last = len(x) if loud[-1] == len(rms) - 1 else b - int(np.argmax(loud_samples[a:b][::-1]))
    return first, last


def join(chunks: Sequence[np.ndarray], rate: int, *, crossfade_s: float = DEFAULT_CROSSFADE_S,
         pauses_s: float | Sequence[float] = PHRASE_PAUSE_S) -> tuple[np.ndarray, list[float]]:
    """Join chunk takes; return (audio, seam times in seconds at each crossfade's centre).

    `pauses_s` is one pause for every join or one per join (len(chunks) - 1).
    """
    if not chunks:
        raise ValueError("join needs at least one chunk")
    parts = [np.asarray(c, dtype=np.float32).reshape(-1) for c in chunks]
    if len(parts) == 1:
        return parts[0], []
    pauses = [float(pauses_s)] * (len(parts) - 1) if np.isscalar(pauses_s) else [float(p) for p in pauses_s]
    if len(pauses) != len(parts) - 1:
        raise ValueError(f"{len(parts)} chunks need {len(parts) - 1} pauses, got {len(pauses)}")
    if crossfade_s < 0 or min(pauses) < 0:
        raise ValueError("crossfade and pauses must be >= 0 seconds")
    fade = int(round(crossfade_s * rate))
    pieces = []
    for i, x in enumerate(parts):
        first, last = sound_bounds(x, rate)
        # half the pause plus half the overlap on each side of a join, so the
        # gap between the two chunks' sounds is the pause itself
        lead = int(round((pauses[i - 1] * rate + fade) / 2)) if i > 0 else first
        tail = int(round((pauses[i] * rate + fade) / 2)) if i < len(parts) - 1 else len(x) - last
        piece = x[max(0, first - lead): last + tail]
        # a stack that leaves less silence than the pause needs gets digital silence added
        piece = np.concatenate([np.zeros(max(0, lead - first), np.float32), piece,
                                np.zeros(max(0, last + tail - len(x)), np.float32)])
        pieces.append(piece)
    fade = min([fade, *(len(p) for p in pieces)])
    theta = (np.arange(fade) + 0.5) / max(fade, 1) * (np.pi / 2)
    fade_out, fade_in = np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)
    out, seams = pieces[0], []
    for piece in pieces[1:]:
        cut = len(out) - fade
        overlap = out[cut:] * fade_out + piece[:fade] * fade_in
        seams.append((cut + fade / 2) / rate)
        out = np.concatenate([out[:cut], overlap, piece[fade:]])
    return out.astype(np.float32), seams
