"""Building the semantic gate (``filterkit train-gate``): distil a static model from the installed encoder
offline, then fit a logistic head on labelled windows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.errors import FilterkitError
from filterkit.match.gate import GATE_CONFIG, GATE_HEAD, MODEL_FILES, embed_static, gate_windows


def distill_static_model(out: str | Path, encoder_path: str | Path | None = None, pca_dims: int = 256) -> Path:
    """Distil the installed MiniLM into a model2vec static model in ``out`` (offline; ~1 min on 2 cores)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from model2vec.distill import distill
    except ImportError:
        raise FilterkitError(
            "distilling needs model2vec's distill extra; run `pip install 'model2vec[distill]'`"
        ) from None
    from filterkit.classify.encoder import PACKAGED_ENCODER_NAME, packaged_encoder_path

    src = Path(encoder_path) if encoder_path is not None else packaged_encoder_path()
    model = distill(model_name=str(src), pca_dims=pca_dims)
    out = Path(out)
    model.save_pretrained(str(out))
    cfg_file = out / "config.json"  # model2vec records the source folder; a shipped model should not name ours
    cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    cfg["tokenizer_name"] = f"{PACKAGED_ENCODER_NAME} (distilled offline from {src.name})"
    cfg_file.write_text(json.dumps(cfg, indent=4) + "\n", encoding="utf-8")
    (out / "README.md").unlink(missing_ok=True)  # model2vec's generic card; MODEL_CARD.md is ours
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, c: float = 1.0):
    """L2 logistic regression (scikit-learn, lbfgs): deterministic, no random state."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit(x, y, sample_weight=sample_weight)
    return clf.coef_.reshape(-1).astype(np.float32), float(clf.intercept_[0])


def save_gate(folder: str | Path, weight: np.ndarray, bias: float, config: dict[str, Any]) -> None:
    """Write the head and ``gate.json`` beside the static model files."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    save_file(
        {"weight": np.ascontiguousarray(weight, dtype=np.float32), "bias": np.asarray([bias], dtype=np.float32)},
        str(folder / GATE_HEAD),
    )
    (folder / GATE_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def train_gate(
    texts: Sequence[str],
    y: np.ndarray,
    out: str | Path,
    static_model: str | Path | None = None,
    groups: Sequence[str] | None = None,
    negatives_rate: float = 0.01,
    window_words: int = 256,
    folds: int = 5,
    seed: int = 0,
    sources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit the gate's head on labelled documents and set its threshold; writes a complete gate folder.

    The threshold is the score that escalates ``negatives_rate`` of the *general* negatives (group
    ``general``, else all negatives) by out-of-fold scores: the gate's cost is classifier time and a
    little collateral risk on ordinary text, and a rate fixed on negatives travels to new text better
    than a recall target chosen on a few sources of positives (see docs/results.md, leave-one-source-out
    numbers). Classes are weighted equally. ``static_model`` is an existing model2vec folder to copy;
    by default the installed MiniLM is distilled.
    """
    import shutil

    from filterkit.train.cv import stratified_folds

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if static_model is None:
        distill_static_model(out)
    elif Path(static_model).resolve() != out.resolve():
        for name in (*MODEL_FILES, "modules.json"):
            if (Path(static_model) / name).is_file():
                shutil.copy2(Path(static_model) / name, out / name)
    y = np.asarray(y, dtype=np.int64)
    from model2vec import StaticModel

    windows, owner = gate_windows(texts, window_words)
    x = embed_static(StaticModel.from_pretrained(str(out)), windows)
    wy = y[owner]
    w = np.where(wy == 1, 0.5 / max(wy.sum(), 1), 0.5 / max((1 - wy).sum(), 1)) * len(wy)
    fold_of = stratified_folds(y, folds, seed)
    oof = np.zeros(len(y))
    for k in range(folds):
        tr = fold_of[owner] != k
        wt, b = fit_logistic(x[tr], wy[tr], w[tr])
        te = ~tr
        p = 1.0 / (1.0 + np.exp(-(x[te] @ wt + b)))
        best = np.zeros(len(y))
        np.maximum.at(best, owner[te], p)
        oof[fold_of == k] = best[fold_of == k]
    neg = (y == 0) & (np.asarray(groups) == "general") if groups is not None else y == 0
    if not neg.any():
        neg = y == 0
    threshold = float(np.quantile(oof[neg], 1.0 - negatives_rate))
    weight, bias = fit_logistic(x, wy, w)
    from filterkit.evaluate.metrics import binary_metrics

    cv = binary_metrics(oof, y, threshold)
    config = {
        "name": out.name,
        "kind": "model2vec static embedding + logistic head",
        "dim": int(x.shape[1]),
        "window_words": window_words,
        "threshold": threshold,
        "threshold_rule": f"escalates {negatives_rate:.1%} of general negatives by {folds}-fold out-of-fold scores",
        "training": {
            "documents": int(len(y)),
            "positives": int(y.sum()),
            "windows": int(len(owner)),
            "folds": folds,
            "seed": seed,
            "cv": cv,
            "sources": sources or {},
        },
    }
    save_gate(out, weight, bias, config)
    return config
