"""The stages are ordinary datatrove steps: they work in a user's own datatrove pipeline."""

from __future__ import annotations

import json

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import ParquetReader
from datatrove.pipeline.writers import JsonlWriter

from filterkit import BlocklistStage, ClassifierStage
from tests.conftest import BLOCKLIST, GENERAL, HEAD, PROXY, write_shard


def test_stages_in_a_plain_datatrove_pipeline(tmp_path):
    write_shard(tmp_path / "in" / "x.parquet", GENERAL + PROXY, ids=[f"d{i}" for i in range(10)])
    excluded = JsonlWriter(str(tmp_path / "removed"), compression=None)
    pipeline = [
        ParquetReader(str(tmp_path / "in")),
        BlocklistStage(BLOCKLIST, min_unique_hits=2),
        ClassifierStage(HEAD, device="cpu", exclusion_writer=excluded),
        JsonlWriter(str(tmp_path / "kept"), compression=None),
    ]
    LocalPipelineExecutor(pipeline, tasks=1, workers=1, logging_dir=str(tmp_path / "logs")).run()
    kept = [json.loads(line) for f in (tmp_path / "kept").glob("*.jsonl") for line in f.read_text().splitlines()]
    removed = [json.loads(line) for f in (tmp_path / "removed").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert sorted(d["text"] for d in kept) == sorted(GENERAL)
    assert sorted(d["text"] for d in removed) == sorted(PROXY)
    meta = removed[0]["metadata"]
    assert meta["filterkit_stage"] == "classifier" and meta["classifier_score"] >= 0.0 and meta["escalated"]
    assert meta["blocklist_unique"] >= 2 and len(meta["blocklist_terms"]) == meta["blocklist_unique"]
