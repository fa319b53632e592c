"""What the real-text run's numbers mean: per-token losses with intervals over eval documents, the baselines'
loss-against-compute curve and each model's N× on it, relearning shares. A pure function of the raw per-document
losses (no torch), so results.json's headline numbers can be recomputed from what the run recorded."""

from __future__ import annotations

from typing import Any

import numpy as np

from filterkit.experiment.compute import (
    bootstrap_nx,
    interp_rmse_loo,
    loss_ci,
    power_fit,
    power_rmse_loo,
)
from filterkit.experiment.relearn import relearn_share

MODELS = ("none", "document", "masking", "span_removal", "oracle")
DOMAINS = ("forget", "retain", "collateral")


def _pooled(runs: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per domain: summed loss per document averaged over seeds, and the (shared) token counts."""
    return {d: (np.mean([r[d][0] for r in runs], axis=0), runs[0][d][1]) for d in DOMAINS}


def summarize_real(
    cfg,
    scores: dict[str, list[dict]],
    relearn_raw: dict[str, list[dict]],
    budgets: list[float],
    base,
    flops_per_token: float,
    tokens_per_step: int,
) -> dict[str, Any]:
    rc = cfg.real
    steps = {b: max(1, int(round(base.steps * b))) for b in budgets}
    tokens = {b: steps[b] * tokens_per_step for b in budgets}
    compute = [tokens[b] * flops_per_token for b in budgets]
    pretrain_tokens = tokens[1.0]
    model_compute = pretrain_tokens * flops_per_token
    pooled = {name: _pooled(runs) for name, runs in scores.items()}
    seed = rc.seed

    baselines = []
    for b, c in zip(budgets, compute):
        row: dict[str, Any] = {"budget": b, "steps": steps[b], "tokens": tokens[b], "flops": c}
        for d in DOMAINS:
            row[d], row[f"{d}_ci95"] = loss_ci(*pooled[f"baseline@{b:g}"][d], rc.bootstrap, seed)
        baselines.append(row)

    fits = {}
    for d in DOMAINS:
        losses = [r[d] for r in baselines]
        fits[d] = {
            "power": power_fit(compute, losses),
            "loo_rmse": {"interp": interp_rmse_loo(compute, losses), "power": power_rmse_loo(compute, losses)},
            "used": rc.compute_fit,
        }

    models: dict[str, Any] = {}
    for name in MODELS:
        entry: dict[str, Any] = {"tokens": pretrain_tokens, "flops": model_compute}
        for d in DOMAINS:
            sums, counts = pooled[name][d]
            entry[d], entry[f"{d}_ci95"] = loss_ci(sums, counts, rc.bootstrap, seed)
            entry[f"{d}_per_seed"] = [float(r[d][0].sum() / r[d][1].sum()) for r in scores[name]]
            bs = np.stack([pooled[f"baseline@{b:g}"][d][0] for b in budgets])
            bc = np.stack([pooled[f"baseline@{b:g}"][d][1] for b in budgets])
            entry[f"{d}_nx"] = bootstrap_nx(
                bs, bc, compute, sums, counts, model_compute, rc.compute_fit, rc.bootstrap, seed
            )
            other = "power" if rc.compute_fit == "interp" else "interp"
            entry[f"{d}_nx_{other}"] = bootstrap_nx(bs, bc, compute, sums, counts, model_compute, other, 0, seed)
        runs = relearn_raw[name]
        shares = [relearn_share(r, pretrain_tokens) for r in runs]
        entry["relearn"] = {
            "share": float(np.mean([s["share"] for s in shares])),
            "censored": any(s["censored"] for s in shares),
            "per_seed": shares,
            "best_lr": [r["best_lr"] for r in runs],
            "target": [r["target"] for r in runs],
            "start_loss": [r["start_loss"] for r in runs],
            "sweep": [r["sweep"] for r in runs],
            "budget_tokens": runs[0]["budget_tokens"],
            "tokens_per_step": runs[0]["tokens_per_step"],
        }
        m = entry["relearn"]["share"]
        entry["relearn"]["text"] = f"> {m:.3g}" if entry["relearn"]["censored"] else f"{m:.3g}"
        models[name] = entry
    return {
        "models": models,
        "baselines": baselines,
        "fits": fits,
        "budgets": budgets,
        "pretrain_tokens": pretrain_tokens,
        "flops_per_token": flops_per_token,
        "model": base.to_dict(),
        "n_eval_docs": {d: len(pooled["none"][d][0]) for d in DOMAINS},
        "interval_note": "95% bootstrap intervals over eval documents (" + str(rc.bootstrap) + " resamples), "
        "per-document losses averaged over the seeds run; N× resamples all models on the same "
        "documents. With one seed, seed-to-seed variation is not in the intervals.",
    }
