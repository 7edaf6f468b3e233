"""The matrix: which (stack, prompt, scenario) cells a run holds."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .prompts import Prompt
from .scenarios import Scenario

#: prompt id used for stacks with one fixed voice (their cells are not multiplied per prompt)
OWN_VOICE = "own_voice"


@dataclass(frozen=True)
class Cell:
    stack: str
    prompt: str
    scenario: str

    @property
    def id(self) -> str:
        """Reads like the matrix: ``piper-own_voice-numbers_symbols``."""
        return f"{self.stack}-{self.prompt}-{self.scenario}"

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.prompt}/{self.scenario}"


def build_matrix(stacks: list[tuple[str, bool]], prompts: list[Prompt],
                 scenarios: list[Scenario]) -> list[Cell]:
    """Cells for every stack; `stacks` holds (name, clones_voice)."""
    cells: list[Cell] = []
    for stack, clones in stacks:
        voices = [p.id for p in prompts] if clones else [OWN_VOICE]
        cells += [Cell(stack, v, s.id) for v in voices for s in scenarios]
    return cells


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: names Windows reserves whatever the extension (a file "con.wav" cannot be created there)
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name-safe, collision-free form of an id (ids come from user data).

    Only ``A-Za-z0-9._-`` survive, never a leading dot (no ``..``, no hidden
    files), at most `limit` characters. Any id that had to change, has capital
    letters (macOS and Windows file systems ignore case, so ``Intro`` and
    ``intro`` would be one file) or is a reserved device name gets a short hash
    of the original id appended, so distinct ids never share a file.
    """
    import hashlib

    cleaned = _UNSAFE.sub("_", text).strip("._") or "x"
    if (cleaned != text or len(cleaned) > limit or cleaned != cleaned.lower()
            or _RESERVED.match(cleaned)):
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        cleaned = f"{cleaned[:limit]}-{digest}"
    return cleaned


def cell_param(item: Any) -> tuple[int, Cell] | None:
    """A gate test's ``luxgate_cell`` parameter, (matrix order, cell); None for any other test."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or "luxgate_cell" not in callspec.params:
        return None
    return callspec.params["luxgate_cell"]
