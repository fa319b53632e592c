"""`filterkit rethreshold`: new decisions from scores/, identical to a fresh run at the new setting."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.errors import FilterkitError
from filterkit.runs.rethreshold import rethreshold
from tests.conftest import ROOT, write_pipeline


def _files(out, subs=("kept", "audit", "scores")):
    return {f"{s}/{p.name}": p.read_bytes() for s in subs for p in sorted((out / s).glob("*.parquet"))}


def test_rethreshold_equals_a_fresh_run(shards, pipeline, tmp_path, monkeypatch):
    base = run(shards, pipeline, tmp_path / "base")
    scores = sorted(
        r["score"] for f in (tmp_path / "base" / "scores").glob("*.parquet") for r in pq.read_table(f).to_pylist()
    )
    new_t = (scores[-1] + scores[-2]) / 2  # between the two highest scores: changes several decisions

    # no re-encoding: the encoder must not even be loaded
    from filterkit.classify import embedding as heads

    monkeypatch.setattr(heads.EmbeddingClassifier, "load", lambda *a, **k: pytest.fail("re-encoded"))
    re = rethreshold(tmp_path / "base", tmp_path / "re", threshold=new_t)
    monkeypatch.undo()
    fresh = run(shards, write_pipeline(tmp_path / "t.yaml", classifier={"threshold": new_t}), tmp_path / "fresh")
    assert re.counts == fresh.counts and re.counts["read"] == base.counts["read"]
    assert _files(tmp_path / "re") == _files(tmp_path / "fresh")

    rethreshold(tmp_path / "base", tmp_path / "same", min_unique_hits=2)  # the run's own settings
    assert _files(tmp_path / "same") == _files(tmp_path / "base")
    same_t = rethreshold(tmp_path / "base", tmp_path / "same_t", threshold=base.manifest["run_info"]["threshold"])
    assert _files(tmp_path / "same_t", ("kept",)) == _files(tmp_path / "base", ("kept",))
    assert same_t.manifest["config_sha256"] != base.manifest["config_sha256"]  # an explicit threshold is a new config


def test_raising_the_blocklist_bar_keeps_more(shards, pipeline, tmp_path):
    run(shards, pipeline, tmp_path / "base")
    res = rethreshold(tmp_path / "base", tmp_path / "strict", min_unique_hits=100)
    assert res.counts["escalated"] == 0 and res.counts["kept"] == res.counts["read"]


def test_rethreshold_errors(shards, pipeline, tmp_path):
    run(shards, pipeline, tmp_path / "base")
    with pytest.raises(FilterkitError, match="never scored"):
        rethreshold(tmp_path / "base", tmp_path / "x", min_unique_hits=1)
    with pytest.raises(FilterkitError, match="nothing to change"):
        rethreshold(tmp_path / "base", tmp_path / "x")
    with pytest.raises(FilterkitError, match="no manifest"):
        rethreshold(tmp_path / "nope", tmp_path / "x", threshold=0.5)
    r = CliRunner().invoke(
        app, ["rethreshold", str(tmp_path / "base"), "--out", str(tmp_path / "c"), "--threshold", "0.0", "--json"]
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["removed"] == json.loads(r.stdout)["escalated"]


GATE = ROOT / "classifiers" / "biorisk-proxy-static"


@pytest.mark.slow
def test_gate_escalations_are_recorded_and_replayed(shards, tmp_path):
    """With the semantic gate on, scores/ records who escalated each document, gate-only escalations meet
    their own threshold, and rethreshold replays that rule exactly (a fresh run gives the same bytes)."""
    from tests.conftest import GENERAL, write_shard

    write_shard(
        shards / "s3.parquet",
        [
            "Outbreak reports describe how the illness spread between villages and "
            "how clinics isolated the patients until the fever cases stopped.",
            GENERAL[1],
        ],
        ids=["g0", "g1"],
    )
    sections = dict(
        blocklist={"min_unique_hits": 2},
        semantic_gate={"enabled": True, "path": str(GATE), "threshold": 0.2},
        classifier={"gate_only_threshold": 0.999},
    )
    run(shards, write_pipeline(tmp_path / "g.yaml", **sections), tmp_path / "base")
    rows = [r for f in sorted((tmp_path / "base" / "scores").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    by = {r["escalated_by"] for r in rows}
    assert by == {"terms", "gate"}, by
    for r in rows:
        assert (r["gate_score"] is None) == (r["escalated_by"] == "terms")
        if r["escalated_by"] == "gate" and r["score"] is not None:
            assert r["removed"] == (r["score"] >= 0.999)
    with pytest.raises(FilterkitError, match="semantic gate"):
        rethreshold(tmp_path / "base", tmp_path / "bar", min_unique_hits=3)
    new_t = 0.3
    re = rethreshold(tmp_path / "base", tmp_path / "re", threshold=new_t)
    sections["classifier"]["threshold"] = new_t
    fresh = run(shards, write_pipeline(tmp_path / "f.yaml", **sections), tmp_path / "fresh")
    assert re.counts == fresh.counts
    assert _files(tmp_path / "re") == _files(tmp_path / "fresh")
