"""Relearning cost in the field's terms: fine-tuning tokens on held-out forget-domain text until a filtered model's
forget loss reaches the unfiltered model's, as a share of its pretraining tokens (Rathi & Radford 2026).

Each model is fine-tuned from its pretrained weights at every swept learning rate (the adversary tunes for its
target) and reported under the rate that reaches the target in the fewest tokens; a rate that never does within
the budget is censored there, and a model no rate brings back is reported as "> budget share". Fine-tuning stops
at the first evaluation that reaches the target (lm.train's ``stop_fn``): the tokens past it would not change the
answer, and on two CPU cores they are most of the cost.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from filterkit.experiment.config import RelearnSection


def relearn_model(
    model, data: np.ndarray, lm_cfg, rcfg: RelearnSection, forget_loss: Callable[[Any], float], target: float
) -> dict[str, Any]:
    """Fine-tune copies of ``model`` on ``data`` at each of ``rcfg.lrs``; forget loss along each, tokens to ``target``."""
    from filterkit.experiment.lm import train

    batch = rcfg.batch_size or lm_cfg.batch_size
    tokens_per_step = batch * lm_cfg.block_size
    at = sorted(
        {*range(rcfg.eval_every, rcfg.steps, rcfg.eval_every), *(s for s in rcfg.eval_at if 0 < s < rcfg.steps)}
    )
    start = forget_loss(model)
    sweep: dict[str, Any] = {}
    best_steps = rcfg.steps
    for lr in sorted(rcfg.lrs, reverse=True):  # highest first: it usually gets there first and caps the rest
        if start <= target:  # already there (the unfiltered model itself): nothing to fine-tune
            sweep[str(lr)] = {"steps": [0], "loss": [start], "reached_tokens": 0, "ran_steps": 0}
            continue
        m = copy.deepcopy(model)
        cfg = lm_cfg.replace(lr=lr, warmup=0, steps=rcfg.steps, batch_size=batch, compile=False)
        # a rate still short of the target where another already reached it cannot be the adversary's best: stop
        # there (the schedule stays the full budget's, so the curve is the one the full run would have followed)
        cap = best_steps
        stats = train(
            m,
            data,
            cfg,
            eval_fn=lambda step, m=m: (step, forget_loss(m)),
            eval_at=at,
            stop_fn=lambda r, cap=cap: r[1] <= target or r[0] >= cap,
        )
        steps = [e["step"] for e in stats["evals"]]
        losses = [float(e["result"][1]) for e in stats["evals"]]
        hit = next((s for s, v in zip(steps, losses) if v <= target), None)
        if hit is not None:
            best_steps = min(best_steps, hit)
        sweep[str(lr)] = {
            "steps": steps,
            "loss": losses,
            "ran_steps": stats["steps"],
            "reached_tokens": None if hit is None else hit * tokens_per_step,
        }
    reached = {lr: v["reached_tokens"] for lr, v in sweep.items() if v["reached_tokens"] is not None}
    best = min(reached, key=reached.get) if reached else min(sweep, key=lambda lr: sweep[lr]["loss"][-1])
    return {
        "target": target,
        "start_loss": start,
        "best_lr": float(best),
        "tokens": reached.get(best),
        "censored": not reached,
        "budget_tokens": rcfg.steps * tokens_per_step,
        "tokens_per_step": tokens_per_step,
        "sweep": sweep,
    }


def relearn_share(res: dict[str, Any], pretrain_tokens: int) -> dict[str, Any]:
    """Tokens to the target as a share of pretraining tokens; censored results give the budget's share as a bound."""
    tok = res["budget_tokens"] if res["censored"] else res["tokens"]
    share = tok / pretrain_tokens
    text = f"> {share:.3g}" if res["censored"] else f"{share:.3g}"
    return {"share": share, "censored": res["censored"], "text": text, "tokens": res["tokens"]}


def forget_scorer(docs: Sequence[Sequence[int]], block_size: int, bos: int) -> Callable[[Any], float]:
    """Per-token loss of a model on ``docs`` (one thread on CPU: these evaluations are many small ops)."""
    from filterkit.experiment.attack import eval_threads
    from filterkit.experiment.evals import document_losses

    def score(model) -> float:
        with eval_threads():
            s, k = document_losses(model, docs, block_size, bos=bos)
        return float(s.sum() / k.sum())

    return score
