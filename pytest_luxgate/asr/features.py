"""Whisper's log-Mel features, computed the same on every machine and thread count.

faster-whisper's own `FeatureExtractor` takes the Mel product with
``mel_filters @ magnitudes`` (an OpenBLAS SGEMM) and the power with
``abs(stft) ** 2`` and ``log10`` (numpy loops that pick AVX-512/AVX2 code at
run time). Measured (issue 15): the same clip (tests/data/human/arctic_a0007)
gave other word probabilities with ``OMP_NUM_THREADS=1`` or
``OPENBLAS_NUM_THREADS=1`` (what ``-n 2`` workers get on 2 cores) than without,
although CTranslate2 ran with the same thread count, and faster-whisper's
features of one take had four different bit patterns under OpenBLAS 1 vs 2
threads and numpy with and without its AVX-512 loops. Features that move in
the last bits are a perturbation like any other, and bench/asr_perturbation.py
shows Whisper's beam search turning such perturbations into other words.

Here every step is either exact-rounded elementwise IEEE arithmetic, whose
result does not depend on the SIMD width, or done in float64 in a fixed order
and rounded once to float32:

* power: ``re*re + im*im`` (two separate ufuncs: no fused multiply-add);
* Mel product: each filter is a triangle over a few FFT bins, so the product is
  a fixed-order sum over bins of ``weight * power`` rows, in float64;
* ``log10`` in float64, then rounded to float32 (a float64 ulp difference in
  the transcendental almost never survives that rounding);
* the Hann window from Python's ``math.cos``, once.

The FFT is numpy's pocketfft (compiled for the baseline ISA, single-threaded).
What is left differs only in ways this cannot reach: CTranslate2's own ISA
kernels (see ``CPU_THREADS`` in base.py and the bench).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def _base() -> Any:
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor


def stable_feature_extractor(**kwargs: Any) -> Any:
    """A faster-whisper FeatureExtractor whose output is bit-identical across
    BLAS thread counts and CPU ISAs (the module docstring says how)."""
    base = _base()

    class StableFeatureExtractor(base):  # type: ignore[misc, valid-type]
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            weights = np.asarray(self.mel_filters, dtype=np.float64)
            # per FFT bin: the Mel bands it feeds and their weights (1-2 bands each)
            self._bins = [(j, np.nonzero(weights[:, j])[0], weights[np.nonzero(weights[:, j])[0], j][:, None])
                          for j in range(weights.shape[1]) if np.any(weights[:, j])]
            n = self.n_fft
            self._window = np.array([0.5 - 0.5 * math.cos(2.0 * math.pi * k / n) for k in range(n)],
                                    dtype=np.float32)

        def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
            if chunk_length is not None:
                self.n_samples = chunk_length * self.sampling_rate
                self.nb_max_frames = self.n_samples // self.hop_length
            waveform = np.asarray(waveform, dtype=np.float32)
            if padding:
                waveform = np.pad(waveform, (0, padding))
            stft = self.stft(waveform, self.n_fft, self.hop_length, window=self._window,
                             return_complex=True).astype(np.complex64)[..., :-1]
            re, im = stft.real, stft.imag
            power = np.add(np.multiply(re, re), np.multiply(im, im), dtype=np.float32)
            return log_mel(power, self._bins, len(self.mel_filters))

    return StableFeatureExtractor(**kwargs)


def log_mel(power: np.ndarray, bins: list[tuple[int, np.ndarray, np.ndarray]], n_mels: int) -> np.ndarray:
    """Whisper's log-Mel scaling of a (bins, frames) power spectrogram, fixed-order float64."""
    mel = np.zeros((n_mels, power.shape[-1]), dtype=np.float64)
    for j, rows, w in bins:  # ascending bin order, one rounding per add: the same everywhere
        mel[rows] += w * power[j].astype(np.float64)
    log_spec = np.log10(np.maximum(mel, 1e-10)).astype(np.float32)
    log_spec = np.maximum(log_spec, log_spec.max() - np.float32(8.0))
    return ((log_spec + np.float32(4.0)) / np.float32(4.0)).astype(np.float32)
