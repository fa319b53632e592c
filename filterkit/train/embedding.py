"""Training a classifier head on labelled documents.

Documents are embedded window by window exactly as the pipeline scores them, every window carrying its
document's label, and a document's out-of-fold score is the max over its windows — so cross-validated
metrics measure the rule the pipeline applies. Embeddings are cached on disk by content hash, so
re-training with another head or seed does not re-encode.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute  # noqa: F401  (pa.compute)

from filterkit.data.labels import load_labelled_sets, load_labels
from filterkit.errors import FilterkitError
from filterkit.train.cv import (
    cache_dir,
    choose_threshold,
    classifier_config,
    data_summary,
    source_weights,
    stratified_folds,
    write_model_card,
)


def embed_windows_cached(encoder, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Window embeddings and their owner document index, cached by encoder + max_tokens + texts."""
    h = hashlib.sha256()
    h.update(f"{encoder.sha256}|{encoder.max_tokens}|{len(texts)}".encode())
    for t in texts:
        h.update(hashlib.sha256(t.encode("utf-8")).digest())
    path = cache_dir() / f"{h.hexdigest()[:32]}.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["emb"], z["owner"]
    ch = encoder.chunk(texts)
    if ch.errors:
        i = min(ch.errors)
        raise FilterkitError(f"labels row {i}: cannot tokenise ({ch.errors[i]}); fix or drop the row")
    emb = encoder.embed_windows(ch.windows)
    owner = np.asarray(ch.owner, dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, emb=emb, owner=owner)
    tmp.replace(path)
    return emb, owner


def fit_head(
    x: np.ndarray,
    y: np.ndarray,
    kind: str,
    hidden: int,
    seed: int,
    epochs: int = 300,
    weights: np.ndarray | None = None,
):
    """Class-weighted logistic (or MLP) head, full-batch Adam with weight decay; deterministic per seed.

    ``weights`` (one per row, e.g. to give every source the same say) multiply the class-weighted loss.
    """
    import torch

    from filterkit.classify.embedding import build_head

    gen = torch.Generator().manual_seed(seed)
    head = build_head(kind, x.shape[1], hidden)  # its default init is overwritten below from `gen`
    for p in head.parameters():
        if p.dim() > 1:
            torch.nn.init.normal_(p, std=0.02, generator=gen)
        else:
            torch.nn.init.zeros_(p)
    xt = torch.from_numpy(x.astype(np.float32))
    yt = torch.from_numpy(y.astype(np.float32))
    pos = float(yt.sum())
    neg = float(len(yt) - pos)
    wt = None if weights is None else torch.from_numpy(np.asarray(weights, dtype=np.float32) / np.mean(weights))
    base = torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor(neg / max(pos, 1.0)), reduction="mean" if wt is None else "none"
    )

    def loss_fn(logits, target):
        out = base(logits, target)
        return out if wt is None else (out * wt).mean()

    opt = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=1e-4)
    head.train()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(head(xt).squeeze(-1), yt)
        loss.backward()
        opt.step()
    return head.eval()


def doc_scores(head, emb: np.ndarray, owner: np.ndarray, n_docs: int) -> np.ndarray:
    import torch

    with torch.inference_mode():
        p = torch.sigmoid(head(torch.from_numpy(emb)).squeeze(-1)).numpy()
    best = np.full(n_docs, -1.0)
    np.maximum.at(best, owner, p)
    return best


def train_head(
    labels: str | Path | Sequence[str | Path],
    out: str | Path,
    head: str = "logistic",
    hidden: int = 64,
    folds: int = 5,
    target_recall: float = 0.95,
    seed: int = 0,
    name: str | None = None,
    max_tokens: int = 256,
    encoder_path: str | Path | None = None,
    split: str | None = None,
    balance: str = "class",
) -> dict[str, Any]:
    """Cross-validate, choose the threshold for ``target_recall`` on out-of-fold scores, fit on all data, save.

    ``labels`` may be several files (a file with a ``split`` column contributes its ``split`` rows);
    ``balance="source"`` weights every source equally within each class (:func:`source_weights`).
    """
    from filterkit.classify.embedding import save_head
    from filterkit.classify.encoder import Encoder

    if balance not in ("class", "source"):
        raise FilterkitError(f"unknown balance {balance!r}; use class or source")
    paths = [labels] if isinstance(labels, (str, Path)) else list(labels)
    if not paths:
        raise FilterkitError("no labels file given; pass --labels FILE (repeat it for several files)")
    encoder = Encoder(encoder_path, device="auto", max_tokens=max_tokens)
    parts = [load_labelled_sets([p], split) for p in paths]  # embedded per file: the cache is per file
    embs = [embed_windows_cached(encoder, p.texts) for p in parts]
    offsets = np.cumsum([0] + [len(p.texts) for p in parts])
    emb = np.concatenate([e for e, _ in embs])
    owner = np.concatenate([o + offsets[k] for k, (_, o) in enumerate(embs)])
    y = np.concatenate([p.y for p in parts])
    sources = [s for p in parts for s in p.sources]
    if y.min() == y.max():
        raise FilterkitError(f"{', '.join(map(str, paths))}: a classifier needs both classes (labels 0 and 1)")
    doc_w = source_weights(sources, y) if balance == "source" else None
    win_w = None if doc_w is None else doc_w[owner]
    fold_of = stratified_folds(y, folds, seed)
    oof = np.zeros(len(y))
    for k in range(folds):
        train_docs = fold_of != k
        wmask = train_docs[owner]
        h = fit_head(
            emb[wmask], y[owner][wmask], head, hidden, seed + k, weights=None if win_w is None else win_w[wmask]
        )
        test_idx = np.flatnonzero(~train_docs)
        sub = np.isin(owner, test_idx)
        remap = {d: i for i, d in enumerate(test_idx)}
        sub_owner = np.asarray([remap[d] for d in owner[sub]])
        oof[test_idx] = doc_scores(h, emb[sub], sub_owner, len(test_idx))
    threshold, cv = choose_threshold(oof, y, target_recall)
    final = fit_head(emb, y[owner], head, hidden, seed, weights=win_w)
    out = Path(out)
    groups = [g for p in parts for g in p.groups]
    table = load_labels(paths[0]) if len(paths) == 1 else None
    summary = (
        data_summary(paths[0], table, y, len(owner))
        if table is not None and split is None
        else {
            "file": ", ".join(Path(p).name for p in paths),
            "documents": int(len(y)),
            "positives": int(y.sum()),
            "negatives": int(len(y) - y.sum()),
            "windows": int(len(owner)),
            "ignored_rows": 0,
            "groups": {g: groups.count(g) for g in sorted(set(groups))},
        }
    )
    if len(paths) > 1 or split is not None:
        summary["files"] = {k: v for p in parts for k, v in p.files.items()}
        summary["split"] = split
    summary["balance"] = balance
    config = classifier_config(
        "embedding",
        name or out.name,
        threshold,
        target_recall,
        summary,
        folds,
        seed,
        cv,
        {
            "head": head,
            "hidden": hidden if head == "mlp" else 0,
            "dim": int(emb.shape[1]),
            "encoder": encoder.name,
            "encoder_sha256": encoder.sha256,
            "max_tokens": encoder.max_tokens,
        },
    )
    save_head(out, final, config)
    write_model_card(out, config, EMBEDDING_ABOUT.format(**config), EMBEDDING_FAILURE_MODES)
    return {"config": config, "cv": cv}


EMBEDDING_ABOUT = """Embedding classifier head for filterkit: {head} head on {encoder} sentence embeddings
({dim}-d, windows of {max_tokens} tokens; a document's score is the max over its windows)."""
EMBEDDING_FAILURE_MODES = [
    "Expect lower recall on text unlike the training sources (informal, technical-jargon or non-English text), "
    "and check the false-positive rate on your own general data.",
    "General biology and medicine sit close to the target in embedding space; measure their removal rate "
    "(collateral damage) before use (`filterkit tune`).",
    "Scores are not calibrated probabilities unless a calibration report says so.",
]
