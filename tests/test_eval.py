"""Evaluation: agreement with seqeval, hand-computed cases, bootstrap, matching errors, reports."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess

import numpy as np
import pytest
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from marsad.data.bio import bio_to_spans
from marsad.data.document import Article, Entity, Sentence
from marsad.data.jsonl import write_jsonl
from marsad.data.schema import Schema
from marsad.data.text import tokenize
from marsad.errors import DataFormatError
from marsad.eval.api import compare_predictions, score_files
from marsad.eval.errors import classify_spans
from marsad.eval.metrics import multilabel_scores, tune_thresholds
from marsad.eval.report import score_articles, span_scores

SCHEMA = Schema(("ACTOR", "PLACE", "WEAPON"), ("SHELLING", "DIPLOMACY"), "test")
WORDS = ["قوات", "النظام", "إدلب", "قصف", "مدفعي", "في", "حلب", "الجيش", "،", "M4"]


def random_tags(rng, n):
    tags, prev = [], "O"
    for _ in range(n):
        r = rng.random()
        if r < 0.55:
            t = "O"
        elif r < 0.8 or prev == "O":
            t = "B-" + rng.choice(SCHEMA.entity_labels)
        else:
            t = "I-" + prev[2:]
        tags.append(t)
        prev = t
    return tags


def article_from_tags(aid, sents_words, sents_tags, events=None):
    text, ents, sents = "", [], []
    for k, (words, tags) in enumerate(zip(sents_words, sents_tags)):
        if text:
            text += " "
        start = len(text)
        text += " ".join(words)
        toks = tokenize(text, start, len(text))
        ents += bio_to_spans(toks, tags)
        sents.append(Sentence(start, len(text), list(events[k]) if events else []))
    return Article(aid, text, ents, sents)


@pytest.mark.parametrize("seed", range(6))
def test_entity_scores_equal_seqeval(seed):
    rng = random.Random(seed)
    gold, pred, y_true, y_pred = [], [], [], []
    for a in range(rng.randint(3, 12)):
        sw, gt, pt = [], [], []
        for _ in range(rng.randint(1, 4)):
            n = rng.randint(1, 15)
            words = [rng.choice(WORDS) for _ in range(n)]
            sw.append(words)
            gt.append(random_tags(rng, n))
            # predictions: gold with random edits
            p = list(gt[-1])
            for i in range(n):
                if rng.random() < 0.3:
                    p[i] = random_tags(rng, 1)[0] if i == 0 or p[i - 1] == "O" else rng.choice(["O", p[i - 1].replace("B-", "I-")])
            from marsad.data.bio import repair_iob2

            pt.append(repair_iob2(p)[0])
        gold.append(article_from_tags(f"a{a}", sw, gt))
        pred.append(article_from_tags(f"a{a}", sw, pt))
        y_true += gt
        y_pred += pt
    m = score_articles(gold, pred, SCHEMA, bootstrap=0)
    for mode, kw in (("strict", {"mode": "strict", "scheme": IOB2}), ("default", {})):
        ref = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kw)
        for lab in SCHEMA.entity_labels:
            if lab in ref:
                assert m["entities"][mode]["per_type"][lab]["f1"] == pytest.approx(ref[lab]["f1-score"])
                assert m["entities"][mode]["per_type"][lab]["support"] == ref[lab]["support"]
        assert m["entities"][mode]["micro"]["f1"] == pytest.approx(ref["micro avg"]["f1-score"])
        assert m["entities"][mode]["macro"]["f1"] == pytest.approx(ref["macro avg"]["f1-score"])
    # The bootstrap path (per-article counts) reproduces seqeval's headline figures exactly.
    assert m["headline"]["entity_micro_f1"] == pytest.approx(m["entities"]["strict"]["micro"]["f1"])
    assert m["headline"]["entity_macro_f1"] == pytest.approx(m["entities"]["strict"]["macro"]["f1"])


def _art(text, ents, sents=None):
    return Article("x", text, [Entity(s, e, lab) for s, e, lab in ents], sents)


def test_span_schemes_hand_computed():
    text = "قوات النظام قصفت إدلب وحلب"
    #       0    5     11   16   21
    gold = _art(text, [(0, 11, "ACTOR"), (17, 21, "PLACE"), (22, 26, "PLACE")])
    pred = _art(text, [(5, 11, "ACTOR"), (17, 21, "ACTOR")])  # boundary error; type error; one missed
    r = span_scores([(gold, pred)], ["ACTOR", "PLACE", "WEAPON"])["overall"]
    assert (r["strict"]["correct"], r["strict"]["incorrect"], r["strict"]["missed"]) == (0, 2, 1)
    assert (r["exact"]["correct"], r["exact"]["incorrect"]) == (1, 1)  # boundaries of إدلب right
    assert (r["ent_type"]["correct"], r["ent_type"]["incorrect"]) == (1, 1)  # type of قوات النظام right
    assert r["partial"]["partial"] == 1 and r["partial"]["correct"] == 1
    assert r["strict"]["precision"] == 0 and r["exact"]["recall"] == pytest.approx(1 / 3)
    kinds = [e.kind for e in classify_spans(gold, pred)]
    assert sorted(kinds) == ["false_negative", "wrong_boundary", "wrong_type"]


def test_event_metrics_hand_computed():
    Y = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    P = np.array([[1, 0], [0, 1], [0, 1], [0, 1]])
    r = multilabel_scores(Y, P, ["SHELLING", "DIPLOMACY"])
    assert r["per_type"]["SHELLING"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert r["per_type"]["DIPLOMACY"]["precision"] == pytest.approx(2 / 3)
    assert r["per_type"]["DIPLOMACY"]["recall"] == 1.0
    assert r["micro"]["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert r["macro"]["f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert r["subset_accuracy"] == 0.5


def test_thresholds_tuned_per_label():
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    S = np.array([[0.2, 0.1], [0.25, 0.9], [0.1, 0.85], [0.15, 0.88]])
    # X: only (0.15, 0.2] separates the classes. Y: every t in (0.1, 0.85] gives the best F1 (0.8);
    # ties go to the threshold nearest 0.5.
    th = tune_thresholds(Y, S, ["X", "Y"])
    assert th["X"] == 0.2 and th["Y"] == 0.5


def _gold(rng, n_articles):
    gold = []
    for a in range(n_articles):
        sw, gt, ev = [], [], []
        for _ in range(3):
            sw.append([rng.choice(WORDS) for _ in range(8)])
            gt.append(random_tags(rng, 8))
            ev.append(rng.choice([[], ["SHELLING"], ["DIPLOMACY"], ["SHELLING", "DIPLOMACY"]]))
        gold.append((sw, gt, ev))
    return gold


def _noisy(gold, rng, noise):
    """Articles built from ``gold`` specs, each tag dropped and each event list emptied with probability ``noise``."""
    from marsad.data.bio import repair_iob2

    out = []
    for a, (sw, gt, ev) in enumerate(gold):
        tags = [repair_iob2([x if rng.random() > noise else "O" for x in t])[0] for t in gt]
        evs = [e if rng.random() > noise else [] for e in ev]
        out.append(article_from_tags(f"a{a}", sw, tags, evs))
    return out


def _system(rng, n_articles, noise):
    spec = _gold(rng, n_articles)
    return [article_from_tags(f"a{a}", sw, gt, ev) for a, (sw, gt, ev) in enumerate(spec)], _noisy(spec, rng, noise)


def test_bootstrap_contains_estimate_and_shrinks():
    widths = []
    for n in (20, 320):
        gold, pred = _system(random.Random(1), n, 0.3)
        m = score_articles(gold, pred, SCHEMA, bootstrap=300, seed=0)
        for k, v in m["headline"].items():
            ci = m["confidence_intervals"][k]
            assert ci["low"] - 1e-9 <= v <= ci["high"] + 1e-9, k
        ci = m["confidence_intervals"]["entity_micro_f1"]
        widths.append(ci["high"] - ci["low"])
    assert widths[1] < widths[0] / 2


def test_matching_errors_name_the_record():
    from marsad.eval.metrics import match_articles

    g = Article("a1", "قصف إدلب.", [], [Sentence(0, 9, [])])
    with pytest.raises(DataFormatError, match=r"\[a1\] no prediction"):
        match_articles([g], [])
    with pytest.raises(DataFormatError, match=r"\[a1\] text differs from the gold text at character 4"):
        match_articles([g], [Article("a1", "قصف حلب.", [], [Sentence(0, 8, [])])])
    with pytest.raises(DataFormatError, match=r"\[a1\] sentence boundaries differ"):
        match_articles([g], [Article("a1", "قصف إدلب.", [], [Sentence(0, 4, []), Sentence(4, 9, [])])])
    with pytest.raises(DataFormatError, match=r"\[zz\] prediction for an article not in gold"):
        match_articles([g], [Article("a1", "قصف إدلب.", [], [Sentence(0, 9, [])]), Article("zz", "x", [], None)])
    with pytest.raises(DataFormatError, match=r"\[a1\] duplicate id in predictions"):
        match_articles([g], [Article("a1", "قصف إدلب.", [], None)] * 2)


def test_entity_text_checked_against_gold(tmp_path):
    g = Article("a1", "قصف إدلب.", [Entity(4, 8, "PLACE")], [Sentence(0, 9, ["SHELLING"])])
    write_jsonl([g], tmp_path / "gold.jsonl")
    # A tag-style record (no article text) whose entity offsets are shifted by one.
    (tmp_path / "pred.jsonl").write_text(json.dumps({"id": "a1", "entities": [{"start": 3, "end": 7, "label": "PLACE", "text": "إدلب"}],
                                                     "sentences": [{"start": 0, "end": 9, "events": []}]}, ensure_ascii=False) + "\n")
    with pytest.raises(DataFormatError, match=r"pred.jsonl:1: \[a1\] entity 0 \[3:7\]: its text 'إدلب' differs"):
        score_files([str(tmp_path / "gold.jsonl")], [str(tmp_path / "pred.jsonl")], bootstrap=0)


def test_bad_json_in_predictions_names_the_line(tmp_path):
    write_jsonl([Article("a1", "قصفت قوات النظام إدلب.")], tmp_path / "gold.jsonl")
    (tmp_path / "pred.jsonl").write_text('\n{"id": "a1", "entities": [\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"pred.jsonl:2: bad JSON: .* at column"):
        score_files([str(tmp_path / "gold.jsonl")], [str(tmp_path / "pred.jsonl")], bootstrap=0)


def test_compare_paired_bootstrap(tmp_path):
    rng = random.Random(3)
    spec = _gold(rng, 60)
    gold = [article_from_tags(f"a{a}", sw, gt, ev) for a, (sw, gt, ev) in enumerate(spec)]
    good, bad = _noisy(spec, rng, 0.1), _noisy(spec, rng, 0.5)
    for name, arts in (("gold", gold), ("good", good), ("bad", bad)):
        write_jsonl(arts, tmp_path / f"{name}.jsonl")
    same = compare_predictions([str(tmp_path / "gold.jsonl")], str(tmp_path / "good.jsonl"), str(tmp_path / "good.jsonl"), n=200)
    assert same["figures"]["entity_micro_f1"]["diff"] == 0 and same["figures"]["entity_micro_f1"]["p"] == 1.0
    r = compare_predictions([str(tmp_path / "gold.jsonl")], str(tmp_path / "bad.jsonl"), str(tmp_path / "good.jsonl"), n=500)
    f = r["figures"]["entity_micro_f1"]
    assert f["diff"] > 0.05 and f["ci_low"] > 0 and f["p"] < 0.01
    assert "B-A" in r["table"]


def test_score_cli_writes_reports(tmp_path, capsys):
    from marsad.cli import main

    rng = random.Random(5)
    gold, pred = _system(rng, 12, 0.3)
    write_jsonl(gold, tmp_path / "gold.jsonl")
    write_jsonl(pred, tmp_path / "pred.jsonl")
    assert main(["score", "--gold", str(tmp_path / "gold.jsonl"), "--pred", str(tmp_path / "pred.jsonl"),
                 "--out", str(tmp_path / "rep"), "--bootstrap", "100"]) == 0
    assert "entity_micro_f1" in capsys.readouterr().out
    m = json.loads((tmp_path / "rep/metrics.json").read_text())
    assert m["entities"]["strict"]["mode"] == "strict IOB2" and "default" in m["entities"]
    assert {"strict", "exact", "partial", "ent_type"} == set(m["spans"]["overall"])
    assert m["events"]["article"]["sentences"] == 12 and m["events"]["cooccurrence"]["rows_gold"][-1] == "none"
    for f in ("report.md", "report.html", "f1_per_label.png", "event_matrix.png"):
        assert (tmp_path / "rep" / f).stat().st_size > 1000, f


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("MARSAD_REQUIRE_CHROMIUM"):
        pytest.fail("headless Chromium is required here (apt-get install chromium)")
    pytest.skip("no Chromium on this machine (.ci/run installs Debian's package)")


def test_html_report_renders_rtl_in_chromium(tmp_path):
    from marsad.eval.api import full_metrics
    from marsad.eval.render import write_report

    rng = random.Random(7)
    gold, pred = _system(rng, 6, 0.3)
    metrics, pairs = full_metrics(gold, pred, SCHEMA, bootstrap=50, seed=0)
    paths = write_report(tmp_path, metrics, pairs, SCHEMA.entity_labels)
    chrome = _chromium()
    probe = tmp_path / "probe.html"
    page = paths["html"].read_text(encoding="utf-8")
    script = ("<script>const p=document.querySelector('p.text');document.body.setAttribute('data-probe',"
              "JSON.stringify({dir:getComputedStyle(p).direction,marks:document.querySelectorAll('section.article mark.ent').length,"
              "right:p.getBoundingClientRect().right,width:document.documentElement.clientWidth}));</script>")
    probe.write_text(page.replace("</body>", script + "</body>"), encoding="utf-8")
    flags = [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1400"]
    dom = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    m = re.search(r"data-probe=\"([^\"]+)\"", dom)
    assert m, dom[:500]
    probe_data = json.loads(m.group(1).replace("&quot;", '"'))
    n_spans = sum(len(g.entities) + len(p.entities) for g, p in pairs)
    assert probe_data["dir"] == "rtl" and probe_data["marks"] == n_spans
    shot = tmp_path / "report.png"
    subprocess.run(flags + [f"--screenshot={shot}", paths["html"].as_uri()], capture_output=True, timeout=120)
    assert shot.stat().st_size > 10_000
    os.makedirs("test-artifacts", exist_ok=True)
    shutil.copy(shot, "test-artifacts/report.png")
