"""`luxgate tune`: search generation parameters per prompt until the gate's checks pass.

    luxgate tune --stack piper --scenario short_plain --rounds 6 --candidates 4 \\
        --max-bytes 20M --max-seconds 300 -o luxgate-tune
    pytest --luxgate-params-file=luxgate-tune/tuned-params.toml     # gate on the result

Each candidate is judged by the gate's own machinery (CellRunner: stack ->
chunked synthesis -> analysis -> the checks), through the same take/transcript
cache, so a rerun of a tune with the same seed redoes no synthesis and no ASR.
The search (tune_search.py) starts from the stack's defaults and moves to the
best candidate; a prompt is done when every check passes for every scenario.
Everything on disk goes through one byte-budgeted Store (tune_store.py); the
output directory then holds:

    tuned-params.toml   best parameters per prompt ([params.STACK.PROMPT]); the gate reads it
    tune-report.json    the run, the space, and per prompt the path from start to best
    TUNE.md             the same for people
    history.jsonl       one line per round (--history best) or also per candidate (all)
    wavs/               the best take per prompt (or per prompt and scenario), 16-bit PCM

Exit codes: 0 every prompt passes, 1 the budget ran out first, 2 bad input
(or a budget too small for one take), 130 interrupted (the best so far is written).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .search import STEP_START, Score, next_step, params_key, propose, score
from .space import Space, SpaceError, default_space, load_space_file
from .store import BudgetExceeded, Store, wav_bytes

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
PARAMS_FILE, REPORT_FILE, SUMMARY_FILE, HISTORY_FILE, WAV_DIR = (
    "tuned-params.toml", "tune-report.json", "TUNE.md", "history.jsonl", "wavs")
OWNED = (PARAMS_FILE, REPORT_FILE, SUMMARY_FILE, HISTORY_FILE, WAV_DIR)
HISTORY = ("none", "best", "all")
KEEP = ("none", "prompt", "scenario")
#: bytes kept free beyond the current report files, for the final one (stop reason, last round)
REPORT_SLACK = 4096


class TuneError(Exception):
    """Bad input: the message names the option and what to do (exit 2)."""


# ----------------------------------------------------------------------------- arguments
def add_parser(sub: Any) -> None:
    t = sub.add_parser("tune", help="tune generation parameters per prompt until the gate's checks pass",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--stack", default="piper", help="stack name, or name=module:Class (default: piper)")
    t.add_argument("--prompts", type=Path, default=None, help="prompts TOML file (default: the shipped pair)")
    t.add_argument("--prompt", default="", help="only these prompt ids (comma separated)")
    t.add_argument("--scenarios", default="", help="extra scenario directories (comma separated)")
    t.add_argument("--scenario", default="", help="only these scenario ids (comma separated; default: all)")
    t.add_argument("--space", type=Path, default=None,
                   help="search space TOML (name = [min, max] per parameter); default: the stack's "
                   "tune_space() or the known ranges of its parameters")
    t.add_argument("--params", action="append", default=[], metavar="KEY=VALUE",
                   help="starting values over the stack defaults (repeatable)")
    t.add_argument("--rounds", type=int, default=8, help="most search rounds (default 8)")
    t.add_argument("--candidates", type=int, default=4, help="candidates per prompt per round (default 4)")
    t.add_argument("--max-seconds", type=float, default=None, help="wall-time budget (default: none)")
    t.add_argument("--max-bytes", default="200M",
                   help="byte budget of the output directory, e.g. 50M (default 200M)")
    t.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    t.add_argument("--take-seed", type=int, default=None,
                   help="run seed the takes are spoken with; the gate must use the same "
                   "(default: the gate's default, 1234)")
    t.add_argument("--history", choices=HISTORY, default="best",
                   help="history.jsonl: none, one line per round (best), or also per candidate (all)")
    t.add_argument("--keep-wavs", choices=KEEP, default="prompt",
                   help="best take kept per prompt (its weakest scenario), per prompt and scenario, or none")
    t.add_argument("--checks", default="", help="only these checks (default: the gate's)")
    t.add_argument("--asr", default=None, help="ASR model spec (default: as the gate)")
    t.add_argument("--threshold", action="append", default=[], metavar="KEY=VALUE",
                   help="threshold override, as the gate's --luxgate-threshold (repeatable)")
    t.add_argument("--chunk-chars", type=int, default=None, help="as --luxgate-chunk-chars")
    t.add_argument("--crossfade-ms", type=float, default=None, help="as --luxgate-crossfade-ms")
    t.add_argument("--cache-dir", type=Path, default=Path(".pytest_cache/d/luxgate"),
                   help="take/transcript cache, shared with the gate (default: .pytest_cache/d/luxgate)")
    t.add_argument("--cache-size", default=None, help="cache budget, e.g. 2G (as --luxgate-cache-size)")
    t.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    t.add_argument("-o", "--output", type=Path, default=Path("luxgate-tune"),
                   help="output directory (default: luxgate-tune)")


# ----------------------------------------------------------------------------- evaluation
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
                 thresholds: dict[str, float], chunking: Any, checks: tuple[str, ...], cache: Any) -> None:
        self.stack, self.scenarios, self.prompts = stack, scenarios, prompts
        self.asr, self.take_seed, self.thresholds = asr, take_seed, thresholds
        self.chunking, self.checks, self.cache = chunking, checks, cache
        self._encoded: dict[Any, Any] = {}  # prompt encodings shared by every candidate

    def __call__(self, prompt: str, params: dict[str, Any], round_: int, index: int) -> Evaluation:
        from ...judging.checks import LISTENER_CHECKS, CheckNotApplicable
        from ...matrix.cells import Cell
        from ...report.matrix import take_score
        from ...run.runner import CellFailed, CellRunner, CellSkipped

        t0 = time.perf_counter()
        runner = CellRunner(
            scenarios={s.id: s for s in self.scenarios}, prompts={p.id: p for p in self.prompts},
            asr_spec=self.asr, seed=self.take_seed, params={}, thresholds=self.thresholds,
            work_dir=None, chunking=self.chunking, cache=self.cache,
            listen=frozenset(c for c in self.checks if c in LISTENER_CHECKS),
            prompt_params={self.stack: {prompt: params}}, encoded=self._encoded)
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


# ----------------------------------------------------------------------------- the search
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
        from .report import build_report

        return build_report(self)

    def write_state(self, final: bool = False) -> None:
        """tuned-params.toml, tune-report.json and TUNE.md, each atomically; they may use the
        reserve, which is then set again to cover the next (final) write."""
        from .report import render_params, render_summary

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


# ----------------------------------------------------------------------------- set-up
def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _setup(args: argparse.Namespace) -> dict[str, Any]:
    """Resolve every input before anything is written; TuneError names the bad option."""
    from ...core.defaults import DEFAULT_ASR, DEFAULT_SEED
    from ...gate_suite import __all__ as gate_tests
    from ...judging.checks import CHECKS, checks_of
    from ...judging.thresholds import parse_assignments, validate_overrides
    from ...matrix.cells import OWN_VOICE
    from ...matrix.prompts import DEFAULT_FILE, PromptError, load_prompts
    from ...matrix.scenarios import ScenarioError, load_dirs, select, standard_dir
    from ...speech.chunking import (
        DEFAULT_CROSSFADE_MS,
        DEFAULT_MAX_CHARS,
        ChunkingOptions,
    )
    from ...speech.synthesis import coerce_params
    from ...stacks.base import StackUnavailable, get_stack, register_stack

    for opt, value, least in (("--rounds", args.rounds, 0), ("--candidates", args.candidates, 1)):
        if value < least:
            raise TuneError(f"{opt} must be >= {least}, got {value}")
    if args.max_seconds is not None and not args.max_seconds > 0:
        raise TuneError(f"--max-seconds must be > 0, got {args.max_seconds}")
    max_bytes = _size(args.max_bytes, "--max-bytes")
    name, sep, target = args.stack.partition("=")
    name = name.strip()
    if sep:
        try:
            register_stack(name, target.strip())
        except ValueError as exc:
            raise TuneError(f"--stack: {exc}") from None
    try:
        stack = get_stack(name)
    except StackUnavailable as exc:
        raise TuneError(f"--stack {name}: {exc}") from None
    try:
        scenario_dirs = [Path(p) for p in _split(args.scenarios)]
        scenarios = select(load_dirs([standard_dir(), *scenario_dirs]), _split(args.scenario))
        prompts = load_prompts(args.prompts or DEFAULT_FILE)
    except (ScenarioError, PromptError) as exc:
        raise TuneError(str(exc)) from None
    if getattr(stack, "clones_voice", True):
        wanted = _split(args.prompt)
        known = [p.id for p in prompts]
        missing = [w for w in wanted if w not in known]
        if missing:
            raise TuneError(f"--prompt: unknown prompt id(s) {missing}; known: {known}")
        prompt_ids = wanted or known
    else:
        prompt_ids = [OWN_VOICE]  # one fixed voice: its cells are the stack's own_voice row
    try:
        thresholds = validate_overrides({k: float(v) for k, v in
                                         parse_assignments(args.threshold, "--threshold").items()})
        start_layer = parse_assignments(args.params, "--params")
        defaults = stack.default_params()
        start = coerce_params(defaults, start_layer, stack=name)
    except ValueError as exc:
        raise TuneError(str(exc)) from None
    try:
        space = load_space_file(args.space, defaults) if args.space else default_space(stack, defaults)
    except SpaceError as exc:
        raise TuneError(str(exc)) from None
    gated = checks_of(gate_tests)
    gate_checks = tuple(c for c in CHECKS if c in gated) or tuple(CHECKS)
    checks = tuple(_split(args.checks)) or gate_checks
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise TuneError(f"--checks: unknown check(s) {unknown}; known: {', '.join(CHECKS)}")
    try:
        chunking = ChunkingOptions(DEFAULT_MAX_CHARS if args.chunk_chars is None else args.chunk_chars,
                                   DEFAULT_CROSSFADE_MS if args.crossfade_ms is None else args.crossfade_ms)
    except ValueError as exc:
        raise TuneError(f"--chunk-chars/--crossfade-ms: {exc}") from None
    notes = [f"scenario {s.id!r} fixes {k} in its [params]; the tuned value does not apply to it"
             for s in scenarios for k in s.params if k in space.names]
    return {"stack_name": name, "stack": stack, "scenarios": scenarios, "prompts": prompts,
            "prompt_ids": prompt_ids, "thresholds": thresholds, "start": start, "defaults": defaults,
            "space": space, "checks": checks, "chunking": chunking, "max_bytes": max_bytes,
            "asr": args.asr or DEFAULT_ASR,
            "take_seed": DEFAULT_SEED if args.take_seed is None else args.take_seed, "notes": notes}


def _size(text: str, option: str) -> int:
    from ...run.cache import CacheConfigError, parse_size

    try:
        value = parse_size(str(text))
    except CacheConfigError:
        raise TuneError(f"{option}: expected bytes like 500K, 20M or 2G, got {text!r}") from None
    if value <= 0:
        raise TuneError(f"{option} must be > 0, got {text!r}")
    return value


def _cache(args: argparse.Namespace) -> Any:
    if args.no_cache:
        return None
    from ...run.cache import DEFAULT_SIZE, ContentCache

    return ContentCache(args.cache_dir.expanduser(), _size(args.cache_size or DEFAULT_SIZE, "--cache-size"))


def report_estimate(setup: dict[str, Any]) -> int:
    """Generous size of tuned-params.toml + tune-report.json + TUNE.md before the first round
    (measured: ~5.5 KB for one prompt and scenario, ten checks)."""
    return 4000 + 2500 * len(setup["prompt_ids"]) * len(setup["scenarios"])


def minimum_bytes(setup: dict[str, Any], args: argparse.Namespace) -> tuple[int, str]:
    """An estimate of the smallest budget that holds the reports and one kept take."""
    rate = int((setup["stack"].describe() or {}).get("sample_rate") or 48_000)
    # 12 characters per second is slower than any of the gate's scenarios speak (Piper ~15),
    # so the estimate errs on the side of refusing a budget that could not hold the take
    seconds = [len(s.text) / 12.0 + 0.5 for s in setup["scenarios"]]
    per_take = {"none": 0, "prompt": max(seconds),
                "scenario": sum(seconds)}[args.keep_wavs] * rate * 2 + 44 * len(seconds)
    reports = report_estimate(setup)
    history = 600 if args.history != "none" else 0
    need = int(per_take + reports + history) + REPORT_SLACK
    why = (f"about {int(per_take)} bytes for one kept take (16-bit WAV at {rate} Hz, "
           f"--keep-wavs {args.keep_wavs}), {reports} for the reports, {history} for the history "
           f"and {REPORT_SLACK} kept free for the final report")
    return need, why


# ----------------------------------------------------------------------------- entry point
def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:  # before the output directory was touched (loading models)
        _stderr("luxgate tune: interrupted before the search started; nothing was written")
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    log = _stderr
    try:
        setup = _setup(args)
    except TuneError as exc:
        log(f"luxgate tune: error: {exc}")
        return EXIT_BAD_INPUT
    need, why = minimum_bytes(setup, args)
    if setup["max_bytes"] < need:
        log(f"luxgate tune: error: --max-bytes {setup['max_bytes']} cannot hold even one take: "
            f"a tune needs at least ~{need} bytes ({why}). Give --max-bytes {need} or more, "
            "or --keep-wavs none / --history none to keep less.")
        return EXIT_BAD_INPUT
    for note in setup["notes"]:
        log(f"luxgate tune: note: {note}")
    try:
        cache = _cache(args)
    except TuneError as exc:
        log(f"luxgate tune: error: {exc}")
        return EXIT_BAD_INPUT
    evaluate = Evaluator(stack=setup["stack_name"], scenarios=setup["scenarios"], prompts=setup["prompts"],
                         asr=setup["asr"], take_seed=setup["take_seed"], thresholds=setup["thresholds"],
                         chunking=setup["chunking"], checks=setup["checks"], cache=cache)
    old_term = _install_term_handler()
    store: Store | None = None
    try:
        store = Store(args.output, setup["max_bytes"], owned=OWNED)
        tuner = Tuner(opts=args, store=store, evaluate=evaluate, space=setup["space"], start=setup["start"],
                      prompts=setup["prompt_ids"], meta=_meta(setup, args, cache), log=log,
                      reserve=report_estimate(setup) + REPORT_SLACK)
        try:
            tuner.run()
        except KeyboardInterrupt:
            tuner.stop_reason = "interrupted"
            log("luxgate tune: interrupted; writing the best so far")
        except TuneError as exc:
            tuner.stop_reason = f"error: {exc}"
            log(f"luxgate tune: error: {exc}")
        try:
            tuner.write_state(final=True)
        except BudgetExceeded as exc:  # the previous round's state stays, complete and coherent
            log(f"luxgate tune: the final report did not fit the byte budget ({exc}); "
                "the last round's report stays")
    finally:
        if store is not None:
            store.close()
        if cache is not None:
            cache.evict()
        _restore_term_handler(old_term)
    log(f"luxgate tune: stopped ({tuner.stop_reason}); {store.used} of {store.limit} bytes used "
        f"(peak {store.peak}); best parameters in {args.output / PARAMS_FILE}")
    if tuner.stop_reason == "interrupted":
        return EXIT_INTERRUPTED
    if tuner.stop_reason.startswith("error"):
        return EXIT_BAD_INPUT
    return EXIT_PASS if all(st.passed for st in tuner.states.values()) else EXIT_FAIL


def _meta(setup: dict[str, Any], args: argparse.Namespace, cache: Any) -> dict[str, Any]:
    from ...run.runner import luxgate_version

    return {"stack": setup["stack_name"], "stack_info": setup["stack"].describe(),
            "asr": setup["asr"], "seed": args.seed, "take_seed": setup["take_seed"],
            "scenarios": [s.id for s in setup["scenarios"]], "prompts": setup["prompt_ids"],
            "checks": list(setup["checks"]), "thresholds": setup["thresholds"],
            "chunking": setup["chunking"].to_dict(), "defaults": setup["defaults"],
            "start": setup["start"],
            "budget": {"rounds": args.rounds, "candidates": args.candidates,
                       "max_seconds": args.max_seconds, "max_bytes": setup["max_bytes"]},
            "history": args.history, "keep_wavs": args.keep_wavs,
            "cache": None if cache is None else str(cache.root),
            "version": luxgate_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so the same cleanup runs."""


def _on_term(signum: int, frame: Any) -> None:
    raise _Terminated()


def _install_term_handler() -> Any:
    try:
        return signal.signal(signal.SIGTERM, _on_term), signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _restore_term_handler(old: Any) -> None:
    if old is not None:
        signal.signal(signal.SIGTERM, old[0])
        signal.signal(signal.SIGINT, old[1])


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
