"""Blocklist term files and the multi-pattern matcher behind the cheap first stage.

Semantics (the tests pin these; speed work must not change them):

* text and terms are NFKC-normalised and casefolded, and runs of whitespace count as one space, so
  ``"Influenza\\n  VIRUS"`` matches the term ``influenza virus``;
* a hit counts only on word boundaries: the characters just outside the hit must not be letters, digits
  or ``_`` (so ``virus`` does not match inside ``viruses`` or ``antivirus``); a term that starts or ends
  with punctuation has no boundary requirement on that side, as with regex ``\\b``;
* per document we report each matched term with its count, the number of unique terms and total hits.
  Overlapping terms all count (``influenza`` and ``influenza virus`` both hit in "influenza virus").

Matching uses one Aho-Corasick automaton (the Rust ``ahocorasick_rs``, as a DFA over UTF-8 bytes) per batch
of documents, then checks boundaries on candidate hits only, as array operations; cost grows with text
length, not with the number of terms.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterkit.errors import FilterkitError

def normalize(text: str) -> str:
    """NFKC + casefold + collapse whitespace: the one normal form both terms and documents are matched in.

    Equal to ``" ".join(unicodedata.normalize("NFKC", text).casefold().split())`` (a test checks it), but
    computed on bytes: ASCII text skips NFKC, and whitespace is mapped by a byte table and collapsed with
    one array pass, so a large batch is normalised at hundreds of MB/s. NUL, the document separator of
    :meth:`Blocklist.match_many`, passes through unchanged.
    """
    return _normal_bytes(text).decode("utf-8")


_SEP = "\x00"
# str.split() whitespace that NFKC does not already turn into U+0020
_UNICODE_WS = ("\x85", "\u1680", "\u2028", "\u2029")
_WS_TABLE = bytes.maketrans(b"\n\t\r\x0b\x0c\x1c\x1d\x1e\x1f", b" " * 9)


def _normal_bytes(text: str) -> bytes:
    if text.isascii():
        data = text.encode("ascii").lower()  # casefold == lower on ASCII
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        for ws in _UNICODE_WS:
            if ws in text:
                text = text.replace(ws, " ")
        data = text.encode("utf-8")
    data = data.translate(_WS_TABLE)
    if b"  " in data:
        buf = np.frombuffer(data, dtype=np.uint8)
        keep = np.ones(len(buf), dtype=bool)
        keep[1:] = (buf[1:] != 32) | (buf[:-1] != 32)
        data = buf[keep].tobytes()
    return data.strip(b" ")


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


# per byte of UTF-8: 1 = ASCII word character, 0 = ASCII non-word, 2 = part of a non-ASCII character
_BYTE_CLASS = np.array(
    [1 if chr(b).isalnum() or b == ord("_") else 0 for b in range(128)] + [2] * 128, dtype=np.uint8
)


def _word_char_at(data: bytes, i: int) -> bool:
    """Whether the UTF-8 character containing byte ``i`` is a word character (rare, slow path)."""
    start = i
    while start > 0 and data[start] & 0xC0 == 0x80:
        start -= 1
    end = i + 1
    while end < len(data) and data[end] & 0xC0 == 0x80:
        end += 1
    return _is_word_char(data[start:end].decode("utf-8", "replace")[:1] or " ")


@dataclass(frozen=True)
class BlocklistMatch:
    """What the matcher found in one document."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def unique(self) -> int:
        return len(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


_NO_MATCH = BlocklistMatch()  # shared by every document without hits; treat as read-only


def read_terms(path: str | Path) -> list[str]:
    """Read a term file: one term or phrase per line, ``#`` starts a comment, blank lines ignored."""
    path = Path(path)
    if not path.is_file():
        raise FilterkitError(
            f"{path}: blocklist file not found; set blocklist.path in the pipeline YAML to an existing term file"
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise FilterkitError(f"{path}: blocklist file is not UTF-8 text; re-save it as UTF-8") from None
    terms: list[str] = []
    seen: set[str] = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        term = normalize(line).strip()
        if term and term not in seen:
            seen.add(term)
            terms.append(term)
    if not terms:
        raise FilterkitError(f"{path}: blocklist file has no terms; add one term or phrase per line")
    return terms


class Blocklist:
    """A compiled set of terms. Build once per worker; :meth:`match` is safe to call from one thread."""

    def __init__(self, terms: list[str]) -> None:
        import ahocorasick_rs

        if not terms:
            raise FilterkitError("blocklist has no terms")
        self.terms = [normalize(t).strip().replace(_SEP, "") for t in terms]
        if not all(self.terms):
            raise FilterkitError("blocklist has an empty term after normalisation; remove it")
        self._automaton = ahocorasick_rs.BytesAhoCorasick(
            [t.encode("utf-8") for t in self.terms], implementation=ahocorasick_rs.Implementation.DFA
        )
        # whether a boundary check is needed at the start / end of each term
        self._check_start = np.array([_is_word_char(t[0]) for t in self.terms], dtype=bool)
        self._check_end = np.array([_is_word_char(t[-1]) for t in self.terms], dtype=bool)

    @classmethod
    def from_file(cls, path: str | Path) -> "Blocklist":
        return cls(read_terms(path))

    def match(self, text: str) -> BlocklistMatch:
        """Count word-bounded hits of every term in ``text``."""
        return self.match_many([text])[0]

    def match_many(self, texts: list[str]) -> list[BlocklistMatch]:
        """:meth:`match` for many documents with one normalisation and one automaton pass."""
        counts = self.count_many(texts, detail_min_unique=1)
        return [BlocklistMatch(counts.terms[i]) if i in counts.terms else _NO_MATCH for i in range(len(texts))]

    def count_many(self, texts: list[str], detail_min_unique: int = 1) -> "BlocklistCounts":
        """Unique terms and total hits of every document, and the term counts of those at ``detail_min_unique``.

        Documents are joined with NUL, a non-word character no term contains, so a hit never spans two
        documents and document edges are word boundaries. The joined text is matched as UTF-8 bytes and
        the boundary checks run as array operations; only hits next to a non-ASCII character are checked
        one by one. Per-document counts are array reductions; Python dictionaries are built only for the
        documents that need their terms named (the blocklist stage names terms of escalated documents
        only, which are few), because that per-(document, term) bookkeeping, not the automaton, was the
        cost on hit-dense text (see benchmarks/blocklist_bench.py).
        """
        n_docs = len(texts)
        empty = np.zeros(n_docs, dtype=np.int64)
        if not texts:
            return BlocklistCounts(empty, empty, {})
        joined = _SEP.join(texts)
        if joined.count(_SEP) != n_docs - 1:  # a document holds NUL itself: neutralise it
            joined = _SEP.join(t.replace(_SEP, " ") for t in texts)
        data = _normal_bytes(joined)
        hits = self._automaton.find_matches_as_indexes(data, overlapping=True)
        if not hits:
            return BlocklistCounts(empty, empty.copy(), {})
        h = np.asarray(hits, dtype=np.int64)
        idx, start, end = h[:, 0], h[:, 1], h[:, 2]
        buf = np.frombuffer(data, dtype=np.uint8)
        n = len(buf)
        before = np.where(start > 0, _BYTE_CLASS[buf[np.maximum(start - 1, 0)]], 0)
        after = np.where(end < n, _BYTE_CLASS[buf[np.minimum(end, n - 1)]], 0)
        need_start, need_end = self._check_start[idx], self._check_end[idx]
        ok = ~((need_start & (before == 1)) | (need_end & (after == 1)))
        for k in np.flatnonzero((need_start & (before == 2)) | (need_end & (after == 2))):
            if (need_start[k] and before[k] == 2 and _word_char_at(data, int(start[k]) - 1)) or (
                need_end[k] and after[k] == 2 and _word_char_at(data, int(end[k]))
            ):
                ok[k] = False
        doc = np.searchsorted(np.flatnonzero(buf == 0), start[ok])
        n_terms = len(self.terms)
        keys, n_hits = np.unique(doc * n_terms + idx[ok], return_counts=True)
        key_doc = keys // n_terms
        unique = np.bincount(key_doc, minlength=n_docs)
        total = np.bincount(doc, minlength=n_docs)
        detail: dict[int, dict[str, int]] = {}
        sel = unique[key_doc] >= max(detail_min_unique, 1)
        terms = self.terms
        for d, t, c in zip(key_doc[sel].tolist(), (keys[sel] % n_terms).tolist(), n_hits[sel].tolist()):
            detail.setdefault(d, {})[terms[t]] = c
        return BlocklistCounts(unique, total, detail)


@dataclass(frozen=True)
class BlocklistCounts:
    """Per-document results of :meth:`Blocklist.count_many`, as arrays over the input order.

    ``terms`` maps a document's position to its ``{term: count}`` and holds only documents with at least
    the ``detail_min_unique`` asked for; every other document's terms are not named (its counts are).
    """

    unique: np.ndarray
    total: np.ndarray
    terms: dict[int, dict[str, int]]
