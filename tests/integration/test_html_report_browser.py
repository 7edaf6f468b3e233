"""report.html from a real gate run, opened in a real headless Chromium.

Two stacks (Piper and a Piper with a clipping fault, so one column fails),
one scenario whose id carries a <script> tag, under xdist so the controller
writes the page from the workers' records. Playwright drives Debian's
chromium package (never a downloaded browser).

docs/report-screenshot.png comes from tools/report_screenshot.py (a fuller run).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pytester_gate import read_report, run_gate

EVIL_ID = 'hello<script>window.__pwned=1</script>&"x'
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run",
                # play() from the test is a script call, not a user gesture
                "--autoplay-policy=no-user-gesture-required"]


def _chromium() -> str:
    for name in (os.environ.get("LUXGATE_CHROMIUM", ""), "chromium", "chromium-browser"):
        found = shutil.which(name) if name else None
        if found:
            return found
    pytest.skip("no Chromium found: install Debian's 'chromium' package (scripts/dev setup does so "
                "as root) or set LUXGATE_CHROMIUM to a Chromium binary")


def test_report_page_in_a_real_browser(pytester: pytest.Pytester, tmp_path: Path) -> None:
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[test]' (it drives the system Chromium)")
    scen = pytester.mkdir("scen")
    (scen / "evil.toml").write_text(f"id = {EVIL_ID!r}\ntext = \"Quick quality check for LuxTTS.\"\n")
    res = run_gate(pytester, "--luxgate-scenarios=scen", f"--luxgate-scenario={EVIL_ID}", "-n", "2",
                   stacks="piper,clipped_gain=fault_stacks:ClippedGain", subprocess=True)
    assert res.ret == pytest.ExitCode.TESTS_FAILED  # the clipped stack fails its clipping check
    page = pytester.path / "out" / "report.html"
    res.stdout.fnmatch_lines([f"*luxgate: html {page} (2 plot(s) in *"])
    cells = {c["stack"]: c for c in read_report(pytester)["cells"]}
    assert cells["piper"]["scenario"] == EVIL_ID and cells["clipped_gain"]["checks"]["clipping"]["passed"] is False

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 1000})
            view.goto(page.as_uri())
            # the matrix: one table per stack, the scenario id shown as text, never run
            assert view.locator("table.matrix[data-stack]").count() == 2
            assert view.locator("table.matrix thead th", has_text="<script>").count() == 2
            assert view.evaluate("() => window.__pwned") is None
            clipped = view.locator('table.matrix[data-stack="clipped_gain"] td.cell')
            assert "failed" in clipped.inner_text() and "✗ clipping" in clipped.inner_text()

            # a cell opens its detail view with a playable take and its picture
            view.locator('table.matrix[data-stack="piper"] td.cell a.open').click()
            detail = view.locator("section.view:target")
            detail.wait_for(state="visible")
            assert "piper / own_voice / hello<script>" in detail.locator("h2").inner_text()
            audio = detail.locator("audio")
            # rejects (and fails the test) if the source cannot play; looped, so it is still
            # playing when the view is closed below, however long the steps in between take
            audio.evaluate("a => { a.loop = true; return a.play(); }")
            state = audio.evaluate("a => ({ready: a.readyState, duration: a.duration, paused: a.paused})")
            assert state["ready"] >= 1 and 1.0 < state["duration"] < 10.0 and not state["paused"]
            assert detail.locator("img.plot").evaluate("i => i.complete && i.naturalWidth") > 500
            assert detail.locator("p.diff").count() == 1
            assert detail.locator("table.grid tr", has_text="clip_frac").count() == 1
            shot = tmp_path / "report-screenshot.png"
            view.screenshot(path=str(shot))
            assert shot.stat().st_size > 50_000

            # closing pauses playback; the side-by-side view gets both stacks' media
            detail.locator("a.close").click()
            # the page pauses on 'hashchange', which fires after the click returns: wait for it
            # (a TimeoutError fails the test if playback never stops)
            view.wait_for_function("() => [...document.querySelectorAll('audio')].every(a => a.paused)",
                                   timeout=5000)
            view.locator("table.compare a.open").click()
            side = view.locator("section.view:target")
            side.wait_for(state="visible")
            assert side.locator(".col").count() == 2
            durations = side.locator("audio").evaluate_all(
                "els => Promise.all(els.map(a => a.play().then(() => a.duration)))")
            assert len(durations) == 2 and all(d > 1.0 for d in durations)
            widths = side.locator("img.plot").evaluate_all(
                "els => Promise.all(els.map(i => i.decode().then(() => i.naturalWidth)))")
            assert widths == [960, 960]
        finally:
            browser.close()
