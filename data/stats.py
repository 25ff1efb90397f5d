"""Corpus statistics: articles, sentences, tokens, entities per label, sentences per event."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from marsad.data.document import Article
from marsad.data.text import tokenize


def compute_stats(articles: Iterable[Article]) -> dict:
    """Counts over ``articles``, as ``marsad stats`` prints them."""
    n_art = n_sent = n_tok = n_words = no_event = annotated = multi = 0
    ents: Counter = Counter()
    evs: Counter = Counter()
    words_per_article: list[int] = []
    for a in articles:
        n_art += 1
        toks = tokenize(a.text)
        n_tok += len(toks)
        w = sum(1 for t in toks if t.text[0].isalnum())
        n_words += w
        words_per_article.append(w)
        ents.update(e.label for e in a.entities)
        for s in a.sentences or []:
            n_sent += 1
            if s.events is None:
                continue
            annotated += 1
            evs.update(s.events)
            no_event += not s.events
            multi += len(s.events) > 1
    return {
        "articles": n_art,
        "sentences": n_sent,
        "sentences_with_event_annotation": annotated,
        "tokens": n_tok,
        "words": n_words,
        "articles_700_plus_words": sum(w >= 700 for w in words_per_article),
        "entities": dict(sorted(ents.items())),
        "entities_total": sum(ents.values()),
        "sentences_per_event": dict(sorted(evs.items())),
        "sentences_without_event": no_event,
        "sentences_with_several_events": multi,
    }


def format_stats(name: str, st: dict) -> str:
    """A plain-text table of one file's statistics."""
    lines = [f"{name}",
             f"  articles {st['articles']:>8}   sentences {st['sentences']:>7}   tokens {st['tokens']:>8}   "
             f"words {st['words']:>8}   700+ word articles {st['articles_700_plus_words']}"]
    if st["entities"]:
        lines.append("  entities  " + "   ".join(f"{k} {v}" for k, v in st["entities"].items()) +
                     f"   (total {st['entities_total']})")
    if st["sentences_with_event_annotation"]:
        lines.append("  sentences per event type:")
        for k, v in st["sentences_per_event"].items():
            lines.append(f"    {k:<28}{v:>6}")
        pct = 100 * st["sentences_without_event"] / max(1, st["sentences_with_event_annotation"])
        lines.append(f"    {'(no event)':<28}{st['sentences_without_event']:>6}  ({pct:.1f}%)")
        lines.append(f"    {'(two or more types)':<28}{st['sentences_with_several_events']:>6}")
    return "\n".join(lines)
