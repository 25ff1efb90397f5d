"""Small builders shared by the model tests."""

from __future__ import annotations

from pathlib import Path

from marsad.data.document import Article, Entity, Sentence
from marsad.data.jsonl import write_jsonl


def sentence_articles(articles, n: int, prefix: str = "s") -> list[Article]:
    """The first ``n`` sentences of ``articles``, each as a one-sentence article (offsets shifted)."""
    out = []
    for a in articles:
        for s in a.sentences:
            ents = [Entity(e.start - s.start, e.end - s.start, e.label) for e in a.entities
                    if s.start <= e.start and e.end <= s.end]
            text = a.text[s.start : s.end]
            out.append(Article(f"{prefix}{len(out):03d}", text, ents, [Sentence(0, len(text), list(s.events or []))]))
            if len(out) == n:
                return out
    return out


def write(articles, path: Path) -> str:
    write_jsonl(articles, path)
    return str(path)


def tiny_config(tmp_path: Path, base: Path, train: str, dev: str, **kw):
    from marsad.training.config import TrainConfig

    d = dict(base_model=str(base), train_files=[train], dev_files=[dev], test_files=[], output_dir=str(tmp_path / "run"),
             max_length=64, stride=16, learning_rate=3e-3, head_learning_rate=3e-3, epochs=40, batch_size=8,
             warmup_ratio=0.0, weight_decay=0.0, early_stopping_patience=0, progress=False, logging_steps=1000,
             measure_precisions=False, seed=7, save_total_limit=1, event_loss_weight=3.0)
    d.update(kw)
    return TrainConfig(**d)
