"""The leak curve: proxy accuracy when a fraction of the proxy documents slips into otherwise general training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from filterkit.experiment.analysis import mean_ci95
from filterkit.experiment.config import ExperimentConfig
from filterkit.experiment.sets import token_file


def leak_curve(
    cfg: ExperimentConfig,
    cdir: Path,
    tokenizer,
    actual: float | None,
    base_cfg,
    questions,
    template: str,
    out: Path,
    reuse: dict,
) -> dict:
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
        data = token_file(texts, tokenizer, out / "data" / f"leak-{f:.4f}.bin")
        row = []
        for seed in seeds:
            lm_cfg = base_cfg.replace(seed=seed)
            model = build_model(lm_cfg)
            train(model, data, lm_cfg)
            row.append(mc_eval(model, tokenizer, questions["proxy"], prompt_template=template)["acc"])
        accs.append(row)
        sources.append("trained")
    return {
        "fractions": fractions,
        "per_seed": accs,
        "proxy_acc": [float(np.mean(a)) for a in accs],
        "proxy_acc_ci95": [mean_ci95(a)[1] for a in accs],
        "seeds": seeds,
        "source": sources,
    }
