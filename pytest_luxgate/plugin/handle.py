"""What a gate test gets: a handle on its cell that runs checks and records the verdicts."""
from __future__ import annotations

from typing import Any

import pytest

from ..judging.checks import CHECKS, CheckNotApplicable
from ..matrix.cells import Cell
from .session import PROPERTY, LuxgateSession


class CellHandle:
    """What a gate test gets: runs checks on its cell and records the verdicts."""

    def __init__(self, session: LuxgateSession, cell: Cell, order: int, node: pytest.Item) -> None:
        self.session, self.cell, self.order, self.node = session, cell, order, node
        self.outcome = session.runner.outcome(cell)

    def _send(self, **extra: Any) -> None:
        """Attach the cell record (plus `extra`) to this test's report for the controller."""
        self.node.user_properties.append((PROPERTY, {
            "cell": self.cell.key, "order": self.order, "record": self.outcome.record, **extra}))

    def check(self, name: str) -> dict[str, Any]:
        if CHECKS[name].needs == "seams":
            self.skip_without_seams()
        try:
            result = self.session.runner.check(self.cell, name)
        except CheckNotApplicable as exc:  # e.g. voice on a stack that does not clone; extra missing
            self._send(skipped_check=(name, str(exc)))
            pytest.skip(f"[{self.cell.id}] {name}: {exc}")
        self._send(check=result)
        if not result["passed"]:
            pytest.fail(f"[{self.cell.id}] {name}: {result['message']}", pytrace=False)
        return result

    def baseline(self, snapshot: Any) -> dict[str, Any]:
        """Compare this cell's metrics with its committed baseline (a syrupy snapshot)."""
        from .baseline_test import check_baseline

        return check_baseline(self, snapshot)

    def skip_without_seams(self) -> None:
        """Skip (with the reason) a check that needs chunk joins when this take has none."""
        take, opts = self.outcome.take, self.outcome.chunking
        if take.seams:
            return
        if not opts.enabled:
            why = "--luxgate-chunk-chars=0" if not self.session.cfg.chunking.enabled \
                else "the scenario's [chunking] max_chars = 0"
            reason = f"no seams: chunking is off ({why})"
        else:
            reason = f"no seams: the text ({len(take.text)} characters) fits one chunk of at most {opts.max_chars}"
        # the record still travels, so a run of only this test reports the cell (as skipped)
        self._send(skipped_check=("seams", reason))
        pytest.skip(f"[{self.cell.id}] {reason}")


