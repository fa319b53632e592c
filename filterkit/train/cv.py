"""What the trainers share: stratified folds, per-source sample weights, the embedding cache folder."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow.compute  # noqa: F401  (pa.compute)





def cache_dir() -> Path:
    return Path.home() / ".cache" / "filterkit" / "embeddings"


def source_weights(sources: Sequence[str], y: np.ndarray) -> np.ndarray:
    """Per-document weights giving every source the same total weight within each class.

    Without them the largest source of positives (1,000 WHO outbreak bulletins) teaches the head what
    "proxy" looks like; with them a 56-abstract source counts as much, which is what a head meant for
    text from sources it never saw needs (see benchmarks/head_selection.py).
    """
    sources = np.asarray(sources)
    y = np.asarray(y)
    w = np.zeros(len(y), dtype=np.float64)
    for cls in (0, 1):
        m = y == cls
        cells = sorted(set(sources[m]))
        for s in cells:
            c = m & (sources == s)
            w[c] = m.sum() / (len(cells) * c.sum())
    return w


def stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold index per document, each class spread evenly; every backend uses this so CV splits match."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of
