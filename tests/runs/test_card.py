"""A run folder is a dataset: its README.md card lets datasets.load_dataset read kept (default), audit, scores."""

from __future__ import annotations

from datasets import load_dataset

from filterkit import run
from tests.conftest import GENERAL, PROXY, write_pipeline, write_shard


def test_run_folder_loads_with_datasets(tmp_path):
    shards = tmp_path / "in"  # one schema across shards, as datasets needs for one config
    write_shard(shards / "a.parquet", PROXY[:2] + GENERAL[:3])
    write_shard(shards / "b.parquet", PROXY[2:] + GENERAL[3:])
    pipe = write_pipeline(
        tmp_path / "p.yaml", blocklist={"min_unique_hits": 1, "mode": "remove"}, classifier={"enabled": False}
    )
    res = run(shards, pipe, tmp_path / "out")
    card = (tmp_path / "out" / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "text_sha256" in card
    kept = load_dataset(str(tmp_path / "out"), split="train")
    audit = load_dataset(str(tmp_path / "out"), "audit", split="train")
    assert len(kept) == res.counts["kept"] and len(audit) == res.counts["removed"] > 0
    assert set(audit.column_names) >= {"reason", "stage", "text", "doc_id"}
