"""Detector loops compiled with numba, loaded on first use.

Some detectors step through frames or samples with a little arithmetic each: the loop
search's DP (metrics/loops.py), the running energy under level.window_rms, YIN's lag scan
(metrics/glued.py), the Silero VAD's LSTM step (listeners/silero.py). As numpy calls that is many small calls or clip-long temporaries;
compiled it is a plain loop with the same IEEE operations in the same order (numba does
not reorder or fuse float arithmetic unless asked to: no fastmath here), so the numbers
stay the same bit for bit. error_model="numpy": a float division by zero would give
inf/nan as in numpy instead of raising (and there is no zero test per division).

Lazy on purpose: importing numba costs ~0.15 s and its first compiled call ~0.2 s even
from the on-disk cache (its compiler's set-up, which imports scipy.linalg), and the plugin
imports the detectors in every pytest process, many of which never run one (a warm rerun,
`pytest tests/unit`). Where DNSMOS ran first (librosa uses numba) both are paid already.
Compiling from scratch: ~1.4 s, once per checkout or install (BENCHMARKS.md "Detector
throughput"). `cache=True` keeps the machine code next to the module (__pycache__) or in
numba's user cache dir where that is read-only (where neither is writable: compiled in
every process, ~1.4 s); `nogil=True` lets the gate's overlap
thread (run/ahead.py) run beside a detector. numba's cache is keyed on the function's
source and signature, not on these flags: after changing them, delete the *.nbi/*.nbc files.
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

                    jit = functools.partial(numba.njit, nogil=True, error_model="numpy")
                    try:
                        self._dispatcher = jit(cache=True)(self.py_func)
                    except RuntimeError:  # numba: "no locator available" (nowhere writable to
                        self._dispatcher = jit(cache=False)(self.py_func)  # cache): compile per process
        return self._dispatcher

    def __call__(self, *args: Any) -> Any:
        return self.dispatcher()(*args)


def compiled(fn: Callable[..., Any]) -> Compiled:
    """Decorator: see `Compiled`."""
    return Compiled(fn)
