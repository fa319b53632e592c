"""Encoder folders load safetensors weights only: a pickle (``pytorch_model.bin``, ``.pt``) is refused up front.

Unpickling runs code, so filterkit never loads pickled weights (torch's ``weights_only`` guard blocked one
10 s into a run, as an ``UnpicklingError`` traceback). A user's ``classifier.encoder_path`` is checked when the
run is planned, before any worker starts: a top-level ``model.safetensors`` must be there, and no folder of
the model (sentence-transformers keeps modules such as ``2_Dense/`` in sub-folders) may hold pickled weights
without a safetensors file beside them, which is what the loaders would fall back to.
"""

from __future__ import annotations

from pathlib import Path

from filterkit.errors import FilterkitError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def require_safetensors(folder: str | Path) -> Path:
    """``folder/model.safetensors``, after checking no pickle weights would be loaded instead or beside it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FilterkitError(
            f"{folder}: classifier.encoder_path is not a folder; point it at a local sentence-transformers model folder"
        )
    weights = folder / "model.safetensors"
    pickles = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in PICKLE_SUFFIXES and p.is_file() and not any(p.parent.glob("*.safetensors"))
    )
    if pickles or not weights.is_file():
        found = f" it holds pickled weights ({pickles[0].relative_to(folder)})," if pickles else ""
        raise FilterkitError(
            f"{folder}: the encoder needs safetensors weights (model.safetensors);{found} and pickles are never "
            "loaded (unpickling runs code) — convert them with safetensors, or use the packaged encoder"
        )
    return weights
