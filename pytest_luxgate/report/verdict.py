"""The run's verdict from its cells: the matrix passed, and every required stack ran."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


#: a cell's status and how the reports show it
STATUS_ICON = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️", "lost": "❓"}


def release_failures(required: Iterable[str], cells: list[dict[str, Any]], sharded: bool) -> list[str]:
    """Why a release run must fail: each required stack that did not run everywhere it should."""
    out = []
    for stack in required:
        mine = [c for c in cells if c.get("stack") == stack]
        skipped = [c for c in mine if c.get("status") == "skipped"]
        if skipped:
            reasons = sorted({str(c.get("skipped", "skipped")) for c in skipped})
            out.append(f"required stack {stack!r} was skipped in {len(skipped)} of {len(mine)} cells: "
                       + "; ".join(reasons))
        elif not mine and not sharded:  # a shard may simply hold none of its cells; merge checks the whole
            out.append(f"required stack {stack!r} ran no cells (deselected by -k/-m or --luxgate-scenario?)")
    return out


def cells_pass(cells: list[dict[str, Any]]) -> bool:
    """The run's verdict from its cells: there are some, and each passed or was skipped."""
    return bool(cells) and all(c.get("status") in ("passed", "skipped") for c in cells)
