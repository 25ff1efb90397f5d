"""Tagging speed: marsad's Tagger against transformers' token-classification pipeline, side by side.

    python benchmarks/tag_speed.py                         # tiny and BERT-base shapes, random weights
    python benchmarks/tag_speed.py --models base --articles 100
    python benchmarks/tag_speed.py --models tiny --trained runs/tiny/model   # + accuracy cost per precision

Every system runs in its own subprocess on the same model and the same articles, so peak
memory is its own. Reported per system: words/s over ALL words of the articles and over the
words it actually tagged (the default pipeline truncates each article at the model's maximum
length), peak memory, achieved encoder GFLOP/s against this machine's matmul peak (measured
here), padding share, and the ratio to the default pipeline. Numbers are measurements of this
run on this machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (benchmark_articles, build_random_model, encoder_flops,  # noqa: E402
                               matmul_peaks, peak_rss_mb)

SYSTEMS = ["pipeline", "pipeline-b16-stride", "marsad-fp32", "marsad-bf16", "marsad-int8", "marsad-onnx", "marsad-onnx-int8"]


def _words(text: str) -> list:
    from marsad.data.text import tokenize

    return [t for t in tokenize(text) if t.text[0].isalnum()]


def run_system(name: str, model_dir: str, n_articles: int, batch_tokens: int) -> dict:
    """Run one system over the articles in this process; returns its measurements."""
    import torch

    torch.set_num_threads(int(os.environ.get("MARSAD_BENCH_THREADS", torch.get_num_threads())))
    texts = [t for _, t in benchmark_articles(n_articles)]
    words = [_words(t) for t in texts]
    n_words = sum(len(w) for w in words)
    rss0 = peak_rss_mb()
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    max_len = tok.model_max_length
    result: dict = {"system": name, "articles": len(texts), "words": n_words}
    if name.startswith("pipeline"):
        from transformers import pipeline

        pipe = pipeline("token-classification", model=model_dir, aggregation_strategy="simple", device="cpu")
        kwargs = {"batch_size": 16, "stride": min(128, max_len // 4)} if name == "pipeline-b16-stride" else {}
        t0 = time.perf_counter()
        out = pipe(texts, **kwargs)
        elapsed = time.perf_counter() - t0
        covered = computed = sum_sq = 0
        truncated = 0
        for t, w in zip(texts, words):
            enc = tok(t, truncation=not kwargs, max_length=max_len, return_offsets_mapping=True,
                      return_overflowing_tokens=bool(kwargs), stride=kwargs.get("stride", 0))
            ids = enc["input_ids"]
            windows = ids if kwargs else [ids]
            computed += sum(len(x) for x in windows)
            sum_sq += sum(len(x) ** 2 for x in windows)  # batch padding of the b16 run is not counted
            if kwargs:
                covered += len(w)
            else:
                last = max((e for s, e in enc["offset_mapping"] if e > s), default=0)
                c = sum(1 for x in w if x.end <= last)
                covered += c
                truncated += c < len(w)
        result.update(entities=sum(len(o) for o in out), padding_share=None)
    else:
        from marsad.models.tagger import Tagger

        precision = name.split("-", 1)[1]
        tagger = Tagger.load(model_dir, device="cpu", precision=precision, batch_tokens=batch_tokens)
        tagger.tag(texts[:2])  # warm-up (ONNX export and quantisation happen at load, not here)
        tagger.stats_padding = [0, 0, 0]
        t0 = time.perf_counter()
        out = tagger.tag(texts)
        elapsed = time.perf_counter() - t0
        real, total, sum_sq = tagger.stats_padding
        computed = total
        covered = n_words
        truncated = 0
        result.update(entities=sum(len(o["entities"]) for o in out), padding_share=1 - real / total if total else 0.0,
                      window=tagger.max_length, stride=tagger.stride)
    flops = encoder_flops(config, computed, sum_sq)
    result.update(
        seconds=round(elapsed, 2),
        words_per_s_all=n_words / elapsed,
        words_per_s_covered=covered / elapsed,
        covered_share=covered / n_words,
        articles_truncated=truncated,
        computed_tokens=computed,
        words_per_token=n_words / computed if computed else None,
        encoder_gflops=flops / elapsed / 1e9,  # fp32-equivalent for the int8 paths
        peak_rss_mb=round(peak_rss_mb(), 1),
        rss_growth_mb=round(peak_rss_mb() - rss0, 1),
    )
    return result


def _available(name: str) -> str | None:
    """Why a system cannot run here (None if it can)."""
    from marsad.models.tagger import _onnx_available, cpu_has_fast_bf16

    if name == "marsad-bf16" and not cpu_has_fast_bf16():
        return "this CPU has no AVX512-BF16/AMX (bf16 autocast would be slower than fp32)"
    if name.startswith("marsad-onnx") and not _onnx_available():
        return "onnxruntime not installed (pip install 'marsad[onnx]')"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["tiny", "base"], help="tiny, base, or model directories")
    ap.add_argument("--articles", type=int, default=None, help="default: 300 for tiny, 100 for base")
    ap.add_argument("--systems", nargs="+", default=SYSTEMS)
    ap.add_argument("--batch-tokens", type=int, default=None, help="default: the Tagger's")
    ap.add_argument("--trained", default=None, help="a trained model directory: also measure each precision's dev F1 cost")
    ap.add_argument("--json", default=None, help="write all measurements here")
    ap.add_argument("--_run", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._run:
        name, model_dir, n = args._run
        print(json.dumps(run_system(name, model_dir, int(n), args.batch_tokens)))
        return 0

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU: {_cpu_name()}", flush=True)
    p32, p16 = matmul_peaks("fp32"), matmul_peaks("bf16")
    peak32, peak16 = max(p32.values()), max(p16.values())
    print("matmul on this machine (2048x2048, GFLOP/s): fp32 " + ", ".join(f"{k} {v:.0f}" for k, v in p32.items())
          + f"; bf16 torch {p16['torch']:.0f}. Peak used below: fp32 {peak32:.0f}, bf16 {peak16:.0f}", flush=True)
    report = {"matmul_gflops": {"fp32": p32, "bf16": p16}, "peak_gflops": {"fp32": peak32, "bf16": peak16}, "models": {}}
    tmp = Path(tempfile.mkdtemp(prefix="marsad-bench-"))
    for m in args.models:
        if m in ("tiny", "base"):
            model_dir = build_random_model(tmp / m, m, max_length=512 if m == "base" else 128,
                                           stride=128 if m == "base" else 32)
        else:
            model_dir = Path(m)
        n = args.articles or (100 if m == "base" else 300)
        rows = []
        for name in args.systems:
            why = _available(name)
            if why:
                rows.append({"system": name, "skipped": why})
                continue
            extra = ["--batch-tokens", str(args.batch_tokens)] if args.batch_tokens else []
            r = subprocess.run([sys.executable, __file__, "--_run", name, str(model_dir), str(n), *extra],
                               capture_output=True, text=True)
            if r.returncode != 0:
                rows.append({"system": name, "skipped": "failed: " + r.stderr.strip().splitlines()[-1][:200]})
                continue
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(f"  {m} {name}: {rows[-1]['seconds']} s", flush=True)
        base = next((r for r in rows if r["system"] == "pipeline" and "seconds" in r), None)
        for r in rows:
            if "seconds" in r:
                # int8 paths run integer kernels with their own peak, not measured here.
                peak = None if "int8" in r["system"] else peak16 if r["system"].endswith("bf16") else peak32
                r["share_of_matmul_peak"] = r["encoder_gflops"] / peak if peak else None
                if base:
                    r["ratio_all_words"] = r["words_per_s_all"] / base["words_per_s_all"]
                    r["ratio_covered_words"] = r["words_per_s_covered"] / base["words_per_s_covered"]
        report["models"][m] = {"articles": n, "rows": rows}
        print(format_table(m, n, rows), flush=True)
    if args.trained:
        from marsad.data.corpus import load_corpus
        from marsad.models.precision import measure_precision_costs

        costs = measure_precision_costs(args.trained, load_corpus("dev"))
        report["precision_cost_on_dev"] = {"model": args.trained, **costs}
        print(f"\nentity F1 (strict, corpus dev) of {args.trained} per precision:")
        for k, v in costs.items():
            print(f"  {k:<10} " + (f"F1 {100 * v['entity_f1']:.2f}  cost {v['cost_f1_points']:+.2f} points"
                                   if "entity_f1" in v else v.get("skipped", "")))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def format_table(model: str, n: int, rows: list[dict]) -> str:
    head = (f"\n{model} model, {n} articles\n"
            "| system | words/s (all words) | words/s (tagged words) | words tagged | peak memory MB | encoder GFLOP/s "
            "(% of matmul peak) | padding | vs pipeline (all / tagged) |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['system']} | skipped: {r['skipped']} | | | | | | |")
            continue
        pad = "-" if r.get("padding_share") is None else f"{100 * r['padding_share']:.0f}%"
        ratio = f"{r.get('ratio_all_words', 1):.2f}× / {r.get('ratio_covered_words', 1):.2f}×"
        share = "n/a" if r["share_of_matmul_peak"] is None else f"{100 * r['share_of_matmul_peak']:.0f}%"
        lines.append(f"| {r['system']} | {r['words_per_s_all']:,.0f} | {r['words_per_s_covered']:,.0f} | "
                     f"{100 * r['covered_share']:.0f}% ({r['articles_truncated']} articles cut) | {r['peak_rss_mb']:,.0f} | "
                     f"{r['encoder_gflops']:.0f} ({share}) | {pad} | {ratio} |")
    return "\n".join(lines)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
