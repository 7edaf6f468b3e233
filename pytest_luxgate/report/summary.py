"""SUMMARY.md: the matrix report for people."""
from __future__ import annotations

from typing import Any

from ..baselines.summary import summary_rows as baseline_rows
from .verdict import HEADLINE, STATUS_ICON

#: what a verdict that is not a pass means, above its reasons
VERDICT_LEAD = {
    "fail": "**Why it failed**:",
    "incomplete": "**Not judged**: cells this run asked for have no verdict, so this is no verdict on the matrix:",
    "partial": "**Partial run**: the selection left part of the matrix out, so this is no verdict on the matrix:",
}


def run_headline(run: dict[str, Any]) -> tuple[str, str]:
    """(verdict, HEADLINE) of a report's run; a report from before `run.verdict` has only `passed`."""
    verdict = str(run.get("verdict") or ("pass" if run.get("passed") else "fail"))
    return verdict, HEADLINE.get(verdict, verdict.upper())


def render_summary(report: dict[str, Any]) -> str:
    run, summary = report["run"], report["summary"]
    verdict, headline = run_headline(run)
    lines = [f"# LuxTTS quality gate: {headline}", ""]
    if not run.get("complete", True):
        lines += [f"> **Incomplete run**: {run.get('incomplete_reason', 'interrupted')}. "
                  "Cells below are the ones that finished.", ""]
    release = run.get("release_failures") or []
    for why in release:
        lines += [f"> **Release gate failed** (`--luxgate-require`): {why}", ""]
    reasons = [r for r in run.get("verdict_reasons") or () if r not in release]
    if verdict in VERDICT_LEAD and reasons:
        lines += [f"> {VERDICT_LEAD[verdict]}"] + [f"> - {r}" for r in reasons] + [""]
    judged = run.get("judged") or {}
    of = f" · {judged['cells']} of {judged['of']} cells judged" if "of" in judged else ""
    lines += [f"{summary['cells']} cells: " + ", ".join(
        f"{summary[s]} {s}" for s in STATUS_ICON if summary.get(s)) + of, ""]
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
        return f"{icon} not judged"
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


