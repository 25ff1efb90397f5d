"""Arabic text handling: the word tokeniser, the sentence splitter, and the model-side normaliser.

Offsets are always Python ``str`` indices into the text as received. Nothing here changes
the text: normalisation only happens inside the fast tokenizer (``tokenizers`` normalizers
track alignment), so subword offsets still point into the original.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterator

import regex

# ANNOTATION.md: a token is a maximal run of letters/digits/marks (Arabic or Latin, tatweel
# and diacritics included) or a single punctuation character. Format characters (RLM, ZWNJ,
# BOM...) are invisible in news text and separate tokens like whitespace does.
_TOKEN_RE = regex.compile(r"[\p{L}\p{N}\p{M}]+|[^\s\p{Cf}]")

DIACRITICS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"  # fathatan .. sukun (ANNOTATION.md range)
SUPERSCRIPT_ALEF = "\u0670"
TATWEEL = "\u0640"
EASTERN_DIGITS = "٠١٢٣٤٥٦٧٨٩"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"


@dataclass(frozen=True)
class Token:
    """A word or punctuation mark with its character span in the original text."""

    text: str
    start: int
    end: int


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Split ``text[start:end]`` into tokens whose offsets index ``text`` itself.

    Proclitics stay inside their word (``وإدلب`` is one token), as the annotation guide says.
    """
    end = len(text) if end is None else end
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text, start, end)]


# --- sentences -------------------------------------------------------------------------------

_TERMINALS = ".!?؟؛"
_CLOSERS = "\"'»”’)]}"
# Abbreviations after which a period does not end a sentence (Arabic news and Latin).
ARABIC_ABBREVIATIONS = frozenset(
    {"د", "م", "ق", "هـ", "ه", "ص", "ج", "ت", "ح", "أ", "س", "ك", "كم", "سم", "ملم", "ط", "ب", "ش", "ع", "ر", "إلخ"}
)
LATIN_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "gen", "col", "lt", "maj", "capt", "sgt", "vs", "etc", "no", "inc",
     "ltd", "co", "jr", "sr", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
     "e.g", "i.e", "u.s", "u.n", "u.k", "a.m", "p.m"}
)
_WORD_BEFORE = regex.compile(r"([\p{L}\p{M}.]+)$")


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence as a character span of the article."""

    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    m = _WORD_BEFORE.search(text, 0, dot)
    if not m:
        return False
    word = m.group(1).strip(".")
    if not word:
        return False
    if word.lower() in LATIN_ABBREVIATIONS or word in ARABIC_ABBREVIATIONS:
        return True
    # A single Latin capital ("J. Smith") or a dotted acronym ("U.N.").
    return (len(word) == 1 and word.isascii() and word.isupper()) or ("." in m.group(1).rstrip("."))


def split_sentences(text: str) -> list[SentenceSpan]:
    """Split an article into sentences for event typing.

    Splits after ``. ! ? ؟ ؛`` (with any closing quotes or brackets that follow) and at line
    breaks; not inside numbers (``2.5``, ``27.06.2021``), after abbreviations (``د.``, ``U.N.``),
    or on an ellipsis ``…``. Spans are trimmed of surrounding whitespace and never empty.
    """
    spans: list[SentenceSpan] = []
    n = len(text)
    start = 0
    i = 0
    while i < n:
        ch = text[i]
        cut = None
        if ch == "\n":
            cut = i
        elif ch in _TERMINALS:
            j = i
            while j + 1 < n and text[j + 1] in _TERMINALS:
                j += 1
            while j + 1 < n and text[j + 1] in _CLOSERS:
                j += 1
            at_end = j + 1 >= n or text[j + 1].isspace()
            if ch == "." and j == i:
                prev_digit = i > 0 and text[i - 1].isdigit()
                next_digit = i + 1 < n and text[i + 1].isdigit()
                if (prev_digit and next_digit) or not at_end or _is_abbreviation(text, i):
                    i += 1
                    continue
            if at_end:
                cut = j + 1
                i = j
        if cut is not None:
            _append_trimmed(spans, text, start, cut)
            start = cut
        i += 1
    _append_trimmed(spans, text, start, n)
    return spans


def _append_trimmed(spans: list[SentenceSpan], text: str, start: int, end: int) -> None:
    while start < end and (text[start].isspace() or regex.match(r"\p{Cf}", text[start])):
        start += 1
    while end > start and (text[end - 1].isspace() or regex.match(r"\p{Cf}", text[end - 1])):
        end -= 1
    if end > start:
        spans.append(SentenceSpan(start, end))


def iter_sentence_tokens(text: str, sentences: list[SentenceSpan]) -> Iterator[list[Token]]:
    """Tokens of each sentence, offsets into the whole article."""
    for s in sentences:
        yield tokenize(text, s.start, s.end)


# --- normalisation (the model's copy only) ----------------------------------------------------


@dataclass(frozen=True)
class NormalizationConfig:
    """What the model's copy of the text loses. Offsets are unaffected: see ``build_normalizer``.

    The defaults follow AraBERT v0.2's preprocessing (strip tashkeel and tatweel, map
    Eastern Arabic digits, keep hamza forms, which its vocabulary distinguishes). The alef,
    ya and ta marbuta unifications suit vocabularies trained on normalised text (tiny models).
    """

    strip_diacritics: bool = True
    strip_tatweel: bool = True
    map_digits: bool = True
    normalize_alef: bool = False  # أ إ آ ٱ -> ا
    normalize_ya: bool = False  # ى -> ي
    normalize_ta_marbuta: bool = False  # ة -> ه
    split_digits_from_letters: bool = True  # AraBERT inserts spaces between digits and letters

    def to_dict(self) -> dict[str, bool]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict | None) -> "NormalizationConfig":
        if not d:
            return cls()
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown normalisation flags: {sorted(unknown)}")
        return cls(**d)


@functools.lru_cache(maxsize=16)
def build_normalizer(cfg: NormalizationConfig):
    """A ``tokenizers`` normalizer doing ``cfg``; it tracks alignment, so offsets stay exact.

    Returns None when nothing is to be done.
    """
    from tokenizers import Regex, normalizers

    steps = []
    removed = ""
    if cfg.strip_diacritics:
        # Combining hamza and maddah (U+0653-0655) stay: removing them would change letters.
        removed += DIACRITICS + SUPERSCRIPT_ALEF
    if cfg.strip_tatweel:
        removed += TATWEEL
    if removed:
        steps.append(normalizers.Replace(Regex("[" + regex.escape(removed) + "]"), ""))
    if cfg.map_digits:
        for i, (e, p) in enumerate(zip(EASTERN_DIGITS, PERSIAN_DIGITS)):
            steps.append(normalizers.Replace(Regex(f"[{e}{p}]"), str(i)))
    if cfg.normalize_alef:
        steps.append(normalizers.Replace(Regex("[أإآٱ]"), "ا"))
    if cfg.normalize_ya:
        steps.append(normalizers.Replace("ى", "ي"))
    if cfg.normalize_ta_marbuta:
        steps.append(normalizers.Replace("ة", "ه"))
    if not steps:
        return None
    return normalizers.Sequence(steps)


def normalize_text(text: str, cfg: NormalizationConfig | None = None) -> str:
    """The normalised model copy of ``text`` (for vocabularies and display; never for offsets)."""
    norm = build_normalizer(cfg or NormalizationConfig())
    return norm.normalize_str(text) if norm is not None else text
