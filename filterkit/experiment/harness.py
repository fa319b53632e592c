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
from typing import Any, Literal

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
    eval_fraction: float = 0.5
    n_organisms: int = 60
    n_towns: int = 30
    n_people: int = 60


class FilterTrainingSection(_Strict):
    """Build the filter for the synthetic topic as a user builds one for theirs: a blocklist (``blocklist build``)
    and a classifier head trained on labelled documents from an *independent* world (seed + ``world_seed_offset``:
    other organisms, towns and people), then run by the real pipeline with ``filter_pipeline``'s other settings."""

    backend: Literal["embedding", "fasttext"] = "embedding"
    world_seed_offset: int = 1000
    max_terms: int = 150
    min_unique_hits: int = Field(1, ge=1)
    target_recall: float = Field(0.98, gt=0.0, le=1.0)
    unseen_kinds: list[str] = Field(
        default_factory=lambda: ["hard_positive"],
        description="document kinds left out of the filter's training labels, so the filter meets writing it was "
        "not trained on, as a real filter does (hard positives: proxy facts in travel-diary prose)",
    )


class AttackSection(_Strict):
    steps: int = 100
    eval_every: int = 25
    lr: float = 1e-3


class ExperimentConfig(_Strict):
    """The whole experiment; relative paths resolve against the YAML file's folder."""

    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    corpus: CorpusSection = Field(default_factory=CorpusSection)
    filter_pipeline: Path = Path("experiment-filter.yaml")
    filter_training: FilterTrainingSection | None = Field(
        None, description="train the blocklist and head on an independent synthetic world; None: use filter_pipeline as is"
    )
    vocab_size: int = 2048
    model: dict[str, Any] = Field(default_factory=dict, description="LMConfig fields (filterkit.experiment.lm)")
    attack: AttackSection = Field(default_factory=AttackSection)
    leak_fractions: list[float | str] = Field(default_factory=lambda: [0.0, "actual", 0.05, 0.25, 1.0])
    leak_seeds: int = Field(1, ge=1, description="seeds (from the start of `seeds`) used for the leak curve")
    corpus_dir: Path | None = Field(
        None, description="your own corpus in write_corpus's layout (train/, attack_weak/, attack_strong/, control/ "
        "parquet with `text`, `id` and optionally `label`; questions/{proxy,general}.jsonl); None: generate one"
    )
    eval_files: dict[str, Path] = Field(
        default_factory=dict, description="MMLU/WMDP-layout files (question, choices, answer) for `proxy` and/or "
        "`general`, replacing the generated questions"
    )
    eval_prompt_template: str | None = Field(
        None, description="how a question is put to the model; default: the stem itself for generated questions, "
        "'Question: {question}\\nAnswer:' (lm-eval's MMLU form) for eval_files"
    )


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
    if cfg.corpus_dir is not None and not cfg.corpus_dir.is_absolute():
        cfg.corpus_dir = (path.parent / cfg.corpus_dir).resolve()
    cfg.eval_files = {k: v if v.is_absolute() else (path.parent / v).resolve() for k, v in cfg.eval_files.items()}
    unknown = set(cfg.eval_files) - {"proxy", "general"}
    if unknown:
        raise FilterkitError(f"{path}: eval_files keys must be proxy and/or general, got {sorted(unknown)}")
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


def train_filter(cfg: "ExperimentConfig", out: Path) -> Path:
    """Train the topic filter on an independent world; return a pipeline YAML that uses it (see FilterTrainingSection)."""
    from filterkit.blocklist_build import build_terms, write_term_file
    from filterkit.experiment.corpus import build_corpus

    ft = cfg.filter_training
    assert ft is not None
    c = cfg.corpus
    world = build_corpus(c.seed + ft.world_seed_offset, c.n_docs_general, c.n_docs_proxy, 0, 0, 0, c.eval_fraction,
                         n_organisms=c.n_organisms, n_towns=c.n_towns, n_people=c.n_people)
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
        from filterkit.fasttext_backend import train_fasttext

        train_fasttext(labels, head, target_recall=ft.target_recall, seed=c.seed, name="experiment-topic-fasttext")
    else:
        from filterkit.training import train_head

        train_head(labels, head, target_recall=ft.target_recall, seed=c.seed, name="experiment-topic-embedding")
    base = yaml.safe_load(cfg.filter_pipeline.read_text(encoding="utf-8")) or {}
    base["blocklist"] = {**base.get("blocklist", {}), "path": str(blocklist.resolve()), "min_unique_hits": ft.min_unique_hits}
    base["classifier"] = {k: v for k, v in base.get("classifier", {}).items() if k not in ("path", "threshold", "backend")}
    base["classifier"]["path"] = str(head.resolve())
    base["name"] = f"{base.get('name', 'experiment-filter')}-trained"
    pipeline = out / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    return pipeline


def _texts(corpus_dir: Path, subset: str, ids: set[str] | None = None) -> list[str]:
    rows = pq.read_table(corpus_dir / subset, columns=["id", "text"]).to_pylist()
    return [r["text"] for r in rows if ids is None or r["id"] in ids]


def _memmap(texts: list[str], tokenizer, path: Path) -> np.ndarray:
    from filterkit.experiment.lm import tokenize_to_memmap

    return tokenize_to_memmap(texts, tokenizer, path)


def _evaluate(model, tokenizer, questions: dict[str, list[dict]], heldout: dict[str, np.ndarray], block: int,
              template: str) -> dict:
    from filterkit.experiment.lm import heldout_loss, mc_eval

    out = {}
    for domain in ("proxy", "general"):
        r = mc_eval(model, tokenizer, questions[domain], prompt_template=template)
        out[f"{domain}_acc"], out[f"{domain}_acc_norm"] = r["acc"], r["acc_norm"]
        out[f"{domain}_loss"] = heldout_loss(model, heldout[domain], block, max_tokens=20_000)
    return out


def _attack(model, tokenizer, data: np.ndarray, lm_cfg, acfg: AttackSection, questions: list[dict],
            template: str) -> list[float]:
    """Fine-tune a copy on ``data``; proxy accuracy at every evaluation step."""
    from dataclasses import replace

    from filterkit.experiment.lm import mc_eval, train

    m = copy.deepcopy(model)
    cfg = replace(lm_cfg, lr=acfg.lr, warmup=0, steps=acfg.steps)
    stats = train(m, data, cfg, eval_fn=lambda step: mc_eval(m, tokenizer, questions, prompt_template=template)["acc"], eval_every=acfg.eval_every)
    return [e["result"] for e in stats["evals"]]


def load_questions(cfg: ExperimentConfig, cdir: Path) -> tuple[dict[str, list[dict]], str]:
    """The eval sets and the prompt template they are asked with (see ExperimentConfig.eval_prompt_template)."""
    from filterkit.experiment.corpus import PROMPT_TEMPLATE
    from filterkit.experiment.lm import load_mc_file

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


def run_experiment(config: str | Path | ExperimentConfig, out: str | Path) -> dict[str, Any]:
    """Run the whole comparison into ``out`` and return results.json's content."""
    from filterkit.experiment.corpus import build_corpus, write_corpus
    from filterkit.experiment.lm import LMConfig, build_model, model_flops_per_token, train, train_tokenizer

    t0 = time.perf_counter()
    cfg = config if isinstance(config, ExperimentConfig) else load_experiment_config(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    c = cfg.corpus
    if cfg.corpus_dir is None:
        corpus = build_corpus(c.seed, c.n_docs_general, c.n_docs_proxy, c.n_attack_weak, c.n_attack_strong,
                              c.n_control, c.eval_fraction, n_organisms=c.n_organisms, n_towns=c.n_towns,
                              n_people=c.n_people)
        cdir = write_corpus(corpus, out / "corpus")
    else:
        cdir = cfg.corpus_dir
        for sub in ("train", "attack_weak", "attack_strong", "control"):
            if not any((cdir / sub).glob("*.parquet")):
                raise FilterkitError(f"{cdir / sub}: no parquet shards; corpus_dir needs train/, attack_weak/, "
                                     f"attack_strong/ and control/ folders of parquet with text and id")
    pipeline = train_filter(cfg, out / "filter-model") if cfg.filter_training else cfg.filter_pipeline
    filt = filter_corpus(cdir, pipeline, out / "filter")
    timings = {"setup_and_filter_s": time.perf_counter() - t0}

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
    questions, template = load_questions(cfg, cdir)
    base_cfg = LMConfig.from_dict({**cfg.model, "vocab_size": len(tokenizer)}, source="model")

    per_seed: dict[str, list[dict]] = {"baseline": [], "filtered": []}
    attacks: dict[str, dict[str, list[list[float]]]] = {
        k: {"baseline": [], "filtered": []} for k in ("weak", "strong", "benign")
    }
    tokens_per_s, first_step_s, pretrain_s = [], [], 0.0
    for seed in cfg.seeds:
        lm_cfg = LMConfig.from_dict({**base_cfg.to_dict(), "seed": seed}, source="model")
        for name in ("baseline", "filtered"):
            model = build_model(lm_cfg)
            stats = train(model, data[name], lm_cfg)  # same steps x batch x block: same tokens for both
            tokens_per_s.append(stats["tokens_per_s"])
            first_step_s.append(stats["first_step_s"])
            pretrain_s += stats["train_s"]
            per_seed[name].append(_evaluate(model, tokenizer, questions, heldout, lm_cfg.block_size, template))
            for kind, key in (("weak", "attack_weak"), ("strong", "attack_strong"), ("benign", "control")):
                attacks[kind][name].append(
                    _attack(model, tokenizer, data[key], lm_cfg, cfg.attack, questions["proxy"], template))
            if seed == cfg.seeds[0]:
                model.save_pretrained(out / "models" / name)
    tokenizer.save_pretrained(out / "models" / "tokenizer")
    timings["pretrain_s"] = pretrain_s
    timings["first_step_s"] = first_step_s  # compile + warm-up per pretraining run, outside tokens/s

    reuse = {1.0: per_seed["baseline"], "actual": per_seed["filtered"]}
    leak = leak_curve(cfg, cdir, tokenizer, filt["leak_rate"], base_cfg, questions, template, out, reuse)
    chance = float(np.mean([1 / len(q["choices"]) for q in questions["proxy"]]))
    results = summarize(cfg, per_seed, attacks, leak, filt, base_cfg, tokens_per_s, time.perf_counter() - t0, chance)
    results["flops_per_token"] = model_flops_per_token(base_cfg)
    results["timings"] = timings
    results["provenance"] = provenance()
    results["eval_prompt_template"] = template
    results["n_questions"] = {d: len(q) for d, q in questions.items()}
    results["token_budget"] = {
        "tokens_per_model": base_cfg.steps * base_cfg.batch_size * base_cfg.block_size,
        "corpus_tokens": {k: int(len(data[k])) for k in ("baseline", "filtered")},
        "matching": "same steps x batch x block for every model; the smaller filtered corpus is repeated more "
                    "(more epochs), not topped up",
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(cfg.model_dump(mode="json"), indent=2), encoding="utf-8")
    write_report(results, out)
    return results


def leak_curve(cfg: ExperimentConfig, cdir: Path, tokenizer, actual: float | None, base_cfg, questions, template: str,
               out: Path, reuse: dict) -> dict:
    """Proxy accuracy when a fraction of the proxy documents slips into otherwise general training data.

    Leak corpora keep the training corpus's document order, so fraction 1.0 *is* the baseline corpus and the
    "actual" point *is* the filtered model (the filter's real misses and false positives): both reuse those
    models' results instead of training them again. Needs labels on the training corpus.
    """
    from filterkit.experiment.lm import LMConfig, build_model, mc_eval, train

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
        rng = np.random.default_rng(1234)
        take = set(rng.permutation(proxy_idx)[: int(round(f * len(proxy_idx)))].tolist())
        texts = [r["text"] for i, r in enumerate(rows) if r["label"] == 0 or i in take]
        data = _memmap(texts, tokenizer, out / "data" / f"leak-{f:.4f}.bin")
        row = []
        for seed in seeds:
            lm_cfg = LMConfig.from_dict({**base_cfg.to_dict(), "seed": seed}, source="model")
            model = build_model(lm_cfg)
            train(model, data, lm_cfg)
            row.append(mc_eval(model, tokenizer, questions["proxy"], prompt_template=template)["acc"])
        accs.append(row)
        sources.append("trained")
    return {"fractions": fractions, "per_seed": accs, "proxy_acc": [float(np.mean(a)) for a in accs],
            "proxy_acc_ci95": [mean_ci95(a)[1] for a in accs], "seeds": seeds, "source": sources}


# dense bf16 tensor-core peaks (FLOP/s, no sparsity) for model FLOPs utilisation
_PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}


def summarize(cfg, per_seed, attacks, leak, filt, base_cfg, tokens_per_s, wall, chance: float = 0.25) -> dict[str, Any]:
    import torch

    def model_summary(rows: list[dict]) -> dict[str, Any]:
        out = {}
        for key in ("proxy_acc", "general_acc", "proxy_acc_norm", "general_acc_norm", "proxy_loss", "general_loss"):
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
            per_step = np.asarray(curves).T  # steps x seeds
            attack[f"{prefix}{name}_proxy_acc"] = per_step.mean(axis=1).tolist()
            attack[f"{prefix}{name}_proxy_acc_ci95"] = [mean_ci95(list(x))[1] for x in per_step]
            attack[f"{prefix}{name}_proxy_acc_per_seed"] = np.asarray(curves).tolist()
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
        "baseline": model_summary(per_seed["baseline"]),
        "filtered": model_summary(per_seed["filtered"]),
        "filter": {"recall": filt["recall"], "precision": filt["precision"], "counts": filt["counts"]},
        "attack": attack,
        "leak": leak,
        "model": base_cfg.to_dict(),
        "tokens_per_s": tps,
        "mfu": mfu,
        "device": device,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "wall_seconds": wall,
    }


def _num(x: float | None) -> str:
    return "n/a (no labels)" if x is None else f"{x:.3f}"


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
    ax.axhline(r["chance"], ls="--", color="grey", label=f"chance ({r['chance']:.2f})")
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
            ci = a.get(f"{prefix}{name}_proxy_acc_ci95")
            if prefix == "" and ci:  # the weak attack is the comparison that matters: show its interval
                ax.fill_between(a["steps"], [lo for lo, _ in ci], [hi for _, hi in ci], color=color, alpha=0.15)
    ax.axhline(r["chance"], ls="--", color="grey", label=f"chance ({r['chance']:.2f})")
    ax.set_xlabel("fine-tuning steps")
    ax.set_ylabel("proxy accuracy")
    ax.set_title(f"Adversarial fine-tuning (mean over {len(r['seeds'])} seeds; weak: 95% CI band)")
    ax.legend(fontsize=7)
    fig.savefig(out / "attack.png", dpi=120, bbox_inches="tight")

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    leak = r["leak"]
    cis = leak.get("proxy_acc_ci95") or [[a, a] for a in leak["proxy_acc"]]
    err = [[a - lo for a, (lo, _) in zip(leak["proxy_acc"], cis)], [hi - a for a, (_, hi) in zip(leak["proxy_acc"], cis)]]
    n_seeds = len(leak.get("seeds", [])) or 1
    ax.errorbar(leak["fractions"], leak["proxy_acc"], yerr=err, fmt="o-", capsize=4,
                label=f"proxy accuracy ({n_seeds} seed{'s' if n_seeds > 1 else ''}" + (", 95% CI)" if n_seeds > 1 else ")"))
    ax.axhline(r["chance"], ls="--", color="grey", label="chance")
    if r["filter"]["recall"] is not None:
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
        f"Seeds {r['seeds']}; chance {r['chance']:.2f}; filter recall {_num(r['filter']['recall'])}, "
        f"precision {_num(r['filter']['precision'])}; wall {r['wall_seconds']:.0f} s on {r['device']}.", "",
        "| model | proxy acc | general acc | proxy loss | general loss |", "|---|---|---|---|---|",
    ]
    for name, s in (("baseline", b), ("filtered", f)):
        lines.append(f"| {name} | {fmt(s, 'proxy_acc')} | {fmt(s, 'general_acc')} | {fmt(s, 'proxy_loss')} | "
                     f"{fmt(s, 'general_loss')} |")
    lines += ["", f"Length-normalised accuracy (acc_norm): baseline proxy {fmt(b, 'proxy_acc_norm')}, general "
              f"{fmt(b, 'general_acc_norm')}; filtered proxy {fmt(f, 'proxy_acc_norm')}, general {fmt(f, 'general_acc_norm')}.",
              "", "Proxy accuracy under fine-tuning (mean over seeds):", "",
              "| step | weak: baseline | weak: filtered | strong: baseline | strong: filtered | benign: baseline | benign: filtered |",
              "|---|---|---|---|---|---|---|"]
    a = r["attack"]
    for i, step in enumerate(a["steps"]):
        cells = [f"{a[f'{p}{m}_proxy_acc'][i]:.3f}" for p in ("", "strong_", "benign_") for m in ("baseline", "filtered")]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    if r["leak"]["fractions"]:
        lines += ["", "Leak curve (proxy accuracy by fraction of proxy documents in pretraining):", "",
                  "| fraction | proxy acc | from |", "|---|---|---|"]
        for fr, acc, src in zip(r["leak"]["fractions"], r["leak"]["proxy_acc"], r["leak"].get("source", [])):
            lines.append(f"| {fr:.3f} | {acc:.3f} | {src} |")
    lines += ["", "![knowledge](knowledge.png) ![attack](attack.png) ![leak](leak.png)", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
