"""Distributed training: a 2-process CPU DDP run (gloo) through torchrun completes and saves a model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import sentence_articles, write

pytestmark = pytest.mark.slow


def test_torchrun_two_processes(tmp_path, tiny_base, corpus_train):
    data = write(sentence_articles(corpus_train, 48), tmp_path / "data.jsonl")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
           "-m", "marsad.cli", "train", "--base_model", str(tiny_base), "--train_files", data, "--dev_files", data,
           "--test_files", "--output_dir", str(out), "--epochs", "2", "--batch_size", "4", "--max_length", "64",
           "--stride", "16", "--progress", "false", "--measure_precisions", "false", "--early_stopping_patience", "0"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads(max((out / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
                       .joinpath("trainer_state.json").read_text())
    # Each of the 2 processes sees half of the windows per epoch, in batches of 4.
    import math

    from marsad.data.jsonl import read_jsonl
    from marsad.data.schema import default_schema
    from marsad.models.base import special_token_frame
    from marsad.models.features import training_windows
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base)
    pre, suf = special_token_frame(tok)
    _, windows, _ = training_windows(tok, read_jsonl(data), default_schema(), pre, suf, 64, 16)
    assert state["global_step"] == 2 * math.ceil(len(windows) / 2 / 4)
    assert (out / "model" / "model.safetensors").is_file() and (out / "model" / "metrics.json").is_file()
