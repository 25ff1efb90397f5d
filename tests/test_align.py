"""Words <-> subwords and windows over long sentences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marsad.data.align import (IGNORE, encode_sentences, merge_windows, owned_mask, plan_windows, split_windows,
                               subword_labels, window_owners)
from marsad.data.text import tokenize


@given(st.integers(0, 400), st.integers(2, 64), st.data())
@settings(max_examples=300, deadline=None)
def test_split_merge_identity(n, size, data):
    stride = data.draw(st.integers(0, size - 1))
    values = list(range(n))
    wins = plan_windows(n, size, stride)
    assert merge_windows(split_windows(values, wins), wins, n) == values
    # Cover everything, within size, overlapping by at least the stride, last ends at n.
    assert all(e - s <= size for s, e in wins)
    assert wins[0][0] == 0 and wins[-1][1] == n
    for (s1, e1), (s2, e2) in zip(wins, wins[1:]):
        assert s2 <= e1 - stride and s2 > s1
    # Each position is owned by exactly one window.
    if n:
        owned = [sum(owned_mask(n, wins, k)) for k in range(len(wins))]
        assert sum(owned) == n


def test_owner_is_the_window_farthest_from_an_edge():
    wins = plan_windows(10, 6, 2)  # [(0, 6), (4, 10)]
    assert wins == [(0, 6), (4, 10)]
    owners = window_owners(10, wins)
    assert owners[:4] == [0, 0, 0, 0] and owners[6:] == [1, 1, 1, 1]


def test_bad_window_settings():
    with pytest.raises(ValueError):
        plan_windows(10, 5, 5)


@pytest.mark.shared
def test_first_subword_carries_the_label(arabert_tokenizer):
    text = "قصفت قوات النظام قرية كفروما"
    words = tokenize(text)
    enc = encode_sentences(arabert_tokenizer, text, [(0, len(text))], [words])[0]
    pieces = arabert_tokenizer.convert_ids_to_tokens(enc.input_ids)
    assert pieces[-2:] == ["كفر", "##وما"]
    labels = subword_labels(enc, [0, 1, 2, 0, 3])
    assert labels[-2:] == [3, IGNORE]
    assert [lab for lab in labels if lab != IGNORE] == [0, 1, 2, 0, 3]


@pytest.mark.shared
def test_words_map_through_digits_and_diacritics(arabert_tokenizer):
    text = "في يونيو2021 قصفًا مدفعيًّا"
    words = tokenize(text)
    enc = encode_sentences(arabert_tokenizer, text, [(0, len(text))], [words])[0]
    assert enc.n_words == 4 and all(j >= 0 for j in enc.first_subword)
    assert sorted(set(enc.word_ids)) == [0, 1, 2, 3]
