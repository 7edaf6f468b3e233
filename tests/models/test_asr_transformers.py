"""The transformers backend on the bundled tiny.en weights, converted from CTranslate2."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="the transformers ASR backend is an optional extra (needs torch)")
pytest.importorskip("transformers", reason="the transformers ASR backend is an optional extra")
pytest.importorskip("safetensors", reason="CT2 -> HF conversion writes safetensors")

import soundfile as sf  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

from pytest_luxgate.asr.base import WHISPER_RATE, ASRError, resample  # noqa: E402
from pytest_luxgate.asr.bundled import whisper_model_dir  # noqa: E402
from pytest_luxgate.asr.ct2_convert import convert_ct2_whisper_to_hf, read_ct2_model  # noqa: E402
from pytest_luxgate.asr.transformers_backend import TransformersWhisperASR  # noqa: E402

PROMPTS = Path(__file__).resolve().parents[2] / "pytest_luxgate" / "data" / "prompts"
REPEATS = 5  # ~57 s: two window boundaries for long-form to stitch


def _norm(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


@pytest.fixture(scope="module")
def ct2_dir() -> Path:
    return whisper_model_dir("tiny.en")


@pytest.fixture(scope="module")
def hf_dir(ct2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_ct2_whisper_to_hf(ct2_dir, tmp_path_factory.mktemp("hf") / "whisper-tiny.en")


@pytest.fixture(scope="module")
def asr(hf_dir: Path) -> TransformersWhisperASR:
    return TransformersWhisperASR(str(hf_dir), num_beams=1)


@pytest.fixture(scope="module")
def prompts() -> list[tuple[np.ndarray, int, str]]:
    table = tomllib.loads((PROMPTS / "prompts.toml").read_text())
    out = []
    for entry in table["prompt"]:
        audio, rate = sf.read(PROMPTS / entry["wav"], dtype="float32")
        out.append((audio, rate, entry["text"]))
    return out


@pytest.fixture(scope="module")
def long_clip(prompts) -> tuple[np.ndarray, list[str]]:
    gap = np.zeros(WHISPER_RATE // 2, np.float32)
    pieces, words = [], []
    # prompt_a last: tiny.en hears it reliably, so "the last words" are checkable
    for _ in range(REPEATS):
        for audio, rate, text in reversed(prompts):
            pieces += [resample(audio, rate), gap]
            words += _norm(text)
    return np.concatenate(pieces), words


@pytest.fixture(scope="module")
def long_transcript(asr, long_clip):
    return asr.transcribe(long_clip[0], WHISPER_RATE)


def test_converted_weights_are_the_ct2_arrays_exactly(ct2_dir: Path, hf_dir: Path) -> None:
    ct2 = read_ct2_model(ct2_dir / "model.bin")
    hf = load_file(str(hf_dir / "model.safetensors"))
    d = ct2.variables["encoder/conv1/weight"].shape[0]
    qkv = ct2.variables["decoder/layer_1/self_attention/linear_0/weight"]
    kv = ct2.variables["decoder/layer_2/attention/linear_1/weight"]
    expected = {
        "model.encoder.conv1.weight": ct2.variables["encoder/conv1/weight"],
        "model.encoder.embed_positions.weight": ct2.variables["encoder/position_encodings/encodings"],
        "model.encoder.layers.3.self_attn.v_proj.bias":
            ct2.variables["encoder/layer_3/self_attention/linear_0/bias"][2 * d:],
        "model.decoder.layers.1.self_attn.q_proj.weight": qkv[:d],
        "model.decoder.layers.1.self_attn.k_proj.weight": qkv[d:2 * d],
        "model.decoder.layers.1.self_attn.v_proj.weight": qkv[2 * d:],
        "model.decoder.layers.2.encoder_attn.k_proj.weight": kv[:d],
        "model.decoder.layers.2.encoder_attn.v_proj.weight": kv[d:],
        "model.decoder.embed_tokens.weight": ct2.get("decoder/projection/weight"),
        "model.decoder.layer_norm.bias": ct2.variables["decoder/layer_norm/beta"],
    }
    for name, value in expected.items():
        assert hf[name].dtype == np.float16 == value.dtype, name
        assert np.array_equal(hf[name], value), name
    # nothing dropped or invented: every float CT2 value lands once, except the
    # all-zero key biases that CT2 padded into the fused projections
    ct2_floats = sum(v.size for v in ct2.variables.values() if v.dtype.kind == "f")
    n_key_biases = sum(1 for name in hf if name.endswith(".q_proj.weight"))
    assert sum(v.size for v in hf.values()) == ct2_floats - n_key_biases * d


def test_loaded_model_holds_the_weights_upcast_without_loss(asr, ct2_dir: Path) -> None:
    ct2 = read_ct2_model(ct2_dir / "model.bin")
    model = asr._model
    assert model.proj_out.weight.data_ptr() == model.model.decoder.embed_tokens.weight.data_ptr()
    got = model.model.encoder.layers[0].fc1.weight.detach().numpy()
    assert np.array_equal(got, ct2.variables["encoder/layer_0/ffn/linear_0/weight"].astype(np.float32))
    assert model.config.num_mel_bins == 80 and model.config.vocab_size == 51864
    gen = model.generation_config
    assert gen.no_timestamps_token_id == 50362 and gen.is_multilingual is False
    assert [list(h) for h in gen.alignment_heads][:2] == [[1, 0], [2, 0]]


def test_greedy_text_matches_faster_whisper_greedy(asr, prompts) -> None:
    from pytest_luxgate.asr.faster_whisper_backend import FasterWhisperASR

    fw = FasterWhisperASR("tiny.en", beam_size=1)
    assert asr.name.endswith("(beams 1)")
    for audio, rate, text in prompts:
        ours, theirs = asr.transcribe(audio, rate), fw.transcribe(audio, rate)
        assert _norm(ours.text) == _norm(theirs.text)
        assert [w.text for w in ours.words] == ours.text.split()
        # tiny.en is not perfect, but it must be hearing this prompt
        assert len(set(_norm(ours.text)) & set(_norm(text))) >= 0.7 * len(_norm(text))


def test_clip_over_30_s_is_transcribed_completely(long_clip, long_transcript) -> None:
    audio, expected = long_clip
    assert len(audio) / WHISPER_RATE > 50
    got = _norm(long_transcript.text)
    assert abs(len(got) - len(expected)) <= 0.1 * len(expected)
    assert got[-4:] == expected[-4:] == ["talked", "about", "the", "weekend"]
    assert got.count("morning") == REPEATS  # no window skipped or decoded twice
    assert len(long_transcript.words) == len(long_transcript.text.split())


def test_word_timestamps_are_monotonic_and_inside_the_clip(asr, prompts, long_clip, long_transcript) -> None:
    clips = [(resample(a, r), None) for a, r, _ in prompts]
    results = [(len(a) / WHISPER_RATE, asr.transcribe(a, WHISPER_RATE)) for a, _ in clips]
    results.append((len(long_clip[0]) / WHISPER_RATE, long_transcript))
    for duration, transcript in results:
        assert transcript.words
        starts = [w.start for w in transcript.words]
        assert starts == sorted(starts)
        assert all(0.0 <= w.start <= w.end <= duration + 1e-6 for w in transcript.words)
    # the last word of the long clip is near its end, not stuck in the first window
    duration, transcript = results[-1]
    assert transcript.words[-1].end > duration - 5


def test_bad_model_dir_raises_asr_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-model"
    bad.mkdir()
    (bad / "config.json").write_text("{}")
    with pytest.raises(ASRError, match=re.escape(str(bad))):
        TransformersWhisperASR(str(bad))
    missing = tmp_path / "missing"
    with pytest.raises(ASRError, match=re.escape(str(missing))):
        TransformersWhisperASR(str(missing))
    with pytest.raises(ASRError, match="not a CTranslate2 Whisper directory"):
        convert_ct2_whisper_to_hf(bad, tmp_path / "out")


def test_bundled_names_and_ct2_dirs_are_converted_once_into_the_cache(monkeypatch, tmp_path: Path) -> None:
    from pytest_luxgate.asr.transformers_backend import _resolve

    monkeypatch.setenv("LUXGATE_CACHE_DIR", str(tmp_path))
    first = Path(_resolve("tiny.en"))
    assert first.parent == tmp_path / "luxgate" and first.name.startswith("hf-whisper-")
    assert (first / "model.safetensors").is_file() and (first / "tokenizer.json").is_file()
    assert _resolve(str(whisper_model_dir("tiny.en"))) == str(first)  # same model.bin: cache hit
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left
    assert _resolve("openai/whisper-tiny") == "openai/whisper-tiny"  # hub ids pass through untouched
