"""Validation of annotated data: every problem of a file, each naming file, line, record and reason."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from marsad.data.document import Article
from marsad.data.schema import Schema
from marsad.data.text import tokenize


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``error``) or repaired/suspicious (``warning``) in an input file."""

    path: str
    line: int | None
    record_id: str | None
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line is not None else "")
        rid = f" [{self.record_id}]" if self.record_id else ""
        return f"{where}:{rid} {self.severity}: {self.reason}"


_PAIRS = {"«": "»", "“": "”", "(": ")", "[": "]", "‘": "’"}


def _unbalanced_quote(surface: str) -> str | None:
    for o, c in _PAIRS.items():
        if surface.count(o) != surface.count(c):
            return o if surface.count(o) > surface.count(c) else c
    if surface.count('"') % 2:
        return '"'
    return None


def article_problems(article: Article, schema: Schema | None = None) -> list[str]:
    """Reasons why ``article`` breaks the annotation contract (empty list when it is clean)."""
    out: list[str] = []
    text = article.text
    n = len(text)
    if not text.strip():
        return ["empty document: text has no content"]
    tokens = tokenize(text)
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]
    start_set, end_set = set(starts), set(ends)

    prev = None
    for k, e in enumerate(sorted(article.entities, key=lambda e: (e.start, e.end))):
        desc = f"entity {e.label} [{e.start}:{e.end}]"
        if not (isinstance(e.start, int) and isinstance(e.end, int)):
            out.append(f"{desc}: offsets must be integers")
            continue
        if e.start < 0 or e.end > n or e.start >= e.end:
            out.append(f"{desc}: offsets out of range (text has {n} characters)")
            continue
        surface = text[e.start : e.end]
        desc += f" {surface!r}"
        if schema is not None and e.label not in schema.entity_labels:
            out.append(f"{desc}: unknown entity label {e.label!r} (schema has {list(schema.entity_labels)})")
        if e.start not in start_set or e.end not in end_set:
            i = bisect.bisect_right(starts, e.start) - 1
            j = bisect.bisect_left(ends, e.end)
            ctx_s = starts[i] if i >= 0 else e.start
            ctx_e = ends[j] if j < len(ends) else e.end
            out.append(f"{desc}: span cuts a token (the words are {text[ctx_s:ctx_e]!r}); spans start and end on token boundaries")
        unbalanced = _unbalanced_quote(surface)
        if unbalanced:
            out.append(f"{desc}: {unbalanced!r} inside the span on one side only (quotes belong inside a span only "
                       "when the name is quoted on both sides)")
        if prev is not None and e.start < prev.end:
            out.append(f"{desc}: overlaps entity {prev.label} [{prev.start}:{prev.end}] {text[prev.start:prev.end]!r}")
        if prev is None or e.end > prev.end:
            prev = e

    if article.sentences is not None:
        last_end = 0
        for k, s in enumerate(article.sentences):
            desc = f"sentence {k} [{s.start}:{s.end}]"
            if s.start < 0 or s.end > n or s.start >= s.end:
                out.append(f"{desc}: offsets out of range (text has {n} characters)")
                continue
            if s.start < last_end:
                out.append(f"{desc}: sentences out of order or overlapping (previous sentence ends at {last_end})")
            last_end = max(last_end, s.end)
            if not text[s.start : s.end].strip():
                out.append(f"{desc}: empty sentence")
            for ev in s.events or []:
                if schema is not None and ev not in schema.event_labels:
                    out.append(f"{desc}: unknown event label {ev!r} (schema has {list(schema.event_labels)})")
            if s.events is not None and len(set(s.events)) != len(s.events):
                out.append(f"{desc}: repeated event label in {s.events}")
        bounds = [(s.start, s.end) for s in article.sentences]
        for e in article.entities:
            inside = any(a <= e.start and e.end <= b for a, b in bounds)
            if not inside and 0 <= e.start < e.end <= n:
                out.append(f"entity {e.label} [{e.start}:{e.end}] {text[e.start:e.end]!r}: not inside one sentence")
    return out


def format_problems(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def validate_files(paths: list[str | Path], schema: Schema | None = None) -> list[Problem]:
    """All problems of every file (JSONL, CoNLL or markup, by extension); none means clean."""
    from marsad.data.io import read_any_with_problems

    problems: list[Problem] = []
    seen_ids: dict[str, str] = {}
    for path in paths:
        articles, probs = read_any_with_problems(path, schema=schema)
        problems += probs
        for art, line in articles:
            where = f"{path}:{line}"
            if art.id in seen_ids:
                problems.append(Problem(str(path), line, art.id, f"duplicate id (first seen at {seen_ids[art.id]})"))
            else:
                seen_ids[art.id] = where
    return problems
