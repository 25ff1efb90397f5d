"""Evaluation outputs: metrics.json, report.md, report.html (right-to-left, spans highlighted) and PNG charts."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from marsad.data.document import Article
from marsad.eval.errors import KINDS, classify_spans

COLORS = ["#f4a261", "#2a9d8f", "#e76f51", "#8ab17d", "#9b5de5", "#00bbf9", "#f15bb5", "#fee440"]


def _label_colors(labels: Sequence[str]) -> dict[str, str]:
    return {lab: COLORS[i % len(COLORS)] for i, lab in enumerate(labels)}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _ci(metrics: dict, key: str) -> str:
    ci = metrics.get("confidence_intervals", {}).get(key)
    return f"[{100 * ci['low']:.1f}, {100 * ci['high']:.1f}]" if ci else ""


def write_charts(metrics: dict, out: Path) -> list[Path]:
    """Per-label F1 with 95% intervals, and the event co-occurrence matrix, as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    head = metrics.get("headline", {})
    keys = [k for k in head if "/" in k]
    if keys:
        fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(keys) + 2), 4.2))
        vals = [100 * head[k] for k in keys]
        cis = metrics.get("confidence_intervals", {})
        err = None
        if all(k in cis for k in keys):
            err = np.array([[100 * (head[k] - cis[k]["low"]) for k in keys], [100 * (cis[k]["high"] - head[k]) for k in keys]])
            err = np.clip(err, 0, None)
        colors = ["#2a9d8f" if k.startswith("entity") else "#e76f51" for k in keys]
        ax.bar(range(len(keys)), vals, yerr=err, color=colors, capsize=3)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([k.split("/", 1)[1] for k in keys], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("F1 (%)")
        ax.set_ylim(0, 100)
        ax.set_title("F1 per label (entities green, events orange; bars: 95% bootstrap interval)", fontsize=9)
        fig.tight_layout()
        p = out / "f1_per_label.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    co = metrics.get("events", {}).get("cooccurrence")
    if co:
        M = np.array(co["matrix"])
        fig, ax = plt.subplots(figsize=(7.5, 6.5))
        im = ax.imshow(np.log1p(M), cmap="Blues")
        ax.set_xticks(range(len(co["cols_pred"])))
        ax.set_yticks(range(len(co["rows_gold"])))
        ax.set_xticklabels(co["cols_pred"], rotation=60, ha="right", fontsize=7)
        ax.set_yticklabels(co["rows_gold"], fontsize=7)
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                if M[i, j]:
                    ax.text(j, i, str(M[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if np.log1p(M[i, j]) > np.log1p(M.max()) / 2 else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title("Event types per sentence: gold vs predicted", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.04, label="log(1 + sentences)")
        fig.tight_layout()
        p = out / "event_matrix.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


def render_markdown(metrics: dict, title: str) -> str:
    lines = [f"# {title}", "", f"{metrics['articles']} articles; entity scores by seqeval, "
             f"{metrics['entities']['strict']['mode']} (default mode beside it); intervals: "
             f"{metrics.get('confidence_intervals', {}).get('method', 'none')}.", ""]
    lines += ["## Entities", "", "| type | P | R | F1 (strict) | 95% CI | F1 (default mode) | support |", "|---|---|---|---|---|---|---|"]
    strict, default = metrics["entities"]["strict"], metrics["entities"]["default"]
    for lab, r in strict["per_type"].items():
        lines.append(f"| {lab} | {_pct(r['precision'])} | {_pct(r['recall'])} | {_pct(r['f1'])} | {_ci(metrics, 'entity_f1/' + lab)} | "
                     f"{_pct(default['per_type'].get(lab, {}).get('f1'))} | {r['support']} |")
    for avg in ("micro", "macro"):
        r = strict[avg]
        lines.append(f"| **{avg}** | {_pct(r['precision'])} | {_pct(r['recall'])} | **{_pct(r['f1'])}** | "
                     f"{_ci(metrics, f'entity_{avg}_f1')} | {_pct(default[avg]['f1'])} | |")
    sp = metrics["spans"]["overall"]
    lines += ["", "Character spans (SemEval-2013 schemes, nervaluate):", "",
              "| scheme | P | R | F1 | correct | incorrect | partial | missed | spurious |", "|---|---|---|---|---|---|---|---|---|"]
    for s, r in sp.items():
        lines.append(f"| {s} | {_pct(r['precision'])} | {_pct(r['recall'])} | {_pct(r['f1'])} | {r['correct']} | "
                     f"{r['incorrect']} | {r['partial']} | {r['missed']} | {r['spurious']} |")
    ev = metrics.get("events")
    if ev:
        s = ev["sentence"]
        lines += ["", "## Events", "", f"{s['sentences']} sentences; subset accuracy {_pct(s['subset_accuracy'])}.", "",
                  "| type | P | R | F1 (sentence) | 95% CI | F1 (article) | support |", "|---|---|---|---|---|---|---|"]
        for lab, r in s["per_type"].items():
            lines.append(f"| {lab} | {_pct(r['precision'])} | {_pct(r['recall'])} | {_pct(r['f1'])} | {_ci(metrics, 'event_f1/' + lab)} | "
                         f"{_pct(ev['article']['per_type'][lab]['f1'])} | {r['support']} |")
        for avg in ("micro", "macro"):
            lines.append(f"| **{avg}** | {_pct(s[avg]['precision'])} | {_pct(s[avg]['recall'])} | **{_pct(s[avg]['f1'])}** | "
                         f"{_ci(metrics, f'event_{avg}_f1')} | {_pct(ev['article'][avg]['f1'])} | |")
    err = metrics.get("errors")
    if err:
        lines += ["", "## Errors", "", "| kind | spans |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in err["kinds"].items()]
        for key, name in (("type_confusions", "Most frequent type confusions"), ("most_missed", "Most missed"),
                          ("most_spurious", "Most spurious"), ("boundary_errors", "Boundary errors (gold -> predicted)")):
            if err[key]:
                lines += ["", f"**{name}:** " + "; ".join(f"{k} ×{v}" for k, v in err[key])]
    for png in ("f1_per_label.png", "event_matrix.png"):
        lines += ["", f"![{png}]({png})"]
    return "\n".join(lines) + "\n"


def _highlight(text: str, spans: list[tuple[int, int, str, str]]) -> str:
    """HTML of ``text`` with non-overlapping ``(start, end, label, css class)`` spans marked."""
    out, pos = [], 0
    for s, e, label, cls in sorted(spans):
        if s < pos:
            continue
        out.append(html.escape(text[pos:s]))
        out.append(f'<mark class="ent {cls}" data-label="{html.escape(label)}" title="{html.escape(label)}">'
                   f"{html.escape(text[s:e])}<sub>{html.escape(label)}</sub></mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def render_html(metrics: dict, pairs: Sequence[tuple[Article, Article]], labels: Sequence[str], title: str,
                max_articles: int = 300) -> str:
    """A self-contained right-to-left report: scores, error groups, and every article's gold vs predicted spans."""
    colors = _label_colors(labels)
    css_labels = "\n".join(f'mark.ent[data-label="{lab}"] {{ background: {c}55; border-bottom: 2px solid {c}; }}'
                           for lab, c in colors.items())
    md_table = render_markdown(metrics, title)
    head = metrics["headline"]
    summary_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_pct(v)}</td><td>{_ci(metrics, k)}</td></tr>"
                           for k, v in head.items())
    err = metrics.get("errors", {})
    err_rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in err.get("kinds", {}).items())
    lists = ""
    for key, name in (("type_confusions", "Most frequent type confusions"), ("most_missed", "Most missed"),
                      ("most_spurious", "Most spurious"), ("boundary_errors", "Boundary errors")):
        items = "".join(f"<li>{html.escape(k)} <b>×{v}</b></li>" for k, v in err.get(key, []))
        if items:
            lists += f'<div class="list"><h3>{name}</h3><ol>{items}</ol></div>'
    # Articles with the most errors first.
    scored = []
    for g, p in pairs:
        errs = classify_spans(g, p)
        scored.append((sum(e.kind != "correct" for e in errs), g, p, errs))
    scored.sort(key=lambda x: -x[0])
    blocks = []
    for n_err, g, p, errs in scored[:max_articles]:
        kind_of_pred = {}
        for e in errs:
            if e.pred is not None:
                kind_of_pred[(e.pred.start, e.pred.end)] = e.kind
        gold_spans = [(e.start, e.end, e.label, "gold") for e in g.entities]
        pred_spans = [(e.start, e.end, e.label, kind_of_pred.get((e.start, e.end), "correct")) for e in p.entities]
        missed = [e.gold for e in errs if e.kind == "false_negative"]
        sent_rows = ""
        pred_by_span = {(s.start, s.end): s for s in (p.sentences or [])}
        for s in g.sentences or []:
            if s.events is None:
                continue
            ps = pred_by_span.get((s.start, s.end))
            pe = set(ps.events or []) if ps else set()
            ge = set(s.events)
            if ge or pe:
                cls = "ok" if ge == pe else "bad"
                sent_rows += (f'<tr class="{cls}"><td dir="rtl">{html.escape(g.text[s.start:s.end][:90])}…</td>'
                              f"<td>{', '.join(sorted(ge)) or '—'}</td><td>{', '.join(sorted(pe)) or '—'}</td></tr>")
        blocks.append(f"""
<section class="article" id="{html.escape(g.id)}">
  <h3>{html.escape(g.id)} <small>{n_err} span error(s); {len(missed)} missed</small></h3>
  <div class="pair">
    <div><h4>gold</h4><p class="text" dir="rtl" lang="ar">{_highlight(g.text, gold_spans)}</p></div>
    <div><h4>predicted</h4><p class="text" dir="rtl" lang="ar">{_highlight(p.text, pred_spans)}</p></div>
  </div>
  {f'<table class="events"><tr><th>sentence</th><th>gold events</th><th>predicted events</th></tr>{sent_rows}</table>' if sent_rows else ''}
</section>""")
    legend = " ".join(f'<mark class="ent" data-label="{lab}">{lab}</mark>' for lab in labels)
    kinds_legend = " ".join(f'<span class="k {k}">{k.replace("_", " ")}</span>' for k in KINDS if k != "correct")
    charts = "".join(f'<img src="{png}" alt="{png}">' for png in ("f1_per_label.png", "event_matrix.png"))
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "Noto Naskh Arabic", "DejaVu Sans", "Arial", sans-serif; margin: 1.5em; line-height: 1.9; }}
.ltr {{ direction: ltr; text-align: left; }}
table {{ border-collapse: collapse; margin: .5em 0; }} td, th {{ border: 1px solid #ccc; padding: 2px 8px; }}
.pair {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }}
.text {{ font-size: 1.05em; background: #fafafa; padding: .5em; }}
mark.ent {{ padding: 0 2px; border-radius: 3px; }}
mark.ent sub {{ font-size: .6em; color: #333; }}
mark.false_positive {{ outline: 2px dashed #d00; }}
mark.wrong_type, mark.wrong_type_and_boundary {{ outline: 2px solid #d00; }}
mark.wrong_boundary {{ outline: 2px dotted #e80; }}
.k {{ padding: 0 4px; margin: 0 4px; }} .k.false_positive {{ outline: 2px dashed #d00; }}
.k.wrong_type, .k.wrong_type_and_boundary {{ outline: 2px solid #d00; }} .k.wrong_boundary {{ outline: 2px dotted #e80; }}
.k.false_negative {{ text-decoration: underline wavy #d00; }}
tr.bad td {{ background: #fde8e8; }}
.lists {{ display: flex; flex-wrap: wrap; gap: 2em; }}
img {{ max-width: 48%; margin: .5em; }}
{css_labels}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<div class="ltr">
<p>{metrics['articles']} articles. Entities: seqeval, {metrics['entities']['strict']['mode']}. Intervals:
{html.escape(metrics.get('confidence_intervals', {}).get('method', 'none'))}.</p>
<table><tr><th>figure</th><th>%</th><th>95% CI</th></tr>{summary_rows}</table>
<h2>Errors by kind</h2><table>{err_rows}</table>
<div class="lists">{lists}</div>
<h2>Charts</h2>{charts}
<p>Legend: {legend} — {kinds_legend}</p>
</div>
<h2>Articles (most errors first)</h2>
{''.join(blocks)}
<details class="ltr"><summary>report.md</summary><pre>{html.escape(md_table)}</pre></details>
</body></html>
"""


def write_report(out_dir: str | Path, metrics: dict, pairs: Sequence[tuple[Article, Article]], labels: Sequence[str],
                 title: str = "marsad evaluation") -> dict[str, Path]:
    """Write metrics.json, report.md, report.html and the PNG charts into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "markdown": out / "report.md", "html": out / "report.html"}
    paths["metrics"].write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for p in write_charts(metrics, out):
        paths[p.stem] = p
    paths["markdown"].write_text(render_markdown(metrics, title), encoding="utf-8")
    paths["html"].write_text(render_html(metrics, pairs, labels, title), encoding="utf-8")
    return paths
