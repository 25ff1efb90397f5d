"""Scores: seqeval entity scores over word-level IOB2, character-span schemes, and event metrics.

Entity scores are computed by seqeval itself (strict IOB2 mode, and its default conlleval-like
mode, labelled as such). Events are scored per sentence (multi-label) and per article (the set of
event types).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np

from marsad.data.bio import spans_to_bio
from marsad.data.document import Article, Entity
from marsad.data.text import Token, tokenize
from marsad.errors import DataFormatError


def _prf(tp: float, fp: float, fn: float) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": int(tp + fn)}


def match_articles(gold: Sequence[Article], pred: Sequence[Article], gold_name: str = "gold",
                   pred_name: str = "pred", check_sentences: bool = True) -> list[tuple[Article, Article]]:
    """Pair gold and predicted articles by id; any mismatch is a DataFormatError naming the record."""
    by_id = {}
    for p in pred:
        if p.id in by_id:
            raise DataFormatError(pred_name, None, "duplicate id in predictions", p.id)
        by_id[p.id] = p
    pairs = []
    for g in gold:
        p = by_id.pop(g.id, None)
        if p is None:
            raise DataFormatError(pred_name, None, "no prediction for this gold article", g.id)
        if p.text != g.text:
            i = next((k for k, (a, b) in enumerate(zip(g.text, p.text)) if a != b), min(len(g.text), len(p.text)))
            raise DataFormatError(pred_name, None, f"text differs from the gold text at character {i} "
                                  f"(gold {g.text[i:i+20]!r}, pred {p.text[i:i+20]!r})", g.id)
        if check_sentences and g.sentences is not None and p.sentences is not None:
            gs = [(s.start, s.end) for s in g.sentences]
            ps = [(s.start, s.end) for s in p.sentences]
            if gs != ps:
                k = next((k for k, (a, b) in enumerate(zip(gs, ps)) if a != b), min(len(gs), len(ps)))
                raise DataFormatError(pred_name, None, f"sentence boundaries differ from gold at sentence {k} "
                                      f"(gold {gs[k] if k < len(gs) else None}, pred {ps[k] if k < len(ps) else None}); "
                                      "predict with the gold sentences (marsad evaluate does)", g.id)
        pairs.append((g, p))
    if by_id:
        extra = next(iter(by_id))
        raise DataFormatError(pred_name, None, f"prediction for an article not in {gold_name} "
                              f"({len(by_id)} such)", extra)
    return pairs


def _snap(tokens: Sequence[Token], ents: Sequence[Entity]) -> list[Entity]:
    """Spans of another system may cut tokens: widen each to the tokens it touches (for word-level BIO only)."""
    out, last_end = [], -1
    for e in sorted(ents, key=lambda e: (e.start, -e.end)):
        touched = [t for t in tokens if t.start < e.end and e.start < t.end]
        if not touched or touched[0].start < last_end:
            continue  # nothing to tag, or overlaps the previous span
        out.append(Entity(touched[0].start, touched[-1].end, e.label))
        last_end = touched[-1].end
    return out


def sentence_tag_sequences(pairs: Sequence[tuple[Article, Article]]) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """Word-level IOB2 gold and predicted sequences per gold sentence (the article's whole text if none)."""
    ys, ps, owners = [], [], []
    for g, p in pairs:
        spans = [(s.start, s.end) for s in g.sentences] if g.sentences else [(0, len(g.text))]
        for s, e in spans:
            toks = tokenize(g.text, s, e)
            if not toks:
                continue
            ge = [x for x in g.entities if s <= x.start and x.end <= e]
            pe = [x for x in p.entities if s <= x.start and x.end <= e]
            ys.append(spans_to_bio(toks, _snap(toks, ge)))
            ps.append(spans_to_bio(toks, _snap(toks, pe)))
            owners.append(g.id)
    return ys, ps, owners


def seqeval_scores(y_true: list[list[str]], y_pred: list[list[str]], labels: Sequence[str] | None = None) -> dict:
    """Per-type, micro and macro P/R/F1 from seqeval, strict IOB2 and default mode."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    out = {}
    for mode_name, kw in (("strict", {"mode": "strict", "scheme": IOB2}), ("default", {})):
        rep = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kw)
        per = {k: {"precision": float(v["precision"]), "recall": float(v["recall"]), "f1": float(v["f1-score"]),
                   "support": int(v["support"])} for k, v in rep.items() if not k.endswith(" avg")}
        for lab in labels or []:
            per.setdefault(lab, {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0})
        out[mode_name] = {
            "per_type": dict(sorted(per.items())),
            "micro": {k: float(rep["micro avg"][k2]) for k, k2 in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score"))},
            "macro": {k: float(rep["macro avg"][k2]) for k, k2 in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score"))},
        }
        out[mode_name]["mode"] = "strict IOB2" if mode_name == "strict" else "default (conlleval-like, lenient)"
    return out


def event_matrices(pairs: Sequence[tuple[Article, Article]], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gold and predicted multi-hot matrices over event-annotated gold sentences, and predicted scores if any."""
    idx = {e: i for i, e in enumerate(labels)}
    Y, P, S = [], [], []
    has_scores = True
    for g, p in pairs:
        if g.sentences is None:
            continue
        pred_by_span = {(s.start, s.end): s for s in (p.sentences or [])}
        for s in g.sentences:
            if s.events is None:
                continue
            y = np.zeros(len(labels))
            for e in s.events:
                if e in idx:
                    y[idx[e]] = 1
            ps = pred_by_span.get((s.start, s.end))
            pv = np.zeros(len(labels))
            sv = np.zeros(len(labels))
            if ps is not None:
                for e in ps.events or []:
                    if e in idx:
                        pv[idx[e]] = 1
                if ps.scores:
                    sv = np.array([ps.scores.get(e, 0.0) for e in labels])
                else:
                    has_scores = False
            Y.append(y)
            P.append(pv)
            S.append(sv)
    shape = (0, len(labels))
    Ym = np.array(Y).reshape(-1, len(labels)) if Y else np.zeros(shape)
    Pm = np.array(P).reshape(-1, len(labels)) if P else np.zeros(shape)
    Sm = np.array(S).reshape(-1, len(labels)) if (S and has_scores) else None
    return Ym, Pm, Sm


def multilabel_scores(Y: np.ndarray, P: np.ndarray, labels: Sequence[str]) -> dict:
    """Per-label, micro and macro P/R/F1 and subset accuracy of multi-hot matrices."""
    per = {}
    TP = FP = FN = 0.0
    for i, lab in enumerate(labels):
        tp = float(((Y[:, i] == 1) & (P[:, i] == 1)).sum())
        fp = float(((Y[:, i] == 0) & (P[:, i] == 1)).sum())
        fn = float(((Y[:, i] == 1) & (P[:, i] == 0)).sum())
        per[lab] = _prf(tp, fp, fn)
        TP, FP, FN = TP + tp, FP + fp, FN + fn
    # Like seqeval, the macro average runs over labels present in gold or predictions.
    present = [lab for i, lab in enumerate(labels) if Y[:, i].sum() + P[:, i].sum() > 0]
    macro = {k: float(np.mean([per[lab][k] for lab in present])) if present else 0.0 for k in ("precision", "recall", "f1")}
    micro = _prf(TP, FP, FN)
    micro.pop("support")
    subset = float((Y == P).all(axis=1).mean()) if len(Y) else 0.0
    none_right = float(((Y.sum(1) == 0) & (P.sum(1) == 0)).sum())
    return {"per_type": per, "micro": micro, "macro": macro, "subset_accuracy": subset, "sentences": int(len(Y)),
            "no_event_sentences_predicted_right": int(none_right)}


def article_event_matrices(pairs: Sequence[tuple[Article, Article]], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    idx = {e: i for i, e in enumerate(labels)}
    Y, P = [], []
    for g, p in pairs:
        if g.sentences is None or all(s.events is None for s in g.sentences):
            continue
        y = np.zeros(len(labels))
        pv = np.zeros(len(labels))
        for e in g.events:
            if e in idx:
                y[idx[e]] = 1
        for e in p.events:
            if e in idx:
                pv[idx[e]] = 1
        Y.append(y)
        P.append(pv)
    shape = (0, len(labels))
    return (np.array(Y).reshape(-1, len(labels)) if Y else np.zeros(shape),
            np.array(P).reshape(-1, len(labels)) if P else np.zeros(shape))


def tune_thresholds(Y: np.ndarray, S: np.ndarray, labels: Sequence[str], grid: Sequence[float] | None = None
                    ) -> dict[str, float]:
    """Per-label threshold maximising that label's F1 on (gold Y, scores S); 0.5 where a label has no data."""
    grid = list(grid) if grid is not None else [round(x, 2) for x in np.arange(0.05, 0.96, 0.05)]
    out = {}
    for i, lab in enumerate(labels):
        if Y[:, i].sum() == 0:
            out[lab] = 0.5
            continue
        best_t, best_f = 0.5, -1.0
        for t in grid:
            pred = S[:, i] >= t
            tp = float((pred & (Y[:, i] == 1)).sum())
            f = _prf(tp, float(pred.sum()) - tp, float(Y[:, i].sum()) - tp)["f1"]
            # Ties go to the threshold nearest 0.5 (less overfit to a small dev set).
            if f > best_f + 1e-12 or (abs(f - best_f) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
                best_t, best_f = t, f
        out[lab] = float(best_t)
    return out


def threshold_curves(Y: np.ndarray, S: np.ndarray, labels: Sequence[str], steps: int = 19) -> dict[str, list[dict]]:
    """Precision, recall and F1 per label at thresholds 0.05..0.95."""
    curves = defaultdict(list)
    for t in np.linspace(0.05, 0.95, steps):
        for i, lab in enumerate(labels):
            pred = S[:, i] >= t
            tp = float((pred & (Y[:, i] == 1)).sum())
            r = _prf(tp, float(pred.sum()) - tp, float(Y[:, i].sum()) - tp)
            curves[lab].append({"threshold": round(float(t), 3), "precision": r["precision"], "recall": r["recall"],
                                "f1": r["f1"]})
    return dict(curves)
