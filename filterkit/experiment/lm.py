"""Tiny causal LMs for the filtering experiment: model, training loop, checkpoints (the config: ``lm_config.py``).

A file in the nanoGPT spirit: a reader can follow a token memmap to a trained model without meeting a framework.
The model is a stock ``transformers`` GPT-2, so a checkpoint :func:`save_lm` writes (weights, config and its
tokenizer) loads in lm-eval-harness and every other usual tool; tokenizing is :mod:`filterkit.experiment.tokens`,
scoring :mod:`filterkit.experiment.evals`.

Randomness is never global: batches come from a ``numpy.random.Generator`` seeded from the config, and
the torch seeding needed for weight init and dropout happens inside ``torch.random.fork_rng``, so the
caller's global torch RNG state is the same after :func:`build_model` or :func:`train` as before.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from filterkit.errors import FilterkitError
from filterkit.experiment.lm_config import LMConfig
from filterkit.experiment.tokens import save_tokenizer
from filterkit.io import write_json_atomic


def get_batch(
    data: np.ndarray,
    block_size: int,
    batch_size: int,
    rng: np.random.Generator,
    device: str | torch.device = "cpu",
    loss_mask: np.ndarray | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows ``x`` and their next-token targets ``y``, both ``(batch_size, block_size)`` int64.

    ``loss_mask`` (one uint8 per token of ``data``; 0: no loss on that token) marks a target as
    :data:`IGNORE_INDEX`, which the loss skips: the token stays in the input, as loss masking wants."""
    if len(data) <= block_size:
        raise FilterkitError(f"token file has {len(data)} tokens; training needs more than block_size={block_size}")
    ix = rng.integers(0, len(data) - block_size, size=batch_size)
    x = torch.from_numpy(np.stack([data[i : i + block_size] for i in ix]).astype(np.int64))
    y = torch.from_numpy(np.stack([data[i + 1 : i + 1 + block_size] for i in ix]).astype(np.int64))
    if loss_mask is not None:
        keep = torch.from_numpy(np.stack([loss_mask[i + 1 : i + 1 + block_size] for i in ix]).astype(bool))
        y = y.masked_fill(~keep, IGNORE_INDEX)
    device = torch.device(device)
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x.to(device), y.to(device)


#: a target with this id gets no loss (torch's cross-entropy default ignore_index)
IGNORE_INDEX = -100


# ---------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------


def resolve_device(device: str | torch.device) -> torch.device:
    """:func:`filterkit.device.resolve_device` as a ``torch.device``."""
    from filterkit.device import resolve_device as resolve

    return torch.device(resolve(str(device)))


def autocast_dtype(cfg_dtype: str, device: torch.device) -> torch.dtype | None:
    """bf16 autocast on CUDA (weights and optimizer stay fp32); none on CPU, where bf16 is slow and inexact."""
    if device.type != "cuda" or cfg_dtype == "float32":
        return None
    return torch.bfloat16


def autocast(dtype: torch.dtype | None, device: torch.device):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


@contextlib.contextmanager
def seeded_torch(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Seed torch for the duration of a block, then restore the caller's global RNG state."""
    devices = []
    if device is not None and device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def build_model(cfg: LMConfig):
    """A randomly initialised GPT-2 of the configured size, on CPU, fp32; the init depends only on ``cfg.seed``."""
    from transformers import GPT2Config, GPT2LMHeadModel

    hf_cfg = GPT2Config(
        vocab_size=cfg.vocab_size,
        n_positions=cfg.block_size,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        resid_pdrop=cfg.dropout,
        embd_pdrop=cfg.dropout,
        attn_pdrop=cfg.dropout,
        bos_token_id=0,
        eos_token_id=0,  # no pad_token_id: training windows contain eos=0 by design, and we pass masks ourselves
        tie_word_embeddings=True,
    )
    with seeded_torch(cfg.seed):
        return GPT2LMHeadModel(hf_cfg)


def count_params(cfg: LMConfig, include_position_embeddings: bool = False) -> int:
    """Parameters of :func:`build_model` computed from the config (tied lm_head counted once)."""
    d, L = cfg.n_embd, cfg.n_layer
    per_layer = 12 * d * d + 13 * d  # qkv 3d²+3d, proj d²+d, mlp 8d²+5d, two layernorms 4d
    n = L * per_layer + 2 * d + cfg.vocab_size * d
    return n + (cfg.block_size * d if include_position_embeddings else 0)


def model_flops_per_token(cfg: LMConfig) -> float:
    """Training FLOPs per token, 6·N + 12·L·d·T (PaLM appendix B, as nanoGPT's MFU).

    N excludes position embeddings (a lookup, no matmul) but keeps the token embedding because the tied
    lm_head multiplies by it. Divide tokens/s × this by the device's peak FLOP/s for MFU.
    """
    return 6.0 * count_params(cfg) + 12.0 * cfg.n_layer * cfg.n_embd * cfg.block_size


# ---------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------


def lr_at(step: int, cfg: LMConfig, total_steps: int) -> float:
    """Linear warmup to ``cfg.lr``, then cosine decay to ``cfg.lr * cfg.min_lr_ratio`` at ``total_steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    span = max(1, total_steps - cfg.warmup)
    progress = min(1.0, (step - cfg.warmup) / span)
    min_lr = cfg.lr * cfg.min_lr_ratio
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - min_lr)


def make_optimizer(model: torch.nn.Module, cfg: LMConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW (betas 0.9, 0.95) decaying matrices and embeddings, nanoGPT-style; biases and layernorm gains are not decayed."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), fused=device.type == "cuda")


def _lm_loss(model, x: torch.Tensor, y: torch.Tensor, masked: bool = False) -> torch.Tensor:
    """Mean next-token loss; with ``masked``, over the targets that are not IGNORE_INDEX (a batch with none left
    gives 0 and no gradient, not NaN)."""
    logits = model(input_ids=x).logits
    flat = logits.float().view(-1, logits.size(-1))
    if not masked:
        return F.cross_entropy(flat, y.view(-1))
    total = F.cross_entropy(flat, y.view(-1), ignore_index=IGNORE_INDEX, reduction="sum")
    return total / (y != IGNORE_INDEX).sum().clamp(min=1)


def train(
    model,
    data: np.ndarray,
    cfg: LMConfig,
    steps: int | None = None,
    eval_fn: Callable[[int], Any] | None = None,
    eval_every: int | None = None,
    eval_at: Iterable[int] | None = None,
    loss_mask: np.ndarray | None = None,
    stop_fn: Callable[[Any], bool] | None = None,
) -> dict[str, Any]:
    """Train ``model`` in place on random windows of ``data``; return losses and throughput.

    ``loss_mask`` (as :func:`get_batch`): tokens marked 0 stay in the input and get no loss (loss masking).
    ``stop_fn(eval_result)``: stop after an evaluation it answers True for (relearning stops once it reaches its
    target); ``steps`` in the result is then the steps actually run.

    Used both for pretraining and for the fine-tuning attack (a fresh optimizer each call). ``eval_fn(step)``
    runs with the model in eval mode at step 0, every ``eval_every`` steps and after the last step; its
    results come back under ``evals`` and its time is excluded from tokens/s; ``eval_at`` adds evaluations after
    those step counts (the fine-tuning attack looks early and often, where curves move most). On CPU the run is
    deterministic for ``cfg.seed``: batches come from a local numpy Generator and dropout from torch's
    RNG seeded inside :func:`seeded_torch` (bit-identical for the same torch build and thread count).
    """
    steps = cfg.steps if steps is None else steps
    device = resolve_device(cfg.device)
    amp = autocast_dtype(cfg.dtype, device)
    model.to(device)
    model.train()
    fwd = torch.compile(model) if (cfg.compile and device.type == "cuda") else model
    opt = make_optimizer(model, cfg, device)
    rng = np.random.default_rng(cfg.seed)
    losses: list[torch.Tensor] = []
    evals: list[dict[str, Any]] = []
    eval_s = 0.0
    extra_evals = set(eval_at or ())

    def run_eval(step: int) -> None:
        nonlocal eval_s
        if eval_fn is None:
            return
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        model.eval()
        evals.append({"step": step, "result": eval_fn(step)})
        model.train()
        eval_s += time.perf_counter() - t

    stopped: int | None = None
    first_s = 0.0  # step 0 pays for torch.compile and kernel warm-up: timed apart so tokens/s is steady-state
    with seeded_torch(cfg.seed, device):
        t0 = time.perf_counter()
        run_eval(0)
        for step in range(steps):
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg, steps)
            x, y = get_batch(data, cfg.block_size, cfg.batch_size, rng, device, loss_mask=loss_mask)
            with autocast(amp, device):
                loss = _lm_loss(fwd, x, y, masked=loss_mask is not None)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.detach())  # no .item(): a per-step host sync would stall the GPU
            if step == 0:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                first_s = time.perf_counter() - t0 - eval_s
            if ((eval_every and (step + 1) % eval_every == 0) or (step + 1) in extra_evals) and step + 1 < steps:
                run_eval(step + 1)
                if stop_fn is not None and evals and stop_fn(evals[-1]["result"]):
                    stopped = step + 1
                    break
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_s = time.perf_counter() - t0 - eval_s
        if steps and stopped is None:
            run_eval(steps)
    steps = steps if stopped is None else stopped
    model.eval()
    loss_list = torch.stack(losses).float().cpu().tolist() if losses else []
    tokens = steps * cfg.batch_size * cfg.block_size
    steady_s = train_s - first_s
    steady_tokens = (steps - 1) * cfg.batch_size * cfg.block_size
    return {
        "losses": loss_list,
        "final_loss": float(np.mean(loss_list[-10:])) if loss_list else float("nan"),
        "steps": steps,
        "tokens_seen": tokens,
        "tokens_per_s": steady_tokens / steady_s if steps > 1 and steady_s > 0 else float("nan"),
        "first_step_s": first_s,
        "wall_s": train_s + eval_s,
        "train_s": train_s,
        "eval_s": eval_s,
        "evals": evals,
        "device": str(device),
        "autocast": str(amp) if amp else "none",
        "flops_per_token": model_flops_per_token(cfg),
    }


def save_lm(out_dir: str | Path, model, tokenizer, cfg: LMConfig, stats: dict[str, Any] | None = None) -> Path:
    """Checkpoint as a standard HF folder with its tokenizer, plus ``lm_config.json`` (and ``train_stats.json``).

    The folder is all a tool needs: ``AutoModelForCausalLM`` / ``AutoTokenizer.from_pretrained(folder)`` on
    transformers 4.40+ and 5.x, and lm-eval's ``--model hf --model_args pretrained=folder`` (no ``tokenizer=``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    save_tokenizer(tokenizer, out)
    write_json_atomic(out / "lm_config.json", cfg.to_dict())
    if stats is not None:
        write_json_atomic(out / "train_stats.json", stats)
    return out


def load_lm(path: str | Path):
    """Load a folder written by :func:`save_lm`: ``(model, tokenizer, cfg)``."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    path = Path(path)
    cfg_file = path / "lm_config.json"
    if not cfg_file.is_file():
        raise FilterkitError(f"{cfg_file}: missing; point at a folder written by save_lm")
    cfg = LMConfig.from_dict(json.loads(cfg_file.read_text()), source=str(cfg_file))
    return GPT2LMHeadModel.from_pretrained(str(path)), AutoTokenizer.from_pretrained(str(path)), cfg
