"""Backend name -> class, and :func:`load_classifier`, the one place a classifier folder becomes a scorer.

A new backend is one module in ``filterkit/classify/`` (a class with the :class:`~filterkit.classify.base.Classifier`
methods) and one line in :data:`BACKENDS`. Entries name the class by import path, so opening a folder never
imports torch or fastText for a backend it does not use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from pydantic import ValidationError

from filterkit.classify.base import (
    CONFIG_FILE,
    HEAD_FILE,
    Classifier,
    ClassifierInfo,
    FolderConfig,
)
from filterkit.config import ScoringSpec
from filterkit.config_file import format_validation_error
from filterkit.errors import FilterkitError


@dataclass(frozen=True)
class Backend:
    target: str  # "module:Class"
    weights: str  # the weights file the folder keeps beside config.json (hashed into the classifier's sha256)

    def load_class(self) -> type[Classifier]:
        module, _, name = self.target.partition(":")
        return getattr(import_module(module), name)


BACKENDS: dict[str, Backend] = {
    "embedding": Backend("filterkit.classify.embedding:EmbeddingClassifier", HEAD_FILE),
    "fasttext": Backend("filterkit.classify.fasttext:FastTextClassifier", "model.ftz"),
}


def read_classifier_info(folder: str | Path) -> ClassifierInfo:
    """Validate a classifier folder without loading any model (cheap; used before a run starts)."""
    from filterkit.io import file_sha256, stable_hash

    folder = Path(folder)
    cfg_path = folder / CONFIG_FILE
    if not cfg_path.is_file():
        raise FilterkitError(
            f"{folder}: classifier not found (no {CONFIG_FILE}); set classifier.path in the pipeline YAML "
            "to a folder made by `filterkit train`"
        )
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise FilterkitError(f"{cfg_path}: not valid JSON ({e.msg} at line {e.lineno}); re-train or fix it") from None
    backend = config.get("backend", "embedding") if isinstance(config, dict) else None
    if backend not in BACKENDS:
        raise FilterkitError(f"{cfg_path}: unknown classifier backend {backend!r}; use one of {sorted(BACKENDS)}")
    try:
        typed = FolderConfig.model_validate(config)
    except ValidationError as e:
        line = format_validation_error(cfg_path, "classifier config", e, FolderConfig)
        raise FilterkitError(f"{line}; re-run `filterkit train` or fix the file") from None
    weights = folder / BACKENDS[backend].weights
    if not weights.is_file():
        raise FilterkitError(f"{folder}: classifier has no {weights.name}; re-run `filterkit train` to create it")
    digest = stable_hash({"config": config, "weights": file_sha256(weights)})
    return ClassifierInfo(folder, config, digest, typed)


def load_classifier(folder: str | Path, spec: ScoringSpec | None = None) -> Classifier:
    """Load a classifier folder with the backend its ``config.json`` names, under one scoring spec.

    Every backend returns an object with ``info``, ``submit``/``collect`` and ``score(texts) -> list[DocScore]``,
    so the pipeline stage, tuning and benchmarks do not care which one they hold.
    """
    info = read_classifier_info(folder)
    return BACKENDS[info.backend].load_class().load(folder, spec or ScoringSpec())
