"""Where torch work runs: one meaning of ``device: auto | cpu | cuda`` for the classifier and the experiment."""

from __future__ import annotations

from filterkit.errors import FilterkitError


def resolve_device(device: str) -> str:
    """``auto`` means CUDA when torch sees a GPU, else CPU; asking for ``cuda`` without one is an error, not a
    silent CPU run (a 100x slower run should be a decision)."""
    import torch

    device = str(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise FilterkitError(f"device is {device!r} but torch sees no GPU; set device: auto or cpu")
    return device
