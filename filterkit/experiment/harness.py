"""``filterkit experiment``: filtered vs baseline pretraining at small scale, end to end.

One flat function per step, read top to bottom (nanoGPT style): build the synthetic world → filter its
training corpus with the real ``filterkit run`` pipeline (so the filter's misses reach the model) → train a
tokenizer → per seed, pretrain a baseline and a filtered model for the same number of tokens → evaluate
proxy and general knowledge → fine-tuning attacks (weak: documents that do not state the eval facts; strong:
documents that do; benign control) → leak curve → results.json, report.md and plots.
"""

from __future__ import annotations

import copy
import json
import math
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from filterkit.errors import FilterkitError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusSection(_Strict):
    seed: int = 0
    n_docs_general: int = 2000
    n_docs_proxy: int = 600
    n_attack_weak: int = 300
    n_attack_strong: int = 300
    n_control: int = 300
    eval_fraction: float = 0.2


class AttackSection(_Strict):
    steps: int = 100
    eval_every: int = 25
    lr: float = 1e-3


class ExperimentConfig(_Strict):
    """The whole experiment; relative paths resolve against the YAML file's folder."""

    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    corpus: CorpusSection = Field(default_factory=CorpusSection)
    filter_pipeline: Path = Path("experiment-filter.yaml")
    vocab_size: int = 2048
    model: dict[str, Any] = Field(default_factory=dict, description="LMConfig fields (filterkit.experiment.lm)")
    attack: AttackSection = Field(default_factory=AttackSection)
    leak_fractions: list[float | str] = Field(default_factory=lambda: [0.0, "actual", 0.05, 0.25, 1.0])
    leak_seeds: int = Field(1, ge=1, description="seeds (from the start of `seeds`) used for the leak curve")


def load_experiment_config(path: str | Path) -> ExperimentConfig:
    path = Path(path)
    if not path.is_file():
        raise FilterkitError(f"{path}: experiment config not found; pass an existing YAML file to --config")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cfg = ExperimentConfig.model_validate(raw)
    except yaml.YAMLError:
        raise FilterkitError(f"{path}: not valid YAML; fix the syntax") from None
    except ValidationError as e:
        errs = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise FilterkitError(f"{path}: invalid experiment config: {errs}") from None
    if not cfg.filter_pipeline.is_absolute():
        cfg.filter_pipeline = (path.parent / cfg.filter_pipeline).resolve()
    return cfg


def mean_ci95(values: list[float]) -> tuple[float, list[float]]:
    """Mean and a t-based 95% interval over seeds (a zero-width interval for one seed)."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return m, [m, m]
    t = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776}.get(len(x), 1.96)
    half = t * float(x.std(ddof=1)) / math.sqrt(len(x))
    return m, [m - half, m + half]


def filter_corpus(corpus_dir: Path, pipeline: Path, out: Path) -> dict[str, Any]:
    """Run the real pipeline on the training shards; measure it against the generator's labels."""
    from filterkit.runner import run

    result = run(corpus_dir / "train", pipeline, out)
    source = pq.read_table(corpus_dir / "train", columns=["id", "label"]).to_pylist()
    kept_ids = set(pq.read_table(out / "kept", columns=["id"]).column("id").to_pylist())
    proxy = [r["id"] for r in source if r["label"] == 1]
    removed = [r for r in source if r["id"] not in kept_ids]
    removed_proxy = sum(1 for r in removed if r["label"] == 1)
    return {
        "kept_ids": kept_ids,
        "recall": removed_proxy / len(proxy) if proxy else 0.0,
        "precision": removed_proxy / len(removed) if removed else 0.0,
        "leak_rate": 1 - (removed_proxy / len(proxy) if proxy else 0.0),
        "counts": result.counts,
    }


def _texts(corpus_dir: Path, subset: str, ids: set[str] | None = None) -> list[str]:
    rows = pq.read_table(corpus_dir / subset, columns=["id", "text"]).to_pylist()
    return [r["text"] for r in rows if ids is None or r["id"] in ids]


def _memmap(texts: list[str], tokenizer, path: Path) -> np.ndarray:
    from filterkit.experiment.lm import tokenize_to_memmap

    return tokenize_to_memmap(texts, tokenizer, path)


def _evaluate(model, tokenizer, questions: dict[str, list[dict]], heldout: dict[str, np.ndarray], block: int) -> dict:
    from filterkit.experiment.lm import heldout_loss, mc_eval

    out = {}
    for domain in ("proxy", "general"):
        out[f"{domain}_acc"] = mc_eval(model, tokenizer, questions[domain])["acc"]
        out[f"{domain}_loss"] = heldout_loss(model, heldout[domain], block, max_tokens=20_000)
    return out


def _attack(model, tokenizer, data: np.ndarray, lm_cfg, acfg: AttackSection, questions: list[dict]) -> list[float]:
    """Fine-tune a copy on ``data``; proxy accuracy at every evaluation step."""
    from dataclasses import replace

    from filterkit.experiment.lm import mc_eval, train

    m = copy.deepcopy(model)
    cfg = replace(lm_cfg, lr=acfg.lr, warmup=0, steps=acfg.steps)
    stats = train(m, data, cfg, eval_fn=lambda step: mc_eval(m, tokenizer, questions)["acc"], eval_every=acfg.eval_every)
    return [e["result"] for e in stats["evals"]]


def run_experiment(config: str | Path | ExperimentConfig, out: str | Path) -> dict[str, Any]:
    """Run the whole comparison into ``out`` and return results.json's content."""
    from filterkit.experiment.corpus import build_corpus, write_corpus
    from filterkit.experiment.lm import LMConfig, build_model, load_mc_file, model_flops_per_token, train, train_tokenizer

    t0 = time.perf_counter()
    cfg = config if isinstance(config, ExperimentConfig) else load_experiment_config(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    c = cfg.corpus
    corpus = build_corpus(c.seed, c.n_docs_general, c.n_docs_proxy, c.n_attack_weak, c.n_attack_strong,
                          c.n_control, c.eval_fraction)
    cdir = write_corpus(corpus, out / "corpus")
    filt = filter_corpus(cdir, cfg.filter_pipeline, out / "filter")

    all_train = _texts(cdir, "train")
    tokenizer = train_tokenizer(all_train, cfg.vocab_size, out / "tokenizer")
    data = {
        "baseline": _memmap(all_train, tokenizer, out / "data" / "baseline.bin"),
        "filtered": _memmap(_texts(cdir, "train", filt["kept_ids"]), tokenizer, out / "data" / "filtered.bin"),
        "attack_weak": _memmap(_texts(cdir, "attack_weak"), tokenizer, out / "data" / "attack_weak.bin"),
        "attack_strong": _memmap(_texts(cdir, "attack_strong"), tokenizer, out / "data" / "attack_strong.bin"),
        "control": _memmap(_texts(cdir, "control"), tokenizer, out / "data" / "control.bin"),
    }
    heldout = {"proxy": data["attack_weak"], "general": data["control"]}  # never in pretraining
    questions = {d: load_mc_file(cdir / "questions" / f"{d}.jsonl") for d in ("proxy", "general")}
    base_cfg = LMConfig.from_dict({**cfg.model, "vocab_size": len(tokenizer)}, source="model")

    per_seed: dict[str, list[dict]] = {"baseline": [], "filtered": []}
    attacks: dict[str, dict[str, list[list[float]]]] = {
        k: {"baseline": [], "filtered": []} for k in ("weak", "strong", "benign")
    }
    tokens_per_s = []
    for seed in cfg.seeds:
        lm_cfg = LMConfig.from_dict({**base_cfg.to_dict(), "seed": seed}, source="model")
        for name in ("baseline", "filtered"):
            model = build_model(lm_cfg)
            stats = train(model, data[name], lm_cfg)  # same steps x batch x block: same tokens for both
            tokens_per_s.append(stats["tokens_per_s"])
            per_seed[name].append(_evaluate(model, tokenizer, questions, heldout, lm_cfg.block_size))
            for kind, key in (("weak", "attack_weak"), ("strong", "attack_strong"), ("benign", "control")):
                attacks[kind][name].append(_attack(model, tokenizer, data[key], lm_cfg, cfg.attack, questions["proxy"]))
            if seed == cfg.seeds[0]:
                model.save_pretrained(out / "models" / name)
    tokenizer.save_pretrained(out / "models" / "tokenizer")

    leak = leak_curve(cfg, cdir, tokenizer, filt["leak_rate"], base_cfg, questions, out)
    results = summarize(cfg, per_seed, attacks, leak, filt, base_cfg, tokens_per_s, time.perf_counter() - t0)
    results["flops_per_token"] = model_flops_per_token(base_cfg)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(cfg.model_dump(mode="json"), indent=2), encoding="utf-8")
    write_report(results, out)
    return results


def leak_curve(cfg: ExperimentConfig, cdir: Path, tokenizer, actual: float, base_cfg, questions, out: Path) -> dict:
    """Proxy accuracy when a fraction of the proxy documents slips into otherwise general training data."""
    from filterkit.experiment.lm import LMConfig, build_model, mc_eval, train

    rows = pq.read_table(cdir / "train", columns=["text", "label"]).to_pylist()
    general = [r["text"] for r in rows if r["label"] == 0]
    proxy = [r["text"] for r in rows if r["label"] == 1]
    fractions = sorted({float(actual) if f == "actual" else float(f) for f in cfg.leak_fractions})
    accs: list[list[float]] = []
    for f in fractions:
        rng = np.random.default_rng(1234)
        take = rng.permutation(len(proxy))[: int(round(f * len(proxy)))]
        texts = general + [proxy[i] for i in sorted(take)]
        data = _memmap(texts, tokenizer, out / "data" / f"leak-{f:.4f}.bin")
        row = []
        for seed in cfg.seeds[: cfg.leak_seeds]:
            lm_cfg = LMConfig.from_dict({**base_cfg.to_dict(), "seed": seed}, source="model")
            model = build_model(lm_cfg)
            train(model, data, lm_cfg)
            row.append(mc_eval(model, tokenizer, questions["proxy"])["acc"])
        accs.append(row)
    return {"fractions": fractions, "per_seed": accs, "proxy_acc": [float(np.mean(a)) for a in accs]}


def summarize(cfg, per_seed, attacks, leak, filt, base_cfg, tokens_per_s, wall) -> dict[str, Any]:
    import torch

    def model_summary(rows: list[dict]) -> dict[str, Any]:
        out = {}
        for key in ("proxy_acc", "general_acc", "proxy_loss", "general_loss"):
            m, ci = mean_ci95([r[key] for r in rows])
            out[key], out[f"{key}_ci95"] = m, ci
        out["per_seed"] = rows
        return out

    steps = list(range(0, cfg.attack.steps + 1, cfg.attack.eval_every))
    if steps[-1] != cfg.attack.steps:
        steps.append(cfg.attack.steps)
    attack = {"steps": steps}
    for kind, by_model in attacks.items():
        prefix = "" if kind == "weak" else f"{kind}_"
        for name, curves in by_model.items():
            attack[f"{prefix}{name}_proxy_acc"] = np.mean(np.asarray(curves), axis=0).tolist()
    return {
        "chance": 0.25,
        "seeds": cfg.seeds,
        "baseline": model_summary(per_seed["baseline"]),
        "filtered": model_summary(per_seed["filtered"]),
        "filter": {"recall": filt["recall"], "precision": filt["precision"], "counts": filt["counts"]},
        "attack": attack,
        "leak": leak,
        "model": base_cfg.to_dict(),
        "tokens_per_s": float(np.mean(tokens_per_s)),
        "device": "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "wall_seconds": wall,
    }


def write_report(r: dict[str, Any], out: Path) -> None:
    """report.md and three PNGs: knowledge bars, attack curves, leak curve; chance marked on each."""
    from matplotlib.figure import Figure

    b, f = r["baseline"], r["filtered"]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for i, (name, s) in enumerate((("baseline", b), ("filtered", f))):
        for j, key in enumerate(("proxy_acc", "general_acc")):
            lo, hi = s[f"{key}_ci95"]
            ax.bar(j * 3 + i, s[key], yerr=[[s[key] - lo], [hi - s[key]]], color=["tab:red", "tab:blue"][i],
                   label=name if j == 0 else None, capsize=4)
    ax.axhline(r["chance"], ls="--", color="grey", label="chance (0.25)")
    ax.set_xticks([0.5, 3.5], ["proxy knowledge", "general knowledge"])
    ax.set_ylabel("multiple-choice accuracy")
    ax.set_title(f"Knowledge after pretraining ({len(r['seeds'])} seeds, 95% CI)")
    ax.legend()
    fig.savefig(out / "knowledge.png", dpi=120, bbox_inches="tight")

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    a = r["attack"]
    for prefix, style in (("", "-"), ("strong_", ":"), ("benign_", "--")):
        for name, color in (("baseline", "tab:red"), ("filtered", "tab:blue")):
            ax.plot(a["steps"], a[f"{prefix}{name}_proxy_acc"], style, color=color,
                    label=f"{name}, {prefix.rstrip('_') or 'weak'} fine-tune")
    ax.axhline(r["chance"], ls="--", color="grey", label="chance (0.25)")
    ax.set_xlabel("fine-tuning steps")
    ax.set_ylabel("proxy accuracy")
    ax.set_title("Adversarial fine-tuning (mean over seeds)")
    ax.legend(fontsize=7)
    fig.savefig(out / "attack.png", dpi=120, bbox_inches="tight")

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    leak = r["leak"]
    ax.plot(leak["fractions"], leak["proxy_acc"], "o-", label="proxy accuracy")
    ax.axhline(r["chance"], ls="--", color="grey", label="chance")
    ax.axvline(1 - r["filter"]["recall"], ls=":", color="tab:blue", label="this filter's leak rate")
    ax.set_xlabel("fraction of proxy documents in pretraining")
    ax.set_ylabel("proxy accuracy")
    ax.set_title("Leak curve: what filter recall buys")
    ax.legend()
    fig.savefig(out / "leak.png", dpi=120, bbox_inches="tight")

    def fmt(s: dict, k: str) -> str:
        lo, hi = s[f"{k}_ci95"]
        return f"{s[k]:.3f} [{lo:.3f}, {hi:.3f}]"

    lines = [
        "# filterkit experiment", "",
        f"Seeds {r['seeds']}; chance 0.25; filter recall {r['filter']['recall']:.3f}, "
        f"precision {r['filter']['precision']:.3f}; wall {r['wall_seconds']:.0f} s on {r['device']}.", "",
        "| model | proxy acc | general acc | proxy loss | general loss |", "|---|---|---|---|---|",
    ]
    for name, s in (("baseline", b), ("filtered", f)):
        lines.append(f"| {name} | {fmt(s, 'proxy_acc')} | {fmt(s, 'general_acc')} | {fmt(s, 'proxy_loss')} | "
                     f"{fmt(s, 'general_loss')} |")
    lines += ["", "![knowledge](knowledge.png) ![attack](attack.png) ![leak](leak.png)", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
