"""What a tune leaves for people and for the gate: tune-report.json, TUNE.md, tuned-params.toml.

Pure rendering from the tuner's state; writing (atomic, byte-budgeted) is the Store's job.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ...matrix.params_file import render_params_file

if TYPE_CHECKING:  # pragma: no cover
    from .tuner import Tuner

SCHEMA = 1


def build_report(tuner: "Tuner") -> dict[str, Any]:
    prompts: dict[str, Any] = {}
    for pid, st in tuner.states.items():
        entry: dict[str, Any] = {"passed": st.passed, "evaluations": st.evaluations,
                                 "path": st.path, "wavs": dict(st.wavs)}
        if st.start is not None:
            entry["start"] = st.start.summary(detail=True)
        if st.best is not None:
            entry["best"] = st.best.summary(detail=True)
        if st.wav_note:
            entry["wav_note"] = st.wav_note
        prompts[pid] = entry
    run = {**tuner.meta, "duration_s": round(time.monotonic() - tuner.t0, 2),
           "stop_reason": tuner.stop_reason or "running", "rounds_done": tuner.rounds_done,
           "evaluations": sum(st.evaluations for st in tuner.states.values()),
           "passed": bool(tuner.states) and all(st.passed for st in tuner.states.values())}
    return {"schema": SCHEMA, "kind": "luxgate-tune", "run": run, "space": tuner.space.to_dict(),
            # what the directory held just before this report was written
            "bytes": {"limit": tuner.store.limit, "used": tuner.store.used, "peak": tuner.store.peak},
            "prompts": prompts}


def tuned_params(tuner: "Tuner") -> dict[str, dict[str, Any]]:
    """prompt -> the best values of the tuned parameters (and of any --params start value)."""
    keys = list(tuner.space.names) + [k for k, v in tuner.start_params.items()
                                      if k not in tuner.space.names and tuner.meta["defaults"].get(k) != v]
    return {pid: {k: _scalar(st.best.params[k]) for k in keys}
            for pid, st in tuner.states.items() if st.best is not None}


def render_params(tuner: "Tuner", report: dict[str, Any]) -> str:
    run = report["run"]
    tune = {"stack": run["stack"], "take_seed": run["take_seed"], "asr": run["asr"], "seed": run["seed"],
            "scenarios": run["scenarios"], "checks": run["checks"], "stop_reason": run["stop_reason"],
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "prompts": {pid: {"passed": p["passed"], "evaluations": p["evaluations"],
                              "score": p["best"]["score"] if "best" in p else []}
                        for pid, p in report["prompts"].items()}}
    header = (f"Generation parameters tuned by `luxgate tune` ({run['stack']}, take seed {run['take_seed']}).\n"
              f"Gate on them: pytest --luxgate-params-file=<this file> --luxgate-seed={run['take_seed']}\n"
              "The gate reads only the [params.STACK.PROMPT] tables; [tune] records how they were found.")
    return render_params_file({run["stack"]: tuned_params(tuner)}, tune, header)


def render_summary(report: dict[str, Any]) -> str:
    run = report["run"]
    verdict = "PASS" if run["passed"] else "FAIL"
    b = report["bytes"]
    lines = [f"# luxgate tune: {verdict} ({run['stop_reason']})", "",
             f"Stack `{run['stack']}` · ASR `{run['asr']}` · search seed {run['seed']} · take seed "
             f"{run['take_seed']} · {run['evaluations']} evaluation(s) in {run['duration_s']:.1f} s · "
             f"{run['rounds_done']} round(s) of at most {run['budget']['rounds']} × "
             f"{run['budget']['candidates']} candidates",
             f"Scenarios: {', '.join(run['scenarios'])} · checks: {', '.join(run['checks'])}",
             f"Output: {b['used']} of {b['limit']} bytes (peak {b['peak']}) before this file", "",
             "Score: failing (scenario, check) verdicts, then how far past their limits (normalised, "
             "capped at 4 each), then minus the mean headroom of the passing ones; lower is better.", ""]
    space = report["space"]["dims"]
    for pid, p in report["prompts"].items():
        icon = "✅" if p["passed"] else "❌"
        lines += [f"## {icon} prompt `{pid}`: {p['evaluations']} evaluation(s)", ""]
        path = p["path"]
        if path:
            lines += ["| eval | round | score | failing | changed |", "|---|---|---|---|---|"]
            for step in path:
                changed = ", ".join(f"{k} {_fmt(a)}→{_fmt(b)}" for k, (a, b) in step["changed"].items()) or "start"
                failing = ", ".join(step["failing"]) or "none"
                lines.append(f"| {step['evaluation']} | {step['round']} | {_score(step['score'])} | "
                             f"{failing} | {changed} |")
            lines.append("")
        if "start" in p and "best" in p:
            lines += ["| parameter | range | start | best |", "|---|---|---|---|"]
            for name, dim in space.items():
                rng = f"{dim['min']:g}–{dim['max']:g}" if "min" in dim else "/".join(map(str, dim["values"]))
                lines.append(f"| {name} | {rng} | {_fmt(p['start']['params'].get(name))} | "
                             f"{_fmt(p['best']['params'].get(name))} |")
            lines.append("")
            for scen, checks in p["best"].get("checks", {}).items():
                for name, v in checks.items() if isinstance(checks, dict) else ():
                    if isinstance(v, dict) and not v.get("passed", True):
                        lines.append(f"- still failing, {scen} **{name}**: {v.get('message', '')}")
                if "error" in checks:
                    lines.append(f"- {scen}: {checks['error']}")
        if p.get("wavs"):
            lines.append("Best take: " + ", ".join(f"`{w}`" for w in p["wavs"].values()))
        if p.get("wav_note"):
            lines.append(f"Note: {p['wav_note']}")
        lines.append("")
    lines += ["Gate on the result: `pytest --luxgate-params-file=tuned-params.toml "
              f"--luxgate-seed={run['take_seed']}`", ""]
    return "\n".join(lines)


def _score(s: list[float]) -> str:
    return f"{int(s[0])} / {s[1]:.3g} / {s[2]:.3g}"


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _scalar(v: Any) -> Any:
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v
