"""The second-opinion rules prototyped in bench/asr_perturbation.py (issue 15, item 1):
a word error that a last-bit perturbation makes or unmakes is not counted, a real
content-word swap is. Pure functions of strings and word probabilities: no model."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from pytest_luxgate.metrics.text import word_error

_PATH = Path(__file__).resolve().parents[2] / "bench" / "asr_perturbation.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("asr_perturbation", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SHORT = "Quick quality check for LuxTTS."
MUSEUM = "The museum opens at nine on Sundays."


def test_an_error_only_one_opinion_makes_is_not_counted(bench) -> None:
    # the flips: one decode hears "LuxTPS", the perturbed one "LuxTTS"
    assert word_error(SHORT, "Quick quality check for LuxTPS.").errors == 1
    assert bench.agreed_errors(SHORT, "Quick quality check for LuxTPS.", "Quick quality check for Lux TTS.") == 0
    pauses = "Wait... are you sure? I mean, really sure; because this test mixes pauses, commas, and emphasis."
    odd = "Wait, are you sure? I mean, really sure, because this test mixes pause as calm as an emphasis."
    fine = "Wait, are you sure? I mean, really sure, because this test mixes pauses, commas and emphasis."
    assert word_error(pauses, odd).errors >= 3
    assert bench.agreed_errors(pauses, odd, fine) == 0


def test_a_content_word_swap_every_opinion_hears_is_counted(bench) -> None:
    said = "The stadium opens at nine on Mondays."
    assert bench.agreed_errors(MUSEUM, said, said, "The stadium opens at 9 on Mondays") == 2
    # the opinions may hear the wrong word differently; the reference position is what must agree
    assert bench.agreed_errors(MUSEUM, said, "The stadiums opens at nine on Monday.") == 2
    # one opinion missing one of the two swaps keeps the other
    assert bench.agreed_errors(MUSEUM, said, "The museum opens at nine on Mondays.") == 1


def test_confident_errors_count_only_words_whisper_was_sure_of(bench) -> None:
    words = [("Quick", 0.99), ("quality", 0.98), ("check", 0.97), ("for", 0.99), ("LuxTPS.", 0.31)]
    assert bench.confident_errors(SHORT, words, "Quick quality check for LuxTPS.", 0.5) == 0
    sure = [("The", 0.99), ("stadium", 0.93), ("opens", 0.99), ("at", 0.99), ("nine", 0.97),
            ("on", 0.99), ("Mondays.", 0.91)]
    assert bench.confident_errors(MUSEUM, sure, "The stadium opens at nine on Mondays.", 0.5) == 2


def test_probabilities_follow_normalisation(bench) -> None:
    """A number said as several words maps to one normalised word with the least probability."""
    words = [("at", 0.9), ("five", 0.8), ("thirty", 0.4), ("pm", 0.95)]
    hyp = word_error("at 5:30 pm", "at five thirty pm").hyp_words
    conf = bench.hyp_confidence(hyp, words)
    assert len(conf) == len(hyp) and conf[0] == 0.9 and min(conf) == 0.4


def test_agreed_word_error_keeps_only_shared_errors(bench) -> None:
    said = "The stadium opens at nine on Mondays."
    w = bench.agreed_word_error(MUSEUM, said + " Okay", "The stadium opens at nine on Mondays.")
    assert (w.errors, w.substitutions, w.insertions) == (2, 2, 0)  # the extra "okay" is not shared
    assert w.wer == pytest.approx(2 / 7) and w.hits == 5
    assert [p["ref"] for p in w.pairs] == ["museum", "sundays"]
    assert "[-museum-]{+stadium+}" in w.diff()
    flip = bench.agreed_word_error(SHORT, "Quick quality check for LuxTPS.", "Quick quality check for LuxTTS.")
    assert flip.errors == 0 and flip.wer == 0.0 and flip.diff() == "(no differences)"
    alone = bench.agreed_word_error(SHORT, "Quick quality check for LuxTPS.")
    assert alone == word_error(SHORT, "Quick quality check for LuxTPS.")
