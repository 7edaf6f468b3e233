"""Long text into chunks one TTS pass speaks well: sentences, then phrases, then words.

Why chunk at all: long input is where the matrix failed most (duration
prediction drifts, words are dropped or repeated), and LuxTTS users hear an
unnatural mid-phrase pause once a single pass exceeds about 100 characters.
So text longer than `max_chars` is cut where a reader pauses anyway:

1. sentences, by pysbd (a maintained rule-based segmenter that already knows
   "p.m.", "Dr.", "12.5", "8,472" and ellipses are not sentence ends);
2. a sentence still longer than `max_chars` is cut into phrases after , ; :
   dashes and mid-sentence ellipses that are followed by a space, so a
   thousands separator ("8,472") or a time ("5:30") is never a cut;
3. only a single phrase longer than `max_chars` is cut between words, into
   parts of near-equal length, never right after an abbreviation.

Pieces are then packed greedily (in order) into chunks of at most
`max_chars`, so short sentences travel together and a text that fits is
never cut. Everything is a pure function of (text, max_chars).
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from itertools import accumulate
from typing import Any, Mapping

from .joining import DEFAULT_CROSSFADE_S

#: LuxTTS passes longer than ~100 characters get an audible mid-phrase pause,
#: so no pass is longer; of the standard scenarios short_plain (31 characters)
#: and punctuation_pauses (96) stay one pass, the other three are chunked.
DEFAULT_MAX_CHARS = 100
DEFAULT_CROSSFADE_MS = DEFAULT_CROSSFADE_S * 1000.0
MAX_CROSSFADE_MS = 200.0

# a phrase ends after these when a space follows (so "8,472" and "5:30" never do)
_PHRASE_END = re.compile(r"(?<=[,;:\u2014\u2013\u2026])\s+|(?<=\.\.\.)\s+(?=[a-z])|(?<=\s[-\u2013\u2014])\s+")
_DOTTED = re.compile(r"^(?:[A-Za-z]\.){2,}$")  # p.m., U.S., e.g.


@dataclass(frozen=True)
class ChunkingOptions:
    """How long text is chunked and joined; max_chars 0 = one pass (off)."""

    max_chars: int = DEFAULT_MAX_CHARS
    crossfade_ms: float = DEFAULT_CROSSFADE_MS

    def __post_init__(self) -> None:
        validate_chunking(asdict(self))

    @property
    def enabled(self) -> bool:
        return self.max_chars > 0

    def overridden(self, table: Mapping[str, Any]) -> "ChunkingOptions":
        """These options with a scenario's [chunking] table laid over them."""
        return replace(self, **validate_chunking(table))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_chunking(table: Mapping[str, Any]) -> dict[str, Any]:
    """Check a [chunking] table (or option values); return it typed."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key == "max_chars":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"chunking max_chars must be an integer >= 0 (0 = off), got {value!r}")
            out[key] = value
        elif key == "crossfade_ms":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0 <= value <= MAX_CROSSFADE_MS:
                raise ValueError(f"chunking crossfade_ms must be a number from 0 to {MAX_CROSSFADE_MS:g}, "
                                 f"got {value!r}")
            out[key] = float(value)
        else:
            raise ValueError(f"unknown chunking key {key!r}; known: max_chars, crossfade_ms")
    return out


def split_text(text: str, max_chars: int) -> list[str]:
    """The chunks to synthesize one by one, in order; [text] when it fits or max_chars <= 0."""
    text = " ".join(text.split())
    if not text:
        return []
    if max_chars <= 0 or len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    for sentence in _sentences(text):
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
        for phrase in _PHRASE_END.split(sentence):
            pieces += [phrase] if len(phrase) <= max_chars else _split_words(phrase, max_chars)
    return _pack([p for p in pieces if p], max_chars)


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    from pysbd.lang.english import English

    abbr = English.Abbreviation
    return frozenset(a.lower() for a in (*abbr.ABBREVIATIONS, *abbr.PREPOSITIVE_ABBREVIATIONS,
                                          *abbr.NUMBER_ABBREVIATIONS))


def _breakable_after(token: str) -> bool:
    """A word boundary may follow this token (not "Dr." | "Smith", "No." | "5")."""
    if not token.endswith("."):
        return True
    return not (_DOTTED.match(token) or token[:-1].lower() in _abbreviations())


def _split_words(phrase: str, max_chars: int) -> list[str]:
    """Cut an over-long phrase between words into the fewest near-equal parts."""
    words = phrase.split(" ")
    ends = [e - 1 for e in accumulate(len(w) + 1 for w in words)]  # character end of word i
    cuts = [i for i in range(len(words) - 1) if _breakable_after(words[i])]
    for n_parts in range(math.ceil(len(phrase) / max_chars), len(words) + 1):
        chosen: list[int] = []
        start = 0
        for k in range(1, n_parts):
            ideal = k * len(phrase) / n_parts
            options = [i for i in cuts if (not chosen or i > chosen[-1]) and ends[i] - start <= max_chars]
            if not options:
                break
            i = min(options, key=lambda i: (abs(ends[i] - ideal), i))
            chosen.append(i)
            start = ends[i] + 1
        bounds = [-1, *chosen, len(words) - 1]
        parts = [" ".join(words[a + 1: b + 1]) for a, b in zip(bounds, bounds[1:])]
        if all(len(p) <= max_chars for p in parts) or len(chosen) == len(cuts):
            return [p for p in parts if p]
    return [phrase]  # pragma: no cover - the loop ends with every allowed cut taken


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks
