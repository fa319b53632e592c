"""The ONNX Runtime forward pass: same windows and batches as torch, embeddings within a stated tolerance.

Tolerances (docs/results.md, "CPU runtimes"): fp32 — max abs difference of any embedding component < 1e-4 and cosine
> 0.9999 to torch fp32; int8 (per-channel dynamic quantisation) — cosine > 0.95 to torch fp32 (measured 0.985-0.995 on these
sentences, 0.966 on a one-word text), scores within 0.1 and the same decisions on the tiny examples.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from filterkit.errors import FilterkitError
from tests.conftest import GENERAL, HEAD, PROXY

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime onnx)")

TEXTS = PROXY + GENERAL + ["short", "", " ".join(GENERAL * 6)]  # varied lengths: padding inside batches


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One export per test session, into a private cache (never the user's ~/.cache)."""
    from filterkit.classify import embedding as heads

    mp = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("fk-cache")
    mp.setenv("FILTERKIT_CACHE", str(folder))
    # encoders built by earlier tests (process-wide cache) were exported into another cache folder
    mp.setattr(heads, "_ENCODERS", {})
    yield folder
    mp.undo()


@pytest.fixture(scope="module")
def encoders(cache):
    from filterkit.classify.embedding import shared_encoder

    return {
        p: shared_encoder(None, "cpu", 256, 2048, runtime=r, precision=p2)
        for p, (r, p2) in {"torch": ("torch", "fp32"), "fp32": ("onnx", "fp32"), "int8": ("onnx", "int8")}.items()
    }


def test_runtime_resolution_and_errors():
    from filterkit.classify.scoring_path import CPU_DEFAULT, resolve_runtime

    assert resolve_runtime("cpu", "torch", "fp32") == ("cpu", "torch", "fp32")
    assert resolve_runtime("auto", "onnx", "int8") == ("cpu", "onnx", "int8")  # ONNX Runtime runs on CPU
    assert resolve_runtime("cpu", "auto", "fp32") == ("cpu", *CPU_DEFAULT) == ("cpu", "onnx", "fp32")
    assert resolve_runtime("cpu", "auto", "fp32", cpu_int8=True) == ("cpu", "onnx", "int8")  # deprecated alias
    with pytest.raises(FilterkitError, match="precision: int8 needs ONNX Runtime"):
        resolve_runtime("cpu", "torch", "int8")
    with pytest.raises(FilterkitError, match="cpu_int8"):
        resolve_runtime("cpu", "torch", "fp32", cpu_int8=True)


def test_config_keys_validate():
    from filterkit.config import config_from_dict

    c = config_from_dict({"classifier": {"runtime": "onnx", "precision": "int8"}}).classifier
    assert (c.runtime, c.precision) == ("onnx", "int8")
    with pytest.raises(FilterkitError, match=r"classifier\.runtime"):
        config_from_dict({"classifier": {"runtime": "tensorrt"}})


@pytest.mark.slow
def test_export_is_cached_on_disk(encoders, cache):
    files = sorted(p.name for p in cache.rglob("*.onnx"))
    assert files == ["encoder-fp32.onnx", "encoder-int8.onnx"]
    assert encoders["fp32"]._onnx.file.parent.parent.parent == cache


@pytest.mark.slow
def test_onnx_fp32_matches_torch(encoders):
    windows = encoders["torch"].chunk(TEXTS).windows
    assert len(windows) > len(TEXTS)  # the long text spans several windows
    ref = encoders["torch"].embed_windows(windows)
    got = encoders["fp32"].embed_windows(windows)
    assert np.abs(got - ref).max() < 1e-4
    assert (got * ref).sum(1).min() > 0.9999


@pytest.mark.slow
def test_onnx_int8_within_stated_drift(encoders):
    windows = encoders["torch"].chunk(TEXTS).windows
    ref = encoders["torch"].embed_windows(windows)
    got = encoders["int8"].embed_windows(windows)
    assert encoders["int8"].int8 and np.isfinite(got).all()
    assert (got * ref).sum(1).min() > 0.95  # one-word texts drift most (0.966 for "short")


@pytest.mark.slow
def test_scores_and_decisions_per_runtime(encoders, caplog):
    from filterkit.classify.embedding import EmbeddingClassifier
    from filterkit.config import ScoringSpec

    scores = {}
    for runtime, precision in (("torch", "fp32"), ("onnx", "fp32"), ("onnx", "int8")):
        clf = EmbeddingClassifier.load(HEAD, ScoringSpec(device="cpu", runtime=runtime, precision=precision))
        scores[runtime, precision] = np.array([s.score for s in clf.score(PROXY + GENERAL)])
    thr = clf.info.threshold
    ref = scores["torch", "fp32"]
    assert np.abs(scores["onnx", "fp32"] - ref).max() < 1e-4
    assert np.abs(scores["onnx", "int8"] - ref).max() < 0.1
    for s in scores.values():
        assert (s[: len(PROXY)] >= thr).all() and (s[len(PROXY) :] < thr).all()


@pytest.mark.slow
def test_tuned_runtime_mismatch_warns(encoders, caplog):
    from filterkit.classify.base import warn_runtime_mismatch
    from filterkit.classify.registry import read_classifier_info

    info = read_classifier_info(HEAD)
    info.config = {**info.config, "tuned_runtime": "torch/fp32"}
    with caplog.at_level(logging.WARNING, logger="filterkit"):
        warn_runtime_mismatch(info, "torch", "fp32")
        assert not caplog.records
        warn_runtime_mismatch(info, "onnx", "int8")
    assert "tuned on torch/fp32" in caplog.text and "onnx/int8" in caplog.text
