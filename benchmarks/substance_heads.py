"""Heads and document rules compared by benchmarks/substance_bench.py, all on frozen MiniLM window embeddings.

* window heads (what ``filterkit train`` fits): every window carries its document's label; logistic or MLP;
* multiple-instance heads: the loss is taken on the *document* score (max, or a soft max, over its windows), so a
  long positive page does not teach the head that its boilerplate windows are on topic, and a negative page with
  one COVID line pushes down only its best window;
* document rules over window scores (:mod:`filterkit.classify.docrule`), and a small document-level logistic model
  over pooled window scores, term counts and the gate score, trained on out-of-fold window scores.

Label 0.5 (borderline) is either dropped or kept as a soft target of 0.5 (``soft``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterkit.classify.docrule import pool
from filterkit.train.cv import source_weights
from filterkit.train.embedding import fit_head


@dataclass(frozen=True)
class HeadSpec:
    name: str
    kind: str = "logistic"  # logistic | mlp
    hidden: int = 0
    mil: str | None = None  # None (window labels) | "max" | "lse" (document-level loss)
    borderline: str = "soft"  # soft (target 0.5) | drop
    epochs: int = 300


def doc_weights(y: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Every source the same total weight within each class (0.5 counts with the positives)."""
    return source_weights(sources, (y >= 0.5).astype(int))


def _keep(y: np.ndarray, spec: HeadSpec) -> np.ndarray:
    return ~np.isnan(y) & ((y != 0.5) | (spec.borderline == "soft"))


def fit(spec: HeadSpec, emb: np.ndarray, owner: np.ndarray, y: np.ndarray, sources: np.ndarray, seed: int = 0):
    """A head trained on documents ``y`` (per document) whose windows are ``emb`` / ``owner``."""
    keep = _keep(y, spec)
    w = np.zeros(len(y))
    w[keep] = doc_weights(y[keep], sources[keep])
    if spec.mil is None:
        m = keep[owner]
        return fit_head(emb[m], y[owner][m], spec.kind, spec.hidden, seed, epochs=spec.epochs, weights=w[owner][m])
    return _fit_mil(spec, emb, owner, y, w, keep, seed)


def _fit_mil(spec: HeadSpec, emb, owner, y, w, keep, seed):
    import torch

    from filterkit.classify.embedding import build_head

    docs = np.flatnonzero(keep)
    remap = np.full(len(y), -1)
    remap[docs] = np.arange(len(docs))
    m = keep[owner]
    x = torch.from_numpy(emb[m].astype(np.float32))
    own = torch.from_numpy(remap[owner[m]])
    yt = torch.from_numpy(y[docs].astype(np.float32))
    wt = torch.from_numpy((w[docs] / w[docs].mean()).astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    head = build_head(spec.kind, x.shape[1], spec.hidden)
    for p in head.parameters():
        if p.dim() > 1:
            torch.nn.init.normal_(p, std=0.02, generator=gen)
        else:
            torch.nn.init.zeros_(p)
    pos = float(yt.sum())
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(yt) - pos) / max(pos, 1.0)), reduction="none")
    opt = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=1e-4)
    n = len(docs)
    counts = torch.bincount(own, minlength=n).float()
    head.train()
    for _ in range(spec.epochs):
        opt.zero_grad()
        z = head(x).squeeze(-1)
        if spec.mil == "max":
            doc = torch.full((n,), -1e9).scatter_reduce(0, own, z, reduce="amax")
        else:  # log-mean-exp with temperature 1: between mean and max, every window gets gradient
            zmax = torch.full((n,), -1e9).scatter_reduce(0, own, z, reduce="amax").detach()
            s = torch.zeros(n).index_add(0, own, torch.exp(z - zmax[own]))
            doc = zmax + torch.log(s / counts)
        loss = (bce(doc, yt) * wt).mean()
        loss.backward()
        opt.step()
    return head.eval()


def window_probs(head, emb: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        out = []
        for i in range(0, len(emb), 65536):
            out.append(
                torch.sigmoid(head(torch.from_numpy(np.ascontiguousarray(emb[i : i + 65536]))).squeeze(-1)).numpy()
            )
    return np.concatenate(out) if out else np.zeros(0)


def features(probs: np.ndarray, owner: np.ndarray, n: int, cheap: dict[str, np.ndarray]) -> np.ndarray:
    """Document features for the document-level model: pooled window scores, window count, terms, gate."""
    mx = pool(probs, owner, n, "max")
    t2 = pool(probs, owner, n, "top2")
    mean = pool(probs, owner, n, "mean")
    count = np.bincount(owner, minlength=n).astype(float)
    frac = np.bincount(owner, weights=(probs >= 0.5).astype(float), minlength=n) / np.maximum(count, 1)
    logit = lambda p: np.log(np.clip(p, 1e-4, 1 - 1e-4) / (1 - np.clip(p, 1e-4, 1 - 1e-4)))  # noqa: E731
    words = np.maximum(cheap["words"].astype(float), 1.0) if "words" in cheap and cheap["words"].any() else count * 200
    return np.column_stack(
        [
            logit(mx),
            logit(t2),
            logit(mean),
            frac,
            np.log1p(count),
            np.log1p(cheap["unique"].astype(float)),
            np.log1p(cheap["total"].astype(float)),
            np.log1p(1000.0 * cheap["total"] / words),
            np.nan_to_num(cheap["gate"], nan=1.0),
        ]
    )


class DocModel:
    """Logistic regression over :func:`features` (standardised), trained on out-of-fold window scores."""

    def __init__(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        keep = ~np.isnan(y)
        self.mu = x[keep].mean(0)
        self.sd = x[keep].std(0) + 1e-6
        yb = (y[keep] >= 0.75).astype(int)  # borderline counted as negative here; its weight is halved
        ww = w[keep] * np.where(y[keep] == 0.5, 0.5, 1.0)
        self.m = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(
            (x[keep] - self.mu) / self.sd, yb, ww
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.m.predict_proba((x - self.mu) / self.sd)[:, 1]


def oof_window_probs(spec: HeadSpec, emb, owner, y, sources, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold window probabilities on the training pool (folds over documents, stratified by label)."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=int)
    for v in (0.0, 0.5, 1.0):
        idx = np.flatnonzero(y == v)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    nan = np.isnan(y)
    fold_of[nan] = rng.integers(0, folds, nan.sum())
    out = np.zeros(len(owner))
    for k in range(folds):
        tr = fold_of != k
        ytr = np.where(tr, y, np.nan)
        h = fit(spec, emb, owner, ytr, sources, seed + k)
        m = ~tr[owner]
        out[m] = window_probs(h, emb[m])
    return out
