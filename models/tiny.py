"""Tiny base models built locally: a WordPiece tokenizer trained on corpus text and a small random BERT.

Nothing can be downloaded from the Hugging Face Hub here or in CI, so tests, the demo and
air-gapped users start from these. They learn, but from random weights: their scores say
what the pipeline does, not what AraBERT would reach.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections import Counter
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


def learn_wordpiece_vocab(words: Counter[str], vocab_size: int, special_tokens: list[str] = SPECIAL_TOKENS,
                          prefix: str = "##") -> dict[str, int]:
    """WordPiece vocabulary by BPE merges, as ``tokenizers.trainers.WordPieceTrainer`` learns it, but deterministic.

    Written by hand because the library's trainer is not reproducible across processes: it breaks
    ties between equally frequent pairs by ids that depend on Rust's randomly seeded hash maps, so
    the same texts gave a different vocabulary (and different scores) on every run. Here ties go
    to the lexicographically smaller pair. ``words`` are already normalised and pre-tokenised.
    """
    chars: Counter[str] = Counter()
    for w, n in words.items():
        for c in w:
            chars[c] += n
    vocab: dict[str, int] = {}
    for t in special_tokens:
        vocab.setdefault(t, len(vocab))
    for c, _ in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0])):
        vocab.setdefault(c, len(vocab))
    items = sorted(words.items())
    seqs = [[w[0], *(prefix + c for c in w[1:])] for w, _ in items]
    freqs = [n for _, n in items]
    for seq in seqs:
        for t in seq[1:]:
            vocab.setdefault(t, len(vocab))

    pair_counts: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], set[int]] = {}
    for i, seq in enumerate(seqs):
        for pair in zip(seq, seq[1:]):
            pair_counts[pair] += freqs[i]
            where.setdefault(pair, set()).add(i)
    heap = [(-n, a, b) for (a, b), n in pair_counts.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        neg, a, b = heapq.heappop(heap)
        if pair_counts.get((a, b), 0) != -neg or neg == 0:
            continue  # a stale heap entry
        merged = a + b[len(prefix):] if b.startswith(prefix) else a + b
        vocab.setdefault(merged, len(vocab))
        touched: set[tuple[str, str]] = set()
        for i in sorted(where.pop((a, b), ())):
            seq, n = seqs[i], freqs[i]
            for pair in zip(seq, seq[1:]):
                pair_counts[pair] -= n
                touched.add(pair)
                where.get(pair, set()).discard(i)
            out, k = [], 0
            while k < len(seq):
                if k + 1 < len(seq) and seq[k] == a and seq[k + 1] == b:
                    out.append(merged)
                    k += 2
                else:
                    out.append(seq[k])
                    k += 1
            seqs[i] = out
            for pair in zip(out, out[1:]):
                pair_counts[pair] += n
                touched.add(pair)
                where.setdefault(pair, set()).add(i)
        pair_counts.pop((a, b), None)
        for pair in sorted(touched):
            n = pair_counts.get(pair, 0)
            if n > 0:
                heapq.heappush(heap, (-n, *pair))
            else:
                pair_counts.pop(pair, None)
    return vocab


def train_wordpiece(texts: Iterable[str], vocab_size: int, normalization: NormalizationConfig = TINY_NORMALIZATION):
    """A WordPiece ``PreTrainedTokenizerFast`` trained on ``texts`` with marsad's normaliser inside.

    The same texts always give the same vocabulary (see ``learn_wordpiece_vocab``).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    from marsad.data.text import build_normalizer

    steps = [normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True)]
    ours = build_normalizer(normalization)
    if ours is not None:
        steps.insert(0, ours)
    normalizer = normalizers.Sequence(steps)
    pre = [pre_tokenizers.BertPreTokenizer()]
    if normalization.split_digits_from_letters:
        pre.append(pre_tokenizers.Digits(individual_digits=False))
    pre_tokenizer = pre_tokenizers.Sequence(pre)

    # The words the tokenizer will see: tokenizers' own normaliser and pre-tokeniser produce them.
    words: Counter[str] = Counter()
    for text in texts:
        for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)):
            if len(w) <= 100:
                words[w] += 1
    vocab = learn_wordpiece_vocab(words, vocab_size)

    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece()
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
    want = {**asdict(cfg), "format": 3}
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
