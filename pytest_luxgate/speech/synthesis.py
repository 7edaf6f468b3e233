"""One take: a cell's text spoken by a stack, checked for sanity, with timings.

Long text is spoken chunk by chunk (`synthesize_chunked`) and joined here, so
every stack gets chunking without knowing about it.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.audio import MAX_RATE, MIN_RATE, implausible_duration
from ..stacks.base import Stack, StackError
from .chunking import ChunkingOptions, split_text
from .joining import join, pause_after


@dataclass
class Take:
    audio: np.ndarray
    sample_rate: int
    text: str
    params: dict[str, Any]
    seed: int
    synthesis_s: float
    info: dict[str, Any] = field(default_factory=dict)
    #: the texts spoken one pass each (one entry when the text was not chunked)
    chunks: list[str] = field(default_factory=list)
    #: join times in seconds (centre of each crossfade); empty for one pass
    seams: list[float] = field(default_factory=list)
    join_s: float = 0.0

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
    rate = out.sample_rate
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not MIN_RATE <= int(rate) <= MAX_RATE:
        raise StackError(f"stack {stack.name!r} reported sample rate {rate!r} "
                         f"({type(rate).__name__}); Synthesized.sample_rate must be the audio's rate "
                         f"in Hz, an int between {MIN_RATE} and {MAX_RATE}")
    why = implausible_duration(audio.size, int(rate), text)
    if why:
        raise StackError(f"stack {stack.name!r} returned {why}")
    return Take(audio, int(out.sample_rate), text, dict(params), seed, elapsed, dict(out.info))


def chunk_seed(seed: int, index: int) -> int:
    """Seed of chunk `index`: the take's own seed for the first chunk (so a text
    that fits one chunk sounds exactly as unchunked), a derived one for the rest."""
    if index == 0:
        return seed
    digest = hashlib.sha256(f"{seed}|chunk|{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def synthesize_chunked(stack: Stack, text: str, prompt: Any, params: dict[str, Any], seed: int,
                       chunking: ChunkingOptions) -> Take:
    """Speak `text` chunk by chunk with the same prompt encoding and join the chunks.

    With chunking off, or a text that fits one chunk, this is `synthesize`.
    """
    texts = split_text(text, chunking.max_chars) if chunking.enabled else [text]
    if len(texts) <= 1:
        take = synthesize(stack, text, prompt, params, seed)
        take.chunks = [text]
        return take
    takes = [synthesize(stack, chunk, prompt, params, chunk_seed(seed, i)) for i, chunk in enumerate(texts)]
    rates = sorted({t.sample_rate for t in takes})
    if len(rates) > 1:
        raise StackError(f"stack {stack.name!r} returned chunks at different sample rates {rates}")
    t0 = time.perf_counter()
    audio, seams = join([t.audio for t in takes], rates[0], crossfade_s=chunking.crossfade_ms / 1000.0,
                        pauses_s=[pause_after(chunk) for chunk in texts[:-1]])
    join_s = time.perf_counter() - t0
    return Take(audio, rates[0], text, dict(params), seed, sum(t.synthesis_s for t in takes),
                {"chunks": [t.info for t in takes]}, chunks=texts, seams=seams, join_s=join_s)
