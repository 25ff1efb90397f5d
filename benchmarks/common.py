"""Helpers shared by the benchmarks: models built locally, test texts, the machine's matmul peak."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MARSAD_SHARED", REPO.parent / "shared"))
ARABERT_VOCAB = SHARED / "data" / "external" / "arabert_tokenizer" / "araelectra-base-discriminator"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, flops: float, seconds: float) -> float:
    fn()
    fn()
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        reps += 1
    return flops * reps / (time.perf_counter() - t0) / 1e9


def matmul_peaks(dtype: str = "fp32", n: int = 2048, seconds: float = 3.0) -> dict[str, float]:
    """Achieved GFLOP/s of a large square matmul per library on this machine (fp32: torch, numpy and
    ONNX Runtime; bf16: torch). Their maximum is the machine's practical peak for that dtype: the
    libraries' kernels differ a lot on some CPUs (MKL's sgemm on AMD EPYC reaches half of MLAS's)."""
    import numpy as np
    import torch

    flops = 2.0 * n**3
    out: dict[str, float] = {}
    dt = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
    out["torch"] = _timed(lambda: a @ b, flops, seconds)
    if dtype == "fp32":
        x = np.random.rand(n, n).astype(np.float32)
        out["numpy"] = _timed(lambda: x @ x, flops, seconds)
        try:
            import onnxruntime as ort
            from onnx import TensorProto, helper

            io = [helper.make_tensor_value_info(k, TensorProto.FLOAT, [n, n]) for k in "XYZ"]
            graph = helper.make_graph([helper.make_node("MatMul", ["X", "Y"], ["Z"])], "mm", io[:2], io[2:])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
            sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
            out["onnxruntime"] = _timed(lambda: sess.run(None, {"X": x, "Y": x}), flops, seconds)
        except ImportError:
            pass
    return out


def encoder_flops(config, tokens: int, sum_sq_lengths: int) -> float:
    """Forward FLOPs of a BERT-style encoder (matmuls only) over sequences with ``tokens`` positions in
    all and the given sum of squared sequence lengths (attention grows with the square)."""
    h, i, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    dense = 2 * (4 * h * h + 2 * h * i)  # Q, K, V, output projections and the feed-forward block, per token
    attention = 2 * 2 * h  # scores and weighted sum, per (query, key) pair
    return layers * (dense * tokens + attention * sum_sq_lengths)


def build_random_model(out_dir: Path, size: str = "base", max_length: int = 512, stride: int = 128) -> Path:
    """A marsad model directory with random weights: BERT-base (AraBERT's vocabulary) or the tiny recipe's shape.

    Speed does not depend on the weights, so this measures what a trained model of that shape costs.
    """
    import torch
    from transformers import AutoModelForTokenClassification, BertConfig

    from marsad.data.corpus import load_corpus
    from marsad.data.schema import default_schema
    from marsad.data.text import NormalizationConfig
    from marsad.models.base import load_marsad_tokenizer
    from marsad.models.joint import JointModel, save_joint_model
    from marsad.models.tiny import TINY_NORMALIZATION, TinyConfig, train_wordpiece

    out = Path(out_dir)
    if (out / "event_head.safetensors").exists():
        return out
    schema = default_schema()
    if size == "base":
        norm = NormalizationConfig()
        tok = load_marsad_tokenizer(str(ARABERT_VOCAB), norm, builtin=False, max_length=max_length)
        cfg = BertConfig(vocab_size=len(tok))  # BERT-base: 12 layers, hidden 768, 12 heads, 3072
    else:
        t = TinyConfig()
        norm = TINY_NORMALIZATION
        tok = train_wordpiece((a.text for a in load_corpus("train")), t.vocab_size)
        tok.model_max_length = max_length
        cfg = BertConfig(vocab_size=len(tok), hidden_size=t.hidden, num_hidden_layers=t.layers, num_attention_heads=t.heads,
                         intermediate_size=t.intermediate)
    tags = schema.bio_tags
    cfg.num_labels = len(tags)
    cfg.id2label = dict(enumerate(tags))
    cfg.label2id = {t: i for i, t in enumerate(tags)}
    torch.manual_seed(0)
    model = JointModel(AutoModelForTokenClassification.from_config(cfg), len(schema.event_labels))
    meta = {"schema": schema.to_dict(), "event_labels": list(schema.event_labels),
            "event_thresholds": {e: 0.5 for e in schema.event_labels}, "normalization": norm.to_dict(),
            "max_length": max_length, "stride": stride, "base_model": f"random-{size}"}
    save_joint_model(model, tok, out, meta)
    return out


def benchmark_articles(n: int) -> list[tuple[str, str]]:
    """``n`` articles of realistic length: the sample dump's (long) articles first, then the corpus's."""
    import gzip
    import json

    from marsad.data.corpus import load_corpus

    out = []
    samples = REPO / "data" / "samples" / "articles.jsonl.gz"
    if samples.exists():
        with gzip.open(samples, "rt", encoding="utf-8") as f:
            out += [(d["id"], d["text"]) for d in map(json.loads, f)]
    for split in ("train", "dev", "test"):
        out += [(a.id, a.text) for a in load_corpus(split)]
    return out[:n]
