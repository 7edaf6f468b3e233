"""The stack protocol and the per-process registry of loaded stacks.

A stack is anything that can: load once, encode a voice prompt, and
synthesize text to float32 mono audio at a sample rate it reports.
Third-party engines register a class under the ``luxgate.stacks``
entry-point group; built-ins are listed in BUILTIN.
"""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

ENTRY_POINT_GROUP = "luxgate.stacks"
BUILTIN: dict[str, str] = {
    "piper": "pytest_luxgate.stacks.piper:PiperStack",
    # LuxTTS: imported only when selected (torch/mlx load in Stack.load)
    "mlx": "pytest_luxgate.stacks.luxtts.stacks:LuxTTSMLXStack",
    "torch": "pytest_luxgate.stacks.luxtts.stacks:LuxTTSTorchStack",
}


_LOCK = threading.Lock()
_LOADED: dict[str, "Stack | StackUnavailable"] = {}


class StackError(RuntimeError):
    """A stack failed while synthesizing; the message is the stack's own."""


class StackUnavailable(RuntimeError):
    """A stack cannot load here (missing package, weights, device); cells are skipped."""


@dataclass(frozen=True)
class Synthesized:
    audio: np.ndarray
    sample_rate: int
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Stack(Protocol):
    """What the gate calls (README "Stacks" lists each). `name` names the stack in its error
    messages (cells and markers use the name it is registered under). Optional, read with a
    default where used: `prompt_sample_rate` (matrix/prompts.py, default 24000) and
    `tune_space()` (`luxgate tune`; without it the user gives --space)."""

    name: ClassVar[str]
    #: markers applied to every cell of this stack (its name is always added)
    markers: ClassVar[tuple[str, ...]]
    #: False for fixed-voice engines: their cells are not multiplied by prompts
    clones_voice: ClassVar[bool]

    def load(self) -> None:
        """Load models; raise StackUnavailable with the reason if impossible."""

    def describe(self) -> dict[str, Any]:
        """Versions and model identity recorded with every cell."""

    def default_params(self) -> dict[str, Any]:
        """Generation parameters and their defaults (recorded in every report row)."""

    def encode_prompt(self, wav: np.ndarray, sample_rate: int, text: str | None,
                      params: dict[str, Any]) -> Any:
        """Turn a voice prompt into whatever `synthesize` needs (cached by the caller)."""

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        """Speak `text`; the same seed must give the same audio."""


def dist_version(dist: str) -> str:
    """Installed version of distribution `dist` for a stack's describe(), or 'not installed'."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


_EXTRA: dict[str, str] = {}
_OPTIONS: dict[str, str] = {}


def set_stack_options(options: dict[str, str]) -> None:
    """Options stacks read in load() (e.g. LuxTTS weights path, device).

    A loaded stack was built with the old options, so a change drops every
    cached stack (in-process pytester runs reuse this module)."""
    global _OPTIONS
    new = {k: str(v) for k, v in options.items()}
    with _LOCK:
        if new != _OPTIONS:
            _OPTIONS = new
            _LOADED.clear()


def stack_options() -> dict[str, str]:
    """The run's stack options (plain strings, empty when unset)."""
    return dict(_OPTIONS)


def register_stack(name: str, target: str) -> None:
    """Make ``module:Class`` available as `name` (``--luxgate-stacks name=module:Class``)."""
    if ":" not in target:
        raise ValueError(f"stack {name!r}: expected 'module:Class', got {target!r}")
    _EXTRA[name] = target
    with _LOCK:
        _LOADED.pop(name, None)


def available_stacks() -> dict[str, str]:
    """Name -> ``module:Class`` for built-ins, installed entry points and registrations."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.value
    found.update(_EXTRA)
    return found


def get_stack(name: str) -> Stack:
    """The loaded stack `name`, loading it once per process.

    Raises StackUnavailable (cached, so a broken stack is tried once) when it
    cannot load, and KeyError-derived StackUnavailable for unknown names.
    """
    with _LOCK:
        if name not in _LOADED:
            _LOADED[name] = _load(name)
        got = _LOADED[name]
    if isinstance(got, StackUnavailable):
        raise got
    return got


def _load(name: str) -> Stack | StackUnavailable:
    known = available_stacks()
    target = known.get(name)
    if target is None:
        return StackUnavailable(f"unknown stack {name!r}; known: {', '.join(sorted(known))}")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
        stack = cls()
        stack.load()
    except StackUnavailable as exc:
        return exc
    except Exception as exc:  # an import or load crash is a reason to skip, not to abort the run
        return StackUnavailable(f"stack {name!r} failed to load: {type(exc).__name__}: {exc}")
    return stack


def stack_class(name: str) -> type:
    """The class behind a name, without loading models (for markers/metadata)."""
    known = available_stacks()
    if name not in known:
        raise StackUnavailable(f"unknown stack {name!r}; known: {', '.join(sorted(known))}")
    module, _, attr = known[name].partition(":")
    return getattr(importlib.import_module(module), attr)
