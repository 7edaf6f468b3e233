"""`luxgate tune`'s pure parts: search space, score, proposals, byte-budgeted store, params file."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.matrix.params_file import ParamsFileError, read_params_file, render_params_file
from pytest_luxgate.judging.thresholds import resolve
from pytest_luxgate.cli.tune.search import STEP_MIN, Score, next_step, params_key, propose, score
from pytest_luxgate.cli.tune.space import SpaceError, build_space, default_space, load_space_file
from pytest_luxgate.cli.tune.store import TMP_PREFIX, BudgetExceeded, Store, dir_bytes, wav_bytes

PIPER = {"length_scale": 1, "noise_scale": 0.667, "noise_w_scale": 0.8, "volume": 0.89}
LUX = {"num_steps": 6, "guidance_scale": 2.6, "t_shift": 0.45, "speed": 0.96,
       "duration_pad_frames": 20, "ref_duration": 2.4, "return_smooth": True, "device": "cpu"}


class _Stack:
    name = "fake"


# -- space ---------------------------------------------------------------------
def test_built_in_stacks_declare_their_own_space() -> None:
    """Piper's space comes from PiperStack.tune_space(), not from a table keyed by name."""
    from pytest_luxgate.stacks.piper import PiperStack

    space = default_space(PiperStack(), PIPER, "piper")
    assert space.names == ("length_scale", "noise_scale", "noise_w_scale")  # volume left out on purpose
    assert space.source == "stack 'piper' tune_space()"
    ls = space.dims[0]
    # Piper's config gives length_scale as the integer 1; the float range keeps it continuous
    assert ls.kind == "float" and (ls.low, ls.high) == (0.75, 1.4)
    for dim in space.dims:
        assert dim.low <= PIPER[dim.name] <= dim.high, dim


def test_luxtts_stacks_get_the_original_loops_search_space() -> None:
    """docs/ORIGIN.md: prompt offset, reference duration, silence-trim threshold, speed, steps,
    guidance, t_shift, duration padding; every default lies inside its range."""
    from pytest_luxgate.stacks.luxtts.stacks import DEFAULT_PARAMS, LuxTTSTorchStack

    space = default_space(LuxTTSTorchStack(), DEFAULT_PARAMS, "torch")
    assert set(space.names) == {"prompt_start", "ref_duration", "silence_threshold_db", "keep_silence_ms",
                                "speed", "num_steps", "guidance_scale", "t_shift", "duration_pad_frames"}
    kinds = {d.name: d.kind for d in space.dims}
    assert kinds["num_steps"] == "int" and kinds["duration_pad_frames"] == "int"
    assert kinds["guidance_scale"] == "float"
    for dim in space.dims:
        assert dim.low <= DEFAULT_PARAMS[dim.name] <= dim.high, dim


def test_a_shared_parameter_name_borrows_no_range() -> None:
    """A custom stack whose `speed` is words per minute (default 160) declares no space: it gets
    no LuxTTS range for it (that gave speed = 1.15), but an error naming --space."""
    class WordsPerMinute:  # no `name` attribute either: the registered name is used
        def default_params(self) -> dict:
            return {"speed": 160}

    with pytest.raises(SpaceError) as err:
        default_space(WordsPerMinute(), {"speed": 160}, "wpm")
    assert str(err.value).startswith("--stack wpm: the stack declares no search space")
    assert "--space FILE" in str(err.value) and "speed" in str(err.value)
    # the same stack with a user space tunes in its own unit
    space = build_space({"speed": 160}, {"speed": [140, 200]}, "--space f")
    assert space.dims[0].kind == "int" and space.clip({"speed": 160}) == {"speed": 160}


def test_stack_tune_space_wins_and_is_checked() -> None:
    class Declares(_Stack):
        def tune_space(self) -> dict:
            return {"noise_scale": [0.4, 0.6], "return_smooth": {"values": [True, False]}}

    space = default_space(Declares(), {**PIPER, "return_smooth": True})
    assert space.names == ("noise_scale", "return_smooth")
    assert space.dims[1].kind == "choice"

    class Typo(_Stack):
        def tune_space(self) -> dict:
            return {"noise_scal": [0.4, 0.6]}

    with pytest.raises(SpaceError, match="noise_scal.*declares: length_scale"):
        default_space(Typo(), PIPER)


def test_space_file_shapes_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "space.toml"
    f.write_text('length_scale = [0.9, 1.2]\n[noise_scale]\nmin = 0.3\nmax = 0.9\n')
    space = load_space_file(f, PIPER)
    assert [(d.name, d.low, d.high) for d in space.dims] == [("length_scale", 0.9, 1.2), ("noise_scale", 0.3, 0.9)]
    for text, match in [("length_scale = [1.2, 0.9]", "empty"), ("length_scale = 3", "must be"),
                        ("speed = [0.8, 1.2]", "no parameter"), ("length_scale = [0.8", "not valid TOML"),
                        ("[noise_scale]\nlow = 0.1\nmax = 1", "unknown key")]:
        f.write_text(text)
        with pytest.raises(SpaceError, match=match) as err:
            load_space_file(f, PIPER)
        assert str(f) in str(err.value)
    with pytest.raises(SpaceError, match="cannot read"):
        load_space_file(tmp_path / "missing.toml", PIPER)


def test_no_declared_space_asks_for_a_space_file() -> None:
    with pytest.raises(SpaceError, match="--space FILE"):
        default_space(_Stack(), {"temperature_knob": 1.0})

    class Broken(_Stack):
        def tune_space(self) -> dict:
            raise KeyError("oops")

    with pytest.raises(SpaceError, match="tune_space\\(\\) raised KeyError"):
        default_space(Broken(), {"temperature_knob": 1.0})


def test_dim_clip_keeps_values_legal() -> None:
    space = build_space(LUX, {"num_steps": [3, 16], "speed": [0.8, 1.15]}, "t")
    steps, speed = space.dims
    assert steps.clip(40.7) == 16 and steps.clip(5.6) == 6 and isinstance(steps.clip(5.6), int)
    assert speed.clip(0.1) == 0.8 and speed.clip(1.000049) == 1.0


# -- score ---------------------------------------------------------------------
def _v(passed: bool, value: float | None, threshold: float | None) -> dict:
    return {"passed": passed, "value": value, "threshold": threshold}


def test_score_counts_failures_first_then_distance_then_headroom() -> None:
    th = resolve()
    one_far = score([{"tail": _v(False, 1.0, 0.25), "wer": _v(True, 0.0, 0.2)}], [th])
    one_near = score([{"tail": _v(False, 0.3, 0.25), "wer": _v(True, 0.0, 0.2)}], [th])
    two = score([{"tail": _v(False, 0.26, 0.25), "wer": _v(False, 0.21, 0.2)}], [th])
    clean_tight = score([{"tail": _v(True, 0.24, 0.25), "wer": _v(True, 0.19, 0.2)}], [th])
    clean_wide = score([{"tail": _v(True, 0.0, 0.25), "wer": _v(True, 0.0, 0.2)}], [th])
    assert clean_wide < clean_tight < one_near < one_far < two
    assert clean_tight.passed and not one_near.passed
    assert one_near.excess == pytest.approx(0.05 / 0.25, abs=1e-3)


def test_score_units_and_caps() -> None:
    th = resolve()
    # dB limits: 10 dB is one unit, so 5 dB over -38 dB reads 0.5 (not 5/38)
    db = score([{"tail": _v(False, -33.0, th["post_offset_noise_db"])}], [th])
    assert db.excess == pytest.approx(0.5)
    # an unmeasurable failing value and a cell with no take count at the cap
    none = score([{"rate": _v(False, None, 2.5)}], [th])
    err = score([], [], errors=1, checks_per_cell=7)
    assert none.excess == 4.0 and err.failed == 7 and err.excess == 28.0
    # a check with no number (seams on a one-pass take) neither fails nor adds headroom
    assert score([{"seams": _v(True, None, None)}], [th]) == Score(0, 0.0, 0.0)


# -- search --------------------------------------------------------------------
def test_proposals_are_deterministic_in_range_new_and_mirrored() -> None:
    space = build_space(LUX, {"num_steps": [3, 16], "speed": [0.8, 1.15], "t_shift": [0.2, 0.9]}, "t")
    best = space.clip(LUX)

    def draw(seed: int) -> list[dict]:
        return propose(best, space, 0.25, np.random.default_rng(seed), 6, {params_key(best)})

    a, b, c = draw(3), draw(3), draw(4)
    assert a == b and a != c
    assert len(a) == 6 and len({params_key(x) for x in a}) == 6 and all(x != best for x in a)
    for cand in a:
        assert 3 <= cand["num_steps"] <= 16 and isinstance(cand["num_steps"], int)
        assert 0.8 <= cand["speed"] <= 1.15 and 0.2 <= cand["t_shift"] <= 0.9
        assert cand["device"] == "cpu" and cand["return_smooth"] is True  # untouched
    # every second candidate mirrors the first through the best point (where neither is clipped)
    checked = 0
    for first, mirror in zip(a[0::2], a[1::2]):
        for k, lo, hi in (("speed", 0.8, 1.15), ("t_shift", 0.2, 0.9)):
            m = 2 * best[k] - first[k]
            if first[k] != best[k] and lo < first[k] < hi and lo < m < hi:
                assert mirror[k] == pytest.approx(m, abs=2e-4)
                checked += 1
    assert checked >= 1

def test_step_widens_after_success_and_shrinks_to_a_floor() -> None:
    assert next_step(0.2, True) > 0.2
    s = 0.25
    for _ in range(20):
        s = next_step(s, False)
    assert s == STEP_MIN


# -- store ---------------------------------------------------------------------
def test_store_counts_every_byte_and_refuses_over_budget(tmp_path: Path) -> None:
    (tmp_path / "foreign.bin").write_bytes(b"x" * 100)  # someone else's file counts too
    store = Store(tmp_path, 1000)
    assert store.used == 100 and store.tmp.is_dir() and store.tmp.name.startswith(TMP_PREFIX)
    store.write("a.txt", b"a" * 300)
    store.write("a.txt", b"a" * 500)          # replacing: old 300 and new 500 coexist briefly
    assert store.used == 600 == dir_bytes(tmp_path) and store.peak == 900
    store.append("h.jsonl", b"h" * 100)
    store.reserve = 250
    with pytest.raises(BudgetExceeded, match="budget"):
        store.append("h.jsonl", b"h" * 100)   # 700 + 100 + 250 reserve > 1000
    store.write("a.txt", b"a" * 300, essential=True)  # essential writes may use the reserve
    with pytest.raises(BudgetExceeded):
        store.write("big.wav", b"w" * 700, essential=True)
    assert not (tmp_path / "big.wav").exists()
    assert store.used == dir_bytes(tmp_path) <= 1000 and store.peak <= 1000
    store.remove("a.txt")
    assert store.used == dir_bytes(tmp_path) == 200
    store.close()
    assert not store.tmp.exists()


def test_store_removes_own_old_outputs_and_stale_temp_dirs(tmp_path: Path) -> None:
    (tmp_path / "wavs").mkdir()
    (tmp_path / "wavs" / "old.wav").write_bytes(b"x" * 50)
    (tmp_path / "TUNE.md").write_text("old")
    stale = tmp_path / f"{TMP_PREFIX}killed"  # a killed tune's: its lock file, held by no one
    stale.mkdir()
    (stale / ".lock").write_bytes(b"")
    (stale / "half.wav").write_bytes(b"x" * 10)
    from pytest_luxgate.core.held import HeldDir

    live = HeldDir(tmp_path, TMP_PREFIX)  # a tune still running in the same directory
    (live.path / "theirs.wav").write_bytes(b"x" * 7)
    store = Store(tmp_path, None, owned=("wavs", "TUNE.md"))
    assert not stale.exists() and not (tmp_path / "wavs").exists()
    assert (live.path / "theirs.wav").exists() and store.used == 7
    store.close()
    live.close()


def test_wav_bytes_is_16_bit_pcm(tmp_path: Path) -> None:
    import soundfile as sf

    data = wav_bytes(np.zeros(1000, np.float32), 22050)
    assert len(data) == 44 + 2000
    p = tmp_path / "x.wav"
    p.write_bytes(data)
    assert sf.info(str(p)).subtype == "PCM_16"
    assert os.path.getsize(p) == len(data)


# -- params file -----------------------------------------------------------------
def test_params_file_round_trip_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "tuned.toml"
    f.write_text(render_params_file({"piper": {"own_voice": {"length_scale": 1.05, "noise_scale": 0.5}}},
                                    {"stack": "piper"}, "tuned\nby a test"))
    assert f.read_text().startswith("# tuned\n# by a test")
    assert read_params_file(f) == {"piper": {"own_voice": {"length_scale": 1.05, "noise_scale": 0.5}}}
    for text, match in [("[other]\nx = 1", "unknown top-level"), ("[params]\npiper = 1", "table of"),
                        ("[params.piper]\nown_voice = 2", "expected a table"),
                        ("[params.piper.own_voice]\nx = [1, 2]", "number, boolean or string"),
                        ("[params.piper", "not valid TOML")]:
        f.write_text(text)
        with pytest.raises(ParamsFileError, match=match) as err:
            read_params_file(f)
        assert str(f) in str(err.value)
