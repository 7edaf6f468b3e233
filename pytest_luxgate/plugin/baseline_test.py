"""`test_baseline`'s pytest glue: the snapshot fixture and the verdict (pass, skip or fail) of one cell."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from syrupy.exceptions import SnapshotDoesNotExist, TaintedSnapshotError

from ..baselines.compare import Comparison, compare, regression_message
from ..baselines.entry import entry_from_record
from ..baselines.extension import BaselineExtension
from ..baselines.spec import BaselineOptions, tolerances_for

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion

    from .handle import CellHandle



@pytest.fixture
def luxgate_snapshot(request: pytest.FixtureRequest) -> SnapshotAssertion:
    """syrupy's `snapshot`, built with BaselineExtension from the start.

    Not `snapshot.use_extension(...)`: the plain fixture would register an
    assertion of syrupy's default (amber) extension too, whose discovery
    claims every other file under ``__snapshots__`` as an unknown collection,
    so baselines a run leaves out on purpose would be reported unused and
    deleted by --snapshot-update.
    """
    from syrupy.assertion import SnapshotAssertion
    from syrupy.location import PyTestLocation

    syrupy_session = getattr(request.config, "_syrupy", None)
    if syrupy_session is None:
        pytest.skip("baselines need the syrupy plugin, which is disabled (-p no:syrupy)")
    return SnapshotAssertion(update_snapshots=request.config.option.update_snapshots,
                             update_new_snapshots_only=request.config.option.update_new_snapshots_only,
                             extension_class=BaselineExtension, test_location=PyTestLocation(request.node),
                             session=syrupy_session)


def check_baseline(handle: CellHandle, snapshot: SnapshotAssertion) -> dict[str, Any]:
    """`test_baseline`: compare the cell with its baseline; fail, skip or pass with a note."""
    cell, lux = handle.cell, handle.session
    options: BaselineOptions = lux.cfg.baseline
    scenario = lux.runner.scenarios[cell.scenario]
    entry = entry_from_record(
        handle.outcome.record, options,
        scenario={"params": scenario.params, "chunking": scenario.chunking},
        run={"params": lux.cfg.params, "chunking": lux.cfg.chunking.to_dict()})
    snap = snapshot if isinstance(snapshot.extension, BaselineExtension) \
        else snapshot.use_extension(BaselineExtension)
    if options.platform:
        snap = snap(name=options.platform)  # file: test_baseline[<cell>][<platform>].json
    ext = snap.extension
    assert isinstance(ext, BaselineExtension)
    ext.tolerances = tolerances_for(options, getattr(scenario, "baseline", {}) or {})
    ext.update = bool(snap.update_snapshots)
    location = _shown(ext.get_location(test_location=snap.test_location, index=snap.index), lux.cfg.rootdir)

    if not ext.update:
        # decide skips before asserting: a skipped test's snapshot is not "unused" to syrupy,
        # while a failed assertion would be counted as a failed snapshot
        try:
            stored = snap.session.recall_snapshot(ext, snap.test_location, snap.index)
        except SnapshotDoesNotExist:
            stored = None
        except TaintedSnapshotError:
            stored = "{}"
        if stored is None and not snap.update_new_snapshots_only:  # new-only: syrupy records it
            return _not_compared(handle, "missing", location, [], options.required,
                                 f"no baseline for this cell yet ({location}); record one with "
                                 "--snapshot-update and commit it")
        try:
            pre = compare(json.loads(stored), entry, ext.tolerances) if stored is not None else None
        except ValueError:
            pre = Comparison("unreadable")
        if pre is not None and pre.status in ("stale", "incomparable"):
            why = "; ".join(pre.reasons)
            if pre.status == "stale":
                text = (f"the baseline is for another version of this cell ({why}); "
                        f"re-record it with --snapshot-update ({location})")
            else:
                text = (f"not comparable with the baseline, which was measured differently ({why}); "
                        f"run with the baseline's settings, or re-record with --snapshot-update ({location})")
            return _not_compared(handle, pre.status, location, pre.reasons,
                                 options.required and pre.status == "stale", text)

    matched = snap == entry
    result = snap.executions[snap.num_executions - 1]
    cmp = ext.last or Comparison("created")
    if result.created:
        status = "created"
    elif result.updated:
        status = "updated"
    else:
        status = cmp.status
    section = {"status": status, "file": location, "platform": options.platform,
               "deltas": {d.metric: d.to_dict() for d in cmp.deltas}}
    if cmp.reasons:
        section["reasons"] = cmp.reasons
    if cmp.transcript:
        section["transcript"] = {"baseline": cmp.transcript[0], "now": cmp.transcript[1]}
    handle.outcome.record["baseline"] = section
    if matched:
        note = _note(status, cmp, location)
        _send_verdict(handle, True, note, section)
        return section
    if cmp.status == "unreadable" or result.exception is not None:
        why = "; ".join(cmp.reasons) or repr(result.exception)
        message = (f"the baseline file {location} cannot be used ({why}); fix it, or delete it and "
                   "re-record with --snapshot-update")
    else:
        message = regression_message(cmp, location)
    _send_verdict(handle, False, message, section)
    pytest.fail(f"[{cell.id}] baseline: {message}", pytrace=False)
    raise AssertionError  # unreachable: pytest.fail raises


def _send_verdict(handle: CellHandle, passed: bool, message: str, section: dict[str, Any]) -> None:
    handle._send(check={"name": "baseline", "passed": passed, "value": None, "threshold": None,
                        "message": message, "details": section})


def _not_compared(handle: CellHandle, status: str, location: str, reasons: list[str],
                  fail: bool, text: str) -> dict[str, Any]:
    section = {"status": status, "file": location, "platform": handle.session.cfg.baseline.platform,
               "deltas": {}, "reasons": reasons}
    handle.outcome.record["baseline"] = section
    if fail:
        message = text + " (--luxgate-baseline-required)"
        _send_verdict(handle, False, message, section)
        pytest.fail(f"[{handle.cell.id}] baseline: {message}", pytrace=False)
    handle._send(skipped_check=("baseline", text))
    pytest.skip(f"[{handle.cell.id}] baseline: {text}")
    raise AssertionError  # unreachable


def _note(status: str, cmp: Comparison, location: str) -> str:
    if status == "created":
        return f"baseline recorded: {location}"
    if status == "updated":
        return f"baseline re-recorded: {location}"
    if status == "improved":
        return ("better than the baseline (re-record with --snapshot-update to keep the gain): "
                + "; ".join(d.text() for d in cmp.better()))
    return "within tolerance of the baseline"


def _shown(location: str, root: Path) -> str:
    try:
        return str(Path(location).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return location


