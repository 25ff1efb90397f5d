"""Streaming readers for article dumps: JSONL (plain or .gz), folders of .txt, CSV, Parquet.

Every record comes out as a ``DumpRecord`` (id, text, meta, where it came from) or a ``Reject``
(where, why, and the raw record). Nothing is held beyond the current record or Parquet batch,
so memory stays flat whatever the size of the dump.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

DUMP_FORMATS = ("auto", "jsonl", "txt", "csv", "parquet")


@dataclass
class DumpRecord:
    id: str
    text: str
    meta: dict[str, Any]
    source: str
    line: int


@dataclass
class Reject:
    source: str
    line: int | None
    reason: str
    raw: Any = None
    id: str | None = None

    def to_dict(self) -> dict:
        raw = self.raw
        if isinstance(raw, (bytes, bytearray)):
            raw = raw.decode("utf-8", "replace")
        return {"source": self.source, "line": self.line, "id": self.id, "reason": self.reason, "record": raw}


@dataclass
class DumpOptions:
    id_field: str = "id"
    text_field: str = "text"
    format: str = "auto"
    csv_delimiter: str = ","
    encoding: str = "utf-8"
    extra: dict = field(default_factory=dict)


def dump_format(path: Path, fmt: str = "auto") -> str:
    if fmt != "auto":
        return fmt
    if path.is_dir():
        return "txt"
    name = path.name.lower()
    for suffix, f in ((".jsonl", "jsonl"), (".jsonl.gz", "jsonl"), (".ndjson", "jsonl"), (".ndjson.gz", "jsonl"),
                      (".json.gz", "jsonl"), (".csv", "csv"), (".csv.gz", "csv"), (".tsv", "csv"), (".parquet", "parquet"),
                      (".txt", "txt")):
        if name.endswith(suffix):
            return f
    raise ValueError(f"{path}: unknown dump format (use .jsonl[.gz], .csv[.gz], .parquet, a .txt file or a folder "
                     "of .txt files, or --format)")


def _check(raw: Any, source: str, line: int, opts: DumpOptions) -> DumpRecord | Reject:
    if not isinstance(raw, dict):
        return Reject(source, line, f"record is a JSON {type(raw).__name__}, expected an object", raw)
    rid = raw.get(opts.id_field)
    if rid is None or (isinstance(rid, str) and not rid.strip()):
        return Reject(source, line, f"missing id (field {opts.id_field!r})", raw)
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        return Reject(source, line, f"id must be a string or integer, got {type(rid).__name__}", raw)
    rid = str(rid)
    if opts.text_field not in raw or raw[opts.text_field] is None:
        return Reject(source, line, f"missing text (field {opts.text_field!r})", raw, rid)
    text = raw[opts.text_field]
    if not isinstance(text, str):
        return Reject(source, line, f"text must be a string, got {type(text).__name__}", raw, rid)
    if not text.strip():
        return Reject(source, line, "empty text", raw, rid)
    meta = {k: v for k, v in raw.items() if k not in (opts.id_field, opts.text_field)}
    return DumpRecord(rid, text, meta, source, line)


def _iter_jsonl(path: Path, opts: DumpOptions) -> Iterator[DumpRecord | Reject]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                msg = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
                yield Reject(str(path), line_no, f"invalid JSON: {msg}", line.rstrip(b"\r\n"))
                continue
            yield _check(raw, str(path), line_no, opts)


def _iter_txt(path: Path, opts: DumpOptions) -> Iterator[DumpRecord | Reject]:
    files = sorted(p for p in path.rglob("*.txt")) if path.is_dir() else [path]
    for f in files:
        try:
            text = f.read_text(encoding=opts.encoding)
        except UnicodeDecodeError as err:
            yield Reject(str(f), 1, f"not {opts.encoding} text: {err}", None, f.stem)
            continue
        rel = str(f.relative_to(path)) if path.is_dir() else f.name
        rid = rel[: -len(".txt")] if rel.endswith(".txt") else rel
        yield _check({opts.id_field: rid, opts.text_field: text, "file": rel}, str(f), 1, opts)


def _iter_csv(path: Path, opts: DumpOptions) -> Iterator[DumpRecord | Reject]:
    raw_f = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
    delimiter = "\t" if path.name.endswith((".tsv", ".tsv.gz")) else opts.csv_delimiter
    with io.TextIOWrapper(raw_f, encoding=opts.encoding, newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        if reader.fieldnames is None:
            return
        for name in (opts.id_field, opts.text_field):
            if name not in reader.fieldnames:
                yield Reject(str(path), 1, f"no column {name!r} in the header {reader.fieldnames}")
                return
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield Reject(str(path), line, f"malformed CSV: {err}")
                continue
            if None in row:
                yield Reject(str(path), line, "more fields than the header", row.pop(None))
                continue
            yield _check(dict(row), str(path), line, opts)


def _iter_parquet(path: Path, opts: DumpOptions) -> Iterator[DumpRecord | Reject]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    row = 0
    for batch in pf.iter_batches(batch_size=1024):
        for raw in batch.to_pylist():
            row += 1
            yield _check(raw, str(path), row, opts)


def iter_dump(paths: Iterable[str | Path], opts: DumpOptions | None = None) -> Iterator[DumpRecord | Reject]:
    """All records of all inputs, in order (folders: sorted file names). Duplicate ids are not checked here."""
    opts = opts or DumpOptions()
    readers = {"jsonl": _iter_jsonl, "txt": _iter_txt, "csv": _iter_csv, "parquet": _iter_parquet}
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise FileNotFoundError(f"input not found: {path}")
        yield from readers[dump_format(path, opts.format)](path, opts)
