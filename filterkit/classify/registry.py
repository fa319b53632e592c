"""Backend name -> class, and :func:`load_classifier`, the one place a classifier folder becomes a scorer.

A new backend is one module in ``filterkit/classify/`` (a class with the :class:`~filterkit.classify.base.Classifier`
methods) and one line in :data:`BACKENDS`. Entries name the class by import path, so opening a folder never
imports torch or fastText for a backend it does not use.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from filterkit.classify.base import Classifier, ScoringSpec, read_classifier_info


@dataclass(frozen=True)
class Backend:
    target: str  # "module:Class"
    weights: str  # the weights file the folder keeps beside config.json (hashed into the classifier's sha256)

    def load_class(self) -> type:
        module, _, name = self.target.partition(":")
        return getattr(import_module(module), name)


BACKENDS: dict[str, Backend] = {
    "embedding": Backend("filterkit.classify.embedding:EmbeddingClassifier", "head.safetensors"),
    "fasttext": Backend("filterkit.classify.fasttext:FastTextClassifier", "model.ftz"),
}


def load_classifier(folder: str | Path, spec: ScoringSpec | None = None) -> Classifier:
    """Load a classifier folder with the backend its ``config.json`` names, under one scoring spec.

    Every backend returns an object with ``info``, ``submit``/``collect`` and ``score(texts) -> list[DocScore]``,
    so the pipeline stage, tuning and benchmarks do not care which one they hold.
    """
    info = read_classifier_info(folder)
    return BACKENDS[info.backend].load_class().load(folder, spec or ScoringSpec())
