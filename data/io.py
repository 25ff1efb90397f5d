"""Reading and writing annotated data by file extension (JSONL, CoNLL, markup)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from marsad.data.document import Article
from marsad.data.schema import Schema
from marsad.data.validate import Problem
from marsad.errors import DataFormatError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")
CONLL_SUFFIXES = (".conll", ".conllu", ".iob", ".bio", ".tsv", ".txt", ".conll.gz", ".txt.gz")


def file_format(path: str | Path) -> str:
    """``jsonl``, ``conll`` or ``markup`` from the file name (markup: ``.txt`` under a ``src`` folder
    or ``.mk``). Plain ``.txt`` is read as CoNLL, as public corpora ship it."""
    name = Path(path).name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".mk") or (name.endswith(".txt") and "src" in Path(path).parts and _looks_like_markup(path)):
        return "markup"
    if name.endswith(CONLL_SUFFIXES):
        return "conll"
    raise DataFormatError(path, None, "unknown file type: use .jsonl[.gz] or .conll/.txt (CoNLL)")


def _looks_like_markup(path: str | Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith("# id:")
    except (OSError, UnicodeDecodeError):
        return False


def read_any_with_problems(
    path: str | Path, schema: Schema | None = None, label_map: dict | None = None, scheme: str = "auto"
) -> tuple[list[tuple[Article, int]], list[Problem]]:
    """Articles (with their source line) and every problem, whatever the format."""
    p = Path(path)
    if not p.is_file():
        return [], [Problem(str(p), None, None, "file not found")]
    fmt = file_format(p)
    if fmt == "jsonl":
        from marsad.data.jsonl import iter_jsonl_with_problems

        arts, probs = [], []
        for art, line, pr in iter_jsonl_with_problems(p, schema):
            probs += pr
            if art is not None:
                arts.append((art, line))
        return arts, probs
    if fmt == "markup":
        from marsad.data.markup import read_markup

        art, probs = read_markup(p, schema)
        return ([(art, 1)] if art is not None else []), probs
    from marsad.data.conll import read_conll_with_problems

    return read_conll_with_problems(p, schema, scheme=scheme, label_map=label_map)


def read_articles(
    path: str | Path, schema: Schema | None = None, label_map: dict | None = None, scheme: str = "auto"
) -> list[Article]:
    """Read annotated articles from any supported file; the first error raises DataFormatError."""
    arts, probs = read_any_with_problems(path, schema, label_map, scheme)
    errors = [p for p in probs if p.severity == "error"]
    if errors:
        e = errors[0]
        more = f" (and {len(errors) - 1} more errors; run `marsad validate {path}`)" if len(errors) > 1 else ""
        raise DataFormatError(e.path, e.line, e.reason + more, e.record_id)
    return [a for a, _ in arts]


def write_articles(articles: Iterable[Article], path: str | Path) -> int:
    """Write articles as JSONL or CoNLL (IOB2), by extension."""
    fmt = file_format(path) if not str(path).endswith(".txt") else "conll"
    if fmt == "jsonl":
        from marsad.data.jsonl import write_jsonl

        return write_jsonl(articles, path)
    from marsad.data.conll import write_conll

    return write_conll(articles, path)
