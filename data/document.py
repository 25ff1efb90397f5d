"""The in-memory form of an article: text, entity spans, sentences with event types, meta."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Entity:
    """A labelled character span ``text[start:end]`` of the original article."""

    start: int
    end: int
    label: str
    score: float | None = None

    def to_dict(self, text: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label}
        if text is not None:
            d["text"] = text[self.start : self.end]
        if self.score is not None:
            d["score"] = round(float(self.score), 4)
        return d


@dataclass
class Sentence:
    """A sentence span; ``events`` is None when the sentence carries no event annotation."""

    start: int
    end: int
    events: list[str] | None = None
    scores: dict[str, float] | None = None  # predicted probability per event label

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.scores is not None:
            d["events"] = [
                {"label": lab, "score": round(float(self.scores[lab]), 4)} for lab in (self.events or [])
            ]
            d["scores"] = {k: round(float(v), 4) for k, v in self.scores.items()}
        elif self.events is not None:
            d["events"] = list(self.events)
        return d


@dataclass
class Article:
    """One article. ``sentences`` is None for NER-only data with no sentence annotation."""

    id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    sentences: list[Sentence] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, with_entity_text: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict(self.text if with_entity_text else None) for e in self.entities],
        }
        if self.sentences is not None:
            d["sentences"] = [s.to_dict() for s in self.sentences]
        if self.meta:
            d["meta"] = self.meta
        return d

    @property
    def events(self) -> list[str]:
        """The article-level set of event types, in first-seen order."""
        seen: dict[str, None] = {}
        for s in self.sentences or []:
            for e in s.events or []:
                seen[e] = None
        return list(seen)
