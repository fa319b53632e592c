"""Deep Ignorance's cheap stage, as a peer to measure filterkit's against (benchmarks/pipeline_bench.py --web).

O'Brien, Casper et al. (2025) escalate a document to their classifier when it holds at least two blocklist terms,
matched as lower-case substrings of the lower-cased text: no word boundaries (``rna`` matches inside ``internal``),
no normal form (a zero-width space or a Cyrillic look-alike hides a term). Every window of an escalated document is
then classified. This module is that rule over filterkit's term list, shaped as an
:class:`~filterkit.match.escalation.Escalator` so a :class:`~filterkit.stages.blocklist.BlocklistStage` runs it in
place of its own matcher: the reader, classifier and writer around it stay the ones a filterkit run uses, and only
the cheap stage differs. Benchmark code, not a filterkit feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from filterkit.match.escalation import Escalation

MIN_UNIQUE_TERMS = 2  # Deep Ignorance's bar


class SubstringEscalator:
    """Lower-case substring matching of ``terms``; a document with ``min_unique`` distinct terms is escalated."""

    gate_cfg = None  # no semantic gate: BlocklistStage reads this

    def __init__(self, terms: Sequence[str], min_unique: int = MIN_UNIQUE_TERMS) -> None:
        self.terms = sorted({t.lower() for t in terms if t.strip()})
        self.min_unique = min_unique
        self._automaton = None

    @classmethod
    def from_file(cls, path: str | Path, min_unique: int = MIN_UNIQUE_TERMS) -> SubstringEscalator:
        from filterkit.match.blocklist import read_terms

        return cls(read_terms(path), min_unique)

    def __getstate__(self):
        return {**self.__dict__, "_automaton": None}

    def __call__(self, texts: Sequence[str]) -> Escalation:
        if self._automaton is None:  # built on first use, in the worker, like filterkit's own automaton
            import ahocorasick_rs

            self._automaton = ahocorasick_rs.AhoCorasick(self.terms)
        n = len(texts)
        unique = np.zeros(n, dtype=np.int64)
        total = np.zeros(n, dtype=np.int64)
        found: dict[int, dict[str, int]] = {}
        for i, text in enumerate(texts):
            hits = self._automaton.find_matches_as_indexes(text.lower(), overlapping=True)
            if not hits:
                continue
            counts: dict[str, int] = {}
            for term, _, _ in hits:
                counts[self.terms[term]] = counts.get(self.terms[term], 0) + 1
            unique[i], total[i] = len(counts), len(hits)
            if len(counts) >= self.min_unique:
                found[i] = counts
        by_terms = unique >= self.min_unique
        return Escalation(
            unique, total, np.zeros(n, dtype=np.int64), found, np.full(n, np.nan), by_terms, by_terms.copy()
        )
