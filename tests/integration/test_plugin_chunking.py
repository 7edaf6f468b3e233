"""Chunked synthesis through the plugin (pytester): seams in the report, test_seams run or skipped."""
from __future__ import annotations


import pytest
from pytester_gate import read_report, run_gate

ARGS = ["-k", "seams", "-rs"]


def _gate(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return run_gate(pytester, *ARGS, *args)


def _cells(pytester: pytest.Pytester) -> dict[str, dict]:
    return {c["scenario"]: c for c in read_report(pytester)["cells"]}


def test_long_text_is_chunked_and_its_seams_are_checked(pytester: pytest.Pytester) -> None:
    res = _gate(pytester, "--luxgate-scenario=long_paragraph,short_plain")
    res.stdout.fnmatch_lines(["*SKIPPED*short_plain*no seams: the text (31 characters) fits one chunk "
                              "of at most 100*"])
    outcomes = res.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 1 and outcomes["skipped"] == 1
    cell = _cells(pytester)["long_paragraph"]
    assert len(cell["chunks"]) == 3 and " ".join(cell["chunks"]) == cell["text"]
    assert len(cell["seams"]) == 2 and 0 < cell["seams"][0] < cell["seams"][1] < cell["audio_s"]
    assert cell["versions"]["chunking"] == {"max_chars": 100, "crossfade_ms": 30.0}
    check = cell["checks"]["seams"]
    assert check["passed"], check["message"]  # real Piper joins are clean
    assert [s["time_s"] for s in check["details"]["seams"]] == cell["seams"]
    assert cell["metrics"]["seam_count"] == 2 and cell["metrics"]["worst_seam_click_db"] is not None
    assert "join_s" in cell["timings"] and "seams_s" in cell["timings"]


def test_chunking_off_skips_test_seams_and_a_scenario_can_turn_it_back_on(pytester: pytest.Pytester) -> None:
    extra = pytester.mkdir("my_scenarios")
    (extra / "dinner.toml").write_text(
        'id = "dinner"\ntext = "Hello there, welcome home. The kettle is on, and dinner is ready."\n'
        "[chunking]\nmax_chars = 30\ncrossfade_ms = 20\n")
    res = _gate(pytester, "--luxgate-chunk-chars=0", "--luxgate-scenarios=my_scenarios",
                "--luxgate-scenario=long_paragraph,dinner")
    res.stdout.fnmatch_lines(["*SKIPPED*long_paragraph*no seams: chunking is off (--luxgate-chunk-chars=0)*"])
    cells = _cells(pytester)
    one_pass = cells["long_paragraph"]
    assert one_pass["seams"] == [] and one_pass["chunks"] == [one_pass["text"]]
    assert one_pass["versions"]["chunking"]["max_chars"] == 0
    assert "seams" not in one_pass["checks"] and one_pass["status"] == "skipped"
    assert one_pass["skipped_checks"] == {"seams": "no seams: chunking is off (--luxgate-chunk-chars=0)"}
    dinner = cells["dinner"]
    assert dinner["versions"]["chunking"] == {"max_chars": 30, "crossfade_ms": 20.0}
    assert len(dinner["chunks"]) >= 2 and len(dinner["seams"]) == len(dinner["chunks"]) - 1
    assert "seams" in dinner["checks"]


@pytest.mark.parametrize("args, message", [
    (["--luxgate-chunk-chars=many"], "*--luxgate-chunk-chars must be an integer (0 = off), got 'many'*"),
    (["--luxgate-crossfade-ms=500"], "*crossfade_ms must be a number from 0 to 200, got 500.0*"),
])
def test_bad_chunking_options_are_usage_errors(pytester: pytest.Pytester, args: list[str],
                                               message: str) -> None:
    res = _gate(pytester, *args)
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines([message])


def test_bad_chunking_table_in_a_scenario_is_a_usage_error(pytester: pytest.Pytester) -> None:
    extra = pytester.mkdir("bad")
    (extra / "x.toml").write_text('id = "x"\ntext = "Hello."\n[chunking]\nmax_char = 40\n')
    res = _gate(pytester, "--luxgate-scenarios=bad")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*x.toml: unknown chunking key 'max_char'; known: max_chars, crossfade_ms*"])
