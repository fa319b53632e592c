"""Scale-out changes where work runs, never what is kept: tasks 4 on 2 worker processes keep exactly the rows and
files one in-process task keeps."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filterkit import run
from tests.conftest import write_pipeline

PROXY = "The virus infects host cells and the pathogen replicates; bacterial toxin and viral load rise."
GENERAL = "The council approved the new budget for road repairs and the library opening hours."


def _kept(out) -> list[tuple[str, str, str]]:
    rows = []
    for f in sorted((out / "kept").glob("*.parquet")):
        t = pq.read_table(f, columns=["id", "text"])
        rows += [
            (f.name, i, hashlib.sha256(x.encode()).hexdigest())
            for i, x in zip(t.column(0).to_pylist(), t.column(1).to_pylist())
        ]
    return rows


@pytest.mark.slow  # a multiprocess executor
def test_four_tasks_on_two_workers_keep_what_one_worker_keeps(tmp_path):
    shards = tmp_path / "in"
    shards.mkdir()
    for s in range(5):  # more shards than tasks: a task takes several, in the order one worker would
        texts = [PROXY if (s + i) % 3 == 0 else f"{GENERAL} ({s}.{i})" for i in range(7)]
        pq.write_table(pa.table({"id": [f"s{s}-{i}" for i in range(7)], "text": texts}), shards / f"s{s}.parquet")
    common = {"classifier": {"enabled": False}, "blocklist": {"mode": "remove"}}
    one = run(
        shards, write_pipeline(tmp_path / "one.yaml", **common, executor={"tasks": 1, "workers": 1}), tmp_path / "one"
    )
    four = run(
        shards, write_pipeline(tmp_path / "four.yaml", **common, executor={"tasks": 4, "workers": 2}), tmp_path / "four"
    )
    assert one.counts["removed"] == four.counts["removed"] > 0
    assert _kept(tmp_path / "four") == _kept(tmp_path / "one") and len(_kept(tmp_path / "one")) == one.counts["kept"]
    sha = lambda res: {s["shard"]: s["outputs"]["kept"]["sha256"] for s in res.manifest["shards"]}  # noqa: E731
    assert sha(four) == sha(one)
