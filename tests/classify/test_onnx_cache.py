"""Issue 20, item 6: the ONNX export cache is verified at every load (sha256 stored beside each graph), and
the device/runtime/precision a run scores on is part of its config hash and of each shard's done marker.

A tiny stand-in graph replaces the real export (which takes ~40 s), so these tests stay fast: it has the
encoder's inputs and output and returns a constant embedding (ones, normalised); the "tampered" graph
returns zeros — the edit the hostile battery made.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime onnx)")
onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install onnx)")


def _graph(value: float) -> bytes:
    from onnx import TensorProto, helper

    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["rows", "tokens"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["rows", "tokens"])
    out = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["rows", 384])
    const = helper.make_tensor("c", TensorProto.FLOAT, [1, 384], [value] * 384)
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMax", ["m", "axes"], ["one"], keepdims=1),  # 1 per row: gives the row count
        helper.make_node("Mul", ["one", "c"], ["embedding"]),
    ]
    g = helper.make_graph(nodes, "stand-in", [ids, mask], [out], initializer=[const, axes])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    return model.SerializeToString()


@pytest.fixture
def fake_export(tmp_path, monkeypatch):
    from filterkit.classify import onnx as O

    monkeypatch.setenv("FILTERKIT_CACHE", str(tmp_path / "cache"))
    calls = []

    def export(model_path, out):
        calls.append(out)
        Path(out).write_bytes(_graph(1 / np.sqrt(384)))

    monkeypatch.setattr(O, "_export_fp32", export)
    return calls


def _embed(tmp_path) -> np.ndarray:
    from filterkit.classify.onnx import OnnxForward

    fwd = OnnxForward(tmp_path, "0" * 64, "fp32", threads=1)
    return fwd(np.full((2, 4), 101, dtype=np.int64), np.ones((2, 4), dtype=np.int64))


def test_an_edited_cached_graph_is_not_used(tmp_path, fake_export, caplog):
    first = _embed(tmp_path)
    assert len(fake_export) == 1 and np.allclose(np.linalg.norm(first, axis=1), 1.0)
    cached = next((tmp_path / "cache").rglob("encoder-fp32.onnx"))
    assert (cached.parent / "encoder-fp32.onnx.sha256").is_file()
    cached.write_bytes(_graph(0.0))  # the graph edited to output zeros, its digest left alone
    with caplog.at_level(logging.WARNING, logger="filterkit"):
        again = _embed(tmp_path)
    assert np.array_equal(again, first), "the edited graph was used"
    assert len(fake_export) == 2 and "differs from the sha256" in caplog.text and str(cached) in caplog.text
    assert _embed(tmp_path) is not None and len(fake_export) == 2  # verified now: no third export


def test_a_graph_without_its_digest_is_exported_again(tmp_path, fake_export, caplog):
    _embed(tmp_path)
    cached = next((tmp_path / "cache").rglob("encoder-fp32.onnx"))
    (cached.parent / "encoder-fp32.onnx.sha256").unlink()  # left by an older filterkit, or a torn write
    cached.write_bytes(_graph(0.0))
    with caplog.at_level(logging.WARNING, logger="filterkit"):
        out = _embed(tmp_path)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0)
    assert len(fake_export) == 2 and "has no sha256 stored beside it" in caplog.text


def test_cache_folders_are_created_owner_only(tmp_path, fake_export):
    _embed(tmp_path)
    cached = next((tmp_path / "cache").rglob("encoder-fp32.onnx"))
    assert cached.parent.stat().st_mode & 0o077 == 0 and (tmp_path / "cache").stat().st_mode & 0o077 == 0


def test_the_resolved_scoring_path_is_in_the_config_hash(tmp_path, monkeypatch):
    """The same YAML on a CPU and on a CUDA machine are two runs: a folder cannot mix their shards."""
    from filterkit.runs import runner
    from tests.conftest import write_pipeline, write_shard

    write_shard(tmp_path / "in" / "s.parquet", ["a text"])
    pipe = write_pipeline(tmp_path / "p.yaml", classifier={"device": "auto"})
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    cpu = runner.prepare(tmp_path / "in", pipe, tmp_path / "out")
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    cuda = runner.prepare(tmp_path / "in", pipe, tmp_path / "out")
    assert (cpu.info.scoring, cuda.info.scoring) == ("cpu/onnx/fp32", "cuda/torch/fp32")
    assert cpu.info.config_sha256 != cuda.info.config_sha256 and cpu.info.run_id != cuda.info.run_id


@pytest.mark.slow  # a real ONNX export in a worker: ~7 s on 2 cores
def test_a_worker_scoring_on_another_path_commits_nothing(tmp_path, monkeypatch):
    from filterkit import run
    from filterkit.errors import FilterkitError
    from filterkit.stages.classifier import ClassifierStage
    from filterkit.store.layout import RunLayout
    from tests.conftest import PROXY, write_pipeline, write_shard

    write_shard(tmp_path / "in" / "s.parquet", PROXY[:2])
    pipe = write_pipeline(tmp_path / "p.yaml", classifier={"device": "cpu", "runtime": "torch"})
    monkeypatch.setattr(ClassifierStage, "scoring_path", property(lambda self: "cuda/torch/fp32"))
    with pytest.raises(FilterkitError, match="scored on cuda/torch/fp32, but the run was planned for cpu/torch/fp32"):
        run(tmp_path / "in", pipe, tmp_path / "out")
    assert not RunLayout(tmp_path / "out").is_done("s.parquet")
