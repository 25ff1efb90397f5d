"""The data subcommands, called as users call them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from marsad.cli import main
from marsad.data.corpus import corpus_path


def test_convert_jsonl_conll_jsonl(tmp_path):
    src = corpus_path("dev")
    assert main(["convert", str(src), str(tmp_path / "dev.conll")]) == 0
    assert main(["convert", str(tmp_path / "dev.conll"), str(tmp_path / "dev.jsonl")]) == 0
    a = [json.loads(x) for x in src.read_text(encoding="utf-8").splitlines()]
    b = [json.loads(x) for x in (tmp_path / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    assert a == b


def test_stats(capsys):
    assert main(["stats", "--json", str(corpus_path("dev"))]) == 0
    st = json.loads(capsys.readouterr().out)[str(corpus_path("dev"))]
    assert st["articles"] == 28
    assert set(st["entities"]) == {"ACTOR", "PLACE", "WEAPON"}
    assert st["sentences_without_event"] > 0 and len(st["sentences_per_event"]) == 9


def test_stats_text_table(capsys):
    assert main(["stats", str(corpus_path("dev")), str(corpus_path("test"))]) == 0
    out = capsys.readouterr().out
    assert "sentences per event type" in out and "total" in out


def test_audit_finds_planted_inconsistency(tmp_path, capsys):
    recs = [
        {"id": "a", "text": "قصفت قوات النظام إدلب.", "entities": [{"start": 5, "end": 16, "label": "ACTOR"},
                                                           {"start": 17, "end": 21, "label": "PLACE"}],
         "sentences": [{"start": 0, "end": 22, "events": ["SHELLING"]}]},
        {"id": "b", "text": "وصلت قوات النظام إلى إدلب.", "entities": [{"start": 21, "end": 25, "label": "ACTOR"}],
         "sentences": [{"start": 0, "end": 26, "events": []}]},
        {"id": "c", "text": "دارت اشتباكات عنيفة في إدلب.", "entities": [{"start": 23, "end": 27, "label": "PLACE"}],
         "sentences": [{"start": 0, "end": 28, "events": []}]},
    ]
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    assert main(["audit", "--json", "--min-tagged", "1", str(p)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["mixed_types"][0]["surface"] == "إدلب"
    assert any(u["surface"] == "قوات النظام" and u["untagged_examples"][0]["id"] == "b" for u in rep["untagged"])
    assert rep["missing_events"]["ARMED_CLASH"][0]["id"] == "c"


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "marsad.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "validate" in out.stdout and "train" in out.stdout


def test_usage_error_exit_code():
    with pytest.raises(SystemExit) as e:
        main(["validate"])
    assert e.value.code == 2


def test_data_layer_imports_no_torch():
    code = "import sys, marsad.data, marsad.data.io, marsad.data.conll, marsad.data.audit, marsad.cli; " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
