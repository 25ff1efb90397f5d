"""CoNLL reading and writing (IOB1, IOB2 and BIOES in; IOB2 out).

One ``token tag [extra columns]`` per line (tab- or space-separated), a blank line between
sentences, ``# id = ...`` or ``-DOCSTART-`` between documents, an optional
``# events = A|B`` before a sentence. marsad's writer adds the CoNLL-U comments
``# text = ...`` (the sentence as written) and ``# gap = "..."`` (the JSON-quoted text between
sentences, when it is not one space) so JSONL -> CoNLL -> JSONL restores the exact text and
offsets. Files without ``# text`` are rebuilt by joining tokens with spaces.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from marsad.data.bio import bio_to_spans, spans_to_bio, split_tag, to_iob2
from marsad.data.document import Article, Sentence
from marsad.data.jsonl import open_text
from marsad.data.schema import Schema
from marsad.data.text import Token, split_sentences, tokenize
from marsad.data.validate import Problem, article_problems
from marsad.errors import DataFormatError

# Label maps from public Arabic NER corpora onto marsad's default schema. A type that a map does not
# list (or maps to ``None``) is dropped.
LABEL_MAPS: dict[str, dict[str, str | None]] = {
    "anercorp": {"PERS": "ACTOR", "ORG": "ACTOR", "LOC": "PLACE", "MISC": None},
    "aqmar": {"PER": "ACTOR", "ORG": "ACTOR", "LOC": "PLACE"},  # MIS0..MIS3 and typo tags dropped
    "wojood": {"PERS": "ACTOR", "ORG": "ACTOR", "GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE"},
}


@dataclass
class _RawSentence:
    line: int
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    tag_lines: list[int] = field(default_factory=list)
    events: list[str] | None = None
    text: str | None = None
    gap: str | None = None


@dataclass
class _RawDoc:
    id: str | None
    line: int
    meta: dict = field(default_factory=dict)
    sentences: list[_RawSentence] = field(default_factory=list)
    tail: str = ""


_TAG_SHAPE = re.compile(r"^(O|[BIESLU]-+\S+|IO|OO)$")


def _is_token_line(stripped: str) -> bool:
    """A line starting with '#' is a token (a '#' in the text) when it reads 'token tag' and is no
    '# key = value' comment; public corpora contain such lines ('# O')."""
    cols = stripped.split("\t") if "\t" in stripped else stripped.split()
    return len(cols) >= 2 and "=" not in cols[1:2] and cols[1:2] != ["="] and bool(_TAG_SHAPE.match(cols[1])) and not (
        len(cols) >= 3 and cols[2] == "="
    )


def _fix_tag(tag: str) -> tuple[str, str | None]:
    """Normalise a few malformed tags seen in public corpora; returns (tag, warning or None)."""
    if tag in ("O", "0"):
        return "O", None if tag == "O" else f"tag {tag!r} read as O"
    if tag in ("IO", "OO", "-", "_"):
        return "O", f"malformed tag {tag!r} read as O"
    if "-" not in tag:
        return "O", f"malformed tag {tag!r} read as O"
    prefix, _, label = tag.partition("-")
    clean = label.strip("-")
    if prefix.upper() in ("B", "I", "E", "S", "L", "U") and clean:
        fixed = f"{prefix.upper()}-{clean}"
        return fixed, None if fixed == tag else f"malformed tag {tag!r} read as {fixed!r}"
    return "O", f"malformed tag {tag!r} read as O"


def _parse(path: Path, tag_column: int) -> tuple[list[_RawDoc], list[Problem]]:
    problems: list[Problem] = []
    docs: list[_RawDoc] = []
    doc: _RawDoc | None = None
    sent: _RawSentence | None = None
    pending_events: list[str] | None = None
    pending_text: str | None = None
    pending_gap: str | None = None

    def new_doc(doc_id: str | None, line: int) -> _RawDoc:
        d = _RawDoc(doc_id, line)
        docs.append(d)
        return d

    def end_sentence() -> None:
        nonlocal sent
        if sent is not None and sent.tokens:
            nonlocal doc
            if doc is None:
                doc = new_doc(None, sent.line)
            doc.sentences.append(sent)
        sent = None

    with open_text(path) as f:
        for line_no, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            stripped = line.strip()
            if not stripped:
                end_sentence()
                continue
            if stripped.startswith("-DOCSTART-"):
                end_sentence()
                doc = new_doc(None, line_no)
                continue
            if stripped.startswith("#") and not _is_token_line(stripped):
                key, sep, value = stripped[1:].partition("=")
                key = key.strip()
                value = value.strip()
                if sep and key == "id":
                    end_sentence()
                    doc = new_doc(value, line_no)
                    continue
                if sep and key == "events":
                    pending_events = [e.strip() for e in value.split("|") if e.strip()]
                    continue
                if sep and key == "text":
                    # Keep the sentence exactly: only the one space after "=" is syntax.
                    pending_text = line.split("=", 1)[1][1:].rstrip("\r\n")
                    continue
                if sep and key in ("gap", "tail", "meta"):
                    try:
                        val = json.loads(value)
                    except json.JSONDecodeError as err:
                        problems.append(Problem(str(path), line_no, doc.id if doc else None,
                                                f"# {key} must hold JSON: {err.msg}"))
                        continue
                    if key == "gap":
                        pending_gap = val
                    elif doc is not None and key == "tail":
                        doc.tail = val
                    elif key == "meta":
                        if doc is None:
                            doc = new_doc(None, line_no)
                        doc.meta = val if isinstance(val, dict) else {"meta": val}
                    continue
                continue  # other comments (CoNLL-U sent_id, notes) are ignored
            cols = stripped.split("\t") if "\t" in stripped else stripped.split()
            if len(cols) < 2:
                problems.append(Problem(str(path), line_no, doc.id if doc else None,
                                        f"expected 'token<TAB>tag', got {stripped!r}"))
                continue
            if sent is None:
                sent = _RawSentence(line_no, events=pending_events, text=pending_text, gap=pending_gap)
                pending_events = pending_text = pending_gap = None
            try:
                tag = cols[tag_column]
            except IndexError:
                problems.append(Problem(str(path), line_no, doc.id if doc else None,
                                        f"no tag column {tag_column} in {stripped!r}"))
                continue
            tag, warn = _fix_tag(tag)
            if warn:
                problems.append(Problem(str(path), line_no, doc.id if doc else None, warn, "warning"))
            sent.tokens.append(cols[0])
            sent.tags.append(tag)
            sent.tag_lines.append(line_no)
    end_sentence()
    return [d for d in docs if d.sentences], problems


def _detect_scheme(docs: list[_RawDoc]) -> str:
    prefixes: Counter = Counter()
    starts_with_i = starts = 0
    for d in docs:
        for s in d.sentences:
            prev = None
            for t in s.tags:
                p, lab = split_tag(t)
                prefixes[p] += 1
                if p != "O" and (prev is None or prev[1] != lab or prev[0] in ("E", "S", "L", "U")):
                    starts += 1
                    starts_with_i += p == "I"
                prev = (p, lab)
    if prefixes["E"] or prefixes["S"] or prefixes["L"] or prefixes["U"]:
        return "bioes"
    # IOB1 and broken IOB2 read the same; call a file IOB1 (no per-tag warnings) only when most of
    # many entities start with I-.
    if starts >= 20 and starts_with_i / starts > 0.5:
        return "iob1"
    return "iob2"


def read_conll_with_problems(
    path: str | Path,
    schema: Schema | None = None,
    scheme: str = "auto",
    label_map: dict[str, str | None] | None = None,
    tag_column: int = 1,
) -> tuple[list[tuple[Article, int]], list[Problem]]:
    """Read a CoNLL file into articles; returns ``[(article, line)]`` and every problem found.

    ``label_map`` renames entity types; types it does not list (or maps to ``None``) are dropped. ``scheme`` is ``iob1``, ``iob2``,
    ``bioes`` or ``auto``. A stray ``I-`` under IOB2 is repaired to ``B-`` with a warning.
    Files without document markers become one article per sentence.
    """
    path = Path(path)
    docs, problems = _parse(path, tag_column)
    if scheme == "auto":
        scheme = _detect_scheme(docs)
    one_per_sentence = all(d.id is None for d in docs) and len(docs) == 1 and len(docs[0].sentences) > 1
    if one_per_sentence:
        docs = [_RawDoc(None, s.line, {}, [s]) for s in docs[0].sentences]
    out: list[tuple[Article, int]] = []
    seen: dict[str, int] = {}
    for n, d in enumerate(docs, 1):
        doc_id = d.id or f"{path.stem}-{n:05d}"
        text_parts: list[str] = []
        pos = 0
        entities = []
        sentences: list[Sentence] = []
        for k, s in enumerate(d.sentences):
            tags, fixed = to_iob2(s.tags, scheme)
            if fixed:
                for t_old, t_new, ln in zip(s.tags, tags, s.tag_lines):
                    if t_old != t_new:
                        problems.append(Problem(str(path), ln, doc_id,
                                                f"tag {t_old!r} follows a tag of another entity or O "
                                                f"(IOB2 requires B- first); repaired to {t_new!r}", "warning"))
            if label_map is not None:
                mapped = []
                for t in tags:
                    p, lab = split_tag(t)
                    new = label_map.get(lab) if lab is not None else None  # unmapped types are dropped
                    mapped.append("O" if new is None else f"{p}-{new}")
                tags, _ = to_iob2(mapped, "iob2")  # dropping a type can leave I- after O
            gap = s.gap if s.gap is not None else ("" if k == 0 else ("\n" if s.text is None else " "))
            text_parts.append(gap)
            pos += len(gap)
            if s.text is not None:
                sent_text = s.text
                toks = tokenize(sent_text)
                if [t.text for t in toks] != s.tokens:
                    problems.append(Problem(str(path), s.line, doc_id,
                                            "# text does not match the sentence's tokens; rebuilt from tokens", "warning"))
                    sent_text = " ".join(s.tokens)
            else:
                sent_text = " ".join(s.tokens)
            toks = _locate(sent_text, s.tokens, pos)
            text_parts.append(sent_text)
            start = pos
            pos += len(sent_text)
            entities += bio_to_spans(toks, tags)
            sentences.append(Sentence(start, pos, s.events))
        text_parts.append(d.tail)
        text = "".join(text_parts)
        has_events = any(s.events is not None for s in d.sentences)
        art = Article(doc_id, text, entities, sentences if (has_events or len(sentences) > 0) else None, d.meta)
        if not has_events:
            for s in art.sentences or []:
                s.events = None
        for reason in article_problems(art, schema):
            if ("span cuts a token" in reason or "on one side only" in reason) and not any(s.text for s in d.sentences):
                # Pre-tokenised corpora split some words marsad keeps whole (e.g. "2.5"); harmless here.
                problems.append(Problem(str(path), d.line, doc_id, reason, "warning"))
            else:
                problems.append(Problem(str(path), d.line, doc_id, reason))
        if doc_id in seen:
            problems.append(Problem(str(path), d.line, doc_id, f"duplicate id (first at line {seen[doc_id]})"))
        seen.setdefault(doc_id, d.line)
        out.append((art, d.line))
    return out, problems


def _locate(text: str, tokens: list[str], offset: int) -> list[Token]:
    """Tokens with offsets (into the article) found in order in ``text``."""
    out = []
    pos = 0
    for tok in tokens:
        i = text.find(tok, pos)
        if i < 0:
            raise DataFormatError(None, None, f"token {tok!r} not found in sentence text {text!r}")
        out.append(Token(tok, offset + i, offset + i + len(tok)))
        pos = i + len(tok)
    return out


def read_conll(path: str | Path, schema: Schema | None = None, scheme: str = "auto",
               label_map: dict[str, str | None] | None = None, tag_column: int = 1) -> list[Article]:
    """Read a CoNLL file; the first error raises DataFormatError (warnings are logged)."""
    import logging

    arts, problems = read_conll_with_problems(path, schema, scheme, label_map, tag_column)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        p = errors[0]
        raise DataFormatError(p.path, p.line, p.reason, p.record_id)
    warnings = [p for p in problems if p.severity == "warning"]
    if warnings:
        logging.getLogger(__name__).warning("%s: %d tags repaired or normalised, e.g. %s", path, len(warnings), warnings[0])
    return [a for a, _ in arts]


def write_conll(articles: Iterable[Article], path: str | Path) -> int:
    """Write IOB2 CoNLL with ``# id``, ``# meta``, ``# events``, ``# text`` and ``# gap`` lines."""
    n = 0
    with open_text(path, "wt") as f:
        for a in articles:
            n += 1
            f.write(f"# id = {a.id}\n")
            if a.meta:
                f.write(f"# meta = {json.dumps(a.meta, ensure_ascii=False)}\n")
            sents = a.sentences
            if sents is None:
                sents = [Sentence(s.start, s.end, None) for s in split_sentences(a.text)]
            prev_end = 0
            for k, s in enumerate(sents):
                toks = tokenize(a.text, s.start, s.end)
                if not toks:
                    continue
                ents = [e for e in a.entities if s.start <= e.start and e.end <= s.end]
                tags = spans_to_bio(toks, ents)
                gap = a.text[prev_end : s.start]
                if gap != (" " if k else ""):
                    f.write(f"# gap = {json.dumps(gap, ensure_ascii=False)}\n")
                if s.events is not None:
                    f.write(f"# events = {'|'.join(s.events)}\n")
                f.write(f"# text = {a.text[s.start:s.end]}\n")
                for t, tag in zip(toks, tags):
                    f.write(f"{t.text}\t{tag}\n")
                f.write("\n")
                prev_end = s.end
            tail = a.text[prev_end:]
            if tail:
                f.write(f"# tail = {json.dumps(tail, ensure_ascii=False)}\n\n")
    return n
