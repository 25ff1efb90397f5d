"""marsad's shipped corpus: built from its sources, valid, split by article, and as large as promised."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from marsad.data.corpus import SPLITS, build_corpus, compile_sources, corpus_path, load_corpus
from marsad.data.schema import default_schema
from marsad.data.stats import compute_stats
from marsad.data.validate import validate_files
from tests.conftest import REPO

SRC = REPO / "data" / "corpus" / "src"


@pytest.fixture(scope="module")
def corpus():
    return {s: load_corpus(s) for s in SPLITS}


def test_shipped_jsonl_equals_a_fresh_build(tmp_path):
    (tmp_path / "splits.json").write_text((REPO / "data/corpus/splits.json").read_text())
    build_corpus(SRC, tmp_path, tmp_path / "splits.json")
    for s in SPLITS:
        assert (tmp_path / f"{s}.jsonl").read_text(encoding="utf-8") == corpus_path(s).read_text(encoding="utf-8"), s


def test_every_file_validates():
    assert validate_files([corpus_path(s) for s in SPLITS], default_schema()) == []
    _, problems = compile_sources(SRC)
    assert problems == []


def test_splits_are_by_article_and_disjoint(corpus):
    ids = {s: {a.id for a in corpus[s]} for s in SPLITS}
    assert not (ids["train"] & ids["dev"]) and not (ids["train"] & ids["test"]) and not (ids["dev"] & ids["test"])
    n = sum(len(v) for v in ids.values())
    assert abs(len(ids["train"]) / n - 0.8) < 0.03 and abs(len(ids["test"]) / n - 0.1) < 0.03
    splits = json.loads((REPO / "data/corpus/splits.json").read_text())
    assert {s: set(v) for s, v in splits.items()} == ids


def test_no_sentence_text_shared_across_splits(corpus):
    def sentences(split):
        return {a.text[s.start:s.end] for a in corpus[split] for s in a.sentences if len(a.text[s.start:s.end]) > 40}
    tr, dv, te = sentences("train"), sentences("dev"), sentences("test")
    assert not (tr & dv) and not (tr & te) and not (dv & te)


def test_size_and_spread(corpus):
    arts = [a for s in SPLITS for a in corpus[s]]
    st = compute_stats(arts)
    assert st["articles"] >= 240 and st["sentences"] >= 2800
    per_article = [len(a.sentences) for a in arts]
    assert min(per_article) >= 8 and max(per_article) <= 25
    assert st["articles_700_plus_words"] >= 0.1 * st["articles"]
    assert all(st["sentences_per_event"][e] >= 150 for e in default_schema().event_labels), st["sentences_per_event"]
    assert st["sentences_without_event"] >= 0.12 * st["sentences"]
    assert st["sentences_with_several_events"] >= 200
    assert all(st["entities"][lab] >= 1000 for lab in ("ACTOR", "PLACE", "WEAPON"))
    countries = Counter(a.meta.get("country") for a in arts)
    assert len(countries) >= 10
    styles = Counter(a.meta.get("style") for a in arts)
    assert {"wire", "bulletin", "incident_list", "analysis", "opinion", "statement", "interview"} <= set(styles)


def test_hard_cases_are_present(corpus):
    arts = [a for s in SPLITS for a in corpus[s]]
    surfaces = [a.text[e.start:e.end] for a in arts for e in a.entities]
    assert any(s[0] in "وبلفك" and len(s) > 3 for s in surfaces)  # clitic-attached names
    assert any("\u0640" in s for s in surfaces)  # tatweel inside an entity
    assert any(any("\u064b" <= c <= "\u0652" for c in s) for s in surfaces)  # diacritics inside an entity
    assert any(any(c.isascii() and c.isalnum() for c in s) for s in surfaces)  # Latin or digits
    assert any("«" in s or "“" in s for s in surfaces)  # quotes inside a span (rule 5)
    by_surface: dict[str, set] = {}
    for a in arts:
        for e in a.entities:
            by_surface.setdefault(a.text[e.start:e.end], set()).add(e.label)
    assert sum(1 for labs in by_surface.values() if {"ACTOR", "PLACE"} <= labs) >= 10  # country as actor and place
    weapons_by_adjective = [s for s in surfaces if s.endswith(("يًا", "ياً", "يا"))]
    assert weapons_by_adjective


def test_sample_dump_rebuilds_and_reads(tmp_path):
    from marsad.data.corpus import SAMPLES_DIR, build_samples
    from marsad.data.dumps import DumpRecord, iter_dump

    n = build_samples(SAMPLES_DIR / "src", tmp_path / "a.jsonl.gz")
    assert n >= 100
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (SAMPLES_DIR / "articles.jsonl.gz").read_bytes()
    recs = list(iter_dump([SAMPLES_DIR / "articles.jsonl.gz"]))
    assert len(recs) == n and all(isinstance(r, DumpRecord) for r in recs)
    assert len({r.id for r in recs}) == n
    long_ones = sum(len(r.text.split()) > 600 for r in recs)
    assert long_ones >= 30
