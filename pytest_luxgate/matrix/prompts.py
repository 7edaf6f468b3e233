"""Voice prompts: a wav of real speech plus the exact words spoken in it.

Prompts come from a TOML file (``[[prompt]]`` tables with id, wav, text),
given by --luxgate-prompts / ini luxgate_prompts; the default is the pair
shipped in pytest_luxgate/data/prompts (see tools/make_prompts.py).
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.tomlfile import describe_value, read_toml

if TYPE_CHECKING:
    from ..core.audio import LoadedAudio

DEFAULT_FILE = Path(__file__).parents[1] / "data" / "prompts" / "prompts.toml"


class PromptError(ValueError):
    """A prompt is unusable; the message names the file and the fix."""


@dataclass(frozen=True)
class Prompt:
    id: str
    wav: Path
    text: str | None
    description: str = ""

    def content_hash(self) -> str:
        """Hash of the wav bytes and transcript: cache keys follow content, not names."""
        h = hashlib.sha256()
        try:
            h.update(self.wav.read_bytes())
        except OSError as exc:
            raise PromptError(f"prompt {self.id!r}: cannot read {self.wav} ({exc.strerror})") from exc
        h.update((self.text or "").encode())
        return h.hexdigest()[:16]


#: the keys of a [[prompt]] table (`voice` describes it, for people), and of the file
PROMPT_KEYS = ("id", "wav", "text", "voice")
FILE_KEYS = ("prompt",)


def load_prompts(path: Path = DEFAULT_FILE) -> list[Prompt]:
    data = read_toml(path, "prompts file", PromptError)
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:  # a misspelt [[promt]] would otherwise leave its prompts out without a word
        raise PromptError(f"prompts file {path}: unknown key(s) {unknown}; known: [[prompt]] tables "
                          f"with {', '.join(PROMPT_KEYS)}")
    entries = data.get("prompt")
    if not isinstance(entries, list) or not entries:
        raise PromptError(f"prompts file {path}: no [[prompt]] tables (each needs id, wav, text)")
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("wav"):
            raise PromptError(f"prompts file {path}: prompt #{i + 1} has no 'wav'")
        unknown = sorted(set(entry) - set(PROMPT_KEYS))
        if unknown:  # "transcript = ..." for "text = ..." would run the prompt with no transcript
            raise PromptError(f"prompts file {path}: prompt #{i + 1} ({entry.get('id', entry['wav'])!r}) has "
                              f"unknown key(s) {unknown}; known: {', '.join(PROMPT_KEYS)}")
        for key in ("id", "wav", "text", "voice"):
            if key in entry and not isinstance(entry[key], str):
                raise PromptError(f"prompts file {path}: prompt #{i + 1}: {key!r} must be a string, got "
                                  f"{describe_value(entry[key])}")
        wav = (path.parent / str(entry["wav"])).resolve()
        pid = str(entry.get("id") or wav.stem)
        if pid in seen:
            raise PromptError(f"prompts file {path}: duplicate prompt id {pid!r}")
        seen.add(pid)
        text = entry.get("text")
        if text is not None and not text.strip():
            raise PromptError(f"prompts file {path}: prompt {pid!r} has an empty 'text'; give the "
                              "exact transcript of the wav or leave the key out")
        prompts.append(Prompt(pid, wav, text.strip() if text else None, str(entry.get("voice", ""))))
    return prompts


def read_prompt_audio(prompt: Prompt, target_rate: int | None = None) -> tuple[np.ndarray, int]:
    """The prompt's audio as float32 mono (at `target_rate` if given); clear errors for unusable files."""
    got = load_prompt_audio(prompt, target_rate)
    return got.audio.copy(), got.rate  # a copy: the cached read must not change under a stack


#: the rate prompts are handed to a stack at unless it declares `prompt_sample_rate`:
#: LuxTTS (ZipVoice) computes its prompt features at 24 kHz
DEFAULT_PROMPT_RATE = 24000


def stack_prompt_rate(stack: object) -> int:
    """The sample rate `stack` wants its prompts at (class attribute `prompt_sample_rate`)."""
    rate = getattr(stack, "prompt_sample_rate", None)
    return int(rate) if isinstance(rate, int) and rate > 0 else DEFAULT_PROMPT_RATE


def load_prompt_audio(prompt: Prompt, target_rate: int | None = None) -> "LoadedAudio":
    """Validated prompt audio plus notes on what was done to it (downmix, resampling, scaling).

    Cached per file version: every cell of a prompt shares one read and resampling.
    Raises PromptError naming the prompt, the file and the fix.
    """
    try:
        st = prompt.wav.stat()
        version: tuple[int, int] = (st.st_mtime_ns, st.st_size)
    except OSError:
        version = (0, -1)  # load_audio says what is wrong with the path
    return _load_prompt_audio(prompt, target_rate, version)


@functools.lru_cache(maxsize=64)
def _load_prompt_audio(prompt: Prompt, target_rate: int | None, version: tuple[int, int]) -> "LoadedAudio":
    from ..core.audio import AudioError, load_audio

    try:
        return load_audio(prompt.wav, target_rate, prompt=True)
    except AudioError as exc:
        raise PromptError(f"prompt {prompt.id!r}: {exc}") from exc


def prompt_notes(prompt: Prompt, target_rate: int | None = None) -> list[str]:
    """What loading this prompt changed, for the report ("2 channels averaged to mono", ...)."""
    try:
        return [f"prompt {prompt.id!r}: {n}" for n in load_prompt_audio(prompt, target_rate).notes]
    except PromptError:
        return []
