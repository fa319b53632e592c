"""What every classifier backend shares: the folder format (``config.json`` + weights, never pickle) and
the per-document result.

A classifier folder holds ``config.json`` (backend, head shape, encoder, max tokens, threshold, labels,
training summary) and the backend's weights file. A file a user downloads must not be able to run code when
loaded, so weights are safetensors (or fastText's own binary format), never pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

# what a backend is loaded with: the scoring part of the pipeline's ``classifier:`` section, declared there once
from filterkit.config import ScoringSpec

HEAD_FILE = "head.safetensors"
CONFIG_FILE = "config.json"


class FolderConfig(BaseModel):
    """A classifier folder's ``config.json``: the keys filterkit reads, typed; training facts ride along as extras.

    Validated when the folder is opened (before a run starts), so a hand-edited ``threshold: "0.6"`` or a
    missing ``dim`` is one error line naming the file, not a ``KeyError`` in a worker.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    backend: str = Field("embedding", description="the registry name of the backend that reads this folder")
    name: str | None = Field(None, description="shown in audit rows and manifests; default: the folder name")
    threshold: float = Field(0.5, ge=0.0, le=1.0, description="the tuned decision threshold")
    head: Literal["logistic", "mlp"] | None = Field(None, description="embedding backend: the head's shape")
    dim: int | None = Field(None, ge=1, description="embedding backend: the encoder's embedding size")
    hidden: int = Field(0, ge=0, description="embedding backend: hidden units of an mlp head")
    max_tokens: int = Field(256, ge=8, le=512, description="embedding backend: tokens per window")
    window_words: int | None = Field(None, ge=1, description="fasttext backend: words per window")
    tokenizer: str | None = Field(None, description="fasttext backend: the word tokenizer it was trained with")
    tuned_runtime: str | None = Field(None, description="runtime/precision the threshold was tuned on, e.g. torch/fp32")
    doc_rule: Literal["max", "top2", "mean"] = Field(
        "max",
        description="embedding backend: how a document's score is made from its windows' (classify/docrule.py); "
        "part of the folder because the head and its threshold were chosen for it",
    )
    window_decides: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="embedding backend, with doc_rule top2/mean: a document with a window at or "
        "above this scores that window, so averaging cannot hide one unmistakable passage in a long page",
    )

    @model_validator(mode="after")
    def _embedding_keys(self) -> FolderConfig:
        if self.backend == "embedding" and (self.head is None or self.dim is None):
            raise ValueError("an embedding classifier needs 'head' and 'dim'")
        if self.window_decides is not None and self.window_decides < self.threshold:
            raise ValueError("window_decides must be at or above threshold (a window that decides must remove)")
        return self


@dataclass
class ClassifierInfo:
    """A classifier folder opened without loading a model: its typed config and a hash of its decisive files."""

    path: Path
    config: dict[str, Any]
    sha256: str
    folder: FolderConfig = None  # type: ignore[assignment]  # None only until __post_init__ parses `config`

    def __post_init__(self) -> None:
        if self.folder is None:
            self.folder = FolderConfig.model_validate(self.config)

    @property
    def name(self) -> str:
        return self.folder.name or self.path.name

    @property
    def threshold(self) -> float:
        return self.folder.threshold

    @property
    def backend(self) -> str:
        return self.folder.backend


@dataclass(frozen=True)
class DocScore:
    """A document's classifier result: its windows' probabilities pooled by the folder's ``doc_rule`` (the max by
    default), or an error that prevented scoring."""

    score: float | None
    windows: int
    error: str | None = None
    window_scores: tuple[float, ...] | None = None  # per window, in text order (ScoringSpec.export_spans)


class Classifier(Protocol):
    """What a backend gives the stage, tuning and the benchmarks; register it in :mod:`filterkit.classify.registry`.

    ``submit`` starts scoring (tokenise, queue device work) and ``collect`` finishes it, so the stage can read
    batch N+1 while batch N runs; a backend with nothing to overlap scores in ``submit``. A window-level error
    affects only its own document (``DocScore.error``).
    """

    info: ClassifierInfo

    @classmethod
    def load(cls, folder: str | Path, spec: ScoringSpec) -> Classifier: ...

    def submit(self, texts: Sequence[str]) -> Any: ...

    def collect(self, pending: Any) -> list[DocScore]: ...

    def score(self, texts: Sequence[str]) -> list[DocScore]: ...


def warn_runtime_mismatch(info: ClassifierInfo, runtime: str, precision: str) -> None:
    """Log a warning when a head's threshold was tuned on another runtime / precision (``tuned_runtime`` in its
    config.json, e.g. ``"torch/fp32"``): int8 moves scores, so the tuned threshold may not carry over."""
    tuned = info.folder.tuned_runtime
    # fp32 on torch and on ONNX Runtime give the same scores (max drift 1e-6 on real/dev): only precision matters
    if tuned and str(tuned).split("/")[-1] != precision:
        import logging

        logging.getLogger("filterkit").warning(
            "%s: threshold was tuned on %s but the classifier runs on %s/%s; re-tune with "
            "`filterkit tune --pipeline` or set classifier.runtime/precision to match",
            info.path,
            tuned,
            runtime,
            precision,
        )
