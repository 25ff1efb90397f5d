"""Articles -> model windows (for training and inference) and window outputs -> words and sentences."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

from marsad.data.align import IGNORE, EncodedSentence, encode_sentences, plan_windows, subword_labels, window_owners
from marsad.data.bio import spans_to_bio
from marsad.data.document import Article
from marsad.data.schema import Schema
from marsad.data.text import Token, split_sentences, tokenize

logger = logging.getLogger(__name__)


@dataclass
class SentenceUnit:
    """One sentence of one article, tokenised into words and subwords, with its windows."""

    article: int
    index: int
    start: int
    end: int
    words: list[Token]
    enc: EncodedSentence
    windows: list[tuple[int, int]]
    owners: list[int] = field(default_factory=list)


@dataclass
class Window:
    """Model input for one window of one sentence (special tokens included)."""

    unit: int  # index into the list of SentenceUnits
    k: int  # window number within the sentence
    input_ids: list[int]
    labels: list[int] | None = None
    events: list[float] | None = None


def sentence_spans(article: Article) -> list[tuple[int, int]]:
    if article.sentences is not None:
        return [(s.start, s.end) for s in article.sentences]
    return [(s.start, s.end) for s in split_sentences(article.text)]


def units_for_articles(tokenizer: Any, articles: Sequence[tuple[str, list[tuple[int, int]]]], max_content: int,
                       stride: int) -> list[SentenceUnit]:
    """Tokenise every sentence of every ``(text, sentence spans)`` and plan its windows."""
    units: list[SentenceUnit] = []
    for ai, (text, spans) in enumerate(articles):
        words = [tokenize(text, s, e) for s, e in spans]
        for si, (sp, enc) in enumerate(zip(spans, encode_sentences(tokenizer, text, spans, words))):
            n = len(enc.input_ids)
            wins = plan_windows(n, max_content, stride)
            units.append(SentenceUnit(ai, si, sp[0], sp[1], words[si], enc, wins, window_owners(n, wins)))
    return units


def windows_for_units(units: Sequence[SentenceUnit], prefix: list[int], suffix: list[int]) -> list[Window]:
    out = []
    for ui, u in enumerate(units):
        for k, (s, e) in enumerate(u.windows):
            out.append(Window(ui, k, prefix + u.enc.input_ids[s:e] + suffix))
    return out


def training_windows(tokenizer: Any, articles: Sequence[Article], schema: Schema, prefix: list[int], suffix: list[int],
                     max_length: int, stride: int) -> tuple[list[SentenceUnit], list[Window], dict[str, int]]:
    """Labelled windows for training/evaluation; returns units, windows and counts (dropped entities...)."""
    max_content = max_length - len(prefix) - len(suffix)
    spans_per_article = [sentence_spans(a) for a in articles]
    units = units_for_articles(tokenizer, [(a.text, sp) for a, sp in zip(articles, spans_per_article)], max_content, stride)
    tag2id = schema.tag2id
    ev2id = schema.event2id
    by_article: dict[int, list[SentenceUnit]] = {}
    for u in units:
        by_article.setdefault(u.article, []).append(u)
    counts = {"entities": 0, "entities_outside_sentences": 0, "words_without_subwords": 0}
    windows: list[Window] = []
    ui = 0
    for ai, a in enumerate(articles):
        for u in by_article.get(ai, []):
            ents = [e for e in a.entities if u.start <= e.start and e.end <= u.end]
            counts["entities"] += len(ents)
            tags = spans_to_bio(u.words, ents)
            word_labels = [tag2id[t] for t in tags]
            sub = subword_labels(u.enc, word_labels)
            counts["words_without_subwords"] += sum(1 for j in u.enc.first_subword if j < 0)
            events = None
            if a.sentences is not None and a.sentences[u.index].events is not None:
                events = [0.0] * len(ev2id)
                for ev in a.sentences[u.index].events or []:
                    events[ev2id[ev]] = 1.0
            elif ev2id:
                events = [-1.0] * len(ev2id)
            for k, (s, e) in enumerate(u.windows):
                labels = [lab if u.owners[p] == k else IGNORE for p, lab in zip(range(s, e), sub[s:e])]
                windows.append(Window(ui, k, prefix + u.enc.input_ids[s:e] + suffix,
                                      [IGNORE] * len(prefix) + labels + [IGNORE] * len(suffix), events))
            ui += 1
        inside = sum(1 for e in a.entities if any(u.start <= e.start and e.end <= u.end for u in by_article.get(ai, [])))
        counts["entities_outside_sentences"] += len(a.entities) - inside
    if counts["entities_outside_sentences"]:
        logger.warning("%d entities cross a sentence boundary and are not trained on", counts["entities_outside_sentences"])
    return units, windows, counts
