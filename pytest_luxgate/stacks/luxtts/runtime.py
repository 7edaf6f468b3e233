"""Loading LuxTTS code without letting it change the user's process.

``luxtts-mlx`` sets environment variables (KMP_*, TORCHINDUCTOR_CACHE_DIR,
LUXTTS_SUPPRESS_OPTIONAL_WARNINGS), adds global warning filters and logging
handlers, and some of its calls emit deprecation warnings every time. Every
import and call of it goes through `contained()`, which puts the environment,
the root logger and the warning filters back as they were, so `-W error` runs
and the user's logging are unaffected.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from ..base import dist_version

#: warnings LuxTTS and its dependencies emit on the inference path; they are
#: noise for a quality gate and must not turn into errors under -W error
_IGNORED = (
    (DeprecationWarning, ""),
    (PendingDeprecationWarning, ""),
    (FutureWarning, ""),
    (RuntimeWarning, r"Couldn't find ffmpeg"),  # pydub at import; LuxTTS never decodes files with it
    (UserWarning, r".*(pkg_resources|resized|weight_norm|torchaudio|TorchCodec|non-writable|"
                  r"stft with return_complex|An output with one or more elements).*"),
)


@contextlib.contextmanager
def contained() -> Iterator[None]:
    """Run LuxTTS code; afterwards env, root logging and warning filters are as before."""
    env = dict(os.environ)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with warnings.catch_warnings():
        for category, message in _IGNORED:
            warnings.filterwarnings("ignore", message=message, category=category)
        try:
            yield
        finally:
            for key in set(os.environ) - set(env):
                del os.environ[key]
            for key, value in env.items():
                if os.environ.get(key) != value:
                    os.environ[key] = value
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
            root.setLevel(level)


def linacodec_impl() -> str:
    """'linacodec' when the real package is importable, else 'stand-in'."""
    mod = sys.modules.get("linacodec")
    if mod is not None:
        return "stand-in" if getattr(mod, "STANDIN", False) else "linacodec"
    return "linacodec" if importlib.util.find_spec("linacodec") is not None else "stand-in"


def ensure_linacodec() -> str:
    """Make ``import linacodec.vocoder.vocos`` work; the real package wins when installed.

    Returns which implementation is active ('linacodec' or 'stand-in').
    """
    if linacodec_impl() == "linacodec":
        return "linacodec"
    from . import linacodec_standin
    from .linacodec_standin import vocoder
    from .linacodec_standin.vocoder import linkwitz, upsampler_block, vocos

    # the real config.yaml names linacodec.vocoder.upsampler_block.UpSamplerBlock
    # by class_path, so the alias must cover every submodule it can name
    for name, mod in (("linacodec", linacodec_standin), ("linacodec.vocoder", vocoder),
                      ("linacodec.vocoder.linkwitz", linkwitz),
                      ("linacodec.vocoder.upsampler_block", upsampler_block),
                      ("linacodec.vocoder.vocos", vocos)):
        sys.modules.setdefault(name, mod)
    return "stand-in"


def import_luxtts(*modules: str) -> dict[str, Any]:
    """Import zipvoice/luxtts modules (contained); ImportError names what to install."""
    out: dict[str, Any] = {}
    with contained():
        ensure_linacodec()
        for name in modules:
            out[name] = importlib.import_module(name)
    return out


def seed_everything(seed: int) -> None:
    """Seed the generators LuxTTS draws its starting noise from (torch and, if loaded, mx.random)."""
    import torch

    torch.manual_seed(int(seed))
    mx = sys.modules.get("mlx.core")
    if mx is not None:
        mx.random.seed(int(seed))


def versions() -> dict[str, str]:
    return {dist: dist_version(dist)
            for dist in ("luxtts-mlx", "torch", "torchaudio", "mlx", "vocos", "vocos-mlx", "linacodec")}
