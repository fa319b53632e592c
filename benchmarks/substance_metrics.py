"""Metrics of the substance benchmark: the cascade's decisions on each labelled set, and the web estimate.

Web figures are stratified estimates: the labelled web documents were drawn as (a) a uniform random sample of the
pool and (b) the documents the shipped cascade escalated (all of them, as labels arrive). Post-stratified on
"escalated by the shipped cheap stage", each stratum's labelled documents are a random sample of it (b is its whole
stratum once complete, the random sample's share of it before), so each labelled document stands for
``stratum size / labelled in stratum`` documents. Intervals: stratified bootstrap, resampling labelled documents
with replacement within each stratum (no finite-population correction, so a fully read stratum still contributes
variance: these intervals speak for web pages like these, not only for this pool).
"""

from __future__ import annotations

import numpy as np

from filterkit.contract import Rule, decide_many

WEB_KEYS = (
    "precision_strict",
    "precision_lenient",
    "recall_strict",
    "recall_lenient",
    "nonproxy_removed_strict",
    "nonproxy_removed_lenient",
    "removed_share",
)


def removed(rule: Rule, verdict: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The run's own keep/remove rule (:func:`filterkit.contract.decide_many`): NaN scores are documents not scored."""
    return decide_many(rule, verdict, scores) != ""


def _ratios(t: np.ndarray) -> dict[str, np.ndarray]:
    # t columns: removed, removed&strict, removed&lenient, strict, lenient, documents
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "precision_strict": t[..., 1] / t[..., 0],
            "precision_lenient": t[..., 2] / t[..., 0],
            "recall_strict": t[..., 1] / t[..., 3],
            "recall_lenient": t[..., 2] / t[..., 4],
            "nonproxy_removed_strict": (t[..., 0] - t[..., 1]) / t[..., 5],
            "nonproxy_removed_lenient": (t[..., 0] - t[..., 2]) / t[..., 5],
            "removed_share": t[..., 0] / t[..., 5],
        }


def web_estimate(
    rem: np.ndarray, y: np.ndarray, design: np.ndarray, scope: np.ndarray, n_boot: int = 0, seed: int = 0
) -> dict:
    """Stratified estimates over the documents in ``scope`` (strata: ``design`` True / False)."""
    rng = np.random.default_rng(seed)
    point = np.zeros(6)
    draws = np.zeros((n_boot, 6))
    strata = {}
    for name, s in (("escalated", scope & design), ("not_escalated", scope & ~design)):
        lab = s & ~np.isnan(y)
        N, n = int(s.sum()), int(lab.sum())
        strata[name] = {"size": N, "labelled": n}
        if N == 0:
            continue
        if n == 0:
            point[5] += N
            draws[:, 5] += N
            continue
        yy, rr = y[lab], rem[lab].astype(float)
        v = np.column_stack([rr, rr * (yy == 1), rr * (yy >= 0.5), yy == 1, yy >= 0.5, np.ones(n)]).astype(float)
        point += N * v.mean(0)
        if n_boot:
            idx = rng.integers(0, n, size=(n_boot, n))
            draws += N * v[idx].mean(1)
    out = {k: (None if not np.isfinite(x) else float(x)) for k, x in _ratios(point).items()}
    out["strata"] = strata
    out["removed_est"] = float(point[0])
    out["proxy_est_strict"] = float(point[3])
    if n_boot:
        rd = _ratios(draws)
        out["ci95"] = {
            k: [float(np.nanpercentile(rd[k], 2.5)), float(np.nanpercentile(rd[k], 97.5))]
            if np.isfinite(rd[k]).any()
            else None
            for k in WEB_KEYS
        }
    return out


def prop(mask: np.ndarray, n_boot: int = 0, seed: int = 0) -> dict:
    """A proportion and (with ``n_boot``) its percentile bootstrap 95% interval."""
    mask = np.asarray(mask, dtype=bool)
    if len(mask) == 0:
        return {"value": None, "n": 0}
    out = {"value": float(mask.mean()), "n": int(len(mask))}
    if n_boot:
        d = mask[np.random.default_rng(seed).integers(0, len(mask), size=(n_boot, len(mask)))].mean(1)
        out["ci95"] = [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))]
    return out


def fmt(p) -> str:
    if p is None:
        return "n/a"
    if isinstance(p, dict):
        if p.get("value") is None:
            return "n/a"
        ci = p.get("ci95")
        return f"{p['value']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
    return f"{p:.3f}"
