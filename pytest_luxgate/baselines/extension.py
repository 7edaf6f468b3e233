"""The syrupy extension: one readable JSON file per cell, compared with tolerances instead of equality."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from syrupy.data import SnapshotCollections
from syrupy.extensions.json import JSONSnapshotExtension

from .compare import Comparison, compare
from .spec import BaselineOptions, tolerances_for

if TYPE_CHECKING:
    from syrupy.location import PyTestLocation


class BaselineExtension(JSONSnapshotExtension):
    """One readable JSON file per cell, compared with tolerances instead of equality.

    `check_baseline` sets `tolerances` and `update` on the instance before the
    assertion; `matches` leaves the comparison in `last` for the message.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tolerances: dict[str, dict[str, float]] = tolerances_for(BaselineOptions(), {})
        self.update = False
        self.last: Comparison | None = None

    def serialize(self, data: Any, **_: Any) -> str:
        # key order is the file's reading order (cell, conditions, metrics ...), not alphabetical
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        try:
            base, now = json.loads(snapshot_data), json.loads(serialized_data)
        except (TypeError, ValueError) as exc:
            self.last = Comparison("unreadable", reasons=[f"not valid JSON ({exc})"])
            return False
        self.last = compare(base, now, self.tolerances)
        if self.update:
            # --snapshot-update: rewrite whenever a compared number moved at all, so a
            # team can ratchet; recorded_with alone never causes a rewrite
            keys = ("luxgate_baseline", "cell", "conditions", "metrics", "transcript")
            return all(base.get(k) == now.get(k) for k in keys)
        return self.last.ok

    def discover_snapshots(self, *, test_location: PyTestLocation,
                           ignore_extensions: list[str] | None = None) -> SnapshotCollections:
        """syrupy's discovery, minus the baselines this run leaves out on purpose.

        A run of other stacks, a `--luxgate-scenario` subset, another prompts
        file or another platform tag does not use those cells' baselines;
        syrupy would call them unused (failing the run, deleting them under
        --snapshot-update). A baseline of a scenario that no longer exists
        stays in view, so syrupy reports and cleans it as usual.
        """
        found = super().discover_snapshots(test_location=test_location, ignore_extensions=ignore_extensions)
        scope = _run_scope(test_location)
        if scope is None:
            return found
        kept = SnapshotCollections()
        for collection in found:
            if _in_scope(collection.location, scope):
                kept.add(collection)
        return kept


@dataclass(frozen=True)
class Scope:
    """Which cells' baselines this run uses: the plugin puts one in ``config.stash[SCOPE_KEY]``
    once its matrix is known, so the extension never reaches into the session."""

    stacks: frozenset[str]
    prompts: frozenset[str]
    selected: frozenset[str]
    known: frozenset[str]
    platform: str | None


SCOPE_KEY = pytest.StashKey[Scope]()


def _run_scope(test_location: PyTestLocation) -> Scope | None:
    config = getattr(test_location.item, "config", None)
    if config is None:  # an item rebuilt from an xdist worker's report: nothing to narrow
        return None
    return config.stash.get(SCOPE_KEY, None)


def _in_scope(location: str, scope: Scope) -> bool:
    try:
        cell = json.loads(Path(location).read_text(encoding="utf-8"))["cell"]
        stack, prompt, scenario, plat = cell["stack"], cell["prompt"], cell["scenario"], cell.get("platform")
    except (OSError, ValueError, KeyError, TypeError):
        return True  # not one of ours, or broken: syrupy decides
    if stack not in scope.stacks or prompt not in scope.prompts or plat != scope.platform:
        return False
    return scenario in scope.selected or scenario not in scope.known


