"""The persistent cache seen from the gate: a warm rerun reuses takes and transcripts, a change
invalidates only its cell; --luxgate-cache-dir and --cache-clear."""
from __future__ import annotations

import pytest
from pytester_gate import read_report, run_gate

from pytest_luxgate.plugin.xdist import comparable


def _scenarios(pytester: pytest.Pytester, b_params: str = "") -> None:
    d = pytester.mkdir("sc") if not (pytester.path / "sc").exists() else pytester.path / "sc"
    (d / "a.toml").write_text('id = "cache_a"\ntext = "Please call me back tomorrow morning."\n')
    (d / "b.toml").write_text(f'id = "cache_b"\ntext = "The garden is green after the rain."\n{b_params}')


def _cached(report: dict) -> dict[str, dict[str, bool]]:
    return {c["scenario"]: c["cached"] for c in report["cells"]}


def test_warm_rerun_reuses_everything_and_a_change_invalidates_only_its_cell(pytester: pytest.Pytester) -> None:
    # -p cacheprovider: undo the helper's -p no:cacheprovider, so the default place is used
    args = ("--luxgate-scenarios=sc", "--luxgate-scenario=cache_a,cache_b", "-p", "cacheprovider")
    _scenarios(pytester)
    run_gate(pytester, *args)
    cold = read_report(pytester)
    assert _cached(cold) == {s: {"synthesis": False, "asr": False} for s in ("cache_a", "cache_b")}
    assert list((pytester.path / ".pytest_cache" / "d" / "luxgate" / "synth").rglob("*.npz"))

    warm_run = run_gate(pytester, *args)
    warm = read_report(pytester)
    # a warm rerun synthesizes nothing and transcribes nothing, and reports the same
    assert _cached(warm) == {s: {"synthesis": True, "asr": True} for s in ("cache_a", "cache_b")}
    assert all(c["timings"]["synthesis_s"] == 0.0 for c in warm["cells"])
    assert comparable(warm) == comparable(cold)
    warm_run.stdout.fnmatch_lines(["*luxgate: cache *luxgate: 2/2 takes and 2/2 transcripts reused*"])

    # one scenario's parameter changes: only its cell is recomputed; a changed limit
    # re-judges the cached take of the other (thresholds are not part of any key)
    _scenarios(pytester, b_params="[params]\nlength_scale = 1.15\n")
    res = run_gate(pytester, *args, "--luxgate-threshold=rate_max_sps=3.0")
    changed = read_report(pytester)
    assert _cached(changed) == {"cache_a": {"synthesis": True, "asr": True},
                                "cache_b": {"synthesis": False, "asr": False}}  # new audio: new transcript
    assert not any(c["checks"]["rate"]["passed"] for c in changed["cells"])
    assert res.ret == pytest.ExitCode.TESTS_FAILED

    run_gate(pytester, *args, "--luxgate-no-cache")
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": False, "asr": False}
    run_gate(pytester, *args, "--cache-clear")  # pytest empties .pytest_cache, ours included
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": False, "asr": False}


def test_explicit_cache_dir_and_cache_clear(pytester: pytest.Pytester) -> None:
    args = ("--luxgate-scenarios=sc", "--luxgate-scenario=cache_a", "--luxgate-cache-dir=lxcache")
    _scenarios(pytester)
    run_gate(pytester, *args)
    assert list((pytester.path / "lxcache" / "asr").rglob("*.json"))
    run_gate(pytester, *args)
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": True, "asr": True}
    run_gate(pytester, *args, "-p", "cacheprovider", "--cache-clear")
    assert _cached(read_report(pytester))["cache_a"] == {"synthesis": False, "asr": False}
    bad = run_gate(pytester, *args, "--luxgate-cache-size=lots")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--luxgate-cache-size: expected bytes like 500M or 2G*"])


MUSEUM = "The museum opens at nine in the morning, Monday to Friday, and on Sundays."


def test_a_wrong_word_is_put_to_the_forced_text_once_and_the_answer_is_cached(pytester: pytest.Pytester) -> None:
    d = pytester.mkdir("sc")
    (d / "m.toml").write_text(f'id = "museum"\ntext = "{MUSEUM}"\n')
    args = ("--luxgate-scenarios=sc", "--luxgate-scenario=museum", "--luxgate-cache-dir=lxcache")
    stacks = "swapped=fault_stacks:SaysOtherWords"
    res = run_gate(pytester, *args, stacks=stacks)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    cold = read_report(pytester)
    wer = cold["cells"][0]["checks"]["wer"]
    assert not wer["passed"] and "“museum” heard as “stadium” (forced to the text: p" in wer["message"], wer
    forced = list((pytester.path / "lxcache" / "asr").rglob("*.forced.json"))
    assert len(forced) == 1  # asked once: the one take with a region that would count

    run_gate(pytester, *args, stacks=stacks)
    warm = read_report(pytester)
    assert _cached(warm) == {"museum": {"synthesis": True, "asr": True}}
    assert warm["cells"][0]["checks"]["wer"]["message"] == wer["message"]
    assert list((pytester.path / "lxcache" / "asr").rglob("*.forced.json")) == forced
