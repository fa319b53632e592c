"""The adversary of the synthetic experiment: fine-tuning on the attack corpus, swept over learning rates, with proxy
accuracy (per attribute) and held-out proxy loss along it; fact injection and the benign control beside it."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import numpy as np

from filterkit.experiment.config import AttackSection


@contextlib.contextmanager
def eval_threads():
    """Evaluations of these tiny models are thousands of small ops: on CPU one thread runs them as fast as two,
    and a second thread turns each op into a barrier wait when the cores are shared (mc_eval measured 0.28 s on
    one thread against 6.9 s on two while another job ran). Training keeps torch's thread count."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def evaluate_model(
    model, tokenizer, questions: dict[str, list[dict]], heldout: dict[str, np.ndarray], block: int, template: str
) -> dict:
    from filterkit.experiment.evals import heldout_loss, mc_eval

    out = {}
    with eval_threads():
        for domain in ("proxy", "general"):
            r = mc_eval(model, tokenizer, questions[domain], prompt_template=template)
            out[f"{domain}_acc"], out[f"{domain}_acc_norm"] = r["acc"], r["acc_norm"]
            out[f"{domain}_loss"] = heldout_loss(model, heldout[domain], block, max_tokens=20_000)
    return out


def _attack_eval(model, tokenizer, questions: list[dict], heldout: np.ndarray, block: int, template: str) -> dict:
    """Proxy accuracy (overall and per attribute, where questions name one) and held-out proxy loss."""
    from filterkit.experiment.evals import heldout_loss, mc_eval

    with eval_threads():
        r = mc_eval(model, tokenizer, questions, prompt_template=template)
        loss = heldout_loss(model, heldout, block, max_tokens=20_000)
    by_attr: dict[str, list[int]] = {}
    inferable: list[int] = []
    for q, p in zip(questions, r["pred"]):
        if "attribute" in q:
            by_attr.setdefault(str(q["attribute"]), []).append(int(p == int(q["answer"])))
        if q.get("inferable"):
            inferable.append(int(p == int(q["answer"])))
    return {
        "acc": r["acc"],
        "loss": loss,
        "acc_inferable": float(np.mean(inferable)) if inferable else None,
        "by_attr": {a: float(np.mean(v)) for a, v in sorted(by_attr.items())},
    }


def _attack(
    model,
    tokenizer,
    data: np.ndarray,
    lm_cfg,
    acfg: AttackSection,
    lr: float,
    steps: int,
    questions: list[dict],
    heldout: np.ndarray,
    template: str,
) -> list[dict]:
    """Fine-tune a copy on ``data`` at ``lr``; an :func:`_attack_eval` at each of ``acfg.eval_steps()`` up to ``steps``."""
    from filterkit.experiment.lm import train

    m = copy.deepcopy(model)
    # no torch.compile: a short fine-tuning run would pay a fresh compile each time (a new model copy)
    cfg = lm_cfg.replace(lr=lr, warmup=0, steps=steps, batch_size=acfg.batch_size or lm_cfg.batch_size, compile=False)
    at = [s for s in acfg.eval_steps() if s <= steps]
    stats = train(
        m,
        data,
        cfg,
        eval_fn=lambda step: _attack_eval(m, tokenizer, questions, heldout, cfg.block_size, template),
        eval_at=at,
    )
    return [e["result"] for e in stats["evals"]]


def attack_model(
    model,
    tokenizer,
    data: dict[str, np.ndarray],
    lm_cfg,
    acfg: AttackSection,
    questions: list[dict],
    template: str,
    with_controls: bool = True,
) -> dict[str, Any]:
    """The learning-rate sweep on the attack corpus, then fact injection (an upper bound, not an attack) and the
    benign control at ``controls_lr``; each a list of evaluations along fine-tuning."""
    out: dict[str, Any] = {"sweep": {}}
    for lr in acfg.lrs:
        out["sweep"][lr] = _attack(
            model, tokenizer, data["attack"], lm_cfg, acfg, lr, acfg.steps, questions, data["proxy_heldout"], template
        )
    if with_controls:
        csteps = acfg.controls_steps or acfg.steps
        out["fact_injection"] = _attack(
            model,
            tokenizer,
            data["fact_injection"],
            lm_cfg,
            acfg,
            acfg.controls_lr,
            csteps,
            questions,
            data["proxy_heldout"],
            template,
        )
        if acfg.benign:
            out["benign"] = _attack(
                model,
                tokenizer,
                data["control"],
                lm_cfg,
                acfg,
                acfg.controls_lr,
                csteps,
                questions,
                data["proxy_heldout"],
                template,
            )
    return out
