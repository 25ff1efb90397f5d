"""Spans <-> IOB2, scheme conversion and repair."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marsad.data.bio import bio_to_spans, repair_iob2, spans_to_bio, to_iob2
from marsad.data.document import Entity
from marsad.data.text import tokenize

WORDS = ["قوات", "النظام", "وإدلب", "قصفًا", "مدفعيًا", "«", "إم", "4", "»", "،", "M4", "الجيـــش", "في"]


@st.composite
def tokens_and_spans(draw):
    ws = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=25))
    text = " ".join(ws)
    toks = tokenize(text)
    spans, i = [], 0
    while i < len(toks):
        if draw(st.booleans()):
            j = min(len(toks) - 1, i + draw(st.integers(0, 3)))
            spans.append(Entity(toks[i].start, toks[j].end, draw(st.sampled_from(["ACTOR", "PLACE", "WEAPON"]))))
            i = j + 1 + draw(st.integers(0, 2))  # adjacent spans of the same type happen too
        else:
            i += 1
    return toks, spans


@given(tokens_and_spans())
@settings(max_examples=300, deadline=None)
def test_spans_bio_spans_identity(data):
    toks, spans = data
    tags = spans_to_bio(toks, spans)
    back = bio_to_spans(toks, tags)
    assert [(e.start, e.end, e.label) for e in back] == [(e.start, e.end, e.label) for e in spans]


@pytest.mark.parametrize(
    "tags, fixed, n",
    [
        (["O", "I-ACTOR", "I-ACTOR"], ["O", "B-ACTOR", "I-ACTOR"], 1),
        (["B-PLACE", "I-ACTOR"], ["B-PLACE", "B-ACTOR"], 1),
        (["I-WEAPON"], ["B-WEAPON"], 1),
        (["B-ACTOR", "I-ACTOR", "O"], ["B-ACTOR", "I-ACTOR", "O"], 0),
    ],
)
def test_repair(tags, fixed, n):
    assert repair_iob2(tags) == (fixed, n)


@pytest.mark.parametrize(
    "scheme, tags, expected",
    [
        ("iob1", ["I-PER", "I-PER", "B-PER", "O", "I-LOC"], ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]),
        ("bioes", ["S-PER", "B-LOC", "E-LOC", "O", "B-ORG", "I-ORG", "E-ORG"],
         ["B-PER", "B-LOC", "I-LOC", "O", "B-ORG", "I-ORG", "I-ORG"]),
        ("bilou", ["U-PER", "B-LOC", "L-LOC"], ["B-PER", "B-LOC", "I-LOC"]),
        ("iob2", ["B-PER", "I-PER"], ["B-PER", "I-PER"]),
    ],
)
def test_to_iob2(scheme, tags, expected):
    assert to_iob2(tags, scheme)[0] == expected


def test_span_scores_are_means():
    toks = tokenize("قوات النظام السوري")
    ents = bio_to_spans(toks, ["B-ACTOR", "I-ACTOR", "O"], [0.9, 0.7, 0.99])
    assert ents[0].score == pytest.approx(0.8)


def test_spans_off_token_boundaries_are_rejected():
    toks = tokenize("وإدلب")
    with pytest.raises(ValueError, match="token boundaries"):
        spans_to_bio(toks, [Entity(1, 5, "PLACE")])
