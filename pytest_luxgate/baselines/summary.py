"""Baseline verdicts in SUMMARY.md and the terminal summary."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .spec import METRICS

if TYPE_CHECKING:

    pass



def delta_text(section: Mapping[str, Any] | None, limit: int = 4) -> str:
    """One SUMMARY.md cell: the baseline verdict and the metrics that moved."""
    if not section:
        return "–"
    status = section.get("status", "?")
    icon = {"passed": "＝", "improved": "⬆️", "regressed": "⬇️", "created": "🆕", "updated": "🔄",
            "missing": "–", "stale": "⚠️", "incomparable": "≠", "unreadable": "💥"}.get(status, "?")
    moved = []
    for name, d in (section.get("deltas") or {}).items():
        if d.get("delta") in (None, 0) or d.get("verdict") == "n/a":
            continue
        unit = METRICS[name].unit if name in METRICS else ""
        unit = f" {unit}" if unit and unit != "words" else ""
        mark = {"worse": "**", "better": "_"}.get(d.get("verdict"), "")
        rank = {"worse": 0, "better": 1}.get(d.get("verdict"), 2)
        moved.append((rank, f"{mark}{name} {d['delta']:+.3g}{unit}{mark}"))
    moved.sort(key=lambda m: m[0])  # stable: file order within each verdict
    shown = [m[1] for m in moved[:limit]] + ([f"+{len(moved) - limit} more"] if len(moved) > limit else [])
    return f"{icon} {status}" + (": " + ", ".join(shown) if shown else "")


def summary_rows(cells: list[Mapping[str, Any]]) -> list[str]:
    """SUMMARY.md: one stack's cells against their baselines (nothing when none was compared)."""
    rows = [c for c in cells if c.get("baseline")]
    if not rows:
        return []
    lines = ["| prompt | scenario | against the baseline (**worse**, _better_ beyond tolerance) |",
             "|---|---|---|"]
    lines += [f"| {c['prompt']} | {c['scenario']} | {delta_text(c['baseline'])} |"
              for c in sorted(rows, key=lambda c: (c["prompt"], c.get("order", 0)))]
    return lines + [""]


def summary_lines(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Terminal summary: regressions fail their test anyway; improvements are said here."""
    counts: dict[str, int] = {}
    better: list[str] = []
    for rec in records:
        section = rec.get("baseline")
        if not section:
            continue
        counts[section["status"]] = counts.get(section["status"], 0) + 1
        for name, d in (section.get("deltas") or {}).items():
            if d.get("verdict") == "better":
                better.append(f"  {rec.get('cell', rec.get('scenario'))}: {name} {d['baseline']} -> {d['now']}")
    if not counts:
        return []
    lines = ["luxgate baselines: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    if better:
        lines.append("luxgate baselines: better than the baseline (re-record with --snapshot-update "
                     "to keep the gain):")
        lines += better
    return lines
