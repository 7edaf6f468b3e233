"""Judging one candidate: its parameters -> the gate's verdicts on every scenario.

The gate's own machinery does the work (CellRunner: stack -> chunked synthesis ->
analysis -> the checks), through the same take/transcript cache as the gate.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import TuneError
from .search import Score, score


@dataclass
class CellResult:
    scenario: str
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    legacy: float | None = None
    error: str | None = None
    audio: np.ndarray | None = None
    rate: int = 0
    cached: bool = False   # the take came from the persistent cache (a resumed tune)

    @property
    def failing(self) -> list[str]:
        if self.error:
            return ["error"]
        return [n for n, v in self.verdicts.items() if not v["passed"]]


@dataclass
class Evaluation:
    params: dict[str, Any]
    score: Score
    round: int
    index: int
    seconds: float
    cells: list[CellResult]

    @property
    def failing(self) -> list[str]:
        return [f"{c.scenario}:{f}" for c in self.cells for f in c.failing]

    def weakest(self) -> CellResult:
        """The scenario a listener should hear: most failing checks (first on ties)."""
        return max(self.cells, key=lambda c: len(c.failing))  # max keeps the first of equals

    def summary(self, detail: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"round": self.round, "candidate": self.index, "params": self.params,
                               "score": self.score.to_list(), "failing": self.failing,
                               "seconds": round(self.seconds, 2)}
        out["cached"] = sum(1 for c in self.cells if c.cached)
        legacy = [c.legacy for c in self.cells if c.legacy is not None]
        if legacy:
            out["legacy_score"] = round(sum(legacy) / len(legacy), 4)
        if detail:
            out["checks"] = {c.scenario: ({"error": c.error} if c.error else c.verdicts) for c in self.cells}
        return out


class Evaluator:
    """One candidate -> the gate's verdicts on every scenario, via a CellRunner."""

    def __init__(self, *, stack: str, scenarios: list[Any], prompts: list[Any], asr: str, take_seed: int,
                 thresholds: dict[str, float], chunking: Any, checks: tuple[str, ...], cache: Any,
                 prompt_text: str = "strict") -> None:
        self.stack, self.scenarios, self.prompts = stack, scenarios, prompts
        self.asr, self.take_seed, self.thresholds = asr, take_seed, thresholds
        self.chunking, self.checks, self.cache = chunking, checks, cache
        self.prompt_text = prompt_text  # the prompt-text policy (matrix/prompt_text.py), as the gate's
        self._encoded: dict[Any, Any] = {}  # prompt encodings shared by every candidate

    def __call__(self, prompt: str, params: dict[str, Any], round_: int, index: int) -> Evaluation:
        from ...judging.checks import LISTENER_CHECKS, CheckNotApplicable
        from ...judging.takes import take_score
        from ...matrix.cells import Cell
        from ...run.runner import CellFailed, CellRunner, CellSkipped

        t0 = time.perf_counter()
        runner = CellRunner(
            scenarios={s.id: s for s in self.scenarios}, prompts={p.id: p for p in self.prompts},
            asr_spec=self.asr, seed=self.take_seed, params={}, thresholds=self.thresholds,
            work_dir=None, chunking=self.chunking, cache=self.cache,
            listen=frozenset(c for c in self.checks if c in LISTENER_CHECKS),
            prompt_params={self.stack: {prompt: params}}, encoded=self._encoded)
        runner.prompt_text_policy = self.prompt_text
        cells: list[CellResult] = []
        for sc in self.scenarios:
            cell = Cell(self.stack, prompt, sc.id)
            res = CellResult(sc.id)
            try:
                outcome = runner.outcome(cell)
            except CellSkipped as exc:
                raise TuneError(str(exc)) from None
            except CellFailed as exc:
                res.error = str(exc)
                cells.append(res)
                continue
            res.thresholds, res.audio, res.rate = outcome.thresholds, outcome.take.audio, outcome.take.sample_rate
            res.cached = bool(outcome.record.get("cached", {}).get("synthesis"))
            for name in self.checks:
                try:
                    r = runner.check(cell, name)
                except CheckNotApplicable:
                    continue  # the gate skips it too (listener not installed, no prompt)
                res.verdicts[name] = {"passed": bool(r["passed"]), "value": r["value"],
                                      "threshold": r["threshold"]}
                if not r["passed"]:
                    res.verdicts[name]["message"] = str(r["message"]).split("\n")[0][:300]
            res.legacy = take_score({**outcome.record, "checks": res.verdicts})[1]
            cells.append(res)
        s = score([c.verdicts for c in cells if not c.error], [c.thresholds for c in cells if not c.error],
                  errors=sum(1 for c in cells if c.error), checks_per_cell=len(self.checks))
        return Evaluation(dict(params), s, round_, index, time.perf_counter() - t0, cells)
