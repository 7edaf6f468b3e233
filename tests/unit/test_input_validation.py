"""Scenario, prompt and threshold input that must be refused up front, with the file or option,
the value and the fix named (issue 16, "fail closed"); and the near misses that must still load."""
from __future__ import annotations

from pathlib import Path

import pytest

from pytest_luxgate.core.types import Transcript, Word
from pytest_luxgate.judging.thresholds import (
    PAIRS,
    THRESHOLDS,
    check_pairs,
    parse_overrides,
)
from pytest_luxgate.matrix.prompt_text import transcript_mismatch
from pytest_luxgate.matrix.prompts import DEFAULT_FILE, PromptError, load_prompts
from pytest_luxgate.matrix.scenarios import (
    ScenarioError,
    check_thresholds,
    load_dirs,
    load_file,
)


def _write(d: Path, body: str, name: str = "s.toml") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(body, encoding="utf-8")
    return p


# -- scenario text ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, shown", [
    ("5", "integer 5"), ("1.5", "float 1.5"), ("true", "boolean true"), ('["a", "b"]', "array ['a', 'b']"),
    ("{ words = 'hi' }", "table {'words': 'hi'}"), ("1979-05-27", "date datetime.date(1979, 5, 27)"),
])
def test_scenario_text_of_another_type_says_so(tmp_path: Path, value: str, shown: str) -> None:
    path = _write(tmp_path, f'id = "x"\ntext = {value}\n')
    with pytest.raises(ScenarioError) as err:
        load_file(path)
    assert str(err.value) == (f"scenario file {path}: 'text' must be a string, got {shown}; "
                              'write the words in quotes: text = "..."')
    assert "empty" not in str(err.value)


@pytest.mark.parametrize("text", ["!!!", "...", "?!", "— … —", "* * *", "@#$%&", "()[]{}", "🎤"])
def test_scenario_text_with_nothing_to_speak_is_refused(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, f'id = "x"\ntext = "{text}"\n')
    with pytest.raises(ScenarioError) as err:
        load_file(path)
    assert str(err.value).startswith(f"scenario file {path}: 'text' {text!r} has nothing to speak (only "
                                     "punctuation or symbols, no words or numbers)")


@pytest.mark.parametrize("text", ["5", "#1", "OK!", "No, no, no...", "5 %", "Crème brûlée."])
def test_scenario_text_with_a_word_or_number_loads(tmp_path: Path, text: str) -> None:
    assert load_file(_write(tmp_path, f'id = "x"\ntext = "{text}"\n')).text == text


# -- scenario directories -----------------------------------------------------------------------------
def test_every_scenario_directory_is_used_and_one_named_twice_is_read_once(tmp_path: Path) -> None:
    _write(tmp_path / "one", 'id = "first"\ntext = "One."\n')
    _write(tmp_path / "two", 'id = "second"\ntext = "Two."\n')
    assert [s.id for s in load_dirs([tmp_path / "one", tmp_path / "two"])] == ["first", "second"]
    assert [s.id for s in load_dirs([tmp_path / "one", tmp_path / "x" / ".." / "one"])] == ["first"]
    _write(tmp_path / "two", 'id = "first"\ntext = "Again."\n', "dup.toml")
    with pytest.raises(ScenarioError, match="duplicate scenario id 'first' in .*two/dup.toml and .*one/s.toml"):
        load_dirs([tmp_path / "one", tmp_path / "two"])


# -- threshold pairs ----------------------------------------------------------------------------------
def test_the_registry_pairs_are_found() -> None:
    assert ("rate_min_sps", "rate_max_sps") in PAIRS
    for low, high in PAIRS:
        assert THRESHOLDS[low].limit == "min" and THRESHOLDS[high].limit == "max"
        assert THRESHOLDS[low].default <= THRESHOLDS[high].default  # the defaults agree


def test_inverted_pair_in_a_scenario_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, 'id = "x"\ntext = "Hi."\n[thresholds]\nrate_min_sps = 9\n')
    with pytest.raises(ScenarioError) as err:
        load_file(path)
    assert str(err.value) == (f"scenario file {path}: threshold rate_min_sps = 9 syl/s (its [thresholds]) is "
                              "above rate_max_sps = 8 syl/s (default): no take could pass the 'rate' check; "
                              "lower rate_min_sps or raise rate_max_sps")
    both = _write(tmp_path, 'id = "y"\ntext = "Hi."\n[thresholds]\nrate_min_sps = 6\nrate_max_sps = 5\n', "b.toml")
    with pytest.raises(ScenarioError, match=r"rate_min_sps = 6 syl/s \(its \[thresholds\]\) is above "
                                            r"rate_max_sps = 5 syl/s \(its \[thresholds\]\)"):
        load_file(both)
    # a pair moved together, or to one rate, is consistent
    ok = _write(tmp_path, 'id = "z"\ntext = "Hi."\n[thresholds]\nrate_min_sps = 9\nrate_max_sps = 10\n', "c.toml")
    assert load_file(ok).thresholds == {"rate_min_sps": 9.0, "rate_max_sps": 10.0}
    assert load_file(_write(tmp_path, 'id = "e"\ntext = "Hi."\n[thresholds]\nrate_min_sps = 8\n', "e.toml"))


def test_inverted_pair_on_the_command_line_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^threshold rate_min_sps = 5 syl/s \(--luxgate-threshold\) is above "
                                         r"rate_max_sps = 3 syl/s \(--luxgate-threshold\)"):
        parse_overrides(["rate_min_sps=5,rate_max_sps=3"], "--luxgate-threshold")
    with pytest.raises(ValueError, match=r"rate_min_sps = 2.5 syl/s \(default\) is above rate_max_sps = 2 "
                                         r"syl/s \(--threshold\)"):
        parse_overrides(["rate_max_sps=2"], "--threshold")
    assert parse_overrides(["rate_min_sps=3", "rate_max_sps=3"], "--threshold") == \
        {"rate_min_sps": 3.0, "rate_max_sps": 3.0}


def test_inverted_pair_from_a_scenario_and_the_run_is_refused(tmp_path: Path) -> None:
    sc = load_file(_write(tmp_path, 'id = "slow"\ntext = "Hi."\n[thresholds]\nrate_min_sps = 7\n'))
    with pytest.raises(ScenarioError) as err:
        check_thresholds([sc], {"rate_max_sps": 6.0}, "--luxgate-threshold")
    assert str(err.value) == (f"scenario 'slow': threshold rate_min_sps = 7 syl/s (scenario file {sc.source} "
                              "[thresholds]) is above rate_max_sps = 6 syl/s (--luxgate-threshold): no take "
                              "could pass the 'rate' check; lower rate_min_sps or raise rate_max_sps")
    # the scenario wins where both set a key, as in judging: its own pair is what counts
    check_thresholds([sc], {"rate_min_sps": 9.0, "rate_max_sps": 7.5}, "--luxgate-threshold")
    with pytest.raises(ScenarioError, match=r"\(ini luxgate_threshold\) is above"):
        check_thresholds([load_file(_write(tmp_path, 'id = "q"\ntext = "Hi."\n[thresholds]\nrate_max_sps = 4\n',
                                           "q.toml"))], {"rate_min_sps": 5.0}, "ini luxgate_threshold")


def test_check_pairs_reads_later_layers_over_earlier() -> None:
    check_pairs([("a", {"rate_min_sps": 9.0}), ("b", {"rate_min_sps": 3.0})])
    with pytest.raises(ValueError, match=r"= 9 syl/s \(b\)"):
        check_pairs([("a", {"rate_min_sps": 3.0}), ("b", {"rate_min_sps": 9.0})])


# -- prompts files ------------------------------------------------------------------------------------
WAV = DEFAULT_FILE.parent / "prompt_a.wav"


@pytest.mark.parametrize("body, message", [
    (f'[[promt]]\nid = "p"\nwav = "{WAV}"\ntext = "Hi."\n',
     "unknown key(s) ['promt']; known: [[prompt]] tables with id, wav, text, voice"),
    (f'title = "mine"\n[[prompt]]\nid = "p"\nwav = "{WAV}"\ntext = "Hi."\n',
     "unknown key(s) ['title']; known: [[prompt]] tables with id, wav, text, voice"),
    (f'[[prompt]]\nid = "p"\nwav = "{WAV}"\ntranscript = "Hi."\n',
     "prompt #1 ('p') has unknown key(s) ['transcript']; known: id, wav, text, voice"),
    (f'[[prompt]]\nid = "p"\nwav = "{WAV}"\ntext = "Hi."\nspeed = 1.2\nlang = "en"\n',
     "prompt #1 ('p') has unknown key(s) ['lang', 'speed']; known: id, wav, text, voice"),
    (f'[[prompt]]\nid = "p"\nwav = "{WAV}"\ntext = 5\n', "prompt #1: 'text' must be a string, got integer 5"),
    (f'[[prompt]]\nid = 7\nwav = "{WAV}"\ntext = "Hi."\n', "prompt #1: 'id' must be a string, got integer 7"),
    ('[[prompt]]\nid = "p"\nwav = ["a.wav"]\ntext = "Hi."\n', "prompt #1: 'wav' must be a string, got array"),
])
def test_prompts_file_with_unknown_keys_or_types_is_refused(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body, "prompts.toml")
    with pytest.raises(PromptError) as err:
        load_prompts(path)
    assert str(err.value).startswith(f"prompts file {path}: ") and message in str(err.value), str(err.value)


def test_prompts_file_with_every_known_key_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[[prompt]]\nid = "p"\nwav = "{WAV}"\ntext = "Hi."\nvoice = "Joe"\n', "prompts.toml")
    (p,) = load_prompts(path)
    assert (p.id, p.text, p.description) == ("p", "Hi.", "Joe")
    assert [p.id for p in load_prompts(DEFAULT_FILE)] == ["prompt_a", "prompt_b"]


# -- a given prompt transcript against what the ASR heard (pure; the real ASR: tests/models) -----------
def _heard(*words: tuple[str, float]) -> Transcript:
    return Transcript(" ".join(w for w, _ in words), tuple(Word(w, i, i + 1, p) for i, (w, p) in enumerate(words)),
                      "test", "en")


def _sure(text: str) -> Transcript:
    return _heard(*((w, 0.98) for w in text.split()))


TRAIN = "The morning train was late, so we walked along the river and talked about the weekend."


@pytest.mark.parametrize("given, heard", [
    (TRAIN, TRAIN),
    (TRAIN.upper().replace(",", "").replace(".", ""), TRAIN),                       # casing, punctuation
    ("Order eight thousand four hundred seventy two ships on March twenty first.",  # numbers in words
     "Order 8472 ships on March 21st."),
    ("Gate it with LuxTTS today.", "Gate it with LuxTPS today."),                  # a rare name heard close
    ("It opens on Sundays at nine.", "It opens on Sunday at 9."),                  # another ending
])
def test_asr_slips_on_a_right_transcript_are_not_flagged(given: str, heard: str) -> None:
    assert transcript_mismatch(given, _sure(heard)) is None


def test_one_unsure_difference_is_a_slip_one_sure_difference_is_a_wrong_word() -> None:
    words = [(w, 0.98) for w in "she keeps a small garden and a lot of sunflowers".split()]
    unsure = _heard(*[(w, 0.62 if w == "lot" else p) for w, p in words])
    given = "She keeps a small garden and a row of sunflowers."
    assert transcript_mismatch(given, unsure) is None
    found = transcript_mismatch(given, _heard(*words))
    assert found is not None and found.what.startswith("“row” heard as “lot”; diff: ")


@pytest.mark.parametrize("given, heard, what", [
    ("She keeps a small garden behind the house.", TRAIN, "of its 8 words differ"),                 # another text
    (TRAIN.replace("morning", "evening").replace("river", "lake"), TRAIN,
     "“evening” heard as “morning”, “lake” heard as “river”"),                                       # two words
    ("The morning train was late, so we walked.", TRAIN,
     "heard but not in the transcript: “river”, “talked”, “weekend”"),                                # cut short
    (TRAIN + " Then we went home.", TRAIN, "“then we went home” not heard"),                          # too long
    (TRAIN, "", "no words were heard in the wav"),
])
def test_a_wrong_transcript_is_flagged_saying_what_differs(given: str, heard: str, what: str) -> None:
    found = transcript_mismatch(given, _sure(heard))
    assert found is not None and what in found.what, found
    message = found.message("p", "tiny.en")
    assert message.startswith("prompt 'p': its transcript does not match its audio (") and what in message
    assert message.endswith(f"the gate's ASR tiny.en heard {_sure(heard).text!r})")
