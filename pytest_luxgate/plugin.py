"""pytest hooks and fixtures: thin, each hands its work to the LuxgateSession."""
from __future__ import annotations

from typing import Any

import pytest

from .baselines import luxgate_snapshot  # noqa: F401  the fixture test_baseline uses
from .cells import Cell, cell_param
from .ci import register as register_ci
from .checks import CheckNotApplicable, checks_of
from .config import add_options
from .runner import CellFailed, CellSkipped
from .guards import OutputGuard
from .session import PROPERTY, LuxgateSession
from .stacks.base import available_stacks

SESSION_KEY = pytest.StashKey[LuxgateSession]()
STACK_MARKERS = ("mlx", "torch", "luxtts")  # luxtts: both LuxTTS stacks


def pytest_addoption(parser: pytest.Parser) -> None:
    """hookspec: pytest_addoption"""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """hookspec: pytest_configure — register markers, create the session."""
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
        self.lux.matrix()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """hookspec: pytest_collection_finish — listener models load only for selected checks."""
        self.lux.listen = checks_of(it.originalname for it in session.items if _cell_order(it) is not None)

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
            from .baselines import summary_lines

            for line in summary_lines(self.lux.records.values()):
                terminalreporter.write_line(line)


def _cell_order(item: pytest.Item) -> int | None:
    param = cell_param(item)
    return None if param is None else param[0]


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
        from .baselines import check_baseline

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
    except CellSkipped as exc:
        request.node.user_properties.append((PROPERTY, {**base, "skipped": str(exc)}))
        if cell.stack in luxgate_session.ci.required:  # release mode: a skip is a failure
            pytest.fail(f"[{cell.id}] required stack (--luxgate-require) did not run: {exc}", pytrace=False)
        pytest.skip(str(exc))
    except CellFailed as exc:
        request.node.user_properties.append((PROPERTY, {**base, "error": str(exc)}))
        pytest.fail(f"[{cell.id}] {exc}", pytrace=False)
