"""The adversary's side of the experiment: the learning-rate sweep, the attack check and relearn tokens (seconds)."""

from __future__ import annotations

import pytest

from filterkit.experiment.analysis import attack_check, relearn, summarize_attacks
from filterkit.experiment.attack import attack_model
from filterkit.experiment.config import AttackSection, ExperimentConfig

QUESTIONS = [
    {
        "question": f"q{i}",
        "choices": ["a", "b", "c", "d"],
        "answer": 0,
        "attribute": a,
        "inferable": a in ("shape", "colour", "temperature"),
    }
    for i, a in enumerate(["shape", "colour", "temperature", "discoverer", "year"] * 20)
]


def _ev(acc: float, loss: float, by_attr: dict[str, float] | None = None) -> dict:
    return {"acc": acc, "loss": loss, "by_attr": by_attr or {}}


def _run(accs: list[float], losses: list[float]) -> list[dict]:
    return [_ev(a, l) for a, l in zip(accs, losses)]


ACFG = AttackSection(lrs=[1e-4, 1e-3, 1e-2], steps=4, eval_every=2, eval_at=[1])  # evals at 0, 1, 2, 4


def test_eval_steps_are_early_and_regular():
    assert ACFG.eval_steps() == [0, 1, 2, 4]
    assert AttackSection(steps=150, eval_every=15, eval_at=[2, 5, 500]).eval_steps()[:5] == [0, 2, 5, 15, 30]


def test_each_model_is_reported_under_its_own_best_rate():
    raw = {
        "baseline": [
            {
                "sweep": {
                    1e-4: _run([0.9, 0.9, 0.9, 0.9], [1, 1, 1, 1]),
                    1e-3: _run([0.9, 0.8, 0.7, 0.7], [1, 1, 1, 1]),
                    1e-2: _run([0.9, 0.5, 0.4, 0.4], [1, 2, 2, 2]),
                }
            }
        ],
        "filtered": [
            {
                "sweep": {
                    1e-4: _run([0.3, 0.3, 0.3, 0.35], [9, 8, 7, 6]),
                    1e-3: _run([0.3, 0.4, 0.5, 0.5], [9, 5, 3, 2]),
                    1e-2: _run([0.3, 0.45, 0.4, 0.3], [9, 4, 4, 4]),
                }
            }
        ],
    }
    a = summarize_attacks(raw, ACFG, tokens_per_step=100)
    assert a["tokens"] == [0, 100, 200, 400]
    assert a["models"]["baseline"]["best_lr"] == 1e-4  # the rate that hurts it least is its adversary's best
    f = a["models"]["filtered"]
    assert f["best_lr"] == 1e-3 and f["peak"] == pytest.approx(0.5) and f["proxy_loss"][-1] == 2
    assert set(f["sweep"]) == {"0.0001", "0.001", "0.01"}


def test_attack_check_separates_inferable_from_arbitrary_attributes():
    before = {"shape": 0.2, "colour": 0.3, "temperature": 0.2, "discoverer": 0.25, "year": 0.25}
    taught = {"shape": 0.9, "colour": 0.8, "temperature": 0.5, "discoverer": 0.25, "year": 0.2}
    runs = [
        {
            "sweep": {
                1e-4: [_ev(0.24, 5, before), _ev(0.24, 5, before)],
                1e-3: [_ev(0.24, 5, before), _ev(0.53, 3, taught)],
                1e-2: [_ev(0.24, 5, before), _ev(0.3, 4, before)],
            }
        }
    ]
    acfg = AttackSection(lrs=[1e-4, 1e-3, 1e-2], steps=1, eval_every=1)
    chk = attack_check(runs, QUESTIONS, acfg, tokens_per_step=64)
    assert chk["passed"] is True and chk["lr"] == 1e-3 and chk["tokens"] == 64
    g = chk["no_proxy_model_gain"]
    assert g["inferable"] == pytest.approx((0.7 + 0.5 + 0.3) / 3) and g["arbitrary"] == pytest.approx(-0.025)
    assert chk["per_attribute"]["shape"] == {"inferable": True, "before": 0.2, "after": 0.9, "gain": pytest.approx(0.7)}
    assert not chk["per_attribute"]["year"]["inferable"]
    # an attack that teaches nothing is reported as such, not drawn as a robustness result
    flat = [{"sweep": {lr: [_ev(0.24, 5, before), _ev(0.24, 5, before)] for lr in acfg.lrs}}]
    bad = attack_check(flat, QUESTIONS, acfg, tokens_per_step=64)
    assert bad["passed"] is False and "does NOT demonstrably teach" in bad["note"]
    # a small gain inside the noise band is not a pass either (60 inferable questions: band ~0.16)
    small = {**before, "shape": 0.3}
    noisy = [{"sweep": {lr: [_ev(0.24, 5, before), _ev(0.26, 5, small)] for lr in acfg.lrs}}]
    weak = attack_check(noisy, QUESTIONS, acfg, tokens_per_step=64)
    assert weak["gain_positive"] and not weak["passed"] and weak["n_questions"] == 60


def test_relearn_tokens_slowdown_interval_and_censoring():
    acfg = AttackSection(lrs=[1e-3, 1e-2], steps=4, eval_every=1)  # evals at 0..4, 100 tokens per step
    base = [{"sweep": {lr: _run([0.9, 0.9, 0.9, 0.9, 0.9], [1, 1, 1, 1, 1]) for lr in acfg.lrs}} for _ in range(3)]
    filt = [
        {
            "sweep": {
                1e-3: _run([0.3, 0.5, 0.7, 0.9, 0.9], [9, 3, 1.5, 1, 0.9]),
                1e-2: _run([0.3, 0.4, 0.5, 0.6, 0.6], [9, 2, 0.9, 0.9, 0.9]),
            }
        },
        {"sweep": {1e-3: _run([0.3, 0.6, 0.9, 0.9, 0.9], [9, 3, 2, 0.8, 0.8]), 1e-2: _run([0.3] * 5, [9, 9, 9, 9, 9])}},
        {"sweep": {1e-3: _run([0.3, 0.4, 0.5, 0.9, 0.9], [9, 4, 3, 1, 1]), 1e-2: _run([0.3] * 5, [9, 9, 9, 9, 9])}},
    ]
    raw = {"baseline": base, "filtered": filt, "no_proxy": []}
    a = summarize_attacks(raw, acfg, tokens_per_step=100)
    r = relearn(raw, a, baseline_proxy_tokens=100)
    assert r["filtered_tokens"] == [300, 200, 300] and r["lr"] == 1e-3 and not r["censored"]
    assert r["baseline_tokens"] == 100 and r["slowdown"] == pytest.approx(8 / 3)
    lo, hi = r["slowdown_ci95"]
    assert lo < r["slowdown"] < hi
    assert r["loss"]["filtered_tokens"] == [300, 300, 300] and r["loss"]["lr"] == 1e-3
    # a filtered model that never gets there within the budget: censored, reported as a lower bound
    never = [{"sweep": {lr: _run([0.3] * 5, [9] * 5) for lr in acfg.lrs}} for _ in range(3)]
    raw["filtered"] = never
    c = relearn(raw, summarize_attacks(raw, acfg, tokens_per_step=100), baseline_proxy_tokens=100)
    assert c["censored"] and c["n_censored"] == 3 and c["filtered_tokens"] == [None] * 3
    assert c["slowdown"] == pytest.approx(4.0) and c["slowdown_text"].startswith("> 4x")


@pytest.mark.slow
def test_a_real_sweep_on_a_tiny_model(tmp_path):
    """attack_model fine-tunes copies (the model itself is untouched) at every rate, plus the two controls."""
    import torch

    from filterkit.experiment.lm import LMConfig, build_model
    from filterkit.experiment.tokens import tokenize_to_memmap, train_tokenizer

    texts = [f"The cells of Velmora k{i} are rod-shaped. Velmora k{i} lives in a hot spring." for i in range(40)]
    tok = train_tokenizer(texts, 300)
    data = {
        k: tokenize_to_memmap(texts, tok, tmp_path / f"{k}.bin")
        for k in ("attack", "fact_injection", "control", "proxy_heldout")
    }
    cfg = LMConfig(n_layer=1, n_head=2, n_embd=16, block_size=16, vocab_size=len(tok), steps=2, batch_size=2)
    model = build_model(cfg)
    before = [p.detach().clone() for p in model.parameters()]
    q = [
        {
            "question": "The cells of Velmora k1 are",
            "choices": ["rod-shaped", "coccoid", "spiral", "disc-shaped"],
            "answer": 0,
            "attribute": "shape",
            "inferable": True,
        }
    ]
    acfg = AttackSection(lrs=[1e-3, 3e-3, 1e-2], steps=3, eval_every=2, controls_steps=2)
    threads = torch.get_num_threads()
    out = attack_model(model, tok, data, cfg, acfg, q, "{question}")
    assert torch.get_num_threads() == threads  # evaluations run on one thread and give the count back
    assert set(out["sweep"]) == {1e-3, 3e-3, 1e-2} and all(len(v) == 3 for v in out["sweep"].values())  # 0, 2, 3
    assert len(out["fact_injection"]) == 2 == len(out["benign"])  # 0, 2
    assert (
        set(out["sweep"][1e-3][0]) == {"acc", "loss", "acc_inferable", "by_attr"}
        and "shape" in out["sweep"][1e-3][0]["by_attr"]
    )
    assert out["sweep"][1e-2][-1]["loss"] < out["sweep"][1e-2][0]["loss"]  # it learns the attack text
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_old_config_keys_are_read():
    """Configs written before the sweep and the rename still load: lr -> lrs, n_attack_strong -> n_fact_injection."""
    cfg = ExperimentConfig.model_validate(
        {"attack": {"steps": 60, "eval_every": 15, "lr": 1e-3}, "corpus": {"n_attack_strong": 40}}
    )
    assert cfg.attack.lrs == [1e-3] and cfg.corpus.n_fact_injection == 40
    with pytest.raises(Exception, match="n_fact_injection only"):
        ExperimentConfig.model_validate({"corpus": {"n_attack_strong": 40, "n_fact_injection": 40}})
