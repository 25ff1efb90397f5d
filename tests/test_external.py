"""Every CoNLL corpus under ../shared/data/external reads without error; counts match its PROVENANCE.md."""

from __future__ import annotations

from collections import Counter

import pytest

from marsad.data.conll import LABEL_MAPS, read_conll_with_problems
from marsad.data.schema import default_schema
from tests.conftest import EXTERNAL

pytestmark = pytest.mark.shared


def _counts(path, label_map=None):
    arts, problems = read_conll_with_problems(path, label_map=label_map)
    errors = [p for p in problems if p.severity == "error"]
    tokens = sum(len(a.text.split()) for a, _ in arts)
    sentences = sum(len(a.sentences or []) for a, _ in arts)
    return arts, errors, tokens, sentences


def _b_tags(path):
    """B- tags of the first tag column, counted straight from the file."""
    return Counter(line.split()[1][2:] for line in path.read_text(encoding="utf-8").splitlines()
                   if len(line.split()) > 1 and line.split()[1].startswith("B-"))


def _entities_match_tags(path, arts):
    """Entities = B- tags + stray I- tags repaired to B- (each repair is a warning naming its line)."""
    _, problems = read_conll_with_problems(path)
    repaired = Counter(p.reason.split("repaired to 'B-")[1].rstrip("'") for p in problems if "repaired to" in p.reason)
    assert Counter(e.label for a, _ in arts for e in a.entities) == _b_tags(path) + repaired


# (file, tokens, sentences, {type: B- count in the first tag column}) from each PROVENANCE.md
CASES = [
    ("anercorp_camel/ANERCorp_CamelLab_train.txt", 125102, 3973, {"LOC": 3776, "PERS": 2721, "ORG": 1576, "MISC": 888}),
    ("anercorp_camel/ANERCorp_CamelLab_test.txt", 25008, 925, {"LOC": 668, "PERS": 858, "ORG": 450, "MISC": 235}),
    # Wojood's PROVENANCE counts B- tags over all (nested) columns; marsad reads the outer one.
    ("wojood_sample/train.txt", 18887, 1114, None),
    ("wojood_sample/val.txt", 2743, 158, None),
    ("wojood_sample/test.txt", 5344, 357, None),
]


@pytest.mark.parametrize("name, n_tokens, n_sentences, b_counts", CASES)
def test_external_conll_reads(name, n_tokens, n_sentences, b_counts):
    path = EXTERNAL / name
    arts, errors, tokens, sentences = _counts(path)
    assert errors == []
    assert tokens == n_tokens and sentences == n_sentences
    if b_counts:
        assert dict(_b_tags(path)) == b_counts
    _entities_match_tags(path, arts)


def test_wojood_outer_column_counts():
    """Cross-check the outer-column reading against a plain count of the file's second column."""
    path = EXTERNAL / "wojood_sample/train.txt"
    arts, errors, _, _ = _counts(path)
    assert errors == []
    assert _b_tags(path).most_common(3) == [("DATE", 516), ("ORG", 485), ("GPE", 356)]
    _entities_match_tags(path, arts)


def test_aqmar_reads_with_typo_tags_normalised():
    files = sorted((EXTERNAL / "aqmar").glob("*.txt"))
    assert len(files) == 28
    tokens = sentences = 0
    b = Counter()
    for f in files:
        arts, errors, t, s = _counts(f)
        assert errors == [], errors[:3]
        tokens += t
        sentences += s
        b.update(_b_tags(f))
    assert tokens == 73853 and sentences == 2687
    assert (b["PER"], b["LOC"], b["ORG"]) == (1472, 1442, 456)
    assert (b["MIS0"], b["MIS1"], b["MIS2"], b["MIS3"]) == (156, 1676, 516, 125)


@pytest.mark.parametrize("name, preset", [("anercorp_camel/ANERCorp_CamelLab_test.txt", "anercorp"),
                                          ("wojood_sample/val.txt", "wojood")])
def test_label_maps_fit_the_default_schema(name, preset):
    arts, errors, _, _ = _counts(EXTERNAL / name, LABEL_MAPS[preset])
    assert errors == []
    labels = {e.label for a, _ in arts for e in a.entities}
    assert labels and labels <= set(default_schema().entity_labels)
