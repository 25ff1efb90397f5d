"""``marsad demo``: the main job end to end on the shipped defaults.

Trains the tiny recipe on the corpus train split, evaluates it on the test split, tags the
shipped sample dump, and prints where everything is. Rerunning reuses what is already built:
a finished model is not retrained, a finished evaluation not redone, and an interrupted
tagging run resumes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

import marsad.data
import marsad.training

# Package data, so the demo also runs from an installed wheel.
TINY_CONFIG = Path(marsad.training.__file__).resolve().parent / "configs" / "tiny.toml"
SAMPLES = Path(marsad.data.__file__).resolve().parent / "samples" / "articles.jsonl.gz"


def _same_config(run_config: Path, wanted: dict) -> bool:
    if not run_config.is_file():
        return False
    have = json.loads(run_config.read_text(encoding="utf-8"))
    have.pop("_marsad", None)
    return have == wanted


def run_demo(out_dir: str | Path = "runs/demo", config: str | Path = TINY_CONFIG, samples: str | Path = SAMPLES,
             stdout: TextIO | None = None) -> dict:
    """Train (or reuse), evaluate (or reuse) and tag; returns the paths and the test scores."""
    from marsad.training.config import TrainConfig

    stdout = stdout or sys.stdout
    out = Path(out_dir)
    t0 = time.time()
    cfg = TrainConfig.from_file(config)
    cfg.output_dir = str(out / "train")
    model_dir = out / "train" / "model"

    def say(msg: str) -> None:
        print(f"[marsad demo {time.time() - t0:6.0f}s] {msg}", file=stdout, flush=True)

    # 1. Train the tiny recipe, unless the same recipe already produced a model here.
    if (model_dir / "metrics.json").is_file() and _same_config(model_dir / "run_config.json", cfg.to_dict()):
        say(f"reusing the model trained earlier in {model_dir}")
    else:
        say(f"training the tiny recipe ({config}) on the corpus train split; dev selects the model")
        from marsad.training.train import run_training

        run_training(cfg, resume=(out / "train" / "checkpoints").is_dir(), stdout=stdout)

    # 2. Evaluate on the test split.
    eval_dir = out / "eval-test"
    metrics_path = eval_dir / "metrics.json"
    stamp = eval_dir / ".model-mtime"
    model_mtime = str((model_dir / "model.safetensors").stat().st_mtime)
    if metrics_path.is_file() and stamp.is_file() and stamp.read_text() == model_mtime:
        say(f"reusing the evaluation in {eval_dir}")
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    else:
        say("evaluating on the corpus test split (1,000 bootstrap resamples for the intervals)")
        from marsad.eval.api import evaluate_model

        metrics, _ = evaluate_model(str(model_dir), ["corpus:test"], out_dir=str(eval_dir), bootstrap=1000)
        stamp.write_text(model_mtime)

    # 3. Tag the sample dump (resuming an interrupted run).
    tagged = out / "samples.tagged.jsonl"
    done_stamp = out / ".samples-done"
    if done_stamp.is_file() and done_stamp.read_text() == model_mtime and tagged.is_file():
        say(f"reusing the tagged sample dump {tagged}")
        summary = json.loads((out / "samples.tagged.jsonl.summary.json").read_text(encoding="utf-8"))
    else:
        say(f"tagging the sample dump {samples}")
        from marsad.models.batch import tag_dump
        from marsad.models.tagger import Tagger

        if tagged.exists() and not done_stamp.exists() and (out / ".samples-model").is_file() and \
                (out / ".samples-model").read_text() != model_mtime:
            tagged.unlink()  # tagged by an older model: start over rather than mix two models
        (out / ".samples-model").write_text(model_mtime)
        tagger = Tagger.load(model_dir, precision="auto")
        say(f"inference precision: {tagger.precision} (auto: the fastest within 0.5 entity-F1 point of fp32 on dev)")
        s = tag_dump(tagger, [samples], tagged, resume=tagged.exists(), progress=True)
        summary = s.to_dict()
        (out / "samples.tagged.jsonl.summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(s.format(), file=stdout)
        done_stamp.write_text(model_mtime)

    from marsad.eval.report import format_score_table

    train_metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    print("\n" + format_score_table({"dev": train_metrics["dev"], "test (95% CI)": metrics}), file=stdout)
    paths = {
        "model": model_dir,
        "metrics.json": metrics_path,
        "report.html": eval_dir / "report.html",
        "report.md": eval_dir / "report.md",
        "tagged sample dump": tagged,
    }
    print("\nwhere everything is:", file=stdout)
    for k, v in paths.items():
        print(f"  {k:<20} {v}", file=stdout)
    print(f"  {'tagging summary':<20} {summary['articles']} articles, {summary['words']} words, "
          f"{summary['rejects']} rejects", file=stdout)
    print(f"\ndone in {time.time() - t0:.0f} s. Next: marsad tag YOUR_DUMP.jsonl --model {model_dir} -o out.jsonl",
          file=stdout)
    return {"paths": {k: str(v) for k, v in paths.items()}, "test": metrics.get("headline", {})}
