"""Release-CI features, wired into the plugin by one `register` call:

* pytest-xdist: cell-grouped scheduling, per-worker thread pinning and lost
  cells (xdist_support.py);
* release mode ``--luxgate-require STACK,...``: a required stack that is
  skipped or cannot load fails the run, with the reason, in the terminal,
  report.json (``run.release_failures``) and SUMMARY.md;
* ``--luxgate-shard I/N`` (sharding.py) and the run facts ``luxgate merge``
  compares (``run.config``, ``run.shard``);
* per-cell metrics as JUnit XML properties (``--junitxml``), from the same
  plain-data records that cross from xdist workers;
* the persistent cache's size budget (cache.py), applied by the controller.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pytest

from ..matrix.cells import Cell, cell_param
from ..report.verdict import release_failures
from . import xdist as xdist_support
from .options import required_stacks, shard_option
from .sharding import Shard, assign

if TYPE_CHECKING:
    from .session import LuxgateSession

PROPERTY = "luxgate"


def junit_properties(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    """Flat JUnit properties for one test's payload: its cell, its check's verdict, the cell's metrics."""
    props: list[tuple[str, Any]] = [("luxgate.cell", payload.get("cell"))]
    check = payload.get("check")
    if check:
        props += [("luxgate.check", check.get("name")), ("luxgate.passed", check.get("passed")),
                  ("luxgate.value", check.get("value")), ("luxgate.threshold", check.get("threshold"))]
    for key in ("error", "skipped"):
        if payload.get(key):
            props.append((f"luxgate.{key}", payload[key]))
    record = payload.get("record") or {}
    if record.get("transcript") is not None:
        props.append(("luxgate.transcript", record["transcript"]))
    for name, value in (record.get("metrics") or {}).items():
        if value is not None:
            props.append((f"luxgate.metric.{name}", value))
    return props


class CIHooks:
    def __init__(self, lux: LuxgateSession, config: pytest.Config) -> None:
        self.lux, self.config = lux, config
        self.required = required_stacks(config, lux.cfg.stacks)
        self.shard: Shard | None = shard_option(config)
        self.junit = bool(getattr(config.option, "xmlpath", None))
        self.lost: list[str] = []
        self.failures: list[str] = []

    # -- sharding ---------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.shard is None:
            return
        owner = assign((c.key for c in self.lux.matrix()), self.shard.count)
        keep, drop = [], []
        for item in items:
            cell = _cell_of(item)
            (drop if cell is not None and owner[cell.key] != self.shard.index else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    # -- lost cells (a worker died) ---------------------------------------------------
    def on_lost(self, nodeid: str, reason: str) -> None:
        cells = self.lux.matrix()
        found = find_cell(nodeid, cells)
        if found is None:
            return
        order, cell = found
        self.lux.mark_lost(cell, order, reason)
        self.lost.append(f"luxgate: cell {cell.id} LOST: {reason}; its other checks were not run")

    def cell_key(self, nodeid: str) -> str | None:
        found = find_cell(nodeid, self.lux.matrix())
        return None if found is None else found[1].key

    # -- JUnit properties ------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Controller with --junitxml: the plain-data payload becomes flat JUnit properties.

        The session consumes the payload first (so nothing is lost); junitxml
        would otherwise write the whole record as one str(dict) property.
        """
        if not self.junit or self.lux.is_worker:
            return
        if not any(name == PROPERTY for name, _ in report.user_properties):
            return
        self.lux.ran_report(report)
        flat: list[tuple[str, Any]] = []
        for name, payload in report.user_properties:
            if name == PROPERTY and isinstance(payload, dict):
                flat += [p for p in junit_properties(payload) if p not in flat]
            else:
                flat.append((name, payload))
        report.user_properties = flat

    # -- end of run --------------------------------------------------------------------
    def run_info(self, cells: list[dict[str, Any]]) -> dict[str, Any]:
        """Facts for report.json's run: what merge compares, release verdict, shard."""
        cfg = self.lux.cfg
        info: dict[str, Any] = {
            "config": {"params": cfg.params, "thresholds": cfg.thresholds, "chunking": cfg.chunking.to_dict(),
                       "require": list(self.required)},
            "workers": int(getattr(self.config.option, "numprocesses", 0) or 0),
        }
        if cfg.takes > 1 or cfg.max_fail_rate:  # what merge must find equal across shards
            info["config"].update(takes=cfg.takes, max_fail_rate=cfg.max_fail_rate)
        if self.shard is not None:
            owner = assign((c.key for c in self.lux.matrix()), self.shard.count)
            info["shard"] = {"index": self.shard.index, "count": self.shard.count,
                             "cells": sorted(k for k, s in owner.items() if s == self.shard.index)}
        self.failures = release_failures(self.required, cells, sharded=self.shard is not None)
        if self.required:
            info["release_failures"] = self.failures
        return info

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.lux.is_worker:
            return
        if self.failures and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        cache = self.lux.content_cache
        if cache is not None:
            cache.evict()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lux.is_worker:
            return
        for line in self.lost:
            terminalreporter.write_line(line, red=True)
        for why in self.failures:
            terminalreporter.write_line(f"luxgate: RELEASE GATE FAILED (--luxgate-require): {why}", red=True)
        recs = [r for r in self.lux.records.values() if "cached" in r]
        if self.lux.content_cache is not None and recs:
            takes = sum(1 for r in recs if r["cached"].get("synthesis"))
            heard = sum(1 for r in recs if r["cached"].get("asr"))
            terminalreporter.write_line(f"luxgate: cache {self.lux.content_cache.root}: {takes}/{len(recs)} takes "
                                        f"and {heard}/{len(recs)} transcripts reused")


def find_cell(nodeid: str, cells: list[Cell]) -> tuple[int, Cell] | None:
    """The matrix cell a test node id belongs to (``...@stack/prompt/scenario`` or ``[cell-id]``)."""
    by_key, by_id = _index(tuple(cells))
    if "@" in nodeid and nodeid.rfind("@") > nodeid.rfind("]"):
        got = by_key.get(nodeid.rsplit("@", 1)[1])
        if got:
            return got
    if "[" in nodeid and "]" in nodeid:
        return by_id.get(nodeid[nodeid.index("[") + 1: nodeid.rindex("]")])
    return None


@functools.lru_cache(maxsize=4)
def _index(cells: tuple[Cell, ...]) -> tuple[dict[str, tuple[int, Cell]], dict[str, tuple[int, Cell]]]:
    return ({c.key: (i, c) for i, c in enumerate(cells)}, {c.id: (i, c) for i, c in enumerate(cells)})


def _cell_of(item: pytest.Item) -> Cell | None:
    param = cell_param(item)
    return None if param is None else param[1]


def register(config: pytest.Config, lux: LuxgateSession) -> CIHooks:
    """Called from plugin.pytest_configure (before xdist creates its workers)."""
    xdist_support.configure(config)
    if not config.pluginmanager.hasplugin("xdist"):  # -p no:xdist: our cells still carry the mark
        config.addinivalue_line("markers", "xdist_group(name): pytest-xdist --dist loadgroup group")
    hooks = CIHooks(lux, config)
    config.pluginmanager.register(hooks, "luxgate-ci")
    if config.pluginmanager.hasplugin("xdist") and not lux.is_worker:
        config.pluginmanager.register(xdist_support.XdistHooks(hooks.on_lost, hooks.cell_key), "luxgate-xdist")
    return hooks
