"""How a document's score is made from its windows' scores: the one pooling rule, written once.

The embedding classifier scores every 256-token window of a document. ``max`` (the Deep Ignorance rule, the
default) lets one window decide: a proxy passage deep in a long page is caught, but so is one COVID line on a
salon's page. The other rules ask for more of the document: ``top2`` averages the two best windows (a
one-window document keeps its own score), ``mean`` averages all of them. ``benchmarks/substance_bench.py``
compares them (docs/web-precision.md). A classifier folder names its rule (``config.json``: ``doc_rule``), and the
embedding classifier pools with :func:`pool`, so the rule measured is the rule a run applies.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from filterkit.errors import FilterkitError

DOC_RULES = ("max", "top2", "mean")
DocRule = Literal["max", "top2", "mean"]


def pool(
    probs: np.ndarray, owner: np.ndarray, n_docs: int, rule: str = "max", window_decides: float | None = None
) -> np.ndarray:
    """One score per document from window probabilities ``probs`` owned by ``owner`` (document index).

    ``window_decides``: a document with a window at or above it scores that window (its max) whatever the rule,
    so averaging cannot hide one unmistakable passage in a long page (a proxy section after pages of
    boilerplate); keep it at or above the decision threshold. A document without windows gets -1.
    """
    if rule not in DOC_RULES:
        raise FilterkitError(f"unknown document rule {rule!r}; use one of {', '.join(DOC_RULES)}")
    probs = np.asarray(probs, dtype=np.float64)
    owner = np.asarray(owner, dtype=np.int64)
    best = np.full(n_docs, -1.0)
    if len(probs) == 0:
        return best
    np.maximum.at(best, owner, probs)
    if rule == "max":
        return best
    pooled = _pool_rest(probs, owner, n_docs, rule, best)
    if window_decides is not None:
        pooled = np.where(best >= window_decides, best, pooled)
    return pooled


def _pool_rest(probs: np.ndarray, owner: np.ndarray, n_docs: int, rule: str, best: np.ndarray) -> np.ndarray:
    count = np.bincount(owner, minlength=n_docs)
    if rule == "mean":
        total = np.bincount(owner, weights=probs, minlength=n_docs)
        return np.where(count > 0, total / np.maximum(count, 1), -1.0)
    # top2: the second best window, found by masking each document's best once
    order = np.lexsort((-probs, owner))  # by document, best first
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    second = np.full(n_docs, np.nan)
    rest = order[~first]
    rest_owner = owner[rest]
    lead = np.ones(len(rest), dtype=bool)
    lead[1:] = rest_owner[1:] != rest_owner[:-1]
    second[rest_owner[lead]] = probs[rest[lead]]
    return np.where(count > 1, (best + np.nan_to_num(second)) / 2.0, best)
