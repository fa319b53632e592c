"""The numeric path a classifier scores on (device/runtime/precision), planned and actually used.

``device: auto`` means CUDA on one machine and CPU on another, and CPU means ONNX Runtime by default: the same
YAML can score the same text through different arithmetic (torch fp32 on CUDA, ONNX Runtime fp32 or int8 on
CPU). A run folder must not mix shards scored two ways, so the path a local run resolves to is part of its
config hash (a CPU run resumed on a CUDA machine is another run), and the path each worker actually used is
recorded in its shard's done marker and checked against the planned one before the shard is committed.
"""

from __future__ import annotations

from typing import Any

from filterkit.device import resolve_device
from filterkit.errors import FilterkitError

RUNTIMES = ("auto", "torch", "onnx")
# the CPU default (runtime: auto on CPU), chosen by measurement on real/dev (docs/results.md, "CPU runtimes"): ONNX Runtime
# fp32 gives torch's scores (max difference ~1e-6, same PR-AUC and cascade recall) at ~3x the docs/s on 2 cores.
# int8 is faster still but moves scores by up to 0.19 and breaks the shipped operating point (AG News removal).
CPU_DEFAULT = ("onnx", "fp32")


def resolve_runtime(
    device: str, runtime: str = "auto", precision: str = "fp32", cpu_int8: bool = False
) -> tuple[str, str, str]:
    """The (device, runtime, precision) an encoder runs with.

    ``auto`` is torch on CUDA and :data:`CPU_DEFAULT` on CPU. ONNX Runtime runs on CPU only: ``runtime: onnx``
    with ``device: auto`` runs on CPU, with ``device: cuda`` is an error. int8 exists only as ONNX Runtime's
    dynamic quantisation; the deprecated ``cpu_int8: true`` is read as ``runtime: onnx, precision: int8`` on CPU
    (and ignored on CUDA, as before).
    """
    if runtime not in RUNTIMES:
        raise FilterkitError(f"unknown classifier.runtime {runtime!r}; use auto, torch or onnx")
    if precision not in ("fp32", "int8"):
        raise FilterkitError(f"unknown classifier.precision {precision!r}; use fp32 or int8")
    if runtime == "onnx" and device == "auto":
        device = "cpu"
    device = resolve_device(device)
    if cpu_int8 and device == "cpu":
        import logging

        logging.getLogger("filterkit").warning(
            "classifier.cpu_int8 is deprecated (torch.ao quantisation); it now means runtime: onnx, precision: int8"
        )
        if runtime == "torch":
            raise FilterkitError(
                "classifier.cpu_int8: true runs on ONNX Runtime but classifier.runtime is torch; "
                "drop cpu_int8 and set runtime: onnx, precision: int8"
            )
        runtime, precision = "onnx", "int8"
    if runtime == "auto":
        runtime, default_precision = CPU_DEFAULT if device == "cpu" else ("torch", "fp32")
        if precision == "fp32" and device == "cpu":
            precision = default_precision
    if runtime == "onnx" and device != "cpu":
        raise FilterkitError("classifier.runtime: onnx runs on CPU only; set classifier.device: cpu or runtime: torch")
    if runtime == "torch" and precision == "int8":
        raise FilterkitError(
            "classifier.precision: int8 needs ONNX Runtime (torch.ao int8 is deprecated); set classifier.runtime: onnx"
        )
    return device, runtime, precision


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
    return "/".join(resolve_runtime(c.device, c.runtime, c.precision, c.cpu_int8))


def model_scoring_path(model: Any) -> str | None:
    """The path a loaded classifier scores on (None for a backend without an encoder)."""
    enc = getattr(model, "encoder", None)
    if enc is None:
        return None
    return f"{enc.device}/{enc.runtime}/{enc.precision}"
