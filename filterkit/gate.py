"""The cheap semantic escalation signal: a static-embedding model with a logistic head.

Why it exists: the blocklist escalates only documents that name its terms, so a proxy document written
with other words (a pathogen the list lacks, a paraphrase, a short question) is kept whatever the
classifier would have said. The gate reads every document at blocklist-like cost and escalates those
that *look* on-topic, so the classifier sees them too. It never removes anything.

The static model is distilled offline with ``model2vec`` from the installed all-MiniLM-L6-v2 (no
download): every token's MiniLM embedding, PCA-reduced, so a document embedding is a weighted mean of
token vectors — ~100x cheaper than running the transformer, and still knowing what MiniLM knows about
words the training labels never showed (an unseen pathogen name sits near "virus"). Text is put in the
blocklist's normal form first (:func:`filterkit.blocklist.normalize`), so zero-width characters and
look-alike letters do not hide it. Long documents are cut into windows of ``window_words`` words and a
document scores the maximum over its windows — the classifier's any-window rule — so a proxy paragraph
after pages of boilerplate is not averaged away.

A gate folder holds the model2vec files (``model.safetensors``, ``tokenizer.json``, ``config.json``,
``modules.json``), ``gate.json`` (threshold, window size, training summary) and ``head.safetensors``
(the logistic weights). Nothing is pickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from filterkit.errors import FilterkitError

GATE_CONFIG = "gate.json"
GATE_HEAD = "head.safetensors"
_MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")


def _windows(texts: Sequence[str], window_words: int) -> tuple[list[str], np.ndarray]:
    """Normalised windows of at most ``window_words`` words and the document each came from."""
    from filterkit.blocklist import normalize

    out: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        norm = normalize(text)
        if not norm:  # an empty document has no window and scores 0
            continue
        words = norm.split(" ")
        if len(words) <= window_words:
            out.append(norm)
            owner.append(i)
            continue
        for k in range(0, len(words), window_words):
            out.append(" ".join(words[k : k + window_words]))
            owner.append(i)
    return out, np.asarray(owner, dtype=np.int64)


def _embed(model: Any, texts: Sequence[str]) -> np.ndarray:
    """Static embeddings of already-normalised texts (one thread: no tokenizer parallelism side effects)."""
    if not texts:
        return np.zeros((0, model.dim), dtype=np.float32)
    return np.asarray(model.encode(list(texts), use_multiprocessing=False, max_length=None, batch_size=4096),
                      dtype=np.float32)


@dataclass
class StaticGate:
    """A loaded gate: ``score(texts)`` gives each document's max-window probability of the proxy topic."""

    path: Path
    config: dict[str, Any]
    model: Any
    weight: np.ndarray
    bias: float

    @property
    def threshold(self) -> float:
        return float(self.config["threshold"])

    @property
    def window_words(self) -> int:
        return int(self.config.get("window_words", 256))

    @classmethod
    def load(cls, folder: str | Path) -> "StaticGate":
        from model2vec import StaticModel
        from safetensors.numpy import load_file

        folder = Path(folder)
        config = read_gate_config(folder)
        try:
            model = StaticModel.from_pretrained(str(folder))
            tensors = load_file(str(folder / GATE_HEAD))
        except Exception as e:  # noqa: BLE001 - any load failure is a damaged folder
            raise FilterkitError(f"{folder}: cannot load the semantic gate ({type(e).__name__}); rebuild it "
                                 "with `filterkit train-gate`") from None
        weight = np.asarray(tensors["weight"], dtype=np.float32).reshape(-1)
        if weight.shape[0] != model.dim:
            raise FilterkitError(f"{folder}: gate head expects {weight.shape[0]}-d embeddings, the static model "
                                 f"gives {model.dim}-d; rebuild it with `filterkit train-gate`")
        return cls(folder, config, model, weight, float(np.asarray(tensors["bias"]).reshape(-1)[0]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Static embeddings of already-normalised texts."""
        return _embed(self.model, texts)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Max-over-windows probability per document (0.0 for an empty document)."""
        windows, owner = _windows(texts, self.window_words)
        best = np.zeros(len(texts), dtype=np.float64)
        if windows:
            p = 1.0 / (1.0 + np.exp(-(self.embed(windows) @ self.weight + self.bias)))
            np.maximum.at(best, owner, p)
        return best


def read_gate_config(folder: str | Path) -> dict[str, Any]:
    """Validate a gate folder without loading the model (cheap; used before a run starts)."""
    folder = Path(folder)
    cfg_path = folder / GATE_CONFIG
    if not cfg_path.is_file():
        raise FilterkitError(f"{folder}: semantic gate not found (no {GATE_CONFIG}); set semantic_gate.path in the "
                             "pipeline YAML to a folder made by `filterkit train-gate`, or semantic_gate.enabled: false")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise FilterkitError(f"{cfg_path}: not valid JSON ({e.msg} at line {e.lineno}); rebuild the gate") from None
    for name in (*_MODEL_FILES, GATE_HEAD):
        if not (folder / name).is_file():
            raise FilterkitError(f"{folder}: semantic gate has no {name}; rebuild it with `filterkit train-gate`")
    if "threshold" not in config:
        raise FilterkitError(f"{cfg_path}: missing key 'threshold'; rebuild the gate with `filterkit train-gate`")
    return config


def gate_sha256(folder: str | Path) -> str:
    """A hash of the gate's decisive files, for the manifest."""
    from filterkit.config import file_sha256, stable_hash

    folder = Path(folder)
    return stable_hash({n: file_sha256(folder / n) for n in (*_MODEL_FILES, GATE_HEAD, GATE_CONFIG)})


def distill_static_model(out: str | Path, encoder_path: str | Path | None = None, pca_dims: int = 256) -> Path:
    """Distil the installed MiniLM into a model2vec static model in ``out`` (offline; ~1 min on 2 cores)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from model2vec.distill import distill
    except ImportError:
        raise FilterkitError("distilling needs model2vec's distill extra; run `pip install 'model2vec[distill]'`") from None
    from filterkit.encoders import PACKAGED_ENCODER_NAME, packaged_encoder_path

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
    save_file({"weight": np.ascontiguousarray(weight, dtype=np.float32),
               "bias": np.asarray([bias], dtype=np.float32)}, str(folder / GATE_HEAD))
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
    than a recall target chosen on a few sources of positives (see the README's leave-one-source-out
    numbers). Classes are weighted equally. ``static_model`` is an existing model2vec folder to copy;
    by default the installed MiniLM is distilled.
    """
    import shutil

    from filterkit.training import stratified_folds

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if static_model is None:
        distill_static_model(out)
    elif Path(static_model).resolve() != out.resolve():
        for name in (*_MODEL_FILES, "modules.json"):
            if (Path(static_model) / name).is_file():
                shutil.copy2(Path(static_model) / name, out / name)
    y = np.asarray(y, dtype=np.int64)
    from model2vec import StaticModel

    windows, owner = _windows(texts, window_words)
    x = _embed(StaticModel.from_pretrained(str(out)), windows)
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
    from filterkit.training import binary_metrics

    cv = binary_metrics(oof, y, threshold)
    config = {
        "name": out.name,
        "kind": "model2vec static embedding + logistic head",
        "dim": int(x.shape[1]),
        "window_words": window_words,
        "threshold": threshold,
        "threshold_rule": f"escalates {negatives_rate:.1%} of general negatives by {folds}-fold out-of-fold scores",
        "training": {"documents": int(len(y)), "positives": int(y.sum()), "windows": int(len(owner)),
                     "folds": folds, "seed": seed, "cv": cv, "sources": sources or {}},
    }
    save_gate(out, weight, bias, config)
    return config
