"""The joint model and training runs, with tiny models built locally (real learning, no mocks)."""

from __future__ import annotations

import json
import re

import pytest
import torch

from marsad.data.jsonl import read_jsonl
from marsad.errors import ConfigError, LabelMismatchError, ModelLoadError
from marsad.models.tagger import Tagger
from marsad.training.config import TrainConfig
from marsad.training.train import run_training
from tests.helpers import sentence_articles, tiny_config, write


pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def thirty(tmp_path_factory, corpus_train, seed_path):
    """30 annotated sentences: the seed article's 17 and 13 from the corpus, each as an article."""
    d = tmp_path_factory.mktemp("thirty")
    arts = sentence_articles(read_jsonl(seed_path), 17, "seed") + sentence_articles(corpus_train, 13)
    assert len(arts) == 30
    return write(arts, d / "thirty.jsonl"), arts


@pytest.fixture(scope="module")
def overfit_run(tmp_path_factory, tiny_base, thirty):
    path, _ = thirty
    tmp = tmp_path_factory.mktemp("overfit")
    cfg = tiny_config(tmp, tiny_base, path, path, max_length=192, stride=32)  # seed sentences fit one window
    metrics = run_training(cfg)
    return cfg, metrics


def test_overfits_thirty_sentences(overfit_run):
    _, m = overfit_run
    h = m["dev"]["headline"]
    assert h["entity_micro_f1"] >= 0.95, h
    assert m["dev"]["events"]["sentence"]["micro"]["f1"] >= 0.95, m["dev"]["events"]["sentence"]
    assert m["dev"]["events"]["sentence"]["macro"]["f1"] >= 0.95


def test_saved_directory_layout(overfit_run):
    cfg, _ = overfit_run
    d = __import__("pathlib").Path(cfg.output_dir) / "model"
    names = {p.name for p in d.iterdir()}
    assert {"config.json", "model.safetensors", "event_head.safetensors", "tokenizer.json", "run_config.json",
            "metrics.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pth", ".pkl")) for n in names)
    conf = json.loads((d / "config.json").read_text())
    assert conf["marsad"]["event_labels"][0] == "ARMED_CLASH"
    assert set(conf["marsad"]["event_thresholds"]) == set(conf["marsad"]["event_labels"])
    assert conf["id2label"]["1"] == "B-ACTOR"
    assert TrainConfig.from_file(d / "run_config.json").seed == cfg.seed


def test_save_load_identical_predictions(overfit_run, thirty):
    import marsad

    cfg, _ = overfit_run
    _, arts = thirty
    d = f"{cfg.output_dir}/model"
    a, b = marsad.load(d, device="cpu", precision="fp32"), Tagger.load(d, device="cpu", precision="fp32")
    texts = [x.text for x in arts]
    ids = a.tokenizer(texts[:4], padding=True, return_tensors="pt")
    with torch.inference_mode():
        la = a.model(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"])
        lb = b.model(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"])
    assert torch.equal(la.logits, lb.logits) and torch.equal(la.event_logits, lb.event_logits)
    assert a.tag(texts) == b.tag(texts)


MARKS = re.compile(r"[\u064b-\u0652\u0670\u0640]")


def test_pipeline_loads_the_ner_part(overfit_run, seed_path):
    """transformers' own pipeline, with no marsad code, finds the entities marsad finds on the seed article.

    The pipeline decides that a token continues the previous word when its length differs from
    the text it covers, so a word with a diacritic or tatweel inside it (normalised away) is glued
    to the word before it, and a trailing diacritic falls outside its span. Those entities, and
    only those, may differ; all others must be identical.
    """
    from transformers import pipeline

    from marsad.data.text import split_sentences, tokenize

    cfg, _ = overfit_run
    d = f"{cfg.output_dir}/model"
    seed = read_jsonl(seed_path)[0]
    text = seed.text
    ner = pipeline("token-classification", model=d, aggregation_strategy="first", device="cpu")
    tagger = Tagger.load(d, device="cpu", precision="fp32")
    ours = {(e["start"], e["end"], e["label"]) for e in tagger.tag([text])[0]["entities"]}
    theirs = set()
    for s in split_sentences(text):  # sentence by sentence: the pipeline would truncate the article at 512
        for e in ner(text[s.start:s.end]):
            theirs.add((s.start + e["start"], s.start + e["end"], e["entity_group"]))
    assert len(ours) >= 60  # the model learned the seed article

    words = tokenize(text)

    def explained(span) -> bool:
        # A word with a mark inside, or with digits glued to letters (the tokenizer splits "يونيو2021",
        # marsad's tokeniser does not), at or just after the span.
        start, end, _ = span
        near = [w for w in words if start <= w.start < end + 30 or w.start <= start < w.end]
        return any(MARKS.search(w.text) or (re.search(r"\d", w.text) and re.search(r"[^\d\W]", w.text))
                   for w in near[:6])

    assert ours & theirs, "no entity in common"
    assert all(explained(x) for x in ours ^ theirs), sorted(ours ^ theirs)
    assert len(ours - theirs) <= 3 and len(theirs - ours) <= 3, sorted(ours ^ theirs)


def test_empty_and_long_articles(overfit_run, thirty):
    cfg, _ = overfit_run
    _, arts = thirty
    tagger = Tagger.load(f"{cfg.output_dir}/model", device="cpu", precision="fp32", max_length=48, stride=12)
    empty = tagger.tag([""])[0]
    assert empty["entities"] == [] and empty["sentences"] == []
    # One sentence far longer than the 48-subword window: tagged in full, offsets exact.
    long_text = "، ".join(a.text.rstrip(".") for a in arts[:12]) + "."
    res = tagger.tag([long_text])[0]
    assert len(res["sentences"]) == 1
    for e in res["entities"]:
        assert long_text[e["start"]:e["end"]] == e["text"]
    assert max(e["end"] for e in res["entities"]) > len(long_text) * 0.9


def test_same_seed_same_metrics(tmp_path, tiny_base, thirty):
    path, _ = thirty
    m1 = run_training(tiny_config(tmp_path / "a", tiny_base, path, path, epochs=2))
    m2 = run_training(tiny_config(tmp_path / "b", tiny_base, path, path, epochs=2))
    assert m1["dev"]["headline"] == m2["dev"]["headline"]
    assert m1["train"]["train_loss"] == m2["train"]["train_loss"]


def test_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path, tiny_base, thirty):
    path, _ = thirty
    full = run_training(tiny_config(tmp_path / "full", tiny_base, path, path, epochs=4))
    # The same run stopped after two epochs (its checkpoint kept), then resumed.
    cfg = tiny_config(tmp_path / "part", tiny_base, path, path, epochs=4, save_total_limit=4)
    class Stop(Exception):
        pass

    from transformers import TrainerCallback

    class StopAfter(TrainerCallback):
        def on_save(self, args, state, control, **kw):
            if state.epoch >= 2:
                raise Stop

    with pytest.raises(Stop):
        run_training(cfg, callbacks=[StopAfter()])
    resumed = run_training(cfg, resume=True)
    assert resumed["dev"]["headline"] == full["dev"]["headline"]


def test_clear_errors_before_compute(tmp_path, tiny_base, thirty):
    path, arts = thirty
    with pytest.raises(ConfigError, match="train file not found: nope.jsonl"):
        run_training(tiny_config(tmp_path, tiny_base, "nope.jsonl", path))
    bad = [a for a in arts[:3]]
    bad[0].entities[0].label = "PERSON"
    bad_path = write(bad, tmp_path / "bad.jsonl")
    with pytest.raises(LabelMismatchError, match="bad.jsonl.*'PERSON'.*not in schema"):
        run_training(tiny_config(tmp_path, tiny_base, bad_path, path))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ConfigError, match="dev split is empty"):
        run_training(tiny_config(tmp_path, tiny_base, path, str(tmp_path / "empty.jsonl")))
    with pytest.raises(ModelLoadError, match="Hub could not be reached.*set base_model to that directory"):
        run_training(tiny_config(tmp_path, "someone/no-such-model", path, path))


def test_config_file_and_flags(tmp_path):
    from marsad.cli import build_parser
    from marsad.training.cli import cmd_train  # noqa: F401

    p = tmp_path / "c.toml"
    p.write_text('base_model = "tiny"\nepochs = 3\nlearnin_rate = 1e-4\n')
    with pytest.raises(ConfigError, match="learnin_rate.*did you mean learning_rate"):
        TrainConfig.from_file(p)
    p.write_text('base_model = "tiny"\nepochs = 3\n')
    args = build_parser().parse_args(["train", "--config", str(p), "--epochs", "5", "--train-files", "a.jsonl", "b.conll",
                                      "--progress", "false"])
    over = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    cfg = TrainConfig.from_dict({**TrainConfig.from_file(p).to_dict(), **over})
    assert cfg.epochs == 5 and cfg.train_files == ["a.jsonl", "b.conll"] and cfg.progress is False
    y = tmp_path / "c.yaml"
    y.write_text("base_model: tiny\nstride: 300\n")
    with pytest.raises(ConfigError, match="stride"):
        TrainConfig.from_file(y)


def test_shipped_configs_parse():
    from tests.conftest import REPO

    for f in (REPO / "training/configs").glob("*.toml"):
        TrainConfig.from_file(f)


def test_wordpiece_vocab_merges_by_frequency_then_lexically():
    from collections import Counter

    from marsad.models.tiny import learn_wordpiece_vocab

    vocab = learn_wordpiece_vocab(Counter({"قصف": 3, "قصفت": 2, "قتل": 1}), vocab_size=100, special_tokens=["[UNK]"])
    order = sorted(vocab, key=vocab.get)
    # Specials; the alphabet by frequency, ties lexically; the continuation pieces; then the merges:
    # the two pairs of count 5 (##ص+##ف before ق+##ص: "#" sorts first), قصف+##ت (2), then count 1.
    assert order == ["[UNK]", "ق", "ص", "ف", "ت", "ل", "##ت", "##ل", "##ص", "##ف",
                     "##صف", "قصف", "قصفت", "##تل", "قتل"]
    assert learn_wordpiece_vocab(Counter({"قصف": 3, "قصفت": 2, "قتل": 1}), vocab_size=8, special_tokens=["[UNK]"]) \
        == {t: i for i, t in enumerate(order[:10])}  # the base alphabet is always kept whole


def test_tiny_tokenizer_is_the_same_in_every_process(tmp_path):
    """tokenizers' own trainer breaks ties by hash-map order, which changes per process; ours must not."""
    import subprocess
    import sys

    code = ("import hashlib, json, sys; from marsad.data.corpus import load_corpus; "
            "from marsad.models.tiny import train_wordpiece; "
            "t = train_wordpiece([a.text for a in load_corpus('dev')], 3000); "
            "print(hashlib.sha256(json.dumps(sorted(t.get_vocab().items())).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
               for _ in range(3)}
    assert len(digests) == 1, digests
