"""Plain data shared by every module: words, transcripts, speech segments.

Kept dependency-free (numpy aside) so records can cross process boundaries
(xdist workers, the CLI) as plain dicts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span in seconds."""

    text: str
    start: float
    end: float
    probability: float | None = None


@dataclass(frozen=True)
class Transcript:
    """What an ASR backend heard in one clip."""

    text: str
    words: tuple[Word, ...] = ()
    model: str = ""
    language: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Segment:
    """A stretch of detected speech, in seconds."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class TextSpan:
    """Where a forced alignment put the text in a take, in seconds: its first word's start and
    end, and its last word's start and end; and the first and last phones it aligned there
    (ARPAbet, e.g. "HH", "T")."""

    start_s: float
    end_s: float
    first_word_end_s: float
    first_phone: str = ""
    last_word_start_s: float | None = None
    last_phone: str = ""


@dataclass(frozen=True)
class CheckResult:
    """A metric turned into a verdict a person can act on."""

    name: str
    passed: bool
    value: float | None
    threshold: float | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    #: where in the audio a failing verdict points: [start s, end s or None], for the HTML
    marks: list[list[float | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.marks:  # a passing verdict points nowhere: keep its record as it was
            del out["marks"]
        return out
