"""numpy's BLAS on one thread in every luxgate process, so detector numbers do not depend on -n.

The detectors (loop search, edges, level, the VAD's encoder) and DNSMOS's mel
spectrogram are numpy, and a BLAS product's last bits depend on how many
threads split it. xdist workers got ``cores // N`` threads through their
environment and a single process got every core, so ``-n 0`` and ``-n 2`` (or
two machines with other core counts) computed different last bits of the same
take's metrics. One thread everywhere, like the ASR's and Piper's (asr/base.py),
makes them the same bits; it is also faster for these small products, since a
second BLAS thread wakes, spins and costs more than it saves. Set from the main
thread, where OpenBLAS takes it for every thread (the overlap's included); a BLAS
loaded later (scipy's own OpenBLAS, under librosa and DNSMOS) reads the variable
set here when it loads.
"""
from __future__ import annotations

import os
from typing import Any

BLAS_THREADS = 1
_LIMITS: list[Any] = []  # kept alive: the limit holds while its object does


def pin_blas_threads() -> None:
    """Limit numpy's BLAS (OpenBLAS, MKL, BLIS) to BLAS_THREADS for the rest of the process."""
    if _LIMITS:
        return
    # an OpenBLAS loaded later reads this at load (MKL is left alone: torch takes its thread
    # count from it, and the listener models' numbers must not move)
    os.environ["OPENBLAS_NUM_THREADS"] = str(BLAS_THREADS)
    import numpy  # noqa: F401  loaded first: threadpoolctl limits only the BLAS already in the process
    from threadpoolctl import threadpool_limits

    _LIMITS.append(threadpool_limits(limits=BLAS_THREADS, user_api="blas"))
