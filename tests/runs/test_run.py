"""End to end: `filterkit run` outputs, invariants, determinism, resume and the executors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.store.rows import AUDIT_SCHEMA, SCORES_SCHEMA
from tests.conftest import GENERAL, PROXY, write_pipeline


def _rows(folder: Path) -> dict[str, pa.Table]:
    return {p.name: pq.read_table(p) for p in sorted(folder.glob("*.parquet"))}


def test_outputs_and_invariants(shards, pipeline, tmp_path):
    out = tmp_path / "run"
    res = run(shards, pipeline, out)
    c = res.counts
    assert c["read"] == 13 and c["read"] == c["kept"] + c["removed"] and c["conservation_ok"]
    # every proxy document escalates and is removed by the classifier; general ones are kept
    assert c["removed_classifier"] == 5 and c["kept"] == 8 and c["removed_blocklist"] == 0

    kept = _rows(out / "kept")
    assert set(kept) == {"s0.parquet", "s1.parquet", "s2.parquet"}
    for name, table in kept.items():
        src = pq.read_table(shards / name)
        assert table.schema.equals(src.schema, check_metadata=False)  # same schema as input
        texts = table.column("text").to_pylist()
        assert texts == [t for t in src.column("text").to_pylist() if t in texts]  # input order preserved
        assert not set(texts) & set(PROXY)
    assert kept["s2.parquet"].column("year").to_pylist() == [2001, 2003]  # extra columns travel

    audit = pa.concat_tables(_rows(out / "audit").values())
    assert audit.schema.equals(AUDIT_SCHEMA) and audit.num_rows == c["removed"]
    row = audit.filter(pa.compute.equal(audit["doc_id"], "c1")).to_pylist()[0]
    assert row["stage"] == "classifier" and row["reason"] == "classifier_score"
    assert row["score"] >= row["threshold"] and row["unique_terms"] >= 2
    assert row["classifier"] == "biorisk-proxy-minilm" and len(row["classifier_sha256"]) == 64
    assert row["config_sha256"] == res.manifest["config_sha256"] and row["min_unique_hits"] == 2
    assert {t["term"] for t in row["matched_terms"]} and row["text"] == PROXY[0][:300]
    ids = set(audit.column("doc_id").to_pylist())
    assert "s1.parquet#3" in ids  # no id column: stable id from shard name + row index

    scores = pa.concat_tables(_rows(out / "scores").values())
    assert scores.schema.equals(SCORES_SCHEMA) and scores.num_rows == c["escalated"]
    assert scores.filter(scores["removed"]).num_rows == c["removed_classifier"]

    m = json.loads((out / "manifest.json").read_text())
    assert [s["rows"] for s in m["inputs"]] == [5, 5, 3]
    assert all(s["rows_read"] == s["kept"] + s["removed"] for s in m["shards"])
    assert {"blocklist", "classifier", "write"} <= set(m["timing"]["stage_seconds"])
    assert m["device"].startswith("cpu") and "datatrove" in m["versions"]
    assert m["config"]["blocklist"]["min_unique_hits"] == 2


def test_same_inputs_give_byte_identical_outputs_and_rerun_resumes(shards, pipeline, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run(shards, pipeline, a)
    run(shards, pipeline, b)
    for sub in ("kept", "audit", "scores"):
        for f in sorted((a / sub).glob("*.parquet")):
            assert f.read_bytes() == (b / sub / f.name).read_bytes(), f
    again = run(shards, pipeline, a)  # the same command again skips finished shards
    assert len(again.manifest["timing"]["resumed_shards"]) == 3
    assert again.manifest["timing"]["rows_processed_this_invocation"] == 0
    assert again.counts["read"] == 13


def test_blocklist_remove_mode(shards, tmp_path):
    p = write_pipeline(tmp_path / "p.yaml", blocklist={"mode": "remove"}, classifier={"enabled": False})
    res = run(shards, p, tmp_path / "out")
    c = res.counts
    assert c["removed_blocklist"] == 5 and c["escalated"] == 0 and c["kept"] == 8
    audit = pq.read_table(tmp_path / "out" / "audit" / "s0.parquet").to_pylist()
    assert {r["stage"] for r in audit} == {"blocklist"} and all(r["score"] is None for r in audit)


def test_min_unique_hits_controls_escalation(shards, tmp_path):
    p = write_pipeline(tmp_path / "p.yaml", blocklist={"min_unique_hits": 50})
    c = run(shards, p, tmp_path / "out").counts
    assert c["escalated"] == 0 and c["kept"] == 13


def test_on_error_policy(tmp_path, monkeypatch):
    """A document the classifier cannot score is removed (fail closed) or kept, and audited as `error`."""
    from filterkit.classify.base import DocScore
    from filterkit.classify.embedding import EmbeddingClassifier

    real_submit, real_collect = EmbeddingClassifier.submit, EmbeddingClassifier.collect

    def submit(self, texts):
        return list(texts), real_submit(self, texts)

    def flaky(self, pending):
        texts, inner = pending
        out = real_collect(self, inner)
        return [DocScore(None, 0, "tokenizer: bad bytes") if "risotto" in t else r for t, r in zip(texts, out)]

    monkeypatch.setattr(EmbeddingClassifier, "submit", submit)
    monkeypatch.setattr(EmbeddingClassifier, "collect", flaky)
    from tests.conftest import write_shard

    d = write_shard(tmp_path / "in" / "x.parquet", [GENERAL[3] + " " + PROXY[1], GENERAL[0]])
    for policy, removed in (("remove", 1), ("keep", 0)):
        p = write_pipeline(tmp_path / f"{policy}.yaml", classifier={"on_error": policy})
        res = run(d, p, tmp_path / policy)
        assert res.counts["removed_error"] == removed and res.counts["read"] == 2
        scores = pq.read_table(tmp_path / policy / "scores" / "x.parquet").to_pylist()
        assert [s["error"] for s in scores] == ["tokenizer: bad bytes"]
        if removed:
            audit = pq.read_table(tmp_path / policy / "audit" / "x.parquet").to_pylist()
            assert audit[0]["reason"] == "error" and audit[0]["error"] == "tokenizer: bad bytes"


def test_empty_shard_is_valid(tmp_path, pipeline):
    from tests.conftest import write_shard

    d = tmp_path / "in"
    write_shard(d / "empty.parquet", [])
    write_shard(d / "one.parquet", [GENERAL[0]])
    res = run(d, pipeline, tmp_path / "out")
    assert res.counts["read"] == 1 and res.counts["kept"] == 1
    assert pq.read_table(tmp_path / "out" / "kept" / "empty.parquet").num_rows == 0


@pytest.mark.slow
def test_cli_json_and_quiet(shards, pipeline, tmp_path):
    cli = CliRunner()
    res = cli.invoke(app, ["run", str(shards), "-p", str(pipeline), "-o", str(tmp_path / "o"), "--json"])
    assert res.exit_code == 0, res.output
    counts = json.loads(res.stdout)
    assert counts["read"] == 13 and counts["kept"] + counts["removed"] == 13
    res = cli.invoke(app, ["run", str(shards), "-p", str(pipeline), "-o", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0 and res.stdout == ""
    res = cli.invoke(app, ["run", str(shards), "-p", str(pipeline), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0 and "removed by classifier" in res.stdout and "ok" in res.stdout


@pytest.mark.slow
def test_local_multiprocess_executor_and_resume_across_task_counts(shards, tmp_path):
    """datatrove's local executor with 2 processes; a rerun with another task count resumes per shard."""
    p = write_pipeline(
        tmp_path / "p.yaml",
        classifier={"enabled": False},
        blocklist={"mode": "remove"},
        executor={"tasks": 2, "workers": 2},
    )
    out = tmp_path / "out"
    res = run(shards, p, out)
    assert res.counts["read"] == 13 and res.counts["kept"] + res.counts["removed"] == 13
    (out / ".state" / "done" / "s1.parquet.json").unlink()  # as if s1 had not finished
    p3 = write_pipeline(
        tmp_path / "p3.yaml",
        classifier={"enabled": False},
        blocklist={"mode": "remove"},
        executor={"tasks": 3, "workers": 1},
    )
    res = run(shards, p3, out)  # the executor is not part of the config hash: same run, resumed
    assert sorted(res.manifest["timing"]["resumed_shards"]) == ["s0.parquet", "s2.parquet"]
    assert res.counts["read"] == 13 and res.counts["removed"] == 5


def test_hf_datasets_folder_input(tmp_path, pipeline):
    import datasets

    ds = datasets.Dataset.from_dict({"text": PROXY + GENERAL, "id": [f"h{i}" for i in range(10)]})
    ds.save_to_disk(str(tmp_path / "hf"))
    res = run(tmp_path / "hf", pipeline, tmp_path / "out")
    assert res.counts["read"] == 10 and res.counts["removed"] == 4
    kept = pa.concat_tables(_rows(tmp_path / "out" / "kept").values())
    assert sorted(kept.column("text").to_pylist()) == sorted(GENERAL)


@pytest.mark.parametrize("spec", ["file", "glob"])
def test_file_and_glob_inputs(shards, pipeline, tmp_path, spec):
    arg = shards / "s2.parquet" if spec == "file" else f"{shards}/s[01].parquet"
    res = run(arg, pipeline, tmp_path / "out")
    assert res.counts["read"] == (3 if spec == "file" else 10)


@pytest.mark.slow
def test_ray_executor_on_a_local_cluster(shards, tmp_path):
    ray = pytest.importorskip("ray", reason="needs the ray extra: pip install -e '.[ray]'")
    p = write_pipeline(
        tmp_path / "p.yaml",
        classifier={"enabled": False},
        blocklist={"mode": "remove"},
        executor={"kind": "ray", "tasks": 2, "workers": 2, "ray": {"mem_per_cpu_gb": 1}},
    )
    try:
        res = run(shards, p, tmp_path / "out")
    finally:
        ray.shutdown()
    assert res.counts["read"] == 13 and res.counts["kept"] + res.counts["removed"] == 13
    assert sorted(f.name for f in (tmp_path / "out" / "kept").glob("*.parquet")) == [
        "s0.parquet",
        "s1.parquet",
        "s2.parquet",
    ]


def test_slurm_executor_is_configured_from_yaml(shards, tmp_path):
    """No Slurm here: check the job datatrove would submit, without submitting it."""
    from filterkit.runs.runner import build_executor, build_pipeline, prepare

    p = write_pipeline(
        tmp_path / "p.yaml",
        executor={"kind": "slurm", "tasks": 3, "slurm": {"partition": "gpu", "gpus_per_task": 1, "time": "01:00:00"}},
    )
    prep = prepare(shards, p, tmp_path / "out")
    ex = build_executor(prep, build_pipeline(prep))
    sbatch = ex.get_sbatch_args(max_array=3)
    from datatrove.executor import SlurmPipelineExecutor

    assert (
        isinstance(ex, SlurmPipelineExecutor) and ex.world_size == 3
    )  # filterkit.runs.slurm's private-pickle subclass
    assert sbatch["partition"] == "gpu" and sbatch["time"] == "01:00:00" and sbatch["array"] == "0-2"
