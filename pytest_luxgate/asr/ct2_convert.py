"""Turn a CTranslate2 Whisper directory back into a Hugging Face one.

The only Whisper weights reachable offline ship as CTranslate2 models (see
`bundled.py`), while the transformers backend wants a Hugging Face directory.
CTranslate2's converter only renames, fuses and (optionally) quantizes, so for
float models the trip back is exact: we read `model.bin` ourselves, split the
fused projections and write safetensors in the stored dtype.

The `model.bin` layout mirrors ``ctranslate2/specs/model_spec.py::_serialize``
(little endian):

    u32 binary_version; str spec_name; u32 spec_revision; u32 n_variables
    n_variables x (str name; u8 rank; rank x u32 dim; u8 dtype_id; u32 n_bytes; bytes)
    u32 n_aliases; n_aliases x (str alias; str target)

where ``str`` is a u16 length (counting a trailing NUL) followed by the bytes.
"""
from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.atomic import atomic_directory
from .base import ASRError

# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_CT2_DTYPES: tuple[np.dtype | None, ...] = (
    np.dtype("<f4"), np.dtype("i1"), np.dtype("<i2"), np.dtype("<i4"), np.dtype("<f2"), None,  # bfloat16
)
# Versions 4..6 share the variable layout above; older ones stored item sizes.
_SUPPORTED_VERSIONS = range(4, 7)
_WHISPER_HEAD_DIM = 64  # every released Whisper size; only a fallback for heads


class CT2Model:
    """The parsed contents of one `model.bin`: name, revision, arrays, aliases."""

    def __init__(self, spec: str, revision: int, variables: dict[str, np.ndarray],
                 aliases: dict[str, str]) -> None:
        self.spec = spec
        self.revision = revision
        self.variables = variables
        self.aliases = aliases

    def get(self, name: str) -> np.ndarray:
        """A variable by name, following aliases (CT2 stores tied weights once)."""
        seen = set()
        while name in self.aliases and name not in seen:
            seen.add(name)
            name = self.aliases[name]
        return self.variables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.variables or name in self.aliases


def _read(f: BinaryIO, fmt: str) -> tuple:
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise ASRError(f"{getattr(f, 'name', 'model.bin')}: truncated CTranslate2 model file")
    return struct.unpack("<" + fmt, data)


def _read_str(f: BinaryIO) -> str:
    (n,) = _read(f, "H")
    raw = f.read(n)
    return raw[:-1].decode("utf-8") if raw.endswith(b"\0") else raw.decode("utf-8")


def read_ct2_model(path: Path) -> CT2Model:
    """Parse a CTranslate2 `model.bin` into numpy arrays (bfloat16 is refused)."""
    path = Path(path)
    with open(path, "rb") as f:
        (version,) = _read(f, "I")
        if version not in _SUPPORTED_VERSIONS:
            raise ASRError(f"{path}: CTranslate2 binary version {version} is not supported "
                           f"(supported: {_SUPPORTED_VERSIONS.start}-{_SUPPORTED_VERSIONS.stop - 1})")
        spec = _read_str(f)
        (revision,) = _read(f, "I")
        (count,) = _read(f, "I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(count):
            name = _read_str(f)
            (rank,) = _read(f, "B")
            shape = _read(f, "I" * rank) if rank else ()
            (type_id,) = _read(f, "B")
            (nbytes,) = _read(f, "I")
            dtype = _CT2_DTYPES[type_id] if type_id < len(_CT2_DTYPES) else None
            if dtype is None:
                raise ASRError(f"{path}: variable {name} has dtype id {type_id}, which numpy cannot "
                               "hold exactly (bfloat16?); convert the model to float16/float32")
            raw = f.read(nbytes)
            if len(raw) != nbytes:
                raise ASRError(f"{path}: truncated CTranslate2 model file at {name}")
            variables[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
        (n_alias,) = _read(f, "I")
        aliases = {}
        for _ in range(n_alias):
            alias = _read_str(f)
            aliases[alias] = _read_str(f)
    return CT2Model(spec, revision, variables, aliases)


# ---------------------------------------------------------------- weights


def _layer_count(model: CT2Model, stack: str) -> int:
    pattern = re.compile(rf"^{stack}/layer_(\d+)/")
    found = {int(m.group(1)) for name in model.variables if (m := pattern.match(name))}
    if found != set(range(len(found))):
        raise ASRError(f"CTranslate2 model has non-contiguous {stack} layers: {sorted(found)}")
    return len(found)


def _float_weight(model: CT2Model, name: str) -> np.ndarray:
    value = model.get(name)
    if value.dtype.kind != "f":
        # int8/int16 weights come with a per-row scale; undoing it is lossy, so refuse
        raise ASRError(f"CTranslate2 variable {name} is quantized ({value.dtype}); only "
                       "float16/float32 models convert exactly")
    return value


def _split_rows(value: np.ndarray, parts: int) -> list[np.ndarray]:
    if value.shape[0] % parts:
        raise ASRError(f"cannot split fused projection of {value.shape[0]} rows into {parts}")
    return list(np.split(value, parts, axis=0))


def _attention(model: CT2Model, src: str, dst: str, fused: tuple[str, ...],
               out: dict[str, np.ndarray]) -> None:
    """Map one CT2 attention block; `fused` lists the projections in each linear_i.

    CT2 fuses q/k/v (self attention) or k/v (cross attention) into one linear.
    Whisper's k_proj has no bias: the converter padded it with zeros, which we
    check and drop so nothing is silently lost.
    """
    for index, names in enumerate(fused):
        weight = _float_weight(model, f"{src}/linear_{index}/weight")
        bias = _float_weight(model, f"{src}/linear_{index}/bias")
        for proj, w, b in zip(names, _split_rows(weight, len(names)), _split_rows(bias, len(names))):
            out[f"{dst}.{proj}_proj.weight"] = w
            if proj == "k":
                if np.any(b):
                    raise ASRError(f"{src}: key projection has a non-zero bias, which Whisper lacks")
                continue
            out[f"{dst}.{proj}_proj.bias"] = b
    out[f"{dst}.out_proj.weight"] = _float_weight(model, f"{src}/linear_{len(fused)}/weight")
    out[f"{dst}.out_proj.bias"] = _float_weight(model, f"{src}/linear_{len(fused)}/bias")


def _layer_norm(model: CT2Model, src: str, dst: str, out: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _float_weight(model, f"{src}/gamma")
    out[f"{dst}.bias"] = _float_weight(model, f"{src}/beta")


def _linear(model: CT2Model, src: str, dst: str, out: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _float_weight(model, f"{src}/weight")
    out[f"{dst}.bias"] = _float_weight(model, f"{src}/bias")


def whisper_state_dict(model: CT2Model) -> dict[str, np.ndarray]:
    """HF `WhisperForConditionalGeneration` tensors from a CT2 WhisperSpec (no copies)."""
    if model.spec != "WhisperSpec":
        raise ASRError(f"not a CTranslate2 Whisper model (spec {model.spec!r})")
    sd: dict[str, np.ndarray] = {}
    enc, dec = "model.encoder", "model.decoder"
    for conv in ("conv1", "conv2"):
        _linear(model, f"encoder/{conv}", f"{enc}.{conv}", sd)
    sd[f"{enc}.embed_positions.weight"] = _float_weight(model, "encoder/position_encodings/encodings")
    for i in range(_layer_count(model, "encoder")):
        src, dst = f"encoder/layer_{i}", f"{enc}.layers.{i}"
        _attention(model, f"{src}/self_attention", f"{dst}.self_attn", (("q", "k", "v"),), sd)
        _layer_norm(model, f"{src}/self_attention/layer_norm", f"{dst}.self_attn_layer_norm", sd)
        _linear(model, f"{src}/ffn/linear_0", f"{dst}.fc1", sd)
        _linear(model, f"{src}/ffn/linear_1", f"{dst}.fc2", sd)
        _layer_norm(model, f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm", sd)
    _layer_norm(model, "encoder/layer_norm", f"{enc}.layer_norm", sd)

    sd[f"{dec}.embed_tokens.weight"] = _float_weight(model, "decoder/embeddings/weight")
    sd[f"{dec}.embed_positions.weight"] = _float_weight(model, "decoder/position_encodings/encodings")
    for i in range(_layer_count(model, "decoder")):
        src, dst = f"decoder/layer_{i}", f"{dec}.layers.{i}"
        _attention(model, f"{src}/self_attention", f"{dst}.self_attn", (("q", "k", "v"),), sd)
        _layer_norm(model, f"{src}/self_attention/layer_norm", f"{dst}.self_attn_layer_norm", sd)
        _attention(model, f"{src}/attention", f"{dst}.encoder_attn", (("q",), ("k", "v")), sd)
        _layer_norm(model, f"{src}/attention/layer_norm", f"{dst}.encoder_attn_layer_norm", sd)
        _linear(model, f"{src}/ffn/linear_0", f"{dst}.fc1", sd)
        _linear(model, f"{src}/ffn/linear_1", f"{dst}.fc2", sd)
        _layer_norm(model, f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm", sd)
    _layer_norm(model, "decoder/layer_norm", f"{dec}.layer_norm", sd)

    # HF ties proj_out to embed_tokens; anything else would need an untied config
    if "decoder/projection/weight" in model:
        proj = model.get("decoder/projection/weight")
        if proj is not sd[f"{dec}.embed_tokens.weight"] and not np.array_equal(proj, sd[f"{dec}.embed_tokens.weight"]):
            raise ASRError("CTranslate2 Whisper output projection differs from the token embeddings")
    if "decoder/projection/bias" in model and np.any(model.get("decoder/projection/bias")):
        raise ASRError("CTranslate2 Whisper output projection has a bias, which HF Whisper lacks")
    return sd


def _scalar(model: CT2Model, name: str) -> int | None:
    return int(model.variables[name]) if name in model.variables else None


# ---------------------------------------------------------------- configs


def _special_ids(tokenizer: dict) -> dict[str, int]:
    return {t["content"]: int(t["id"]) for t in tokenizer.get("added_tokens", []) if t.get("special")}


def _token_ids(special: dict[str, int]) -> dict[str, int]:
    need = ("<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|notimestamps|>")
    missing = [t for t in need if t not in special]
    if missing:
        raise ASRError(f"tokenizer.json lacks Whisper special tokens {missing}")
    return {t.strip("<|>"): special[t] for t in need}


def _model_config(model: CT2Model, sd: dict[str, np.ndarray], ids: dict[str, int],
                  ct2_config: dict, dtype: str) -> dict:
    d_model = sd["model.encoder.conv1.weight"].shape[0]
    vocab = sd["model.decoder.embed_tokens.weight"].shape[0]
    multilingual = vocab >= 51865  # the rule openai/whisper itself uses
    enc_layers, dec_layers = _layer_count(model, "encoder"), _layer_count(model, "decoder")
    fallback_heads = d_model // _WHISPER_HEAD_DIM
    return {
        "architectures": ["WhisperForConditionalGeneration"],
        "model_type": "whisper",
        "activation_function": "gelu",
        "d_model": d_model,
        "num_mel_bins": sd["model.encoder.conv1.weight"].shape[1],
        "encoder_layers": enc_layers,
        "decoder_layers": dec_layers,
        "num_hidden_layers": enc_layers,
        "encoder_attention_heads": _scalar(model, "encoder/num_heads") or fallback_heads,
        "decoder_attention_heads": _scalar(model, "decoder/num_heads") or fallback_heads,
        "encoder_ffn_dim": sd["model.encoder.layers.0.fc1.weight"].shape[0],
        "decoder_ffn_dim": sd["model.decoder.layers.0.fc1.weight"].shape[0],
        "max_source_positions": sd["model.encoder.embed_positions.weight"].shape[0],
        "max_target_positions": sd["model.decoder.embed_positions.weight"].shape[0],
        "vocab_size": vocab,
        "bos_token_id": ids["endoftext"] if multilingual else ids["startoftranscript"],
        "eos_token_id": ids["endoftext"],
        "pad_token_id": ids["endoftext"],
        "decoder_start_token_id": ids["startoftranscript"],
        "suppress_tokens": ct2_config.get("suppress_ids") or [],
        "begin_suppress_tokens": ct2_config.get("suppress_ids_begin") or [220, ids["endoftext"]],
        "scale_embedding": False,
        "tie_word_embeddings": True,
        "is_encoder_decoder": True,
        "use_cache": True,
        "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
        "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0,
        "init_std": 0.02,
        "max_length": sd["model.decoder.embed_positions.weight"].shape[0],
        "dtype": dtype,
        "torch_dtype": dtype,  # transformers < 4.56 reads this name
    }


def _generation_config(config: dict, ids: dict[str, int], special: dict[str, int], ct2_config: dict) -> dict:
    multilingual = config["vocab_size"] >= 51865
    heads = ct2_config.get("alignment_heads")
    if not heads:  # CT2's own default: every head of the second half of the decoder
        layers, n = config["decoder_layers"], config["decoder_attention_heads"]
        heads = [[layer, h] for layer in range(layers // 2, layers) for h in range(n)]
    gen = {
        "alignment_heads": [list(map(int, h)) for h in heads],
        "begin_suppress_tokens": config["begin_suppress_tokens"],
        "suppress_tokens": config["suppress_tokens"],
        "bos_token_id": config["bos_token_id"],
        "eos_token_id": ids["endoftext"],
        "pad_token_id": ids["endoftext"],
        "decoder_start_token_id": ids["startoftranscript"],
        "no_timestamps_token_id": ids["notimestamps"],
        "prev_sot_token_id": ids["startofprev"],
        "is_multilingual": multilingual,
        "max_initial_timestamp_index": 50,  # 1.0 s, as openai/whisper
        "max_length": config["max_target_positions"],
        "return_timestamps": False,
    }
    if multilingual:
        # language tokens sit between <|startoftranscript|> and <|translate|>
        gen["lang_to_id"] = {tok: i for tok, i in sorted(special.items(), key=lambda kv: kv[1])
                             if ids["startoftranscript"] < i < ids["translate"]}
        gen["task_to_id"] = {"transcribe": ids["transcribe"], "translate": ids["translate"]}
    return gen


def _tokenizer_files(tokenizer: dict, vocab_size: int, out: Path) -> None:
    """tokenizer.json (+ timestamp tokens) and the config WhisperTokenizer(Fast) expects."""
    added = tokenizer.setdefault("added_tokens", [])
    taken = {t["id"] for t in added} | set(tokenizer["model"]["vocab"].values())
    next_id = max(taken) + 1
    # Timestamp tokens are plain (non-special) added tokens, as on the hub: the
    # tokenizer finds them as "the ids after the last special token".
    for index in range(vocab_size - next_id):
        added.append({"id": next_id + index, "content": f"<|{index * 0.02:.2f}|>", "single_word": False,
                      "lstrip": False, "rstrip": False, "normalized": False, "special": False})
    (out / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    # vocab.json/merges.txt let the slow tokenizer (and older transformers) load too
    (out / "vocab.json").write_text(json.dumps(tokenizer["model"]["vocab"], ensure_ascii=False), encoding="utf-8")
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]]
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    specials = [t["content"] for t in sorted(added, key=lambda t: t["id"])
                if t.get("special") and t["content"] != "<|endoftext|>"]
    _write_json(out / "special_tokens_map.json", {
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>", "additional_special_tokens": specials})
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "WhisperTokenizer", "processor_class": "WhisperProcessor",
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>", "additional_special_tokens": specials,
        "add_prefix_space": False, "errors": "replace", "model_max_length": 1024,
        "clean_up_tokenization_spaces": False})


def _preprocessor_config(num_mel_bins: int) -> dict:
    return {
        "feature_extractor_type": "WhisperFeatureExtractor", "processor_class": "WhisperProcessor",
        "feature_size": num_mel_bins, "sampling_rate": 16000, "hop_length": 160, "n_fft": 400,
        "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
        "padding_side": "right", "padding_value": 0.0, "return_attention_mask": False,
    }


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- entry point


def convert_ct2_whisper_to_hf(ct2_dir: Path, out_dir: Path) -> Path:
    """Write a Hugging Face Whisper directory for the CTranslate2 model in `ct2_dir`.

    The output appears atomically (built in a sibling temp dir, then renamed),
    so concurrent test workers never load half a model. An existing complete
    `out_dir` is left alone and returned.
    """
    try:
        from safetensors.numpy import save_file
    except ImportError as exc:
        raise ASRError("converting CTranslate2 Whisper weights needs the 'safetensors' package") from exc
    ct2_dir, out_dir = Path(ct2_dir), Path(out_dir)
    if (out_dir / "model.safetensors").exists() and (out_dir / "config.json").exists():
        return out_dir
    for name in ("model.bin", "tokenizer.json"):
        if not (ct2_dir / name).is_file():
            raise ASRError(f"{ct2_dir} is not a CTranslate2 Whisper directory: no {name}")
    model = read_ct2_model(ct2_dir / "model.bin")
    sd = whisper_state_dict(model)
    ct2_config = json.loads((ct2_dir / "config.json").read_text()) if (ct2_dir / "config.json").is_file() else {}
    tokenizer = json.loads((ct2_dir / "tokenizer.json").read_text(encoding="utf-8"))
    special = _special_ids(tokenizer)
    ids = _token_ids(special)
    dtype = {"float16": "float16", "float32": "float32"}[sd["model.encoder.conv1.weight"].dtype.name]
    config = _model_config(model, sd, ids, ct2_config, dtype)

    with atomic_directory(out_dir, "model.safetensors") as tmp:
        save_file({k: np.ascontiguousarray(v) for k, v in sd.items()}, str(tmp / "model.safetensors"),
                  metadata={"format": "pt", "source": f"ctranslate2 {model.spec} rev {model.revision}"})
        _write_json(tmp / "config.json", config)
        _write_json(tmp / "generation_config.json", _generation_config(config, ids, special, ct2_config))
        _write_json(tmp / "preprocessor_config.json", _preprocessor_config(config["num_mel_bins"]))
        _tokenizer_files(tokenizer, config["vocab_size"], tmp)
    return out_dir
