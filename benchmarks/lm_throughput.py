"""Training throughput of an experiment config's model: tokens/s and MFU with and without torch.compile.

Trains a fresh model of ``model:`` in the experiment YAML on random tokens (throughput does not depend on
the text) for ``--steps`` steps, once compiled and once eager, with the config's dtype. Step 0 (compile and
warm-up) is timed apart as ``first_step_s``. MFU = model FLOPs per token (6N + 12·L·d·T) × tokens/s / the
device's dense bf16 peak (989 TFLOP/s on an H100 or H200; none on CPU).

    python benchmarks/lm_throughput.py [--config pipelines/experiment-gpu.yaml] [--steps 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "pipelines" / "experiment-gpu.yaml")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import numpy as np
    import torch

    from filterkit.experiment.config import load_experiment_config
    from filterkit.experiment.lm import build_model, model_flops_per_token, train
    from filterkit.experiment.summary import PEAK_BF16_FLOPS

    exp = load_experiment_config(args.config)
    model, vocab = exp.model, exp.vocab_size
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    peak = next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)
    data = np.random.default_rng(0).integers(0, vocab, size=2_000_000).astype(np.uint16)
    res = {}
    for compiled in (True, False) if torch.cuda.is_available() else (False,):  # compile is CUDA-only in train()
        cfg = model.lm_config(vocab).replace(steps=args.steps, compile=compiled)
        st = train(build_model(cfg), data, cfg)
        tps = st["tokens_per_s"]
        res[f"compile={compiled}"] = {
            "tokens_per_s": tps,
            "first_step_s": st["first_step_s"],
            "steps": args.steps,
            "mfu": model_flops_per_token(cfg) * tps / peak if peak else None,
            "autocast": st["autocast"],
        }
    print(
        f"device: {name}; model {cfg.n_layer}L/{cfg.n_embd}d, batch {cfg.batch_size} x "
        f"{cfg.block_size} tokens, {args.steps} steps"
    )
    print(f"{'mode':14s} {'tokens/s':>10s} {'MFU':>6s} {'step 0 s':>9s}")
    for k, r in res.items():
        mfu = "-" if r["mfu"] is None else f"{r['mfu']:.1%}"
        print(f"{k:14s} {r['tokens_per_s']:10.0f} {mfu:>6s} {r['first_step_s']:9.1f}")
    if args.json:
        args.json.write_text(json.dumps({"device": name, **res}, indent=1))


if __name__ == "__main__":
    main()
