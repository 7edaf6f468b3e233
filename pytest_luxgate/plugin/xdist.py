"""pytest-xdist integration: cell-grouped scheduling, thread pinning, lost cells.

Only the controller writes reports (session.py); this module makes a
distributed run behave like a single-process one:

* ``--dist loadgroup`` is the default under ``-n N`` (unless ``--dist`` is
  given), so all checks of a cell run on one worker and share one synthesis;
  every worker loads each stack and the ASR model once (per-process registries).
* Each worker's BLAS/OpenMP/torch/CTranslate2 threads are pinned to
  ``cores // workers`` through the worker's environment, set before the worker
  process imports anything native, so N workers do not oversubscribe the cores.
  ONNX Runtime keeps its thread count (its results can depend on it; Piper is
  fixed at one thread in stacks/piper.py) but stops spin-waiting in workers.
* A worker that dies costs only its in-flight cell: the scheduler drops the
  rest of that cell's tests instead of re-running them (a native crash is
  usually deterministic and would take the next worker down too), and the
  cell is marked ``lost`` in the report.

Which report fields legitimately differ between ``-n 0`` and ``-n N`` runs of
the same seeds is defined once here (VOLATILE_*), and `comparable` drops them.
"""
from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest

#: environment variables that size the thread pools of the native libraries in a worker
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
               # read by our Piper stack (onnxruntime intra-op); the ASR runs on a fixed thread
               # count whatever the workers (asr/base.py CPU_THREADS): transcripts must not follow -n
               "LUXGATE_THREADS")
#: names the THREAD_VARS a worker got from us (comma-separated), so what the worker starts (a
#: test's own pytest run) can tell our pinning from the user's settings
PINNED_VAR = "LUXGATE_PINNED"
WORKERINPUT_KEY = "luxgate_loadgroup"

#: run-level fields that depend on when/how the run happened, not on what it measured
VOLATILE_RUN = ("started", "duration_s", "platform", "workers", "overlap")
#: cell-level fields that depend on scheduling, machine load or cache state
VOLATILE_CELL = ("timings", "cached")
#: SUMMARY.md line holding the wall time
_SUMMARY_TIME = re.compile(r"(· )[0-9.]+ s( ·)")


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without its volatile fields: equal for equal seeds, however scheduled."""
    run = {k: v for k, v in report.get("run", {}).items() if k not in VOLATILE_RUN}
    cells = [{k: v for k, v in c.items() if k not in VOLATILE_CELL} for c in report.get("cells", [])]
    return {**report, "run": run, "cells": cells}


def comparable_summary(text: str) -> str:
    """SUMMARY.md with the wall time blanked (the only volatile part)."""
    return _SUMMARY_TIME.sub(r"\1? s\2", text)


# -- controller: scheduling and worker environment ---------------------------
def _dist_given(config: pytest.Config) -> bool:
    """Did the user choose a --dist mode (command line, PYTEST_ADDOPTS or ini addopts)?"""
    args = [*map(str, config.invocation_params.args),
            *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
            *(config.getini("addopts") or [])]
    return any(a == "--dist" or a.startswith("--dist=") or a == "-d" for a in args)


def configure(config: pytest.Config) -> None:
    """Controller: make loadgroup the default distribution; worker: honour it."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        if workerinput.get(WORKERINPUT_KEY):
            # xdist decides this flag from the worker's own argv (where --dist is absent)
            config.option.loadgroup = True
        _pin_torch_threads()
        _calm_onnxruntime()
        return
    if not config.pluginmanager.hasplugin("xdist"):
        return
    if getattr(config.option, "numprocesses", None) and config.getoption("dist", "no") == "load" \
            and not _dist_given(config):
        config.option.dist = "loadgroup"


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    cores = cores or len(os.sched_getaffinity(0))
    return max(1, cores // max(1, workers))


def worker_env(workers: int, environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, str]:
    """Thread settings for each of `workers` workers; variables the user set are left alone.
    PINNED_VAR lists the ones set here."""
    n = str(threads_per_worker(workers))
    env = {var: n for var in THREAD_VARS if var not in environ}
    return {**env, PINNED_VAR: ",".join(env)} if env else env


def _pin_torch_threads() -> None:
    """torch reads OMP_NUM_THREADS at import; set it explicitly in case it was imported early."""
    import sys

    torch = sys.modules.get("torch")
    n = os.environ.get("LUXGATE_THREADS")
    if torch is not None and n:
        torch.set_num_threads(int(n))


def _calm_onnxruntime() -> None:
    """Worker: ONNX Runtime sessions (DNSMOS, other listeners) stop spin-waiting.

    Their thread count is left as it is on purpose: ORT results can depend on it
    (Piper's audio differs between 1 and 2 threads, see stacks/piper.py), and a
    worker must compute what ``-n 0`` computes. Idle ORT threads spin by
    default, though, and N workers' spinning threads starve each other's work;
    without spinning the extra threads only cost a context switch.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        return
    cls = ort.InferenceSession
    if getattr(cls, "_luxgate_calm", False):
        return
    original = cls.__init__

    def __init__(self: Any, path_or_bytes: Any, sess_options: Any = None, *args: Any, **kwargs: Any) -> None:
        opts = sess_options if sess_options is not None else ort.SessionOptions()
        for entry in ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning"):
            if not _has_entry(opts, entry):  # a caller's own choice stays
                opts.add_session_config_entry(entry, "0")
        original(self, path_or_bytes, opts, *args, **kwargs)

    cls.__init__ = __init__
    cls._luxgate_calm = True


def _has_entry(opts: Any, entry: str) -> bool:
    try:
        opts.get_session_config_entry(entry)
        return True
    except Exception:  # ORT raises for an entry that was never set
        return False


class XdistHooks:
    """xdist hooks (optional: registered only when pytest-xdist is installed)."""

    def __init__(self, on_lost: Callable[[str, str], None], cell_of: Callable[[str], str | None]) -> None:
        #: called with (test node id, reason) for a cell a dead worker was running
        self.on_lost = on_lost
        #: test node id -> its cell's key (None: not a gate test)
        self.cell_of = cell_of

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs: list[Any]) -> None:
        env = worker_env(len(specs))
        for spec in specs:
            if getattr(spec, "popen", False):
                for var, value in env.items():
                    spec.env.setdefault(var, value)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKERINPUT_KEY] = node.config.getoption("dist", "no") == "loadgroup"

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist", "no") != "loadgroup":
            return None
        return make_cell_scheduler(config, log, self.cell_of)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        worker = getattr(getattr(report, "node", None), "gateway", None)
        who = f"worker {worker.id!r}" if worker is not None else "a worker"
        self.on_lost(crashitem, f"{who} died while running {crashitem.split('@')[0]}")


def make_cell_scheduler(config: pytest.Config, log: Any, cell_of: Callable[[str], str | None]) -> Any:
    from xdist.scheduler import LoadGroupScheduling

    class CellGroupScheduling(LoadGroupScheduling):
        """LoadGroupScheduling that groups gate tests by cell and drops, rather
        than re-runs, the cell a worker died on.

        Grouping: xdist marks a group by appending ``@group`` to each item's
        node id in the worker, but with pytest 9 (node ids are structured,
        ``Node._id``) that assignment no longer changes the id, and
        ``--dist loadgroup`` silently degrades to per-test scheduling (measured
        with xdist 3.8 / pytest 9.2: the checks of one cell ran on both workers,
        each synthesizing it). The controller knows the matrix, so it derives
        each gate test's cell from its id; other tests keep xdist's rule.

        Crashes: xdist puts the crashed node's whole pending work back in the queue,
        including the test that was running; for the gate that means a second
        synthesis of the cell that just killed a worker. Only the other,
        not-yet-started cells of the dead worker go back to the queue.

        And only cells with tests still to run: a node's assigned work keeps the
        units it finished, and xdist's own ``remove_node`` queues them again. A
        finished unit sent to a worker is an empty ``runtests`` that no report
        ever answers, so when the dead worker's replacement drew one after the
        other workers had finished, nothing rescheduled it, the queue never
        emptied and the run hung (seen 2 runs in 9 under load: the replacement
        waiting for work, the controller for an event).
        """

        def _split_scope(self, nodeid: str) -> str:
            if nodeid.rfind("@") > nodeid.rfind("]"):
                return super()._split_scope(nodeid)
            key = cell_of(nodeid)
            return nodeid if key is None else f"luxgate-cell:{key}"

        def remove_node(self, node: Any) -> str | None:
            workload = self.assigned_work.pop(node)
            if not self._pending_of(workload):
                return None
            crashitem = lost_scope = None
            for scope, unit in workload.items():
                pending = [nodeid for nodeid, done in unit.items() if not done]
                if pending:  # units run in the order they were sent: the first pending one is in flight
                    crashitem, lost_scope = pending[0], scope
                    break
            workload.pop(lost_scope)
            self.workqueue.update((scope, unit) for scope, unit in workload.items() if not all(unit.values()))
            for other in self.assigned_work:
                self._reschedule(other)
            return crashitem

    return CellGroupScheduling(config, log)
