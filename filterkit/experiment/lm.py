"""Tiny causal LMs for the filtering experiment: tokenizer, token memmaps, model, training loop, evals.

One file in the nanoGPT spirit: a reader can follow a corpus from text to a trained model and its
multiple-choice score without meeting a framework. The model is a stock ``transformers`` GPT-2 so a
checkpoint saved here (``save_pretrained``) loads in lm-eval-harness and every other usual tool.

Randomness is never global: batches come from a ``numpy.random.Generator`` seeded from the config, and
the torch seeding needed for weight init and dropout happens inside ``torch.random.fork_rng``, so the
caller's global torch RNG state is the same after :func:`build_model` or :func:`train` as before.

Every folder :func:`save_lm` writes is an lm-eval-harness model as is: ``lm_eval --model hf --model_args
pretrained=FOLDER --include_path`` :data:`LM_EVAL_TASKS` gives the same ``acc`` and ``acc_norm`` as :func:`mc_eval`
(see :func:`mc_eval` for the scoring contract and ``tests/test_lm_eval_agreement.py`` for the check).

Beyond numpy, torch, tokenizers and transformers this module needs only pydantic (for :class:`LMConfig`);
pyarrow is imported lazily in :func:`load_mc_file`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from filterkit.errors import FilterkitError
from filterkit.io import write_json_atomic, write_text_atomic

EOS_TOKEN = "<|endoftext|>"
MC_COLUMNS = ("question", "choices", "answer")
#: the lm-eval-harness task folder for the experiment's question files: ``lm_eval --include_path LM_EVAL_TASKS``
LM_EVAL_TASKS = Path(__file__).resolve().parent / "lm_eval_tasks"


# ---------------------------------------------------------------------------------------------------
# Tokenizer and token files
# ---------------------------------------------------------------------------------------------------


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path | None = None):
    """Train a byte-level BPE tokenizer on the corpus and save it (:func:`save_tokenizer`) in ``out_dir``.

    Byte-level means every string round-trips and nothing maps to an unknown token, so a filtered corpus
    and the eval questions share one vocabulary without surprises. ``<|endoftext|>`` (id 0) is eos, bos
    and pad, as in GPT-2. Training is deterministic: the BPE trainer breaks count ties by the pair itself.

    Unlike GPT-2's, this tokenizer *adds* ``<|endoftext|>`` in front of a text when asked for special tokens
    (``encode(text)``, the default), the way Llama's adds its BOS. The models read every training document
    after an eos (:func:`tokenize_to_memmap` encodes without special tokens and appends one), so a prompt
    starts where a document starts; and since the prefix is the tokenizer's, lm-eval-harness, which encodes
    with the tokenizer's defaults, puts it in front of every prompt exactly as :func:`mc_eval` does.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

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
    # the template transformers 5 builds from add_bos_token=True; written here too because transformers 4 does not
    tok.post_processor = processors.TemplateProcessing(
        single=f"{EOS_TOKEN} $A", pair=f"{EOS_TOKEN} $A {EOS_TOKEN} $B", special_tokens=[(EOS_TOKEN, 0)]
    )
    hf = _portable_tokenizer_class()(
        tokenizer_object=tok,
        eos_token=EOS_TOKEN,
        bos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        add_bos_token=True,
        add_eos_token=False,
        clean_up_tokenization_spaces=False,
    )
    if out_dir is not None:
        save_tokenizer(hf, out_dir)
    return hf


@functools.cache
def _portable_tokenizer_class():
    """``PreTrainedTokenizerFast`` whose ``save_pretrained`` also makes the folder portable (:func:`save_tokenizer`).

    So a caller that saves the tokenizer the usual way (``tokenizer.save_pretrained(folder)``) writes a folder
    every supported transformers version loads. Built on first use, as transformers is imported lazily; it is
    reachable as ``lm.PortableTokenizerFast`` (module ``__getattr__``), so the tokenizer pickles.
    """
    from transformers import PreTrainedTokenizerFast

    class PortableTokenizerFast(PreTrainedTokenizerFast):
        def save_pretrained(self, save_directory, *args, **kwargs):
            files = super().save_pretrained(save_directory, *args, **kwargs)
            _make_portable(Path(save_directory))
            return files

    PortableTokenizerFast.__module__, PortableTokenizerFast.__qualname__ = __name__, "PortableTokenizerFast"
    return PortableTokenizerFast


def __getattr__(name: str) -> Any:
    if name == "PortableTokenizerFast":
        return _portable_tokenizer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def save_tokenizer(tokenizer, out_dir: str | Path) -> Path:
    """Save ``tokenizer`` so that ``AutoTokenizer.from_pretrained(out_dir)`` loads it on transformers 4.40+ and 5.x.

    transformers 5 names its class ``TokenizersBackend`` in ``tokenizer_config.json``, a name 4.x does not
    know, and tokenizers >= 0.20 writes BPE merges as pairs, which the tokenizers 0.19 that transformers 4.40
    pins cannot read. Both files are rewritten in the form every version reads: ``PreTrainedTokenizerFast``
    with its special tokens, and merges as ``"a b"`` strings (byte-level tokens never hold a space).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    _make_portable(out)
    return out


def _make_portable(folder: Path) -> None:
    cfg_file, tok_file = folder / "tokenizer_config.json", folder / "tokenizer.json"
    if not tok_file.is_file():
        raise FilterkitError(f"{folder}: no tokenizer.json written; save a fast (tokenizers-backed) tokenizer")
    data = json.loads(tok_file.read_text(encoding="utf-8"))
    merges = data.get("model", {}).get("merges")
    if merges and isinstance(merges[0], list) and not any(" " in part for pair in merges for part in pair):
        data["model"]["merges"] = [" ".join(pair) for pair in merges]
        write_text_atomic(tok_file, json.dumps(data, ensure_ascii=False, indent=2))
    cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
    cfg.pop("backend", None)  # transformers 5's marker for TokenizersBackend; 4.x would pass it on as an init kwarg
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    post = data.get("post_processor") or {}
    adds_bos = any("SpecialToken" in piece for piece in post.get("single", [])[:1])
    cfg.setdefault("add_bos_token", adds_bos)
    cfg.setdefault("add_eos_token", False)
    cfg.setdefault("clean_up_tokenization_spaces", False)
    write_json_atomic(cfg_file, cfg)


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


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class LMConfig:
    """Everything that decides a training run; saved as ``lm_config.json`` beside the checkpoint.

    Validated by pydantic like every other filterkit config (unknown keys and out-of-range values fail at
    construction, all at once), and a frozen dataclass, so ``dataclasses.replace``/``asdict`` keep working for
    code written against the earlier plain dataclass. :meth:`from_dict` is the way in from a file: it turns
    pydantic's error into a :class:`FilterkitError` that names the file.
    """

    n_layer: int = Field(2, ge=1)
    n_head: int = Field(2, ge=1)
    n_embd: int = Field(64, ge=1)
    block_size: int = Field(64, ge=2)
    vocab_size: int = Field(512, ge=1, le=65536, description="token memmaps are uint16, so at most 65536")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    lr: float = Field(1e-3, gt=0.0)
    min_lr_ratio: float = Field(0.1, ge=0.0, le=1.0, description="cosine decays to lr * min_lr_ratio")
    warmup: int = Field(10, ge=0)
    steps: int = Field(100, ge=0)
    batch_size: int = Field(16, ge=1)
    weight_decay: float = Field(0.1, ge=0.0)
    grad_clip: float = Field(1.0, gt=0.0)
    seed: int = 0
    device: str = Field("auto", description="auto picks cuda when present, else cpu")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bf16 autocast on cuda, fp32 on cpu"
    )
    compile: bool = Field(
        False, description="torch.compile the model for training (cuda only; pays off past ~1k steps)"
    )

    @model_validator(mode="after")
    def _heads_divide_width(self) -> LMConfig:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        return self

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "config") -> LMConfig:
        """Build from a mapping read from ``source`` (a file or config section), with one-line errors naming it."""
        d = dict(d)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            hints = [f"{k!r} (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(k, known, 1))
                     else repr(k) for k in unknown]
            raise FilterkitError(
                f"{source}: unknown LM config keys {', '.join(hints)}; known keys: {', '.join(sorted(known))}"
            )
        try:
            return cls(**d)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or 'config'}: {err['msg'].removeprefix('Value error, ')}"
                for err in e.errors()
            )
            raise FilterkitError(f"{source}: invalid LM config: {problems}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> LMConfig:
        """A copy with ``changes`` applied, validated like a new config."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return TypeAdapter(cls).json_schema()


def resolve_device(device: str | torch.device) -> torch.device:
    """:func:`filterkit.device.resolve_device` as a ``torch.device``."""
    from filterkit.device import resolve_device as resolve

    return torch.device(resolve(str(device)))


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


def _encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Context and continuation ids exactly as lm-eval-harness's HFLM makes them (``loglikelihood``, 0.4.x).

    - The text is encoded with the tokenizer's default special tokens, as lm-eval's ``tok_encode`` does; the
      tokenizers of :func:`train_tokenizer` put ``<|endoftext|>`` first, GPT-2's put nothing. A string that
      already starts with the prefix token's text is encoded without special tokens, as lm-eval does.
    - Trailing whitespace (``str.rstrip()``: spaces and newlines) moves from the context to the continuation,
      then the whole is encoded and split at the length of the encoded context, so BPE sees ``" word"`` as in
      running text even when a merge crosses the boundary.
    - An empty context becomes the prefix token (bos, else eos) unless the continuation starts with it.
    """
    prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id

    prefix_text = tokenizer.decode(prefix) if prefix is not None else None

    def encode(text: str) -> list[int]:
        if prefix_text and text.startswith(prefix_text):
            return tokenizer.encode(text, add_special_tokens=False)
        return tokenizer.encode(text)

    if context == "":
        cont = tokenizer.encode(continuation, add_special_tokens=False)
        return ([prefix], cont) if cont and prefix != cont[0] else (cont[:1], cont[1:])
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = encode(context + continuation)
    ctx = encode(context)
    return ctx, whole[len(ctx) :]


def pick_answers(scores: Sequence[Sequence[float]], choices: Sequence[Sequence[str]]) -> tuple[list[int], list[int]]:
    """Per question, the argmax choice by summed logprob (acc) and by logprob per character of the choice (acc_norm).

    lm-eval's ``acc_norm``: the length is ``len(choice)`` in characters, without the leading space that is
    scored with it, and ties go to the first choice (``np.argmax``).
    """
    pred = [int(np.argmax(s)) for s in scores]
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty choice gives -inf (or nan), as in lm-eval
        pred_norm = [int(np.argmax(np.asarray(s, dtype=float) / np.array([float(len(c)) for c in cs])))
                     for s, cs in zip(scores, choices)]
    return pred, pred_norm


@torch.inference_mode()
def score_continuations(
    model,
    tokenizer,
    pairs: Sequence[tuple[str, str]],
    block_size: int | None = None,
    batch_size: int = 32,
    device: str | torch.device | None = None,
) -> list[float]:
    """Summed log p(continuation | context) for each (context, continuation) pair, batched.

    Tokenised by :func:`_encode_pair` (lm-eval's rules). Requests are sorted longest first and each batch is
    right-padded to its own longest row; the scores come back in input order. Over-long inputs keep their
    right end (``(context + continuation)[-(block_size + 1):][:-1]``, as lm-eval truncates).
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    block_size = block_size or model.config.n_positions
    amp = _autocast_dtype("auto", device)
    reqs = []
    for ctx_s, cont_s in pairs:
        ctx, cont = _encode_pair(tokenizer, ctx_s, cont_s)
        if not cont or len(cont) > block_size:
            raise FilterkitError(f"continuation {cont_s!r} has {len(cont)} tokens; need 1..block_size={block_size}")
        inp = (ctx + cont)[-(block_size + 1) :][:-1]
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
) -> dict[str, Any]:
    """Multiple-choice accuracy by log-likelihood, scored exactly as lm-eval-harness scores a ``multiple_choice`` task.

    The contract, so a run's numbers can be reproduced with lm-eval (``LM_EVAL_TASKS``; tested to 1e-4):

    - context ``prompt_template.format(question=...)``, zero-shot, no description; each choice is scored as the
      continuation ``" " + choice`` (lm-eval's default ``target_delimiter``). The default template is lm-eval's
      ``mmlu_continuation`` form, ``Question: ...\nAnswer:``; the experiment's generated questions are asked with
      the bare stem (``{question}``), which the ``*_cloze`` tasks mirror.
    - tokenisation and truncation as lm-eval's HFLM (:func:`_encode_pair`): with the tokenizers this module trains,
      every prompt starts with ``<|endoftext|>`` because the tokenizer adds it, for lm-eval as for us.
    - ``acc``: argmax of the summed logprob; ``acc_norm``: argmax of the summed logprob divided by the number of
      *characters* of the choice (``len(choice)``, the leading space not counted); ties go to the first choice.

    The agreement holds to float rounding where both run in fp32 (CPU). On CUDA this function scores under bf16
    autocast, as training runs, while lm-eval's ``hf`` model runs the saved fp32 weights: expect log-likelihoods
    to differ in the third digit there, and compare on CPU. ``chance`` is the mean of 1/len(choices).
    """
    pairs = []
    for q in questions:
        ctx = prompt_template.format(question=q["question"])
        pairs.extend((ctx, " " + str(c)) for c in q["choices"])
    flat = score_continuations(model, tokenizer, pairs, batch_size=batch_size, device=device)
    scores, k = [], 0
    for q in questions:
        scores.append(flat[k : k + len(q["choices"])])
        k += len(q["choices"])
    pred, pred_norm = pick_answers(scores, [[str(c) for c in q["choices"]] for q in questions])
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
