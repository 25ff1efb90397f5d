"""An inline authoring format for annotated articles, compiled to canonical JSONL.

Writing character offsets by hand is error-prone; the shipped corpus is written in this
format and compiled (``marsad corpus build``). One file per article::

    # id: ye-taiz-2024-03-11
    # date: 2024-03-11
    # country: Yemen
    # style: wire

    {SHELLING} قصفت [[جماعة الحوثي|ACTOR]] أحياء في مدينة [[تعز|PLACE]] بقذائف [[الهاون|WEAPON]].
    {} وقال شهود إن الأهالي نزحوا.

    {DIPLOMACY ARMED_CLASH} ...

- ``# key: value`` lines before the first sentence are the id and ``meta``; other lines
  starting with ``#`` are comments.
- Every other non-blank line is one sentence: ``{EVENT EVENT ...}`` (``{}`` for none), a
  space, then the text with entities written ``[[surface|LABEL]]``.
- Sentences of a paragraph are joined with one space (with a newline after a line that ends
  without sentence punctuation, such as a list intro ending in ``:``); paragraphs (separated
  by blank lines) with a newline. Offsets are computed by the compiler.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from marsad.data.document import Article, Entity, Sentence
from marsad.data.schema import Schema
from marsad.data.text import split_sentences
from marsad.data.validate import Problem, article_problems

_HEADER = re.compile(r"^#\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_SENT = re.compile(r"^\{([^{}]*)\}\s?(.*)$")
_ENT = re.compile(r"\[\[([^\[\]|]+)\|([^\[\]|]+)\]\]")


def parse_markup(source: str, path: str = "<markup>", schema: Schema | None = None) -> tuple[Article | None, list[Problem]]:
    """Compile one markup article; returns the article (None if unusable) and all problems."""
    problems: list[Problem] = []
    meta: dict[str, object] = {}
    art_id: str | None = None
    paragraphs: list[list[tuple[int, list[str], str]]] = [[]]
    started = False

    def err(line: int | None, reason: str) -> None:
        problems.append(Problem(path, line, art_id, reason))

    for line_no, raw in enumerate(source.splitlines(), 1):
        line = raw.strip()
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        if line.startswith("#"):
            m = _HEADER.match(line)
            if m and not started:
                key, value = m.group(1), m.group(2)
                if key == "id":
                    art_id = value
                else:
                    meta[key] = value
            continue
        started = True
        m = _SENT.match(line)
        if not m:
            err(line_no, "sentence line must start with {EVENTS} (use {} for no event)")
            continue
        events = [e for e in re.split(r"[\s,]+", m.group(1).strip()) if e]
        body = m.group(2).strip()
        if not body:
            err(line_no, "empty sentence")
            continue
        paragraphs[-1].append((line_no, events, body))

    if not art_id:
        err(1, "missing '# id: ...' header")
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        err(None, "empty document: no sentences")
        return None, problems

    text_parts: list[str] = []
    entities: list[Entity] = []
    sentences: list[Sentence] = []
    sent_lines: list[int] = []
    pos = 0
    for pi, para in enumerate(paragraphs):
        if pi:
            text_parts.append("\n")
            pos += 1
        for si, (line_no, events, body) in enumerate(para):
            if si:
                # A line ending without sentence punctuation (a subheading, a list intro ending in ":")
                # is followed by a line break, as it would be laid out in a real article.
                sep = " " if re.search(r"[.!?؟؛…][\"'»”’)\]]*$", _ENT.sub(lambda m: m.group(1), para[si - 1][2])) else "\n"
                text_parts.append(sep)
                pos += 1
            start = pos
            last = 0
            for m in _ENT.finditer(body):
                chunk = body[last : m.start()]
                text_parts.append(chunk)
                pos += len(chunk)
                surface, label = m.group(1), m.group(2).strip()
                if surface != surface.strip():
                    err(line_no, f"entity [[{surface}|{label}]] has spaces inside its brackets")
                text_parts.append(surface)
                entities.append(Entity(pos, pos + len(surface), label))
                pos += len(surface)
                last = m.end()
            rest = body[last:]
            text_parts.append(rest)
            pos += len(rest)
            plain = _ENT.sub(lambda m: m.group(1), body)
            if re.search(r"\{[A-Z_ ,]*\}", plain):
                err(line_no, "two sentences on one line: a second {EVENTS} block inside the text")
            pieces = split_sentences(plain)
            if len(pieces) > 1:
                err(line_no, f"the line holds {len(pieces)} sentences for the splitter (a . ؟ ! ؛ before a space "
                             f"inside it: {plain[pieces[0].end - 12:pieces[0].end + 3]!r}); put one sentence per line")
            for bad in ("[[", "]]", "|"):
                if bad in _ENT.sub("", body):
                    err(line_no, f"stray {bad!r} outside a well-formed [[surface|LABEL]] entity")
            sentences.append(Sentence(start, pos, events))
            sent_lines.append(line_no)

    text = "".join(text_parts)
    article = Article(art_id or path, text, entities, sentences, meta)
    # Map article-level problems back to the source line of the sentence they concern.
    for reason in article_problems(article, schema):
        line = None
        mm = re.search(r"\[(\d+):(\d+)\]", reason)
        if mm:
            off = int(mm.group(1))
            for s, ln in zip(sentences, sent_lines):
                if s.start <= off < s.end:
                    line = ln
        err(line, reason)
    return article, problems


def read_markup(path: str | Path, schema: Schema | None = None) -> tuple[Article | None, list[Problem]]:
    p = Path(path)
    return parse_markup(p.read_text(encoding="utf-8"), str(p), schema)


def _main(argv: list[str]) -> int:
    """``python -m marsad.data.markup FILE...``: check markup files and print their counts."""
    from collections import Counter

    from marsad.data.schema import default_schema
    from marsad.data.text import tokenize

    schema = default_schema()
    bad = 0
    ents: Counter = Counter()
    evs: Counter = Counter()
    n_sent = n_words = no_event = 0
    for f in argv:
        art, probs = read_markup(f, schema)
        for p in probs:
            print(p)
        bad += len(probs)
        if art is None:
            continue
        words = sum(1 for t in tokenize(art.text) if t.text[0].isalnum())
        n_words += words
        n_sent += len(art.sentences or [])
        ents.update(e.label for e in art.entities)
        for s in art.sentences or []:
            evs.update(s.events or [])
            no_event += not s.events
        print(f"{f}: {len(art.sentences or [])} sentences, {words} words, {len(art.entities)} entities", file=sys.stderr)
    print(json.dumps({"files": len(argv), "problems": bad, "sentences": n_sent, "words": n_words,
                      "sentences_without_event": no_event, "entities": dict(ents), "events": dict(evs)},
                     ensure_ascii=False, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
