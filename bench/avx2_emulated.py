"""The default gate on an AVX2 machine without AVX-512, emulated: are its verdicts the same?

    .venv/bin/python bench/avx2_emulated.py [--out /tmp/luxgate-avx2]   # ~15 min; needs qemu-user

Machines differ in the kernels their libraries pick by CPU: ONNX Runtime (Piper's synthesis),
CTranslate2 (Whisper) and numpy (the detectors, the VAD). CTranslate2 and numpy can be told
to use another instruction set (CT2_FORCE_CPU_ISA, NPY_DISABLE_CPU_FEATURES; the suite's
tests/integration/test_verdict_stability.py does), ONNX Runtime cannot. So the synthesis runs
under QEMU's user-mode emulator with a Haswell CPU (AVX2, FMA, no AVX-512; Debian package
`qemu-user`), where ONNX Runtime picks its AVX2 kernels, and the rest natively:

1. the default gate (`tests/gate`, -n 0, no overlap) with an empty take cache: the native takes;
2. under `qemu-x86_64 -cpu Haswell-v4`: each cell's take made again through the gate's own
   path (speech.synthesis.synthesize_chunked, the cell's seed, default params and chunking)
   and stored under the same cache key in a copy of that cache;
3. the gate again on that copy, judging the emulated machine's takes with CT2_FORCE_CPU_ISA=AVX2
   and numpy's AVX-512 loops off: what an AVX2 machine would make and hear;
4. the two reports compared: every check's verdict, the transcripts and every metric;
5. DNSMOS (ONNX Runtime too) of the AVX2 machine's takes under the emulator, with numpy held to
   its baseline loops (QEMU 7.2's TCG crashes in numpy's AVX2 loops; ONNX Runtime still picks
   its AVX2 kernels), against the gate's native DNSMOS of the same takes in step 3.

The whole gate cannot run under the emulator (that same crash).
Exit status 1 when any verdict differs (DNSMOS's: the quality limit on either side of a score).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMULATED_CPU = "Haswell-v4"


def _gate(out: Path, cache: Path, env: dict[str, str]) -> tuple[int, dict]:
    """(pytest's exit status, report.json) of the default gate."""
    res = subprocess.run([sys.executable, "-m", "pytest", "tests/gate", "-q", "-p", "no:cacheprovider",
                          "--luxgate-no-overlap", "--luxgate-cache-dir", str(cache), "--luxgate-output", str(out)],
                         cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL)
    return res.returncode, json.loads((out / "report.json").read_text())


def _default_cells(cache_dir: Path):
    """(cache, stack, [(scenario id, text, seed, take key)]) of the default gate's cells, keyed as
    the gate keys its takes."""
    sys.path.insert(0, str(ROOT))
    from pytest_luxgate.core.defaults import DEFAULT_SEED
    from pytest_luxgate.matrix.cells import Cell
    from pytest_luxgate.run.cache import ContentCache, take_key
    from pytest_luxgate.run.runner import _cell_seed
    from pytest_luxgate.speech.chunking import ChunkingOptions
    from pytest_luxgate.stacks.piper import PiperStack

    stack = PiperStack()
    stack.load()  # its description (part of the key) names the loaded voice
    params, chunking = stack.default_params(), ChunkingOptions()
    cells = []
    for f in sorted((ROOT / "scenarios").glob("*.toml")):
        sc = tomllib.loads(f.read_text())
        seed = _cell_seed(DEFAULT_SEED, Cell("piper", "own_voice", sc["id"]))
        key = take_key(stack="piper", describe=stack.describe(), prompt_hash="", text=sc["text"],
                       params=params, seed=seed, chunking=chunking.to_dict())
        cells.append((sc["id"], sc["text"], seed, key))
    return ContentCache(cache_dir, 10 ** 10), stack, cells


def remake_takes(cache_dir: Path) -> list[str]:
    """Step 2 (runs inside the emulator): each default cell's take through the gate's own path,
    stored under its cache key; returns one line per cell (whether the bits differ)."""
    import numpy as np

    from pytest_luxgate.run.cache import cache_put_take
    from pytest_luxgate.speech.chunking import ChunkingOptions
    from pytest_luxgate.speech.synthesis import synthesize_chunked

    cache, stack, cells = _default_cells(cache_dir)
    params, chunking = stack.default_params(), ChunkingOptions()
    lines = []
    for sid, text, seed, key in cells:
        native = cache.get_take(key)
        if native is None:
            raise SystemExit(f"{sid}: no native take under its key: the remade path is not the gate's")
        take = synthesize_chunked(stack, text, None, params, seed, chunking)
        a = np.asarray(take.audio, dtype=np.float32)
        d = a - native.audio if len(a) == len(native.audio) else None
        snr = (10 * np.log10(float(np.sum(native.audio.astype(np.float64) ** 2))
                             / max(float(np.sum(d.astype(np.float64) ** 2)), 1e-30)) if d is not None else None)
        cache_put_take(cache, key, take)
        lines.append(f"{sid}: {'same bits' if d is not None and not d.any() else 'other bits'}"
                     + (f", SNR {snr:.1f} dB re the native take" if snr is not None and d.any() else ""))
    return lines


def score_takes(cache_dir: Path) -> dict[str, dict[str, float]]:
    """Step 5 (runs inside the emulator): DNSMOS of each cached take, the gate's own listener, so
    ONNX Runtime runs its AVX2 kernels: {scenario id: MOS}."""
    from pytest_luxgate.core.audio import as_saved
    from pytest_luxgate.listeners.dnsmos import score

    cache, _, cells = _default_cells(cache_dir)
    out = {}
    for sid, _, _, key in cells:
        take = cache.get_take(key)  # judged as the gate judges it: the kept 16-bit samples
        out[sid] = score(as_saved(take.audio, take.sample_rate), take.sample_rate).to_dict()
    return out


def compare_dnsmos(avx2: dict, emulated: dict[str, dict[str, float]], limit: float) -> tuple[list[str], bool]:
    """One row per cell: the MOS the gate computed natively on the AVX2 machine's take against
    the MOS ONNX Runtime's AVX2 kernels give that take, and the quality verdict's margin; and
    whether every cell's OVRL falls on the same side of the limit both ways."""
    rows, same = [], True
    for c in sorted(avx2["cells"], key=lambda c: c["scenario"]):
        m, e = c["metrics"], emulated[c["scenario"]]
        pairs = [(k, m.get(f"mos_{k}"), e[k]) for k in ("ovrl", "sig", "bak", "p808")]
        lowest = min(m.get("mos_ovrl", 0.0), e["ovrl"])
        same &= (m.get("mos_ovrl", 0.0) >= limit) == (e["ovrl"] >= limit)
        rows.append(f"| {c['scenario']} | " + " | ".join(f"{a} / {b}" for _, a, b in pairs)
                    + f" | {lowest - limit:+.3f} |")
    return rows, same


def _numpy_dispatch() -> str:
    """Every optional SIMD target numpy dispatches to on this CPU (its baseline stays)."""
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__

    return " ".join(sorted(n for n in __cpu_dispatch__ if __cpu_features__.get(n) and n not in __cpu_baseline__))


def _numpy_avx512() -> str:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return " ".join(sorted(n for n in __cpu_dispatch__
                           if (n.startswith("AVX512") or n == "X86_V4") and __cpu_features__.get(n)))


def compare(native: dict, avx2: dict) -> tuple[list[str], bool]:
    out, same = [], True
    cells_a = {c["scenario"]: c for c in native["cells"]}
    cells_b = {c["scenario"]: c for c in avx2["cells"]}
    for s, a in sorted(cells_a.items()):
        b = cells_b[s]
        va = {k: v.get("passed") for k, v in a["checks"].items()}
        vb = {k: v.get("passed") for k, v in b["checks"].items()}
        same &= va == vb
        moved = {k: (v, b["metrics"].get(k)) for k, v in a["metrics"].items() if v != b["metrics"].get(k)}
        out.append(f"| {s} | {'same' if va == vb else 'DIFFER: ' + json.dumps([va, vb])} | "
                   f"{'same' if a.get('transcript') == b.get('transcript') else repr(a.get('transcript')) + ' / ' + repr(b.get('transcript'))} | "
                   f"{', '.join(f'{k} {x} / {y}' for k, (x, y) in moved.items()) or 'none'} |")
    return out, same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/luxgate-avx2"))
    ap.add_argument("--remake", type=Path, help=argparse.SUPPRESS)  # step 2, inside the emulator
    ap.add_argument("--score", type=Path, help=argparse.SUPPRESS)  # step 5, inside the emulator
    args = ap.parse_args()
    if args.remake:
        print("\n".join(remake_takes(args.remake)))
        return
    if args.score:
        print(json.dumps(score_takes(args.score)))
        return
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        raise SystemExit("needs qemu-x86_64 (Debian: apt-get install qemu-user)")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    native_rc, native = _gate(args.out / "native", args.out / "cache-native", env)
    shutil.copytree(args.out / "cache-native" / "synth", args.out / "cache-avx2" / "synth")
    remade = subprocess.run([qemu, "-cpu", EMULATED_CPU, sys.executable, __file__, "--remake",
                             str(args.out / "cache-avx2")], cwd=ROOT, env=env, capture_output=True, text=True)
    if remade.returncode:
        raise SystemExit(f"the emulated synthesis failed: {remade.stdout[-2000:]}")
    avx2_env = {**env, "CT2_FORCE_CPU_ISA": "AVX2", "NPY_DISABLE_CPU_FEATURES": _numpy_avx512()}
    avx2_rc, avx2 = _gate(args.out / "avx2", args.out / "cache-avx2", avx2_env)
    rows, same = compare(native, avx2)
    # numpy's own AVX2 loops off in the emulator: QEMU 7.2's TCG crashes in them (librosa's
    # power_to_db, inside DNSMOS's features); ONNX Runtime still picks its AVX2 kernels by CPUID
    scored = subprocess.run([qemu, "-cpu", EMULATED_CPU, sys.executable, __file__, "--score",
                             str(args.out / "cache-avx2")], cwd=ROOT, capture_output=True, text=True,
                            env={**env, "NPY_DISABLE_CPU_FEATURES": _numpy_dispatch()})
    if scored.returncode:
        raise SystemExit(f"the emulated DNSMOS failed: {scored.stderr[-2000:]}")
    sys.path.insert(0, str(ROOT))
    from pytest_luxgate.judging.thresholds import resolve

    limit = resolve()["quality_ovrl"]
    mos_rows, mos_same = compare_dnsmos(avx2, json.loads(scored.stdout.splitlines()[-1]), limit)
    same &= mos_same
    print(f"Takes made under qemu -cpu {EMULATED_CPU}:")
    print("\n".join(f"- {line}" for line in remade.stdout.splitlines()))
    print("\n| cell | verdicts (native / AVX2) | transcript | metrics that moved (native / AVX2) |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nDNSMOS of the AVX2 takes: the gate's (native kernels) / ONNX Runtime's AVX2 kernels under "
          f"the emulator; margin = the lower OVRL minus the quality limit {limit}:")
    print("\n| cell | OVRL | SIG | BAK | P808 | margin |\n|---|---|---|---|---|---|")
    print("\n".join(mos_rows))
    print(f"\ngate exit status: native {native_rc}, AVX2 {avx2_rc}; verdicts {'the same' if same else 'DIFFER'}")
    sys.exit(0 if same and native_rc == avx2_rc else 1)


if __name__ == "__main__":
    main()
