"""Metrics with intervals: rates at a threshold, AUCs, bootstrap and Wilson intervals, calibration.

Pure numpy functions of (scores, labels): training, tuning and the benchmarks all report through these, so a
number means the same thing wherever it is printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow.compute  # noqa: F401  (pa.compute)

from filterkit.errors import FilterkitError


def threshold_for_recall(scores: np.ndarray, y: np.ndarray, target: float) -> float:
    """A threshold meeting recall ``target`` that takes every further positive it can get for free.

    The k-th highest positive score meets the target exactly. Below it, positives that score above every
    remaining negative cost no false positive on this data, so they are taken too (a leaked proxy
    document costs more than a wrongly removed general one). The threshold sits midway between the
    highest negative below the k-th positive and the lowest positive above that negative, leaving a
    margin on both sides for documents not seen here.
    """
    pos = np.sort(scores[y == 1])[::-1]
    k = int(np.ceil(target * len(pos) - 1e-9)) - 1  # 0.28 * 25 is 7.000000000000001, not 8 positives
    t = float(pos[max(k, 0)])
    neg_below = scores[(y == 0) & (scores < t)]
    floor = float(neg_below.max()) if len(neg_below) else 0.0
    return (float(pos[pos > floor].min()) + floor) / 2


def binary_metrics(scores: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    pred = scores >= threshold
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    tn = int((~pred & (y == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "pr_auc": float(average_precision_score(y, scores)),
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


RATE_KEYS = ("precision", "recall", "fpr", "f1")


# --------------------------------------------------------------------------------------------- metrics


def _midpoint_below(scores: np.ndarray, t: float) -> float:
    """Move a threshold sitting on a document's score halfway to the next lower score.

    Same rule as :func:`threshold_for_recall`: identical decisions on this data, a margin for new data.
    """
    below = scores[scores < t]
    return (t + float(below.max())) / 2 if len(below) else float(t)


def max_f1_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The threshold with the highest F1 on this data (ties: the highest such threshold), midpoint rule.

    Reported beside the target-recall threshold so a reader sees what the recall target costs in precision.
    """
    order = np.argsort(-scores, kind="stable")
    s, lab = scores[order], y[order]
    tp = np.cumsum(lab)
    fp = np.cumsum(1 - lab)
    last = np.r_[s[1:] != s[:-1], True]  # predicting positive for every score >= s[i] of a distinct value
    f1 = 2 * tp[last] / (tp[last] + fp[last] + lab.sum())  # 2TP / (2TP + FP + FN), FN = P - TP
    return _midpoint_below(scores, float(s[last][int(np.argmax(f1))]))


def rates(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Precision, recall, FPR and F1 of boolean predictions; ``nan`` where a rate is undefined.

    Unlike :func:`binary_metrics` (which reports 0.0), an undefined rate is ``nan`` so a bootstrap
    resample with no predicted positives does not drag a precision interval towards zero.
    """
    pos = y == 1
    tp = float(np.sum(pred & pos))
    fp = float(np.sum(pred & ~pos))
    fn = float(np.sum(~pred & pos))
    tn = float(np.sum(~pred & ~pos))
    nan = float("nan")
    return {
        "precision": tp / (tp + fp) if tp + fp else nan,
        "recall": tp / (tp + fn) if tp + fn else nan,
        "fpr": fp / (fp + tn) if fp + tn else nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else nan,
    }


def auc_pair(scores: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """ROC-AUC and PR-AUC (average precision); ``nan`` when ``y`` holds one class only."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if y.min() == y.max():
        return {"roc_auc": float("nan"), "pr_auc": float("nan")}
    return {"roc_auc": float(roc_auc_score(y, scores)), "pr_auc": float(average_precision_score(y, scores))}


def bootstrap_ci(
    stat: Callable[[np.ndarray], dict[str, float]], n: int, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, list[float] | None]:
    """Percentile intervals of ``stat(indices)`` over ``n_boot`` resamples of ``n`` documents with replacement.

    ``stat`` returns several named statistics per resample, so all of them are computed on the same
    resamples (paired intervals). ``nan`` values (a rate undefined in that resample) are left out; a
    statistic that is never defined gets ``None``. Only ``np.random.default_rng(seed)`` is used.
    """
    if n < 1 or n_boot < 1:
        raise FilterkitError(f"bootstrap needs at least one document and one resample (got n={n}, n_boot={n_boot})")
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        for k, v in stat(rng.integers(0, n, size=n)).items():
            draws.setdefault(k, []).append(v)
    alpha = (1 - level) / 2 * 100
    out: dict[str, list[float] | None] = {}
    for k, vals in draws.items():
        a = np.asarray(vals, dtype=float)
        a = a[~np.isnan(a)]
        out[k] = [float(np.percentile(a, alpha)), float(np.percentile(a, 100 - alpha))] if len(a) else None
    return out


def calibration_bins(scores: np.ndarray, y: np.ndarray, n_bins: int = 10, lo: float = 0.0) -> list[dict[str, Any]]:
    """Equal-width reliability bins on [``lo``, 1]: count, mean score and fraction positive per bin.

    Scores are probabilities only if these agree; the bins are kept (not just the ECE) so the report can
    show where they disagree and how many documents each bin rests on. ``n_bins=1, lo=threshold`` gives
    the same numbers for the documents a threshold removes.
    """
    keep = scores >= lo
    scores, y = scores[keep], y[keep]
    span = 1.0 - lo
    pos = (scores - lo) * n_bins / span if span > 0 else np.zeros(len(scores))
    idx = np.clip(np.floor(pos).astype(np.int64), 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        m = idx == b
        c = int(m.sum())
        bins.append(
            {
                "lo": lo + span * b / n_bins,
                "hi": lo + span * (b + 1) / n_bins,
                "count": c,
                "mean_score": float(scores[m].mean()) if c else None,
                "frac_pos": float(y[m].mean()) if c else None,
            }
        )
    return bins


def expected_calibration_error(bins: Sequence[dict[str, Any]]) -> float:
    """Count-weighted mean of |fraction positive − mean score| over non-empty bins."""
    n = sum(b["count"] for b in bins)
    if n == 0:
        return float("nan")
    return float(sum(b["count"] * abs(b["frac_pos"] - b["mean_score"]) for b in bins if b["count"]) / n)


def wilson_interval(k: int, n: int, z: float = 1.96) -> list[float] | None:
    """95% Wilson interval of a proportion: sane at 0/n and n/n, where small groups usually sit."""
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [float(max(0.0, c - h)), float(min(1.0, c + h))]


def group_removal(groups: Sequence[Any], y: np.ndarray, removed: np.ndarray) -> dict[str, dict[str, Any]]:
    """Removal rate per labelled group, so collateral damage on hard negatives is visible, not averaged away."""
    names = np.asarray(["(none)" if g is None else str(g) for g in groups], dtype=object)
    out: dict[str, dict[str, Any]] = {}
    for g in sorted(set(names)):
        m = names == g
        n, k = int(m.sum()), int(removed[m].sum())
        out[g] = {
            "n": n,
            "n_pos": int(y[m].sum()),
            "removed": k,
            "removal_rate": k / n,
            "ci95": wilson_interval(k, n),
        }
    return out


def frac(mask: np.ndarray) -> float:
    return float(mask.mean()) if len(mask) else float("nan")
