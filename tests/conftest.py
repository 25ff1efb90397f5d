"""Shared fixtures. Nothing here touches the network: models are built locally, never downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MARSAD_SHARED", REPO.parent / "shared"))
EXTERNAL = SHARED / "data" / "external"
SEED = SHARED / "data" / "seed_article.jsonl"
ARABERT_DIR = EXTERNAL / "arabert_tokenizer" / "araelectra-base-discriminator"


def pytest_collection_modifyitems(config, items):
    if not SHARED.is_dir():
        skip = pytest.mark.skip(reason=f"../shared not found at {SHARED} (set MARSAD_SHARED)")
        for item in items:
            if "shared" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def seed_path() -> Path:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED


@pytest.fixture(scope="session")
def arabert_tokenizer():
    """The AraBERT v0.2-family vocabulary with marsad's normaliser inside (loaded through transformers)."""
    from marsad.data.text import NormalizationConfig
    from marsad.models.base import load_marsad_tokenizer

    if not ARABERT_DIR.is_dir():
        pytest.skip("AraBERT tokenizer files not found under ../shared")
    return load_marsad_tokenizer(str(ARABERT_DIR), NormalizationConfig(), builtin=False, max_length=512)


@pytest.fixture(scope="session")
def corpus_train():
    from marsad.data.corpus import load_corpus

    return load_corpus("train")


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, corpus_train) -> Path:
    """A tiny BERT base directory (WordPiece trained on the corpus train split, random weights)."""
    from marsad.models.tiny import TinyConfig, build_tiny_base

    out = tmp_path_factory.mktemp("tiny_base")
    return build_tiny_base(out, (a.text for a in corpus_train),
                           TinyConfig(vocab_size=3000, hidden=64, layers=2, heads=4, intermediate=128))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_base, corpus_train) -> Path:
    """A small joint model trained briefly on corpus sentences: poor, but it tags entities (about 1,400 on dev)."""
    from marsad.training.train import run_training
    from tests.helpers import sentence_articles, tiny_config, write

    tmp = tmp_path_factory.mktemp("tiny_model")
    data = write(sentence_articles(corpus_train, 120), tmp / "train.jsonl")
    cfg = tiny_config(tmp, tiny_base, data, data, epochs=12, max_length=64, stride=16, measure_precisions=False)
    import io

    run_training(cfg, stdout=io.StringIO())
    return Path(cfg.output_dir) / "model"
