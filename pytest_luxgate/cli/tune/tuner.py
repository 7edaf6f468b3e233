"""The search loop: per prompt, from the start parameters to the best candidate, round by
round, under the time and byte budgets; writes the state after every round."""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .evaluator import Evaluation
from .outputs import (
    HISTORY_FILE,
    PARAMS_FILE,
    REPORT_FILE,
    REPORT_SLACK,
    SUMMARY_FILE,
    WAV_DIR,
)
from .report import build_report, render_params, render_summary
from .search import STEP_START, next_step, params_key, propose
from .space import Space
from .store import BudgetExceeded, Store, wav_bytes


@dataclass
class PromptState:
    prompt: str
    rng: np.random.Generator
    start: Evaluation | None = None
    best: Evaluation | None = None
    path: list[dict[str, Any]] = field(default_factory=list)
    step: float = STEP_START
    evaluations: int = 0
    seen: set[str] = field(default_factory=set)
    wavs: dict[str, str] = field(default_factory=dict)     # scenario -> relative path
    wav_note: str | None = None
    exhausted: bool = False   # every nearby candidate was tried (a small discrete space)

    @property
    def passed(self) -> bool:
        return self.best is not None and self.best.score.passed


class Tuner:
    def __init__(self, *, opts: argparse.Namespace, store: Store, evaluate: Callable[..., Evaluation],
                 space: Space, start: dict[str, Any], prompts: list[str], meta: dict[str, Any],
                 log: Callable[[str], None], reserve: int = 0) -> None:
        self.opts, self.store, self.evaluate, self.space = opts, store, evaluate, space
        self.start_params, self.meta, self.log = start, meta, log
        self.states = {p: PromptState(p, _rng(opts.seed, p)) for p in prompts}
        self.t0 = time.monotonic()
        self.eval_seconds: list[float] = []
        self.stop_reason = ""
        self.rounds_done = 0
        # until the first report is written its size is an estimate; a take may not take that room
        self.store.reserve = reserve

    # -- budget -------------------------------------------------------------
    def _out_of_time(self) -> bool:
        if self.opts.max_seconds is None or not self.eval_seconds:
            return False
        mean = sum(self.eval_seconds) / len(self.eval_seconds)
        # stop before a candidate that would probably end past the limit
        return time.monotonic() - self.t0 + mean > self.opts.max_seconds

    # -- one evaluation -------------------------------------------------------
    def _evaluate(self, st: PromptState, params: dict[str, Any], round_: int, index: int) -> Evaluation:
        ev = self.evaluate(st.prompt, params, round_, index)
        st.evaluations += 1
        st.seen.add(params_key(params))
        self.eval_seconds.append(ev.seconds)
        if self.opts.history == "all":
            self._history({"prompt": st.prompt, **ev.summary()})
        return ev

    def _history(self, line: dict[str, Any]) -> None:
        data = (json.dumps(line, separators=(",", ":"), default=_plain) + "\n").encode()
        self.store.append(HISTORY_FILE, data)

    def _improve(self, st: PromptState, ev: Evaluation) -> None:
        """`ev` is the prompt's new best: record the step and keep only its take."""
        prev = st.best.params if st.best is not None else ev.params
        st.best = ev
        st.path.append({**ev.summary(), "evaluation": st.evaluations,
                        "changed": {k: [prev.get(k), v] for k, v in ev.params.items() if prev.get(k) != v}})
        self._keep_wavs(st, ev)

    def _keep_wavs(self, st: PromptState, ev: Evaluation) -> None:
        if self.opts.keep_wavs == "none":
            for cell in ev.cells:
                cell.audio = None
            return
        for rel in st.wavs.values():  # the old best goes first: only the best take is ever kept
            self.store.remove(rel)
        st.wavs = {}
        chosen = ev.cells if self.opts.keep_wavs == "scenario" else [ev.weakest()]
        for cell in chosen:
            if cell.audio is None:
                continue
            name = _safe(st.prompt) + (f"__{_safe(cell.scenario)}" if self.opts.keep_wavs == "scenario" else "")
            rel = f"{WAV_DIR}/{name}.wav"
            try:
                self.store.write(rel, wav_bytes(cell.audio, cell.rate))
            except BudgetExceeded as exc:
                st.wav_note = f"best take not kept: {exc}"
                raise
            st.wavs[cell.scenario] = rel
        for cell in ev.cells:  # audio is needed only until it is written
            cell.audio = None

    # -- the loop ---------------------------------------------------------------
    def run(self) -> None:
        try:
            for st in self.states.values():
                params = self.space.clip(self.start_params)
                ev = self._evaluate(st, params, 0, 0)
                st.start = ev
                self._improve(st, ev)
                self._round_line(st, 0, True)
            self.write_state()
            for r in range(1, self.opts.rounds + 1):
                todo = [st for st in self.states.values() if not st.passed and not st.exhausted]
                if not todo:
                    break
                for st in todo:
                    if not self._round(st, r):
                        break
                self.rounds_done = r
                self.write_state()
                if self.stop_reason:
                    return
            if not self.stop_reason:
                if all(st.passed for st in self.states.values()):
                    self.stop_reason = "passed"
                elif all(st.passed or st.exhausted for st in self.states.values()):
                    self.stop_reason = "space exhausted"
                else:
                    self.stop_reason = "rounds"
        except BudgetExceeded as exc:
            self.stop_reason = f"bytes: {exc}"
        except KeyboardInterrupt:
            self.stop_reason = "interrupted"
            raise
        finally:
            for st in self.states.values():
                if st.best is not None:
                    for cell in st.best.cells:
                        cell.audio = None

    def _round(self, st: PromptState, r: int) -> bool:
        """One round for one prompt; False when the time budget stops the tune."""
        assert st.best is not None
        cands = propose(st.best.params, self.space, st.step, st.rng, self.opts.candidates, st.seen)
        if not cands:
            st.exhausted = True
        round_best: Evaluation | None = None
        for i, params in enumerate(cands, start=1):
            if self._out_of_time():
                self.stop_reason = "time"
                break
            ev = self._evaluate(st, params, r, i)
            if round_best is None or ev.score < round_best.score:
                round_best = ev
            if ev.score.passed:
                break  # the goal: every check passes on every scenario
        improved = round_best is not None and round_best.score < st.best.score
        if improved:
            assert round_best is not None
            self._improve(st, round_best)
        st.step = next_step(st.step, improved)
        self._round_line(st, r, improved)
        return not self.stop_reason

    def _round_line(self, st: PromptState, r: int, improved: bool) -> None:
        """history.jsonl (best|all): the prompt's state after round r (0: the start)."""
        assert st.best is not None
        if self.opts.history != "none":
            self._history({"prompt": st.prompt, "round": r, "evaluations": st.evaluations,
                           "improved": improved, "best": st.best.score.to_list(),
                           "failing": st.best.failing, "step": round(st.step, 4),
                           **({"params": st.best.params} if improved else {}),
                           "elapsed_s": round(time.monotonic() - self.t0, 1)})
        self.log(_progress(st, r))

    # -- state on disk ----------------------------------------------------------
    def report(self) -> dict[str, Any]:
        return build_report(self)

    def write_state(self, final: bool = False) -> None:
        """tuned-params.toml, tune-report.json and TUNE.md, each atomically; they may use the
        reserve, which is then set again to cover the next (final) write."""
        report = self.report()
        report["run"]["complete"] = final and self.stop_reason != "interrupted"
        files = [(PARAMS_FILE, render_params(self, report).encode()),
                 (REPORT_FILE, (json.dumps(report, indent=1, default=_plain) + "\n").encode()),
                 (SUMMARY_FILE, render_summary(report).encode())]
        for rel, data in files:
            self.store.write(rel, data, essential=True)
        self.store.reserve = sum(len(d) for _, d in files) + REPORT_SLACK


def _progress(st: PromptState, r: int) -> str:
    assert st.best is not None
    fail = ", ".join(st.best.failing) or "none"
    return (f"luxgate tune: round {r} prompt {st.prompt}: {st.evaluations} evaluation(s), "
            f"best score {st.best.score.to_list()} (failing: {fail})")


def _rng(seed: int, prompt: str) -> np.random.Generator:
    # one stream per prompt: a prompt's path does not depend on the others
    return np.random.default_rng([seed, int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)])


def _safe(text: str) -> str:
    from ...matrix.cells import safe_name

    return safe_name(text)


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)
