"""``marsad score``, ``marsad evaluate`` and ``marsad compare``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from marsad.eval.api import compare_predictions, evaluate_model, score_files


def cmd_score(args: argparse.Namespace) -> int:
    metrics, paths = score_files(args.gold, args.pred, out_dir=args.out, schema=args.schema, bootstrap=args.bootstrap,
                                 seed=args.seed)
    _print(metrics, paths, args.pred)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    metrics, paths = evaluate_model(args.model, args.data, out_dir=args.out, bootstrap=args.bootstrap, seed=args.seed,
                                    precision=args.precision, device=args.device)
    _print(metrics, paths, args.model)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    result = compare_predictions(args.gold, args.pred_a, args.pred_b, schema=args.schema, n=args.bootstrap, seed=args.seed)
    print(result["table"])
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({k: v for k, v in result.items() if k != "table"}, ensure_ascii=False,
                                             indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _print(metrics: dict, paths: dict, name: str) -> None:
    from marsad.eval.report import format_score_table

    print(format_score_table({Path(str(name)).name or str(name): metrics}))
    for kind, p in paths.items():
        print(f"{kind}: {p}", file=sys.stderr)


def register(sub) -> None:
    s = sub.add_parser("score", help="score any system's predictions (marsad JSONL) against gold")
    s.add_argument("--gold", required=True, nargs="+", help="gold JSONL/CoNLL file(s) (corpus:test for the shipped split)")
    s.add_argument("--pred", required=True, nargs="+", help="predictions in marsad JSONL, matched to gold by id and text")
    s.add_argument("--out", default=None, help="folder for metrics.json, report.md, report.html and charts")
    s.add_argument("--schema", default=None, help="schema JSON (default: inferred from gold and the default schema)")
    s.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals (0: none)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("evaluate", help="run a model on annotated data and score it")
    s.add_argument("--model", required=True)
    s.add_argument("--data", required=True, nargs="+", help="gold file(s), or corpus:test")
    s.add_argument("--out", default=None)
    s.add_argument("--bootstrap", type=int, default=1000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--precision", default="fp32", choices=["auto", "fp32", "bf16", "int8", "onnx", "onnx-int8"])
    s.add_argument("--device", default=None)
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("compare", help="paired bootstrap test of the difference between two systems")
    s.add_argument("pred_a")
    s.add_argument("pred_b")
    s.add_argument("--gold", required=True, nargs="+")
    s.add_argument("--schema", default=None)
    s.add_argument("--bootstrap", type=int, default=2000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default=None, help="write the comparison as JSON")
    s.set_defaults(func=cmd_compare)
