"""marsad's own annotated corpus: compiled from ``corpus/src`` markup into fixed train/dev/test splits.

The splits are by article and fixed in ``corpus/splits.json`` (written once by
``marsad corpus split``, then only ever read), so results stay comparable across versions.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from importlib import resources
from pathlib import Path

from marsad.data.document import Article
from marsad.data.jsonl import read_jsonl, write_jsonl
from marsad.data.markup import read_markup
from marsad.data.schema import Schema, default_schema
from marsad.data.validate import Problem

SPLITS = ("train", "dev", "test")
_HERE = Path(__file__).resolve().parent / "corpus"


def corpus_path(split: str) -> Path:
    """The packaged JSONL file of a split (``train``, ``dev`` or ``test``)."""
    if split not in SPLITS:
        raise ValueError(f"unknown corpus split {split!r}; choose from {SPLITS}")
    return Path(str(resources.files("marsad.data").joinpath(f"corpus/{split}.jsonl")))


def load_corpus(split: str) -> list[Article]:
    """The articles of one split of marsad's corpus."""
    return read_jsonl(corpus_path(split), default_schema())


def resolve_data_path(spec: str | Path) -> Path:
    """``corpus:train`` -> the packaged split; anything else is a path."""
    s = str(spec)
    if s.startswith("corpus:"):
        return corpus_path(s.split(":", 1)[1])
    return Path(s)


def compile_sources(src: Path, schema: Schema | None = None) -> tuple[dict[str, tuple[Article, str]], list[Problem]]:
    """Compile every markup file under ``src``; returns ``{id: (article, batch)}`` and all problems."""
    schema = schema or default_schema()
    out: dict[str, tuple[Article, str]] = {}
    problems: list[Problem] = []
    for f in sorted(src.rglob("*.txt")):
        art, probs = read_markup(f, schema)
        problems += probs
        if art is None:
            continue
        if art.id in out:
            problems.append(Problem(str(f), 1, art.id, f"duplicate id (also in batch {out[art.id][1]})"))
            continue
        if art.id != f.stem:
            problems.append(Problem(str(f), 1, art.id, f"id differs from the file name {f.stem!r}"))
        art.meta.setdefault("batch", f.parent.name)
        out[art.id] = (art, f.parent.name)
    return out, problems


def make_splits(articles: dict[str, tuple[Article, str]], seed: int = 13, dev: float = 0.1, test: float = 0.1) -> dict:
    """Assign articles to train/dev/test, stratified by batch (region), reproducibly."""
    by_batch: dict[str, list[str]] = defaultdict(list)
    for aid, (_, batch) in articles.items():
        by_batch[batch].append(aid)
    rng = random.Random(seed)
    splits: dict[str, list[str]] = {s: [] for s in SPLITS}
    for batch in sorted(by_batch):
        ids = sorted(by_batch[batch])
        rng.shuffle(ids)
        n_dev = max(1, round(len(ids) * dev))
        n_test = max(1, round(len(ids) * test))
        splits["dev"] += ids[:n_dev]
        splits["test"] += ids[n_dev : n_dev + n_test]
        splits["train"] += ids[n_dev + n_test :]
    return {k: sorted(v) for k, v in splits.items()}


def build_corpus(src: Path = _HERE / "src", out: Path = _HERE, splits_file: Path | None = None) -> dict[str, int]:
    """Compile the sources and write ``train.jsonl``, ``dev.jsonl``, ``test.jsonl`` per the fixed splits.

    Raises ValueError listing every problem if any source is invalid or the splits file and
    the sources disagree.
    """
    splits_file = splits_file or out / "splits.json"
    articles, problems = compile_sources(src)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ValueError("corpus sources have problems:\n" + "\n".join(map(str, errors)))
    splits = json.loads(splits_file.read_text(encoding="utf-8"))
    assigned = {aid: s for s in SPLITS for aid in splits[s]}
    missing = sorted(set(articles) - set(assigned))
    gone = sorted(set(assigned) - set(articles))
    if missing or gone:
        raise ValueError(f"{splits_file}: articles without a split: {missing}; split ids without a source: {gone}")
    counts = {}
    for s in SPLITS:
        arts = [articles[aid][0] for aid in sorted(splits[s])]
        counts[s] = write_jsonl(arts, out / f"{s}.jsonl")
    return counts


# --- the unlabeled sample dump (data/samples) ---------------------------------------------------------

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


def read_sample_source(path: Path) -> dict:
    """One sample article: ``# key: value`` header lines, then paragraphs; returns a dump record."""
    header: dict[str, str] = {}
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not body and line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
        elif line.strip() or body:
            body.append(line.rstrip())
    paragraphs = [p.strip() for p in "\n".join(body).split("\n\n") if p.strip()]
    if "id" not in header or not paragraphs:
        raise ValueError(f"{path}: a sample needs a '# id:' header and a body")
    title = header.pop("title", "")
    text = "\n".join(([title] if title else []) + [p.replace("\n", " ") for p in paragraphs])
    return {"id": header.pop("id"), "text": text, "title": title, **header}


def build_samples(src: Path = SAMPLES_DIR / "src", out: Path = SAMPLES_DIR / "articles.jsonl.gz") -> int:
    """Compile the sample articles into one gzipped JSONL dump (deterministic bytes: no gzip timestamp)."""
    import gzip

    records = [read_sample_source(p) for p in sorted(src.glob("*.txt"))]
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(payload)
    return len(records)
