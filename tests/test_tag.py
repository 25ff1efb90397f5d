"""Batch inference: whole articles, exact offsets, order, readers, rejects, resume after kill -9."""

from __future__ import annotations

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from marsad.data.corpus import load_corpus
from marsad.data.dumps import DumpOptions, iter_dump
from marsad.models.batch import rejects_path, tag_dump
from marsad.models.tagger import Tagger


@pytest.fixture(scope="module")
def tagger(tiny_model):
    return Tagger.load(tiny_model, device="cpu", precision="fp32", buffer_articles=16)


def test_offsets_slice_the_original_text(tagger):
    arts = load_corpus("dev")
    n = 0
    for a, res in zip(arts, tagger.tag_records(arts)):
        assert res["id"] == a.id
        n += len(res["entities"])
        for e in res["entities"]:
            assert a.text[e["start"]:e["end"]] == e["text"]
            assert 0 <= e["score"] <= 1
        for s in res["sentences"]:
            assert a.text[s["start"]:s["end"]].strip() == a.text[s["start"]:s["end"]]
            for ev in s["events"]:
                assert ev["score"] >= tagger.thresholds[tagger.event_labels.index(ev["label"])]
    assert n > 500  # the fixture model has learned enough to tag entities: the checks above are not vacuous


@pytest.fixture(scope="module")
def every_word_tagger(tiny_model):
    """The tiny model with its token head biased to B-ACTOR: every word it reads becomes an entity,
    so the entities show exactly which words were tagged, whatever the model learned."""
    from marsad.models.joint import load_joint_model

    model, tok, meta = load_joint_model(tiny_model)
    b_actor = model.config.label2id["B-ACTOR"]
    with torch.no_grad():
        model.token_model.classifier.bias[b_actor] += 1000.0
    return Tagger(model, tok, meta, device="cpu", precision="fp32")


def test_five_thousand_word_article_is_tagged_in_full(every_word_tagger):
    from marsad.data.text import split_sentences, tokenize

    texts = [a.text for a in load_corpus("train")]
    text = ""
    while len(tokenize(text)) < 5600:
        text += texts[len(text) % len(texts)] + "\n"
    words = [t for t in tokenize(text) if t.text[0].isalnum()]
    assert len(words) >= 5000
    res = every_word_tagger.tag([text])[0]
    assert [(s["start"], s["end"]) for s in res["sentences"]] == [(s.start, s.end) for s in split_sentences(text)]
    assert [(e["start"], e["end"]) for e in res["entities"]] == [(t.start, t.end) for t in tokenize(text)]
    # One sentence of 5,000 words, far past every window, is tagged to its end too.
    one = " ".join(w.text for w in words[:5000])
    res = every_word_tagger.tag([one])[0]
    assert len(res["sentences"]) == 1
    assert [(e["start"], e["end"]) for e in res["entities"]] == [(t.start, t.end) for t in tokenize(one)]
    for e in res["entities"]:
        assert one[e["start"]:e["end"]] == e["text"]


def test_order_is_kept_under_length_sorting(tagger):
    arts = load_corpus("dev")
    mixed = sorted(arts, key=lambda a: (len(a.text) * 7919) % 1013)  # long and short interleaved
    out = list(tagger.tag_records(mixed))
    assert [r["id"] for r in out] == [a.id for a in mixed]
    alone = {a.id: tagger.tag([a.text])[0]["entities"] for a in mixed[:5]}
    for r in out[:5]:
        assert r["entities"] == alone[r["id"]]  # batching does not change results


def test_readers(tmp_path):
    recs = [{"doc": "d1", "body": "قصفت القوات إدلب.", "source": "x", "n": 1},
            {"doc": "d2", "body": "هدوء في حلب.", "source": "y", "n": 2}]
    opts = DumpOptions(id_field="doc", text_field="body")
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    with gzip.open(tmp_path / "a.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    with open(tmp_path / "a.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["doc", "body", "source", "n"])
        w.writeheader()
        w.writerows(recs)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(recs), tmp_path / "a.parquet")
    for name in ("a.jsonl", "a.jsonl.gz", "a.csv", "a.parquet"):
        got = list(iter_dump([tmp_path / name], opts))
        assert [(r.id, r.text) for r in got] == [("d1", recs[0]["body"]), ("d2", recs[1]["body"])], name
        assert got[0].meta["source"] == "x" and str(got[0].meta["n"]) == "1"
    folder = tmp_path / "txt"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("نص أول.", encoding="utf-8")
    (folder / "sub" / "a.txt").write_text("نص ثان.", encoding="utf-8")
    got = list(iter_dump([folder]))
    assert [r.id for r in got] == ["b", "sub/a"] and got[0].text == "نص أول."


def test_bad_records_go_to_rejects(tmp_path, tagger):
    lines = ['{"id": "a", "text": "قصفت القوات إدلب."}', '{"id": "b", "text": ', '{"id": "c"}', '{"id": "d", "text": 5}',
             '{"id": "e", "text": "   "}', '{"id": "a", "text": "نص آخر."}', '["x"]', '{"text": "بلا معرف"}',
             '{"id": "f", "text": "هدوء في حلب."}']
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = tag_dump(tagger, [inp], out, progress=False)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "f"]
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"].split(":")[0]) for r in rejects] == [
        (2, "invalid JSON"), (3, "missing text (field 'text')"), (4, "text must be a string, got int"),
        (5, "empty text"), (6, "duplicate id"), (7, "record is a JSON list, expected an object"), (8, "missing id (field 'id')")]
    assert all(r["source"] == str(inp) for r in rejects)
    assert sum(summary.rejects.values()) == 7 and summary.articles == 2
    from marsad.cli import main

    assert main(["tag", str(inp), "--model", str(tagger.model_dir), "-o", str(tmp_path / "strict.jsonl"), "--strict",
                 "--no-progress"]) == 1


def test_existing_output_is_never_overwritten(tmp_path, tagger):
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    from marsad.errors import MarsadError

    with pytest.raises(MarsadError, match="exists"):
        tag_dump(tagger, [tmp_path / "x.jsonl"], out, progress=False)
    assert out.read_text() == "precious\n"


def _dump(path, n=400):
    arts = load_corpus("train")
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            a = arts[i % len(arts)]
            f.write(json.dumps({"id": f"{a.id}-{i}", "text": a.text, "i": i}, ensure_ascii=False) + "\n")
            if i % 37 == 5:
                f.write('{"id": "broken"\n')


def _tag_cmd(model, inp, out, *extra):
    return [sys.executable, "-m", "marsad.cli", "tag", str(inp), "--model", str(model), "-o", str(out), "--buffer", "8",
            "--no-progress", "--precision", "fp32", *extra]


def test_resume_after_kill_9_equals_an_uninterrupted_run(tmp_path, tiny_model):
    inp = tmp_path / "dump.jsonl"
    _dump(inp)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    full = tmp_path / "full.jsonl"
    subprocess.run(_tag_cmd(tiny_model, inp, full), check=True, env=env, capture_output=True)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(_tag_cmd(tiny_model, inp, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= 60:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = out.read_bytes().count(b"\n")
    assert 0 < done < 400, "the run was not interrupted midway"
    # A crash mid-write leaves a partial line: simulate one too.
    with open(out, "ab") as f:
        f.write(b'{"id": "half-writ')
    r = subprocess.run(_tag_cmd(tiny_model, inp, out, "--resume"), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "resumed after" in r.stderr
    assert out.read_text(encoding="utf-8") == full.read_text(encoding="utf-8")
    assert (tmp_path / "out.rejects.jsonl").read_text() == (tmp_path / "full.rejects.jsonl").read_text()
    ids = [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == 400


def test_resume_from_any_crash_point_is_byte_identical(tmp_path, tagger):
    """Whatever record a crash stops at, mid-buffer or not, the resumed files equal an uninterrupted run's."""
    inp = tmp_path / "dump.jsonl"
    _dump(inp, n=60)
    line_of = {}
    for k, raw in enumerate(inp.read_text(encoding="utf-8").splitlines(), 1):
        if raw.endswith("}"):
            line_of[json.loads(raw)["id"]] = k
    full = tmp_path / "full.jsonl"
    tag_dump(tagger, [inp], full, progress=False)
    out_lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    rej_lines = rejects_path(full).read_text(encoding="utf-8").splitlines(keepends=True)
    for cut in (1, 7, 17, 38, 52):  # input lines done before the crash
        out = tmp_path / f"cut{cut}.jsonl"
        out.write_text("".join(x for x in out_lines if line_of[json.loads(x)["id"]] <= cut) + '{"id": "torn', encoding="utf-8")
        rejects_path(out).write_text("".join(x for x in rej_lines if json.loads(x)["line"] <= cut), encoding="utf-8")
        summary = tag_dump(tagger, [inp], out, resume=True, progress=False)
        assert summary.resumed_after == cut
        assert out.read_bytes() == full.read_bytes(), cut
        assert rejects_path(out).read_bytes() == rejects_path(full).read_bytes(), cut


@pytest.mark.parametrize("precision", ["bf16", "int8", "onnx", "onnx-int8"])
def test_precisions_give_valid_close_results(tiny_model, precision):
    arts = load_corpus("dev")[:8]
    ref = Tagger.load(tiny_model, device="cpu", precision="fp32")
    t = Tagger.load(tiny_model, device="cpu", precision=precision)
    assert t.precision == precision
    a = ref.tag([x.text for x in arts])
    b = t.tag([x.text for x in arts])
    same = total = 0
    for x, ra, rb in zip(arts, a, b):
        for e in rb["entities"]:
            assert x.text[e["start"]:e["end"]] == e["text"]
        sa = {(e["start"], e["end"], e["label"]) for e in ra["entities"]}
        sb = {(e["start"], e["end"], e["label"]) for e in rb["entities"]}
        same += len(sa & sb)
        total += len(sa | sb)
    assert total == 0 or same / total > 0.8


def test_onnx_matches_torch_on_padded_batches(tiny_model):
    import numpy as np

    ref = Tagger.load(tiny_model, device="cpu", precision="fp32")
    onx = Tagger.load(tiny_model, device="cpu", precision="onnx")
    texts = [a.text[:400] for a in load_corpus("dev")[:6]]
    enc = ref.tokenizer(texts, padding=True, return_tensors="np")
    mask = enc["attention_mask"]
    assert mask.min() == 0  # the batch really is padded
    la, ea = ref._forward(enc["input_ids"], mask)
    lb, eb = onx._forward(enc["input_ids"], mask)
    assert np.abs(la - lb)[mask.astype(bool)].max() < 1e-3 and np.abs(ea - eb).max() < 1e-3


def test_memory_stays_flat_with_dump_size(tmp_path, tiny_model):
    """Peak memory of `marsad tag` on 1,600 articles is within a few MB of the same run on 160."""
    texts = [a.text[:300] for a in load_corpus("train")]
    code = ("import resource, sys; from marsad.cli import main; rc = main(sys.argv[1:]); "
            "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")
    peaks = {}
    for n in (160, 1600):
        inp = tmp_path / f"d{n}.jsonl"
        with open(inp, "w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({"id": str(i), "text": texts[i % len(texts)], "pad": "x" * 200}, ensure_ascii=False) + "\n")
        r = subprocess.run([sys.executable, "-c", code, "tag", str(inp), "--model", str(tiny_model), "-o",
                            str(tmp_path / f"o{n}.jsonl"), "--no-progress", "--precision", "fp32", "--buffer", "64"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        peaks[n] = int(r.stdout.split("RSS")[-1].split()[0]) / 1024
    # Ten times the articles (about 1.5 MB more input) must not mean more than a few MB more memory.
    assert peaks[1600] - peaks[160] < 25, peaks
