"""The stages are ordinary datatrove steps: they work in a user's own datatrove pipeline."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import ParquetReader
from datatrove.pipeline.writers import JsonlWriter

from filterkit import BlocklistStage, ClassifierStage, contract
from filterkit.config import BlocklistConfig, ClassifierConfig
from tests.conftest import BLOCKLIST, GENERAL, HEAD, PROXY, write_shard


def test_stages_in_a_plain_datatrove_pipeline(tmp_path):
    write_shard(tmp_path / "in" / "x.parquet", GENERAL + PROXY, ids=[f"d{i}" for i in range(10)])
    excluded = JsonlWriter(str(tmp_path / "removed"), compression=None)
    pipeline = [
        ParquetReader(str(tmp_path / "in")),
        BlocklistStage(BlocklistConfig(path=BLOCKLIST, min_unique_hits=2)),
        ClassifierStage(ClassifierConfig(path=HEAD, device="cpu"), exclusion_writer=excluded),
        JsonlWriter(str(tmp_path / "kept"), compression=None),
    ]
    LocalPipelineExecutor(pipeline, tasks=1, workers=1, logging_dir=str(tmp_path / "logs")).run()
    kept = [json.loads(line) for f in (tmp_path / "kept").glob("*.jsonl") for line in f.read_text().splitlines()]
    removed = [json.loads(line) for f in (tmp_path / "removed").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert sorted(d["text"] for d in kept) == sorted(GENERAL)
    assert sorted(d["text"] for d in removed) == sorted(PROXY)
    meta = removed[0]["metadata"]
    assert meta["filterkit_stage"] == "classifier" and meta["filterkit_score"] >= 0.0 and meta["filterkit_escalated"]
    assert (
        meta["filterkit_unique_terms"] >= 2 and len(meta["filterkit_matched_terms"]) == meta["filterkit_unique_terms"]
    )
    # one prefix on every key filterkit writes: none collides with another step's in a user's pipeline
    assert all(k.startswith("filterkit_") for k in [*contract.METADATA_TYPES, contract.SHARD, contract.ROW])
    assert set(contract.METADATA_TYPES) <= set(meta)


class Recorder:
    """A test backend that records when the stage submits and collects (registered in the test below)."""

    events: ClassVar[list[tuple[str, int]]] = []

    def __init__(self, info) -> None:
        self.info, self.n = info, 0

    @classmethod
    def load(cls, folder, spec=None) -> Recorder:
        from filterkit.classify.registry import read_classifier_info

        return cls(read_classifier_info(folder))

    def submit(self, texts):
        self.n += 1
        self.events.append(("submit", self.n))
        return self.n, list(texts)

    def collect(self, pending):
        from filterkit.classify.base import DocScore

        k, texts = pending
        self.events.append(("collect", k))
        return [DocScore(0.9 if "hot" in t else 0.1, 1) for t in texts]


def test_classifier_stage_submits_the_next_batch_before_collecting_and_keeps_order(tmp_path, monkeypatch):
    """Batch N+1 is queued before N is collected (GPU overlap); never across a shard; output order unchanged."""
    from datatrove.data import Document

    from filterkit.classify import registry
    from filterkit.stages.classifier import ClassifierStage

    monkeypatch.setitem(registry.BACKENDS, "recorder", registry.Backend(f"{__name__}:Recorder", "w.bin"))
    (tmp_path / "config.json").write_text(json.dumps({"backend": "recorder"}))
    (tmp_path / "w.bin").write_bytes(b"")
    events = Recorder.events
    events.clear()
    stage = ClassifierStage(ClassifierConfig(path=tmp_path, threshold=0.5, batch_docs=2))
    docs = [
        Document(
            text=("hot " if i % 3 == 0 else "") + f"doc {i}",
            id=str(i),
            metadata={contract.SHARD: "a" if i < 5 else "b", contract.ROW: i},
        )
        for i in range(8)
    ]
    out = list(stage.process(iter(docs)))
    assert [d.id for d in out] == [str(i) for i in range(8)]
    assert [contract.is_removed(d) for d in out] == [i % 3 == 0 for i in range(8)]
    # shard a: batches 1 {0,1}, 2 {2,3}, 3 {4}; shard b: 4 {5,6}, 5 {7}
    assert events == [
        ("submit", 1),
        ("submit", 2),
        ("collect", 1),
        ("submit", 3),
        ("collect", 2),
        ("collect", 3),
        ("submit", 4),
        ("submit", 5),
        ("collect", 4),
        ("collect", 5),
    ]


@pytest.mark.parametrize("writer", ["parquet", "jsonl"])
def test_datatrove_writers_get_one_schema_and_datatrove_times_the_stages(tmp_path, writer):
    """Every document carries every filterkit key (typed nulls), so datatrove's ParquetWriter with
    ``document_schema()`` (or its JsonlWriter) writes kept and removed documents alike; stats.json times both
    stages."""
    import gzip

    import pyarrow.parquet as pq
    from datatrove.pipeline.writers import JsonlWriter, ParquetWriter

    from filterkit.contract import document_schema

    # general texts first: the first document the writers see is not escalated and has no terms
    write_shard(tmp_path / "in" / "x.parquet", GENERAL + PROXY, ids=[f"d{i}" for i in range(10)])
    schema = document_schema()
    make = (lambda d: ParquetWriter(d, schema=schema)) if writer == "parquet" else (lambda d: JsonlWriter(d))

    def rows(folder):
        if writer == "parquet":
            return [r for f in sorted(folder.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
        return [
            json.loads(line) for f in sorted(folder.glob("*.jsonl.gz")) for line in gzip.open(f, "rt", encoding="utf-8")
        ]

    pipeline = [
        ParquetReader(str(tmp_path / "in")),
        BlocklistStage(BlocklistConfig(path=BLOCKLIST, min_unique_hits=2)),
        ClassifierStage(
            ClassifierConfig(path=HEAD, device="cpu", batch_docs=2), exclusion_writer=make(str(tmp_path / "removed"))
        ),
        make(str(tmp_path / "kept")),
    ]
    LocalPipelineExecutor(pipeline, tasks=1, workers=1, logging_dir=str(tmp_path / "logs")).run()
    kept, removed = rows(tmp_path / "kept"), rows(tmp_path / "removed")
    assert sorted(r["text"] for r in kept) == sorted(GENERAL)
    assert sorted(r["text"] for r in removed) == sorted(PROXY)
    assert kept[0]["metadata"]["filterkit_score"] is None and kept[0]["metadata"]["filterkit_matched_terms"] == []
    assert all(r["metadata"]["filterkit_score"] >= 0 for r in removed)
    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    timed = {s["name"]: s.get("time_stats", {}).get("total", 0) for s in stats if "filterkit" in s["name"]}
    assert len(timed) == 2 and all(t > 0 for t in timed.values()), timed
