"""results.json's model summaries, throughput and device (with model FLOPs utilisation on a known GPU), and what
produced a run: code revision, library versions, the machine's load."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.experiment.analysis import mean_ci95
from filterkit.experiment.attack import _lm_settings

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


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None
