"""Words <-> subwords, and long sentences <-> overlapping windows.

Labels live on words (ANNOTATION.md tokens); the model sees subwords. A fast tokenizer's
offset mapping (into the original sentence text: normalisation happens inside the tokenizer)
ties each subword to the word containing its first character. The first subword of a word
carries the word's label; the others get -100 so the loss and decoding ignore them.

Windows are planned on subword positions rather than through the tokenizer's own
``return_overflowing_tokens``: sentences are tokenised once, in a batch, and their windows
are then packed across sentences and articles by length for batching, which the
per-text overflow API cannot do. ``merge_windows`` takes each position from the window in
which it lies farthest from an edge (flair and the HF pipeline do the same).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Sequence, TypeVar

from marsad.data.text import Token

IGNORE = -100
T = TypeVar("T")


@dataclass
class EncodedSentence:
    """A sentence's subwords (no special tokens) tied to its words."""

    input_ids: list[int]
    word_ids: list[int]  # word index per subword, -1 for subwords inside no word
    first_subword: list[int]  # per word: index of its first subword, -1 if it has none
    n_words: int


def subword_word_ids(offsets: Sequence[tuple[int, int]], words: Sequence[Token], base: int = 0) -> list[int]:
    """For each subword (offsets relative to ``base``), the index of the word containing its start."""
    starts = [w.start for w in words]
    out = []
    for a, b in offsets:
        if b <= a:
            out.append(-1)
            continue
        pos = a + base
        i = bisect.bisect_right(starts, pos) - 1
        # A subword may begin on whitespace the tokenizer folded in (a Metaspace "▁"): use its end.
        if i < 0 or pos >= words[i].end:
            pos2 = b - 1 + base
            i = bisect.bisect_right(starts, pos2) - 1
            if i < 0 or pos2 >= words[i].end or pos2 < words[i].start:
                out.append(-1)
                continue
        out.append(i)
    return out


def encode_sentences(tokenizer: Any, text: str, spans: Sequence[tuple[int, int]], words: Sequence[Sequence[Token]]
                     ) -> list[EncodedSentence]:
    """Tokenise the sentences ``text[s:e]`` in one batch call and tie subwords to ``words``."""
    if not spans:
        return []
    # verbose=False: sentences longer than the model are expected here; they are windowed below.
    enc = tokenizer([text[s:e] for s, e in spans], add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    out = []
    for k, (s, _e) in enumerate(spans):
        ids = enc["input_ids"][k]
        wids = subword_word_ids(enc["offset_mapping"][k], words[k], base=s)
        first = [-1] * len(words[k])
        for j, w in enumerate(wids):
            if w >= 0 and first[w] < 0:
                first[w] = j
        out.append(EncodedSentence(list(ids), wids, first, len(words[k])))
    return out


def subword_labels(sent: EncodedSentence, word_labels: Sequence[int]) -> list[int]:
    """Label ids per subword: the word's label on its first subword, -100 on the rest."""
    labels = [IGNORE] * len(sent.input_ids)
    for w, j in enumerate(sent.first_subword):
        if j >= 0:
            labels[j] = word_labels[w]
    return labels


def plan_windows(n: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Windows ``[start, end)`` of at most ``size`` positions covering ``range(n)``.

    Consecutive windows overlap by at least ``stride`` positions; the last window ends at ``n``.
    """
    if size <= 0:
        raise ValueError(f"window size must be positive, got {size}")
    if not 0 <= stride < size:
        raise ValueError(f"stride must be in [0, {size}), got {stride}")
    if n <= size:
        return [(0, n)]
    step = size - stride
    windows = []
    start = 0
    while start + size < n:
        windows.append((start, start + size))
        start += step
    windows.append((n - size, n))
    return windows


def window_owners(n: int, windows: Sequence[tuple[int, int]]) -> list[int]:
    """For each position, the window in which it lies farthest from an edge (ties: the earlier)."""
    owner = [-1] * n
    best = [-1] * n
    for k, (s, e) in enumerate(windows):
        for p in range(s, e):
            d = min(p - s, e - 1 - p)
            if d > best[p]:
                best[p], owner[p] = d, k
    return owner


def split_windows(values: Sequence[T], windows: Sequence[tuple[int, int]]) -> list[list[T]]:
    return [list(values[s:e]) for s, e in windows]


def merge_windows(parts: Sequence[Sequence[T]], windows: Sequence[tuple[int, int]], n: int) -> list[T]:
    """Inverse of ``split_windows``: each position from its owner window."""
    owners = window_owners(n, windows)
    return [parts[k][p - windows[k][0]] for p, k in enumerate(owners)]


def owned_mask(n: int, windows: Sequence[tuple[int, int]], k: int) -> list[bool]:
    """Which positions of window ``k`` it owns (so each position is scored exactly once)."""
    owners = window_owners(n, windows)
    s, e = windows[k]
    return [owners[p] == k for p in range(s, e)]
