"""Regenerate docs/report-screenshot.png: a real gate run's report.html in headless Chromium.

    python tools/report_screenshot.py [--chromium /usr/bin/chromium]

Runs the gate on Piper and on Piper with a clipping fault (tests/fault_stacks.py)
for two scenarios, then captures the matrix page and one detail view and
stacks them into one image for the README.
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    args = ap.parse_args()
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        subprocess.run([sys.executable, "-m", "pytest", "tests/gate", "-q", "-p", "no:cacheprovider",
                        "--luxgate-stacks=piper,clipped_gain=fault_stacks:ClippedGain",
                        "--luxgate-scenario=long_paragraph,numbers_symbols", f"--luxgate-output={out}"],
                       cwd=ROOT, check=False)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 560})
            page.goto((out / "report.html").as_uri())
            matrix = Image.open(io.BytesIO(page.screenshot()))
            page.set_viewport_size({"width": 1280, "height": 1100})
            page.locator('table.matrix[data-stack="piper"] td.cell a.open').first.click()
            page.locator("section.view:target").wait_for(state="visible")
            detail = Image.open(io.BytesIO(page.screenshot()))
            browser.close()
    sheet = Image.new("RGB", (1280, matrix.height + detail.height), "white")
    sheet.paste(matrix, (0, 0))
    sheet.paste(detail, (0, matrix.height))
    sheet = sheet.resize((sheet.width * 3 // 4, sheet.height * 3 // 4), Image.LANCZOS)
    sheet.quantize(colors=256).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
