"""Two shards of a real gate run merge (luxgate merge) into the unsharded report."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytester_gate import run_gate

from pytest_luxgate.cli import main as luxgate
from pytest_luxgate.plugin.xdist import comparable, comparable_summary


def _report(pytester: pytest.Pytester, out: str) -> dict:
    return json.loads((pytester.path / out / "report.json").read_text())


def test_two_shards_merge_into_the_unsharded_report(pytester: pytest.Pytester, capsys: pytest.CaptureFixture) -> None:
    sel = "--luxgate-scenario=short_plain,medium_conversational"
    run_gate(pytester, sel, "--luxgate-output=whole")
    for i in (1, 2):
        res = run_gate(pytester, sel, f"--luxgate-shard={i}/2", f"--luxgate-output=s{i}")
        assert res.parseoutcomes().get("deselected"), "a shard runs only its cells"
    s1, s2 = _report(pytester, "s1"), _report(pytester, "s2")
    assert len(s1["cells"]) == len(s2["cells"]) == 1  # whole cells: each shard holds one
    assert s1["run"]["shard"]["index"] == 1 and s2["run"]["shard"]["count"] == 2
    # a shard is part of the matrix: never its PASS (issue 16); the merge judges the whole
    assert {s1["run"]["verdict"], s2["run"]["verdict"]} <= {"partial", "fail"} and not s1["run"]["passed"]

    paths = [str(pytester.path / "s1" / "report.json"), str(pytester.path / "s2" / "report.json")]
    code = luxgate(["merge", *paths, "-o", str(pytester.path / "merged")])
    whole = _report(pytester, "whole")
    merged = _report(pytester, "merged")
    assert code == (0 if whole["run"]["passed"] else 1)
    assert "luxgate merge: PASS" in capsys.readouterr().out or code == 1
    assert comparable(merged)["cells"] == comparable(whole)["cells"]
    assert merged["summary"] == whole["summary"] and merged["run"]["passed"] == whole["run"]["passed"]
    for key in ("verdict", "verdict_reasons", "judged", "expected"):
        assert merged["run"][key] == whole["run"][key], key
    assert [m["shard"]["index"] for m in merged["run"]["merged_from"]] == [1, 2]
    for cell in merged["cells"]:  # the kept takes came along
        assert (pytester.path / "merged" / cell["wav"]).is_file()
    # the same set of files a run writes, the page included, playing the merged takes
    assert {p.name for p in (pytester.path / "merged").iterdir()} >= {"report.json", "SUMMARY.md", "report.html",
                                                                     "wavs"}
    page = (pytester.path / "merged" / "report.html").read_text()
    assert page.count("<audio ") == len(merged["cells"]) == 2 and "medium_conversational" in page
    whole_md = comparable_summary((pytester.path / "whole" / "SUMMARY.md").read_text())
    merged_md = comparable_summary((pytester.path / "merged" / "SUMMARY.md").read_text())
    assert merged_md == whole_md

    # refused: a missing shard, and a shard of a run with another seed
    assert luxgate(["merge", paths[0], "-o", str(pytester.path / "m2")]) == 2
    assert "shard(s) 2/2 missing" in capsys.readouterr().err
    other = json.loads(Path(paths[1]).read_text())
    other["run"]["seed"] = 99
    odd = pytester.path / "odd" / "report.json"
    odd.parent.mkdir()
    odd.write_text(json.dumps(other))
    assert luxgate(["merge", paths[0], str(odd), "-o", str(pytester.path / "m3")]) == 2
    err = capsys.readouterr().err
    assert "refusing to merge" in err and "seed differs" in err and "--force" in err
    assert not (pytester.path / "m3" / "report.json").exists()
    forced = luxgate(["merge", paths[0], str(odd), "-o", str(pytester.path / "m3"), "--force"])
    assert forced in (0, 1)
    assert any("seed differs" in w for w in _report(pytester, "m3")["run"]["merge_warnings"])
