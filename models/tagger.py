"""Inference: the Tagger tags whole articles of any length, in batches, with offsets on the original text.

Articles are split into sentences, sentences longer than the window into overlapping windows;
windows from a bounded buffer of articles are sorted by length and packed into batches under a
token budget (dynamic padding), run under ``torch.inference_mode``, merged back per sentence,
and decoded to character spans and per-sentence event probabilities. Results come back in
input order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch

from marsad.data.bio import bio_to_spans
from marsad.data.document import Article, Entity, Sentence
from marsad.data.text import split_sentences
from marsad.models.base import special_token_frame
from marsad.models.features import units_for_articles, windows_for_units
from marsad.models.joint import JointModel, load_joint_model

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "int8", "onnx", "onnx-int8")


def pick_device(device: str | None = None) -> torch.device:
    """CUDA, then MPS, then CPU, unless told."""
    if device:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_fast_bf16() -> bool:
    """True where the CPU has AVX512-BF16 or AMX (bf16 autocast is slower than fp32 elsewhere)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in (" avx512_bf16", " amx_bf16"))


@dataclass
class _Result:
    entities: list[Entity]
    sentences: list[Sentence]


class Tagger:
    """Tags articles with the joint model. Build it with ``Tagger.load(model_dir)``."""

    def __init__(self, model: JointModel, tokenizer: Any, meta: dict, device: str | torch.device | None = None,
                 precision: str = "auto", batch_tokens: int | None = None, max_batch: int | None = None,
                 buffer_articles: int = 256,
                 max_length: int | None = None, stride: int | None = None, model_dir: str | Path | None = None) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.meta = meta
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.tokenizer = tokenizer
        self.device = pick_device(str(device) if device is not None else None)
        self.precision = self._resolve_precision(precision)
        self.max_length = int(max_length or meta.get("max_length", 512))
        self.stride = int(stride if stride is not None else meta.get("stride", 128))
        # Measured on 2 CPU cores (BERT-base): batches of at most 32 windows are fastest (less padding,
        # cache-friendly GEMMs); GPUs want far larger batches.
        gpu = self.device.type in ("cuda", "mps")
        self.batch_tokens = batch_tokens or (65536 if gpu else 8192)
        self.max_batch = max_batch or (256 if gpu else 32)
        self.buffer_articles = buffer_articles
        self.id2tag = {int(k): v for k, v in model.config.id2label.items()}
        self.event_labels: list[str] = list(meta["event_labels"])
        th = meta.get("event_thresholds") or {}
        self.thresholds = np.array([float(th.get(e, 0.5)) for e in self.event_labels], dtype=np.float32)
        self.prefix, self.suffix = special_token_frame(tokenizer)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self._onnx = None
        self.model = self._prepare_model(model)

    # --- construction ---------------------------------------------------------------------------

    @classmethod
    def load(cls, model_dir: str | Path, device: str | None = None, precision: str = "auto",
             trust_remote_code: bool = False, **kw: Any) -> "Tagger":
        """Load a saved marsad model directory for inference."""
        model, tokenizer, meta = load_joint_model(model_dir, trust_remote_code=trust_remote_code)
        return cls(model, tokenizer, meta, device=device, precision=precision, model_dir=model_dir, **kw)

    def _resolve_precision(self, precision: str) -> str:
        if precision != "auto":
            return precision
        if self.device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        if self.device.type != "cpu":
            return "fp32"
        # The fastest option whose entity-F1 cost on dev (measured at training time) is within 0.5 point.
        costs = self.meta.get("precision_cost_f1") or {}
        order = ["onnx-int8", "int8", "bf16", "onnx", "fp32"]
        for p in order:
            if p == "bf16" and not cpu_has_fast_bf16():
                continue
            if p.startswith("onnx") and not _onnx_available():
                continue
            if p in costs and costs[p] is not None and costs[p] <= 0.5:
                return p
        return "fp32"

    def _prepare_model(self, model: JointModel) -> JointModel:
        model.eval()
        if self.precision == "int8":
            if self.device.type != "cpu":
                raise ValueError("int8 dynamic quantisation runs on CPU only")
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        elif self.precision in ("onnx", "onnx-int8"):
            from marsad.models.onnx import OnnxRunner

            self._onnx = OnnxRunner.for_model(model, quantize=self.precision == "onnx-int8",
                                              cache_dir=self.model_dir)
        return model.to(self.device) if self.precision != "int8" else model

    # --- public API -----------------------------------------------------------------------------

    def tag(self, texts: Sequence[str]) -> list[dict]:
        """Tag raw article texts; one result dict per text (DESIGN.md's output record, without id/meta)."""
        arts = [Article(str(i), t) for i, t in enumerate(texts)]
        return [self._record(a, r, with_id=False) for a, r in zip(arts, self._tag_buffer(arts, gold_sentences=False))]

    def predict(self, articles: Sequence[Article], gold_sentences: bool = True) -> list[Article]:
        """Predicted copies of ``articles`` (entities with scores; sentences with event scores).

        With ``gold_sentences`` the articles' own sentence boundaries are used (for evaluation).
        """
        out = []
        for a, r in zip(articles, self._tag_buffer(list(articles), gold_sentences)):
            out.append(Article(a.id, a.text, r.entities, r.sentences, a.meta))
        return out

    def tag_records(self, records: Iterable[Any], gold_sentences: bool = False) -> Iterator[dict]:
        """Stream results for ``{"id", "text", "meta"}`` records (dicts, Articles or DumpRecords), in input order.

        Memory stays bounded by ``buffer_articles`` whatever the length of the stream.
        """
        buf: list[Article] = []
        for rec in records:
            if isinstance(rec, Article):
                art = rec
            elif isinstance(rec, dict):
                art = Article(str(rec["id"]), rec["text"], meta=rec.get("meta") or {})
            else:  # a DumpRecord or anything with id, text and meta
                art = Article(str(rec.id), rec.text, meta=getattr(rec, "meta", {}) or {})
            buf.append(art)
            if len(buf) >= self.buffer_articles:
                yield from (self._record(a, r) for a, r in zip(buf, self._tag_buffer(buf, gold_sentences)))
                buf = []
        if buf:
            yield from (self._record(a, r) for a, r in zip(buf, self._tag_buffer(buf, gold_sentences)))

    # --- internals ------------------------------------------------------------------------------

    def _record(self, art: Article, r: _Result, with_id: bool = True) -> dict:
        d: dict[str, Any] = {"id": art.id} if with_id else {}
        d["entities"] = [e.to_dict(art.text) for e in r.entities]
        d["sentences"] = [s.to_dict() for s in r.sentences]
        seen: dict[str, None] = {}
        for s in r.sentences:
            for e in s.events or []:
                seen[e] = None
        d["events"] = list(seen)
        if with_id:
            d["meta"] = art.meta
        return d

    def _tag_buffer(self, arts: list[Article], gold_sentences: bool) -> list[_Result]:
        specs = []
        for a in arts:
            if gold_sentences and a.sentences is not None:
                spans = [(s.start, s.end) for s in a.sentences]
            else:
                spans = [(s.start, s.end) for s in split_sentences(a.text)]
            specs.append((a.text, spans))
        max_content = self.max_length - len(self.prefix) - len(self.suffix)
        units = units_for_articles(self.tokenizer, specs, max_content, self.stride)
        windows = windows_for_units(units, self.prefix, self.suffix)
        token_probs, event_probs = self._run_windows([w.input_ids for w in windows])
        # Gather per unit: window outputs in order.
        per_unit: list[list[int]] = [[] for _ in units]
        for wi, w in enumerate(windows):
            per_unit[w.unit].append(wi)
        results = [_Result([], []) for _ in arts]
        npre = len(self.prefix)
        for ui, u in enumerate(units):
            wins = per_unit[ui]
            res = results[u.article]
            tags, scores = [], []
            for j in u.enc.first_subword:
                if j < 0:  # a word the tokenizer dropped entirely (e.g. a lone tatweel)
                    tags.append("O")
                    scores.append(1.0)
                    continue
                k = u.owners[j]
                p = token_probs[wins[k]][npre + j - u.windows[k][0]]
                c = int(p.argmax())
                tags.append(self.id2tag[c])
                scores.append(float(p[c]))
            res.entities += bio_to_spans(u.words, tags, scores)
            ev = np.max(np.stack([event_probs[wi] for wi in wins]), axis=0) if wins else np.zeros(len(self.event_labels))
            labels = [e for e, p, t in zip(self.event_labels, ev, self.thresholds) if p >= t]
            res.sentences.append(Sentence(u.start, u.end, labels, {e: float(p) for e, p in zip(self.event_labels, ev)}))
        return results

    def _batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Length-sorted batches under the token budget (padding = longest in batch)."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        batches, cur, cur_max = [], [], 0
        for i in order:
            new_max = max(cur_max, lengths[i])
            if cur and (new_max * (len(cur) + 1) > self.batch_tokens or len(cur) >= self.max_batch):
                batches.append(cur)
                cur, new_max = [], lengths[i]
            cur.append(i)
            cur_max = new_max
        if cur:
            batches.append(cur)
        return batches

    def _run_windows(self, inputs: list[list[int]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        token_probs: list[np.ndarray] = [None] * len(inputs)  # type: ignore[list-item]
        event_probs: list[np.ndarray] = [None] * len(inputs)  # type: ignore[list-item]
        # Real tokens, computed (padded) tokens, and the sum of squared padded lengths (attention cost).
        self.stats_padding = getattr(self, "stats_padding", [0, 0, 0])
        for batch in self._batches([len(x) for x in inputs]):
            width = max(len(inputs[i]) for i in batch)
            ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, i in enumerate(batch):
                ids[r, : len(inputs[i])] = inputs[i]
                mask[r, : len(inputs[i])] = 1
            self.stats_padding[0] += int(mask.sum())
            self.stats_padding[1] += mask.size
            if len(self.stats_padding) > 2:
                self.stats_padding[2] += mask.shape[0] * mask.shape[1] ** 2
            logits, ev = self._forward(ids, mask)
            logits = logits - logits.max(-1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(-1, keepdims=True)
            evp = 1.0 / (1.0 + np.exp(-ev))
            for r, i in enumerate(batch):
                token_probs[i] = probs[r, : len(inputs[i])]
                event_probs[i] = evp[r]
        return token_probs, event_probs

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._onnx is not None:
            return self._onnx.run(ids, mask)
        with torch.inference_mode():
            t_ids = torch.from_numpy(ids).to(self.device)
            t_mask = torch.from_numpy(mask).to(self.device)
            if self.precision == "bf16":
                with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16):
                    out = self.model(input_ids=t_ids, attention_mask=t_mask)
            else:
                out = self.model(input_ids=t_ids, attention_mask=t_mask)
            return out.logits.float().cpu().numpy(), out.event_logits.float().cpu().numpy()


def _onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401

        return True
    except ImportError:
        return False


def load(model_dir: str | Path, **kw: Any) -> Tagger:
    """``marsad.load(dir)``: a Tagger for a saved model directory."""
    return Tagger.load(model_dir, **kw)
