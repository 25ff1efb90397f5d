"""Tiny base models built locally: a WordPiece tokenizer trained on corpus text and a small random BERT.

Nothing can be downloaded from the Hugging Face Hub here or in CI, so tests, the demo and
air-gapped users start from these. They learn, but from random weights: their scores say
what the pipeline does, not what AraBERT would reach.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from marsad.data.text import NormalizationConfig

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Tiny vocabularies are trained on normalised text, so they fold the letter variants too.
TINY_NORMALIZATION = NormalizationConfig(normalize_alef=True, normalize_ya=True, normalize_ta_marbuta=True)


@dataclass(frozen=True)
class TinyConfig:
    """Sizes of a tiny BERT (``base_model = "tiny"`` or ``"tiny:hidden=128,layers=2"``)."""

    vocab_size: int = 8000
    hidden: int = 256
    layers: int = 4
    heads: int = 4
    intermediate: int = 1024
    max_position: int = 512
    seed: int = 0

    @classmethod
    def parse(cls, spec: str) -> "TinyConfig":
        """``tiny`` or ``tiny:key=value,...`` with keys of this dataclass."""
        _, _, rest = spec.partition(":")
        kwargs = {}
        for part in filter(None, rest.split(",")):
            k, sep, v = part.partition("=")
            k = k.strip()
            if not sep or k not in cls.__dataclass_fields__:
                raise ValueError(f"bad tiny model option {part!r} in {spec!r}; known: {sorted(cls.__dataclass_fields__)}")
            kwargs[k] = int(v)
        return cls(**kwargs)

    def tag(self) -> str:
        return "tiny-" + "-".join(f"{k}{v}" for k, v in asdict(self).items())


def train_wordpiece(texts: Iterable[str], vocab_size: int, normalization: NormalizationConfig = TINY_NORMALIZATION):
    """A WordPiece ``PreTrainedTokenizerFast`` trained on ``texts`` with marsad's normaliser inside."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from marsad.data.text import build_normalizer

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    steps = [normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True)]
    ours = build_normalizer(normalization)
    if ours is not None:
        steps.insert(0, ours)
    tok.normalizer = normalizers.Sequence(steps)
    pre = [pre_tokenizers.BertPreTokenizer()]
    if normalization.split_digits_from_letters:
        pre.append(pre_tokenizers.Digits(individual_digits=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=1,
                                        show_progress=False)
    tok.train_from_iterator(list(texts), trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)


def build_tiny_base(out_dir: str | Path, texts: Iterable[str], cfg: TinyConfig = TinyConfig()) -> Path:
    """Write a tiny base model directory (tokenizer + random-weight ``BertModel``) loadable by ``AutoModel``.

    Idempotent: an existing directory built with the same config is reused.
    """
    import torch
    from transformers import BertConfig, BertModel

    out = Path(out_dir)
    stamp = out / "marsad_tiny.json"
    want = {**asdict(cfg), "format": 2}
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return out
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_wordpiece(texts, cfg.vocab_size)
    tokenizer.save_pretrained(out)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=cfg.hidden, num_hidden_layers=cfg.layers,
                        num_attention_heads=cfg.heads, intermediate_size=cfg.intermediate,
                        max_position_embeddings=cfg.max_position, pad_token_id=tokenizer.pad_token_id)
    config.marsad_normalization = TINY_NORMALIZATION.to_dict()
    config.marsad_builtin_normalizer = True  # the WordPiece tokenizer above already normalises
    torch.manual_seed(cfg.seed)
    model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(out)
    stamp.write_text(json.dumps(want))
    logger.info("built tiny base model %s in %s (%d parameters)", cfg.tag(), out, model.num_parameters())
    return out
