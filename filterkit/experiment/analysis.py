"""What the experiment's numbers mean: intervals over seeds, the attack curves per model under its best rate, the
attack check, relearn tokens and the document vs span comparison. Pure functions of the raw evaluations (no torch),
so they are tested on hand-made curves (tests/experiment/test_experiment_attack.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from filterkit.experiment.config import AttackSection


def mean_ci95(values: list[float]) -> tuple[float, list[float]]:
    """Mean and a t-based 95% interval over seeds (a zero-width interval for one seed)."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return m, [m, m]
    t = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776}.get(len(x), 1.96)
    half = t * float(x.std(ddof=1)) / math.sqrt(len(x))
    return m, [m - half, m + half]


def _curves(runs: list[list[dict]], key: str) -> dict[str, Any]:
    """Mean, t-interval and per-seed values of ``key`` along fine-tuning, from one eval list per seed."""
    x = np.asarray([[e[key] for e in r] for r in runs], dtype=float)  # seeds x evals
    return {
        key: x.mean(axis=0).tolist(),
        f"{key}_ci95": [mean_ci95(list(c))[1] for c in x.T],
        f"{key}_per_seed": x.tolist(),
    }


def _curve_summary(runs: list[list[dict]]) -> dict[str, Any]:
    acc, loss = _curves(runs, "acc"), _curves(runs, "loss")
    a = np.asarray(acc["acc"])
    return {
        "proxy_acc": acc["acc"],
        "proxy_acc_ci95": acc["acc_ci95"],
        "proxy_acc_per_seed": acc["acc_per_seed"],
        "proxy_loss": loss["loss"],
        "proxy_loss_ci95": loss["loss_ci95"],
        "proxy_loss_per_seed": loss["loss_per_seed"],
        "start": float(a[0]),
        "peak": float(a.max()),
        "final": float(a[-1]),
        "peak_gain": float(a.max() - a[0]),
        "final_gain": float(a[-1] - a[0]),
    }


def summarize_attacks(raw: dict[str, list[dict]], acfg: AttackSection, tokens_per_step: int) -> dict[str, Any]:
    """Per model: every swept rate's curves (mean over seeds) and the best one, the rate whose mean curve reaches
    the highest proxy accuracy (ties: the higher final accuracy); fact injection and the benign control beside it.
    Picking the best point of noisy curves favours the attacker, which is the conservative side for a filter."""
    steps = acfg.eval_steps()
    csteps_n = acfg.controls_steps or acfg.steps
    csteps = sorted({s for s in steps if s <= csteps_n} | {csteps_n})
    out: dict[str, Any] = {
        "steps": steps,
        "tokens": [s * tokens_per_step for s in steps],
        "lrs": acfg.lrs,
        "tokens_per_step": tokens_per_step,
        "controls_lr": acfg.controls_lr,
        "controls_tokens": [s * tokens_per_step for s in csteps],
        "models": {},
    }
    for name, runs in raw.items():
        if not runs:
            continue
        sweep = {str(lr): _curve_summary([r["sweep"][lr] for r in runs]) for lr in acfg.lrs}
        best = max(acfg.lrs, key=lambda lr: (round(sweep[str(lr)]["peak"], 9), sweep[str(lr)]["final"]))
        entry: dict[str, Any] = {"best_lr": best, **sweep[str(best)], "sweep": sweep}
        for kind in ("fact_injection", "benign"):
            if kind in runs[0]:
                entry[kind] = _curve_summary([r[kind] for r in runs])
        out["models"][name] = entry
    return out


def attack_check(runs: list[dict], questions: list[dict], acfg: AttackSection, tokens_per_step: int) -> dict[str, Any]:
    """Can the attack teach at all? Fine-tune the no-proxy model (it never read a proxy document) on the attack
    corpus: accuracy must rise on the attributes the world's rules make inferable from what the attack states
    (genus -> shape and colour; habitat -> temperature band), and has no reason to on the arbitrary ones
    (discoverer, year). Gains are end of fine-tuning minus start, mean over the no-proxy seeds, at the swept rate
    with the largest inferable gain; every rate's gains are kept."""
    if not runs:
        return {"passed": None, "note": "no no-proxy model: the training corpus has no labels"}
    inferable = {str(q["attribute"]): bool(q.get("inferable")) for q in questions if "attribute" in q}

    def gains(lr: float) -> dict[str, Any]:
        evals = [r["sweep"][lr] for r in runs]
        per_attr = {}
        for a in sorted(inferable):
            before = float(np.mean([e[0]["by_attr"][a] for e in evals]))
            after = float(np.mean([e[-1]["by_attr"][a] for e in evals]))
            per_attr[a] = {"inferable": inferable[a], "before": before, "after": after, "gain": after - before}
        groups = {"all": float(np.mean([e[-1]["acc"] - e[0]["acc"] for e in evals]))}
        for g, flag in (("inferable", True), ("arbitrary", False)):
            vals = [v["gain"] for v in per_attr.values() if v["inferable"] == flag]
            groups[g] = float(np.mean(vals)) if vals else None
        return {"no_proxy_model_gain": groups, "per_attribute": per_attr}

    by_lr = {lr: gains(lr) for lr in acfg.lrs}
    key = "inferable" if any(inferable.values()) else "all"
    best = max(acfg.lrs, key=lambda lr: by_lr[lr]["no_proxy_model_gain"][key])
    res = {
        "lr": best,
        "tokens": acfg.steps * tokens_per_step,
        "seeds": len(runs),
        **by_lr[best],
        "by_lr": {str(lr): v["no_proxy_model_gain"] for lr, v in by_lr.items()},
    }
    n = sum(1 for q in questions if key == "all" or bool(q.get("inferable"))) * len(runs)
    return {**res, **check_verdict(res, key, n)}


def check_verdict(chk: dict[str, Any], key: str, n: int) -> dict[str, Any]:
    """Passed only when the gain clears noise: more than 1.96 standard errors of a difference of two accuracies
    over ``n`` questions. A positive gain inside that band is reported as not shown, not as a pass: picking the
    best of several rates already favours a positive number."""
    g = chk["no_proxy_model_gain"][key]
    pa = chk["per_attribute"]
    groups = [v for v in pa.values() if key == "all" or v["inferable"]] or [{"before": 0.25, "after": 0.25}]
    before, after = float(np.mean([v["before"] for v in groups])), float(np.mean([v["after"] for v in groups]))
    se = math.sqrt((before * (1 - before) + after * (1 - after)) / max(n, 1))
    passed = g is not None and g > 1.96 * se
    if passed:
        note = (
            f"the attack teaches: the no-proxy model gains {g:+.3f} on {key} attributes (noise band ±{1.96 * se:.3f})"
        )
    else:
        note = (
            f"the attack does NOT demonstrably teach: the no-proxy model's {key} accuracy moves {g:+.3f}, inside the "
            f"noise band ±{1.96 * se:.3f} ({n} questions); the attack curves show how much each model loses or "
            "keeps under fine-tuning, not resistance to an attack that works"
        )
    return {
        "passed": passed,
        "gain_positive": g is not None and g > 0,
        "noise_band95": 1.96 * se,
        "n_questions": n,
        "note": note,
    }


def _first_reach(tokens: list[int], values: list[float], target: float, higher: bool) -> int | None:
    for t, v in zip(tokens, values):
        if (v >= target - 1e-12) if higher else (v <= target + 1e-12):
            return int(t)
    return None


def relearn(
    raw: dict[str, list[dict]], attack: dict[str, Any], baseline_proxy_tokens: float | None, name: str = "filtered"
) -> dict[str, Any]:
    """Fine-tuning tokens for the filtered model to reach the baseline's pre-attack proxy accuracy (and held-out
    proxy loss), per seed against that seed's baseline, at the swept rate that gets there soonest.

    The baseline is at that point before fine-tuning, so its own fine-tuning tokens to it are 0; for scale the
    baseline's tokens are the proxy-domain tokens it read in pretraining to get there. ``slowdown`` = filtered
    fine-tuning tokens / baseline proxy pretraining tokens, mean and t-interval over seeds. A seed that never
    reaches the target is censored at the budget: its ratio is a lower bound, and so is any mean that includes
    it ("> N x")."""
    tokens = attack["tokens"]
    budget = tokens[-1]
    if not raw.get(name) or not raw["baseline"]:
        return {"note": "needs baseline and filtered runs"}
    lrs = attack["lrs"]

    def one(metric: str, higher: bool) -> dict[str, Any]:
        targets = [float(r["sweep"][lrs[0]][0][metric]) for r in raw["baseline"]]

        def reach(name: str, lr: float) -> list[int | None]:
            return [
                _first_reach(tokens, [e[metric] for e in r["sweep"][lr]], targets[i % len(targets)], higher)
                for i, r in enumerate(raw[name])
            ]

        best_lr = min(lrs, key=lambda lr: np.mean([budget * 2 if t is None else t for t in reach(name, lr)]))
        ft = reach(name, best_lr)
        res: dict[str, Any] = {
            "target": targets,
            "lr": best_lr,
            "filtered_tokens": ft,
            "budget_tokens": budget,
            "baseline_tokens": baseline_proxy_tokens,
            "censored": any(t is None for t in ft),
            "n_censored": sum(t is None for t in ft),
            "n_seeds": len(ft),
        }
        if raw.get("no_proxy"):
            np_lr = min(lrs, key=lambda lr: np.mean([budget * 2 if t is None else t for t in reach("no_proxy", lr)]))
            res["no_proxy_tokens"], res["no_proxy_lr"] = reach("no_proxy", np_lr), np_lr
        if not baseline_proxy_tokens:
            res.update(slowdown=None, slowdown_ci95=None, slowdown_text="n/a (no labels: proxy tokens unknown)")
            return res
        ratios = [(budget if t is None else t) / baseline_proxy_tokens for t in ft]
        m, ci = mean_ci95(ratios)
        res.update(
            slowdown=m,
            slowdown_ci95=ci,
            slowdown_per_seed=ratios,
            slowdown_text=(f"> {m:.3g}x (censored in {res['n_censored']} of {len(ft)} seeds at {budget:,} tokens)")
            if res["censored"]
            else f"{m:.3g}x [{ci[0]:.3g}, {ci[1]:.3g}]",
        )
        if res["censored"]:
            res["slowdown_ci95_note"] = "lower bounds: censored seeds enter at the budget"
        return res

    acc, loss = one("acc", True), one("loss", False)
    res = {**acc, "metric": "proxy accuracy", "loss": {**loss, "metric": "held-out proxy loss"}}
    # the attack states no discoverer or year of an eval organism, so the all-question target is out of its reach by
    # construction; the inferable questions (shape, colour, temperature) are the target it can reach
    if all(e.get("acc_inferable") is not None for runs in raw.values() for r in runs for e in r["sweep"][lrs[0]]):
        res["inferable"] = {**one("acc_inferable", True), "metric": "proxy accuracy on inferable attributes"}
    return res


def granularity_comparison(results: dict[str, Any], data: dict[str, np.ndarray]) -> dict[str, Any]:
    """Document vs span filtering at the same classifier threshold, side by side."""
    out: dict[str, Any] = {}
    for gran, name, rl in (
        ("document", "filtered", results["relearn"]),
        ("span", "span_filtered", results["span"]["relearn"]),
    ):
        s, a = results[name], results["attack"]["models"][name]
        out[gran] = {
            "proxy_acc": s["proxy_acc"],
            "proxy_acc_ci95": s["proxy_acc_ci95"],
            "general_acc": s["general_acc"],
            "general_acc_ci95": s["general_acc_ci95"],
            "proxy_loss": s["proxy_loss"],
            "general_loss": s["general_loss"],
            "attack_peak_proxy_acc": a["peak"],
            "attack_best_lr": a["best_lr"],
            "relearn_slowdown": rl.get("slowdown"),
            "relearn_slowdown_ci95": rl.get("slowdown_ci95"),
            "relearn_censored": rl.get("censored"),
            "relearn_text": rl.get("slowdown_text"),
            "relearn_loss_slowdown": rl.get("loss", {}).get("slowdown"),
            "relearn_loss_text": rl.get("loss", {}).get("slowdown_text"),
            "relearn_inferable_text": rl.get("inferable", {}).get("slowdown_text"),
            "corpus_tokens": len(data[name]),
            "chars_kept": results["span"].get("chars_kept", {}).get(gran),
        }
    return out
