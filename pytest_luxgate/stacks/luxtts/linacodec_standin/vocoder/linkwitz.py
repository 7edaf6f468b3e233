"""Stand-in for ``linacodec.vocoder.linkwitz``: the FFT crossover of the two heads."""
from __future__ import annotations

import torch


def crossover_merge_linkwitz_riley(path1_48k: torch.Tensor, path2_48k: torch.Tensor,
                                   sample_rate: int = 48000, cutoff: float = 4000,
                                   transition_bins: int = 8) -> torch.Tensor:
    """High band of `path1_48k` (48 kHz head) + low band of `path2_48k` (24 kHz head,
    resampled), joined by a cubic Hermite fade over `transition_bins` FFT bins."""
    spec1 = torch.fft.rfft(path1_48k)
    spec2 = torch.fft.rfft(path2_48k)
    n_bins = spec1.size(-1)
    cutoff_bin = int((cutoff / (sample_rate / 2)) * n_bins)
    half = transition_bins // 2
    start, end = max(0, cutoff_bin - half), min(n_bins, cutoff_bin + half)
    mask = torch.ones(n_bins, device=spec1.device)
    t = (torch.linspace(-1, 1, steps=max(end - start, 0), device=spec1.device) + 1) / 2
    mask[:start] = 0
    mask[start:end] = 3 * t**2 - 2 * t**3
    merged = spec1 * mask + spec2 * (1.0 - mask)
    return torch.fft.irfft(merged, n=path1_48k.size(-1))
