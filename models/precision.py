"""The accuracy cost of each inference precision, measured against fp32 on a dev set.

``precision="auto"`` in the Tagger uses these figures (saved in the model's config) to pick the
fastest option that costs at most 0.5 entity-F1 point.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from marsad.data.document import Article

logger = logging.getLogger(__name__)

CANDIDATES = ("bf16", "int8", "onnx", "onnx-int8")


def measure_precision_costs(model_dir: str | Path, dev: Sequence[Article], fp32_f1: float | None = None,
                            candidates: Sequence[str] = CANDIDATES) -> dict[str, dict]:
    """Entity micro-F1 (strict IOB2) of each precision on ``dev`` and its cost in points against fp32."""
    from marsad.data.schema import Schema
    from marsad.eval.report import score_articles
    from marsad.models.tagger import Tagger, _onnx_available

    results: dict[str, dict] = {}
    schema = None
    if fp32_f1 is None:
        t = Tagger.load(model_dir, precision="fp32", device="cpu")
        schema = Schema.from_dict(t.meta["schema"])
        fp32_f1 = score_articles(dev, t.predict(dev), schema, bootstrap=0)["entities"]["strict"]["micro"]["f1"]
    results["fp32"] = {"entity_f1": fp32_f1, "cost_f1_points": 0.0}
    for p in candidates:
        if p.startswith("onnx") and not _onnx_available():
            results[p] = {"skipped": "onnxruntime not installed"}
            continue
        try:
            t = Tagger.load(model_dir, precision=p, device="cpu")
            schema = schema or Schema.from_dict(t.meta["schema"])
            f1 = score_articles(dev, t.predict(dev), schema, bootstrap=0)["entities"]["strict"]["micro"]["f1"]
        except Exception as err:  # one failing backend must not lose the trained model
            logger.warning("could not measure precision %s: %s", p, err)
            results[p] = {"skipped": f"{type(err).__name__}: {err}"}
            continue
        results[p] = {"entity_f1": f1, "cost_f1_points": round(100 * (fp32_f1 - f1), 3)}
    return results
