"""The reliability ledger: README's "Reliability and bad input" table as data.

Every module that adds rows (tests/integration/test_reliability.py and the
test_fail_closed_*.py modules) registers them here at import, each test
records the case it tried, and the last test of test_reliability.py computes
the figures from the whole ledger. Also the helpers those modules share for
running the gate in a separate pytest process and reading what it wrote.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pytester_gate import FAST, TESTS, run_gate

RAN = ("passed", "failed")  # a cell that produced a take and verdicts
Case = tuple[str, str, str, str]  # (id, group, input, what it gets)
CASES: list[Case] = []
LEDGER: dict[str, dict[str, Any]] = {}
ORIGIN: dict[str, str] = {}  # case id -> the module that registered it (README lists test_reliability's first)
# modules whose rows belong in the table: all of them must run for the figures
MODULE_GLOBS = ("test_reliability.py", "test_fail_closed_*.py")


def register(rows: list[Case]) -> list[Case]:
    """Add a module's rows to the table (ids unique across modules)."""
    known = {c[0] for c in CASES}
    clash = [r[0] for r in rows if r[0] in known]
    assert not clash, f"reliability case ids registered twice: {clash}"
    CASES.extend(rows)
    module = sys._getframe(1).f_globals.get("__name__", "")
    ORIGIN.update({r[0]: module for r in rows})
    return rows


def case_ids() -> list[str]:
    return [c[0] for c in CASES]


def record(case: str, *, lost: int = 0, tried: int = 1) -> None:
    """Note a case as handled (the test's assertions passed) with the results it lost."""
    assert case in case_ids(), case
    LEDGER[case] = {"handled": True, "lost": lost, "tried": tried}
    assert lost == 0, f"{case}: {lost} result(s) lost"


def says(text: str, pattern: str) -> bool:
    """`pattern`'s pieces between `*` occur in `text` in order (fnmatch would read "[...]" as a class)."""
    pos = 0
    for piece in pattern.split("*"):
        pos = text.find(piece, pos)
        if pos < 0:
            return False
        pos += len(piece)
    return True


def missing_survivors(report: dict[str, Any], expected: dict[tuple[str, str, str], tuple[str, ...]]) -> int:
    """How many expected surviving cells are absent from the report or lack a status they should have."""
    cells = {(c["stack"], c["prompt"], c["scenario"]): c for c in report["cells"]}
    lost = 0
    for key, statuses in expected.items():
        c = cells.get(key)
        if c is None or c["status"] not in statuses or (c["status"] in RAN and "wer" not in c["checks"]):
            lost += 1
    return lost


# -- running the gate in a separate pytest process -------------------------------------------------
def refused_run(pytester: pytest.Pytester, previous: bytes, *args: str,
                stacks: str = "piper") -> tuple[pytest.RunResult, str, bool]:
    """Run the gate over an output dir whose report.json holds `previous`, expecting a usage
    error before any cell: no traceback, no take dir, no SUMMARY.md. Returns (result, stderr,
    whether the previous report is still there untouched)."""
    out = pytester.path / "out"
    out.mkdir(exist_ok=True)
    (out / "report.json").write_bytes(previous)
    res = run_gate(pytester, *args, stacks=stacks)
    err = res.stderr.str()
    assert res.ret == pytest.ExitCode.USAGE_ERROR, res.stdout.str()[-2000:] + err[-2000:]
    assert "Traceback" not in err + res.stdout.str(), err
    assert not list(out.glob(".takes-*")) and not (out / "SUMMARY.md").exists()
    return res, err, (out / "report.json").read_bytes() == previous


def gate_dir(where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "test_luxgate_reliability_matrix.py").write_text("from pytest_luxgate.gate_suite import *\n")
    (where / "conftest.py").write_text(f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n{_FINISHED_HOOK}")
    return where


#: gate_dir's conftest: each finished test's id into $LUXGATE_FAULT_FINISHED (start_blocked_run)
_FINISHED_HOOK = """
import os

def pytest_runtest_logfinish(nodeid, location):
    if os.environ.get("LUXGATE_FAULT_FINISHED"):
        with open(os.environ["LUXGATE_FAULT_FINISHED"], "a") as log:
            log.write(nodeid + "\\n")
"""


def start_blocked_run(where: Path, *args: str, finished: int, **popen: Any) -> subprocess.Popen:
    """A gate run of the stack blocks_on_wait (fault_stacks.py) that has finished its first
    `finished` tests and is held inside the stack on the "Wait" scenario: the known point a
    test then sends a signal or starts a second run at. Both are waited for, since the next
    cell's take is made on a second thread while this cell is judged (run/ahead.py)."""
    ready, log = where / "ready", where / "finished.log"
    env = gate_env(LUXGATE_FAULT_READY=str(ready), LUXGATE_FAULT_RELEASE=str(where / "release"),
                   LUXGATE_FAULT_FINISHED=str(log))
    proc = subprocess.Popen(gate_cmd(*args, stacks="blocks_on_wait=fault_stacks:BlocksOnWait"), cwd=gate_dir(where),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    deadline = time.monotonic() + 600
    while not (ready.exists() and log.exists() and len(log.read_text().splitlines()) >= finished):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate(timeout=60)
            raise AssertionError(f"the blocked run never reached the Wait scenario after {finished} tests:\n"
                                 f"{out[-3000:]}\n{err[-3000:]}")
        time.sleep(0.1)
    return proc


def gate_cmd(*args: str, stacks: str = "piper") -> list[str]:
    return [sys.executable, "-m", "pytest", "test_luxgate_reliability_matrix.py", f"--luxgate-stacks={stacks}",
            "--luxgate-output=out", *FAST, *args]


def gate_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LUXGATE_RELIABILITY"))}
    return {**env, **extra}


def run_subprocess(where: Path, *args: str, stacks: str = "piper", **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(gate_cmd(*args, stacks=stacks), cwd=gate_dir(where), env=gate_env(),
                          capture_output=True, text=True, timeout=900, **kw)


def ctrl_c_reaches_it() -> None:
    """Popen preexec_fn: SIGINT back to its default in the child. A shell starts background jobs
    with SIGINT ignored, an ignored signal stays ignored across exec, and Python then installs no
    KeyboardInterrupt handler: a suite run from `cmd &` would send Ctrl-C into the void."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def report_of(where: Path) -> dict[str, Any]:
    return json.loads((where / "out" / "report.json").read_text())


def leftovers(out: Path) -> list[str]:
    """Temp files a half-finished write would leave (report.write_atomic / audio.write_wav_atomic)."""
    return sorted(p.name for p in out.rglob(".*") if p.name.startswith((".report", ".SUMMARY", ".tmp-")))
