"""Training the joint model with Hugging Face ``Trainer``.

``Trainer`` brings accelerate, DDP under ``torchrun``, bf16/fp16, checkpoints, ``report_to`` and
resuming; marsad adds its windows, collator, two learning rates, and dev metrics (entity
micro-F1 from seqeval in strict IOB2 mode, event macro-F1) for model selection. After training,
event thresholds are tuned per label on dev and the model is saved as DESIGN.md describes.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from marsad import __version__
from marsad.data.corpus import resolve_data_path
from marsad.data.document import Article
from marsad.data.io import read_articles
from marsad.data.schema import Schema, infer_schema, load_schema
from marsad.errors import ConfigError, LabelMismatchError
from marsad.training.config import TrainConfig

logger = logging.getLogger(__name__)


# --- data -----------------------------------------------------------------------------------------


def _label_map(spec: str | None) -> dict | None:
    if not spec:
        return None
    from marsad.cli import _label_map as parse

    return parse(spec)


def load_split(files: list[str], label_map: dict | None, name: str) -> list[tuple[str, list[Article]]]:
    """Read every file of a split; missing files and bad records fail here, before any compute."""
    out = []
    for f in files:
        path = resolve_data_path(f)
        if not path.is_file():
            raise ConfigError(f"{name} file not found: {f}" + (f" ({path})" if str(path) != f else ""))
        out.append((str(path), read_articles(path, None, label_map=label_map)))
    return out


def check_labels(split: str, files: list[tuple[str, list[Article]]], schema: Schema) -> None:
    """Every label in the data must be in the schema; the error names the file, record and label."""
    for path, arts in files:
        for a in arts:
            for e in a.entities:
                if e.label not in schema.entity_labels:
                    raise LabelMismatchError(
                        f"{path}: [{a.id}] entity label {e.label!r} ({a.text[e.start:e.end]!r}) is not in schema "
                        f"{schema.name!r} {list(schema.entity_labels)}; use a label map (--label_map) or another schema")
            for s in a.sentences or []:
                for ev in s.events or []:
                    if ev not in schema.event_labels:
                        raise LabelMismatchError(
                            f"{path}: [{a.id}] event label {ev!r} is not in schema {schema.name!r} "
                            f"{list(schema.event_labels)}")


def _flatten(files: list[tuple[str, list[Article]]]) -> list[Article]:
    return [a for _, arts in files for a in arts]


def _dataset(windows) -> Any:
    import datasets

    return datasets.Dataset.from_dict({
        "input_ids": [w.input_ids for w in windows],
        "labels": [w.labels for w in windows],
        "event_labels": [w.events if w.events is not None else [] for w in windows],
        "length": [len(w.input_ids) for w in windows],
    })


class JointCollator:
    """Pads input ids and token labels (``DataCollatorForTokenClassification``) and stacks event labels."""

    def __init__(self, tokenizer: Any, num_events: int) -> None:
        from transformers import DataCollatorForTokenClassification

        self.inner = DataCollatorForTokenClassification(tokenizer, label_pad_token_id=-100, return_tensors="pt")
        self.num_events = num_events

    def __call__(self, features: list[dict]) -> dict:
        import torch

        events = [f.get("event_labels") or [-1.0] * self.num_events for f in features]
        batch = self.inner([{"input_ids": f["input_ids"], "labels": f["labels"]} for f in features])
        batch.pop("token_type_ids", None)
        batch["event_labels"] = torch.tensor(events, dtype=torch.float32).reshape(len(features), self.num_events)
        return batch


# --- metrics during training ------------------------------------------------------------------------


def make_compute_metrics(units, windows, schema: Schema):
    """Dev metrics from Trainer's gathered logits: seqeval strict-IOB2 entity micro-F1 over whole sentences
    (windows merged by ownership, each word once) and event macro-F1 at threshold 0.5."""
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    from marsad.data.bio import repair_iob2

    id2tag = schema.id2tag

    def compute(pred) -> dict[str, float]:
        token_logits, event_logits = pred.predictions
        labels, event_labels = pred.label_ids
        if len(labels) != len(windows):
            raise RuntimeError(f"got {len(labels)} evaluation rows for {len(windows)} dev windows")
        gold_seq: dict[int, list[str]] = {}
        pred_seq: dict[int, list[str]] = {}
        for wi, w in enumerate(windows):
            lab = labels[wi]
            keep = lab != -100
            gold_seq.setdefault(w.unit, []).extend(id2tag[int(x)] for x in lab[keep])
            pred_seq.setdefault(w.unit, []).extend(id2tag[int(x)] for x in token_logits[wi][: len(lab)].argmax(-1)[keep])
        keys = sorted(gold_seq)
        y = [gold_seq[k] for k in keys]
        p = [repair_iob2(pred_seq[k])[0] for k in keys]
        ent_f1 = float(f1_score(y, p, mode="strict", scheme=IOB2, average="micro", zero_division=0)) if y else 0.0
        out = {"entity_f1": ent_f1}
        if schema.event_labels:
            ev_true: dict[int, np.ndarray] = {}
            ev_prob: dict[int, np.ndarray] = {}
            for wi, w in enumerate(windows):
                if w.events is None or min(w.events) < 0:
                    continue
                ev_true[w.unit] = np.asarray(event_labels[wi])
                prob = 1 / (1 + np.exp(-event_logits[wi]))
                ev_prob[w.unit] = np.maximum(ev_prob.get(w.unit, prob), prob)
            if ev_true:
                from marsad.eval.metrics import multilabel_scores

                Y = np.stack([ev_true[k] for k in sorted(ev_true)])
                P = (np.stack([ev_prob[k] for k in sorted(ev_true)]) >= 0.5).astype(float)
                out["event_macro_f1"] = multilabel_scores(Y, P, schema.event_labels)["macro"]["f1"]
        out["combined"] = float(np.mean([out["entity_f1"]] + ([out["event_macro_f1"]] if "event_macro_f1" in out else [])))
        return out

    return compute


# --- the run ------------------------------------------------------------------------------------------


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def run_training(cfg: TrainConfig, resume: bool = False, stdout: TextIO | None = None,
                 callbacks: list | None = None) -> dict:
    """Train, select on dev, tune thresholds, save ``output_dir/model`` and score dev and test.

    ``callbacks`` are extra ``transformers.TrainerCallback`` objects. Returns the metrics dict
    also written to ``output_dir/model/metrics.json``.
    """
    stdout = stdout or sys.stdout
    t0 = time.time()
    out_dir = Path(cfg.output_dir)
    label_map = _label_map(cfg.label_map)

    # 1. Everything that can fail on bad input fails here, before any compute.
    train_files = load_split(cfg.train_files, label_map, "train")
    dev_files = load_split(cfg.dev_files, label_map, "dev")
    test_files = load_split(cfg.test_files, label_map, "test")
    train, dev, test = _flatten(train_files), _flatten(dev_files), _flatten(test_files)
    if not train:
        raise ConfigError(f"the train split is empty ({', '.join(cfg.train_files)})")
    if not dev:
        raise ConfigError(f"the dev split is empty ({', '.join(cfg.dev_files) or 'no dev_files'}): it selects the model "
                          "and tunes event thresholds")
    if cfg.schema == "infer":
        schema = infer_schema(train, name="inferred-from-train")
    else:
        try:
            schema = load_schema(cfg.schema)
        except (FileNotFoundError, ValueError) as err:
            raise ConfigError(str(err)) from err
    for split, files in (("train", train_files), ("dev", dev_files), ("test", test_files)):
        check_labels(split, files, schema)

    from marsad.models.base import (base_normalization, load_base_config, load_marsad_tokenizer,
                                    resolve_base_model, special_token_frame, tokenizer_normalizes)

    base_path = resolve_base_model(cfg.base_model, out_dir / "base", texts=lambda: (a.text for a in train),
                                   trim_vocabulary=cfg.trim_vocabulary)
    base_config = load_base_config(base_path, cfg.trust_remote_code)
    normalization = base_normalization(base_config, cfg.normalization)
    builtin = tokenizer_normalizes(base_config) and not cfg.normalization
    tokenizer = load_marsad_tokenizer(base_path, normalization, builtin, cfg.max_length, cfg.trust_remote_code)
    max_pos = getattr(base_config, "max_position_embeddings", None)
    if max_pos and cfg.max_length > max_pos:
        raise ConfigError(f"max_length {cfg.max_length} exceeds the base model's {max_pos} positions")

    # 2. Features.
    import torch
    from transformers import AutoModelForTokenClassification, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

    from marsad.models.features import training_windows
    from marsad.models.joint import JointModel, save_joint_model, update_marsad_meta

    prefix, suffix = special_token_frame(tokenizer)
    _, train_windows, counts = training_windows(tokenizer, train, schema, prefix, suffix, cfg.max_length, cfg.stride)
    dev_units, dev_windows, _ = training_windows(tokenizer, dev, schema, prefix, suffix, cfg.max_length, cfg.stride)
    logger.info("train: %d articles, %d windows, %d entities; dev: %d articles, %d windows",
                len(train), len(train_windows), counts["entities"], len(dev), len(dev_windows))

    # 3. Model.
    set_seed(cfg.seed)
    tags = schema.bio_tags
    try:
        token_model = AutoModelForTokenClassification.from_pretrained(
            base_path, num_labels=len(tags), id2label=dict(enumerate(tags)), label2id={t: i for i, t in enumerate(tags)},
            use_safetensors=None if cfg.allow_pickle_weights else True, trust_remote_code=cfg.trust_remote_code)
    except OSError as err:
        if not cfg.allow_pickle_weights and "safetensors" in str(err).lower():
            raise ConfigError(f"{cfg.base_model}: no safetensors weights; marsad does not load pickled weights unless "
                              "allow_pickle_weights = true (transformers then loads them with weights_only)") from err
        raise
    token_weights = event_pos = None
    if cfg.token_class_weights == "balanced":
        c = Counter(x for w in train_windows for x in w.labels if x != -100)
        freq = np.array([c.get(i, 0) + 1 for i in range(len(tags))], dtype=np.float64)
        wts = (freq.sum() / freq) ** 0.5
        token_weights = torch.tensor(wts / wts.mean(), dtype=torch.float32)
    if cfg.event_pos_weight == "balanced" and schema.event_labels:
        ev = np.array([w.events for w in train_windows if w.events is not None and min(w.events) >= 0])
        pos = ev.sum(0) + 1
        event_pos = torch.tensor(np.minimum((len(ev) - pos + 1) / pos, 10.0), dtype=torch.float32)
    model = JointModel(token_model, len(schema.event_labels), cfg.event_loss_weight, cfg.dropout, token_weights, event_pos)

    # 4. Trainer.
    evaluate_by_steps = cfg.eval_steps > 0
    args = TrainingArguments(
        output_dir=str(out_dir / "checkpoints"),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        lr_scheduler_type="linear",
        eval_strategy="steps" if evaluate_by_steps else "epoch",
        save_strategy="steps" if evaluate_by_steps else "epoch",
        eval_steps=cfg.eval_steps if evaluate_by_steps else None,
        save_steps=cfg.eval_steps if evaluate_by_steps else None,
        load_best_model_at_end=True,
        metric_for_best_model="combined",
        greater_is_better=True,
        save_total_limit=max(cfg.save_total_limit, 1),
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=cfg.precision == "bf16",
        fp16=cfg.precision == "fp16",
        report_to=[] if cfg.report_to in ("none", "") else cfg.report_to.split(","),
        logging_steps=cfg.logging_steps,
        disable_tqdm=not cfg.progress,
        label_names=["labels", "event_labels"],
        remove_unused_columns=False,
        dataloader_num_workers=cfg.dataloader_num_workers,
        dataloader_pin_memory=torch.cuda.is_available(),
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        ddp_find_unused_parameters=False,
        # Without a GPU, Trainer runs DDP under torchrun only when told it is on CPU (gloo backend).
        use_cpu=not torch.cuda.is_available() and not torch.backends.mps.is_available(),
        ddp_backend="gloo" if not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
    )
    encoder_prefix = token_model.base_model_prefix

    class MarsadTrainer(Trainer):
        def _get_eval_sampler(self, eval_dataset):
            # Length-grouped training must not reorder evaluation: dev metrics map rows back to sentences.
            if self.args.world_size <= 1:
                from torch.utils.data import SequentialSampler

                return SequentialSampler(eval_dataset)
            return None

        def create_optimizer(self, model=None):  # two learning rates: the encoder's and the heads'
            if self.optimizer is None:
                m = self.model if model is None else model
                decay = set(self.get_decay_parameter_names(m))
                groups: dict[tuple[bool, bool], list] = {}
                for n, p in m.named_parameters():
                    if not p.requires_grad:
                        continue
                    is_encoder = n.startswith(f"token_model.{encoder_prefix}.")
                    groups.setdefault((is_encoder, n in decay), []).append(p)
                params = [{"params": ps, "lr": cfg.learning_rate if enc else cfg.head_learning_rate,
                           "weight_decay": cfg.weight_decay if dec else 0.0} for (enc, dec), ps in groups.items()]
                self.optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, betas=(0.9, 0.999), eps=1e-8)
            return self.optimizer

    callbacks = list(callbacks or [])
    if cfg.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(cfg.early_stopping_patience))
    trainer = MarsadTrainer(
        model=model,
        args=args,
        train_dataset=_dataset(train_windows),
        eval_dataset=_dataset(dev_windows),
        data_collator=JointCollator(tokenizer, len(schema.event_labels)),
        compute_metrics=make_compute_metrics(dev_units, dev_windows, schema),
        callbacks=callbacks,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    if _is_main_process():
        cfg.save(out_dir / "run_config.json", {"version": __version__, "base_model_path": base_path})
    resume_from = None
    if resume:
        from transformers.trainer_utils import get_last_checkpoint

        ck = out_dir / "checkpoints"
        resume_from = get_last_checkpoint(str(ck)) if ck.is_dir() else None
        if resume_from is None:
            logger.warning("--resume: no checkpoint in %s, starting from scratch", ck)
    train_result = trainer.train(resume_from_checkpoint=resume_from)
    if not _is_main_process():
        return {}

    # 5. Thresholds on dev, save, score.
    model = trainer.model
    model.eval()
    meta = {
        "version": __version__,
        "schema": schema.to_dict(),
        "event_labels": list(schema.event_labels),
        "event_thresholds": {e: 0.5 for e in schema.event_labels},
        "normalization": normalization.to_dict(),
        "max_length": cfg.max_length,
        "stride": cfg.stride,
        "base_model": cfg.base_model,
        "event_pooling": "mean",
    }
    from marsad.eval.metrics import event_matrices, match_articles, tune_thresholds
    from marsad.models.tagger import Tagger

    tagger = Tagger(model.cpu() if not torch.cuda.is_available() else model, tokenizer, meta, precision="fp32")
    dev_pred = tagger.predict(dev, gold_sentences=True)
    if schema.event_labels:
        Y, _, S = event_matrices(match_articles(dev, dev_pred), schema.event_labels)
        if S is not None and len(Y):
            meta["event_thresholds"] = tune_thresholds(Y, S, schema.event_labels)
    model_dir = out_dir / "model"
    save_joint_model(model, tokenizer, model_dir, meta)

    from marsad.eval.report import score_articles

    tagger = Tagger.load(model_dir, precision="fp32")
    metrics: dict[str, Any] = {"train": {"steps": int(train_result.global_step), "epochs": float(trainer.state.epoch or 0),
                                         "train_loss": float(train_result.training_loss),
                                         "best_checkpoint": trainer.state.best_model_checkpoint,
                                         "best_dev_combined": trainer.state.best_metric,
                                         "seconds": round(time.time() - t0, 1)}}
    metrics["dev"] = score_articles(dev, tagger.predict(dev, gold_sentences=True), schema, bootstrap=0)
    if test:
        metrics["test"] = score_articles(test, tagger.predict(test, gold_sentences=True), schema, bootstrap=0)
    if cfg.measure_precisions and schema.entity_labels:
        from marsad.models.precision import measure_precision_costs

        costs = measure_precision_costs(model_dir, dev, metrics["dev"]["entities"]["strict"]["micro"]["f1"])
        metrics["precision_cost_f1"] = costs
        meta["precision_cost_f1"] = {k: v.get("cost_f1_points") for k, v in costs.items()}
        update_marsad_meta(model_dir, meta)
    (model_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    cfg.save(model_dir / "run_config.json", {"version": __version__, "base_model_path": base_path})
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    from marsad.eval.report import format_score_table

    print(format_score_table({k: v for k, v in metrics.items() if k in ("dev", "test")}), file=stdout)
    print(f"saved model to {model_dir}", file=stdout)
    return metrics
