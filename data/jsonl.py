"""The canonical annotated format: JSONL, one article a line (ANNOTATION.md)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from marsad.data.document import Article, Entity, Sentence
from marsad.data.schema import Schema
from marsad.data.validate import Problem, article_problems
from marsad.errors import DataFormatError


def open_text(path: str | Path, mode: str = "rt") -> IO[str]:
    """Open a text file, transparently gunzipping ``.gz``."""
    p = Path(path)
    if p.suffix == ".gz":
        return gzip.open(p, mode, encoding="utf-8")  # type: ignore[return-value]
    return open(p, mode, encoding="utf-8", newline="" if "w" in mode else None)


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(line number, decoded value)`` for each non-blank line; bad JSON is a ``DataFormatError`` naming the line."""
    with open_text(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(line)
            except json.JSONDecodeError as err:
                raise DataFormatError(path, line_no, f"bad JSON: {err.msg} at column {err.colno}") from err


def article_from_dict(d: Any) -> Article:
    """Build an Article from a parsed JSON object; ValueError says what is wrong."""
    if not isinstance(d, dict):
        raise ValueError(f"record is a JSON {type(d).__name__}, expected an object")
    if "id" not in d or d["id"] in (None, ""):
        raise ValueError("missing id")
    if not isinstance(d["id"], (str, int)) or isinstance(d["id"], bool):
        raise ValueError(f"id must be a string, got {type(d['id']).__name__}")
    if "text" not in d:
        raise ValueError("missing text")
    if not isinstance(d["text"], str):
        raise ValueError(f"text must be a string, got {type(d['text']).__name__}")
    ents = []
    for k, e in enumerate(d.get("entities") or []):
        if not isinstance(e, dict) or not {"start", "end", "label"} <= set(e):
            raise ValueError(f"entity {k} must be an object with start, end and label")
        if not all(isinstance(e[f], int) and not isinstance(e[f], bool) for f in ("start", "end")):
            raise ValueError(f"entity {k}: start and end must be integers, got {e['start']!r}, {e['end']!r}")
        if "text" in e and isinstance(e["text"], str) and 0 <= e["start"] <= e["end"] <= len(d["text"]):
            if d["text"][e["start"] : e["end"]] != e["text"]:
                raise ValueError(
                    f"entity {k} [{e['start']}:{e['end']}]: its text {e['text']!r} differs from the article's "
                    f"{d['text'][e['start']:e['end']]!r}"
                )
        ents.append(Entity(e["start"], e["end"], str(e["label"]), e.get("score")))
    sents = None
    if d.get("sentences") is not None:
        sents = []
        for k, s in enumerate(d["sentences"]):
            if not isinstance(s, dict) or not {"start", "end"} <= set(s):
                raise ValueError(f"sentence {k} must be an object with start and end")
            if not all(isinstance(s[f], int) and not isinstance(s[f], bool) for f in ("start", "end")):
                raise ValueError(f"sentence {k}: start and end must be integers")
            events = s.get("events")
            scores = s.get("scores")
            if events is not None:
                if not isinstance(events, list):
                    raise ValueError(f"sentence {k}: events must be a list")
                # Predictions carry [{"label", "score"}]; gold carries plain labels.
                events = [ev["label"] if isinstance(ev, dict) else ev for ev in events]
                if not all(isinstance(ev, str) for ev in events):
                    raise ValueError(f"sentence {k}: events must be label strings")
            sents.append(Sentence(s["start"], s["end"], events, scores))
    meta = d.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError("meta must be an object")
    return Article(str(d["id"]), d["text"], ents, sents, meta)


def iter_jsonl_with_problems(
    path: str | Path, schema: Schema | None = None
) -> Iterator[tuple[Article | None, int, list[Problem]]]:
    """Yield ``(article or None, line number, problems)`` for each non-blank line."""
    seen: dict[str, int] = {}
    with open_text(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as err:
                yield None, line_no, [Problem(str(path), line_no, None, f"bad JSON: {err.msg} at column {err.colno}")]
                continue
            rid = str(d.get("id")) if isinstance(d, dict) and d.get("id") not in (None, "") else None
            try:
                art = article_from_dict(d)
            except ValueError as err:
                yield None, line_no, [Problem(str(path), line_no, rid, str(err))]
                continue
            probs = [Problem(str(path), line_no, art.id, r) for r in article_problems(art, schema)]
            if art.id in seen:
                probs.append(Problem(str(path), line_no, art.id, f"duplicate id (first at line {seen[art.id]})"))
            else:
                seen[art.id] = line_no
            yield art, line_no, probs


def read_jsonl(path: str | Path, schema: Schema | None = None) -> list[Article]:
    """Read an annotated JSONL file; the first problem raises DataFormatError (use validate for all)."""
    out = []
    for art, line_no, probs in iter_jsonl_with_problems(path, schema):
        errors = [p for p in probs if p.severity == "error"]
        if errors:
            p = errors[0]
            more = f" (and {len(errors) - 1} more on this line; run `marsad validate {path}`)" if len(errors) > 1 else ""
            raise DataFormatError(path, line_no, p.reason + more, p.record_id)
        out.append(art)  # type: ignore[arg-type]
    return out


def write_jsonl(articles: Iterable[Article], path: str | Path, with_entity_text: bool = False) -> int:
    """Write articles as canonical JSONL; returns the count."""
    n = 0
    with open_text(path, "wt") as f:
        for a in articles:
            f.write(json.dumps(a.to_dict(with_entity_text), ensure_ascii=False) + "\n")
            n += 1
    return n
