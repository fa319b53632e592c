"""The numeric path a classifier scores on (device/runtime/precision), planned and actually used.

``device: auto`` means CUDA on one machine and CPU on another, and CPU means ONNX Runtime by default: the same
YAML can score the same text through different arithmetic (torch fp32 on CUDA, ONNX Runtime fp32 or int8 on
CPU). A run folder must not mix shards scored two ways, so the path a local run resolves to is part of its
config hash (a CPU run resumed on a CUDA machine is another run), and the path each worker actually used is
recorded in its shard's done marker and checked against the planned one before the shard is committed.
"""

from __future__ import annotations

from typing import Any


def planned_scoring_path(cfg: Any) -> str | None:
    """``device/runtime/precision`` this machine resolves a pipeline's classifier to; None without an
    embedding classifier (fastText has one path) or where the workers run elsewhere (Slurm, Ray: their
    machines decide ``auto``, and each done marker records what they used)."""
    c = cfg.classifier
    if not c.enabled or cfg.executor.kind != "local":
        return None
    from filterkit.classify.registry import read_classifier_info

    if read_classifier_info(c.path).backend != "embedding":
        return None
    from filterkit.classify.encoder import resolve_runtime

    return "/".join(resolve_runtime(c.device, c.runtime, c.precision, c.cpu_int8))


def model_scoring_path(model: Any) -> str | None:
    """The path a loaded classifier scores on (None for a backend without an encoder)."""
    enc = getattr(model, "encoder", None)
    if enc is None:
        return None
    return f"{enc.device}/{enc.runtime}/{enc.precision}"
