"""Set-up before a tune writes anything: resolve and check every option (TuneError names the
bad one), size the byte budget it needs, open the cache, describe the run for the report."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .errors import TuneError
from .outputs import REPORT_SLACK
from .space import SpaceError, default_space, load_space_file


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
    from ...matrix.scenarios import ScenarioError, check_thresholds, load_dirs, select, standard_dir
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
        check_thresholds(scenarios, thresholds, "--threshold")  # rate_min_sps above rate_max_sps, ...
        start_layer = parse_assignments(args.params, "--params")
        defaults = stack.default_params()
        start = coerce_params(defaults, start_layer, stack=name)
    except (ValueError, ScenarioError) as exc:
        raise TuneError(str(exc)) from None
    try:
        space = load_space_file(args.space, defaults) if args.space else default_space(stack, defaults, name)
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
            "asr": args.asr or DEFAULT_ASR, "prompt_text": args.prompt_text,
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
