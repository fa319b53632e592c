"""ONNX Runtime forward pass for the encoder: exported from the installed model at first use, cached on disk.

Why: on CPU the torch forward pass is the whole cost of the classifier stage, and torch's own int8 path
(``torch.ao.quantization.quantize_dynamic``) is deprecated. ONNX Runtime runs the same graph faster, and its
own dynamic quantisation (per-channel int8 weights) moves embeddings far less than torch.ao did
(docs/results.md, "CPU runtimes").

Contract: :class:`OnnxForward` takes the padded ``input_ids`` / ``attention_mask`` batch the encoder builds and
returns the pooled, L2-normalised embeddings — mean pooling and normalisation are part of the exported graph,
the same arithmetic as ``Encoder._forward``. Everything else (tokenising, windows, length-sorted token-budget
batches) stays in :mod:`filterkit.classify.encoder`.

Nothing is downloaded: the graph is traced from the model folder already on disk (``torch.onnx.export``,
TorchScript exporter, eager attention so the graph has no SDPA shape branches) into
``$FILTERKIT_CACHE/onnx/<key>/`` (default ``~/.cache/filterkit``), where ``<key>`` hashes the weights' sha256,
the export recipe and the exporting torch / onnxruntime versions. Files are written to a temp name and renamed,
so workers that export at once each end with a complete file; each graph's sha256 is stored beside it and checked
at every load, and the bytes checked are the bytes loaded (:mod:`filterkit.classify.onnx_cache`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.errors import FilterkitError

# bump when the exported graph or the quantisation recipe changes: old cache entries are then ignored
EXPORT_RECIPE = "minilm-pooled-v1;opset17;eager-attn;int8=dynamic-qint8-per-channel"
PRECISIONS = ("fp32", "int8")


def cache_root() -> Path:
    """``$FILTERKIT_CACHE`` or ``$XDG_CACHE_HOME/filterkit`` or ``~/.cache/filterkit``."""
    env = os.environ.get("FILTERKIT_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "filterkit"


def require_onnxruntime():
    """onnxruntime, imported with its telemetry uploader off.

    onnxruntime 1.2x on Linux starts Microsoft's 1DS telemetry uploader with its environment and sends a
    ``ProcessInfo`` event (plus events persisted by earlier processes in ``~/.cache/Microsoft/``) to
    ``mobile.events.data.microsoft.com`` about 10 s later: runs shorter than that made no DNS query, longer ones
    did — the "6 of 12 runs". ``disable_telemetry_events()`` only mutes later events; the uploader stays live.
    ``ORT_DISABLE_TELEMETRY=1`` before the first import suppresses it for the process (measured under
    ``unshare -n``: tests/classify/test_no_telemetry.py). Set here, at load time, not when filterkit is imported.
    """
    import sys

    if "onnxruntime" not in sys.modules:
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # README: only a URL the user writes reaches the network
    else:
        import logging

        if os.environ.get("ORT_DISABLE_TELEMETRY") != "1":
            logging.getLogger("filterkit").warning(
                "onnxruntime was imported before filterkit could switch its telemetry uploader off; set "
                "ORT_DISABLE_TELEMETRY=1 in the environment (or import filterkit's classifier first)"
            )
    try:
        import onnxruntime
    except ImportError:
        raise FilterkitError(
            "classifier.runtime: onnx needs onnxruntime; run `pip install onnxruntime onnx` "
            "or set classifier.runtime: torch"
        ) from None
    return onnxruntime


def _cache_dir(model_path: Path, weights_sha256: str | None) -> Path:
    import torch

    from filterkit.io import stable_hash

    ort = require_onnxruntime()
    ident = weights_sha256 or str(model_path.resolve())
    key = stable_hash([ident, EXPORT_RECIPE, torch.__version__.split("+")[0], ort.__version__])[:16]
    return cache_root() / "onnx" / key


def _atomic_target(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _export_fp32(model_path: Path, out: Path) -> None:
    """Trace the model folder's transformer + mean pooling + L2 norm into ``out`` (fp32)."""
    import warnings

    import torch
    from transformers import AutoModel

    try:
        model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager", local_files_only=True).eval()
    except Exception as e:  # noqa: BLE001
        raise FilterkitError(
            f"{model_path}: cannot load the encoder for ONNX export ({type(e).__name__}); set classifier.runtime: torch"
        ) from None

    class Pooled(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            hidden = self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    # trace with a padded row, so the exported graph keeps the attention-mask path
    ids = torch.full((2, 16), 100, dtype=torch.int64)
    mask = torch.ones(2, 16, dtype=torch.int64)
    mask[1, 9:] = 0
    tmp = _atomic_target(out)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(model).eval(),
                (ids, mask),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "rows", 1: "tokens"},
                    "attention_mask": {0: "rows", 1: "tokens"},
                    "embedding": {0: "rows"},
                },
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, out)
    except FilterkitError:
        raise
    except Exception as e:  # noqa: BLE001
        tmp.unlink(missing_ok=True)
        raise FilterkitError(
            f"ONNX export of {model_path} failed ({type(e).__name__}: {str(e)[:120]}); "
            "install `onnx`, or set classifier.runtime: torch"
        ) from None


def _quantize_int8(src: Path, out: Path) -> None:
    """ONNX Runtime dynamic quantisation: int8 weights per output channel, activations quantised at run time.

    Per-channel matters: per-tensor int8 moved embeddings to cosine 0.88 of fp32 on real text, per-channel
    keeps them above 0.98 (docs/results.md, "CPU runtimes").
    """
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise FilterkitError(
            "classifier.precision: int8 needs onnxruntime's quantisation tools and `onnx`; "
            "run `pip install onnx`, or set classifier.precision: fp32"
        ) from None
    tmp = _atomic_target(out)
    try:
        quantize_dynamic(
            str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True, extra_options={"DefaultTensorType": 1}
        )  # 1 = FLOAT, for nodes shape inference skips
        os.replace(tmp, out)
    except Exception as e:  # noqa: BLE001
        tmp.unlink(missing_ok=True)
        raise FilterkitError(
            f"int8 quantisation of {src} failed ({type(e).__name__}); set classifier.precision: fp32"
        ) from None


def onnx_model_file(model_path: Path, weights_sha256: str | None, precision: str) -> Path:
    """The cached ONNX file for this model and precision, exported (and quantised) now if missing."""
    return onnx_model(model_path, weights_sha256, precision)[0]


def onnx_model(model_path: Path, weights_sha256: str | None, precision: str) -> tuple[Path, bytes]:
    """The cached ONNX file for this model and precision and its bytes, verified against the sha256 stored
    beside it (:mod:`filterkit.classify.onnx_cache`); exported (and quantised) now if missing or not verified."""
    from filterkit.classify.onnx_cache import make_private, verified_bytes

    if precision not in PRECISIONS:
        raise FilterkitError(f"unknown classifier.precision {precision!r}; use fp32 or int8")
    folder = _cache_dir(model_path, weights_sha256)
    try:
        make_private(folder)
    except OSError as e:
        raise FilterkitError(
            f"{folder}: cannot create the ONNX cache ({e.strerror}); set FILTERKIT_CACHE to a writable folder"
        ) from None
    fp32 = folder / "encoder-fp32.onnx"
    fp32_bytes = verified_bytes(fp32, lambda tmp: _export_fp32(model_path, tmp))
    if precision == "fp32":
        return fp32, fp32_bytes
    int8 = folder / "encoder-int8.onnx"

    def quantize(tmp: Path) -> None:  # from the verified bytes, not from a file that may have changed since
        src = tmp.with_name(tmp.name + ".fp32.onnx")
        try:
            src.write_bytes(fp32_bytes)
            _quantize_int8(src, tmp)
        finally:
            src.unlink(missing_ok=True)

    return int8, verified_bytes(int8, quantize)


class OnnxForward:
    """One ONNX Runtime session computing pooled, normalised embeddings of a padded batch."""

    def __init__(
        self, model_path: Path, weights_sha256: str | None, precision: str = "fp32", threads: int | None = None
    ) -> None:
        ort = require_onnxruntime()
        self.file, graph = onnx_model(model_path, weights_sha256, precision)
        self.precision = precision
        so = ort.SessionOptions()
        if threads is None:
            import torch

            threads = torch.get_num_threads()  # what the torch path would use (honours OMP_NUM_THREADS)
        so.intra_op_num_threads = max(1, int(threads))
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(graph, so, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - a truncated or stale cache file
            raise FilterkitError(
                f"{self.file}: cannot load the cached ONNX model ({type(e).__name__}); delete that folder and run again"
            ) from None

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out: Any = self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]
        return np.asarray(out, dtype=np.float32)
