"""The CLI as people expect it: --version and -h everywhere."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from filterkit import __version__
from filterkit.cli import app


def test_version_and_short_help():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"filterkit {__version__}"
    for argv in (["-h"], ["run", "-h"], ["train-gate", "-h"], ["blocklist", "build", "-h"]):
        r = CliRunner().invoke(app, argv)
        assert r.exit_code == 0 and "Usage" in r.output, argv


def test_dry_run_validates_and_writes_nothing(shards, tmp_path):
    import json

    import yaml

    from tests.conftest import BLOCKLIST

    pipe = tmp_path / "bl.yaml"
    pipe.write_text(
        yaml.safe_dump(
            {
                "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
                "classifier": {"enabled": False},
            }
        )
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(shards), "-p", str(pipe), "-o", str(out), "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.output)
    assert plan["shards"] == 3 and plan["rows"] == 13 and plan["sample_docs"] == 13
    assert plan["sample_escalated"] == plan["sample_removed_by_blocklist"] >= 1
    assert plan["estimated_seconds"] >= 0 and not out.exists()
    bad = CliRunner().invoke(app, ["run", str(tmp_path / "nope"), "-p", str(pipe), "-o", str(out), "--dry-run"])
    assert bad.exit_code == 2 and not out.exists()


@pytest.mark.slow
def test_progress_moves_inside_one_large_shard(tmp_path):
    """The bar's counts come from the shard writer's live progress file, not only from finished shards:
    a single large shard reports rows, escalated and removed while it is being written."""

    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    from filterkit.cli import progress_updater
    from filterkit.runs.runner import execute, prepare
    from tests.conftest import BLOCKLIST, GENERAL, PROXY

    rows = 60_000
    texts = [(GENERAL + PROXY)[i % 10] for i in range(rows)]
    pq.write_table(pa.table({"text": texts}), tmp_path / "big.parquet", row_group_size=1024)
    pipe = tmp_path / "bl.yaml"
    pipe.write_text(
        yaml.safe_dump(
            {
                "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
                "classifier": {"enabled": False},
            }
        )
    )
    seen = []
    execute(prepare(tmp_path / "big.parquet", pipe, tmp_path / "out"), progress=seen.append)
    partial = [c for c in seen if 0 < c.done < rows]
    assert partial, [c.done for c in seen]  # it moved before the shard finished
    assert all(c.removed <= c.done and c.total == rows for c in seen)
    assert [c.done for c in seen] == sorted(c.done for c in seen)

    class Bar:  # what the CLI's callback sends to rich, with a fake clock
        def update(self, task, **kw):
            self.kw = kw

    ticks = iter([0.0, 2.0])
    bar = Bar()
    progress_updater(bar, 1, clock=lambda: next(ticks))(partial[0])
    assert bar.kw["completed"] == partial[0].done
    assert f"{partial[0].done / 2:,.0f} docs/s" in bar.kw["rate"] and "removed" in bar.kw["rate"]


@pytest.mark.slow
def test_limit_reads_the_first_n_documents_and_says_so(shards, tmp_path):
    """--limit 8 over shards of 5, 5 and 3 rows: s0 whole, s1 cut after 3 rows (inside a 2-row batch), s2 never
    read; read = kept + removed over those 8; the manifest names the cut; the run verifies, resumes, and a
    different limit is refused in the same folder."""
    import json

    import pyarrow.parquet as pq
    import yaml

    from tests.conftest import BLOCKLIST

    pipe = tmp_path / "bl.yaml"
    pipe.write_text(
        yaml.safe_dump(
            {
                "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
                "classifier": {"enabled": False},
                "input": {"batch_rows": 2},
            }
        )
    )
    out, full = tmp_path / "out", tmp_path / "full"
    argv = ["run", str(shards), "-p", str(pipe), "-o", str(out), "--limit", "8", "--json"]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    counts = json.loads(r.output)
    assert counts["read"] == 8 == counts["kept"] + counts["removed"] and counts["removed"] >= 1
    assert counts["limit"]["docs"] == 8 and counts["limit"]["cut_shard"]["name"] == "s1.parquet"
    m = json.loads((out / "manifest.json").read_text())
    assert m["limit"] == {
        "docs": 8,
        "rows_read": 8,
        "cut_shard": {"name": "s1.parquet", "rows_read": 3, "rows_in_file": 5},
        "shards_left_out": 1,
        "rows_left_out": 5,
    }
    assert [(i["name"], i["rows"], i.get("limit")) for i in m["inputs"]] == [
        ("s0.parquet", 5, None),
        ("s1.parquet", 3, 3),
    ]
    assert not (out / "kept" / "s2.parquet").exists() and not (out / "audit" / "s2.parquet").exists()

    # the same documents a full run decides on, decided the same way: s0 byte-identical, s1 its first 3 rows
    assert CliRunner().invoke(app, ["run", str(shards), "-p", str(pipe), "-o", str(full), "--quiet"]).exit_code == 0
    assert (out / "kept" / "s0.parquet").read_bytes() == (full / "kept" / "s0.parquet").read_bytes()
    audit_rows = pq.read_table(out / "audit" / "s1.parquet").column("row_index").to_pylist()
    full_audit = pq.read_table(full / "audit" / "s1.parquet").column("row_index").to_pylist()
    assert audit_rows == [i for i in full_audit if i < 3]
    kept = pq.read_table(out / "kept" / "s1.parquet").column("text").to_pylist()
    first3 = pq.read_table(shards / "s1.parquet").column("text").to_pylist()[:3]
    assert kept == [t for i, t in enumerate(first3) if i not in audit_rows]
    assert pq.read_table(out / "scores" / "s1.parquet").num_rows == len(audit_rows)  # remove mode: escalated = removed

    v = CliRunner().invoke(app, ["verify", str(out)])
    assert v.exit_code == 0 and "read 8 " in v.output, v.output
    again = CliRunner().invoke(app, argv)  # the same command resumes: nothing redone, same counts
    assert again.exit_code == 0 and json.loads(again.output)["read"] == 8, again.output
    other = CliRunner().invoke(app, ["run", str(shards), "-p", str(pipe), "-o", str(out), "--limit", "9"])
    assert other.exit_code == 2 and "--limit 8" in other.output and "--limit 9" in other.output, other.output
    assert CliRunner().invoke(app, [*argv[:-3], "--limit", "0"]).exit_code == 2  # not a positive count

    plan = CliRunner().invoke(app, [*argv, "--dry-run"])
    assert plan.exit_code == 0 and json.loads(plan.output)["rows"] == 8, plan.output
    # a re-decision of a limited run reads the same 8 documents (the cut travels in the manifest)
    re = CliRunner().invoke(
        app, ["rethreshold", str(out), "--min-unique-hits", "3", "-o", str(tmp_path / "re"), "--json"]
    )
    assert re.exit_code == 0 and json.loads(re.output)["read"] == 8, re.output
    assert json.loads((tmp_path / "re" / "manifest.json").read_text())["limit"] == m["limit"]


def test_limit_past_the_end_reads_everything(shards, tmp_path):
    from filterkit.data.sources import discover
    from filterkit.runs.runner import limit_shards

    all_shards = discover(shards)
    kept, cut = limit_shards(all_shards, 13)
    assert kept == all_shards and cut["cut_shard"] is None and cut["shards_left_out"] == 0 and cut["rows_read"] == 13
    kept, cut = limit_shards(all_shards, 100)
    assert kept == all_shards and cut["rows_read"] == 13 and cut["rows_left_out"] == 0
    kept, cut = limit_shards(all_shards, 5)  # ends exactly at a shard's end: nothing cut
    assert [s.name for s in kept] == ["s0.parquet"] and kept[0].limit is None and cut["cut_shard"] is None
    assert cut["shards_left_out"] == 2 and cut["rows_left_out"] == 8


def test_limit_cuts_json_lines_input_too(tmp_path):
    """JSON-lines shards are cut at the same document count: kept lines, audit rows and the manifest agree."""
    import json

    import yaml

    from tests.conftest import BLOCKLIST, GENERAL, PROXY

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in PROXY[:2] + GENERAL[:3]))
    (d / "b.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in GENERAL[3:] + PROXY[2:]))
    pipe = tmp_path / "bl.yaml"
    pipe.write_text(
        yaml.safe_dump(
            {
                "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
                "classifier": {"enabled": False},
                "input": {"batch_rows": 2},
            }
        )
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(d), "-p", str(pipe), "-o", str(out), "--limit", "7", "--json"])
    assert r.exit_code == 0, r.output
    c = json.loads(r.output)
    assert c["read"] == 7 == c["kept"] + c["removed"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["limit"]["cut_shard"] == {"name": "b.jsonl", "rows_read": 2, "rows_in_file": 5}
    kept_b = (out / "kept" / "b.jsonl").read_text().splitlines()
    assert kept_b == (d / "b.jsonl").read_text().splitlines()[:2]  # two general documents: both kept, byte for byte
    assert CliRunner().invoke(app, ["verify", str(out)]).exit_code == 0


def test_limit_does_not_open_json_lines_shards_past_the_cut(tmp_path):
    """A sample of a large JSON-lines corpus starts at once: shards after the first N documents are not read
    (here the third is not even valid JSON), and the manifest says they were not counted."""
    import json

    import yaml

    from tests.conftest import BLOCKLIST, GENERAL, PROXY

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in PROXY[:2] + GENERAL[:3]))
    (d / "b.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in GENERAL[3:] + PROXY[2:]))
    (d / "c.jsonl").write_text("not json at all\n")
    pipe = tmp_path / "bl.yaml"
    pipe.write_text(
        yaml.safe_dump(
            {
                "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
                "classifier": {"enabled": False},
            }
        )
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(d), "-p", str(pipe), "-o", str(out), "--limit", "7"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"]["read"] == 7 and m["limit"]["shards_left_out"] == 1 and m["limit"]["rows_left_out"] is None
    assert "not opened" in r.output
    bad = CliRunner().invoke(app, ["run", str(d), "-p", str(pipe), "-o", str(tmp_path / "all")])
    assert bad.exit_code == 2 and "c.jsonl" in bad.output  # without --limit the broken shard is found at once
