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

import contextlib
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from filterkit.errors import FilterkitError
from filterkit.experiment.analysis import (
    attack_check,
    granularity_comparison,
    mean_ci95,
    relearn,
    summarize_attacks,
)
from filterkit.experiment.config import (  # noqa: F401  (re-exported: the config models' old home)
    AttackSection,
    CorpusSection,
    ExperimentConfig,
    FilterTrainingSection,
    ModelSection,
    experiment_config,
    load_experiment_config,
)
from filterkit.experiment.report import report_lines, write_report  # noqa: F401


def filter_corpus(corpus_dir: Path, pipeline: Path, out: Path) -> dict[str, Any]:
    """Run the real pipeline on the training shards; measure it against the generator's labels."""
    from filterkit.runs.runner import run

    result = run(corpus_dir / "train", pipeline, out)
    kept_ids = set(pq.read_table(out / "kept", columns=["id"]).column("id").to_pylist())
    names = pq.read_schema(next(iter(sorted((corpus_dir / "train").glob("*.parquet"))))).names
    if "label" not in names:  # a user's corpus without labels: the filter cannot be scored
        return {"kept_ids": kept_ids, "recall": None, "precision": None, "leak_rate": None, "counts": result.counts}
    source = pq.read_table(corpus_dir / "train", columns=["id", "label"]).to_pylist()
    proxy = [r["id"] for r in source if r["label"] == 1]
    removed = [r for r in source if r["id"] not in kept_ids]
    removed_proxy = sum(1 for r in removed if r["label"] == 1)
    recall = removed_proxy / len(proxy) if proxy else 0.0
    return {
        "kept_ids": kept_ids,
        "recall": recall,
        "precision": removed_proxy / len(removed) if removed else 0.0,
        "leak_rate": 1 - recall,
        "counts": result.counts,
    }


def train_filter(cfg: ExperimentConfig, out: Path) -> Path:
    """Train the topic filter on an independent world; return a pipeline YAML that uses it (see FilterTrainingSection)."""
    from filterkit.experiment.corpus import corpus_from_section
    from filterkit.match.build import build_terms, write_term_file

    ft = cfg.filter_training
    assert ft is not None
    c = cfg.corpus
    # the same world sizes, another seed; only its training text is used (no attack, control or held-out sets)
    world = corpus_from_section(c, seed=c.seed + ft.world_seed_offset, n_attack_weak=0, n_fact_injection=0, n_control=0,
                                n_proxy_heldout=0, habitat_notes=0)
    out.mkdir(parents=True, exist_ok=True)
    labels = out / "labels.parquet"
    docs = [d for d in world.train if d.kind not in ft.unseen_kinds]
    pq.write_table(pa.table({"id": [d.id for d in docs], "text": [d.text for d in docs],
                             "label": [d.label for d in docs]}), labels)
    terms = build_terms(labels, max_terms=ft.max_terms)
    blocklist = write_term_file(terms, out / "blocklist.txt", {"source": "filterkit experiment, independent world",
                                                                "world_seed": c.seed + ft.world_seed_offset})
    head = out / "head"
    if ft.backend == "fasttext":
        from filterkit.train.fasttext import train_fasttext

        train_fasttext(labels, head, target_recall=ft.target_recall, seed=c.seed, name="experiment-topic-fasttext")
    else:
        from filterkit.train.embedding import train_head

        train_head(labels, head, target_recall=ft.target_recall, seed=c.seed, name="experiment-topic-embedding")
    from filterkit.config import read_yaml_mapping  # aliases, cycles and duplicate keys refused, as for `run -p`

    base = read_yaml_mapping(cfg.filter_pipeline, "pipeline config", "filter_pipeline in the experiment config")
    base["blocklist"] = {**base.get("blocklist", {}), "path": str(blocklist.resolve()), "min_unique_hits": ft.min_unique_hits}
    base["classifier"] = {k: v for k, v in base.get("classifier", {}).items() if k not in ("path", "threshold", "backend")}
    base["classifier"]["path"] = str(head.resolve())
    base["name"] = f"{base.get('name', 'experiment-filter')}-trained"
    # no semantic gate is trained for the synthetic world: the shipped gate (real biology) must not escalate here
    base["semantic_gate"] = {"enabled": False}
    pipeline = out / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    return pipeline


def _texts(corpus_dir: Path, subset: str, ids: set[str] | None = None) -> list[str]:
    rows = pq.read_table(corpus_dir / subset, columns=["id", "text"]).to_pylist()
    return [r["text"] for r in rows if ids is None or r["id"] in ids]


def _memmap(texts: list[str], tokenizer, path: Path) -> np.ndarray:
    from filterkit.experiment.tokens import tokenize_to_memmap

    return tokenize_to_memmap(texts, tokenizer, path)


def _evaluate(model, tokenizer, questions: dict[str, list[dict]], heldout: dict[str, np.ndarray], block: int,
              template: str) -> dict:
    from filterkit.experiment.evals import heldout_loss, mc_eval

    out = {}
    with _eval_threads():
        for domain in ("proxy", "general"):
            r = mc_eval(model, tokenizer, questions[domain], prompt_template=template)
            out[f"{domain}_acc"], out[f"{domain}_acc_norm"] = r["acc"], r["acc_norm"]
            out[f"{domain}_loss"] = heldout_loss(model, heldout[domain], block, max_tokens=20_000)
    return out


@contextlib.contextmanager
def _eval_threads():
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


def _attack_eval(model, tokenizer, questions: list[dict], heldout: np.ndarray, block: int, template: str) -> dict:
    """Proxy accuracy (overall and per attribute, where questions name one) and held-out proxy loss."""
    from filterkit.experiment.evals import heldout_loss, mc_eval

    with _eval_threads():
        r = mc_eval(model, tokenizer, questions, prompt_template=template)
        loss = heldout_loss(model, heldout, block, max_tokens=20_000)
    by_attr: dict[str, list[int]] = {}
    inferable: list[int] = []
    for q, p in zip(questions, r["pred"]):
        if "attribute" in q:
            by_attr.setdefault(str(q["attribute"]), []).append(int(p == int(q["answer"])))
        if q.get("inferable"):
            inferable.append(int(p == int(q["answer"])))
    return {"acc": r["acc"], "loss": loss, "acc_inferable": float(np.mean(inferable)) if inferable else None,
            "by_attr": {a: float(np.mean(v)) for a, v in sorted(by_attr.items())}}


def _attack(model, tokenizer, data: np.ndarray, lm_cfg, acfg: AttackSection, lr: float, steps: int,
            questions: list[dict], heldout: np.ndarray, template: str) -> list[dict]:
    """Fine-tune a copy on ``data`` at ``lr``; an :func:`_attack_eval` at each of ``acfg.eval_steps()`` up to ``steps``."""
    from filterkit.experiment.lm import train

    m = copy.deepcopy(model)
    # no torch.compile: a short fine-tuning run would pay a fresh compile each time (a new model copy)
    cfg = _lm_with(lm_cfg, lr=lr, warmup=0, steps=steps, batch_size=acfg.batch_size or lm_cfg.batch_size, compile=False)
    at = [s for s in acfg.eval_steps() if s <= steps]
    stats = train(m, data, cfg, eval_fn=lambda step: _attack_eval(m, tokenizer, questions, heldout, cfg.block_size, template),
                  eval_at=at)
    return [e["result"] for e in stats["evals"]]


def _lm_settings(lm_cfg) -> dict[str, Any]:
    """An LMConfig's fields as a dict (a dataclass's to_dict or a pydantic model's model_dump)."""
    return lm_cfg.model_dump() if hasattr(lm_cfg, "model_dump") else lm_cfg.to_dict()


def _lm_with(lm_cfg, **changes: Any):
    """A copy of an LMConfig with ``changes``, validated again."""
    return type(lm_cfg)(**{**_lm_settings(lm_cfg), **changes})


def attack_model(model, tokenizer, data: dict[str, np.ndarray], lm_cfg, acfg: AttackSection, questions: list[dict],
                 template: str, with_controls: bool = True) -> dict[str, Any]:
    """The learning-rate sweep on the attack corpus, then fact injection (an upper bound, not an attack) and the
    benign control at ``controls_lr``; each a list of evaluations along fine-tuning."""
    out: dict[str, Any] = {"sweep": {}}
    for lr in acfg.lrs:
        out["sweep"][lr] = _attack(model, tokenizer, data["attack"], lm_cfg, acfg, lr, acfg.steps, questions,
                                   data["proxy_heldout"], template)
    if with_controls:
        csteps = acfg.controls_steps or acfg.steps
        out["fact_injection"] = _attack(model, tokenizer, data["fact_injection"], lm_cfg, acfg, acfg.controls_lr, csteps,
                                        questions, data["proxy_heldout"], template)
        if acfg.benign:
            out["benign"] = _attack(model, tokenizer, data["control"], lm_cfg, acfg, acfg.controls_lr, csteps, questions,
                                    data["proxy_heldout"], template)
    return out


def load_questions(cfg: ExperimentConfig, cdir: Path) -> tuple[dict[str, list[dict]], str]:
    """The eval sets and the prompt template they are asked with (see ExperimentConfig.eval_prompt_template)."""
    from filterkit.experiment.corpus import PROMPT_TEMPLATE
    from filterkit.experiment.evals import load_mc_file

    questions = {d: load_mc_file(cfg.eval_files.get(d, cdir / "questions" / f"{d}.jsonl")) for d in ("proxy", "general")}
    default = "Question: {question}\nAnswer:" if cfg.eval_files else PROMPT_TEMPLATE
    return questions, cfg.eval_prompt_template or default


def provenance() -> dict[str, Any]:
    """What produced a result: code revision and library versions."""
    import subprocess

    import tokenizers
    import torch
    import transformers

    import filterkit

    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True,
                             timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        rev = None
    return {"git_rev": rev, "filterkit": filterkit.__version__, "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__}


def _corpus_sets(cfg: ExperimentConfig, out: Path) -> Path:
    """The generated corpus, or the user's ``corpus_dir`` checked for the folders the experiment reads."""
    from filterkit.experiment.corpus import corpus_from_section, write_corpus

    if cfg.corpus_dir is None:
        return write_corpus(corpus_from_section(cfg.corpus), out / "corpus")
    cdir = cfg.corpus_dir
    for sub in ("train", "attack_weak", _fact_injection_dir(cdir).name, "control"):
        if not any((cdir / sub).glob("*.parquet")):
            raise FilterkitError(f"{cdir / sub}: no parquet shards; corpus_dir needs train/, attack_weak/, "
                                 f"fact_injection/ (or attack_strong/) and control/ folders of parquet with text and id")
    return cdir


def _fact_injection_dir(cdir: Path) -> Path:
    """``fact_injection/``, or ``attack_strong/`` in a corpus written before the rename."""
    new, old = cdir / "fact_injection", cdir / "attack_strong"
    return old if not new.exists() and old.exists() else new


def _attack_texts(cdir: Path) -> tuple[list[str], list[str], str]:
    """Attack corpus and held-out proxy text. Without ``proxy_heldout/`` (a user's corpus), every fifth attack
    document is held out instead, so the loss along the attack is never measured on text it trains on."""
    attack = _texts(cdir, "attack_weak")
    if any((cdir / "proxy_heldout").glob("*.parquet")):
        held = _texts(cdir, "proxy_heldout")
        if held:
            return attack, held, "proxy_heldout/"
    return [t for i, t in enumerate(attack) if i % 5 != 4], attack[4::5], "every fifth attack_weak/ document"


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


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


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
        names = (["baseline", "filtered"] + (["span_filtered"] if span else [])
                 + (["no_proxy"] if labelled and seed in cfg.seeds[: cfg.leak_seeds] else []))
        for name in names:
            model = build_model(lm_cfg)
            stats = train(model, data[name], lm_cfg)  # same steps x batch x block: same tokens for every model
            tokens_per_s.append(stats["tokens_per_s"])
            first_step_s.append(stats["first_step_s"])
            pretrain_s += stats["train_s"]
            per_seed[name].append(_evaluate(model, tokenizer, questions, heldout, lm_cfg.block_size, template))
            ta = time.perf_counter()
            raw[name].append(attack_model(model, tokenizer, data, lm_cfg, cfg.attack, questions["proxy"], template,
                                          with_controls=name in ("baseline", "filtered")))
            attack_s += time.perf_counter() - ta
            print(f"[experiment] seed {seed} {name}: pretrained {stats['train_s']:.0f} s, attacked "
                  f"{time.perf_counter() - ta:.0f} s, {time.perf_counter() - t0:.0f} s so far", file=sys.stderr, flush=True)
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
    timings["load_average"] = {"start": load_start, "end": _load_average(), "cpus": os.cpu_count(),
                               "note": "1-minute load averages: above the CPU count, other jobs shared the cores"}
    timings["torch_threads"] = cfg.torch_threads
    results["timings"] = timings
    results["provenance"] = provenance()
    results["eval_prompt_template"] = template
    results["n_questions"] = {d: len(q) for d, q in questions.items()}
    results["token_budget"] = {
        "tokens_per_model": tokens_per_model,
        "baseline_proxy_tokens": proxy_tokens,
        "corpus_tokens": {k: len(data[k]) for k in ("baseline", "filtered", "span_filtered", "attack", "fact_injection",
                                                    "proxy_heldout", "no_proxy") if k in data},
        "matching": "same steps x batch x block for every model; the smaller filtered corpus is repeated more "
                    "(more epochs), not topped up",
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(cfg.model_dump(mode="json"), indent=2), encoding="utf-8")
    write_report(results, out)
    return results


def span_filtering(cdir: Path, run_dir: Path, pipeline: Path, out: Path, kept_ids: set[str]) -> dict[str, Any]:
    """The span-filtered training texts (see spans.span_filter) and, where the corpus has labels, the share of
    proxy and general characters each granularity keeps."""
    from filterkit.experiment.spans import span_filter

    names = pq.read_schema(next(iter(sorted((cdir / "train").glob("*.parquet"))))).names
    rows = pq.read_table(cdir / "train", columns=["id", "text"] + (["label"] if "label" in names else [])).to_pylist()
    res = span_filter([r["id"] for r in rows], [r["text"] for r in rows], run_dir, pipeline, out)
    if "label" in names:
        span_len = dict(zip(res["ids"], (len(t) for t in res["texts"])))
        kept: dict[str, dict[str, float]] = {"document": {}, "span": {}}
        for label, domain in ((1, "proxy"), (0, "general")):
            mine = [r for r in rows if r["label"] == label]
            total = sum(len(r["text"]) for r in mine) or 1
            kept["document"][domain] = sum(len(r["text"]) for r in mine if r["id"] in kept_ids) / total
            kept["span"][domain] = sum(span_len.get(r["id"], 0) for r in mine) / total
        res["chars_kept"] = kept
    del res["ids"]
    return res


def leak_curve(cfg: ExperimentConfig, cdir: Path, tokenizer, actual: float | None, base_cfg, questions, template: str,
               out: Path, reuse: dict) -> dict:
    """Proxy accuracy when a fraction of the proxy documents slips into otherwise general training data.

    Leak corpora keep the training corpus's document order, so fraction 1.0 *is* the baseline corpus, the
    "actual" point *is* the filtered model (the filter's real misses and false positives) and 0.0 *is* the
    no-proxy model the attack check fine-tunes: all reuse those models' results instead of training them again.
    Needs labels on the training corpus.
    """
    from filterkit.experiment.evals import mc_eval
    from filterkit.experiment.lm import build_model, train

    if actual is None:  # filter_corpus found no labels, so neither the leak rate nor the proxy set is known
        return {"fractions": [], "per_seed": [], "proxy_acc": [], "note": "training corpus has no labels"}
    rows = pq.read_table(cdir / "train", columns=["text", "label"]).to_pylist()
    proxy_idx = [i for i, r in enumerate(rows) if r["label"] == 1]
    fractions = sorted({float(actual) if f == "actual" else float(f) for f in cfg.leak_fractions})
    seeds = cfg.seeds[: cfg.leak_seeds]
    accs: list[list[float]] = []
    sources: list[str] = []
    for f in fractions:
        if "actual" in cfg.leak_fractions and f == float(actual):
            accs.append([r["proxy_acc"] for r in reuse["actual"][: len(seeds)]])
            sources.append("filtered model (the filter's actual output)")
            continue
        if f == 1.0:
            accs.append([r["proxy_acc"] for r in reuse[1.0][: len(seeds)]])
            sources.append("baseline model")
            continue
        if f == 0.0 and len(reuse.get(0.0) or []) >= len(seeds):
            accs.append([r["proxy_acc"] for r in reuse[0.0][: len(seeds)]])
            sources.append("no-proxy model (also the attack check's)")
            continue
        rng = np.random.default_rng(1234)
        take = set(rng.permutation(proxy_idx)[: int(round(f * len(proxy_idx)))].tolist())
        texts = [r["text"] for i, r in enumerate(rows) if r["label"] == 0 or i in take]
        data = _memmap(texts, tokenizer, out / "data" / f"leak-{f:.4f}.bin")
        row = []
        for seed in seeds:
            lm_cfg = _lm_with(base_cfg, seed=seed)
            model = build_model(lm_cfg)
            train(model, data, lm_cfg)
            row.append(mc_eval(model, tokenizer, questions["proxy"], prompt_template=template)["acc"])
        accs.append(row)
        sources.append("trained")
    return {"fractions": fractions, "per_seed": accs, "proxy_acc": [float(np.mean(a)) for a in accs],
            "proxy_acc_ci95": [mean_ci95(a)[1] for a in accs], "seeds": seeds, "source": sources}


# dense bf16 tensor-core peaks (FLOP/s, no sparsity) for model FLOPs utilisation
_PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}


def summarize(cfg, per_seed, leak, filt, base_cfg, tokens_per_s, wall, chance: float = 0.25) -> dict[str, Any]:
    import torch

    def model_summary(rows: list[dict]) -> dict[str, Any]:
        out = {}
        for key in ("proxy_acc", "general_acc", "proxy_acc_norm", "general_acc_norm", "proxy_loss", "general_loss"):
            m, ci = mean_ci95([r[key] for r in rows])
            out[key], out[f"{key}_ci95"] = m, ci
        out["per_seed"] = rows
        return out

    tps = float(np.mean(tokens_per_s))
    device = "cpu"
    mfu = None
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name(0)
        peak = next((v for k, v in _PEAK_BF16_FLOPS.items() if k in device), None)
        if peak:  # 6 N FLOPs per token (forward + backward), as model_flops_per_token counts
            from filterkit.experiment.lm import model_flops_per_token

            mfu = model_flops_per_token(base_cfg) * tps / peak
    else:
        device = f"cpu ({torch.get_num_threads()} threads)"
    return {
        "chance": chance,
        "seeds": cfg.seeds,
        **{name: model_summary(rows) for name, rows in per_seed.items() if rows},
        "filter": {"recall": filt["recall"], "precision": filt["precision"], "counts": filt["counts"]},
        "leak": leak,
        "model": _lm_settings(base_cfg),
        "tokens_per_s": tps,
        "mfu": mfu,
        "device": device,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "wall_seconds": wall,
    }
