"""Tiny causal LMs for the filtering experiment: tokenizer, token memmaps, model, training loop, evals.

One file in the nanoGPT spirit: a reader can follow a corpus from text to a trained model and its
multiple-choice score without meeting a framework. The model is a stock ``transformers`` GPT-2 so a
checkpoint saved here (``save_pretrained``) loads in lm-eval-harness and every other usual tool.

Randomness is never global: batches come from a ``numpy.random.Generator`` seeded from the config, and
the torch seeding needed for weight init and dropout happens inside ``torch.random.fork_rng``, so the
caller's global torch RNG state is the same after :func:`build_model` or :func:`train` as before.

This module imports only numpy, torch, tokenizers and transformers (no pydantic, pyarrow only lazily
in :func:`load_mc_file`) so it runs unchanged on the GPU image, which lacks pydantic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from filterkit.errors import FilterkitError

EOS_TOKEN = "<|endoftext|>"
MC_COLUMNS = ("question", "choices", "answer")


# ---------------------------------------------------------------------------------------------------
# Tokenizer and token files
# ---------------------------------------------------------------------------------------------------


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path | None = None):
    """Train a byte-level BPE tokenizer on the corpus and save it (``save_pretrained``) in ``out_dir``.

    Byte-level means every string round-trips and nothing maps to an unknown token, so a filtered corpus
    and the eval questions share one vocabulary without surprises. ``<|endoftext|>`` (id 0) is eos, bos
    and pad, as in GPT-2. Training is deterministic: the BPE trainer breaks count ties by the pair itself.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if not 257 <= vocab_size <= 65536:
        raise FilterkitError(f"vocab_size={vocab_size}: byte-level BPE needs >= 257 and uint16 memmaps need <= 65536")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS_TOKEN, bos_token=EOS_TOKEN, pad_token=EOS_TOKEN)
    if out_dir is not None:
        hf.save_pretrained(str(out_dir))
    return hf


def _batched(items: Iterable[str], n: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def tokenize_to_memmap(texts: Iterable[str], tokenizer, path: str | Path, chunk_docs: int = 1024) -> np.memmap:
    """Tokenise a corpus once into a flat uint16 file: each document's ids followed by eos.

    Streams in chunks so a corpus larger than memory works, and writes ``path.tmp`` then renames, so a
    crash never leaves a short file that a later run would mistake for a finished one.
    """
    path = Path(path)
    eos = tokenizer.eos_token_id
    if len(tokenizer) > 65536:
        raise FilterkitError(f"{path}: tokenizer has {len(tokenizer)} tokens; uint16 memmaps hold at most 65536")
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    n_tokens = 0
    with open(tmp, "wb") as f:
        for batch in _batched(texts, chunk_docs):
            ids = tokenizer(batch, add_special_tokens=False)["input_ids"]
            flat = np.fromiter((t for doc in ids for t in (*doc, eos)), dtype=np.uint16)
            f.write(flat.tobytes())
            n_tokens += flat.size
        f.flush()
        os.fsync(f.fileno())
    if n_tokens == 0:
        tmp.unlink()
        raise FilterkitError(f"{path}: no tokens written; the corpus given was empty")
    os.replace(tmp, path)
    return np.memmap(path, dtype=np.uint16, mode="r")


def load_memmap(path: str | Path) -> np.memmap:
    """Open a token file written by :func:`tokenize_to_memmap`, read-only."""
    return np.memmap(path, dtype=np.uint16, mode="r")


def get_batch(
    data: np.ndarray, block_size: int, batch_size: int, rng: np.random.Generator, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows ``x`` and their next-token targets ``y``, both ``(batch_size, block_size)`` int64."""
    if len(data) <= block_size:
        raise FilterkitError(f"token file has {len(data)} tokens; training needs more than block_size={block_size}")
    ix = rng.integers(0, len(data) - block_size, size=batch_size)
    x = torch.from_numpy(np.stack([data[i : i + block_size] for i in ix]).astype(np.int64))
    y = torch.from_numpy(np.stack([data[i + 1 : i + 1 + block_size] for i in ix]).astype(np.int64))
    device = torch.device(device)
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x.to(device), y.to(device)


# ---------------------------------------------------------------------------------------------------
# Config and model
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LMConfig:
    """Everything that decides a training run; saved as ``lm_config.json`` beside the checkpoint.

    A frozen dataclass rather than pydantic so this file runs on the GPU image; :meth:`from_dict`
    rejects unknown keys so a typo in an experiment YAML fails loudly instead of being ignored.
    """

    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 64
    block_size: int = 64
    vocab_size: int = 512
    dropout: float = 0.0
    lr: float = 1e-3
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    warmup: int = 10
    steps: int = 100
    batch_size: int = 16
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 0
    device: str = "auto"  # "auto" picks cuda when present, else cpu
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"  # auto: bf16 autocast on cuda, fp32 on cpu
    compile: bool = False  # torch.compile the model for training (cuda only; pays off past ~1k steps)

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise FilterkitError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if not 0 < self.vocab_size <= 65536:
            raise FilterkitError(f"vocab_size={self.vocab_size}: token memmaps are uint16, so 1..65536")
        if self.dtype not in ("auto", "float32", "bfloat16"):
            raise FilterkitError(f"dtype={self.dtype!r}: use auto, float32 or bfloat16")
        if self.warmup < 0 or self.steps < 0:
            raise FilterkitError("warmup and steps must be >= 0")

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> LMConfig:
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise FilterkitError(f"{source}: unknown LM config keys {sorted(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def resolve_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _autocast_dtype(cfg_dtype: str, device: torch.device) -> torch.dtype | None:
    """bf16 autocast on CUDA (weights and optimizer stay fp32); none on CPU, where bf16 is slow and inexact."""
    if device.type != "cuda" or cfg_dtype == "float32":
        return None
    return torch.bfloat16


def _autocast(dtype: torch.dtype | None, device: torch.device):
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


def _lm_loss(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = model(input_ids=x).logits
    return F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1))


def train(
    model,
    data: np.ndarray,
    cfg: LMConfig,
    steps: int | None = None,
    eval_fn: Callable[[int], Any] | None = None,
    eval_every: int | None = None,
    eval_at: Iterable[int] | None = None,
) -> dict[str, Any]:
    """Train ``model`` in place on random windows of ``data``; return losses and throughput.

    Used both for pretraining and for the fine-tuning attack (a fresh optimizer each call). ``eval_fn(step)``
    runs with the model in eval mode at step 0, every ``eval_every`` steps and after the last step; its
    results come back under ``evals`` and its time is excluded from tokens/s; ``eval_at`` adds evaluations after
    those step counts (the fine-tuning attack looks early and often, where curves move most). On CPU the run is
    deterministic for ``cfg.seed``: batches come from a local numpy Generator and dropout from torch's
    RNG seeded inside :func:`seeded_torch` (bit-identical for the same torch build and thread count).
    """
    steps = cfg.steps if steps is None else steps
    device = resolve_device(cfg.device)
    amp = _autocast_dtype(cfg.dtype, device)
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

    first_s = 0.0  # step 0 pays for torch.compile and kernel warm-up: timed apart so tokens/s is steady-state
    with seeded_torch(cfg.seed, device):
        t0 = time.perf_counter()
        run_eval(0)
        for step in range(steps):
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg, steps)
            x, y = get_batch(data, cfg.block_size, cfg.batch_size, rng, device)
            with _autocast(amp, device):
                loss = _lm_loss(fwd, x, y)
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
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_s = time.perf_counter() - t0 - eval_s
        if steps:
            run_eval(steps)
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
    """Checkpoint as a standard HF folder plus ``lm_config.json`` (and ``train_stats.json`` if given)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    (out / "lm_config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    if stats is not None:
        (out / "train_stats.json").write_text(json.dumps(stats, indent=2, default=str) + "\n")
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


# ---------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------


@torch.inference_mode()
def heldout_loss(
    model,
    data: np.ndarray,
    block_size: int,
    batch_size: int = 16,
    max_tokens: int | None = None,
    device: str | torch.device | None = None,
) -> float:
    """Mean next-token loss over consecutive non-overlapping windows from the start of ``data``.

    Fixed windows, not random ones, so every model in the experiment is scored on the same tokens.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    n = len(data) - 1 if max_tokens is None else min(len(data) - 1, max_tokens)
    starts = list(range(0, n - block_size + 1, block_size))
    if not starts:
        raise FilterkitError(f"held-out file has {len(data)} tokens; needs more than block_size={block_size}")
    amp = _autocast_dtype("auto", device)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(starts), batch_size):
        idx = starts[i : i + batch_size]
        x = torch.from_numpy(np.stack([data[s : s + block_size] for s in idx]).astype(np.int64)).to(device)
        y = torch.from_numpy(np.stack([data[s + 1 : s + 1 + block_size] for s in idx]).astype(np.int64)).to(device)
        with _autocast(amp, device):
            logits = model(input_ids=x).logits
        total += F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return total / count


def _encode_pair(tokenizer, context: str, continuation: str, prepend_eos: bool) -> tuple[list[int], list[int]]:
    """Context and continuation ids the lm-eval-harness way: encode the whole, split at the context's length.

    Trailing spaces move from the context to the continuation so BPE sees " word" as in running text.
    """
    n_spaces = len(context) - len(context.rstrip(" "))
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    ctx = tokenizer.encode(context, add_special_tokens=False)
    whole = tokenizer.encode(context + continuation, add_special_tokens=False)
    if prepend_eos:
        ctx = [tokenizer.eos_token_id, *ctx]
        whole = [tokenizer.eos_token_id, *whole]
    return whole[: len(ctx)], whole[len(ctx) :]


def pick_answers(scores: Sequence[Sequence[float]], byte_lengths: Sequence[Sequence[int]]) -> tuple[list[int], list[int]]:
    """Per question, the argmax choice by summed logprob (acc) and by logprob per byte (acc_norm)."""
    pred = [int(np.argmax(s)) for s in scores]
    pred_norm = [int(np.argmax(np.asarray(s) / np.maximum(1, np.asarray(n)))) for s, n in zip(scores, byte_lengths)]
    return pred, pred_norm


@torch.inference_mode()
def score_continuations(
    model,
    tokenizer,
    pairs: Sequence[tuple[str, str]],
    block_size: int | None = None,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    prepend_eos: bool = True,
) -> list[float]:
    """Summed log p(continuation | context) for each (context, continuation) pair, batched.

    Requests are sorted longest first and each batch is right-padded to its own longest row; the
    scores come back in input order. Over-long inputs keep their right end (the continuation).
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    block_size = block_size or model.config.n_positions
    amp = _autocast_dtype("auto", device)
    reqs = []
    for ctx_s, cont_s in pairs:
        ctx, cont = _encode_pair(tokenizer, ctx_s, cont_s, prepend_eos)
        if not cont or len(cont) > block_size:
            raise FilterkitError(f"continuation {cont_s!r} has {len(cont)} tokens; need 1..block_size={block_size}")
        inp = (ctx + cont)[:-1][-block_size:]
        reqs.append((inp, cont))
    order = sorted(range(len(reqs)), key=lambda i: -len(reqs[i][0]))
    out = [0.0] * len(reqs)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    was_training = model.training
    model.eval()
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        width = max(len(reqs[i][0]) for i in idx)
        x = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            inp = reqs[i][0]
            x[row, : len(inp)] = torch.tensor(inp)
            mask[row, : len(inp)] = 1
        with _autocast(amp, device):
            logits = model(input_ids=x.to(device), attention_mask=mask.to(device)).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
        sums = []
        for row, i in enumerate(idx):
            inp, cont = reqs[i]
            pos = torch.arange(len(inp) - len(cont), len(inp), device=device)
            sums.append(logp[row, pos, torch.tensor(cont, device=device)].sum())
        for i, v in zip(idx, torch.stack(sums).tolist()):  # one host sync per batch, not per choice
            out[i] = v
    model.train(was_training)
    return out


def mc_eval(
    model,
    tokenizer,
    questions: Sequence[dict[str, Any]],
    device: str | torch.device | None = None,
    prompt_template: str = "Question: {question}\nAnswer:",
    batch_size: int = 32,
    prepend_eos: bool = True,
) -> dict[str, Any]:
    """Multiple-choice accuracy by log-likelihood, as lm-eval-harness scores MMLU/WMDP in cloze form.

    Each choice is scored as the continuation ``" " + choice`` after the formatted question. ``acc`` takes
    the highest summed logprob; ``acc_norm`` divides by the continuation's UTF-8 byte length so long
    answers are not penalised for having more tokens. ``prepend_eos`` puts the eos the model saw before
    every training document in front of the prompt (lm-eval adds no BOS for GPT-2; our tiny models read
    better from a document start). ``chance`` is the mean of 1/len(choices).
    """
    pairs, lengths = [], []
    for q in questions:
        ctx = prompt_template.format(question=q["question"])
        conts = [" " + str(c) for c in q["choices"]]
        pairs.extend((ctx, c) for c in conts)
        lengths.append([len(c.encode("utf-8")) for c in conts])
    flat = score_continuations(model, tokenizer, pairs, batch_size=batch_size, device=device, prepend_eos=prepend_eos)
    scores, k = [], 0
    for q in questions:
        scores.append(flat[k : k + len(q["choices"])])
        k += len(q["choices"])
    pred, pred_norm = pick_answers(scores, lengths)
    answers = [int(q["answer"]) for q in questions]
    n = len(questions)
    return {
        "acc": sum(p == a for p, a in zip(pred, answers)) / n if n else float("nan"),
        "acc_norm": sum(p == a for p, a in zip(pred_norm, answers)) / n if n else float("nan"),
        "n": n,
        "chance": float(np.mean([1 / len(q["choices"]) for q in questions])) if n else float("nan"),
        "pred": pred,
        "pred_norm": pred_norm,
        "scores": scores,
    }


def load_mc_file(path: str | Path) -> list[dict[str, Any]]:
    """Questions from jsonl or parquet in the MMLU/WMDP layout: ``question``, ``choices`` (list), ``answer`` (int).

    Extra columns (``subject``...) are kept. Every row is checked, since a bad answer index would
    otherwise just count as a wrong prediction.
    """
    path = Path(path)
    if not path.is_file():
        raise FilterkitError(f"{path}: questions file not found; pass jsonl or parquet with question, choices, answer")
    if path.suffix in (".jsonl", ".json"):
        rows = []
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise FilterkitError(f"{path}:{lineno}: not valid JSON ({e.msg}); write one object per line") from None
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    else:
        raise FilterkitError(f"{path}: unknown questions format {path.suffix!r}; use .jsonl or .parquet")
    for i, row in enumerate(rows):
        missing = [c for c in MC_COLUMNS if c not in row]
        if missing:
            raise FilterkitError(
                f"{path}: row {i} has no {', '.join(repr(m) for m in missing)} column; "
                f"questions need {', '.join(MC_COLUMNS)} (the MMLU/WMDP layout)"
            )
        choices, answer = row["choices"], row["answer"]
        if not isinstance(choices, list) or len(choices) < 2:
            raise FilterkitError(f"{path}: row {i}: choices must be a list of at least 2 strings")
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
            raise FilterkitError(f"{path}: row {i}: answer={answer!r} must be an index into its {len(choices)} choices")
    return rows
