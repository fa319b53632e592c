"""The CLI as people expect it: --version and -h everywhere."""

from __future__ import annotations

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

    from tests.conftest import BLOCKLIST
    import yaml

    pipe = tmp_path / "bl.yaml"
    pipe.write_text(yaml.safe_dump({"blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
                                    "classifier": {"enabled": False}}))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(shards), "-p", str(pipe), "-o", str(out), "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.output)
    assert plan["shards"] == 3 and plan["rows"] == 13 and plan["sample_docs"] == 13
    assert plan["sample_escalated"] == plan["sample_removed_by_blocklist"] >= 1
    assert plan["estimated_seconds"] >= 0 and not out.exists()
    bad = CliRunner().invoke(app, ["run", str(tmp_path / "nope"), "-p", str(pipe), "-o", str(out), "--dry-run"])
    assert bad.exit_code == 2 and not out.exists()


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
    pipe.write_text(yaml.safe_dump({"blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
                                    "classifier": {"enabled": False}}))
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
