"""The run's state: the matrix, the cell runner, and the records that come back.

The plugin's hooks stay thin and call into one LuxgateSession. Records arrive
as plain dicts in test reports' user_properties (so they cross xdist), and
only the controller (the process with no `workerinput`) writes report files.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from ..baselines.extension import Scope
from ..judging.checks import CHECK_NAMES
from ..matrix.cells import OWN_VOICE, Cell, build_matrix
from ..matrix.prompts import DEFAULT_FILE, PromptError, load_prompts
from ..matrix.scenarios import ScenarioError, check_thresholds, load_dirs, select, standard_dir
from ..report.matrix import build_report
from ..report.outputs import plan_wavs, write_outputs
from ..report.verdict import Verdict, run_verdict
from ..run.runner import CellRunner, run_info
from ..stacks.base import StackLoadError, StackUnavailable, set_stack_options, stack_class
from .guards import OutputBusy, OutputLock, TakesDir
from .options import ConfigError, GateConfig, cache_from_config

PROPERTY = "luxgate"
#: temp dirs takes wait in (session._work_dir): the only dirs finish() removes
TAKE_DIR_PREFIXES = (".takes-", "luxgate-takes-")


class LuxgateSession:
    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self.cfg = GateConfig.from_pytest(config)
        set_stack_options(self.cfg.stack_options)  # LuxTTS weights path/device, read at stack load
        self.content_cache = cache_from_config(config)  # None with --luxgate-no-cache
        self.is_worker = hasattr(config, "workerinput")
        self.started = time.time()
        self.records: dict[str, dict[str, Any]] = {}
        self.interrupted: str | None = None
        self._matrix: list[Cell] | None = None
        self._runner: CellRunner | None = None
        #: the checks the collected gate tests run (listener models load only for these)
        self.listen: frozenset[str] = frozenset()
        #: the cells the collected gate tests ask for, in the order they will (the overlap's plan)
        self.plan: list[Cell] = []
        self._stack_meta: dict[str, tuple[bool, tuple[str, ...], str | None]] = {}
        self._work_root: Path | None = None
        self._takes: TakesDir | None = None
        self.write_error: str | None = None
        #: the run's verdict, once finish() computed it
        self.verdict: Verdict | None = None
        #: one gate run per output directory (guards.py); claimed once gate cells are collected
        self.output_lock = OutputLock(self.cfg.output)

    # -- the matrix ---------------------------------------------------------
    def matrix(self) -> list[Cell]:
        if self._matrix is None:
            try:
                self._known = load_dirs([standard_dir(), *self.cfg.scenario_dirs])
                self._scenarios = select(self._known, self.cfg.scenario_ids)
                check_thresholds(self._scenarios, self.cfg.thresholds, self.cfg.threshold_source)
                self._prompts = load_prompts(self.cfg.prompts_file or DEFAULT_FILE)
            except (ScenarioError, PromptError) as exc:
                raise ConfigError(str(exc)) from None
            stacks = [(name, self.stack_meta(name)[0]) for name in self.cfg.stacks]
            matrix = build_matrix(stacks, self._prompts, self._scenarios)
            self._check_params()  # before the matrix is kept: every later call raises it again
            self._matrix = matrix
        return self._matrix

    def _check_params(self) -> None:
        """Generation parameters checked against the stacks' own before any synthesis (options.py)."""
        from .options import check_generation_params, stack_param_defaults

        defaults = {}
        for name in self.cfg.stacks:
            if self.stack_meta(name)[2] is None and (d := stack_param_defaults(stack_class(name))) is not None:
                defaults[name] = d
        check_generation_params(self.cfg, defaults, self._scenarios)

    def baseline_scope(self) -> Scope:
        """The cells whose baselines this run uses (others are left out on purpose, not unused)."""
        cells = self.matrix()
        prompts = {c.prompt for c in cells} | {OWN_VOICE} | {p.id for p in self._prompts}
        return Scope(frozenset(self.cfg.stacks), frozenset(prompts), frozenset(c.scenario for c in cells),
                     frozenset(s.id for s in self._known), self.cfg.baseline.platform)

    def stack_meta(self, name: str) -> tuple[bool, tuple[str, ...], str | None]:
        """(clones_voice, markers, unavailable reason) without loading models."""
        if name not in self._stack_meta:
            try:
                cls = stack_class(name)
                self._stack_meta[name] = (bool(cls.clones_voice), tuple(cls.markers), None)
            except StackLoadError as exc:  # a named stack that cannot import: its cells are errors (runner)
                self._stack_meta[name] = (True, (), str(exc))
            except StackUnavailable as exc:  # an unknown name: a usage error
                raise ConfigError(str(exc)) from None
            except Exception as exc:  # no clones_voice/markers: the runner's load says what is wrong
                self._stack_meta[name] = (True, (), f"stack {name!r}: {type(exc).__name__}: {exc}")
        return self._stack_meta[name]

    def markers_for(self, cell: Cell) -> list[str]:
        return [cell.stack, *self.stack_meta(cell.stack)[1]]

    # -- running cells (any process that runs tests) ------------------------
    @property
    def runner(self) -> CellRunner:
        if self._runner is None:
            self.matrix()
            self._runner = CellRunner(
                scenarios={s.id: s for s in self._scenarios},
                prompts={p.id: p for p in self._prompts},
                asr_spec=self.cfg.asr, seed=self.cfg.seed, params=self.cfg.params,
                thresholds=self.cfg.thresholds, work_dir=self._work_dir(),
                chunking=self.cfg.chunking, listen=self.listen, cache=self.content_cache,
                prompt_params=self.cfg.prompt_params, takes=self.cfg.takes,
                max_fail_rate=self.cfg.max_fail_rate)
            self._runner.prompt_text_policy = self.cfg.prompt_text_policy
            if self._overlaps():
                self._runner.overlap(self.plan)
        return self._runner

    def _overlaps(self) -> bool:
        """Make the next cell on a second thread? Only in a process that runs the whole
        selection (an xdist worker shares the cores with the others) with a core to spare."""
        import os

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return self.cfg.overlap and not self.is_worker and cores >= 2 and bool(self.plan)

    def _work_dir(self) -> Path | None:
        if self.cfg.keep_wavs == "none":
            return None
        if self._work_root is None:
            # takes wait here until the controller applies the retention policy;
            # an unwritable output dir must not fail cells, so fall back to /tmp
            # (held by flock while this process lives: guards.clean_dead_takes)
            try:
                self.cfg.output.mkdir(parents=True, exist_ok=True)
                self._takes = TakesDir(self.cfg.output)
            except OSError:
                self._takes = TakesDir(Path(tempfile.gettempdir()), prefix="luxgate-takes-")
            self._work_root = self._takes.path
        return self._work_root

    # -- collecting results (controller) ------------------------------------
    def ran_report(self, report: pytest.TestReport) -> None:
        for name, payload in report.user_properties:
            if name != PROPERTY or not isinstance(payload, dict):
                continue
            key = payload["cell"]
            rec = self.records.setdefault(key, {"checks": {}})
            if "record" in payload:
                rec.update(payload["record"])
            rec.update({k: payload[k] for k in ("stack", "prompt", "scenario", "order") if k in payload})
            if "check" in payload:
                rec["checks"][payload["check"]["name"]] = payload["check"]
            if "error" in payload:
                rec["error"] = payload["error"]
            if "skipped" in payload:
                rec["skipped"] = payload["skipped"]
            if "skipped_check" in payload:  # one check does not apply to this cell (test_seams, no seams)
                name, reason = payload["skipped_check"]
                rec.setdefault("skipped_checks", {})[name] = reason

    def finish(self) -> int:
        """Write the report (controller only); return an exit status to OR in."""
        if self._runner is not None:  # nothing new starts while the report is written; after -x the
            # cell being made may finish (not after Ctrl-C: that run stops now)
            self._runner.close(wait=0.0 if self.interrupted else 120.0)
        if self.is_worker:
            self._drop_empty_work_root()
            return 0
        try:
            return self._finish()
        finally:
            self.output_lock.release()

    def _finish(self) -> int:
        cells = [self._finalize(rec) for rec in self.records.values()]
        if not cells and self._work_root is None:
            return 0
        # only this run's take dirs: a concurrent run's takes in the same directory are not ours
        own = {Path(c["take_path"]).parent for c in cells if c.get("take_path")}
        own = {d for d in own | {self._work_root} if d is not None and d.name.startswith(TAKE_DIR_PREFIXES)}
        busy = None  # why the output dir is not this run's to write (another run holds it)
        try:
            self.output_lock.acquire(clean=False)  # normally held since collection; this covers other paths
        except OutputBusy as exc:
            busy = str(exc).removeprefix("luxgate: ")
        wavs = plan_wavs(cells, self.cfg.keep_wavs)
        run = run_info(self.cfg.asr, self.cfg.seed)
        run.update({"stacks": list(self.cfg.stacks), "keep_wavs": self.cfg.keep_wavs,
                    "duration_s": round(time.time() - self.started, 2),
                    "complete": self.interrupted is None,
                    # takes made on a second thread beside the ASR (run/ahead.py); how, not what
                    "overlap": self._runner is not None and self._runner.overlapping})
        if self.interrupted:
            run["incomplete_reason"] = self.interrupted
        failures: list[str] = []
        if getattr(self, "ci", None) is not None:  # ci.py: merge facts, shard, release verdict
            run.update(self.ci.run_info(cells))
            failures = self.ci.failures
        expected, checks = self.expected(cells)
        shard = getattr(getattr(self, "ci", None), "shard", None)
        self.verdict = run_verdict(cells, expected=expected, checks=checks, interrupted=self.interrupted,
                                   failures=failures, shard=None if shard is None else str(shard))
        run.update(self.verdict.to_run())
        run["expected"] = {"cells": expected, "checks": checks}  # what luxgate merge judges the whole by
        report = build_report(cells, run)
        try:  # report.json, SUMMARY.md, report.html and the kept WAVs, as one set (report/outputs.py)
            placed = write_outputs(report, self.cfg.output, wavs, self.cfg.html, self.content_cache, busy)
        finally:
            for tmp in own:
                shutil.rmtree(tmp, ignore_errors=True)
            if self._takes is not None:
                self._takes.close()
        if placed.dir is not None:
            self.report_paths = (placed.dir / "report.json", placed.dir / "SUMMARY.md")
        self.html_lines = placed.html_lines
        self.write_error = placed.line(self.cfg.output)
        return int(pytest.ExitCode.INTERNAL_ERROR) if placed.failed else self._verdict_status()

    def _verdict_status(self) -> int:
        """A run that is not green in its report is not green in its exit code either: cells asked
        for and not judged fail it (an interrupted run already exits 2; a partial run keeps the
        exit code of the tests it selected)."""
        if self.verdict is not None and self.verdict.verdict == "incomplete" and not self.interrupted:
            return int(pytest.ExitCode.TESTS_FAILED)
        return 0

    def expected(self, cells: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """(keys of the cells this run asked for, checks each of them is judged on) for the verdict.

        The matrix's cells, less those of a stack nobody named (piper beside `-m mlx`) when the
        selection ran none of them. A shard (--luxgate-shard) is asked for the whole matrix too:
        it is a part of it, and `luxgate merge` judges the union of the shards against it."""
        ran = {c.get("stack") for c in cells}
        try:
            matrix = self.matrix()
        except pytest.UsageError:  # refused at start: nothing ran
            matrix = []
        wanted = [c for c in matrix if c.stack not in self.cfg.default_stacks or c.stack in ran]
        checks = list(CHECK_NAMES)
        if getattr(self.pytest_config, "_syrupy", None) is not None:  # test_baseline runs only with syrupy
            checks.append("baseline")
        return [c.key for c in wanted], checks

    def _drop_empty_work_root(self) -> None:
        """A worker whose cells kept no take leaves no empty temp dir behind."""
        if self._takes is not None:
            self._takes.drop_if_empty()  # only if empty: the controller moves the takes in it

    def summary_lines(self) -> list[str]:
        lines = [self.verdict.line()] if self.verdict is not None else []
        lines += [self.write_error] if self.write_error else []
        paths = getattr(self, "report_paths", None)
        if paths:
            lines += [f"luxgate: report {paths[0]}", f"luxgate: summary {paths[1]}"]
        lines += getattr(self, "html_lines", [])
        return lines

    def mark_lost(self, cell: Cell, order: int, reason: str) -> None:
        """A worker died while running this cell: whatever it reported, the cell is lost."""
        rec = self.records.setdefault(cell.key, {"checks": {}})
        rec.update(stack=cell.stack, prompt=cell.prompt, scenario=cell.scenario, order=order, lost=reason)
        rec.setdefault("cell", cell.id)

    def _finalize(self, rec: dict[str, Any]) -> dict[str, Any]:
        checks = rec.get("checks", {})
        if rec.get("lost"):
            status = "lost"
        elif rec.get("error"):
            status = "error"
        elif rec.get("skipped") and not checks:
            status = "skipped"
        elif rec.get("skipped_checks") and not checks:
            status, rec["skipped"] = "skipped", "; ".join(rec["skipped_checks"].values())
        elif checks:
            status = "passed" if all(c.get("passed") for c in checks.values()) else "failed"
        else:
            status = "lost"
        rec["status"] = status
        rec["passed"] = status == "passed"
        return rec
