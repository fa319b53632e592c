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

    cols, rows = audit.query(out, "SELECT count(*) AS n FROM audit WHERE score >= threshold")
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


def _as_written_before_the_rename(out, shard: str) -> None:
    """Rewrite one shard's audit file as filterkit wrote it before `classifier_score` became `score`, and its done
    marker to match (as that filterkit recorded it), so the folder is an intact old run folder."""
    import pyarrow.parquet as pq

    from filterkit.io import file_digest, write_json_atomic
    from filterkit.store.layout import RunLayout

    path = out / "audit" / shard
    table = pq.read_table(path)
    pq.write_table(table.rename_columns(["classifier_score" if n == "score" else n for n in table.column_names]), path)
    layout = RunLayout(out)
    marker = layout.read_marker(shard)
    marker["outputs"]["audit"].update(file_digest(path))
    write_json_atomic(layout.done(shard), marker)


def test_run_folders_from_before_the_score_rename_read_as_before(shards, pipeline, tmp_path):
    """audit/'s `classifier_score` is `score` now (CHANGELOG.md): an old folder, or one resumed across the upgrade
    (old and new shards side by side), reads under the new name everywhere a run folder is read."""
    from filterkit.runs.rethreshold import rethreshold
    from filterkit.runs.strata import run_strata

    out = tmp_path / "run"
    run(shards, pipeline, out)
    sql = "SELECT input_shard, row_index, score, threshold, reason FROM audit ORDER BY 1, 2"
    before = audit.query(out, sql)
    strata_before = [st.recorded for st in run_strata(out).shards]
    for shard in ("s0.parquet", "s1.parquet"):  # s2 stays new: a folder resumed across the upgrade
        _as_written_before_the_rename(out, shard)
    assert audit.query(out, sql) == before and before[1] and all(r[2] is not None for r in before[1])
    assert [st.recorded for st in run_strata(out).shards] == strata_before
    assert audit.summarize(out)["removed_by_stage"][0]["n"] == len(before[1])
    again = rethreshold(out, tmp_path / "again", threshold=before[1][0][3])  # the same removals, the new format
    assert audit.query(tmp_path / "again", sql)[1] == before[1]
    assert again.counts["removed"] == len(before[1])
