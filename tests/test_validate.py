"""One test per class of bad input, each asserting the message names the place and the problem."""

from __future__ import annotations

import json

import pytest

from marsad.cli import main
from marsad.data.schema import default_schema
from marsad.data.validate import validate_files

GOOD = {"id": "a1", "text": "قصفت قوات النظام إدلب.", "entities": [{"start": 5, "end": 16, "label": "ACTOR"}],
        "sentences": [{"start": 0, "end": 22, "events": ["SHELLING"]}]}


def write(tmp_path, records, name="d.jsonl"):
    p = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def errors_of(path):
    return [str(p) for p in validate_files([path], default_schema()) if p.severity == "error"]


def with_(**kw):
    d = json.loads(json.dumps(GOOD))
    d.update(kw)
    return d


@pytest.mark.parametrize(
    "record, expected",
    [
        ("{bad json", "error: bad JSON"),
        ({"text": "نص"}, "error: missing id"),
        (with_(text=""), "[a1] error: empty document"),
        (with_(text="   "), "[a1] error: empty document"),
        (with_(entities=[{"start": 5, "end": 99, "label": "ACTOR"}]), "offsets out of range"),
        (with_(entities=[{"start": 6, "end": 16, "label": "ACTOR"}]), "span cuts a token"),
        (with_(entities=[{"start": 5, "end": 16, "label": "ACTOR"}, {"start": 10, "end": 21, "label": "ACTOR"}]), "overlaps entity"),
        (with_(entities=[{"start": 5, "end": 16, "label": "PERSON"}]), "unknown entity label 'PERSON'"),
        (with_(sentences=[{"start": 0, "end": 22, "events": ["BOMBING"]}]), "unknown event label 'BOMBING'"),
        (with_(sentences=[{"start": 6, "end": 22, "events": []}, {"start": 0, "end": 5, "events": []}]),
         "sentences out of order or overlapping"),
        (with_(sentences=[{"start": 0, "end": 10, "events": []}, {"start": 5, "end": 22, "events": []}]),
         "sentences out of order or overlapping"),
        (with_(entities=[{"start": 5, "end": 16, "label": "ACTOR", "text": "قوات"}]), "differs from the article's"),
        (with_(id=["x"]), "id must be a string"),
        (with_(text=5), "text must be a string"),
    ],
)
def test_bad_records(tmp_path, record, expected):
    path = write(tmp_path, [record])
    errs = errors_of(path)
    assert any(expected in e for e in errs), errs
    assert all(e.startswith(f"{path}:1:") for e in errs)


def test_duplicate_id_names_both_lines(tmp_path):
    path = write(tmp_path, [GOOD, GOOD])
    errs = errors_of(path)
    assert any(":2: [a1] error:" in e and "duplicate id (first at line 1)" in e for e in errs), errs


def test_all_errors_of_a_file_are_reported(tmp_path):
    path = write(tmp_path, ["{bad", with_(id="b", text=""), GOOD, with_(id="c", entities=[{"start": 6, "end": 16, "label": "X"}])])
    errs = errors_of(path)
    assert {e.split(":")[1] for e in errs} == {"1", "2", "4"}
    assert len(errs) >= 4  # line 4 has two problems


def test_conll_i_after_o_is_repaired_with_a_warning(tmp_path):
    p = tmp_path / "c.conll"
    p.write_text("قصف O\nقوات I-ACTOR\nالنظام I-ACTOR\n", encoding="utf-8")
    probs = validate_files([p], default_schema())
    assert not [x for x in probs if x.severity == "error"]
    warn = [str(x) for x in probs if x.severity == "warning"]
    assert any(f"{p}:2:" in w and "'I-ACTOR' follows" in w and "repaired to 'B-ACTOR'" in w for w in warn), warn


def test_conll_unknown_label_is_an_error(tmp_path):
    p = tmp_path / "c.conll"
    p.write_text("# id = d1\nبوتين B-PERS\n", encoding="utf-8")
    errs = errors_of(p)
    assert any("[d1]" in e and "unknown entity label 'PERS'" in e for e in errs), errs


def test_conll_malformed_line(tmp_path):
    p = tmp_path / "c.conll"
    p.write_text("قصف O\nوحيد\n", encoding="utf-8")
    assert any(f"{p}:2:" in e and "expected 'token<TAB>tag'" in e for e in errors_of(p))


@pytest.mark.shared
def test_seed_article_validates_clean(seed_path):
    assert validate_files([seed_path], default_schema()) == []


def test_cli_validate_exit_codes(tmp_path, capsys):
    good = write(tmp_path, [GOOD], "good.jsonl")
    bad = write(tmp_path, [with_(id="b1", entities=[{"start": 6, "end": 16, "label": "ACTOR"}]), "{x"], "bad.jsonl")
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith(f"{bad}:") for line in out)


def test_missing_file(tmp_path):
    assert any("file not found" in e for e in errors_of(tmp_path / "nope.jsonl"))
