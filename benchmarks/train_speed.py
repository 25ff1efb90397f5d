"""Training speed: tokens/s and peak memory of the joint model's training step on this machine.

    python benchmarks/train_speed.py                    # tiny and BERT-base shapes
    python benchmarks/train_speed.py --models base --steps 10 --batch-size 8

Random weights (speed does not depend on them), real corpus windows, real AdamW steps
(forward, backward, optimiser) through the same JointModel that ``marsad train`` uses. Each
shape runs in its own subprocess so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import build_random_model, encoder_flops, peak_rss_mb  # noqa: E402


def run(kind: str, model_dir: str, steps: int, batch_size: int, max_length: int, precision: str) -> dict:
    import torch

    from marsad.data.corpus import load_corpus
    from marsad.data.schema import default_schema
    from marsad.models.base import special_token_frame
    from marsad.models.features import training_windows
    from marsad.models.joint import load_joint_model
    from marsad.training.train import JointCollator

    model, tok, meta = load_joint_model(model_dir)
    model.train()
    schema = default_schema()
    pre, suf = special_token_frame(tok)
    _, windows, _ = training_windows(tok, load_corpus("train"), schema, pre, suf, max_length, max_length // 4)
    windows.sort(key=lambda w: len(w.input_ids))  # length-grouped batches, as marsad train does
    collate = JointCollator(tok, len(schema.event_labels))
    batches = [windows[i : i + batch_size] for i in range(0, len(windows), batch_size)]
    step_batches = [batches[(k * 7919) % len(batches)] for k in range(steps + 2)]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    real = padded = sum_sq = 0
    t0 = None
    for k, b in enumerate(step_batches):
        if k == 2:  # two warm-up steps
            t0 = time.perf_counter()
            real = padded = sum_sq = 0
        batch = collate([{"input_ids": w.input_ids, "labels": w.labels, "event_labels": w.events} for w in b])
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else torch.autocast("cpu", enabled=False)
        with ctx:
            out = model(**batch)
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        real += int(batch["attention_mask"].sum())
        padded += batch["attention_mask"].numel()
        sum_sq += batch["attention_mask"].shape[0] * batch["attention_mask"].shape[1] ** 2
    elapsed = time.perf_counter() - t0
    flops = 3 * encoder_flops(model.config, padded, sum_sq)  # forward + backward ~ 3x forward
    return {"model": kind, "precision": precision, "steps": steps, "batch_size": batch_size, "max_length": max_length,
            "params_m": sum(p.numel() for p in model.parameters()) / 1e6, "seconds": elapsed,
            "tokens_per_s": real / elapsed, "padded_tokens_per_s": padded / elapsed,
            "padding_share": 1 - real / padded, "train_gflops": flops / elapsed / 1e9, "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["tiny", "base"])
    ap.add_argument("--steps", type=int, default=None, help="default: 30 tiny, 6 base")
    ap.add_argument("--batch-size", type=int, default=None, help="default: 32 tiny (the recipe), 16 base")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--json", default=None)
    ap.add_argument("--_run", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._run:
        kind, model_dir, steps, bs, ml = args._run
        print(json.dumps(run(kind, model_dir, int(steps), int(bs), int(ml), args.precision)))
        return 0
    import tempfile

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="marsad-train-bench-"))
    rows = []
    for kind in args.models:
        ml = 128 if kind == "tiny" else 256
        model_dir = build_random_model(tmp / kind, kind, max_length=ml, stride=ml // 4)
        steps = args.steps or (30 if kind == "tiny" else 6)
        bs = args.batch_size or (32 if kind == "tiny" else 16)
        r = subprocess.run([sys.executable, __file__, "--_run", kind, str(model_dir), str(steps), str(bs), str(ml),
                            "--precision", args.precision], capture_output=True, text=True)
        if r.returncode:
            print(r.stderr[-2000:], file=sys.stderr)
            return 1
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    print("\n| model | params | precision | batch × max length | tokens/s (real) | padding | training GFLOP/s | peak memory MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['params_m']:.1f} M | {r['precision']} | {r['batch_size']} × {r['max_length']} | "
              f"{r['tokens_per_s']:,.0f} | {100 * r['padding_share']:.0f}% | {r['train_gflops']:.0f} | {r['peak_rss_mb']:,.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
