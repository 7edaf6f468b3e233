"""The run's verdict from its cells: pass only when every cell the run asked for was judged on
every check and passed.

A release gate must never say PASS for what it did not judge, so the verdict has four values
(report.json ``run.verdict``; ``run.passed`` is true only for "pass"):

* ``fail``: a cell failed a check, errored (its stack crashed or could not load, its prompt is
  unusable, ...) or was lost, or a required stack did not run (``--luxgate-require``);
* ``incomplete``: nothing failed, but cells the run asked for were not judged: the run was
  interrupted, a stack could not run here (missing weights or package), or no cell was judged;
* ``partial``: nothing failed and every selected cell was judged, but the selection (``-k``,
  ``--deselect``, ``--luxgate-shard``, a test module without every gate test) left cells or
  checks of the matrix out: a verdict on those tests, not on the matrix;
* ``pass``: every cell of the matrix judged on every check, and all passed.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: a cell's status and how the reports show it
STATUS_ICON = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️", "lost": "❓"}
#: statuses of a cell that was judged (a take, heard, with verdicts)
JUDGED = ("passed", "failed")
#: the run's verdicts, worst first, and their headline
HEADLINE = {"fail": "FAIL", "incomplete": "INCOMPLETE", "partial": "PARTIAL", "pass": "PASS"}
#: how many cell names a reason lists before "and N more"
_SHOWN = 5


@dataclass(frozen=True)
class Verdict:
    verdict: str  # fail | incomplete | partial | pass
    #: why it is not "pass", one line each (empty for a pass)
    reasons: list[str] = field(default_factory=list)
    #: cells judged (passed or failed) and cells the run asked for
    judged: int = 0
    expected: int = 0

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def headline(self) -> str:
        return HEADLINE[self.verdict]

    def line(self) -> str:
        """One line for the terminal."""
        if self.passed:
            return f"luxgate: PASS: all {self.judged} cells of the matrix judged on every check and passed"
        return f"luxgate: {self.headline}: " + "; ".join(self.reasons)

    def to_run(self) -> dict[str, Any]:
        """The fields report.json's ``run`` gets."""
        return {"verdict": self.verdict, "passed": self.passed, "verdict_reasons": list(self.reasons),
                "judged": {"cells": self.judged, "of": self.expected}}


def cell_key(cell: dict[str, Any]) -> str:
    """A report cell's key, as matrix.cells.Cell.key."""
    return f"{cell['stack']}/{cell['prompt']}/{cell['scenario']}"


def run_verdict(cells: list[dict[str, Any]], *, expected: Iterable[str] | None = None,
                checks: Iterable[str] = (), interrupted: str | None = None,
                failures: Iterable[str] = (), shard: str | None = None) -> Verdict:
    """The run's verdict.

    `expected`: the keys of the cells the run asked for (None: the cells present); `checks`:
    the checks every judged cell should have been judged on (or found not applicable to it);
    `interrupted`: why the run stopped early; `failures`: release-mode failures; `shard`: "I/N"
    when the run was one shard of the matrix (a part by design: the merge has the verdict).
    """
    fail, incomplete, partial = [], [], []
    counts = {s: sum(1 for c in cells if c.get("status") == s) for s in ("failed", "error", "lost")}
    if any(counts.values()):
        fail.append(", ".join(f"{n} cell{'s' * (n != 1)} {s}" for s, n in counts.items() if n))
    fail += list(failures)
    if interrupted:
        incomplete.append(f"the run was {interrupted}: only the cells that finished are in the report")
    unjudged: dict[tuple[str, str], int] = {}
    for c in cells:  # a stack that cannot run here: asked for, not judged
        if c.get("status") == "skipped" and not c.get("skipped_checks"):
            why = (c["stack"], str(c.get("skipped", "skipped")))
            unjudged[why] = unjudged.get(why, 0) + 1
    for (stack, why), n in unjudged.items():
        incomplete.append(f"{n} cell{'s' * (n != 1)} of stack {stack!r} not judged: {why}")
    judged = [c for c in cells if c.get("status") in JUDGED]
    if cells and not judged and not fail and not unjudged:  # -k test_baseline with no baseline, -k seams on one pass
        partial.append("no cell was judged: the selected checks did not apply to any cell")
    present = {cell_key(c) for c in cells}
    wanted = set(present if expected is None else expected)
    missing = sorted(wanted - present)
    if missing and shard and not interrupted:
        partial.append(f"shard {shard}: {len(wanted) - len(missing)} of {len(wanted)} cells of the matrix; "
                       "`luxgate merge` the shards' reports for the matrix's verdict")
    elif missing:
        shown = ", ".join(missing[:_SHOWN]) + (f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else "")
        (incomplete if interrupted else partial).append(
            f"{len(missing)} of {len(wanted)} cells of the matrix not run ({shown})")
    tried = judged + [c for c in cells if c.get("status") == "skipped" and c.get("skipped_checks")]
    unchecked = sorted({n for c in tried for n in checks
                        if n not in (c.get("checks") or {}) and n not in (c.get("skipped_checks") or {})})
    if unchecked:
        partial.append(f"checks not run on every cell: {', '.join(unchecked)}")
    verdict = "fail" if fail else "incomplete" if incomplete else "partial" if partial else "pass"
    return Verdict(verdict, fail + incomplete + partial, len(judged), len(wanted | present))


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

