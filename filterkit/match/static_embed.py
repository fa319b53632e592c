"""Static (model2vec) embeddings of normalised text, computed per word rather than per token.

Why: the semantic gate reads nearly every document of a corpus, and with ``model2vec``'s own ``encode`` about 60%
of its time went to the WordPiece tokenizer and most of the rest to one mean per document (measured on AG News:
``benchmarks/cheap_stage_bench.py``). A static embedding is a mean of token vectors, and WordPiece splits each
pre-token (a run of letters and digits, or one punctuation character) on its own, so a document's embedding is a
count-weighted sum of *word* vectors divided by its token count. Words repeat (Zipf), so each distinct word is
tokenised once by the model's own tokenizer and its token vectors summed once; a batch is then one regular
expression, one dictionary lookup per word and one sparse matrix product.

The result equals ``StaticModel.encode`` up to float rounding (model2vec sums float16 vectors; here float32):
the same token ids by construction (a test checks ids and scores on real text). The fast path is taken only
where that equivalence holds: a model with a BERT normaliser and pre-tokenizer, no per-token weights or token
mapping, and ASCII text without control characters (the blocklist's normal form makes almost every English
document so); every other text goes through ``model.encode`` unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

# BERT's pre-tokenizer on ASCII: whitespace separates, every printable non-alphanumeric character is its own token
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[^ a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_WORDS = 1 << 20  # distinct words cached before the cache starts over (bounded memory: ~1 GiB at 256-d)


def _fast_path_possible(model: Any) -> bool:
    """Whether per-word sums reproduce ``model.encode``: BERT normaliser + pre-tokenizer, plain mean pooling."""
    import json

    if getattr(model, "weights", None) is not None or getattr(model, "token_mapping", None) is not None:
        return False
    spec = json.loads(model.tokenizer.to_str())
    norm, pre = spec.get("normalizer") or {}, spec.get("pre_tokenizer") or {}
    return (
        norm.get("type") == "BertNormalizer"
        and norm.get("lowercase", False)
        and pre.get("type") == "BertPreTokenizer"
        and (spec.get("model") or {}).get("type") == "WordPiece"
    )


class StaticEmbedder:
    """``embed(texts)`` as ``model.encode(texts)`` of a model2vec ``StaticModel``, with a per-word cache.

    One per process (not thread-safe: the cache grows in place).
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.dim = int(model.dim)
        self.normalize = bool(getattr(model, "normalize", False))
        self.fast = _fast_path_possible(model)
        self._table = np.asarray(model.embedding, dtype=np.float32)
        self._unk = model.unk_token_id
        self._reset()

    def _reset(self) -> None:
        self._index: dict[str, int] = {}
        self._sums = np.zeros((1024, self.dim), dtype=np.float32)  # per word: the sum of its token vectors
        self._counts = np.zeros(1024, dtype=np.float32)  # per word: its tokens ([UNK] dropped, as model2vec does)

    def _add_words(self, words: list[str]) -> None:
        """Tokenise unseen words with the model's own tokenizer and cache their vector sums and token counts."""
        start = len(self._index)
        need = start + len(words)
        if need > len(self._counts):
            cap = max(need, 2 * len(self._counts))
            self._sums = np.concatenate([self._sums, np.zeros((cap - len(self._sums), self.dim), np.float32)])
            self._counts = np.concatenate([self._counts, np.zeros(cap - len(self._counts), np.float32)])
        encodings = self.model.tokenizer.encode_batch_fast(words, add_special_tokens=False)
        for k, (word, enc) in enumerate(zip(words, encodings)):
            ids = [i for i in enc.ids if i != self._unk]
            if ids:
                self._sums[start + k] = self._table[ids].sum(axis=0)
            self._counts[start + k] = len(ids)
            self._index[word] = start + k

    def _embed_ascii(self, texts: list[str]) -> np.ndarray:
        import scipy.sparse as sp

        per_text = [_ASCII_WORDS.findall(t.lower()) for t in texts]
        flat = [w for ws in per_text for w in ws]
        unseen = list(dict.fromkeys(w for w in flat if w not in self._index))
        if len(self._index) + len(unseen) > _MAX_WORDS:  # full: start over with this batch's words
            self._reset()
            unseen = list(dict.fromkeys(flat))
        if unseen:
            self._add_words(unseen)
        index = self._index
        cols = np.fromiter((index[w] for w in flat), dtype=np.int64, count=len(flat))
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(ws) for ws in per_text], out=indptr[1:])
        words = sp.csr_matrix((np.ones(len(flat), np.float32), cols, indptr), shape=(len(texts), len(self._counts)))
        sums = np.asarray(words @ self._sums, dtype=np.float32)
        tokens = np.asarray(words @ self._counts, dtype=np.float32)
        out = np.where(tokens[:, None] > 0, sums / np.maximum(tokens, 1.0)[:, None], 0.0).astype(np.float32)
        if self.normalize:
            out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-32
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row each), equal to ``model.encode`` up to float rounding."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if self.fast:
            simple = np.fromiter((t.isascii() and not _CONTROL.search(t) for t in texts), dtype=bool, count=len(texts))
        else:
            simple = np.zeros(len(texts), dtype=bool)
        if simple.any():
            idx = np.flatnonzero(simple)
            out[idx] = self._embed_ascii([texts[i] for i in idx])
        if not simple.all():
            idx = np.flatnonzero(~simple)
            rest = [texts[i] for i in idx]
            out[idx] = np.asarray(
                self.model.encode(rest, use_multiprocessing=False, max_length=None, batch_size=4096), dtype=np.float32
            )
        return out
