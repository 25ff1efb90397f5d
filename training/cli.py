"""``marsad train``: a thin wrapper around :func:`marsad.training.train.run_training`."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def cmd_train(args: argparse.Namespace) -> int:
    from marsad.training.config import TrainConfig
    from marsad.training.train import run_training

    base = TrainConfig.from_file(args.config).to_dict() if args.config else {}
    overrides = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    cfg = TrainConfig.from_dict({**base, **overrides}, source=args.config or "<flags>")
    logger.info("run config: %s", cfg.to_dict())
    run_training(cfg, resume=args.resume)
    return 0


def register(sub) -> None:
    from marsad.training.config import add_config_flags

    s = sub.add_parser("train", help="train the joint model (Hugging Face Trainer); flags override the config file",
                       description="Train the joint entity + event model. Every run-config setting is also a flag.")
    s.add_argument("--config", help="TOML, YAML or JSON run config (training/configs/*.toml)")
    s.add_argument("--resume", action="store_true", help="continue from the last checkpoint in output_dir/checkpoints")
    add_config_flags(s)
    s.set_defaults(func=cmd_train)
