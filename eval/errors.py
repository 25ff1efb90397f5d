"""Error analysis: each predicted and gold span classified, confusions counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from marsad.data.document import Article, Entity

KINDS = ("correct", "false_positive", "false_negative", "wrong_type", "wrong_boundary", "wrong_type_and_boundary")


@dataclass
class SpanError:
    article: str
    kind: str
    gold: Entity | None
    pred: Entity | None
    text: str  # the words concerned (union of both spans)


def classify_spans(gold: Article, pred: Article) -> list[SpanError]:
    """Match predicted to gold spans of one article and classify every span (SemEval-2013 style)."""
    out: list[SpanError] = []
    g_used: set[int] = set()
    p_used: set[int] = set()
    G, P = gold.entities, pred.entities
    text = gold.text
    exact = {(e.start, e.end): i for i, e in enumerate(G)}
    for j, p in enumerate(P):
        i = exact.get((p.start, p.end))
        if i is not None and i not in g_used:
            g_used.add(i)
            p_used.add(j)
            kind = "correct" if G[i].label == p.label else "wrong_type"
            out.append(SpanError(gold.id, kind, G[i], p, text[p.start:p.end]))
    for j, p in enumerate(P):
        if j in p_used:
            continue
        overlaps = [i for i, g in enumerate(G) if i not in g_used and g.start < p.end and p.start < g.end]
        if overlaps:
            i = max(overlaps, key=lambda i: min(G[i].end, p.end) - max(G[i].start, p.start))
            g_used.add(i)
            p_used.add(j)
            kind = "wrong_boundary" if G[i].label == p.label else "wrong_type_and_boundary"
            s, e = min(G[i].start, p.start), max(G[i].end, p.end)
            out.append(SpanError(gold.id, kind, G[i], p, text[s:e]))
    for j, p in enumerate(P):
        if j not in p_used:
            out.append(SpanError(gold.id, "false_positive", None, p, text[p.start:p.end]))
    for i, g in enumerate(G):
        if i not in g_used:
            out.append(SpanError(gold.id, "false_negative", g, None, text[g.start:g.end]))
    return sorted(out, key=lambda x: (x.gold or x.pred).start)


def error_summary(pairs: Sequence[tuple[Article, Article]], top: int = 15) -> dict:
    """Counts per error kind, the most frequent type confusions, missed and spurious words."""
    kinds: Counter = Counter()
    confusions: Counter = Counter()
    missed: Counter = Counter()
    spurious: Counter = Counter()
    boundary: Counter = Counter()
    for g, p in pairs:
        for e in classify_spans(g, p):
            kinds[e.kind] += 1
            if e.kind in ("wrong_type", "wrong_type_and_boundary"):
                confusions[f"{e.gold.label} -> {e.pred.label}"] += 1
            elif e.kind == "false_negative":
                missed[f"{e.text} ({e.gold.label})"] += 1
            elif e.kind == "false_positive":
                spurious[f"{e.text} ({e.pred.label})"] += 1
            elif e.kind == "wrong_boundary":
                boundary[f"{g.text[e.gold.start:e.gold.end]} -> {g.text[e.pred.start:e.pred.end]}"] += 1
    return {"kinds": {k: kinds.get(k, 0) for k in KINDS},
            "type_confusions": confusions.most_common(top),
            "most_missed": missed.most_common(top),
            "most_spurious": spurious.most_common(top),
            "boundary_errors": boundary.most_common(top)}


def event_cooccurrence(Y: np.ndarray, P: np.ndarray, labels: Sequence[str]) -> dict:
    """Rows: gold type (plus 'none'); columns: predicted type (plus 'none'); cells: sentences.

    The diagonal holds true positives; off-diagonal cells show which types are predicted for
    sentences of another type. 'none' collects sentences with no gold (row) or no predicted
    (column) event.
    """
    n = len(labels)
    M = np.zeros((n + 1, n + 1), dtype=int)
    for y, p in zip(Y, P):
        gi = np.flatnonzero(y) if y.any() else np.array([n])
        pj = np.flatnonzero(p) if p.any() else np.array([n])
        for i in gi:
            for j in pj:
                M[i, j] += 1
    names = list(labels) + ["none"]
    return {"rows_gold": names, "cols_pred": names, "matrix": M.tolist()}
