"""report.html rendering: escaping, word diff, failure marks, audio embedding, baselines, plots.

Records are shaped like the gate's (report.py); the take is real Piper speech.
The end-to-end run in a real browser is tests/integration/test_html_report_browser.py;
the ini key in a gate run, tests/integration/test_html_report_gate.py.
"""
from __future__ import annotations

import base64
import io
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_luxgate.report import plots
from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.report.html import HtmlOptions, baseline_rows, failure_marks, parse_options, word_diff_html, write_html, write_html_report

EVIL = '<script>window.__pwned=1</script>"&\''


def _cell(stack: str = "piper", prompt: str = "own_voice", scenario: str = "short_plain", **over: Any) -> dict:
    cell = {
        "stack": stack, "prompt": prompt, "scenario": scenario, "cell": f"{stack}-{prompt}-{scenario}",
        "text": "The quick brown fox jumps over the lazy dog.",
        "transcript": "The quick brown fox jumped over the lazy dog.",
        "audio_s": 2.5, "sample_rate": 22050, "status": "failed", "passed": False, "order": 0,
        "checks": {
            "wer": {"name": "wer", "passed": True, "value": 0.111, "threshold": 0.2, "message": "WER ok", "details": {}},
            "start": {"name": "start", "passed": False, "value": 0.42, "threshold": 0.25,
                      "message": "lead_garbage_s 0.42 s (limit <= 0.25 s) at 0.10-0.52 s before “The”: "
                                 "speech-like sound before the first word", "details": {}},
        },
        "metrics": {"wer": 0.111, "lead_garbage_s": 0.42, "onset_s": 0.1, "offset_s": 2.3,
                    "syllables_per_s": 9.0, "worst_seam_level_jump_db": -6.0},
        "thresholds": {"wer": 0.2, "lead_garbage_s": 0.25, "rate_min_sps": 2.5, "rate_max_sps": 8.0,
                       "seam_level_jump_db": 5.5},
        "seams": [1.2], "chunks": ["The quick brown fox", "jumps over the lazy dog."], "wav": None,
    }
    cell.update(over)
    return cell


def _report(*cells: dict, keep: str = "best") -> dict:
    return {"schema": 1, "run": {"passed": False, "asr": "faster-whisper:tiny.en", "seed": 1, "keep_wavs": keep,
                                 "duration_s": 3.0, "complete": True},
            "summary": {"cells": len(cells), "failed": len(cells)}, "cells": list(cells)}


@pytest.fixture
def out_dir(tmp_path: Path, piper_take: tuple[np.ndarray, int, str]) -> Path:
    audio, rate, _ = piper_take
    out = tmp_path / "out"
    write_wav_atomic(out / "wavs" / "piper" / "own_voice__short_plain.wav", audio, rate)
    return out


def _page(out: Path, report: dict, **opts: Any) -> str:
    write_html(report, out, HtmlOptions(out / "report.html", **opts))
    return (out / "report.html").read_text(encoding="utf-8")


def test_everything_from_the_run_is_escaped(out_dir: Path) -> None:
    cell = _cell(stack=EVIL, prompt=EVIL, scenario=EVIL, text=f"Say {EVIL} now.",
                 transcript=f"Say {EVIL} now.", error=EVIL, wav="wavs/piper/own_voice__short_plain.wav")
    cell["checks"]["start"]["message"] = EVIL
    cell["checks"][EVIL] = {"name": EVIL, "passed": False, "value": None, "threshold": None, "message": EVIL}
    page = _page(out_dir, _report(cell, _cell(stack="other", scenario=EVIL)))
    # only the page's own script tag; every injected one arrives as text
    assert len(re.findall(r"<script\b", page)) == 1
    assert "window.__pwned" not in page.split("<script>")[-1]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&quot;&amp;&#x27;" in page
    assert 'data-stack="&lt;script&gt;' in page  # attributes too


def test_word_diff_marks_what_the_wer_counted() -> None:
    out = word_diff_html("Quick quality check for LuxTTS.", "Quick quality check for LuxTDS.")
    assert re.search(r"<del[^>]*>tts</del><ins[^>]*>tds</ins>", out)
    assert "1 error(s) in 6 words: 1 substituted, 0 missing, 0 extra" in out
    missing = word_diff_html("the cat sat down", "the sat down today")
    assert re.search(r"<del[^>]*>cat</del>", missing) and re.search(r"<ins[^>]*>today</ins>", missing)
    assert "<del" not in word_diff_html("Hello there.", "hello there")


def test_failure_marks_come_from_failing_checks_only() -> None:
    cell = _cell()
    cell["checks"]["seams"] = {"name": "seams", "passed": False, "message":
                               "seam_click_db 14 dB (limit <= 10 dB) at seam 0 (1.20 s), transient at 1.187 s: click"}
    cell["checks"]["tail"] = {"name": "tail", "passed": True, "message": "clean end at 2.00-2.30 s"}
    cell["checks"]["repeat"] = {"name": "repeat", "passed": False,
                                "message": "loop_s 0.6 s at 9.00-9.60 s repeats 8.0-8.6 s\n  heard: 'at 1.00 s'"}
    marks = failure_marks(cell)
    assert ("start", 0.10, 0.52) in marks
    assert ("seams", 1.20, None) in marks and ("seams", 1.187, None) in marks
    assert not [m for m in marks if m[0] == "tail"]          # passed: nothing to point at
    assert not [m for m in marks if m[0] == "repeat"]        # 9 s is past the 2.5 s take; 'heard' line ignored


def test_audio_is_embedded_up_to_the_cap_then_linked(out_dir: Path) -> None:
    wav = out_dir / "wavs" / "piper" / "own_voice__short_plain.wav"
    report = _report(_cell(wav="wavs/piper/own_voice__short_plain.wav"))
    page = _page(out_dir, report)
    src = re.search(r'<audio id="[^"]+-audio"[^>]* src="data:audio/wav;base64,([^"]+)"', page)
    assert src and base64.b64decode(src.group(1)) == wav.read_bytes()
    capped = _page(out_dir, report, embed_mb=0.01)
    assert 'src="wavs/piper/own_voice__short_plain.wav"' in capped and "linked rather than embedded" in capped
    # a page elsewhere links back to the kept take by a relative path
    elsewhere = out_dir.parent / "site" / "gate.html"
    write_html(report, out_dir, HtmlOptions(elsewhere, audio="link"))
    href = re.search(r'<audio id="[^"]+-audio"[^>]* src="([^"]+)"', elsewhere.read_text()).group(1)
    assert href == "../out/wavs/piper/own_voice__short_plain.wav"
    assert (elsewhere.parent / href).resolve() == wav.resolve()


def test_plot_is_drawn_for_kept_takes_only(out_dir: Path) -> None:
    kept = _cell(wav="wavs/piper/own_voice__short_plain.wav")
    not_kept = _cell(prompt="prompt_a")
    result = write_html(_report(kept, not_kept), out_dir, HtmlOptions(out_dir / "report.html"))
    assert result is not None and result.plots == 1 and result.plot_seconds > 0
    page = (out_dir / "report.html").read_text()
    assert page.count(f'src="data:{plots.IMAGE_MIME};base64,') == 1
    assert "--luxgate-keep-wavs=best keeps the best take" in page


def test_plots_are_reused_from_the_cache_until_the_take_or_its_marks_change(out_dir: Path, tmp_path: Path) -> None:
    from pytest_luxgate.run.cache import ContentCache

    images = ContentCache(tmp_path / "cache", max_bytes=10**8)
    kept = _cell(wav="wavs/piper/own_voice__short_plain.wav")
    page = out_dir / "report.html"
    first = write_html(_report(kept), out_dir, HtmlOptions(page), images)
    drawn = page.read_text()
    again = write_html(_report(kept), out_dir, HtmlOptions(page), images)
    assert (first.plots, first.plots_cached) == (1, 0)
    assert (again.plots, again.plots_cached) == (1, 1)
    assert page.read_text() == drawn, "a cached plot is the same picture"
    # a new failure mark on the same take is a new picture
    moved = _cell(wav="wavs/piper/own_voice__short_plain.wav",
                  checks={**kept["checks"], "tail": {"name": "tail", "passed": False, "value": 1.0, "threshold": 0.2,
                                                     "message": "trail_garbage_s 1.0 s at 1.50-2.00 s", "details": {}}})
    redrawn = write_html(_report(moved), out_dir, HtmlOptions(page), images)
    assert (redrawn.plots, redrawn.plots_cached) == (1, 0)


def test_failure_span_is_painted_on_the_picture(piper_take: tuple[np.ndarray, int, str]) -> None:
    from PIL import Image

    audio, rate, _ = piper_take
    plain = plots.take_image(audio, rate, plots.Marks())
    marked = plots.take_image(audio, rate, plots.Marks(failures=[("start", 0.2, 0.8)]))
    assert plain[:2] == b"\xff\xd8"  # JPEG

    def reddish(img: bytes) -> int:
        # the waveform panel (top third) is white, blue and green: red there is a mark
        px = np.asarray(Image.open(io.BytesIO(img)).convert("RGB")).astype(int)
        top = px[: px.shape[0] // 3]
        return int(((top[..., 0] > 180) & (top[..., 0] > top[..., 1] + 40)).sum())

    assert reddish(plain) < 200
    # 0.6 s of a 2.75 s take over ~860 px of axis: ~190 columns of the panel
    assert reddish(marked) > 10_000


def test_waveform_envelope_keeps_every_peak() -> None:
    x = np.zeros(10_000, np.float32)
    x[1234], x[8765] = 0.9, -0.7
    lo, hi = plots.waveform_envelope(x, 100)
    assert lo.shape == hi.shape == (100,)
    assert hi.max() == pytest.approx(0.9) and lo.min() == pytest.approx(-0.7)
    assert plots.waveform_envelope(x[:10], 100)[0].shape == (10,)


def test_baselines_rendered_when_present_and_tolerated_when_not(out_dir: Path) -> None:
    # the shape baselines.py (issue 8) records: a section with per-metric deltas
    section = {"status": "regressed", "file": "__snapshots__/test_gate/piper-own_voice-short_plain.json",
               "deltas": {"wer": {"baseline": 0.05, "now": 0.111, "delta": 0.061, "tolerance": 0.1,
                                  "direction": "higher", "verdict": "same"},
                          "lead_garbage_s": {"baseline": 0.1, "now": 0.42, "delta": 0.32, "tolerance": 0.05,
                                             "direction": "higher", "verdict": "worse"}}}
    page = _page(out_dir, _report(_cell(baseline=section)))
    assert "Δ now − baseline" in page and "+0.061" in page and "+0.32" in page
    assert re.search(r'<td>lead_garbage_s</td>.*?<span class="chip bad">worse</span>', page)
    assert "baseline regressed · __snapshots__/test_gate/piper-own_voice-short_plain.json" in page
    assert baseline_rows(_cell(baseline={"metrics": {"wer": 0.05}}))["wer"] == {"baseline": 0.05}
    assert "+0.061" in _page(out_dir, _report(_cell(baseline={"wer": 0.05})))
    assert "Δ now − baseline" not in _page(out_dir, _report(_cell()))
    odd = _page(out_dir, _report(_cell(baseline="stored in __snapshots__/x.json")))
    assert "stored in __snapshots__/x.json" in odd


def test_metrics_beyond_their_limit_are_flagged(out_dir: Path) -> None:
    page = _page(out_dir, _report(_cell()))
    row = re.search(r'<tr( class="bad")?><td>syllables_per_s</td>.*?</tr>', page)
    assert row and row.group(1) and "≥ 2.5, ≤ 8" in row.group(0)
    jump = re.search(r'<tr( class="bad")?><td>worst_seam_level_jump_db</td>', page)
    assert jump and jump.group(1)  # -6 dB is a 6 dB jump: beyond 5.5
    assert re.search(r'<tr><td>wer</td>', page)


def test_options_default_beside_the_report_and_bad_values_name_the_option(tmp_path: Path) -> None:
    out = tmp_path / "out"

    def opts(path: str = "", audio: str = "", mb: str = "") -> HtmlOptions:
        return parse_options(path, audio, mb, output=out, resolve=lambda p: tmp_path / p)

    assert opts() == HtmlOptions(out / "report.html", "embed", 50.0)
    assert opts("none").path is None and opts("off").path is None
    assert opts("site/gate.html", "link", "5") == HtmlOptions(tmp_path / "site/gate.html", "link", 5.0)
    with pytest.raises(ValueError, match="--luxgate-html-audio must be one of embed|link"):
        opts(audio="mp3")
    with pytest.raises(ValueError, match="--luxgate-html-embed-mb must be a number"):
        opts(mb="lots")
    with pytest.raises(ValueError, match="--luxgate-html-embed-mb must be >= 0"):
        opts(mb="-1")
    with pytest.raises(ValueError, match="is a directory"):
        opts(".")


def test_without_matplotlib_the_page_still_has_audio_and_says_why_no_plots(
        out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` sees when not installed
    lines = write_html_report(_report(_cell(wav="wavs/piper/own_voice__short_plain.wav")), out_dir,
                              HtmlOptions(out_dir / "report.html"))
    assert any("pytest-luxgate[html]" in ln for ln in lines)
    page = (out_dir / "report.html").read_text()
    assert "data:audio/wav;base64," in page and plots.IMAGE_MIME not in page


def test_an_unwritable_page_is_reported_not_raised(out_dir: Path) -> None:
    (out_dir / "blocked").write_text("a file where a directory should be")
    lines = write_html_report(_report(_cell()), out_dir, HtmlOptions(out_dir / "blocked" / "report.html"))
    assert len(lines) == 1 and lines[0].startswith("luxgate: could not write the HTML report to")


def test_failure_marks_use_the_checks_structured_marks_over_the_message() -> None:
    cell = _cell()
    # the check's own marks travel as data; the message's times are not re-read then
    cell["checks"]["tail"] = {"name": "tail", "passed": False, "marks": [[2.1, 2.4], [1.5, None]],
                              "message": "trail_garbage_s 0.3 s (limit <= 0.2 s) at 0.10-0.20 s"}
    marks = failure_marks(cell)
    assert ("tail", 2.1, 2.4) in marks and ("tail", 1.5, None) in marks
    assert ("tail", 0.10, 0.20) not in marks
