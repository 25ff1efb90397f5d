"""The model-side normaliser never moves offsets: it runs inside the fast tokenizer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marsad.data.text import DIACRITICS, TATWEEL, NormalizationConfig, normalize_text

pytestmark = pytest.mark.shared

LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئةى"
MARKS = DIACRITICS + TATWEEL + "\u0670"
OTHER = "abcXYZ0123456789٠١٢٣٤٥٦٧٨٩«»“”،؛؟.!-() "

arabicish = st.text(alphabet=st.sampled_from(list(LETTERS + MARKS + OTHER)), min_size=0, max_size=60)


def test_default_normalisation_is_arabert_v02():
    assert normalize_text("قَصَفَتْ الجيـــش ٢٠٢١") == "قصفت الجيش 2021"
    # AraBERT v0.2's vocabulary keeps hamza forms, so the default keeps them.
    assert normalize_text("أإآ ى ة") == "أإآ ى ة"


def test_full_normalisation_folds_letter_variants():
    cfg = NormalizationConfig(normalize_alef=True, normalize_ya=True, normalize_ta_marbuta=True)
    assert normalize_text("أإآ مستشفى مدينة", cfg) == "ااا مستشفي مدينه"


@given(arabicish)
@settings(max_examples=300, deadline=None)
def test_offsets_map_back_exactly(arabert_tokenizer, text):
    """Every subword's offsets slice the ORIGINAL text, and normalising that slice gives the subword."""
    enc = arabert_tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    tokens = arabert_tokenizer.convert_ids_to_tokens(enc["input_ids"])
    prev_end = 0
    for tok, (s, e) in zip(tokens, enc["offset_mapping"]):
        assert 0 <= s <= e <= len(text)
        assert s >= prev_end or s == prev_end  # offsets move forward
        piece = text[s:e]
        assert piece.strip() == piece and piece  # never whitespace, never empty
        if tok != arabert_tokenizer.unk_token:
            assert normalize_text(piece).replace(" ", "") == tok.removeprefix("##")
        prev_end = e


def test_no_hamza_stripping(arabert_tokenizer):
    """Loaded through transformers with do_lower_case=False: hamza forms survive (the raw load strips them)."""
    toks = arabert_tokenizer.tokenize("إدلب أنقرة")
    assert toks[0] == "إدلب" and toks[1].startswith("أ")


def test_diacritics_do_not_shift_spans(arabert_tokenizer):
    text = "قَصَفَتْ طائـــرات الاستطلاع الروسية"
    enc = arabert_tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    toks = arabert_tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert toks[:2] == ["قصفت", "طائرات"]
    s, e = enc["offset_mapping"][1]
    assert text[s:e] == "طائـــرات"
