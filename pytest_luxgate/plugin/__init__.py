"""pytest hooks and fixtures: thin, each hands its work to the LuxgateSession."""
from __future__ import annotations

from typing import Any

import pytest

from ..baselines.extension import SCOPE_KEY
from ..core.threads import pin_blas_threads
from ..judging.checks import checks_of
from ..matrix.cells import Cell, cell_param
from ..run.runner import CellFailed, CellSkipped
from ..stacks.base import available_stacks
from .baseline_test import luxgate_snapshot  # noqa: F401  the fixture test_baseline uses
from .ci import register as register_ci
from .guards import OutputGuard
from .handle import CellHandle
from .options import add_options
from .session import PROPERTY, LuxgateSession

SESSION_KEY = pytest.StashKey[LuxgateSession]()
STACK_MARKERS = ("mlx", "torch", "luxtts")  # luxtts: both LuxTTS stacks


def pytest_addoption(parser: pytest.Parser) -> None:
    """hookspec: pytest_addoption"""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """hookspec: pytest_configure — register markers, create the session."""
    pin_blas_threads()  # before any detector runs, from the main thread (core/threads.py)
    session = LuxgateSession(config)  # first: it registers stacks named as name=module:Class
    config.addinivalue_line("markers", "luxgate: a LuxTTS quality-gate check on one matrix cell")
    for name in sorted(set(STACK_MARKERS) | set(available_stacks())):
        config.addinivalue_line("markers", f"{name}: gate cells of the {name} stack (applied automatically)")
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(_RunHooks(session), "luxgate-run")
    config.pluginmanager.register(OutputGuard(session), "luxgate-output-lock")  # one run per output dir
    session.ci = register_ci(config, session)  # xdist, release mode, shards, JUnit, cache budget


def _session(config: pytest.Config) -> LuxgateSession:
    return config.stash[SESSION_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """hookspec: pytest_generate_tests — one test per check per cell."""
    if "luxgate_cell" not in metafunc.fixturenames:
        return
    session = _session(metafunc.config)
    params = []
    for order, cell in enumerate(session.matrix()):
        marks = [getattr(pytest.mark, m) for m in session.markers_for(cell)]
        # all checks of a cell on one xdist worker (--dist loadgroup): one synthesis per cell
        marks += [pytest.mark.luxgate, pytest.mark.xdist_group(cell.key)]
        params.append(pytest.param((order, cell), id=cell.id, marks=marks))
    metafunc.parametrize("luxgate_cell", params)


class _RunHooks:
    """Hooks that need the session; registered per run, so no module globals."""

    def __init__(self, session: LuxgateSession) -> None:
        self.lux = session

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """hookspec: pytest_sessionstart — bad options/scenarios/prompts fail before any test."""
        session.config.stash[SCOPE_KEY] = self.lux.baseline_scope()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """hookspec: pytest_collection_finish — listener models load only for selected checks."""
        self.lux.listen = checks_of(it.originalname for it in session.items if _cell_order(it) is not None)
        cells = [param[1] for it in session.items if (param := cell_param(it)) is not None]
        self.lux.plan = list({c.key: c for c in cells}.values())  # first appearance order

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """hookspec: pytest_collection_modifyitems — all checks of a cell run together.

        pytest orders parametrized tests function by function; the gate runs
        cell by cell instead, so an interrupted run leaves whole cells behind
        and a cell's take is not held in memory while every other cell runs.
        """
        slots = [i for i, it in enumerate(items) if _cell_order(it) is not None]
        ordered = sorted((items[i] for i in slots), key=lambda it: _cell_order(it))
        for i, item in zip(slots, ordered):
            items[i] = item

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """hookspec: pytest_runtest_logreport — collect cell records (also from xdist workers)."""
        self.lux.ran_report(report)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """hookspec: pytest_keyboard_interrupt — the report is still written, marked incomplete."""
        self.lux.interrupted = "interrupted (KeyboardInterrupt)"

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """hookspec: pytest_sessionfinish — the controller writes report.json and SUMMARY.md."""
        if exitstatus == pytest.ExitCode.INTERRUPTED and self.lux.interrupted is None:
            self.lux.interrupted = "interrupted"
        status = self.lux.finish()
        if status:
            session.exitstatus = int(session.exitstatus) | status

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """hookspec: pytest_terminal_summary"""
        for line in self.lux.summary_lines():
            terminalreporter.write_line(line)
        if not self.lux.is_worker:  # improvements pass quietly otherwise; regressions fail their test
            from ..baselines.summary import summary_lines

            for line in summary_lines(self.lux.records.values()):
                terminalreporter.write_line(line)


def _cell_order(item: pytest.Item) -> int | None:
    param = cell_param(item)
    return None if param is None else param[0]


@pytest.fixture(scope="session")
def luxgate_session(request: pytest.FixtureRequest) -> LuxgateSession:
    return _session(request.config)


@pytest.fixture
def luxgate(luxgate_cell: tuple[int, Cell], luxgate_session: LuxgateSession,
            request: pytest.FixtureRequest) -> CellHandle:
    """The cell's shared take and evidence; `luxgate.check("wer")` asserts one check."""
    order, cell = luxgate_cell
    base = {"cell": cell.key, "stack": cell.stack, "prompt": cell.prompt,
            "scenario": cell.scenario, "order": order}
    try:
        return CellHandle(luxgate_session, cell, order, request.node)
    except CellSkipped as exc:  # the stack cannot run here: the cell is not judged, and says so
        request.node.user_properties.append((PROPERTY, {**base, "skipped": str(exc)}))
        if cell.stack in luxgate_session.ci.required:
            failure = f"[{cell.id}] required stack (--luxgate-require) did not run: {exc}"
        else:  # fail, not skip: this run asked for the stack, and a cell asked for and not judged is no pass
            failure = f"[{cell.id}] not judged: stack {cell.stack!r} cannot run here: {exc}"
    except CellFailed as exc:
        request.node.user_properties.append((PROPERTY, {**base, "error": str(exc)}))
        failure = f"[{cell.id}] {exc}"
    # outside the except blocks: the message once, not under "During handling of the above exception"
    pytest.fail(failure, pytrace=False)
