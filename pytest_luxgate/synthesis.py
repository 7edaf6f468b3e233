"""One take: a cell's text spoken by a stack, checked for sanity, with timings."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .stacks.base import Stack, StackError


@dataclass
class Take:
    audio: np.ndarray
    sample_rate: int
    text: str
    params: dict[str, Any]
    seed: int
    synthesis_s: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return len(self.audio) / float(self.sample_rate)


def coerce_params(defaults: dict[str, Any], *layers: dict[str, Any], stack: str = "") -> dict[str, Any]:
    """Overlay parameter layers on a stack's defaults, typed like the defaults.

    Unknown keys are an error: a misspelt parameter must not silently do nothing.
    """
    out = dict(defaults)
    for layer in layers:
        for key, value in layer.items():
            if key not in defaults:
                raise ValueError(f"stack {stack!r} has no generation parameter {key!r}; "
                                 f"known: {', '.join(sorted(defaults))}")
            out[key] = _like(defaults[key], value, key)
    return out


def _like(default: Any, value: Any, key: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        raise ValueError(f"parameter {key!r}: {value!r} is not a {type(default).__name__}") from None
    return value


def synthesize(stack: Stack, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Take:
    """Run the stack and refuse output that no check could judge."""
    t0 = time.perf_counter()
    try:
        out = stack.synthesize(text, prompt, params, seed)
    except StackError:
        raise
    except Exception as exc:
        raise StackError(f"stack {stack.name!r} raised {type(exc).__name__}: {exc}") from exc
    elapsed = time.perf_counter() - t0
    audio = np.asarray(out.audio, dtype=np.float32)
    if audio.ndim == 2 and 1 in audio.shape:  # (1, N) from torch-style stacks
        audio = audio.reshape(-1)
    if audio.ndim != 1:
        raise StackError(f"stack {stack.name!r} returned audio of shape {audio.shape}; expected mono")
    if audio.size == 0:
        raise StackError(f"stack {stack.name!r} returned empty audio for {text[:60]!r}")
    if not np.all(np.isfinite(audio)):
        bad = int(np.count_nonzero(~np.isfinite(audio)))
        raise StackError(f"stack {stack.name!r} returned {bad} NaN/Inf samples of {audio.size}")
    if not isinstance(out.sample_rate, (int, np.integer)) or not 8000 <= int(out.sample_rate) <= 192000:
        raise StackError(f"stack {stack.name!r} reported an implausible sample rate {out.sample_rate!r}")
    return Take(audio, int(out.sample_rate), text, dict(params), seed, elapsed, dict(out.info))
