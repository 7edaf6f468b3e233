"""SUMMARY.md: the matrix report for people."""
from __future__ import annotations

from typing import Any

from ..baselines.summary import summary_rows as baseline_rows
from .verdict import STATUS_ICON


def render_summary(report: dict[str, Any]) -> str:
    run, summary = report["run"], report["summary"]
    verdict = "PASS" if run.get("passed") else "FAIL"
    lines = [f"# LuxTTS quality gate: {verdict}", ""]
    if not run.get("complete", True):
        lines += [f"> **Incomplete run**: {run.get('incomplete_reason', 'interrupted')}. "
                  "Cells below are the ones that finished.", ""]
    for why in run.get("release_failures") or ():
        lines += [f"> **Release gate failed** (`--luxgate-require`): {why}", ""]
    lines += [f"{summary['cells']} cells: " + ", ".join(
        f"{summary[s]} {s}" for s in STATUS_ICON if summary.get(s)), ""]
    lines += [f"ASR: `{run.get('asr', '?')}` · seed {run.get('seed')} · "
              f"{run.get('duration_s', 0):.1f} s · pytest-luxgate {run.get('version', '?')}", ""]
    stacks = sorted({c["stack"] for c in report["cells"]})
    for stack in stacks:
        cells = [c for c in report["cells"] if c["stack"] == stack]
        prompts = sorted({c["prompt"] for c in cells})
        scenarios = list(dict.fromkeys(c["scenario"] for c in sorted(cells, key=lambda c: c.get("order", 0))))
        by = {(c["prompt"], c["scenario"]): c for c in cells}
        lines += [f"## Stack `{stack}`", "", "| prompt | " + " | ".join(scenarios) + " |",
                  "|---|" + "---|" * len(scenarios)]
        for p in prompts:
            row = [_cell_text(by.get((p, s))) for s in scenarios]
            lines.append(f"| {p} | " + " | ".join(row) + " |")
        lines.append("")
        lines += baseline_rows(cells)  # deltas against the committed baselines (test_baseline)
    failing = [c for c in report["cells"] if c.get("status") in ("failed", "error", "lost")]
    if failing:
        lines += ["## Failures", ""]
        for c in failing:
            lines.append(f"### {c['stack']} / {c['prompt']} / {c['scenario']}")
            if c.get("lost"):
                lines.append(f"- lost: {c['lost']}")
            if c.get("error"):
                lines.append(f"- error: {c['error']}")
            for name, chk in c.get("checks", {}).items():
                if not chk.get("passed"):
                    lines.append(f"- **{name}**: {chk.get('message', '')}".replace("\n", "\n  "))
            if c.get("transcript") is not None:
                lines.append(f"- heard: “{c['transcript']}”")
            lines.append("")
    noted = [c for c in report["cells"] if c.get("notes")]
    written = run.get("output_notes") or []  # where this report went instead, what it lacks
    if noted or written:  # what the gate changed or could not do (prompt resampled, take not kept, ...)
        lines += ["## Notes", ""]
        lines += [f"- {note}" for note in written]
        lines += [f"- {note}" for note in dict.fromkeys(n for c in noted for n in c["notes"])]  # once per prompt
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _cell_text(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "–"
    icon = STATUS_ICON.get(cell.get("status", ""), "?")
    bad = [n for n, c in cell.get("checks", {}).items() if not c.get("passed")]
    if cell.get("status") == "error":
        return f"{icon} error"
    if cell.get("status") == "skipped":
        return f"{icon} skipped"
    if cell.get("status") == "lost":
        return f"{icon} lost"
    # the metric, not the check's value: a take failed by a content word shows that count there
    wer = cell.get("metrics", {}).get("wer", cell.get("checks", {}).get("wer", {}).get("value"))
    extra = f" wer {wer:.2f}" if isinstance(wer, (int, float)) else ""
    # listener numbers when they were measured: DNSMOS overall and speaker similarity to the prompt
    metrics = cell.get("metrics", {})
    for key, label in (("mos_ovrl", "MOS"), ("voice_similarity", "voice")):
        if isinstance(metrics.get(key), (int, float)):
            extra += f" {label} {metrics[key]:.2f}"
    takes = cell.get("takes")
    if takes:  # several takes: how many passed every check
        extra += f" {takes['passed']}/{takes['count']} takes"
    return f"{icon}{extra}" + (f" ({', '.join(bad)})" if bad else "")


