"""marsad.data: schema, readers and writers, validation, Arabic text handling. Imports no torch."""

from marsad.data.document import Article, Entity, Sentence
from marsad.data.schema import Schema, default_schema, infer_schema, load_schema
from marsad.data.text import NormalizationConfig, SentenceSpan, Token, split_sentences, tokenize

__all__ = [
    "Article", "Entity", "Sentence", "Schema", "default_schema", "infer_schema", "load_schema",
    "NormalizationConfig", "SentenceSpan", "Token", "split_sentences", "tokenize",
]
