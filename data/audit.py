"""Consistency audit of annotated data (``marsad audit``).

Finds what a validator cannot: the same words tagged as different types, tagged in one
place and left untagged in another, and sentences whose cue words suggest an event type
they do not carry. Each finding is a place to look, not a verdict (homographs exist:
مسيرة is a march or a drone).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import regex

from marsad.data.document import Article
from marsad.data.text import NormalizationConfig, tokenize

_FULL = NormalizationConfig(normalize_alef=True, normalize_ya=True, normalize_ta_marbuta=True)

# Cue words per event type (ANNOTATION.md's list, extended with common news wording).
EVENT_CUES: dict[str, str] = {
    "ARMED_CLASH": r"اشتباك|اشتبك|معارك|معركة|مواجهات|اقتتال|هجوم بري|هجوما بريا|تسلل|كمين|تصدت|تصدى",
    "SHELLING": r"قصف مدفعي|قصفا مدفعيا|قصف صاروخي|قصفا صاروخيا|قذائف|قذيفة|هاون|راجمات|صواريخ غراد|مدفعية|المدفعية",
    "AIRSTRIKE": r"غارة|غارات|قصف جوي|قصفا جويا|ضربة جوية|ضربات جوية|طائرة مسيرة|طائرات مسيرة|بطائرة مسيرة|مسيرة انتحارية|الطيران الحربي",
    "EXPLOSION": r"انفجار|انفجرت|تفجير|عبوة ناسفة|عبوات ناسفة|لغم|الغام|مفخخة|انتحاري",
    "VIOLENCE_AGAINST_CIVILIANS": r"اغتيال|اغتال|اعدام|اعدم|اختطاف|اختطف|خطف|تعذيب|تصفية",
    "ARREST": r"اعتقال|اعتقل|احتجاز|احتجز|مداهمة|داهمت|داهم|توقيف|اوقفت|القبض على|حملة اعتقالات",
    "PROTEST": r"مظاهرة|مظاهرات|تظاهر|احتجاج|احتجاجات|اعتصام|اضراب|اعمال شغب|المحتجين|المتظاهرين|وقفة احتجاجية",
    "MILITARY_MOVEMENT": r"تعزيزات|انتشار|انتشرت|انسحاب|انسحبت|تحليق|نقطة عسكرية|رتل|ارتال|استقدمت|دفعت .{0,20}بتعزيزات",
    "DIPLOMACY": r"اتصال هاتفي|اتصالا هاتفيا|مباحثات|محادثات|اجتماع|اتفاق|هدنة|وقف اطلاق النار|مفاوضات|التقى|وساطة",
}


def _norm(s: str) -> str:
    from marsad.data.text import normalize_text

    return normalize_text(s, _FULL)


@dataclass
class AuditReport:
    """Findings of an audit; ``str()`` gives the human-readable report."""

    mixed_types: list[dict] = field(default_factory=list)
    untagged: list[dict] = field(default_factory=list)
    missing_events: dict[str, list[dict]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"mixed_types": self.mixed_types, "untagged": self.untagged, "missing_events": self.missing_events}

    def __str__(self) -> str:
        out = [f"== Same words, different entity types ({len(self.mixed_types)})"]
        for m in self.mixed_types:
            labels = ", ".join(f"{k} ×{v}" for k, v in m["labels"].items())
            out.append(f"  {m['surface']}: {labels}")
            for lab, where in m["examples"].items():
                out.append(f"      {lab}: {', '.join(where)}")
        out.append(f"\n== Tagged in one place, untagged in another ({len(self.untagged)})")
        for u in self.untagged:
            out.append(f"  {u['surface']} ({'/'.join(u['labels'])}): tagged ×{u['tagged']}, untagged ×{u['untagged_count']}")
            for ex in u["untagged_examples"]:
                out.append(f"      {ex['id']} @{ex['start']}: …{ex['context']}…")
        total = sum(len(v) for v in self.missing_events.values())
        out.append(f"\n== Sentences whose cue words suggest an event type they lack ({total})")
        for lab, items in self.missing_events.items():
            out.append(f"  {lab} ({len(items)})")
            for it in items:
                out.append(f"      {it['id']} [{it['start']}:{it['end']}] cue {it['cue']!r} has {it['events']}: {it['text']}")
        return "\n".join(out)


def audit(articles: Iterable[Article], min_tagged: int = 2, max_examples: int = 5) -> AuditReport:
    """Audit ``articles`` for inconsistent entity labelling and missing event types."""
    arts = list(articles)
    report = AuditReport()
    surfaces: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    display: dict[tuple[str, ...], str] = {}
    where: dict[tuple[str, ...], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    tokenised = []
    for a in arts:
        toks = tokenize(a.text)
        ntoks = [_norm(t.text) for t in toks]
        starts = {t.start: i for i, t in enumerate(toks)}
        covered = [False] * len(toks)
        for e in a.entities:
            i = starts.get(e.start)
            if i is None:
                continue
            j = i
            while j < len(toks) and toks[j].end <= e.end:
                covered[j] = True
                j += 1
            key = tuple(ntoks[i:j])
            surfaces[key][e.label] += 1
            display.setdefault(key, a.text[e.start : e.end])
            where[key][e.label].append(f"{a.id}@{e.start}")
        tokenised.append((a, toks, ntoks, covered))

    for key, labels in sorted(surfaces.items(), key=lambda kv: -sum(kv[1].values())):
        if len(labels) > 1:
            report.mixed_types.append({
                "surface": display[key], "labels": dict(labels.most_common()),
                "examples": {lab: where[key][lab][:max_examples] for lab in labels},
            })

    by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for key, labels in surfaces.items():
        if sum(labels.values()) >= min_tagged and key:
            by_first[key[0]].append(key)
    misses: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for a, toks, ntoks, covered in tokenised:
        for i, nt in enumerate(ntoks):
            for key in by_first.get(nt, ()):
                j = i + len(key)
                if tuple(ntoks[i:j]) == key and not any(covered[i:j]):
                    s, e = toks[i].start, toks[j - 1].end
                    misses[key].append({"id": a.id, "start": s,
                                        "context": a.text[max(0, s - 30) : e + 30].replace("\n", " ")})
    for key, items in sorted(misses.items(), key=lambda kv: -len(kv[1])):
        report.untagged.append({
            "surface": display[key], "labels": sorted(surfaces[key]), "tagged": sum(surfaces[key].values()),
            "untagged_count": len(items), "untagged_examples": items[:max_examples],
        })

    cues = {lab: regex.compile(_norm(pat)) for lab, pat in EVENT_CUES.items()}
    for a in arts:
        for s in a.sentences or []:
            if s.events is None:
                continue
            text = a.text[s.start : s.end]
            ntext = _norm(text)
            for lab, rx in cues.items():
                if lab in s.events:
                    continue
                m = rx.search(ntext)
                if m:
                    report.missing_events.setdefault(lab, []).append({
                        "id": a.id, "start": s.start, "end": s.end, "cue": m.group(), "events": s.events,
                        "text": text.replace("\n", " "),
                    })
    return report
