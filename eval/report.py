"""Scoring predictions against gold, with bootstrap confidence intervals over articles.

``score_articles`` returns every figure as a plain dict (``metrics.json``). Headline entity
scores come from seqeval itself; the bootstrap resamples articles and recomputes the same
figures from per-article counts (entities extracted with seqeval's own strict IOB2 reader).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from marsad.data.document import Article
from marsad.data.schema import Schema
from marsad.eval.metrics import (article_event_matrices, event_matrices, match_articles, multilabel_scores,
                                 sentence_tag_sequences, seqeval_scores, threshold_curves)

SPAN_SCHEMES = ("strict", "exact", "partial", "ent_type")


def span_scores(pairs: Sequence[tuple[Article, Article]], labels: Sequence[str]) -> dict:
    """Character-span scores in the four SemEval-2013 schemes, computed by nervaluate."""
    from nervaluate import Evaluator

    # nervaluate's spans are inclusive at both ends.
    true = [[{"label": e.label, "start": e.start, "end": e.end - 1} for e in g.entities] for g, _ in pairs]
    pred = [[{"label": e.label, "start": e.start, "end": e.end - 1} for e in p.entities] for _, p in pairs]
    res = Evaluator(true, pred, tags=list(labels), loader="dict").evaluate()

    def conv(r) -> dict:
        return {k: (float(getattr(r, k)) if k in ("precision", "recall", "f1") else int(getattr(r, k)))
                for k in ("correct", "incorrect", "partial", "missed", "spurious", "precision", "recall", "f1")}

    out = {"overall": {s: conv(res["overall"][s]) for s in SPAN_SCHEMES}}
    out["per_type"] = {lab: {s: conv(res["entities"][lab][s]) for s in SPAN_SCHEMES} for lab in labels
                       if lab in res["entities"]}
    return out


# --- per-article counts for the bootstrap ---------------------------------------------------------


def _entity_counts(pairs, labels) -> np.ndarray:
    """[article, type, (tp, n_pred, n_true)] from seqeval's strict IOB2 entity reader."""
    from seqeval.scheme import IOB2, Entities

    idx = {lab: i for i, lab in enumerate(labels)}
    out = np.zeros((len(pairs), len(labels), 3))
    for ai, (g, p) in enumerate(pairs):
        ys, ps, _ = sentence_tag_sequences([(g, p)])
        if not ys:
            continue
        te = Entities(ys, IOB2, suffix=False).entities
        pe = Entities(ps, IOB2, suffix=False).entities
        tset = {e.to_tuple() for sent in te for e in sent}
        pset = {e.to_tuple() for sent in pe for e in sent}
        for e in tset:
            if e[1] in idx:
                out[ai, idx[e[1]], 2] += 1
        for e in pset:
            if e[1] in idx:
                out[ai, idx[e[1]], 1] += 1
                out[ai, idx[e[1]], 0] += e in tset
    return out


def _event_counts(pairs, labels) -> np.ndarray:
    """[article, label, (tp, fp, fn)] over event-annotated sentences."""
    out = np.zeros((len(pairs), len(labels), 3))
    for ai, pair in enumerate(pairs):
        Y, P, _ = event_matrices([pair], labels)
        if len(Y):
            out[ai, :, 0] = ((Y == 1) & (P == 1)).sum(0)
            out[ai, :, 1] = ((Y == 0) & (P == 1)).sum(0)
            out[ai, :, 2] = ((Y == 1) & (P == 0)).sum(0)
    return out


def _f1(tp, fp, fn):
    d = 2 * tp + fp + fn
    return np.where(d > 0, 2 * tp / np.where(d > 0, d, 1), 0.0)


def headline_from_counts(ent: np.ndarray, ev: np.ndarray, ent_labels: Sequence[str], ev_labels: Sequence[str]) -> dict[str, float]:
    """Headline figures from summed per-article counts (the quantities the bootstrap resamples)."""
    out: dict[str, float] = {}
    if len(ent_labels):
        e = ent.sum(0)
        tp, npred, ntrue = e[:, 0], e[:, 1], e[:, 2]
        out["entity_micro_f1"] = float(_f1(tp.sum(), npred.sum() - tp.sum(), ntrue.sum() - tp.sum()))
        per = _f1(tp, npred - tp, ntrue - tp)
        present = (npred + ntrue) > 0  # macro over types present in gold or predictions, as seqeval does
        out["entity_macro_f1"] = float(per[present].mean()) if present.any() else 0.0
        for lab, f in zip(ent_labels, per):
            out[f"entity_f1/{lab}"] = float(f)
    if len(ev_labels):
        v = ev.sum(0)
        per = _f1(v[:, 0], v[:, 1], v[:, 2])
        present = v.sum(1) > 0
        out["event_macro_f1"] = float(per[present].mean()) if present.any() else 0.0
        out["event_micro_f1"] = float(_f1(v[:, 0].sum(), v[:, 1].sum(), v[:, 2].sum()))
        for lab, f in zip(ev_labels, per):
            out[f"event_f1/{lab}"] = float(f)
    return out


def bootstrap_intervals(ent: np.ndarray, ev: np.ndarray, ent_labels, ev_labels, n: int = 1000, seed: int = 0,
                        alpha: float = 0.05) -> dict[str, dict[str, float]]:
    """Percentile bootstrap intervals over articles for every headline figure."""
    rng = np.random.default_rng(seed)
    m = ent.shape[0] if len(ent) else ev.shape[0]
    samples: dict[str, list[float]] = {}
    for _ in range(n):
        idx = rng.integers(0, m, m)
        for k, v in headline_from_counts(ent[idx] if len(ent) else ent, ev[idx] if len(ev) else ev,
                                         ent_labels, ev_labels).items():
            samples.setdefault(k, []).append(v)
    return {k: {"low": float(np.quantile(v, alpha / 2)), "high": float(np.quantile(v, 1 - alpha / 2))}
            for k, v in samples.items()}


def score_articles(gold: Sequence[Article], pred: Sequence[Article], schema: Schema | None = None,
                   bootstrap: int = 1000, seed: int = 0, gold_name: str = "gold", pred_name: str = "pred") -> dict:
    """Every figure of an evaluation; ``bootstrap`` resamples (0: no intervals)."""
    pairs = match_articles(gold, pred, gold_name, pred_name)
    if schema is None:
        from marsad.data.schema import infer_schema

        schema = infer_schema(gold, name="inferred-from-gold")
    ent_labels = list(schema.entity_labels)
    ev_labels = list(schema.event_labels)
    out: dict = {"articles": len(pairs)}
    ys, ps, _ = sentence_tag_sequences(pairs)
    out["entities"] = seqeval_scores(ys, ps, ent_labels)
    out["entities"]["sentences"] = len(ys)
    out["spans"] = span_scores(pairs, ent_labels)
    Y, P, S = event_matrices(pairs, ev_labels)
    if len(Y) and ev_labels:
        out["events"] = {"sentence": multilabel_scores(Y, P, ev_labels)}
        AY, AP = article_event_matrices(pairs, ev_labels)
        out["events"]["article"] = multilabel_scores(AY, AP, ev_labels)
        if S is not None:
            out["events"]["threshold_curves"] = threshold_curves(Y, S, ev_labels)
    ent = _entity_counts(pairs, ent_labels)
    ev = _event_counts(pairs, ev_labels) if "events" in out else np.zeros((len(pairs), 0, 3))
    out["headline"] = headline_from_counts(ent, ev, ent_labels, ev_labels if "events" in out else [])
    if bootstrap:
        out["confidence_intervals"] = {"method": f"percentile bootstrap over articles, {bootstrap} resamples, 95%",
                                       **bootstrap_intervals(ent, ev, ent_labels, ev_labels if "events" in out else [],
                                                             n=bootstrap, seed=seed)}
    return out


def format_score_table(results: dict[str, dict]) -> str:
    """A terminal table: rows are figures, columns are splits or systems."""
    names = list(results)
    rows: list[tuple[str, list[str]]] = []

    def cell(r: dict, key: str) -> str:
        v = r.get("headline", {}).get(key)
        if v is None:
            return "-"
        ci = r.get("confidence_intervals", {}).get(key)
        return f"{100 * v:5.1f}" + (f" [{100 * ci['low']:.1f}, {100 * ci['high']:.1f}]" if ci else "")

    keys = []
    for r in results.values():
        for k in r.get("headline", {}):
            if k not in keys:
                keys.append(k)
    for k in keys:
        rows.append((k, [cell(results[n], k) for n in names]))
    w0 = max([len("figure (strict IOB2, %)")] + [len(k) for k, _ in rows])
    widths = [max(len(n), *(len(c[i]) for _, c in rows)) if rows else len(n) for i, n in enumerate(names)]
    lines = ["figure (strict IOB2, %)".ljust(w0) + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths))]
    lines.append("-" * len(lines[0]))
    for k, cells in rows:
        lines.append(k.ljust(w0) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, widths)))
    return "\n".join(lines)
