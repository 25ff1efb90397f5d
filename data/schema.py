"""Label schema: the entity and event label sets, and the BIO tag maps derived from them.

The default schema of ANNOTATION.md ships as ``schemas/default.json``; a project can pass its
own file, or infer the label sets from annotated data. Nothing else hard-codes labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable

from marsad.errors import LabelMismatchError


@dataclass(frozen=True)
class Schema:
    """Entity types (tagged as IOB2 over words) and sentence-level event types."""

    entity_labels: tuple[str, ...]
    event_labels: tuple[str, ...] = ()
    name: str = "custom"
    descriptions: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        for kind, labels in (("entity", self.entity_labels), ("event", self.event_labels)):
            if len(set(labels)) != len(labels):
                raise ValueError(f"duplicate {kind} labels in schema {self.name!r}: {list(labels)}")
            for lab in labels:
                if not lab or lab == "O" or lab[:2] in ("B-", "I-") or any(c.isspace() for c in lab):
                    raise ValueError(f"invalid {kind} label {lab!r} in schema {self.name!r}")

    @property
    def bio_tags(self) -> list[str]:
        """``O`` then ``B-X, I-X`` for every entity type, in schema order: the token head's classes."""
        tags = ["O"]
        for lab in self.entity_labels:
            tags += [f"B-{lab}", f"I-{lab}"]
        return tags

    @property
    def tag2id(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.bio_tags)}

    @property
    def id2tag(self) -> dict[int, str]:
        return dict(enumerate(self.bio_tags))

    @property
    def event2id(self) -> dict[str, int]:
        return {e: i for i, e in enumerate(self.event_labels)}

    def to_dict(self) -> dict:
        return {"name": self.name, "entity_labels": list(self.entity_labels), "event_labels": list(self.event_labels),
                "descriptions": dict(self.descriptions)}

    @classmethod
    def from_dict(cls, d: dict) -> "Schema":
        try:
            return cls(
                entity_labels=tuple(d["entity_labels"]),
                event_labels=tuple(d.get("event_labels", ())),
                name=d.get("name", "custom"),
                descriptions=dict(d.get("descriptions", {})),
            )
        except KeyError as err:
            raise ValueError(f"schema has no {err.args[0]!r} list") from err

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def check_entity_label(self, label: str) -> None:
        if label not in self.entity_labels:
            raise LabelMismatchError(f"entity label {label!r} is not in schema {self.name!r} {list(self.entity_labels)}")


def default_schema() -> Schema:
    """The schema of ANNOTATION.md (ACTOR, PLACE, WEAPON; nine ACLED-aligned event types)."""
    text = resources.files("marsad.data").joinpath("schemas/default.json").read_text(encoding="utf-8")
    return Schema.from_dict(json.loads(text))


def load_schema(path: str | Path | None) -> Schema:
    """A schema from a JSON file, or the default one for ``None``/``"default"``."""
    if path is None or str(path) == "default":
        return default_schema()
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"schema file not found: {p}")
    try:
        return Schema.from_dict(json.loads(p.read_text(encoding="utf-8")))
    except json.JSONDecodeError as err:
        raise ValueError(f"{p}:{err.lineno}: schema is not valid JSON: {err.msg}") from err


def infer_schema(articles: Iterable, name: str = "inferred") -> Schema:
    """Label sets as they occur in ``articles`` (sorted, so the result is deterministic)."""
    ents: set[str] = set()
    evs: set[str] = set()
    for a in articles:
        ents.update(e.label for e in a.entities)
        for s in a.sentences or []:
            evs.update(s.events or [])
    return Schema(entity_labels=tuple(sorted(ents)), event_labels=tuple(sorted(evs)), name=name)
