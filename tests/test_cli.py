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
