"""``filterkit experiment``: filtered vs baseline pretraining at small scale, end to end.

Orchestration only, read top to bottom (nanoGPT style): build the synthetic world → filter its training corpus with
the real ``filterkit run`` pipeline (so the filter's misses reach the model) → train a tokenizer → per seed, pretrain
a baseline, a filtered model and (leak seeds) a no-proxy model for the same number of tokens → evaluate proxy and
general knowledge → the adversary (:mod:`~filterkit.experiment.attack`): fine-tuning on the attack corpus (no asked
fact stated) swept over learning rates, each model reported under its own best rate, with fact injection (an upper
bound, not an attack) and a benign control beside it → attack check and relearn tokens
(:mod:`~filterkit.experiment.analysis`) → leak curve (:mod:`~filterkit.experiment.leak`) → results.json, report.md
and plots (:mod:`~filterkit.experiment.summary`, :mod:`~filterkit.experiment.report`). Each step lives in its own
module; the real-text mode is :mod:`~filterkit.experiment.realrun`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.experiment.analysis import attack_check, granularity_comparison, relearn, summarize_attacks
from filterkit.experiment.attack import attack_model, evaluate_model
from filterkit.experiment.config import ExperimentConfig, experiment_config, load_experiment_config
from filterkit.experiment.filtering import filter_corpus, span_filtering, train_filter
from filterkit.experiment.leak import leak_curve
from filterkit.experiment.report import write_report
from filterkit.experiment.sets import corpus_sets, load_questions, read_texts, token_file, token_sets
from filterkit.experiment.summary import (
    load_average,
    machine_load,
    provenance,
    summarize,
    token_budget,
    write_results,
)


def run_experiment(config: str | Path | dict | ExperimentConfig, out: str | Path) -> dict[str, Any]:
    """Run the whole comparison into ``out`` and return results.json's content."""
    import torch

    if isinstance(config, ExperimentConfig):
        cfg = config
    elif isinstance(config, dict):
        cfg = experiment_config(config)
    else:
        cfg = load_experiment_config(config)  # validated whole before any work starts
    threads = torch.get_num_threads()
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    try:
        if cfg.real is not None:  # real text: its own flow over the same LM, tokenizer and training loop
            from filterkit.experiment.realrun import run_real_experiment

            return run_real_experiment(cfg, Path(out))
        return _run_experiment(cfg, Path(out))
    finally:
        torch.set_num_threads(threads)


def _run_experiment(cfg: ExperimentConfig, out: Path) -> dict[str, Any]:
    from filterkit.experiment.lm import build_model, model_flops_per_token, save_lm, train
    from filterkit.experiment.tokens import train_tokenizer

    t0 = time.perf_counter()
    load_start = load_average()
    out.mkdir(parents=True, exist_ok=True)
    cdir = corpus_sets(cfg, out)
    pipeline = train_filter(cfg, out / "filter-model") if cfg.filter_training else cfg.filter_pipeline
    filt = filter_corpus(cdir, pipeline, out / "filter")
    timings: dict[str, Any] = {"setup_and_filter_s": time.perf_counter() - t0}

    tokenizer = train_tokenizer(read_texts(cdir, "train"), cfg.vocab_size, out / "tokenizer")
    labelled = filt["recall"] is not None  # the no-proxy model and the leak curve need the corpus's labels
    data, heldout_source = token_sets(cdir, tokenizer, filt["kept_ids"], out / "data", labelled)
    span = None
    if cfg.filter_granularity == "span":
        span = span_filtering(cdir, out / "filter", pipeline, out / "filter-spans", filt["kept_ids"])
        data["span_filtered"] = token_file(span.pop("texts"), tokenizer, out / "data" / "span_filtered.bin")
    heldout = {"proxy": data["proxy_heldout"], "general": data["control"]}  # never in pretraining
    questions, template = load_questions(cfg, cdir)
    base_cfg = cfg.model.lm_config(len(tokenizer), cfg.seeds[0])

    models = ["baseline", "filtered", "no_proxy"] + (["span_filtered"] if span else [])
    per_seed: dict[str, list[dict]] = {name: [] for name in models}
    raw: dict[str, list[dict]] = {name: [] for name in models}
    tokens_per_s, first_step_s, pretrain_s, attack_s = [], [], 0.0, 0.0
    for seed in cfg.seeds:
        lm_cfg = base_cfg.replace(seed=seed)
        names = (
            ["baseline", "filtered"]
            + (["span_filtered"] if span else [])
            + (["no_proxy"] if labelled and seed in cfg.seeds[: cfg.leak_seeds] else [])
        )
        for name in names:
            model = build_model(lm_cfg)
            stats = train(model, data[name], lm_cfg)  # same steps x batch x block: same tokens for every model
            tokens_per_s.append(stats["tokens_per_s"])
            first_step_s.append(stats["first_step_s"])
            pretrain_s += stats["train_s"]
            per_seed[name].append(evaluate_model(model, tokenizer, questions, heldout, lm_cfg.block_size, template))
            ta = time.perf_counter()
            controls = name in ("baseline", "filtered")
            raw[name].append(
                attack_model(
                    model, tokenizer, data, lm_cfg, cfg.attack, questions["proxy"], template, with_controls=controls
                )
            )
            attack_s += time.perf_counter() - ta
            print(
                f"[experiment] seed {seed} {name}: pretrained {stats['train_s']:.0f} s, attacked "
                f"{time.perf_counter() - ta:.0f} s, {time.perf_counter() - t0:.0f} s so far",
                file=sys.stderr,
                flush=True,
            )
            if seed == cfg.seeds[0]:  # weights, config and tokenizer: lm-eval and AutoTokenizer load it as it is
                save_lm(out / "models" / name, model, tokenizer, lm_cfg, stats)
    tokenizer.save_pretrained(out / "models" / "tokenizer")
    timings.update(pretrain_s=pretrain_s, attack_s=attack_s)
    timings["first_step_s"] = first_step_s  # compile + warm-up per pretraining run, outside tokens/s

    reuse = {1.0: per_seed["baseline"], "actual": per_seed["filtered"], 0.0: per_seed["no_proxy"]}
    tl = time.perf_counter()
    leak = leak_curve(cfg, cdir, tokenizer, filt["leak_rate"], base_cfg, questions, template, out, reuse)
    timings["leak_s"] = time.perf_counter() - tl

    chance = float(np.mean([1 / len(q["choices"]) for q in questions["proxy"]]))
    budget = token_budget(base_cfg, data)
    proxy_tokens = budget["baseline_proxy_tokens"]
    tokens_per_step = (cfg.attack.batch_size or base_cfg.batch_size) * base_cfg.block_size
    results = summarize(cfg, per_seed, leak, filt, base_cfg, tokens_per_s, time.perf_counter() - t0, chance)
    results["attack"] = summarize_attacks(raw, cfg.attack, tokens_per_step)
    results["attack"]["heldout_proxy_source"] = heldout_source
    results["attack_check"] = attack_check(raw["no_proxy"], questions["proxy"], cfg.attack, tokens_per_step)
    results["relearn"] = relearn(raw, results["attack"], proxy_tokens)
    if span:
        results["span"] = {**span, "relearn": relearn(raw, results["attack"], proxy_tokens, name="span_filtered")}
        results["granularity"] = granularity_comparison(results, data)
    results["wall_seconds"] = time.perf_counter() - t0
    results["flops_per_token"] = model_flops_per_token(base_cfg)
    timings.update(load_average=machine_load(load_start), torch_threads=cfg.torch_threads)
    results.update(
        timings=timings,
        provenance=provenance(),
        eval_prompt_template=template,
        n_questions={d: len(q) for d, q in questions.items()},
        token_budget=budget,
    )
    write_results(out, results, cfg)
    write_report(results, out)
    return results
