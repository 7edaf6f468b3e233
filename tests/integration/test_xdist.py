"""The gate under pytest-xdist, in real pytest subprocesses: same report as one process,
and a worker that dies costs only its cell."""
from __future__ import annotations

import json

import pytest
from pytester_gate import run_gate

from pytest_luxgate.plugin.xdist import (
    PINNED_VAR,
    THREAD_VARS,
    VOLATILE_CELL,
    VOLATILE_RUN,
    comparable,
    comparable_summary,
    worker_env,
)

SEL = "--luxgate-scenario=short_plain,medium_conversational"


def _out(pytester: pytest.Pytester, name: str) -> tuple[dict, str]:
    d = pytester.path / name
    return json.loads((d / "report.json").read_text()), (d / "SUMMARY.md").read_text()


def test_n2_n0_and_no_xdist_write_the_same_report(pytester: pytest.Pytester) -> None:
    # one process makes the next cell's take on a second thread (run/ahead.py) unless told not to
    runs = {"n0": ("-n", "0"), "n2": ("-n", "2"), "noxdist": ("-p", "no:xdist"),
            "one_thread": ("-p", "no:xdist", "--luxgate-no-overlap")}
    for name, args in runs.items():
        res = run_gate(pytester, SEL, "--luxgate-keep-wavs=all", f"--luxgate-output={name}", *args,
                       subprocess=True)
        assert res.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), res.stderr.str()
        if name == "n2":  # both workers worked, each on whole cells (loadgroup by cell)
            res.stdout.fnmatch_lines(["*created: 2/2 workers*"])
    reports = {name: _out(pytester, name) for name in runs}
    base, base_md = reports["n0"]
    assert len(base["cells"]) == 2 and all(c["status"] in ("passed", "failed") for c in base["cells"])
    assert reports["n2"][0]["run"]["workers"] == 2 and base["run"]["workers"] == 0
    assert base["run"]["overlap"] is True and reports["noxdist"][0]["run"]["overlap"] is True
    assert reports["one_thread"][0]["run"]["overlap"] is False and reports["n2"][0]["run"]["overlap"] is False
    for name, (report, md) in reports.items():
        # identical apart from the fields declared volatile (timings, wall time, worker count, ...)
        assert comparable(report) == comparable(base), name
        assert comparable_summary(md) == comparable_summary(base_md), name
        for cell in report["cells"]:  # the WAVs: same names, same bytes
            ref = next(c for c in base["cells"] if c["cell"] == cell["cell"])
            assert cell["wav"] == ref["wav"]
            assert (pytester.path / name / cell["wav"]).read_bytes() == \
                (pytester.path / "n0" / ref["wav"]).read_bytes()
        assert not list((pytester.path / name).glob(".takes-*")), "worker temp dirs left behind"
    assert set(VOLATILE_RUN) >= {"started", "duration_s", "overlap"} and "timings" in VOLATILE_CELL


@pytest.mark.parametrize("overlap", [True, False])
def test_only_a_stack_that_allows_it_is_called_off_the_main_thread(pytester: pytest.Pytester,
                                                                  overlap: bool) -> None:
    args = ["--luxgate-scenario=short_plain,medium_conversational", "-k", "wer", "--luxgate-no-cache",
            "-p", "no:xdist", *([] if overlap else ["--luxgate-no-overlap"])]
    res = run_gate(pytester, *args, stacks="thread_probe=fault_stacks:ThreadProbe,"
                                           "main_thread_probe=fault_stacks:MainThreadProbe")
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()[-2000:]
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    threads = {c["cell"]: c["versions"]["stack"]["threads"] for c in report["cells"]}
    assert len(threads) == 4 and report["run"]["overlap"] is overlap
    for cell, seen in threads.items():
        off_main = overlap and cell.startswith("thread_probe-")
        assert seen == (["luxgate-ahead"] if off_main else ["MainThread"]), (cell, seen)


def test_a_dead_worker_costs_only_its_cell(pytester: pytest.Pytester) -> None:
    stacks = "piper,killed_on_wait=fault_stacks:KilledOnWait"
    res = run_gate(pytester, "--luxgate-scenario=short_plain,punctuation_pauses", "-n", "2",
                   stacks=stacks, subprocess=True)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    out = res.stdout.str()
    # one worker death in all: a re-run of the lost cell on the replacement worker would kill it too
    # (counted on xdist's own "node down" line: the short summary repeats the crash message only
    # when the terminal is wide enough, so counting that message depends on COLUMNS)
    assert out.count("node down:") == 1, "the lost cell must not be re-run on another worker"
    res.stdout.fnmatch_lines(["*luxgate: cell killed_on_wait-own_voice-punctuation_pauses LOST: worker*died*"])
    report, md = _out(pytester, "out")
    cells = {c["cell"]: c for c in report["cells"]}
    assert len(cells) == 4
    lost = cells["killed_on_wait-own_voice-punctuation_pauses"]
    assert lost["status"] == "lost" and "died while running" in lost["lost"]
    assert report["summary"]["lost"] == 1 and report["run"]["passed"] is False
    # the same stack's other cell, and the other stack, still ran to the end (on the replacement worker)
    assert cells["killed_on_wait-own_voice-short_plain"]["status"] in ("passed", "failed")
    assert cells["killed_on_wait-own_voice-short_plain"]["checks"]
    assert all(cells[c]["checks"] for c in cells if c.startswith("piper-"))
    assert "❓ lost" in md and "- lost: worker" in md


def test_worker_thread_pinning_leaves_user_settings_alone() -> None:
    env = worker_env(2, {"OMP_NUM_THREADS": "3"})
    assert "OMP_NUM_THREADS" not in env
    assert set(env[PINNED_VAR].split(",")) == set(env) - {PINNED_VAR}  # what it set, said
    assert worker_env(2, {var: "1" for var in THREAD_VARS}) == {}
    assert env["LUXGATE_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"]
    assert int(env["LUXGATE_THREADS"]) >= 1


def test_loadgroup_is_the_default_and_groups_by_cell(pytester: pytest.Pytester) -> None:
    res = run_gate(pytester, SEL, "-n", "2", "-v", "-k", "wer or rate", "--luxgate-keep-wavs=none",
                   subprocess=True)
    lines = [ln for ln in res.stdout.lines if "PASSED" in ln or "FAILED" in ln]
    workers: dict[str, set[str]] = {}
    for ln in lines:
        worker, cell = ln.split("]")[0].strip("["), ln[ln.index("[", ln.index("::")) + 1: ln.rindex("]")]
        workers.setdefault(cell, set()).add(worker)
    assert len(workers) == 2 and all(len(w) == 1 for w in workers.values()), workers
    assert set().union(*workers.values()) == {"gw0", "gw1"}


def test_workers_get_pinned_thread_counts(pytester: pytest.Pytester) -> None:
    import os

    want = str(max(1, len(os.sched_getaffinity(0)) // 2))
    pytester.makepyfile(test_env=f"""
        import os
        def test_env():
            for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LUXGATE_THREADS"):
                assert os.environ.get(var) == {want!r}, var
            assert os.environ.get("PYTEST_XDIST_WORKER")
            assert {{"OMP_NUM_THREADS", "LUXGATE_THREADS"}} <= set(os.environ["LUXGATE_PINNED"].split(","))
        """)
    env_before = {k: os.environ.pop(k) for k in ("OMP_NUM_THREADS", "LUXGATE_THREADS") if k in os.environ}
    try:
        res = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "test_env.py")
    finally:
        os.environ.update(env_before)
    res.assert_outcomes(passed=1)
