"""The word tokeniser and the sentence splitter (ANNOTATION.md units)."""

from __future__ import annotations

import pytest

from marsad.data.text import split_sentences, tokenize


def words(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("وإدلب", ["وإدلب"]),  # proclitics stay inside the word
        ("بمدينة سلمى، للقوات", ["بمدينة", "سلمى", "،", "للقوات"]),
        ("الجيـــش", ["الجيـــش"]),  # tatweel inside a word
        ("قصفًا مدفعيًّا", ["قصفًا", "مدفعيًّا"]),  # diacritics inside words
        ("«إم 4»", ["«", "إم", "4", "»"]),
        ("يونيو2021 M4 F-16", ["يونيو2021", "M4", "F", "-", "16"]),
        ("“الفتح المبين”؟", ["“", "الفتح", "المبين", "”", "؟"]),
        ("2.5 كم", ["2", ".", "5", "كم"]),
        ("a\u200fb", ["a", "b"]),  # a right-to-left mark separates like a space
    ],
)
def test_tokenize(text, expected):
    assert words(text) == expected


def test_token_offsets_slice_the_text():
    text = "جددت قوات النظام السوري، الأحد، قصفها على «إم 4»."
    for t in tokenize(text):
        assert text[t.start : t.end] == t.text


def test_tokenize_window_keeps_article_offsets():
    text = "أولاً. قصفت القوات إدلب."
    toks = tokenize(text, 7, len(text))
    assert toks[0].text == "قصفت" and toks[0].start == 7


def sents(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("قصفت القوات إدلب. وقتل مدنيان.", ["قصفت القوات إدلب.", "وقتل مدنيان."]),
        ("هل تتوقف المعارك؟ لا أحد يعرف!", ["هل تتوقف المعارك؟", "لا أحد يعرف!"]),
        ("اشتباكات في تعز؛ وقصف في مأرب.", ["اشتباكات في تعز؛", "وقصف في مأرب."]),
        ("العنوان\nالنص الأول.", ["العنوان", "النص الأول."]),
        ("بلغت الخسائر 2.5 مليون دولار. ثم عاد الهدوء.", ["بلغت الخسائر 2.5 مليون دولار.", "ثم عاد الهدوء."]),
        ("في 27.06.2021 اندلعت اشتباكات.", ["في 27.06.2021 اندلعت اشتباكات."]),
        ("قال د. أحمد إن الوضع خطير.", ["قال د. أحمد إن الوضع خطير."]),
        ("أعلنت U.N. هدنة جديدة. وبدأ التنفيذ.", ["أعلنت U.N. هدنة جديدة.", "وبدأ التنفيذ."]),
        ("قال: «انتهت المعركة.» ثم غادر.", ["قال: «انتهت المعركة.»", "ثم غادر."]),
        ("بوتين وأردوغان … هل سيتوقف التصعيد؟", ["بوتين وأردوغان … هل سيتوقف التصعيد؟"]),
        ("   ", []),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    assert sents(text) == expected


def test_splitter_reproduces_corpus_sentences(corpus_train):
    """The corpus gives one sentence per line; the splitter should find the same boundaries."""
    total = agree = 0
    for a in corpus_train:
        gold = [(s.start, s.end) for s in a.sentences]
        found = {(s.start, s.end) for s in split_sentences(a.text)}
        total += len(gold)
        agree += sum(g in found for g in gold)
    assert agree / total > 0.99, f"{agree}/{total}"
