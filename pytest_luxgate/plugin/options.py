"""Options and ini keys resolved into one plain GateConfig (CLI wins over ini)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pytest

from ..baselines.spec import BaselineError, BaselineOptions
from ..baselines.spec import parse_options as parse_baseline_options
from ..core.defaults import DEFAULT_ASR, DEFAULT_SEED
from ..judging.thresholds import parse_assignments, parse_overrides
from ..report.html import HtmlOptions
from ..report.html import parse_options as parse_html_options
from ..run.cache import DEFAULT_SIZE, CacheConfigError, ContentCache, parse_size
from ..speech.chunking import DEFAULT_CROSSFADE_MS, DEFAULT_MAX_CHARS, ChunkingOptions
from .sharding import Shard, parse_shard

KEEP_WAVS = ("none", "best", "all")
#: options that may be given several times, each adding to the list (pytest's convention for a
#: repeatable option); the command line still replaces the ini value as a whole
#: (every one takes a comma-separated list, so values given apart add up as if given together)
REPEATABLE = frozenset({"scenarios", "scenario", "stacks", "params", "threshold"})

# (name, help, default, ini type)
OPTIONS: list[tuple[str, str, Any, str]] = [
    ("stacks", "comma-separated stacks to gate (default: piper, plus the stacks -m names, "
     "e.g. -m mlx)", "", "string"),
    ("prompts", "prompts TOML file ([[prompt]] id, wav, text); default: the two shipped prompts", "", "string"),
    ("scenarios", "extra scenario directories (os.pathsep/comma separated; the option may be given "
     "several times, all are used), added to the standard five", "", "string"),
    ("scenario", "only these scenario ids (comma separated)", "", "string"),
    ("output", "report directory (report.json, SUMMARY.md, wavs/)", "luxgate-report", "string"),
    ("keep-wavs", "which takes to keep as WAV: none|best|all", "best", "string"),
    ("asr", "ASR model: faster-whisper:tiny.en|base|DIR or transformers:HUB_ID|DIR", DEFAULT_ASR, "string"),
    ("seed", "seed for every take (recorded)", str(DEFAULT_SEED), "string"),
    ("takes", "takes (seeds) per cell, each judged: a stochastic engine is judged on a sample "
     "(a scenario's `takes = N` wins)", "1", "string"),
    ("max-fail-rate", "with several takes: the share of a cell's takes that may fail a check, "
     "floor(rate x N) (0 = every take must pass)", "0", "string"),
    ("params", "generation parameters KEY=VALUE,... for every stack", "", "string"),
    ("params-file", "per-prompt generation parameters ([params.STACK.PROMPT] tables, as `luxgate tune` "
     "writes them), under --luxgate-params and a scenario's [params]", "", "string"),
    ("threshold", "threshold overrides KEY=VALUE,... for every scenario", "", "string"),
    ("chunk-chars", "speak text longer than N characters in sentence/phrase chunks joined by a "
     "crossfade (0 = one pass)", str(DEFAULT_MAX_CHARS), "string"),
    ("crossfade-ms", "equal-power crossfade at each chunk join, in milliseconds",
     f"{DEFAULT_CROSSFADE_MS:g}", "string"),
    ("html", "self-contained HTML report to write (default: report.html in the output "
     "directory; 'none' = no HTML)", "", "string"),
    ("html-audio", "kept takes in the HTML report: embed (base64, up to --luxgate-html-embed-mb) "
     "or link (relative to the page)", "embed", "string"),
    ("html-embed-mb", "most megabytes of audio embedded in the HTML report; later takes are linked",
     "50", "string"),
    # regression baselines (test_baseline, baselines.py); the files are syrupy snapshots
    ("baseline-tolerance", "baseline tolerances METRIC=ATOL or METRIC.atol=X / METRIC.rtol=X, ...",
     "", "string"),
    ("baseline-platform", "key baselines by platform: off, auto (e.g. linux-x86_64) or a TAG",
     "off", "string"),
    ("baseline-transcripts", "also snapshot each transcript verbatim (pinned ASR environments); "
     "a bare flag is on, =no turns an ini setting off", False, "bool"),
    ("baseline-required", "fail, not skip, a cell whose baseline is missing or stale; "
     "a bare flag is on, =no turns an ini setting off", False, "bool"),
    # release CI (issue 6): pytest_luxgate/release.py, cache.py, sharding.py
    ("require", "release mode: stacks that must run (comma separated); a required stack that is "
     "skipped or cannot load fails the run", "", "string"),
    ("cache-dir", "persistent take/transcript cache directory (default: pytest's cache dir, "
     ".pytest_cache/d/luxgate)", "", "string"),
    ("cache-size", "byte budget of the take/transcript cache, e.g. 500M or 2G (least recently "
     "used entries are evicted)", "2G", "string"),
    ("no-cache", "do not read or write the take/transcript cache", False, "bool"),
    ("no-overlap", "make and hear each cell on one thread (by default a single-process run on 2+ "
     "cores synthesises the next cell while this one is transcribed)", False, "bool"),
    ("shard", "run only shard I of N of the matrix cells, e.g. 1/3 (whole cells, by cell-key hash)",
     "", "string"),
    # LuxTTS stacks (issue 4): pytest_luxgate/stacks/luxtts/, prompt_text.py
    ("luxtts-path", "LuxTTS weights directory (YatharthS/LuxTTS layout); default: env "
     "LUXGATE_LUXTTS_PATH, else the Hugging Face cache (offline lookup only)", "", "string"),
    ("luxtts-device", "device of the torch stack: auto|cpu|cuda|mps (auto: cuda, then mps, then cpu)",
     "auto", "string"),
    ("prompt-text", "prompt without a transcript: strict (fail the cell) | asr (the gate's ASR, "
     "unstable transcripts refused) | target-fallback (the spoken text)", "strict", "string"),
]


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("luxgate", "LuxTTS quality gate")
    for name, help_text, default, ini_type in OPTIONS:
        ini = "luxgate_" + name.replace("-", "_")
        flag: dict[str, Any] = {"nargs": "?", "const": "true"} if ini_type == "bool" else {}  # bare flag = on
        if name in REPEATABLE:
            flag["action"] = "append"
        group.addoption(f"--luxgate-{name}", dest=ini, default=None,
                        help=f"{help_text} [ini: {ini}]", **flag)
        parser.addini(ini, help_text, type=ini_type, default=default)


def _get(config: pytest.Config, name: str) -> str:
    ini = "luxgate_" + name.replace("-", "_")
    value = config.getoption(ini)
    if value is None:
        value = config.getini(ini)
    if isinstance(value, list):  # a REPEATABLE option given several times: every value counts
        return ",".join(str(v).strip() for v in value if str(v).strip())
    return str(value or "").strip()


def _source(config: pytest.Config, name: str) -> str:
    """Where an option's value came from, for messages: the command line or the ini key."""
    ini = "luxgate_" + name.replace("-", "_")
    return f"--luxgate-{name}" if config.getoption(ini) is not None else f"ini {ini}"


def _split(value: str, *, paths: bool = False) -> list[str]:
    import os

    if paths:  # directory lists also accept the platform's path separator
        value = value.replace(os.pathsep, ",")
    return [p.strip() for p in value.split(",") if p.strip()]


def required_stacks(config: pytest.Config, stacks: Iterable[str]) -> tuple[str, ...]:
    """Parse --luxgate-require; every name must be one of the run's stacks."""
    names = tuple(dict.fromkeys(_split(_get(config, "require"))))
    missing = [n for n in names if n not in stacks]
    if missing:
        raise ConfigError(f"--luxgate-require names {', '.join(map(repr, missing))}, not in --luxgate-stacks "
                          f"({', '.join(stacks)}): add it there, or drop it from the required stacks")
    return names


def shard_option(config: pytest.Config) -> Shard | None:
    """Parse --luxgate-shard I/N (None: the whole matrix)."""
    try:
        return parse_shard(_get(config, "shard"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


class ConfigError(pytest.UsageError):
    """A luxgate option or ini key is invalid."""


@dataclass(frozen=True)
class GateConfig:
    rootdir: Path
    stacks: tuple[str, ...]
    prompts_file: Path | None
    scenario_dirs: tuple[Path, ...]
    scenario_ids: tuple[str, ...]
    output: Path
    keep_wavs: str
    asr: str
    seed: int
    params: dict[str, str] = field(default_factory=dict)
    #: stack -> prompt -> params from --luxgate-params-file (params_file.py)
    prompt_params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    params_file: Path | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    #: where `thresholds` came from (--luxgate-threshold or the ini key), for messages
    threshold_source: str = "--luxgate-threshold"
    chunking: ChunkingOptions = field(default_factory=ChunkingOptions)
    baseline: BaselineOptions = field(default_factory=BaselineOptions)
    html: HtmlOptions = field(default_factory=lambda: HtmlOptions(None))
    #: options stacks read at load (stacks/base.py set_stack_options), e.g. luxtts_path
    stack_options: dict[str, str] = field(default_factory=dict)
    prompt_text_policy: str = "strict"
    #: stage one of the next cell (synthesis, listener models) beside this cell's ASR (run/ahead.py)
    overlap: bool = True
    takes: int = 1
    max_fail_rate: float = 0.0
    #: stacks in the matrix that nobody named (piper beside the stacks -m names): when the
    #: selection runs none of their cells, the run's verdict leaves them out (report/verdict.py)
    default_stacks: tuple[str, ...] = ()

    @classmethod
    def from_pytest(cls, config: pytest.Config) -> "GateConfig":
        root = Path(config.rootpath)

        def path(p: str) -> Path:
            q = Path(p).expanduser()
            return q if q.is_absolute() else root / q

        keep = _get(config, "keep-wavs") or "best"
        if keep not in KEEP_WAVS:
            raise ConfigError(f"--luxgate-keep-wavs must be one of {'|'.join(KEEP_WAVS)}, got {keep!r}")
        seed_text = _get(config, "seed") or str(DEFAULT_SEED)
        try:
            seed = int(seed_text)
        except ValueError:
            raise ConfigError(f"--luxgate-seed must be an integer, got {seed_text!r}") from None
        try:
            params = parse_assignments([_get(config, "params")], "--luxgate-params")
            thresholds = parse_overrides([_get(config, "threshold")], _source(config, "threshold"))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        try:
            baseline = parse_baseline_options(
                tolerance=_get(config, "baseline-tolerance"), platform_opt=_get(config, "baseline-platform"),
                transcripts=_get(config, "baseline-transcripts"), required=_get(config, "baseline-required"))
        except BaselineError as exc:
            raise ConfigError(str(exc)) from None
        chunking = _chunking(_get(config, "chunk-chars") or str(DEFAULT_MAX_CHARS),
                             _get(config, "crossfade-ms") or str(DEFAULT_CROSSFADE_MS))
        stacks: list[str] = []
        for spec in _split(_stacks_spec(config)):
            name, sep, target = spec.partition("=")
            if sep:
                from ..stacks.base import register_stack

                try:
                    register_stack(name.strip(), target.strip())
                except ValueError as exc:
                    raise ConfigError(f"--luxgate-stacks: {exc}") from None
            stacks.append(name.strip())
        if not stacks:
            raise ConfigError("--luxgate-stacks names no stack")
        prompts = _get(config, "prompts")
        try:
            html = parse_html_options(_get(config, "html"), _get(config, "html-audio"),
                                      _get(config, "html-embed-mb"),
                                      output=path(_get(config, "output") or "luxgate-report"), resolve=path)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            rootdir=root,
            stacks=tuple(dict.fromkeys(stacks)),
            prompts_file=path(prompts) if prompts else None,
            scenario_dirs=tuple(path(p) for p in _split(_get(config, "scenarios"), paths=True)),
            scenario_ids=tuple(_split(_get(config, "scenario"))),
            output=path(_get(config, "output") or "luxgate-report"),
            keep_wavs=keep,
            asr=_asr(_get(config, "asr") or DEFAULT_ASR),
            seed=seed,
            params=params,
            prompt_params=_prompt_params(_get(config, "params-file"), path),
            params_file=path(_get(config, "params-file")) if _get(config, "params-file") else None,
            thresholds=thresholds,
            threshold_source=_source(config, "threshold"),
            chunking=chunking,
            baseline=baseline,
            html=html,
            stack_options=_stack_options(config, path),
            prompt_text_policy=_prompt_text_policy(_get(config, "prompt-text")),
            overlap=_get(config, "no-overlap").lower() not in ("1", "true", "yes", "on"),
            takes=_takes(_get(config, "takes") or "1"),
            max_fail_rate=_fail_rate(_get(config, "max-fail-rate") or "0"),
            default_stacks=_default_stacks(config),
        )


#: marker names that stand for stacks other than by their own name
MARKER_STACKS = {"luxtts": ("mlx", "torch")}


def _stacks_spec(config: pytest.Config) -> str:
    """--luxgate-stacks or its ini key; when neither is set, 'piper' plus every stack
    that `-m` names, so `pytest -m mlx` (or `-m "mlx or torch"`, `-m luxtts`) gates
    that stack with no other option."""
    given = _get(config, "stacks")
    if given:
        return given
    return ",".join(dict.fromkeys(["piper", *_marker_stacks(config)]))


def _marker_stacks(config: pytest.Config) -> list[str]:
    """The known stacks that `-m` names (by name, or as `luxtts`)."""
    import re

    from ..stacks.base import available_stacks

    named = re.findall(r"[\w.:+/-]+", str(config.getoption("markexpr", "") or ""))
    known = available_stacks()
    return [n for name in named for n in (name,) + MARKER_STACKS.get(name, ()) if n in known]


def _default_stacks(config: pytest.Config) -> tuple[str, ...]:
    """Stacks _stacks_spec adds that neither --luxgate-stacks, its ini key nor -m named."""
    if _get(config, "stacks"):
        return ()
    return () if "piper" in _marker_stacks(config) else ("piper",)


def _stack_options(config: pytest.Config, path: Any) -> dict[str, str]:
    luxtts = _get(config, "luxtts-path")
    return {"luxtts_path": str(path(luxtts)) if luxtts else "",
            "luxtts_device": _get(config, "luxtts-device") or "auto"}


def _asr(spec: str) -> str:
    """The ASR spec, refused at start-up when it cannot load (a registry lookup and a look
    for the files, not a model load), instead of an error in every cell."""
    from ..asr.base import ASRError
    from ..asr.registry import check_spec

    try:
        check_spec(spec)
    except ASRError as exc:
        raise ConfigError(f"--luxgate-asr: {exc}") from None
    return spec


def stack_param_defaults(cls: type) -> dict[str, Any] | None:
    """A stack's generation parameters from an instance that has not loaded its models
    (the protocol keeps model loading in load()); None when they cannot be known so
    (its __init__ or default_params needs the models): its cells then say it."""
    try:
        defaults = cls().default_params()
    except Exception:  # noqa: BLE001 - a stack that cannot even be built is reported by its cells
        return None
    return dict(defaults) if isinstance(defaults, dict) and defaults else None


def check_generation_params(cfg: GateConfig, defaults: dict[str, dict[str, Any]],
                            scenarios: Iterable[Any]) -> None:
    """Refuse, before any synthesis, a generation parameter that no stack of the run has
    or a value it cannot take, naming the option or file and the known parameters.

    `defaults`: stack -> its parameters, for the stacks whose parameters are known without
    loading (stack_param_defaults). --luxgate-params and a scenario's [params] apply to
    every stack: a key unknown to all of them is a typo; one that only some stacks have
    (a LuxTTS parameter in a run that also gates Piper) still errors the other stacks'
    cells, as it always did. A [params.STACK.PROMPT] table of --luxgate-params-file is
    for that stack alone, so its keys must all be that stack's."""
    from ..speech.synthesis import coerce_params

    if not defaults:
        return

    def check(where: str, layer: dict[str, Any], stacks: list[str]) -> None:
        for key, value in layer.items():
            having = [s for s in stacks if key in defaults[s]]
            if not having:
                known = sorted({k for s in stacks for k in defaults[s]})
                names = ", ".join(map(repr, stacks))
                raise ConfigError(f"{where}: unknown generation parameter {key!r} (value {value!r}); "
                                  f"{'stacks' if len(stacks) > 1 else 'stack'} {names} "
                                  f"{'know' if len(stacks) > 1 else 'knows'}: {', '.join(known)}")
            for s in having:
                try:
                    coerce_params(defaults[s], {key: value}, stack=s)
                except ValueError as exc:
                    raise ConfigError(f"{where}: stack {s!r}: {exc}") from None

    stacks = [s for s in cfg.stacks if s in defaults]
    check("--luxgate-params", cfg.params, stacks)
    for sc in scenarios:
        check(f"scenario {sc.id!r} [params] ({sc.source})", sc.params, stacks)
    for stack, prompts in cfg.prompt_params.items():
        if stack in defaults:
            for prompt, layer in prompts.items():
                check(f"--luxgate-params-file {cfg.params_file} [params.{stack}.{prompt}]", layer, [stack])


def _prompt_text_policy(value: str) -> str:
    from ..matrix.prompt_text import validate_policy

    try:
        return validate_policy(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _chunking(chars: str, crossfade: str) -> ChunkingOptions:
    try:
        max_chars = int(chars)
    except ValueError:
        raise ConfigError(f"--luxgate-chunk-chars must be an integer (0 = off), got {chars!r}") from None
    try:
        crossfade_ms = float(crossfade)
    except ValueError:
        raise ConfigError(f"--luxgate-crossfade-ms must be a number, got {crossfade!r}") from None
    try:
        return ChunkingOptions(max_chars, crossfade_ms)
    except ValueError as exc:
        raise ConfigError(f"--luxgate-chunk-chars/--luxgate-crossfade-ms: {exc}") from None


def _takes(value: str) -> int:
    from ..matrix.scenarios import MAX_TAKES

    try:
        takes = int(value)
    except ValueError:
        takes = 0
    if not 1 <= takes <= MAX_TAKES:
        raise ConfigError(f"--luxgate-takes must be a whole number from 1 to {MAX_TAKES}, got {value!r}")
    return takes


def _fail_rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate < 1.0:
        raise ConfigError(f"--luxgate-max-fail-rate must be a share from 0 up to (not including) 1, got {value!r}")
    return rate


def _prompt_params(value: str, path: Any) -> dict[str, dict[str, dict[str, Any]]]:
    if not value:
        return {}
    from ..matrix.params_file import ParamsFileError, read_params_file

    try:
        return read_params_file(path(value))
    except ParamsFileError as exc:
        raise ConfigError(f"--luxgate-params-file: {exc}") from None


def cache_from_config(config: pytest.Config) -> ContentCache | None:
    """The run's cache, or None when off (--luxgate-no-cache, or no cache dir at all)."""
    if _get(config, "no-cache").lower() in ("1", "true", "yes", "on"):
        return None
    try:
        budget = parse_size(_get(config, "cache-size") or DEFAULT_SIZE)
    except CacheConfigError as exc:
        raise ConfigError(str(exc)) from None
    where = _get(config, "cache-dir")
    if where:
        root = Path(where).expanduser()
        root = root if root.is_absolute() else Path(config.rootpath) / root
    elif getattr(config, "cache", None) is not None:
        root = Path(config.cache.mkdir("luxgate"))
    else:  # -p no:cacheprovider and no --luxgate-cache-dir
        return None
    cache = ContentCache(root, budget)
    # pytest's --cache-clear empties .pytest_cache (ours included) by itself; an explicit
    # --luxgate-cache-dir is cleared here, by the controller only, before any worker starts
    if where and config.getoption("cacheclear", False) and not hasattr(config, "workerinput"):
        cache.clear()
    return cache
