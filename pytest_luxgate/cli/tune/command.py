"""`luxgate tune`: search generation parameters per prompt until the gate's checks pass.

    luxgate tune --stack piper --scenario short_plain --rounds 6 --candidates 4 \\
        --max-bytes 20M --max-seconds 300 -o luxgate-tune
    pytest --luxgate-params-file=luxgate-tune/tuned-params.toml     # gate on the result

Each candidate is judged by the gate's own machinery (CellRunner: stack ->
chunked synthesis -> analysis -> the checks), through the same take/transcript
cache, so a rerun of a tune with the same seed redoes no synthesis and no ASR.
The search (search.py) starts from the stack's defaults and moves to the
best candidate; a prompt is done when every check passes for every scenario.
Everything on disk goes through one byte-budgeted Store (store.py); the
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
import signal
import sys
from pathlib import Path
from typing import Any

from ...matrix.prompt_text import POLICIES
from .errors import TuneError
from .evaluator import Evaluator
from .outputs import OWNED, PARAMS_FILE, REPORT_SLACK
from .setup import _cache, _meta, _setup, minimum_bytes, report_estimate
from .store import BudgetExceeded, Store
from .tuner import Tuner

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
HISTORY = ("none", "best", "all")
KEEP = ("none", "prompt", "scenario")


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
                   "own tune_space() (a stack without one needs --space)")
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
    t.add_argument("--prompt-text", choices=POLICIES, default="strict",
                   help="a prompt without a transcript, or one its audio contradicts: as --luxgate-prompt-text "
                        "(default strict: the cell is an error)")
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
                         chunking=setup["chunking"], checks=setup["checks"], cache=cache,
                         prompt_text=setup["prompt_text"])
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
