"""Options and ini keys resolved into one plain GateConfig (CLI wins over ini)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .chunking import DEFAULT_CROSSFADE_MS, DEFAULT_MAX_CHARS, ChunkingOptions
from .thresholds import parse_assignments, validate_overrides

KEEP_WAVS = ("none", "best", "all")
DEFAULT_ASR = "faster-whisper:base"
DEFAULT_SEED = 1234

# (name, help, default, ini type)
OPTIONS: list[tuple[str, str, Any, str]] = [
    ("stacks", "comma-separated stacks to gate (default: piper)", "piper", "string"),
    ("prompts", "prompts TOML file ([[prompt]] id, wav, text); default: the two shipped prompts", "", "string"),
    ("scenarios", "extra scenario directories (os.pathsep/comma separated), added to the standard five", "", "string"),
    ("scenario", "only these scenario ids (comma separated)", "", "string"),
    ("output", "report directory (report.json, SUMMARY.md, wavs/)", "luxgate-report", "string"),
    ("keep-wavs", "which takes to keep as WAV: none|best|all", "best", "string"),
    ("asr", "ASR model: faster-whisper:tiny.en|base|DIR or transformers:HUB_ID|DIR", DEFAULT_ASR, "string"),
    ("seed", "seed for every take (recorded)", str(DEFAULT_SEED), "string"),
    ("params", "generation parameters KEY=VALUE,... for every stack", "", "string"),
    ("threshold", "threshold overrides KEY=VALUE,... for every scenario", "", "string"),
    ("chunk-chars", "speak text longer than N characters in sentence/phrase chunks joined by a "
     "crossfade (0 = one pass)", str(DEFAULT_MAX_CHARS), "string"),
    ("crossfade-ms", "equal-power crossfade at each chunk join, in milliseconds",
     f"{DEFAULT_CROSSFADE_MS:g}", "string"),
]


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("luxgate", "LuxTTS quality gate")
    for name, help_text, default, ini_type in OPTIONS:
        ini = "luxgate_" + name.replace("-", "_")
        group.addoption(f"--luxgate-{name}", dest=ini, default=None,
                        help=f"{help_text} [ini: {ini}]")
        parser.addini(ini, help_text, type=ini_type, default=default)


def _get(config: pytest.Config, name: str) -> str:
    ini = "luxgate_" + name.replace("-", "_")
    value = config.getoption(ini)
    if value is None:
        value = config.getini(ini)
    return str(value or "").strip()


def _split(value: str, *, paths: bool = False) -> list[str]:
    import os

    if paths:  # directory lists also accept the platform's path separator
        value = value.replace(os.pathsep, ",")
    return [p.strip() for p in value.split(",") if p.strip()]


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
    thresholds: dict[str, float] = field(default_factory=dict)
    chunking: ChunkingOptions = field(default_factory=ChunkingOptions)

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
            raw = parse_assignments([_get(config, "threshold")], "--luxgate-threshold")
            thresholds = validate_overrides({k: _number(k, v) for k, v in raw.items()})
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        chunking = _chunking(_get(config, "chunk-chars") or str(DEFAULT_MAX_CHARS),
                             _get(config, "crossfade-ms") or str(DEFAULT_CROSSFADE_MS))
        stacks: list[str] = []
        for spec in _split(_get(config, "stacks") or "piper"):
            name, sep, target = spec.partition("=")
            if sep:
                from .stacks.base import register_stack

                try:
                    register_stack(name.strip(), target.strip())
                except ValueError as exc:
                    raise ConfigError(f"--luxgate-stacks: {exc}") from None
            stacks.append(name.strip())
        if not stacks:
            raise ConfigError("--luxgate-stacks names no stack")
        prompts = _get(config, "prompts")
        return cls(
            rootdir=root,
            stacks=tuple(dict.fromkeys(stacks)),
            prompts_file=path(prompts) if prompts else None,
            scenario_dirs=tuple(path(p) for p in _split(_get(config, "scenarios"), paths=True)),
            scenario_ids=tuple(_split(_get(config, "scenario"))),
            output=path(_get(config, "output") or "luxgate-report"),
            keep_wavs=keep,
            asr=_get(config, "asr") or DEFAULT_ASR,
            seed=seed,
            params=params,
            thresholds=thresholds,
            chunking=chunking,
        )


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


def _number(key: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"threshold {key!r} must be a number, got {value!r}") from None
