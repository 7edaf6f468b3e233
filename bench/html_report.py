"""Cost of report.html: plots per take, the whole page, and its share of a gate run.

    python bench/html_report.py

1. Runs the default gate (tests/gate, Piper, the five standard scenarios,
   default options) in a subprocess and reads the plugin's own line
   "luxgate: html PATH (N plot(s) in X s, Y s in all)" and pytest's total.
2. Times `plots.take_image` on each kept take (warm, median of 3) and the
   matplotlib import in a fresh interpreter (paid once per run).

Wall times swing with whatever else the machine runs; CPU times (process
time, the gate's from its children's rusage) are the load-independent figures,
and the share of the run is given both ways.
"""
from __future__ import annotations

import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> dict:
    import soundfile as sf

    from pytest_luxgate.report import plots
    from pytest_luxgate.report.html import HtmlOptions, failure_marks, write_html

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        t0 = time.perf_counter()
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests/gate", "-q", "-p", "no:cacheprovider",
                               f"--luxgate-output={out}"], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        gate_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        line = re.search(r"luxgate: html \S+ \((\d+) plot\(s\) in ([\d.]+) s, ([\d.]+) s in all\)", proc.stdout)
        if not line:
            raise SystemExit(f"no html line in the gate's output:\n{proc.stdout[-3000:]}")
        n_plots, plot_s, html_s = int(line.group(1)), float(line.group(2)), float(line.group(3))
        report = json.loads((out / "report.json").read_text())
        per_take = []
        for cell in report["cells"]:
            if not cell.get("wav"):
                continue
            audio, rate = sf.read(str(out / cell["wav"]), dtype="float32")
            marks = plots.Marks(cell["metrics"].get("onset_s"), cell["metrics"].get("offset_s"),
                                cell.get("seams") or [], failure_marks(cell))
            times, cpu = [], []
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                plots.take_image(audio, rate, marks)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            per_take.append({"cell": cell["cell"], "audio_s": round(len(audio) / rate, 2),
                             "plot_s": round(statistics.median(times), 3),
                             "plot_cpu_s": round(statistics.median(cpu), 3)})
        t, c = time.perf_counter(), time.process_time()
        res = write_html(report, out, HtmlOptions(out / "again.html"))
        page_warm, page_cpu = time.perf_counter() - t, time.process_time() - c
        size = (out / "report.html").stat().st_size
    imp = subprocess.run([sys.executable, "-c", "import time; t=time.process_time(); "
                          "from matplotlib.backends.backend_agg import FigureCanvasAgg; "
                          "print(time.process_time()-t)"], capture_output=True, text=True)
    import_cpu = float(imp.stdout.strip() or "nan")
    result = {
        "gate_wall_s": round(wall, 1), "gate_ok": proc.returncode in (0, 1),
        "plots": n_plots, "plots_in_run_s": plot_s, "html_in_run_s": html_s,
        "html_share_of_run": round(html_s / wall, 3), "page_bytes": size,
        "page_rewrite_warm_s": round(page_warm, 3), "page_rewrite_plots": res.plots if res else 0,
        "gate_cpu_s": round(gate_cpu, 1), "page_cpu_s": round(page_cpu, 3),
        "matplotlib_import_cpu_s": round(import_cpu, 3),
        # the page as the run pays for it: warm page CPU plus the one import
        "html_cpu_share_of_run": round((page_cpu + import_cpu) / gate_cpu, 3),
        "per_take": per_take,
    }
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
