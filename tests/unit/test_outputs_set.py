"""report/outputs.py: the report's files go together, and what cannot be written is named."""
from __future__ import annotations

import json
from pathlib import Path

from pytest_luxgate.report.html import HtmlOptions
from pytest_luxgate.report.matrix import build_report
from pytest_luxgate.report.outputs import plan_wavs, write_outputs


def _cells(tmp_path: Path) -> list[dict]:
    takes = tmp_path / ".takes-x"
    takes.mkdir()
    cells = []
    for scenario in ("a", "b"):
        (takes / f"{scenario}.wav").write_bytes(b"RIFF" + scenario.encode())
        cells.append({"stack": "s", "prompt": "p", "scenario": scenario, "status": "passed", "checks": {},
                      "take_path": str(takes / f"{scenario}.wav")})
    return cells


def test_everything_moves_together_and_a_lost_wav_is_named(tmp_path: Path) -> None:
    cells = _cells(tmp_path)
    wavs = plan_wavs(cells, "all")
    report = build_report(cells, {"passed": True})
    wavs[1].src.unlink()  # gone before it could be kept
    out = tmp_path / "out"
    (out / "report.json").mkdir(parents=True)
    placed = write_outputs(report, out, wavs, HtmlOptions(None))
    assert placed.failed and placed.dir is not None and placed.dir != out
    saved = json.loads((placed.dir / "report.json").read_text())
    by = {c["scenario"]: c for c in saved["cells"]}
    assert (placed.dir / by["a"]["wav"]).read_bytes() == b"RIFFa" and by["b"]["wav"] is None
    assert not list(out.rglob("*.wav"))  # the one placed in out first went along
    line = placed.line(out)
    assert line.startswith(f"luxgate: could not write the report to {out} (Is a directory); it was written to "
                           f"{placed.dir} instead; not written: 1 kept WAV(s): wavs/s/p__b.wav: its take ")
    assert saved["run"]["output_notes"][1].startswith("not written: 1 kept WAV(s): wavs/s/p__b.wav")
    assert "wavs/s/p__b.wav" in (placed.dir / "SUMMARY.md").read_text()


def test_nothing_writable_prints_the_report(tmp_path: Path, monkeypatch) -> None:
    cells = _cells(tmp_path)
    wavs = plan_wavs(cells, "none")
    report = build_report(cells, {"passed": True})
    blocker = tmp_path / "file"
    blocker.write_text("x")
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(blocker))  # no temp dir either: a file where it should be
    placed = write_outputs(report, blocker / "out", wavs, HtmlOptions(None))
    assert placed.dir is None and placed.dumped is not None
    assert json.loads(placed.dumped)["cells"][0]["scenario"] == "a"
    assert placed.line(blocker / "out").startswith(f"luxgate: could not write the report to {blocker / 'out'} (")


def test_a_lost_take_is_named_without_moving_the_report(tmp_path: Path) -> None:
    cells = _cells(tmp_path)
    wavs = plan_wavs(cells, "best")
    report = build_report(cells, {"passed": True})
    wavs[0].src.unlink()
    out = tmp_path / "out"
    placed = write_outputs(report, out, wavs, HtmlOptions(None))
    assert placed.dir == out and placed.moved is None and placed.failed
    assert placed.line(out) == (f"luxgate: not written: 1 kept WAV(s): wavs/s/p__a.wav: its take {wavs[0].src} "
                                f"is gone; the rest of the report is in {out}")
    saved = json.loads((out / "report.json").read_text())
    assert saved["run"]["output_notes"] == [f"not written: 1 kept WAV(s): wavs/s/p__a.wav: its take {wavs[0].src} "
                                            "is gone"]
    assert (out / saved["cells"][1]["wav"]).read_bytes() == b"RIFFb"
