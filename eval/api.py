"""Plain functions behind the evaluation commands (for notebooks and tests too)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from marsad.data.corpus import resolve_data_path
from marsad.data.document import Article
from marsad.data.io import read_articles
from marsad.data.jsonl import article_from_dict, iter_json_lines, write_jsonl
from marsad.data.schema import Schema, default_schema, infer_schema, load_schema
from marsad.errors import DataFormatError
from marsad.eval.errors import error_summary, event_cooccurrence
from marsad.eval.metrics import event_matrices, match_articles
from marsad.eval.render import write_report
from marsad.eval.report import (_entity_counts, _event_counts, format_score_table, headline_from_counts,
                                score_articles)


def read_gold(paths: Sequence[str]) -> list[Article]:
    out: list[Article] = []
    for p in paths:
        path = resolve_data_path(p)
        if not path.is_file():
            raise DataFormatError(p, None, "gold file not found")
        out += read_articles(path)
    return out


def read_predictions(paths: Sequence[str], gold: Sequence[Article]) -> list[Article]:
    """Predictions in marsad's JSONL. Records without ``text`` (``marsad tag`` output) take the gold
    text, and each entity's ``text`` is checked against it, so a shifted offset is caught."""
    gold_text = {g.id: g.text for g in gold}
    out: list[Article] = []
    for p in paths:
        for line_no, d in iter_json_lines(p):
            if isinstance(d, dict) and "text" not in d and str(d.get("id")) in gold_text:
                d = {**d, "text": gold_text[str(d["id"])]}
            try:
                out.append(article_from_dict(d))
            except ValueError as err:
                rid = str(d.get("id")) if isinstance(d, dict) else None
                raise DataFormatError(p, line_no, str(err), rid) from err
    return out


def pick_schema(gold: Sequence[Article], schema: str | None) -> Schema:
    if schema:
        return load_schema(schema)
    d = default_schema()
    inferred = infer_schema(gold)
    if set(inferred.entity_labels) <= set(d.entity_labels) and set(inferred.event_labels) <= set(d.event_labels):
        return d
    return inferred


def full_metrics(gold: Sequence[Article], pred: Sequence[Article], schema: Schema, bootstrap: int, seed: int,
                 pred_name: str = "pred") -> tuple[dict, list]:
    metrics = score_articles(gold, pred, schema, bootstrap=bootstrap, seed=seed, pred_name=pred_name)
    pairs = match_articles(gold, pred, pred_name=pred_name)
    metrics["errors"] = error_summary(pairs)
    if "events" in metrics:
        Y, P, _ = event_matrices(pairs, schema.event_labels)
        metrics["events"]["cooccurrence"] = event_cooccurrence(Y, P, schema.event_labels)
    metrics["entities_mode_note"] = "strict = seqeval mode='strict', scheme=IOB2; default = seqeval's conlleval-like mode"
    return metrics, pairs


def score_files(gold_paths: Sequence[str], pred_paths: Sequence[str], out_dir: str | None = None,
                schema: str | None = None, bootstrap: int = 1000, seed: int = 0) -> tuple[dict, dict]:
    """``marsad score``: every figure of ``pred`` against ``gold``; reports written when ``out_dir`` is given."""
    gold = read_gold(gold_paths)
    pred = read_predictions(pred_paths, gold)
    sch = pick_schema(gold, schema)
    metrics, pairs = full_metrics(gold, pred, sch, bootstrap, seed, pred_name=", ".join(map(str, pred_paths)))
    paths = write_report(out_dir, metrics, pairs, sch.entity_labels, f"marsad score: {', '.join(map(str, pred_paths))}") \
        if out_dir else {}
    return metrics, paths


def evaluate_model(model_dir: str, data: Sequence[str], out_dir: str | None = None, bootstrap: int = 1000,
                   seed: int = 0, precision: str = "fp32", device: str | None = None) -> tuple[dict, dict]:
    """``marsad evaluate``: tag the gold articles (with their own sentence boundaries) and score them."""
    from marsad.models.tagger import Tagger

    gold = read_gold(data)
    tagger = Tagger.load(model_dir, precision=precision, device=device)
    sch = Schema.from_dict(tagger.meta["schema"])
    for g in gold:
        for e in g.entities:
            if e.label not in sch.entity_labels:
                from marsad.errors import LabelMismatchError

                raise LabelMismatchError(f"[{g.id}] gold entity label {e.label!r} is not one the model predicts "
                                         f"{list(sch.entity_labels)}; convert the gold file with a label map first")
    pred = tagger.predict(gold, gold_sentences=True)
    metrics, pairs = full_metrics(gold, pred, sch, bootstrap, seed, pred_name=str(model_dir))
    metrics["model"] = str(model_dir)
    metrics["precision"] = tagger.precision
    paths: dict = {}
    if out_dir:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_jsonl(pred, out / "predictions.jsonl", with_entity_text=True)
        paths = write_report(out, metrics, pairs, sch.entity_labels, f"marsad evaluate: {model_dir} on {', '.join(data)}")
        paths["predictions"] = out / "predictions.jsonl"
    return metrics, paths


def compare_predictions(gold_paths: Sequence[str], a_paths: str | Sequence[str], b_paths: str | Sequence[str],
                        schema: str | None = None, n: int = 2000, seed: int = 0) -> dict:
    """Paired bootstrap over articles of the difference B - A for every headline figure.

    Both systems are scored on the same resampled articles each time; ``p`` is the two-sided
    share of resamples in which the difference has the other sign (or is zero) than observed
    (Koehn 2004; Berg-Kirkpatrick et al. 2012).
    """
    a_paths = [a_paths] if isinstance(a_paths, (str, Path)) else list(a_paths)
    b_paths = [b_paths] if isinstance(b_paths, (str, Path)) else list(b_paths)
    gold = read_gold(gold_paths)
    sch = pick_schema(gold, schema)
    counts = {}
    for name, paths in (("A", a_paths), ("B", b_paths)):
        pred = read_predictions(paths, gold)
        pairs = match_articles(gold, pred, pred_name=", ".join(map(str, paths)))
        has_events = bool(sch.event_labels) and any(g.sentences and any(s.events is not None for s in g.sentences) for g in gold)
        counts[name] = (_entity_counts(pairs, sch.entity_labels),
                        _event_counts(pairs, sch.event_labels) if has_events else np.zeros((len(pairs), 0, 3)))
    ev_labels = list(sch.event_labels) if counts["A"][1].shape[1] else []
    obs_a = headline_from_counts(*counts["A"], sch.entity_labels, ev_labels)
    obs_b = headline_from_counts(*counts["B"], sch.entity_labels, ev_labels)
    rng = np.random.default_rng(seed)
    m = len(gold)
    diffs: dict[str, list[float]] = {k: [] for k in obs_a}
    for _ in range(n):
        idx = rng.integers(0, m, m)
        ha = headline_from_counts(counts["A"][0][idx], counts["A"][1][idx], sch.entity_labels, ev_labels)
        hb = headline_from_counts(counts["B"][0][idx], counts["B"][1][idx], sch.entity_labels, ev_labels)
        for k in diffs:
            diffs[k].append(hb[k] - ha[k])
    rows = {}
    for k in obs_a:
        d = np.array(diffs[k])
        obs = obs_b[k] - obs_a[k]
        if obs > 0:
            p = 2 * float((d <= 0).mean())
        elif obs < 0:
            p = 2 * float((d >= 0).mean())
        else:
            p = 1.0
        rows[k] = {"A": obs_a[k], "B": obs_b[k], "diff": obs, "ci_low": float(np.quantile(d, 0.025)),
                   "ci_high": float(np.quantile(d, 0.975)), "p": min(1.0, p)}
    w = max(len(k) for k in rows)
    lines = [f"A = {', '.join(map(str, a_paths))}", f"B = {', '.join(map(str, b_paths))}",
             f"paired bootstrap over {m} articles, {n} resamples",
             f"{'figure'.ljust(w)}      A      B   B-A   95% CI of B-A        p"]
    for k, r in rows.items():
        lines.append(f"{k.ljust(w)}  {100 * r['A']:5.1f}  {100 * r['B']:5.1f}  {100 * r['diff']:+5.1f}  "
                     f"[{100 * r['ci_low']:+5.1f}, {100 * r['ci_high']:+5.1f}]  {r['p']:.4f}")
    return {"a": [str(x) for x in a_paths], "b": [str(x) for x in b_paths], "articles": m, "resamples": n,
            "figures": rows, "table": "\n".join(lines)}


__all__ = ["score_files", "evaluate_model", "compare_predictions", "format_score_table", "read_predictions"]
