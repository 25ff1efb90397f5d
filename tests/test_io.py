"""JSONL and CoNLL readers and writers."""

from __future__ import annotations

import json

import pytest

from marsad.data.conll import read_conll, read_conll_with_problems, write_conll
from marsad.data.corpus import load_corpus
from marsad.data.io import read_articles
from marsad.data.jsonl import read_jsonl, write_jsonl


def _same(a, b):
    assert a.id == b.id and a.text == b.text and a.meta == b.meta
    assert [(e.start, e.end, e.label) for e in a.entities] == [(e.start, e.end, e.label) for e in b.entities]
    sa = [(s.start, s.end, s.events) for s in a.sentences or []]
    sb = [(s.start, s.end, s.events) for s in b.sentences or []]
    assert sa == sb


@pytest.mark.shared
def test_seed_jsonl_conll_jsonl_is_lossless(seed_path, tmp_path):
    arts = read_jsonl(seed_path)
    write_conll(arts, tmp_path / "seed.conll")
    back = read_conll(tmp_path / "seed.conll")
    write_jsonl(back, tmp_path / "seed.jsonl")
    again = read_jsonl(tmp_path / "seed.jsonl")
    for a, b in zip(arts, again):
        _same(a, b)


def test_corpus_round_trip(tmp_path):
    arts = load_corpus("dev")
    write_conll(arts, tmp_path / "dev.conll")
    for a, b in zip(arts, read_conll(tmp_path / "dev.conll")):
        _same(a, b)


def test_conll_documents_events_and_columns(tmp_path):
    p = tmp_path / "x.conll"
    p.write_text(
        "-DOCSTART- -X- O O\n\n"
        "# events = SHELLING|ARMED_CLASH\n"
        "قصفت\tO\tVBD\nقوات\tB-ACTOR\tNN\nالنظام\tI-ACTOR\tNN\nإدلب\tB-PLACE\tNNP\n\n"
        "# events =\n"
        "هدوء O\n\n"
        "# id = doc-2\n"
        "قتل O\nمدني O\n",
        encoding="utf-8",
    )
    arts = read_conll(p)
    assert [a.id for a in arts] == ["x-00001", "doc-2"]
    a = arts[0]
    assert a.text == "قصفت قوات النظام إدلب\nهدوء"
    assert [(a.text[e.start:e.end], e.label) for e in a.entities] == [("قوات النظام", "ACTOR"), ("إدلب", "PLACE")]
    assert [s.events for s in a.sentences] == [["SHELLING", "ARMED_CLASH"], []]
    assert arts[1].sentences[0].events is None


@pytest.mark.parametrize(
    "scheme, body, expected",
    [
        ("iob1", "قوات I-ACTOR\nالنظام I-ACTOR\nتركيا B-ACTOR\n", [("قوات النظام", "ACTOR"), ("تركيا", "ACTOR")]),
        ("bioes", "قوات B-ACTOR\nالنظام E-ACTOR\nإدلب S-PLACE\n", [("قوات النظام", "ACTOR"), ("إدلب", "PLACE")]),
        ("auto", "قوات B-ACTOR\nالنظام E-ACTOR\nإدلب S-PLACE\n", [("قوات النظام", "ACTOR"), ("إدلب", "PLACE")]),
    ],
)
def test_schemes_in(tmp_path, scheme, body, expected):
    p = tmp_path / "s.conll"
    p.write_text(body, encoding="utf-8")
    a = read_conll(p, scheme=scheme)[0]
    assert [(a.text[e.start:e.end], e.label) for e in a.entities] == expected


def test_label_map_renames_and_drops(tmp_path):
    p = tmp_path / "m.conll"
    p.write_text("بوتين B-PERS\nفي O\nموسكو B-LOC\nكأس B-MISC\nالعالم I-MISC\n", encoding="utf-8")
    a = read_conll(p, label_map={"PERS": "ACTOR", "LOC": "PLACE", "MISC": None})[0]
    assert [(a.text[e.start:e.end], e.label) for e in a.entities] == [("بوتين", "ACTOR"), ("موسكو", "PLACE")]


def test_iob2_is_written(tmp_path):
    p = tmp_path / "in.conll"
    p.write_text("قوات I-ACTOR\nالنظام I-ACTOR\n", encoding="utf-8")
    arts = read_conll(p, scheme="iob1")
    write_conll(arts, tmp_path / "out.conll")
    tags = [line.split("\t")[1] for line in (tmp_path / "out.conll").read_text(encoding="utf-8").splitlines()
            if "\t" in line]
    assert tags == ["B-ACTOR", "I-ACTOR"]


def test_gz_jsonl(tmp_path):
    arts = load_corpus("dev")[:3]
    write_jsonl(arts, tmp_path / "a.jsonl.gz")
    assert [a.id for a in read_articles(tmp_path / "a.jsonl.gz")] == [a.id for a in arts]


def test_prediction_style_events_read(tmp_path):
    rec = {"id": "p1", "text": "قصف إدلب.", "entities": [{"start": 4, "end": 8, "label": "PLACE", "text": "إدلب", "score": 0.9}],
           "sentences": [{"start": 0, "end": 9, "events": [{"label": "SHELLING", "score": 0.8}], "scores": {"SHELLING": 0.8}}]}
    (tmp_path / "p.jsonl").write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    a = read_jsonl(tmp_path / "p.jsonl")[0]
    assert a.sentences[0].events == ["SHELLING"] and a.entities[0].score == 0.9


def test_conll_hash_tokens_are_tokens(tmp_path):
    p = tmp_path / "h.conll"
    p.write_text("# O\nوسم O\n\n# a comment\nكلمة O\n", encoding="utf-8")
    arts, problems = read_conll_with_problems(p)
    assert [a.text for a, _ in arts] == ["# وسم", "كلمة"]
