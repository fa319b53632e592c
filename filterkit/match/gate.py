"""The cheap semantic escalation signal: a static-embedding model with a logistic head.

Why it exists: the blocklist escalates only documents that name its terms, so a proxy document written
with other words (a pathogen the list lacks, a paraphrase, a short question) is kept whatever the
classifier would have said. The gate reads every document at blocklist-like cost and escalates those
that *look* on-topic, so the classifier sees them too. It never removes anything.

The static model is distilled offline with ``model2vec`` from the installed all-MiniLM-L6-v2 (no
download): every token's MiniLM embedding, PCA-reduced, so a document embedding is a weighted mean of
token vectors — ~100x cheaper than running the transformer, and still knowing what MiniLM knows about
words the training labels never showed (an unseen pathogen name sits near "virus"). Text is put in the
blocklist's normal form first (:func:`filterkit.match.blocklist.normalize`), so zero-width characters and
look-alike letters do not hide it. Long documents are cut into windows of ``window_words`` words and a
document scores the maximum over its windows — the classifier's any-window rule — so a proxy paragraph
after pages of boilerplate is not averaged away.

A gate folder holds the model2vec files (``model.safetensors``, ``tokenizer.json``, ``config.json``,
``modules.json``), ``gate.json`` (threshold, window size, training summary) and ``head.safetensors``
(the logistic weights). Nothing is pickled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.errors import FilterkitError

GATE_CONFIG = "gate.json"
GATE_HEAD = "head.safetensors"
MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")


def gate_windows(texts: Sequence[str], window_words: int) -> tuple[list[str], np.ndarray]:
    """Normalised windows of at most ``window_words`` words and the document each came from."""
    from filterkit.match.blocklist import normalize

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


def embed_static(model: Any, texts: Sequence[str]) -> np.ndarray:
    """Static embeddings of already-normalised texts, as ``model.encode`` gives them (training and scoring share
    this one function, so the head is trained on exactly the vectors it is applied to)."""
    from filterkit.match.static_embed import StaticEmbedder

    return StaticEmbedder(model).embed(texts)


@dataclass
class StaticGate:
    """A loaded gate: ``score(texts)`` gives each document's max-window probability of the proxy topic."""

    path: Path
    config: dict[str, Any]
    model: Any
    weight: np.ndarray
    bias: float
    embedder: Any = None  # a StaticEmbedder over ``model``, built on first use (it caches per-word vectors)

    @property
    def threshold(self) -> float:
        return float(self.config["threshold"])

    @property
    def window_words(self) -> int:
        return int(self.config.get("window_words", 256))

    @classmethod
    def load(cls, folder: str | Path) -> StaticGate:
        from model2vec import StaticModel
        from safetensors.numpy import load_file

        folder = Path(folder)
        config = read_gate_config(folder)
        try:
            model = StaticModel.from_pretrained(str(folder))
            tensors = load_file(str(folder / GATE_HEAD))
        except Exception as e:  # noqa: BLE001 - any load failure is a damaged folder
            raise FilterkitError(
                f"{folder}: cannot load the semantic gate ({type(e).__name__}); rebuild it with `filterkit train-gate`"
            ) from None
        weight = np.asarray(tensors["weight"], dtype=np.float32).reshape(-1)
        if weight.shape[0] != model.dim:
            raise FilterkitError(
                f"{folder}: gate head expects {weight.shape[0]}-d embeddings, the static model "
                f"gives {model.dim}-d; rebuild it with `filterkit train-gate`"
            )
        return cls(folder, config, model, weight, float(np.asarray(tensors["bias"]).reshape(-1)[0]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Static embeddings of already-normalised texts (:func:`embed_static`, with the per-word cache kept)."""
        if self.embedder is None:
            from filterkit.match.static_embed import StaticEmbedder

            self.embedder = StaticEmbedder(self.model)
        return self.embedder.embed(texts)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Max-over-windows probability per document (0.0 for an empty document)."""
        windows, owner = gate_windows(texts, self.window_words)
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
        raise FilterkitError(
            f"{folder}: semantic gate not found (no {GATE_CONFIG}); set semantic_gate.path in the "
            "pipeline YAML to a folder made by `filterkit train-gate`, or semantic_gate.enabled: false"
        )
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise FilterkitError(f"{cfg_path}: not valid JSON ({e.msg} at line {e.lineno}); rebuild the gate") from None
    for name in (*MODEL_FILES, GATE_HEAD):
        if not (folder / name).is_file():
            raise FilterkitError(f"{folder}: semantic gate has no {name}; rebuild it with `filterkit train-gate`")
    if "threshold" not in config:
        raise FilterkitError(f"{cfg_path}: missing key 'threshold'; rebuild the gate with `filterkit train-gate`")
    return config


def gate_sha256(folder: str | Path) -> str:
    """A hash of the gate's decisive files, for the manifest."""
    from filterkit.io import file_sha256, stable_hash

    folder = Path(folder)
    return stable_hash({n: file_sha256(folder / n) for n in (*MODEL_FILES, GATE_HEAD, GATE_CONFIG)})
