"""Where the LuxTTS weights are and which device the Torch stack uses.

Weights: ``--luxgate-luxtts-path DIR`` / ini ``luxgate_luxtts_path`` / env
``LUXGATE_LUXTTS_PATH``, else ``YatharthS/LuxTTS`` in the local Hugging Face
cache (looked up with ``local_files_only=True``: never a download).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..base import StackUnavailable, stack_options

REPO_ID = "YatharthS/LuxTTS"
ENV_PATH = "LUXGATE_LUXTTS_PATH"
ENV_DEVICE = "LUXGATE_LUXTTS_DEVICE"
DEVICES = ("auto", "cpu", "cuda", "mps")
REQUIRED = ("tokens.txt", "config.json", "model.pt", "vocoder/config.yaml", "vocoder/vocos.bin")

HOW_TO = (f"point the gate at LuxTTS weights: --luxgate-luxtts-path DIR (ini luxgate_luxtts_path, env "
          f"{ENV_PATH}), or put {REPO_ID} in the Hugging Face cache (on a machine with network: "
          f"`hf download {REPO_ID}`); see README 'LuxTTS stacks'")


@dataclass(frozen=True)
class ModelDir:
    path: Path
    source: str  # "option", "env" or "hf-cache"


def model_dir() -> ModelDir:
    """The weights directory, or StackUnavailable with what to do."""
    opts = stack_options()
    given, source = opts.get("luxtts_path", ""), "option"
    if not given and os.environ.get(ENV_PATH):
        given, source = os.environ[ENV_PATH], "env"
    if given:
        path = Path(given).expanduser()
        if not path.is_dir():
            where = "--luxgate-luxtts-path" if source == "option" else ENV_PATH
            raise StackUnavailable(f"LuxTTS weights directory {path} (from {where}) does not exist; {HOW_TO}")
        _check_layout(path)
        return ModelDir(path, source)
    cached = _hf_cache()
    if cached is None:
        raise StackUnavailable(f"LuxTTS weights not found: no path given and {REPO_ID} is not in the "
                               f"Hugging Face cache; {HOW_TO}")
    _check_layout(cached)
    return ModelDir(cached, "hf-cache")


def _check_layout(path: Path) -> None:
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise StackUnavailable(f"LuxTTS weights directory {path} lacks {', '.join(missing)} (expected "
                               f"the {REPO_ID} layout: {', '.join(REQUIRED)}); {HOW_TO}")


def _hf_cache() -> Path | None:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    from .runtime import contained

    # read the cache location now: huggingface_hub fixes its default at import time
    cache = os.environ.get("HF_HUB_CACHE") or (
        os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME") else None)
    try:
        with contained():
            return Path(snapshot_download(REPO_ID, local_files_only=True, cache_dir=cache))
    except Exception:  # not cached (LocalEntryNotFoundError) or an unreadable cache
        return None


def torch_device() -> str:
    """cpu/cuda/mps for the Torch stack; 'auto' picks cuda, then mps, then cpu."""
    want = (stack_options().get("luxtts_device") or os.environ.get(ENV_DEVICE) or "auto").lower()
    if want not in DEVICES:
        raise StackUnavailable(f"--luxgate-luxtts-device must be one of {'|'.join(DEVICES)}, got {want!r}")
    import torch

    if want == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if torch.backends.mps.is_available() else "cpu"
    if want == "cuda" and not torch.cuda.is_available():
        raise StackUnavailable("--luxgate-luxtts-device=cuda but torch sees no CUDA device "
                               f"(torch {torch.__version__}); use cpu or install a CUDA build of torch")
    if want == "mps" and not torch.backends.mps.is_available():
        raise StackUnavailable("--luxgate-luxtts-device=mps but torch reports MPS unavailable (needs Apple silicon)")
    return want
