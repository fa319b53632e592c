"""The cheap stage's decision: which documents the classifier must see.

One rule, used by the blocklist stage in a run, by ``filterkit tune`` and by
``benchmarks/quality_bench.py``, so the numbers a user tunes on are the decisions a run makes:

* the **term bar**: a document is escalated when it has at least ``min_unique_hits`` unique blocklist
  terms — or, if it has fewer than ``short_doc_words`` words, at least ``short_min_unique_hits`` (a single
  strong term in a 40-word question is not the signal it is in a 4,000-word page);
* the **semantic gate** (optional): a document below the term bar is escalated when its static-embedding
  score reaches the gate's threshold (:mod:`filterkit.match.gate`).

A document that is not escalated is kept whatever the classifier would have said, so escalation recall
caps the filter's recall: it is the first number ``quality_bench.py`` reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from filterkit.config import BlocklistConfig, SemanticGateConfig

if TYPE_CHECKING:  # imported where first used: a run without a gate never loads it
    from filterkit.match.blocklist import Blocklist
    from filterkit.match.gate import StaticGate

# a batch joined into one string for the automaton is bounded (count_many copies it)
_STEP_DOCS = 1024


def term_bar(words: np.ndarray, bl: BlocklistConfig) -> np.ndarray:
    """Unique terms each document needs, by its length."""
    if bl.short_doc_words > 0:
        return np.where(words < bl.short_doc_words, bl.short_min_unique_hits, bl.min_unique_hits)
    return np.full(len(words), bl.min_unique_hits)


def escalate(
    unique: np.ndarray,
    words: np.ndarray,
    gate_scores: np.ndarray | None,
    gate_threshold: float | None,
    bl: BlocklistConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(over the term bar, escalated) for arrays of unique terms, words and gate scores (NaN: not scored)."""
    by_terms = unique >= term_bar(words, bl)
    if gate_scores is None or gate_threshold is None:
        return by_terms, by_terms.copy()
    return by_terms, by_terms | (np.nan_to_num(gate_scores, nan=-1.0) >= gate_threshold)


def escalated_by(by_terms: np.ndarray, escalated: np.ndarray) -> np.ndarray:
    """What the cheap stage found per document (:data:`filterkit.contract.ESCALATED_BY_VALUES`), the input of
    :func:`filterkit.contract.decide`: "terms" over the term bar, "gate" escalated by the semantic gate alone,
    "none" neither.

    The one place it is derived: the blocklist stage, ``rethreshold``, ``tune``, ``--dry-run`` and the
    benchmarks all call it, so none can read a gate escalation as a term one.
    """
    by_terms = np.asarray(by_terms, dtype=bool)
    escalated = np.asarray(escalated, dtype=bool)
    return np.where(by_terms, "terms", np.where(escalated, "gate", "none")).astype(object)


@dataclass(frozen=True)
class Escalation:
    """What the cheap stage found per document, in input order."""

    unique: np.ndarray
    total: np.ndarray
    words: np.ndarray
    terms: dict[int, dict[str, int]]  # term counts of the documents over the term bar
    gate: np.ndarray  # gate score, NaN where the gate did not run (off, or already over the term bar)
    by_terms: np.ndarray
    escalated: np.ndarray

    def escalated_by(self) -> np.ndarray:
        """What sent each document on ("terms" | "gate" | "none"; see the module's :func:`escalated_by`)."""
        return escalated_by(self.by_terms, self.escalated)


class Escalator:
    """The blocklist and the gate of a pipeline config, loaded on first use (in the worker)."""

    def __init__(self, blocklist: BlocklistConfig, gate: SemanticGateConfig | None = None) -> None:
        self.bl = blocklist
        self.gate_cfg = gate if gate is not None and gate.enabled else None
        self._blocklist: Blocklist | None = None  # loaded on first use
        self._gate: StaticGate | None = None

    def __getstate__(self):
        return {**self.__dict__, "_blocklist": None, "_gate": None}

    @property
    def blocklist(self):
        if self._blocklist is None:
            from filterkit.match.blocklist import Blocklist

            self._blocklist = Blocklist.from_file(self.bl.path, split_terms=self.bl.split_terms)
        return self._blocklist

    @property
    def gate(self):
        if self._gate is None and self.gate_cfg is not None:
            from filterkit.match.gate import StaticGate

            self._gate = StaticGate.load(self.gate_cfg.path)
        return self._gate

    @property
    def gate_threshold(self) -> float | None:
        if self.gate_cfg is None:
            return None
        t = self.gate_cfg.threshold
        return float(t) if t is not None else self.gate.threshold

    def __call__(self, texts: Sequence[str]) -> Escalation:
        texts = list(texts)
        parts = [self._one(texts[i : i + _STEP_DOCS]) for i in range(0, len(texts), _STEP_DOCS)] or [self._one([])]
        if len(parts) == 1:
            return parts[0]
        terms: dict[int, dict[str, int]] = {}
        for k, p in enumerate(parts):
            terms.update({k * _STEP_DOCS + i: t for i, t in p.terms.items()})
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
        return Escalation(
            cat("unique"), cat("total"), cat("words"), terms, cat("gate"), cat("by_terms"), cat("escalated")
        )

    def _one(self, texts: list[str]) -> Escalation:
        bl = self.bl
        bar_min = min(bl.min_unique_hits, bl.short_min_unique_hits if bl.short_doc_words > 0 else bl.min_unique_hits)
        found = self.blocklist.count_many(texts, detail_min_unique=bar_min, with_words=bl.short_doc_words > 0)
        words = found.words if found.words is not None else np.zeros(len(texts), dtype=np.int64)
        by_terms, _ = escalate(found.unique, words, None, None, bl)
        # terms are named only for documents over their own bar: they alone reach the audit and scores tables
        terms = {i: t for i, t in found.terms.items() if by_terms[i]}
        gate = np.full(len(texts), np.nan)
        threshold = self.gate_threshold
        if threshold is not None:
            below = np.flatnonzero(~by_terms)
            if len(below):
                gate[below] = self.gate.score([texts[i] for i in below])
        _, escalated = escalate(found.unique, words, gate, threshold, bl)
        return Escalation(found.unique, found.total, words, terms, gate, by_terms, escalated)
