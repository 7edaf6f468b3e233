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
from ..stacks.base import Stack, StackError, call_stack
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


#: integer sample formats a stack may return and how they scale to [-1, 1): the PCM formats of
#: WAV files (8-bit unsigned, 16/32-bit signed); others (int64, uint16, ...) are no PCM format
#: and are refused rather than guessed at
PCM_SCALE: dict[str, tuple[float, float]] = {  # dtype -> (offset, full scale)
    "uint8": (128.0, 128.0), "int8": (0.0, 128.0), "int16": (0.0, 32768.0), "int32": (0.0, 2.0 ** 31),
}
#: Take.info key for what the gate changed in a stack's output (the cell's notes; it is cached with the take)
NOTES_KEY = "luxgate_notes"


def synthesize(stack: Stack, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Take:
    """Run the stack and refuse output that no check could judge."""
    name = getattr(stack, "name", type(stack).__name__)
    t0 = time.perf_counter()
    out = call_stack(name, "synthesize", stack.synthesize, text, prompt, params, seed)
    elapsed = time.perf_counter() - t0
    if not (hasattr(out, "audio") and hasattr(out, "sample_rate")):  # None, a bare tuple, an array
        raise StackError(f"stack {name!r} returned {type(out).__name__} from synthesize(); expected "
                         "Synthesized(audio, sample_rate, info) (pytest_luxgate.stacks.base)")
    audio, notes = _float_audio(name, out.audio)
    if audio.ndim == 2 and 1 in audio.shape:  # (1, N) from torch-style stacks
        audio = audio.reshape(-1)
    if audio.ndim != 1:
        raise StackError(f"stack {name!r} returned audio of shape {audio.shape}; expected mono")
    if audio.size == 0:
        raise StackError(f"stack {name!r} returned empty audio for {text[:60]!r}")
    if not np.all(np.isfinite(audio)):
        bad = int(np.count_nonzero(~np.isfinite(audio)))
        raise StackError(f"stack {name!r} returned {bad} NaN/Inf samples of {audio.size}")
    rate = out.sample_rate
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or not MIN_RATE <= int(rate) <= MAX_RATE:
        raise StackError(f"stack {name!r} reported sample rate {rate!r} "
                         f"({type(rate).__name__}); Synthesized.sample_rate must be the audio's rate "
                         f"in Hz, an int between {MIN_RATE} and {MAX_RATE}")
    why = implausible_duration(audio.size, int(rate), text)
    if why:
        raise StackError(f"stack {name!r} returned {why}")
    info = dict(getattr(out, "info", None) or {})
    if notes:
        info[NOTES_KEY] = notes
    return Take(audio, int(rate), text, dict(params), seed, elapsed, info)


def _float_audio(name: str, samples: Any) -> tuple[np.ndarray, list[str]]:
    """The stack's samples as float32 (the protocol's format) and what was converted.

    Integer PCM is scaled by its format's full scale (int16 / 32768): read as float it
    would be thousands of times over full scale and judged as clipped noise."""
    try:
        raw = np.asarray(samples)
    except Exception as exc:  # a torch tensor on a GPU, a ragged list, ...
        raise StackError(f"stack {name!r} returned audio that is not an array ({type(samples).__name__}: "
                         f"{exc}); Synthesized.audio must be float32 in [-1, 1]") from None
    kind = raw.dtype.kind
    if kind == "f":
        return raw.astype(np.float32, copy=False), []
    if raw.dtype.name in PCM_SCALE:
        offset, scale = PCM_SCALE[raw.dtype.name]
        audio = ((raw.astype(np.float64) - offset) / scale).astype(np.float32)
        return audio, [f"stack {name!r} returned {raw.dtype.name} samples: read as PCM, "
                       f"{'minus ' + format(offset, 'g') + ', ' if offset else ''}divided by {scale:.0f} "
                       "(Synthesized.audio should be float32 in [-1, 1])"]
    raise StackError(f"stack {name!r} returned {raw.dtype} samples; Synthesized.audio must be float32 in "
                     f"[-1, 1] (integer PCM is accepted as {', '.join(PCM_SCALE)})")


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
        raise StackError(f"stack {getattr(stack, 'name', type(stack).__name__)!r} returned chunks at different sample rates {rates}")
    t0 = time.perf_counter()
    audio, seams = join([t.audio for t in takes], rates[0], crossfade_s=chunking.crossfade_ms / 1000.0,
                        pauses_s=[pause_after(chunk) for chunk in texts[:-1]])
    join_s = time.perf_counter() - t0
    info: dict[str, Any] = {"chunks": [t.info for t in takes]}
    notes = list(dict.fromkeys(n for t in takes for n in t.info.get(NOTES_KEY, [])))
    if notes:
        info[NOTES_KEY] = notes
    return Take(audio, rates[0], text, dict(params), seed, sum(t.synthesis_s for t in takes),
                info, chunks=texts, seams=seams, join_s=join_s)
