"""Blocklist term files and the multi-pattern matcher behind the cheap first stage.

Semantics (the tests pin these; speed work must not change them):

* text and terms share one normal form (:func:`normalize`): NFKC, format characters (Unicode category Cf:
  zero-width spaces and joiners, soft hyphen, BOM, bidi marks, tag characters) removed, look-alike letters
  of other scripts folded to the Latin letter they imitate (Unicode's confusables data, from the
  ``confusable-homoglyphs`` package), casefold, and runs of whitespace as one space, so
  ``"Influenza\\n  VIRUS"`` and ``"vіr\\u200bus"`` (Cyrillic і, a zero-width space) both match their term;
* matching also folds leetspeak digits inside words (``v1ru5`` is ``virus``; a digit counts as a letter
  only next to a letter, so ``covid-19`` and ``2019`` are untouched), and, with ``split_terms``, finds a
  single-word term of five or more letters split once by a space, hyphen or dot (``vi rus``), or spelled
  out letter by letter (``v i r u s``); such a hit counts as the term itself;
* a hit counts only on word boundaries: the characters just outside the hit must not be letters, digits
  or ``_`` (so ``virus`` does not match inside ``viruses`` or ``antivirus``); a term that starts or ends
  with punctuation has no boundary requirement on that side, as with regex ``\\b``;
* per document we report each matched term (in its :func:`normalize` form) with its count, the number of
  unique terms, total hits and the number of words. Overlapping terms all count (``influenza`` and
  ``influenza virus`` both hit in "influenza virus").

Matching uses one Aho-Corasick automaton (the Rust ``ahocorasick_rs``, as a DFA over UTF-8 bytes) per batch
of documents, then checks boundaries on candidate hits only, as array operations; cost grows with text
length, not with the number of terms.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterkit.errors import FilterkitError


def normalize(text: str) -> str:
    """The one normal form both terms and documents are matched in (see the module docstring).

    For ASCII text it equals ``" ".join(text.casefold().split())`` (a test checks it), computed on bytes:
    ASCII skips NFKC and the fold table, and whitespace is mapped by a byte table and collapsed with one
    array pass, so a large batch is normalised at hundreds of MB/s. NUL, the document separator of
    :meth:`Blocklist.match_many`, passes through unchanged.
    """
    return _normal_bytes(text).decode("utf-8")


_SEP = "\x00"
# str.split() whitespace that NFKC does not already turn into U+0020
_UNICODE_WS = ("\x85", "\u1680", "\u2028", "\u2029")
_WS_TABLE = bytes.maketrans(b"\n\t\r\x0b\x0c\x1c\x1d\x1e\x1f", b" " * 9)
_ASCII_LOWER_WS_TABLE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ\n\t\r\x0b\x0c\x1c\x1d\x1e\x1f", b"abcdefghijklmnopqrstuvwxyz" + b" " * 9
)


@functools.lru_cache(maxsize=1)
def fold_table() -> dict[int, int | None]:
    """``str.translate`` table: format characters (Cf) deleted, other scripts' look-alikes mapped to Latin.

    Look-alikes come from Unicode's confusables data as packaged by ``confusable-homoglyphs`` (not a
    hand-written map). A character is folded when the data says it is confusable with an ASCII letter and
    it is not itself a Latin letter (``ß``, ``é`` stay as they are: they are spelling, not disguise). Built
    once per process (~0.3 s).
    """
    import json
    import sys

    import confusable_homoglyphs

    data_file = Path(confusable_homoglyphs.__file__).parent / "confusables.json"
    confusables = json.loads(data_file.read_text(encoding="utf-8"))
    table: dict[int, int | None] = {}
    for ch, entries in confusables.items():
        if len(ch) != 1 or ch.isascii() or unicodedata.name(ch, "").startswith("LATIN"):
            continue
        latin = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalpha()]
        if latin:
            table[ord(ch)] = ord(latin[0].lower())
    for cp in range(0x80, sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) == "Cf":
            table[cp] = None
    return table


def _normal_bytes(text: str) -> bytes:
    if text.isascii():  # casefold == lower on ASCII: case and whitespace in one translate pass
        data = text.encode("ascii").translate(_ASCII_LOWER_WS_TABLE)
    else:
        table = fold_table()
        text = unicodedata.normalize("NFKC", text).translate(table).casefold().translate(table)
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


def clean_text(text: str) -> str:
    """The classifier's view of a document: NFKC with format characters removed and look-alike letters
    folded to Latin (:func:`fold_table`), case and spacing kept. ASCII text is returned as it is, so
    ordinary documents score exactly as before; an obfuscated one scores like its plain spelling.
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(fold_table())


# leetspeak digits and the letters they stand for; folded only next to an ASCII letter
_LEET = np.arange(256, dtype=np.uint8)
for _d, _c in zip(b"013457", b"oieast"):
    _LEET[_d] = _c
_IS_LEET = np.arange(256, dtype=np.uint8) != _LEET
_LEET_MASK = bytes(_IS_LEET.astype(np.uint8).tolist())  # bytes.translate table: 1 for a leet digit, else 0
_IS_LOWER = np.zeros(256, dtype=bool)
_IS_LOWER[ord("a") : ord("z") + 1] = True


def _fold_leet(data: bytes) -> bytes:
    """Map leetspeak digits inside words to letters (``v1ru5`` -> ``virus``, ``b4ct3r14`` -> ``bacteria``).

    A digit is folded when a neighbour is a letter or a digit folded before it (up to four in a row), so
    numbers (``2019``, ``covid-19``) stay as they are. Only the digits' positions are worked on: the one pass
    over every byte is ``bytes.translate`` (GB/s), not an array lookup per byte.
    """
    # the mask holds only 0 and 1, so it is read as bool: nonzero over bool is ~8x faster than over uint8
    pos = np.flatnonzero(np.frombuffer(data.translate(_LEET_MASK), dtype=np.bool_))
    if not len(pos):
        return data
    buf = np.frombuffer(data, dtype=np.uint8)
    n = len(buf)
    left, right = pos - 1, pos + 1
    has_left, has_right = left >= 0, right < n
    left, right = np.maximum(left, 0), np.minimum(right, n - 1)
    out = None
    todo = np.ones(len(pos), dtype=bool)
    for _ in range(4):
        cur = buf if out is None else out
        hit = todo & ((has_left & _IS_LOWER[cur[left]]) | (has_right & _IS_LOWER[cur[right]]))
        if not hit.any():
            break
        if out is None:
            out = buf.copy()
        out[pos[hit]] = _LEET[buf[pos[hit]]]
        todo &= ~hit
    return data if out is None else out.tobytes()


def match_form(text: str) -> bytes:
    """The bytes the automaton scans: :func:`normalize` plus the leetspeak fold."""
    return _fold_leet(_normal_bytes(text))


def split_variants(term: str) -> list[str]:
    """Spellings of a one-word term that an evader might write: split once by a space, hyphen or dot at
    every inner position, or spelled out with one of those between every letter.

    Only terms of five or more letters and digits get variants: for shorter ones a split spelling is an
    ordinary pair of words too often (``h iv``). False positives of the shipped list are measured in
    ``benchmarks/quality_bench.py``.
    """
    if len(term) < 5 or not term.isalnum():
        return []
    out: list[str] = []
    for sep in (" ", "-", "."):
        out.extend(term[:i] + sep + term[i:] for i in range(1, len(term)))
        if len(term) > 2:
            out.append(sep.join(term))
    return out


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


# per byte of UTF-8: 1 = ASCII word character, 0 = ASCII non-word, 2 = part of a non-ASCII character
_BYTE_CLASS = np.array([1 if chr(b).isalnum() or b == ord("_") else 0 for b in range(128)] + [2] * 128, dtype=np.uint8)


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
    from filterkit.match import term_limits

    term_limits.check_file_size(path)  # limits checked here, in the plan: before any worker compiles anything
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FilterkitError(f"{path}: blocklist file is not UTF-8 text; re-save it as UTF-8") from None
    if "\x00" in text:
        raise FilterkitError(
            f"{path}: blocklist file is binary (it holds NUL bytes), not a term list; "
            "set blocklist.path to a text file with one term per line"
        )
    lines = text.splitlines()
    terms: list[str] = []
    seen: set[str] = set()
    for line_no, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        term_limits.check_term(path, line_no, line)
        term = normalize(line).strip()
        term_limits.check_term(path, line_no, term)  # NFKC can lengthen a line (ligatures, ﷺ)
        if term and term not in seen:
            seen.add(term)
            terms.append(term)
            term_limits.check_count(path, len(terms))
    if not terms:
        raise FilterkitError(f"{path}: blocklist file has no terms; add one term or phrase per line")
    _warn_if_implausible(path, terms)
    return terms


def _warn_if_implausible(path: Path, terms: list[str]) -> None:
    """A wrong file (``/etc/passwd``, a config, prose) parses into "terms" that never match, which turns the
    filter off without a word; such lines do not look like topic terms, so say so (a warning: a list may
    hold a long phrase on purpose)."""
    odd = [t for t in terms if ":" in t or len(t.split()) > 8]
    if odd:
        import logging

        shown = ", ".join(repr(t[:60]) for t in odd[:3])
        logging.getLogger("filterkit").warning(
            f"{path}: {len(odd)} of {len(terms)} blocklist lines do not look like topic terms (they hold ':' or "
            f"more than 8 words), e.g. {shown}; check that blocklist.path names a term list"
        )


class Blocklist:
    """A compiled set of terms. Build once per worker; :meth:`match` is safe to call from one thread.

    ``split_terms`` adds the :func:`split_variants` of every one-word term to the automaton; a hit on a
    variant counts as a hit on its term.
    """

    def __init__(self, terms: list[str], split_terms: bool = False) -> None:
        import ahocorasick_rs

        if not terms:
            raise FilterkitError("blocklist has no terms")
        self.terms = [normalize(t).strip().replace(_SEP, "") for t in terms]
        if not all(self.terms):
            raise FilterkitError("blocklist has an empty term after normalisation; remove it")
        self.split_terms = split_terms
        # pattern -> term index; every term's own spelling first, so a variant never shadows a real term
        owner: dict[bytes, int] = {}
        for i, t in enumerate(self.terms):
            owner.setdefault(match_form(t), i)
        if split_terms:
            for i, t in enumerate(self.terms):
                for v in split_variants(match_form(t).decode("utf-8")):
                    owner.setdefault(v.encode("utf-8"), i)
        patterns = list(owner)
        self._term_of = np.fromiter(owner.values(), dtype=np.int64, count=len(owner))
        self._automaton = ahocorasick_rs.BytesAhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.DFA)
        # whether a boundary check is needed at the start / end of each pattern
        texts = [p.decode("utf-8") for p in patterns]
        self._check_start = np.array([_is_word_char(t[0]) for t in texts], dtype=bool)
        self._check_end = np.array([_is_word_char(t[-1]) for t in texts], dtype=bool)

    @classmethod
    def from_file(cls, path: str | Path, split_terms: bool = False) -> Blocklist:
        return cls(read_terms(path), split_terms=split_terms)

    def match(self, text: str) -> BlocklistMatch:
        """Count word-bounded hits of every term in ``text``."""
        return self.match_many([text])[0]

    def match_many(self, texts: list[str]) -> list[BlocklistMatch]:
        """:meth:`match` for many documents with one normalisation and one automaton pass."""
        counts = self.count_many(texts, detail_min_unique=1)
        return [BlocklistMatch(counts.terms[i]) if i in counts.terms else _NO_MATCH for i in range(len(texts))]

    def count_many(self, texts: list[str], detail_min_unique: int = 1, with_words: bool = False) -> BlocklistCounts:
        """Unique terms, total hits (and, ``with_words``, words) of every document, and the term counts of
        those at ``detail_min_unique``.

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
            return BlocklistCounts(empty, empty, {}, empty if with_words else None)
        joined = _SEP.join(texts)
        if joined.count(_SEP) != n_docs - 1:  # a document holds NUL itself: neutralise it
            joined = _SEP.join(t.replace(_SEP, " ") for t in texts)
        data = match_form(joined)
        buf = np.frombuffer(data, dtype=np.uint8)
        seps = np.flatnonzero(buf == 0) if with_words or n_docs > 1 else np.zeros(0, dtype=np.int64)
        words = _words_per_doc(buf, seps, n_docs) if with_words else None
        hits = self._automaton.find_matches_as_indexes(data, overlapping=True)
        if not hits:
            return BlocklistCounts(empty, empty.copy(), {}, words)
        # one flat pass over the (pattern, start, end) tuples: ~2x faster than np.asarray on a list of tuples
        h = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64, count=3 * len(hits)).reshape(-1, 3)
        idx, start, end = h[:, 0], h[:, 1], h[:, 2]
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
        doc = np.searchsorted(seps, start[ok])
        term = self._term_of[idx[ok]]
        n_terms = len(self.terms)
        keys, n_hits = np.unique(doc * n_terms + term, return_counts=True)
        key_doc = keys // n_terms
        unique = np.bincount(key_doc, minlength=n_docs)
        total = np.bincount(doc, minlength=n_docs)
        detail: dict[int, dict[str, int]] = {}
        sel = unique[key_doc] >= max(detail_min_unique, 1)
        terms = self.terms
        for d, t, c in zip(key_doc[sel].tolist(), (keys[sel] % n_terms).tolist(), n_hits[sel].tolist()):
            detail.setdefault(d, {})[terms[t]] = c
        return BlocklistCounts(unique, total, detail, words)


def _words_per_doc(buf: np.ndarray, seps: np.ndarray, n_docs: int) -> np.ndarray:
    """Words per document of the joined normal form: spaces + 1 for a non-empty document (whitespace is
    already collapsed, and a NUL neighbour may leave one stray space at a document's edge: close enough
    for a length-aware bar). Two binary searches per document into the spaces' positions."""
    spaces = np.flatnonzero(buf == 32)
    starts = np.r_[0, seps + 1]
    ends = np.r_[seps, len(buf)]
    count = np.searchsorted(spaces, ends) - np.searchsorted(spaces, starts)
    return np.where(ends > starts, count + 1, 0).astype(np.int64)


@dataclass(frozen=True)
class BlocklistCounts:
    """Per-document results of :meth:`Blocklist.count_many`, as arrays over the input order.

    ``terms`` maps a document's position to its ``{term: count}`` and holds only documents with at least
    the ``detail_min_unique`` asked for; every other document's terms are not named (its counts are).
    """

    unique: np.ndarray
    total: np.ndarray
    terms: dict[int, dict[str, int]]
    words: np.ndarray | None = None  # only when asked for (``with_words``): the length-aware bar needs it
