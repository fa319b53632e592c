"""How the experiment scores a model: held-out loss and multiple-choice accuracy, exactly as lm-eval-harness.

:func:`mc_eval` gives the same ``acc`` and ``acc_norm`` as ``lm_eval --model hf --include_path``
:data:`LM_EVAL_TASKS` on a :func:`~filterkit.experiment.lm.save_lm` folder (see :func:`mc_eval` for the scoring
contract and ``tests/experiment/test_lm_eval_agreement.py`` for the check). pyarrow is imported lazily in :func:`load_mc_file`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from filterkit.errors import FilterkitError
from filterkit.experiment.lm import autocast, autocast_dtype

MC_COLUMNS = ("question", "choices", "answer")
#: the lm-eval-harness task folder for the experiment's question files: ``lm_eval --include_path LM_EVAL_TASKS``
LM_EVAL_TASKS = Path(__file__).resolve().parent / "lm_eval_tasks"


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
    amp = autocast_dtype("auto", device)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(starts), batch_size):
        idx = starts[i : i + batch_size]
        x = torch.from_numpy(np.stack([data[s : s + block_size] for s in idx]).astype(np.int64)).to(device)
        y = torch.from_numpy(np.stack([data[s + 1 : s + 1 + block_size] for s in idx]).astype(np.int64)).to(device)
        with autocast(amp, device):
            logits = model(input_ids=x).logits
        total += F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return total / count


@torch.inference_mode()
def document_losses(
    model,
    docs: Sequence[Sequence[int]],
    block_size: int,
    bos: int = 0,
    batch_size: int = 32,
    device: str | torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Summed next-token loss (nats) and scored tokens per document, for intervals over documents.

    Each document is read from its start after ``bos`` (the eos every training document follows), cut into
    windows of ``block_size`` targets with no context carried across windows, so a model's score of a
    document does not depend on its neighbours in a file."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    windows: list[tuple[int, list[int]]] = []
    for d, ids in enumerate(docs):
        seq = [bos, *map(int, ids)]
        for s in range(0, len(seq) - 1, block_size):
            windows.append((d, seq[s : s + block_size + 1]))
    sums, counts = np.zeros(len(docs)), np.zeros(len(docs), dtype=np.int64)
    amp = autocast_dtype("auto", device)
    was_training = model.training
    model.eval()
    for b in range(0, len(windows), batch_size):
        chunk = windows[b : b + batch_size]
        width = max(len(w) for _, w in chunk) - 1
        x = torch.zeros((len(chunk), width), dtype=torch.long)
        y = torch.full((len(chunk), width), -100, dtype=torch.long)
        for r, (_, w) in enumerate(chunk):
            x[r, : len(w) - 1] = torch.tensor(w[:-1])
            y[r, : len(w) - 1] = torch.tensor(w[1:])
        with autocast(amp, device):
            logits = model(input_ids=x.to(device)).logits
        y = y.to(device)
        loss = F.cross_entropy(logits.float().transpose(1, 2), y, ignore_index=-100, reduction="none").sum(1)
        n = (y != -100).sum(1)
        for (d, _), v, k in zip(chunk, loss.tolist(), n.tolist()):
            sums[d] += v
            counts[d] += k
    model.train(was_training)
    return sums, counts


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
        pred_norm = [
            int(np.argmax(np.asarray(s, dtype=float) / np.array([float(len(c)) for c in cs])))
            for s, cs in zip(scores, choices)
        ]
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
    amp = autocast_dtype("auto", device)
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
        with autocast(amp, device):
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
                        raise FilterkitError(
                            f"{path}:{lineno}: not valid JSON ({e.msg}); write one object per line"
                        ) from None
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
