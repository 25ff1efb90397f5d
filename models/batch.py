"""Batch inference over article dumps (``marsad tag``): ordered, durable, resumable output.

Output and rejects are written in input order, one line per input record, each line flushed
as soon as its buffer of articles is tagged. After a crash or ``kill -9`` both files hold a
prefix of that sequence, at most with a partial last line; ``resume`` drops a partial line,
counts the complete ones and skips that many input records, so the final files equal an
uninterrupted run's with nothing missing or written twice.

A resumed run replays the input from its start without tagging what is done, so its buffers
hold exactly the articles they held in the first run: the interrupted buffer is tagged whole
again and only its unwritten records are written. Batches (and so padding, and so the last
bits of every score) are the same as in an uninterrupted run, and the files are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, TextIO

from marsad.data.dumps import DumpOptions, DumpRecord, Reject, iter_dump
from marsad.data.text import tokenize
from marsad.errors import DataFormatError, MarsadError

logger = logging.getLogger(__name__)


@dataclass
class TagSummary:
    articles: int = 0
    words: int = 0
    entities: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    rejects: Counter = field(default_factory=Counter)
    resumed_after: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"articles": self.articles, "words": self.words, "entities": dict(sorted(self.entities.items())),
                "events": dict(sorted(self.events.items())), "rejects": sum(self.rejects.values()),
                "rejects_by_reason": dict(self.rejects), "resumed_after_records": self.resumed_after,
                "seconds": round(self.seconds, 2),
                "articles_per_second": round(self.articles / self.seconds, 2) if self.seconds else None,
                "words_per_second": round(self.words / self.seconds, 1) if self.seconds else None}

    def format(self) -> str:
        d = self.to_dict()
        lines = [f"tagged {d['articles']} articles ({d['words']} words) in {d['seconds']} s"
                 + (f" = {d['articles_per_second']} articles/s, {d['words_per_second']} words/s" if self.seconds else "")]
        if self.resumed_after:
            lines.append(f"resumed after {self.resumed_after} records already done")
        lines.append("entities: " + (", ".join(f"{k} {v}" for k, v in d["entities"].items()) or "none"))
        lines.append("events:   " + (", ".join(f"{k} {v}" for k, v in d["events"].items()) or "none"))
        lines.append(f"rejects:  {d['rejects']}" + (" (" + ", ".join(f"{k}: {v}" for k, v in d["rejects_by_reason"].items())
                                                   + ")" if d["rejects"] else ""))
        return "\n".join(lines)


def _complete_lines(path: Path) -> int:
    """Count complete lines, truncating a partial last line (a crash mid-write) in place."""
    if not path.exists():
        return 0
    with open(path, "rb+") as f:
        data_end = f.seek(0, os.SEEK_END)
        if data_end == 0:
            return 0
        # Find the last newline from the end without reading the whole file.
        pos = data_end
        chunk = 1 << 16
        last_nl = -1
        while pos > 0 and last_nl < 0:
            start = max(0, pos - chunk)
            f.seek(start)
            buf = f.read(pos - start)
            i = buf.rfind(b"\n")
            if i >= 0:
                last_nl = start + i
            pos = start
        keep = last_nl + 1
        if keep < data_end:
            logger.warning("%s: dropping a partial last line (%d bytes) left by an interrupted run", path, data_end - keep)
            f.truncate(keep)
        f.seek(0)
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))


def _id_key(rid: str) -> int:
    # 8-byte digests keep the duplicate index small (about 70 bytes per article in a Python set).
    return int.from_bytes(hashlib.blake2b(rid.encode("utf-8"), digest_size=8).digest(), "little")


def rejects_path(out: Path) -> Path:
    name = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(name + ".rejects.jsonl")


def tag_dump(tagger, inputs: Iterable[str | Path], out: str | Path, opts: DumpOptions | None = None,
             resume: bool = False, strict: bool = False, progress: bool = True, stderr: TextIO | None = None,
             max_records: int | None = None) -> TagSummary:
    """Tag every record of ``inputs`` into ``out`` (JSONL), bad records into ``OUT.rejects.jsonl``."""
    opts = opts or DumpOptions()
    out = Path(out)
    rej_path = rejects_path(out)
    stderr = stderr or sys.stderr
    if out.exists() and not resume:
        raise MarsadError(f"{out} exists: pass --resume to continue it, or remove it to start over")
    summary = TagSummary()
    done = 0
    seen: set[int] = set()
    if resume:
        done = _complete_lines(out) + _complete_lines(rej_path)
        summary.resumed_after = done
        logger.info("resuming %s after %d records", out, done)
    out.parent.mkdir(parents=True, exist_ok=True)
    f_out = open(out, "a", encoding="utf-8")
    f_rej = None

    def write_reject(r: Reject) -> None:
        nonlocal f_rej
        if strict:
            raise DataFormatError(r.source, r.line, r.reason, r.id)
        if f_rej is None:
            f_rej = open(rej_path, "a", encoding="utf-8")
        f_rej.write(json.dumps(r.to_dict(), ensure_ascii=False, default=str) + "\n")
        f_rej.flush()
        summary.rejects[r.reason.split(":")[0].split(" (")[0]] += 1

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="tagging", unit=" articles", file=stderr, dynamic_ncols=True)
    t0 = time.time()
    pending: list[tuple[int, DumpRecord | Reject]] = []

    def flush() -> None:
        if not pending or pending[-1][0] <= done:  # written before the resume: replayed, not tagged
            pending.clear()
            return
        good = [r for _, r in pending if isinstance(r, DumpRecord)]
        results = iter(tagger.tag_records(good)) if good else iter(())
        for k, r in pending:
            if isinstance(r, Reject):
                if k > done:
                    write_reject(r)
                continue
            res = next(results)
            if k <= done:
                continue
            # The record's source fields pass through in meta, untouched.
            f_out.write(json.dumps(res, ensure_ascii=False, default=str) + "\n")
            summary.articles += 1
            n_words = sum(1 for t in tokenize(r.text) if t.text[0].isalnum())
            summary.words += n_words
            summary.entities.update(e["label"] for e in res["entities"])
            summary.events.update(e for s in res["sentences"] for e in (ev["label"] for ev in s["events"]))
            if bar is not None:
                bar.update(1)
        f_out.flush()
        if bar is not None:
            el = max(time.time() - t0, 1e-9)
            bar.set_postfix_str(f"{summary.words / el:,.0f} words/s, {sum(summary.rejects.values())} rejects")
        pending.clear()

    try:
        n = n_good = 0
        buffer_articles = getattr(tagger, "buffer_articles", 256)
        for item in iter_dump(inputs, opts):
            n += 1
            if max_records is not None and n > max_records:
                break
            if isinstance(item, DumpRecord):
                key = _id_key(item.id)
                if key in seen:
                    item = Reject(item.source, item.line, "duplicate id", {"id": item.id}, item.id)
                else:
                    seen.add(key)
                    n_good += 1
            pending.append((n, item))
            if n_good >= buffer_articles or len(pending) >= 4 * buffer_articles:
                flush()
                n_good = 0
        flush()
    finally:
        f_out.close()
        if f_rej is not None:
            f_rej.close()
        if bar is not None:
            bar.close()
    summary.seconds = time.time() - t0
    return summary
