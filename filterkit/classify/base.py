"""What every classifier backend shares: the folder format (``config.json`` + weights, never pickle) and
the per-document result.

A classifier folder holds ``config.json`` (backend, head shape, encoder, max tokens, threshold, labels,
training summary) and the backend's weights file. A file a user downloads must not be able to run code when
loaded, so weights are safetensors (or fastText's own binary format), never pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from filterkit.errors import FilterkitError

HEAD_FILE = "head.safetensors"
CONFIG_FILE = "config.json"
# the weights file each backend keeps beside config.json
BACKEND_FILES = {"embedding": HEAD_FILE, "fasttext": "model.ftz"}


@dataclass
class ClassifierInfo:
    """The parsed ``config.json`` of a classifier folder plus a hash of the folder's decisive files."""

    path: Path
    config: dict[str, Any]
    sha256: str

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.path.name))

    @property
    def threshold(self) -> float:
        return float(self.config.get("threshold", 0.5))

    @property
    def backend(self) -> str:
        return str(self.config.get("backend", "embedding"))


def read_classifier_info(folder: str | Path) -> ClassifierInfo:
    """Validate a classifier folder without loading any model (cheap; used before a run starts)."""
    from filterkit.io import stable_hash, file_sha256

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
    backend = config.get("backend", "embedding")
    if backend not in BACKEND_FILES:
        raise FilterkitError(
            f"{cfg_path}: unknown classifier backend {backend!r}; use one of {sorted(BACKEND_FILES)}"
        )
    weights = folder / BACKEND_FILES[backend]
    if not weights.is_file():
        raise FilterkitError(f"{folder}: classifier has no {weights.name}; re-run `filterkit train` to create it")
    for key in ("head", "dim") if backend == "embedding" else ():
        if key not in config:
            raise FilterkitError(f"{cfg_path}: missing key {key!r}; re-run `filterkit train`")
    digest = stable_hash({"config": config, "weights": file_sha256(weights)})
    return ClassifierInfo(folder, config, digest)


def warn_runtime_mismatch(info: "ClassifierInfo", runtime: str, precision: str) -> None:
    """Log a warning when a head's threshold was tuned on another runtime / precision (``tuned_runtime`` in its
    config.json, e.g. ``"torch/fp32"``): int8 moves scores, so the tuned threshold may not carry over."""
    tuned = info.config.get("tuned_runtime")
    # fp32 on torch and on ONNX Runtime give the same scores (max drift 1e-6 on real/dev): only precision matters
    if tuned and str(tuned).split("/")[-1] != precision:
        import logging

        logging.getLogger("filterkit").warning(
            "%s: threshold was tuned on %s but the classifier runs on %s/%s; re-tune with "
            "`filterkit tune --pipeline` or set classifier.runtime/precision to match",
            info.path, tuned, runtime, precision,
        )


@dataclass(frozen=True)
class DocScore:
    """A document's classifier result: the max window probability, or an error that prevented scoring."""

    score: float | None
    windows: int
    error: str | None = None
