"""`filterkit audit`: the DuckDB summary and ad-hoc SQL over a run's audit and scores."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.runs import audit as audit


def test_summary_and_sql(shards, pipeline, tmp_path):
    out = tmp_path / "run"
    res = run(shards, pipeline, out)
    s = audit.summarize(out)
    assert s["removed_by_stage"] == [{"stage": "classifier", "reason": "classifier_score", "n": 5}]
    assert s["top_terms"] and all(t["docs"] >= 1 for t in s["top_terms"])
    assert sum(b["n"] for b in s["score_histogram"]) == res.counts["escalated"]
    per_shard = {r["shard"]: r for r in s["per_shard"]}
    assert per_shard["s0.parquet"]["read"] == 5 and per_shard["s0.parquet"]["removed"] == 2
    assert len(s["examples"]) == 3 and all(len(e["snippet"]) <= 120 for e in s["examples"])

    cols, rows = audit.query(out, "SELECT count(*) AS n FROM audit WHERE classifier_score >= threshold")
    assert cols == ["n"] and rows == [(5,)]

    cli = CliRunner()
    r = cli.invoke(
        app, ["audit", str(out), "--sql", "SELECT input_shard, count(*) n FROM scores GROUP BY 1 ORDER BY 1", "--json"]
    )
    assert r.exit_code == 0 and [x["input_shard"] for x in json.loads(r.stdout)] == [
        "s0.parquet",
        "s1.parquet",
        "s2.parquet",
    ]
    r = cli.invoke(app, ["audit", str(out)])
    assert r.exit_code == 0 and "removals by stage" in r.stdout and "classifier_score" in r.stdout
    r = cli.invoke(app, ["audit", str(out), "--sql", "SELECT nope FROM audit"])
    assert r.exit_code == 2 and "query failed" in r.stderr
    r = cli.invoke(app, ["audit", str(tmp_path)])
    assert r.exit_code == 2 and "not a filterkit run" in r.stderr
