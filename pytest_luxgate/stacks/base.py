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
from typing import Any, Callable, ClassVar, Protocol, runtime_checkable

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
    """A stack cannot run here (missing package, weights, device): its cells are not judged,
    and the run that asked for them is not green (report/verdict.py)."""


class StackLoadError(StackUnavailable):
    """A stack the run named is broken: its module or class cannot be imported, or its
    constructor or load() crashed. Its cells are errors, with this message."""


#: why a named module may not import under pytest: the `pytest` command puts neither the rootdir
#: nor the current directory on sys.path (only each test file's first folder without an __init__.py)
SYS_PATH_HINT = ("is its directory on sys.path? pytest does not add your project's root: set "
                 "`pythonpath = .` under [tool.pytest.ini_options] in pyproject.toml (or [pytest] "
                 "in pytest.ini), or install your package")


@dataclass(frozen=True)
class Synthesized:
    audio: np.ndarray
    sample_rate: int
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Stack(Protocol):
    """What the gate calls (README "Stacks" lists each). `name` names the stack in its error
    messages (cells and markers use the name it is registered under). Optional, read with a
    default where used: `prompt_sample_rate` (matrix/prompts.py, default 24000),
    `tune_space()` (`luxgate tune`; without it the user gives --space) and `overlap`
    (`may_overlap`, default False)."""

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
    try:
        cls = stack_class(name)
    except StackUnavailable as exc:
        return exc
    where = f"{cls.__name__}()"
    try:
        stack = cls()
        where = "load()"
        stack.load()
    except StackUnavailable as exc:  # the stack's own "cannot run here", with its reason
        return exc
    except (Exception, SystemExit) as exc:  # a crash (or sys.exit) of the stack fails its cells, never the run
        return StackLoadError(f"stack {name!r} ({available_stacks()[name]}) failed in {where}: {_raised(exc)}")
    return stack


def _raised(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


def call_stack(name: str, method: str, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, one of stack `name`'s methods: whatever it raises, or a sys.exit, becomes a
    StackError naming the stack and the method, so that cell fails with it and the run goes on.
    (KeyboardInterrupt is not caught: Ctrl-C still stops the run.)"""
    try:
        return fn(*args)
    except StackError:
        raise
    except SystemExit as exc:
        raise StackError(f"stack {name!r} called sys.exit({exc.code!r}) in {method}()") from None
    except Exception as exc:
        raise StackError(f"stack {name!r} raised {type(exc).__name__}: {exc} (in {method}())") from exc


def may_overlap(name: str) -> bool:
    """May the gate make this stack's takes on a second thread (run/ahead.py)? Only when the
    class says `overlap = True`: all its calls then come from that one thread, not the main
    one, which breaks a stack with thread-affine state (MLX streams, signal handlers)."""
    try:
        return getattr(stack_class(name), "overlap", False) is True
    except Exception:  # a stack that cannot import: its cells fail with that, on the main thread
        return False


def stack_class(name: str) -> type:
    """The class behind a name, without loading models (for markers/metadata).

    Raises StackUnavailable for an unknown name (a usage error) and StackLoadError,
    naming the module or class and the likely fix, when the target cannot be imported.
    """
    known = available_stacks()
    if name not in known:
        raise StackUnavailable(f"unknown stack {name!r}; known: {', '.join(sorted(known))}")
    target = known[name]
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name) and module_name[len(exc.name):][:1] in ("", "."):
            # the named module (or its package) itself is missing: a typo, or not on sys.path
            raise StackLoadError(f"stack {name!r}: cannot import module {module_name!r} ({target}): "
                                 f"{exc}; check the spelling, and {SYS_PATH_HINT}") from None
        raise StackLoadError(f"stack {name!r}: module {module_name!r} ({target}) failed to import: "
                             f"ModuleNotFoundError: {exc}") from None
    except (Exception, SystemExit) as exc:
        raise StackLoadError(f"stack {name!r}: module {module_name!r} ({target}) failed to import: "
                             f"{_raised(exc)}") from None
    cls = getattr(module, attr, None)
    if not isinstance(cls, type):
        classes = sorted(k for k, v in vars(module).items()
                         if isinstance(v, type) and v.__module__ == module.__name__ and not k.startswith("_"))
        what = "no class" if cls is None else f"{type(cls).__name__} (not a class) as"
        raise StackLoadError(f"stack {name!r}: module {module_name!r} has {what} {attr!r} ({target}); "
                             f"its classes: {', '.join(classes) or 'none'}")
    return cls
