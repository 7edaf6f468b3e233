"""--luxgate-takes N: every take of a cell judged, one verdict per check by the documented rule."""
from __future__ import annotations

import json

import pytest
from pytester_gate import read_report, run_gate

from pytest_luxgate.judging.takes import take_seed
from pytest_luxgate.matrix.cells import OWN_VOICE, Cell
from pytest_luxgate.run.runner import _cell_seed

ONE = ["--luxgate-scenario=short_plain", "-k", "test_start or test_wer or test_baseline"]


def _odd_seeds(takes: int) -> int:
    base = _cell_seed(1234, Cell("clicks_on_odd_seeds", OWN_VOICE, "short_plain"))
    return sum(take_seed(base, k) % 2 for k in range(takes))


def test_every_take_is_judged_and_the_cell_reports_them(pytester: pytest.Pytester) -> None:
    res = run_gate(pytester, "--luxgate-takes=3", "--luxgate-keep-wavs=all", *ONE)
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    (cell,) = read_report(pytester)["cells"]
    takes = cell["takes"]
    assert takes["count"] == 3 and takes["passed"] == 3 and takes["pass_rate"] == 1.0
    seeds = [t["seed"] for t in takes["per_take"]]
    assert len(set(seeds)) == 3 and cell["versions"]["takes"] == 3
    assert cell["checks"]["wer"]["message"].startswith("0/3 takes fail wer")
    assert len(cell["take_wavs"]) == 3 and all((pytester.path / "out" / w).is_file() for w in cell["take_wavs"])
    assert cell["wav"] in cell["take_wavs"]  # the best take is the cell's own WAV
    assert "3/3 takes" in (pytester.path / "out" / "SUMMARY.md").read_text()
    assert "Takes: 3/3 pass every check" in (pytester.path / "out" / "report.html").read_text()


def test_a_take_that_fails_fails_the_cell_unless_the_rate_allows_it(pytester: pytest.Pytester) -> None:
    takes = 4
    odd = _odd_seeds(takes)
    assert 0 < odd < takes, "the seeds of this cell must mix clean and faulty takes"
    res = run_gate(pytester, f"--luxgate-takes={takes}", *ONE, stacks="clicks_on_odd_seeds=fault_stacks:ClicksOnOddSeeds")
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    (cell,) = read_report(pytester)["cells"]
    start = cell["checks"]["start"]
    assert not start["passed"] and start["message"].startswith(f"{odd}/{takes} takes fail start (at most 0 may")
    assert "pre_onset_click_db" in start["message"]  # the worst take's own message says what and where
    assert cell["takes"]["passed"] == takes - odd
    worst = cell["takes"]["per_take"][cell["takes"]["worst"]]
    assert "start" in worst["failing"]
    # a rate that allows them: floor(rate x N) >= the failing takes
    rate = odd / takes
    res = run_gate(pytester, f"--luxgate-takes={takes}", f"--luxgate-max-fail-rate={rate}", *ONE,
                   stacks="clicks_on_odd_seeds=fault_stacks:ClicksOnOddSeeds")
    (cell,) = read_report(pytester)["cells"]
    assert cell["checks"]["start"]["passed"], cell["checks"]["start"]["message"]
    assert cell["checks"]["start"]["details"]["allowed"] == odd


def test_takes_under_xdist_and_the_cache_give_the_same_report(pytester: pytest.Pytester) -> None:
    args = ["--luxgate-takes=2", *ONE, "-p", "cacheprovider", f"--luxgate-cache-dir={pytester.path / 'cache'}"]
    first = run_gate(pytester, *args, subprocess=True)
    assert first.ret == pytest.ExitCode.OK, first.stdout.str()
    a = read_report(pytester)["cells"][0]
    again = run_gate(pytester, *args, "-n", "2", subprocess=True)
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()
    b = read_report(pytester)["cells"][0]
    assert b["cached"]["synthesis"] and a["takes"]["per_take"] == b["takes"]["per_take"]
    assert {k: c["passed"] for k, c in a["checks"].items()} == {k: c["passed"] for k, c in b["checks"].items()}


@pytest.mark.parametrize("option, message", [
    ("--luxgate-takes=0", "--luxgate-takes must be a whole number from 1 to 100, got '0'"),
    ("--luxgate-max-fail-rate=1.5", "--luxgate-max-fail-rate must be a share from 0 up to (not including) 1"),
])
def test_bad_takes_options_are_usage_errors(pytester: pytest.Pytester, option: str, message: str) -> None:
    res = run_gate(pytester, option, *ONE)
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert message in res.stderr.str()


def test_a_scenario_sets_its_own_takes_and_bad_values_are_refused(pytester: pytest.Pytester) -> None:
    scen = pytester.mkdir("scen")
    (scen / "two.toml").write_text('id = "two"\ntext = "The garden is quiet in the early morning."\ntakes = 2\n')
    res = run_gate(pytester, f"--luxgate-scenarios={scen}", "--luxgate-scenario=two", "-k", "test_wer")
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    assert read_report(pytester)["cells"][0]["takes"]["count"] == 2
    (scen / "two.toml").write_text('id = "two"\ntext = "x"\ntakes = 0\n')
    res = run_gate(pytester, f"--luxgate-scenarios={scen}", "--luxgate-scenario=two")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "'takes' must be a whole number from 1 to 100, got 0" in res.stderr.str()


def test_baselines_compare_the_median_over_takes_and_know_how_many(pytester: pytest.Pytester) -> None:
    args = ["--luxgate-takes=2", "--luxgate-scenario=short_plain", "-k", "test_baseline"]
    rec = run_gate(pytester, *args, "--snapshot-update")
    assert rec.ret == pytest.ExitCode.OK, rec.stdout.str()
    (snap,) = (pytester.path / "__snapshots__").rglob("*.json")
    entry = json.loads(snap.read_text())
    cell = read_report(pytester)["cells"][0]
    assert entry["conditions"]["takes"] == 2
    assert entry["metrics"]["duration_s"] == round(cell["metrics"]["duration_s"], 3)  # the median of the takes
    again = run_gate(pytester, *args)
    assert again.ret == pytest.ExitCode.OK and read_report(pytester)["cells"][0]["baseline"]["status"] == "passed"
    # one take is measured differently: not compared with the two-take baseline, and said why
    run_gate(pytester, "--luxgate-scenario=short_plain", "-k", "test_baseline")
    section = read_report(pytester)["cells"][0]["baseline"]
    assert section["status"] == "incomparable" and any("takes" in r for r in section["reasons"])
