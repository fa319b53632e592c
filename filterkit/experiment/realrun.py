"""``filterkit experiment`` on real text (``real:`` in the config): read top to bottom.

split real/train and real/dev by document (real.py) → train the filter head on the filter part and score the
corpus once with the real ``filterkit run``, document decisions by ``filterkit rethreshold`` (realfilter.py) →
tokenizer on the corpus → five corpora at one token budget: none, document (the run's removals), loss masking and
span removal (the flagged windows; masking.py) and the oracle (every label-1 document dropped) → unfiltered
baselines at ≥ 5 budgets → per-document forget / retain / collateral loss → loss-matched compute N× (compute.py)
→ relearning tokens (relearn.py) → results.json, report.md and plots (realreport.py). One training loop
(lm.train), one seed per entry of ``seeds``; intervals are over eval documents (and seeds where there are several).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.experiment.config import ExperimentConfig

ARMS = ("document", "masking", "span_removal", "oracle")
DOMAINS = ("forget", "retain", "collateral")


def _log(msg: str, t0: float) -> None:
    print(f"[experiment real] {msg} ({time.perf_counter() - t0:.0f} s so far)", file=sys.stderr, flush=True)


def _corpora(sets, filt: dict, tokenizer, out: Path) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Token files (and the masking arm's loss mask) of every arm, all from the same corpus documents."""
    from filterkit.experiment.masking import masked_memmap, span_removed
    from filterkit.experiment.tokens import tokenize_to_memmap

    rows = sets.corpus.select(["id", "text", "label"]).to_pylist()
    texts = [r["text"] for r in rows]
    spans = [filt["spans"].get(r["id"], []) for r in rows]
    d = out / "data"
    mm = lambda ts, name: tokenize_to_memmap(ts, tokenizer, d / f"{name}.bin")
    tokens, mask = masked_memmap(texts, spans, tokenizer, d / "masking.bin")
    return {
        "none": (mm(texts, "none"), None),
        "document": (mm([r["text"] for r in rows if r["id"] in filt["kept_ids"]], "document"), None),
        "masking": (tokens, mask),
        "span_removal": (mm(span_removed(texts, spans), "span_removal"), None),
        "oracle": (mm([r["text"] for r in rows if r["label"] == 0], "oracle"), None),
    }


def _budget_cfg(base, budget: float, seed: int):
    """The baseline run at ``budget`` x the steps: its own cosine schedule, warm-up scaled down with it."""
    steps = max(1, int(round(base.steps * budget)))
    return base.replace(seed=seed, steps=steps, warmup=int(round(base.warmup * min(budget, 1.0))))


def run_real_experiment(cfg: ExperimentConfig, out: Path) -> dict[str, Any]:
    from filterkit.experiment.attack import eval_threads
    from filterkit.experiment.evals import document_losses
    from filterkit.experiment.lm import (
        build_model,
        model_flops_per_token,
        save_lm,
        train,
    )
    from filterkit.experiment.real import split_real
    from filterkit.experiment.realfilter import run_filter
    from filterkit.experiment.relearn import forget_scorer, relearn_model
    from filterkit.experiment.summary import load_average, machine_load, provenance, write_results
    from filterkit.experiment.tokens import tokenize_to_memmap, train_tokenizer

    rc = cfg.real
    assert rc is not None
    t0 = time.perf_counter()
    load_start = load_average()
    out.mkdir(parents=True, exist_ok=True)
    sets = split_real(rc)
    filt = run_filter(cfg, sets, out)
    timings: dict[str, Any] = {"filter_s": time.perf_counter() - t0}
    _log(
        f"filter: recall {filt['quality']['recall']:.3f}, precision {filt['quality']['precision']:.3f}, span "
        f"threshold {filt['span']['threshold']:.3f} (document {filt['doc_threshold']:.3f})",
        t0,
    )

    tokenizer = train_tokenizer(sets.corpus.column("text").to_pylist(), cfg.vocab_size, out / "tokenizer")
    data = _corpora(sets, filt, tokenizer, out)
    eos = tokenizer.eos_token_id
    enc = lambda t: [
        ids[: rc.eval_max_tokens]
        for ids in tokenizer(t.column("text").to_pylist(), add_special_tokens=False)["input_ids"]
    ]
    evals = {name: enc(sets.evals[name]) for name in DOMAINS}
    relearn_data = tokenize_to_memmap(sets.relearn.column("text").to_pylist(), tokenizer, out / "data" / "relearn.bin")
    base = cfg.model.lm_config(len(tokenizer), cfg.seeds[0])
    flops_per_token = model_flops_per_token(base)
    tokens_per_step = base.batch_size * base.block_size

    def score(model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        with eval_threads():
            return {dom: document_losses(model, docs, base.block_size, bos=eos) for dom, docs in evals.items()}

    scores: dict[str, list[dict]] = {}  # model name -> per seed: domain -> (sums, counts)
    relearn_raw: dict[str, list[dict]] = {}
    tokens_per_s, pretrain_s, relearn_s = [], 0.0, 0.0
    budgets = sorted(rc.budgets)
    for seed in cfg.seeds:
        forget = forget_scorer(evals["forget"][: rc.relearn.eval_docs], base.block_size, eos)
        trained = {}
        for b in budgets:
            lm_cfg = _budget_cfg(base, b, seed)
            model = build_model(lm_cfg)
            stats = train(model, data["none"][0], lm_cfg)
            pretrain_s += stats["train_s"]
            tokens_per_s.append(stats["tokens_per_s"])
            scores.setdefault(f"baseline@{b:g}", []).append(score(model))
            if b == 1.0:
                trained["none"] = model
            _log(f"seed {seed} baseline x{b:g}: {lm_cfg.steps} steps, {stats['train_s']:.0f} s", t0)
        lm_cfg = base.replace(seed=seed)
        for arm in ARMS:
            tokens, mask = data[arm]
            model = build_model(lm_cfg)
            stats = train(model, tokens, lm_cfg, loss_mask=mask)
            pretrain_s += stats["train_s"]
            tokens_per_s.append(stats["tokens_per_s"])
            scores.setdefault(arm, []).append(score(model))
            trained[arm] = model
            _log(f"seed {seed} {arm}: {stats['train_s']:.0f} s", t0)
        scores["none"] = scores["baseline@1"]
        target = forget(trained["none"])
        tr = time.perf_counter()
        for name in ("none", *ARMS):
            relearn_raw.setdefault(name, []).append(
                relearn_model(trained[name], relearn_data, lm_cfg, rc.relearn, forget, target)
            )
            _log(f"seed {seed} relearn {name}: {relearn_raw[name][-1]['tokens']} tokens", t0)
        relearn_s += time.perf_counter() - tr
        if seed == cfg.seeds[0]:
            for name, model in trained.items():
                save_lm(out / "models" / name, model, tokenizer, lm_cfg)
    timings.update(pretrain_s=pretrain_s, relearn_s=relearn_s)

    from filterkit.experiment.realsummary import summarize_real

    results = summarize_real(cfg, scores, relearn_raw, budgets, base, flops_per_token, tokens_per_step)
    results.update(
        mode="real",
        filter={k: v for k, v in filt.items() if k not in ("kept_ids", "spans")},
        splits=sets.counts(),
        corpus_tokens={k: len(v[0]) for k, v in data.items()},
        loss_tokens_masking=int(data["masking"][1].sum()),
        tokens_per_s=float(np.mean(tokens_per_s)),
        provenance=provenance(),
        seeds=cfg.seeds,
    )
    timings.update(load_average=machine_load(load_start), torch_threads=cfg.torch_threads)
    results["timings"] = timings
    results["wall_seconds"] = time.perf_counter() - t0
    write_results(out, results, cfg)
    from filterkit.experiment.realreport import write_real_report

    write_real_report(results, out)
    return results
