"""Backend name -> class, and :func:`load_classifier`, the one place a classifier folder becomes a scorer.

A new backend is one module in ``filterkit/classify/`` and one line in :data:`BACKENDS`.
"""

from __future__ import annotations

from pathlib import Path


from filterkit.classify.base import read_classifier_info
from filterkit.classify.embedding import EmbeddingClassifier



def load_classifier(
    folder: str | Path,
    device: str = "auto",
    max_tokens: int | None = None,
    batch_tokens: int | None = None,
    encoder_path: str | Path | None = None,
    truncate: bool = False,
    cpu_int8: bool = False,
    runtime: str = "auto",
    precision: str = "fp32",
):
    """Load a classifier folder with the backend its ``config.json`` names.

    Every backend returns an object with ``info`` and ``score(texts) -> list[DocScore]``, so the
    pipeline stage, tuning and benchmarks do not care which one they hold.
    """
    info = read_classifier_info(folder)
    if info.backend == "fasttext":
        from filterkit.classify.fasttext import FastTextClassifier

        return FastTextClassifier.load(folder)
    return EmbeddingClassifier.load(
        folder,
        device=device,
        max_tokens=max_tokens,
        batch_tokens=batch_tokens,
        encoder_path=encoder_path,
        truncate=truncate,
        cpu_int8=cpu_int8,
        runtime=runtime,
        precision=precision,
    )
