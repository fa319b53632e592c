"""Bad input: one line naming the file and the fix, exit code 2, and no partial shard left behind."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from filterkit import contract
from filterkit.cli import app
from tests.conftest import GENERAL, PROXY, write_pipeline, write_shard


def _run(args: list[str]):
    return CliRunner().invoke(app, ["run", *args])


def _assert_clean_failure(res, out: Path, *needles: str) -> None:
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert err.startswith("error:")
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    for n in needles:
        assert n in err, (n, err)
    kept = list((out / "kept").glob("*.parquet")) if (out / "kept").exists() else []
    assert kept == [], "no partial output"


@pytest.fixture
def good(tmp_path) -> Path:
    return write_shard(tmp_path / "in" / "good.parquet", GENERAL[:2] + PROXY[:1])


def test_missing_text_column(tmp_path, pipeline, good):
    bad = tmp_path / "in" / "bad.parquet"
    pq.write_table(pa.table({"body": ["x"]}), bad)
    out = tmp_path / "out"
    res = _run([str(tmp_path / "in"), "-p", str(pipeline), "-o", str(out)])
    _assert_clean_failure(res, out, str(bad), "no 'text' column", "input.text_column")


def test_null_text_names_rows(tmp_path, pipeline, good):
    bad = tmp_path / "in" / "nulls.parquet"
    pq.write_table(pa.table({"text": pa.array(["ok", None, "fine", None], pa.string())}), bad)
    out = tmp_path / "out"
    res = _run([str(tmp_path / "in"), "-p", str(pipeline), "-o", str(out)])
    _assert_clean_failure(res, out, str(bad), "null at rows 1, 3")


def test_non_string_text(tmp_path, pipeline, good):
    bad = tmp_path / "in" / "ints.parquet"
    pq.write_table(pa.table({"text": [1, 2, 3]}), bad)
    out = tmp_path / "out"
    _assert_clean_failure(_run([str(tmp_path / "in"), "-p", str(pipeline), "-o", str(out)]), out, str(bad), "int64")


def test_corrupt_parquet(tmp_path, pipeline, good):
    bad = tmp_path / "in" / "corrupt.parquet"
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    res = _run([str(tmp_path / "in"), "-p", str(pipeline), "-o", str(out)])
    _assert_clean_failure(res, out, str(bad), "re-export or remove")


def test_huge_document(tmp_path, good):
    big = write_shard(tmp_path / "in" / "big.parquet", ["word " * 50])
    p = write_pipeline(tmp_path / "p.yaml", input={"max_chars": 100})
    out = tmp_path / "out"
    _assert_clean_failure(
        _run([str(tmp_path / "in"), "-p", str(p), "-o", str(out)]), out, str(big), "rows 0", "input.max_chars"
    )


def test_config_errors(tmp_path, good):
    out = tmp_path / "out"
    missing = tmp_path / "nope.yaml"
    _assert_clean_failure(_run([str(good), "-p", str(missing), "-o", str(out)]), out, str(missing), "not found")
    typo = tmp_path / "typo.yaml"
    typo.write_text("classifer:\n  threshold: 0.5\n", encoding="utf-8")
    _assert_clean_failure(
        _run([str(good), "-p", str(typo), "-o", str(out)]), out, str(typo), "classifer", "unknown key"
    )
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("blocklist: {path: [\n", encoding="utf-8")
    _assert_clean_failure(_run([str(good), "-p", str(bad_yaml), "-o", str(out)]), out, str(bad_yaml), "YAML")


def test_missing_blocklist_and_classifier(tmp_path, good):
    out = tmp_path / "out"
    p = write_pipeline(tmp_path / "p1.yaml", blocklist={"path": str(tmp_path / "terms.txt")})
    _assert_clean_failure(_run([str(good), "-p", str(p), "-o", str(out)]), out, "terms.txt", "blocklist.path")
    p = write_pipeline(tmp_path / "p2.yaml", classifier={"path": str(tmp_path / "head")})
    _assert_clean_failure(
        _run([str(good), "-p", str(p), "-o", str(out)]), out, str(tmp_path / "head"), "classifier.path"
    )


def test_missing_input(tmp_path, pipeline):
    out = tmp_path / "out"
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_clean_failure(_run([str(empty), "-p", str(pipeline), "-o", str(out)]), out, str(empty), "no .parquet")


def test_out_dir_of_another_config(tmp_path, good, pipeline):
    out = tmp_path / "out"
    assert _run([str(good), "-p", str(pipeline), "-o", str(out), "--quiet"]).exit_code == 0
    other = write_pipeline(tmp_path / "other.yaml", classifier={"threshold": 0.99})
    before = sorted(p.name for p in (out / "kept").iterdir())
    res = _run([str(good), "-p", str(other), "-o", str(out)])
    assert res.exit_code == 2 and "different config" in res.stderr and str(out) in res.stderr
    assert sorted(p.name for p in (out / "kept").iterdir()) == before  # the old run is untouched


def test_null_without_parquet_statistics_is_still_found_before_writing(tmp_path, pipeline):
    """No null counts in the footer: the text column is scanned up front, so nothing is written."""
    d = tmp_path / "in"
    table = pa.table({"text": pa.array([GENERAL[0]] * 5 + [None], pa.string())})
    pq.write_table(table, d.mkdir() or d / "late.parquet", write_statistics=False)
    out = tmp_path / "out"
    res = _run([str(d), "-p", str(pipeline), "-o", str(out)])
    _assert_clean_failure(res, out, "late.parquet", "rows 5")
    assert list(out.rglob("*.parquet")) == []


def test_error_mid_stream_removes_the_shards_temp_files(tmp_path, pipeline, monkeypatch):
    """A failure while a shard is being written leaves neither its outputs nor its temp files."""
    from filterkit.errors import FilterkitError
    from filterkit.runs import runner as runner
    from filterkit.stages.blocklist import BlocklistStage

    d = tmp_path / "in"
    write_shard(d / "a.parquet", GENERAL[:3])
    write_shard(d / "b.parquet", GENERAL[3:] + PROXY[:1])
    real = BlocklistStage.process

    def boom(self, docs):
        for doc in real(self, docs):
            if doc.metadata[contract.SHARD] == "b.parquet" and doc.metadata[contract.ROW] == 2:
                raise FilterkitError("simulated failure in b.parquet")
            yield doc

    monkeypatch.setattr(BlocklistStage, "process", boom)
    out = tmp_path / "out"
    with pytest.raises(FilterkitError, match="simulated"):
        runner.run(d, pipeline, out)
    assert sorted(p.name for p in (out / "kept").glob("*")) == ["a.parquet"]  # a finished before b failed
    assert not (out / ".state" / "done" / "b.parquet.json").exists()
    assert list((out / ".state").rglob("*.tmp*")) == [] and not (out / ".state" / "tmp").exists()
