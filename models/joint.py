"""The joint model: one encoder, a token head (BIO over entity types) and a multi-label event head.

The encoder and token head are a standard ``AutoModelForTokenClassification``, saved as such,
so the NER part of a marsad model loads with no marsad code (``pipeline("token-classification")``).
The event head (a small MLP over the mean-pooled last hidden state, one sigmoid per event type)
sits beside it in ``event_head.safetensors``. Loss = token cross-entropy + lambda * event BCE.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers.utils import ModelOutput

from marsad.errors import ModelLoadError

logger = logging.getLogger(__name__)

EVENT_HEAD_FILE = "event_head.safetensors"


class EventHead(nn.Module):
    """Mean-pooled sentence representation -> one logit per event type."""

    def __init__(self, hidden_size: int, num_events: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, num_events)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.out(self.dropout(torch.tanh(self.dense(self.dropout(pooled)))))


@dataclass
class JointOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    event_logits: torch.Tensor | None = None


class JointModel(nn.Module):
    """Token classification and event classification on one encoder."""

    def __init__(self, token_model: nn.Module, num_events: int, event_weight: float = 1.0, dropout: float | None = None,
                 token_class_weights: torch.Tensor | None = None, event_pos_weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.token_model = token_model
        self.config = token_model.config
        if dropout is None:
            dropout = float(getattr(self.config, "hidden_dropout_prob", getattr(self.config, "dropout", 0.1)) or 0.1)
        self.event_head = EventHead(self.config.hidden_size, num_events, dropout)
        self.event_weight = event_weight
        self.register_buffer("token_class_weights", token_class_weights, persistent=False)
        self.register_buffer("event_pos_weight", event_pos_weight, persistent=False)
        # Fast path when the head is the usual dropout + linear classifier (BERT, RoBERTa, XLM-R, ELECTRA...).
        self._split_head = all(hasattr(token_model, a) for a in ("classifier", "dropout")) and hasattr(
            token_model, token_model.base_model_prefix
        )

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kw: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Token logits and the last hidden state."""
        if self._split_head:
            encoder = getattr(self.token_model, self.token_model.base_model_prefix)
            hidden = encoder(input_ids=input_ids, attention_mask=attention_mask, **kw)[0]
            logits = self.token_model.classifier(self.token_model.dropout(hidden))
            return logits, hidden
        out = self.token_model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True, **kw)
        return out.logits, out.hidden_states[-1]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None,
                event_labels: torch.Tensor | None = None) -> JointOutput:
        logits, hidden = self.encode(input_ids, attention_mask)
        event_logits = self.event_head(hidden, attention_mask)
        loss = None
        if labels is not None:
            w = self.token_class_weights
            loss = nn.functional.cross_entropy(logits.view(-1, logits.size(-1)).float(), labels.view(-1),
                                               weight=None if w is None else w.float(), ignore_index=-100)
            if event_labels is not None and event_logits.size(-1) > 0:
                # Rows of -1 are windows of sentences without event annotation (NER-only data).
                valid = (event_labels >= 0).all(-1)
                if valid.any():
                    ev = nn.functional.binary_cross_entropy_with_logits(
                        event_logits[valid].float(), event_labels[valid].float(), pos_weight=self.event_pos_weight)
                    loss = loss + self.event_weight * ev
        return JointOutput(loss=loss, logits=logits, event_logits=event_logits)


def save_joint_model(model: JointModel, tokenizer: Any, out_dir: str | Path, marsad_meta: dict) -> Path:
    """Write the model directory of DESIGN.md: a standard token-classification checkpoint + the event head.

    ``marsad_meta`` (event labels, thresholds, schema, normalisation, window settings) goes into
    ``config.json`` under ``marsad``.
    """
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tm = model.token_model
    tm.config.marsad = marsad_meta
    tm.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    state = {k: v.detach().contiguous().cpu() for k, v in model.event_head.state_dict().items()}
    save_file(state, str(out / EVENT_HEAD_FILE), metadata={"format": "pt", "marsad": "event_head"})
    return out


def load_joint_model(model_dir: str | Path, trust_remote_code: bool = False) -> tuple[JointModel, Any, dict]:
    """Restore a saved marsad model: (model in eval mode, tokenizer, marsad metadata). Safetensors only."""
    from safetensors.torch import load_file
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    d = Path(model_dir)
    if not (d / "config.json").is_file():
        raise ModelLoadError(f"{d} is not a marsad model directory (no config.json)")
    if not (d / "model.safetensors").is_file():
        raise ModelLoadError(f"{d}: no model.safetensors (marsad loads safetensors weights only, never pickles)")
    if not (d / EVENT_HEAD_FILE).is_file():
        raise ModelLoadError(f"{d}: no {EVENT_HEAD_FILE}; this is a plain token-classification model, not a marsad one")
    token_model = AutoModelForTokenClassification.from_pretrained(d, use_safetensors=True,
                                                                  trust_remote_code=trust_remote_code)
    meta = getattr(token_model.config, "marsad", None)
    if not isinstance(meta, dict) or "event_labels" not in meta:
        raise ModelLoadError(f"{d}/config.json has no 'marsad' section with event labels")
    tokenizer = AutoTokenizer.from_pretrained(d, trust_remote_code=trust_remote_code)
    model = JointModel(token_model, num_events=len(meta["event_labels"]))
    model.event_head.load_state_dict(load_file(str(d / EVENT_HEAD_FILE)))
    model.eval()
    return model, tokenizer, meta


def update_marsad_meta(model_dir: str | Path, meta: dict) -> None:
    """Rewrite the ``marsad`` section of a saved model's ``config.json`` (thresholds, measured costs)."""
    p = Path(model_dir) / "config.json"
    cfg = json.loads(p.read_text(encoding="utf-8"))
    cfg["marsad"] = meta
    p.write_text(json.dumps(cfg, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
