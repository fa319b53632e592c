"""The issue-3 commands through the CLI: tune, blocklist build (train is covered by its own tests)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from filterkit.cli import app
from filterkit.match.blocklist import read_terms
from tests.conftest import GENERAL, HEAD, PROXY, ROOT


def _labels(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"text": PROXY * 2 + GENERAL, "label": [1] * 8 + [0] * 6}), p)
    return p


@pytest.mark.slow
def test_tune_cli(tmp_path):
    head = tmp_path / "head"
    shutil.copytree(HEAD, head)
    labels = _labels(tmp_path)
    r = CliRunner().invoke(
        app,
        [
            "tune",
            "--labels",
            str(labels),
            "--classifier",
            str(head),
            "--target-recall",
            "1.0",
            "--pipeline",
            str(ROOT / "pipelines" / "biorisk.yaml"),
            "--report",
            str(tmp_path / "rep"),
            "--json",
            str(tmp_path / "m.json"),
            "--bootstrap",
            "50",
            "--device",
            "cpu",
        ],
    )
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["n_pos"] == 8 and m["n_neg"] == 6 and m["recall"] == 1.0 and "cascade" in m
    assert (tmp_path / "rep" / "report.md").is_file() and (tmp_path / "rep" / "pr_curve.png").is_file()
    assert "cascade recall" in r.stdout
    bad = CliRunner().invoke(app, ["tune", "--labels", str(tmp_path / "nope.parquet"), "--classifier", str(head)])
    assert bad.exit_code == 2 and "not found" in bad.stderr


def test_blocklist_build_cli(tmp_path):
    labels = _labels(tmp_path)
    out = tmp_path / "terms.txt"
    r = CliRunner().invoke(
        app, ["blocklist", "build", "--labels", str(labels), "--out", str(out), "--min-support", "2"]
    )
    assert r.exit_code == 0, r.output
    terms = read_terms(out)
    assert terms and out.read_text().startswith("#")
