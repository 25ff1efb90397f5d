"""Word-level tagging: character spans <-> IOB2 tags, scheme conversion and repair.

seqeval scores tag sequences but has no span<->tag conversion with character offsets, no
IOB1/BIOES -> IOB2 conversion that reports what it changed, and no deterministic repair
with a count; these few functions are written here for that reason.
"""

from __future__ import annotations

from typing import Sequence

from marsad.data.document import Entity
from marsad.data.text import Token


def split_tag(tag: str) -> tuple[str, str | None]:
    """``'B-ACTOR' -> ('B', 'ACTOR')``; ``'O' -> ('O', None)``."""
    if tag == "O":
        return "O", None
    prefix, _, label = tag.partition("-")
    if not label or prefix not in ("B", "I", "E", "S", "L", "U"):
        raise ValueError(f"invalid tag {tag!r} (expected O or B-/I-/E-/S- followed by a label)")
    return prefix, label


def spans_to_bio(tokens: Sequence[Token], entities: Sequence[Entity]) -> list[str]:
    """IOB2 tags for ``tokens`` from character-span ``entities`` (which must sit on token boundaries)."""
    tags = ["O"] * len(tokens)
    index = {t.start: i for i, t in enumerate(tokens)}
    ends = {t.end: i for i, t in enumerate(tokens)}
    for e in entities:
        i, j = index.get(e.start), ends.get(e.end)
        if i is None or j is None or j < i:
            raise ValueError(f"entity {e.label} [{e.start}:{e.end}] does not sit on token boundaries")
        tags[i] = f"B-{e.label}"
        for k in range(i + 1, j + 1):
            tags[k] = f"I-{e.label}"
    return tags


def repair_iob2(tags: Sequence[str]) -> tuple[list[str], int]:
    """Make ``tags`` valid IOB2: an ``I-X`` not continuing an ``X`` entity becomes ``B-X``.

    This is conlleval's reading (a stray ``I-`` starts an entity), applied deterministically.
    Returns the repaired tags and how many were changed.
    """
    out: list[str] = []
    fixed = 0
    prev_label: str | None = None
    for tag in tags:
        prefix, label = split_tag(tag)
        if prefix == "I" and prev_label != label:
            out.append(f"B-{label}")
            fixed += 1
        else:
            out.append(tag)
        prev_label = label
    return out, fixed


def to_iob2(tags: Sequence[str], scheme: str = "iob2") -> tuple[list[str], int]:
    """Convert IOB1, BIOES/BILOU or (possibly broken) IOB2 tags to valid IOB2.

    Returns the tags and the number of repairs (only stray ``I-`` under ``iob2`` count as repairs;
    a scheme conversion is not an error).
    """
    scheme = scheme.lower()
    if scheme == "iob2":
        return repair_iob2(tags)
    out: list[str] = []
    prev_label: str | None = None
    prev_prefix = "O"
    for tag in tags:
        prefix, label = split_tag(tag)
        if scheme == "iob1":
            if prefix == "I" and prev_label != label:
                prefix = "B"
        elif scheme in ("bioes", "iobes", "bilou"):
            if prefix in ("S", "U"):
                prefix = "B"
            elif prefix in ("E", "L"):
                prefix = "I" if prev_label == label and prev_prefix in ("B", "I") else "B"
            elif prefix == "I" and prev_label != label:
                prefix = "B"
        else:
            raise ValueError(f"unknown tagging scheme {scheme!r} (iob1, iob2, bioes)")
        out.append("O" if prefix == "O" else f"{prefix}-{label}")
        prev_label, prev_prefix = label, prefix
    return out, 0


def bio_to_spans(tokens: Sequence[Token], tags: Sequence[str], scores: Sequence[float] | None = None) -> list[Entity]:
    """Character spans from IOB2 ``tags`` over ``tokens``; stray ``I-`` tags start a new entity.

    With ``scores`` (one per token, the probability of its tag), each span's score is the mean
    over its tokens.
    """
    tags, _ = repair_iob2(tags)
    spans: list[Entity] = []
    cur: tuple[int, int, str] | None = None  # (first token, last token, label)

    def close() -> None:
        if cur is not None:
            i, j, label = cur
            sc = None
            if scores is not None:
                sc = float(sum(scores[i : j + 1]) / (j - i + 1))
            spans.append(Entity(tokens[i].start, tokens[j].end, label, sc))

    for k, tag in enumerate(tags):
        prefix, label = split_tag(tag)
        if prefix == "B":
            close()
            cur = (k, k, label)  # type: ignore[assignment]
        elif prefix == "I" and cur is not None:
            cur = (cur[0], k, cur[2])
        else:
            close()
            cur = None
    close()
    return spans
