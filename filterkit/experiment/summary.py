"""results.json's model summaries, throughput and device (with model FLOPs utilisation on a known GPU), and what
produced a run: code revision, library versions, the machine's load."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.experiment.analysis import mean_ci95

# dense bf16 tensor-core peaks (FLOP/s, no sparsity) for model FLOPs utilisation
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}


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
        peak = next((v for k, v in PEAK_BF16_FLOPS.items() if k in device), None)
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
        "model": base_cfg.to_dict(),
        "tokens_per_s": tps,
        "mfu": mfu,
        "device": device,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "wall_seconds": wall,
    }


def provenance() -> dict[str, Any]:
    """What produced a result: code revision and library versions."""
    import subprocess

    import tokenizers
    import torch
    import transformers

    import filterkit

    try:
        rev = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        rev = None
    return {
        "git_rev": rev,
        "filterkit": filterkit.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }


def load_average() -> float | None:
    """The machine's 1-minute load average (None where the platform has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine_load(start: float | None) -> dict[str, Any]:
    """results.json's ``timings.load_average``: the load at the start and the end of a run, beside the CPU count."""
    return {
        "start": start,
        "end": load_average(),
        "cpus": os.cpu_count(),
        "note": "1-minute load averages: above the CPU count, other jobs shared the cores",
    }


def write_results(out: Path, results: dict[str, Any], cfg) -> None:
    """results.json and the resolved config.json beside it (both modes write the same two files)."""
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(cfg.model_dump(mode="json"), indent=2), encoding="utf-8")


def token_budget(base_cfg, data: dict[str, np.ndarray]) -> dict[str, Any]:
    """What every model read: the same steps x batch x block, and the proxy tokens among the baseline's."""
    tokens_per_model = base_cfg.steps * base_cfg.batch_size * base_cfg.block_size
    proxy_tokens = None
    if "no_proxy" in data:  # proxy tokens the baseline read in pretraining: its share of the corpus times the budget
        proxy_tokens = tokens_per_model * (len(data["baseline"]) - len(data["no_proxy"])) / len(data["baseline"])
    sets = ("baseline", "filtered", "span_filtered", "attack", "fact_injection", "proxy_heldout", "no_proxy")
    return {
        "tokens_per_model": tokens_per_model,
        "baseline_proxy_tokens": proxy_tokens,
        "corpus_tokens": {k: len(data[k]) for k in sets if k in data},
        "matching": "same steps x batch x block for every model; the smaller filtered corpus is repeated more "
        "(more epochs), not topped up",
    }
