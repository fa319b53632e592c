"""``filterkit experiment``: filtered vs baseline pretraining at small scale, end to end.

One flat function per step, read top to bottom (nanoGPT style): build the synthetic world → filter its
training corpus with the real ``filterkit run`` pipeline (so the filter's misses reach the model) → train a
tokenizer → per seed, pretrain a baseline, a filtered model and (leak seeds) a no-proxy model for the same
number of tokens → evaluate proxy and general knowledge → the adversary: fine-tuning on the attack corpus (no
asked fact stated) swept over learning rates, each model reported under its own best rate, in fine-tuning
tokens, with held-out proxy loss along it; fact injection (the eval facts themselves: an upper bound, not an
attack) and a benign control beside it → attack check (does the attack teach the no-proxy model what the
world's rules imply?) → relearn tokens → leak curve → results.json, report.md and plots.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from filterkit.experiment.analysis import (
    attack_check,
    granularity_comparison,
    relearn,
    summarize_attacks,
)
from filterkit.experiment.attack import _evaluate, _lm_with, attack_model
from filterkit.experiment.config import (  # noqa: F401  (re-exported: the config models' old home)
    AttackSection,
    CorpusSection,
    ExperimentConfig,
    FilterTrainingSection,
    ModelSection,
    experiment_config,
    load_experiment_config,
)
from filterkit.experiment.filtering import filter_corpus, span_filtering, train_filter
from filterkit.experiment.leak import leak_curve
from filterkit.experiment.report import report_lines, write_report  # noqa: F401
from filterkit.experiment.sets import (
    _attack_texts,
    _corpus_sets,
    _fact_injection_dir,
    _memmap,
    _texts,
    load_questions,
)
from filterkit.experiment.summary import (  # noqa: F401
    _PEAK_BF16_FLOPS,
    _load_average,
    provenance,
    summarize,
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
    from filterkit.experiment.lm import (
        build_model,
        model_flops_per_token,
        save_lm,
        train,
    )
    from filterkit.experiment.tokens import train_tokenizer

    t0 = time.perf_counter()
    load_start = _load_average()
    out.mkdir(parents=True, exist_ok=True)
    cdir = _corpus_sets(cfg, out)
    pipeline = train_filter(cfg, out / "filter-model") if cfg.filter_training else cfg.filter_pipeline
    filt = filter_corpus(cdir, pipeline, out / "filter")
    timings = {"setup_and_filter_s": time.perf_counter() - t0}

    all_train = _texts(cdir, "train")
    tokenizer = train_tokenizer(all_train, cfg.vocab_size, out / "tokenizer")
    attack_texts, heldout_texts, heldout_source = _attack_texts(cdir)
    mm = lambda texts, name: _memmap(texts, tokenizer, out / "data" / f"{name}.bin")
    data = {
        "baseline": mm(all_train, "baseline"),
        "filtered": mm(_texts(cdir, "train", filt["kept_ids"]), "filtered"),
        "attack": mm(attack_texts, "attack"),
        "fact_injection": mm(_texts(cdir, _fact_injection_dir(cdir).name), "fact_injection"),
        "control": mm(_texts(cdir, "control"), "control"),
        "proxy_heldout": mm(heldout_texts, "proxy_heldout"),
    }
    labelled = filt["recall"] is not None
    if labelled:  # the leak curve's 0 point: general documents only; the attack check fine-tunes it
        rows = pq.read_table(cdir / "train", columns=["text", "label"]).to_pylist()
        data["no_proxy"] = mm([r["text"] for r in rows if r["label"] == 0], "no_proxy")
    span = None
    if cfg.filter_granularity == "span":
        span = span_filtering(cdir, out / "filter", pipeline, out / "filter-spans", filt["kept_ids"])
        data["span_filtered"] = mm(span.pop("texts"), "span_filtered")
    heldout = {"proxy": data["proxy_heldout"], "general": data["control"]}  # never in pretraining
    questions, template = load_questions(cfg, cdir)
    base_cfg = cfg.model.lm_config(len(tokenizer), cfg.seeds[0])

    models = ["baseline", "filtered", "no_proxy"] + (["span_filtered"] if span else [])
    per_seed: dict[str, list[dict]] = {name: [] for name in models}
    raw: dict[str, list[dict]] = {name: [] for name in models}
    tokens_per_s, first_step_s, pretrain_s, attack_s = [], [], 0.0, 0.0
    for seed in cfg.seeds:
        lm_cfg = _lm_with(base_cfg, seed=seed)
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
            per_seed[name].append(_evaluate(model, tokenizer, questions, heldout, lm_cfg.block_size, template))
            ta = time.perf_counter()
            raw[name].append(
                attack_model(
                    model,
                    tokenizer,
                    data,
                    lm_cfg,
                    cfg.attack,
                    questions["proxy"],
                    template,
                    with_controls=name in ("baseline", "filtered"),
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
    tokens_per_model = base_cfg.steps * base_cfg.batch_size * base_cfg.block_size
    proxy_tokens = None
    if labelled:  # proxy tokens the baseline read in pretraining: its share of the corpus times the budget
        proxy_tokens = tokens_per_model * (len(data["baseline"]) - len(data["no_proxy"])) / len(data["baseline"])
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
    timings["load_average"] = {
        "start": load_start,
        "end": _load_average(),
        "cpus": os.cpu_count(),
        "note": "1-minute load averages: above the CPU count, other jobs shared the cores",
    }
    timings["torch_threads"] = cfg.torch_threads
    results["timings"] = timings
    results["provenance"] = provenance()
    results["eval_prompt_template"] = template
    results["n_questions"] = {d: len(q) for d, q in questions.items()}
    results["token_budget"] = {
        "tokens_per_model": tokens_per_model,
        "baseline_proxy_tokens": proxy_tokens,
        "corpus_tokens": {
            k: len(data[k])
            for k in ("baseline", "filtered", "span_filtered", "attack", "fact_injection", "proxy_heldout", "no_proxy")
            if k in data
        },
        "matching": "same steps x batch x block for every model; the smaller filtered corpus is repeated more "
        "(more epochs), not topped up",
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(cfg.model_dump(mode="json"), indent=2), encoding="utf-8")
    write_report(results, out)
    return results
