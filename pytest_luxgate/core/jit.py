"""Detector loops compiled with numba, loaded on first use.

A few detectors step through frames with a little arithmetic each (the loop search's
DP); as numpy calls that is ~60 calls per 10 ms frame, compiled it is a plain loop
with the same IEEE operations (numba does not reorder or fuse float arithmetic unless
asked to: no fastmath here), so the numbers stay the same bit for bit.

Lazy on purpose: importing numba costs ~0.1 s and its first compiled call ~0.2 s even
from the on-disk cache (its compiler's set-up; compiling from scratch: seconds, once per
install), and the plugin imports the detectors in every pytest process, most of which
never run one (a warm rerun, `pytest tests/unit`). `cache=True` keeps the machine code
next to the module (__pycache__) or in numba's user cache dir where that is read-only;
`nogil=True` lets the gate's overlap thread (run/ahead.py) run beside a detector.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

_LOCK = threading.Lock()  # one thread imports numba and builds a dispatcher; others wait for it


class Compiled:
    """A module-level function, compiled on its first call (`numba.njit(cache=True, nogil=True)`).

    The function must not call another `Compiled` one (numba sees only the wrapper)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.py_func = fn
        self._dispatcher: Any = None
        functools.update_wrapper(self, fn)

    def dispatcher(self) -> Any:
        """numba's dispatcher for the function (built on first use)."""
        if self._dispatcher is None:
            with _LOCK:
                if self._dispatcher is None:
                    import numba

                    self._dispatcher = numba.njit(cache=True, nogil=True)(self.py_func)
        return self._dispatcher

    def __call__(self, *args: Any) -> Any:
        return self.dispatcher()(*args)


def compiled(fn: Callable[..., Any]) -> Compiled:
    """Decorator: see `Compiled`."""
    return Compiled(fn)
