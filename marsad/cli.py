"""The ``marsad`` command line: a thin layer over plain functions that tests and notebooks call.

    marsad validate FILE...              check annotated files; exit 1 listing every error
    marsad convert IN OUT                JSONL <-> CoNLL by extension
    marsad stats FILE...                 counts per file
    marsad audit FILE...                 inconsistent labels and missing event types
    marsad corpus build|split            compile the shipped corpus from its sources
    marsad train --config FILE [--k v]   train the joint model
    marsad tag INPUT... --model DIR -o OUT.jsonl
    marsad score --gold GOLD --pred PRED
    marsad evaluate --model DIR --data GOLD [--out DIR]
    marsad compare PRED_A PRED_B --gold GOLD
    marsad fetch-offline-encoder DIR

Exit codes: 0 success, 1 bad input (one ``file:line: reason`` per problem), 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from marsad import __version__
from marsad.errors import MarsadError

logger = logging.getLogger("marsad")


def _label_map(spec: str | None) -> dict[str, str | None] | None:
    """``anercorp`` (a preset) or ``PERS=ACTOR,ORG=ACTOR,LOC=PLACE,MISC=`` (empty drops a type)."""
    if not spec:
        return None
    from marsad.data.conll import LABEL_MAPS

    if spec in LABEL_MAPS:
        return LABEL_MAPS[spec]
    out: dict[str, str | None] = {}
    for part in spec.split(","):
        src, sep, dst = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"label map entry {part!r} must be SRC=DST (or SRC= to drop)")
        out[src.strip()] = dst.strip() or None
    return out


def _schema(path: str | None):
    from marsad.data.schema import load_schema

    return load_schema(path)


# --- data commands ------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from marsad.data.validate import validate_files

    schema = _schema(args.schema)
    problems = validate_files(args.files, schema)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for p in errors + (warnings if args.warnings else []):
        print(p)
    summary = f"{len(args.files)} file(s): {len(errors)} error(s), {len(warnings)} warning(s)"
    if warnings and not args.warnings:
        summary += " (--warnings lists them)"
    print(summary, file=sys.stderr)
    return 1 if errors else 0


def cmd_convert(args: argparse.Namespace) -> int:
    from marsad.data.io import read_articles, write_articles

    arts = read_articles(args.input, _schema(args.schema) if args.schema else None,
                         label_map=_label_map(args.label_map), scheme=args.scheme)
    n = write_articles(arts, args.output)
    print(f"wrote {n} articles to {args.output}", file=sys.stderr)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from marsad.data.io import read_articles
    from marsad.data.stats import compute_stats, format_stats

    result = {}
    for f in args.files:
        arts = read_articles(f, None, label_map=_label_map(args.label_map))
        result[f] = compute_stats(arts)
    if len(args.files) > 1:
        from itertools import chain

        result["total"] = compute_stats(chain.from_iterable(read_articles(f, None, label_map=_label_map(args.label_map))
                                                            for f in args.files))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(format_stats(k, v) for k, v in result.items()))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from marsad.data.audit import audit
    from marsad.data.io import read_articles

    arts = []
    for f in args.files:
        arts += read_articles(f, None)
    report = audit(arts, min_tagged=args.min_tagged, max_examples=args.examples)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) if args.json else report)
    return 0


def cmd_corpus(args: argparse.Namespace) -> int:
    from marsad.data import corpus

    root = Path(corpus.__file__).resolve().parent / "corpus"
    src = Path(args.src) if args.src else root / "src"
    out = Path(args.out) if args.out else root
    if args.action == "samples":
        n = corpus.build_samples()
        print(f"built {corpus.SAMPLES_DIR / 'articles.jsonl.gz'} ({n} articles)", file=sys.stderr)
        return 0
    if args.action == "split":
        arts, problems = corpus.compile_sources(src)
        splits = corpus.make_splits(arts, seed=args.seed)
        target = out / "splits.json"
        if target.exists() and not args.force:
            print(f"{target} exists; splits are fixed once written (use --force to redo them)", file=sys.stderr)
            return 1
        target.write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {target}: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()), file=sys.stderr)
        return 0
    counts = corpus.build_corpus(src, out)
    print("built " + ", ".join(f"{k}.jsonl ({v} articles)" for k, v in counts.items()) + f" in {out}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from marsad.demo import run_demo

    run_demo(args.out)
    return 0


# --- the parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="marsad", description="Actors, places, weapons and event types in Arabic conflict news.")
    p.add_argument("--version", action="version", version=f"marsad {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for transformers too)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("validate", help="check annotated JSONL/CoNLL files; exit 1 listing every error")
    s.add_argument("files", nargs="+")
    s.add_argument("--schema", help="schema JSON (default: ANNOTATION.md's)")
    s.add_argument("--warnings", action="store_true", help="list warnings (repaired tags) too")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("convert", help="convert between JSONL and CoNLL (by extension)")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--label-map", help="preset (anercorp, aqmar, wojood) or SRC=DST,... (SRC= drops a type)")
    s.add_argument("--scheme", default="auto", choices=["auto", "iob1", "iob2", "bioes"], help="input tagging scheme")
    s.add_argument("--schema", help="validate labels against this schema")
    s.set_defaults(func=cmd_convert)

    s = sub.add_parser("stats", help="articles, sentences, tokens, entities per label, sentences per event")
    s.add_argument("files", nargs="+")
    s.add_argument("--label-map")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_stats)

    s = sub.add_parser("audit", help="inconsistently labelled words and sentences missing a cued event type")
    s.add_argument("files", nargs="+")
    s.add_argument("--min-tagged", type=int, default=2, help="report untagged mentions of words tagged at least this often")
    s.add_argument("--examples", type=int, default=5)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("corpus", help="compile the shipped corpus (build), draw its fixed splits once (split), "
                                      "or compile the sample dump (samples)")
    s.add_argument("action", choices=["build", "split", "samples"])
    s.add_argument("--src")
    s.add_argument("--out")
    s.add_argument("--seed", type=int, default=13)
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_corpus)

    s = sub.add_parser("demo", help="the main job end to end: train the tiny recipe, evaluate on test, tag the sample dump")
    s.add_argument("--out", default="runs/demo", help="folder for the model, the evaluation and the tagged dump")
    s.set_defaults(func=cmd_demo)

    _add_model_commands(sub)
    return p


def _add_model_commands(sub) -> None:
    """Subcommands that need torch; their modules import lazily so data commands stay light."""
    for mod in ("marsad.training.cli", "marsad.models.cli", "marsad.eval.cli", "marsad.models.offline_cli"):
        try:
            m = __import__(mod, fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name and err.name.startswith("marsad"):
                continue
            raise
        m.register(sub)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("marsad").setLevel(logging.INFO if verbose == 0 else level)
    # Through the libraries' own environment variables, so nothing heavy is imported here.
    quiet = "info" if verbose >= 2 else "error"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", quiet)
    os.environ.setdefault("DATASETS_VERBOSITY", quiet)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``marsad`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except MarsadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
