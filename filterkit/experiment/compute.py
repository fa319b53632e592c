"""Loss-matched baseline compute ("N×", Rathi & Radford 2026): fit a domain's loss against pretraining FLOPs on the
unfiltered baselines, read off the compute at which a baseline reaches a filtered model's loss, and divide.

Two fits: ``interp`` (the baselines' losses made non-increasing in compute by pooling adjacent violators, then
linear in log compute between them) reads only inside the measured range, and says so when a loss lies outside
it (a censored N×: "> max/min budget" or "< min/max"); ``power`` (``L = a·C^-b + c``) extrapolates. Intervals
come from resampling the eval documents (the same resample for every model, so the ratio's noise is paired).
Pure numpy/scipy: tested on synthetic curves with a known ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def isotonic_decreasing(y: np.ndarray) -> np.ndarray:
    """Pool adjacent violators: the closest non-increasing sequence (least squares, equal weights)."""
    blocks = [[float(v), 1] for v in y]
    out: list[list[float]] = []
    for b in blocks:
        out.append(b)
        while len(out) > 1 and out[-2][0] < out[-1][0]:
            v2, n2 = out.pop()
            v1, n1 = out.pop()
            out.append([(v1 * n1 + v2 * n2) / (n1 + n2), n1 + n2])
    return np.concatenate([[v] * int(n) for v, n in out])


def interp_read_off(compute: Sequence[float], loss: Sequence[float], target: float) -> tuple[float, str]:
    """Compute at which the baselines' curve reaches ``target`` loss, and where it lies: ``inside``, ``below``
    (the target loss is above the smallest budget's: the matched compute is below the range and the smallest budget
    is returned, an upper bound on it) or ``above`` (under the largest budget's loss: the largest is returned, a
    lower bound on it)."""
    c = np.log(np.asarray(compute, dtype=float))
    order = np.argsort(c)
    c, y = c[order], isotonic_decreasing(np.asarray(loss, dtype=float)[order])
    if target >= y[0]:
        return float(np.exp(c[0])), "below" if target > y[0] else "inside"
    if target < y[-1]:
        return float(np.exp(c[-1])), "above"
    k = int(np.flatnonzero(y <= target)[0])  # first budget at or under the target; y[k - 1] > target
    if y[k] == target or k == 0:
        return float(np.exp(c[k])), "inside"
    f = (y[k - 1] - target) / (y[k - 1] - y[k])
    return float(np.exp(c[k - 1] + f * (c[k] - c[k - 1]))), "inside"


def power_fit(compute: Sequence[float], loss: Sequence[float]) -> dict[str, float] | None:
    """``L = a·(C/C_max)^-b + c`` by least squares (scipy), or None where it does not converge."""
    from scipy.optimize import curve_fit

    cmax = float(max(compute))
    x, y = np.asarray(compute, dtype=float) / cmax, np.asarray(loss, dtype=float)
    try:
        (a, b, c), _ = curve_fit(
            lambda x, a, b, c: a * x ** (-b) + c,
            x,
            y,
            p0=(0.2 * min(y), 0.5, 0.8 * min(y)),
            bounds=([0, 0, 0], [np.inf, 5, np.inf]),
            maxfev=20000,
        )
    except (RuntimeError, ValueError):
        return None
    pred = a * x ** (-b) + c
    return {
        "a": float(a),
        "b": float(b),
        "c": float(c),
        "c_max": cmax,
        "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
    }


def power_read_off(fit: dict[str, float] | None, target: float) -> tuple[float, str]:
    if fit is None:
        return float("nan"), "no fit"
    if target <= fit["c"]:
        return float("inf"), "above"  # the fitted curve never gets that low
    return float(fit["c_max"] * ((target - fit["c"]) / fit["a"]) ** (-1 / fit["b"])), "extrapolated"


def interp_rmse_loo(compute: Sequence[float], loss: Sequence[float]) -> float:
    """Leave-one-out error of the interpolation at the inner budgets (how well each fit predicts a held-out point)."""
    c, y = np.log(np.asarray(compute, dtype=float)), np.asarray(loss, dtype=float)
    err = []
    for k in range(1, len(c) - 1):
        keep = np.arange(len(c)) != k
        err.append(np.interp(c[k], c[keep], isotonic_decreasing(y[keep])) - y[k])
    return float(np.sqrt(np.mean(np.square(err)))) if err else float("nan")


def power_rmse_loo(compute: Sequence[float], loss: Sequence[float]) -> float:
    c, y = np.asarray(compute, dtype=float), np.asarray(loss, dtype=float)
    err = []
    for k in range(1, len(c) - 1):
        keep = np.arange(len(c)) != k
        f = power_fit(c[keep], y[keep])
        if f is None:
            return float("nan")
        err.append(f["a"] * (c[k] / f["c_max"]) ** (-f["b"]) + f["c"] - y[k])
    return float(np.sqrt(np.mean(np.square(err)))) if err else float("nan")


def loss_matched(
    compute: Sequence[float], loss: Sequence[float], model_compute: float, model_loss: float, kind: str = "interp"
) -> dict[str, Any]:
    """A filtered model's N× = its compute / the baselines' compute at its loss (see :func:`interp_read_off`)."""
    if kind == "power":
        c, where = power_read_off(power_fit(compute, loss), model_loss)
    else:
        c, where = interp_read_off(compute, loss, model_loss)
    nx = model_compute / c if c and np.isfinite(c) else (0.0 if c == float("inf") else float("nan"))
    bound = {
        "below": "N× is a lower bound: the loss is above the smallest baseline's",
        "above": "N× is an upper bound: the loss is below the largest baseline's",
    }.get(where)
    return {"nx": float(nx), "matched_compute": float(c), "where": where, "bound": bound}


def bootstrap_nx(
    base_sums: np.ndarray,
    base_counts: np.ndarray,
    compute: Sequence[float],
    model_sums: np.ndarray,
    model_counts: np.ndarray,
    model_compute: float,
    kind: str,
    n: int,
    seed: int,
) -> dict[str, Any]:
    """N× and its 95% percentile interval over document resamples.

    ``base_sums``/``base_counts``: (budgets, documents) summed loss and token counts of the baselines on one eval
    set; ``model_*``: (documents,) for the filtered model. Every resample draws documents once and scores all
    models on them. Resamples whose loss lies outside the baselines' range enter at the bound (their share is
    reported as ``censored_share``)."""
    loss = lambda s, k: s.sum(-1) / k.sum(-1)
    point = loss_matched(compute, loss(base_sums, base_counts), model_compute, loss(model_sums, model_counts), kind)
    if n == 0:  # the point estimate only (the power fit costs ~0.1 s a resample here)
        return {**point, "ci95": None, "censored_share": None, "fit": kind}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, base_sums.shape[1], size=(n, base_sums.shape[1]))
    nxs, censored = [], 0
    for d in draws:
        r = loss_matched(
            compute, loss(base_sums[:, d], base_counts[:, d]), model_compute, loss(model_sums[d], model_counts[d]), kind
        )
        nxs.append(r["nx"])
        censored += r["where"] in ("below", "above")
    ci = np.nanpercentile(np.asarray(nxs), [2.5, 97.5]).tolist() if nxs else [float("nan")] * 2
    return {**point, "ci95": ci, "censored_share": censored / max(len(nxs), 1), "fit": kind}


def loss_ci(sums: np.ndarray, counts: np.ndarray, n: int, seed: int) -> tuple[float, list[float]]:
    """Per-token loss over documents and its bootstrap 95% interval (documents resampled)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(sums), size=(n, len(sums)))
    boot = sums[draws].sum(1) / counts[draws].sum(1)
    return float(sums.sum() / counts.sum()), np.percentile(boot, [2.5, 97.5]).tolist()
