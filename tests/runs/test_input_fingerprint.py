"""Issue 20, items 1, 2 and 4: nothing unscored reaches kept/ — every input is fingerprinted (size + sha256)
when a run is planned, checked again before a shard is committed, and compared by resume, rethreshold and
verify; the rows copied into kept/ are checked row by row against the texts that were scored.

Blocklist-only pipelines (mode: remove), so no encoder is loaded: "scored" here means matched by the
blocklist, the decision the run applied.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.errors import FilterkitError
from filterkit.runs.verify import verify
from filterkit.store.layout import RunLayout
from tests.conftest import GENERAL, PROXY, one_line_error, write_pipeline, write_shard

PROXY_DOC = " ".join(PROXY)  # many blocklist terms: removed whenever it is actually matched


def _pipeline(tmp_path: Path, bar: int = 1) -> Path:
    return write_pipeline(
        tmp_path / "bl.yaml", blocklist={"mode": "remove", "min_unique_hits": bar}, classifier={"enabled": False}
    )


def _texts(n: int) -> list[str]:
    return [f"{GENERAL[i % len(GENERAL)]} ({i:03d})" for i in range(n)]


def _kept_texts(out: Path) -> list[str]:
    return [t for f in sorted((out / "kept").glob("*.parquet")) for t in pq.read_table(f).column("text").to_pylist()]


def _cli(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


# --- 1. rethreshold refuses an input re-exported since it was scored ---------------------------------------


def test_rethreshold_refuses_a_reexported_input(tmp_path):
    shard = write_shard(tmp_path / "in" / "s.parquet", _texts(100), ids=[f"d{i}" for i in range(100)])
    run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "base")
    texts = _texts(100)
    texts[0] = PROXY_DOC  # same name, same row count: a re-export whose row 0 nobody scored
    write_shard(shard, texts, ids=[f"d{i}" for i in range(100)])
    res = _cli("rethreshold", tmp_path / "base", "--min-unique-hits", "2", "--out", tmp_path / "r2")
    one_line_error(res, str(shard), "changed since it was filtered", "rethreshold")
    assert not (tmp_path / "r2" / "kept").exists()  # nothing written
    assert PROXY_DOC not in _kept_texts(tmp_path / "r2") if (tmp_path / "r2").exists() else True


def test_rethreshold_of_an_unchanged_input_still_matches_a_fresh_run(tmp_path):
    write_shard(tmp_path / "in" / "s.parquet", _texts(20) + [PROXY[0], PROXY_DOC], ids=[f"d{i}" for i in range(22)])
    run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "base")
    re = _cli("rethreshold", tmp_path / "base", "--min-unique-hits", "3", "--out", tmp_path / "r3", "--json")
    assert re.exit_code == 0, re.output
    fresh = run(tmp_path / "in", _pipeline(tmp_path / "in", bar=3), tmp_path / "fresh")
    assert _kept_texts(tmp_path / "r3") == _kept_texts(tmp_path / "fresh")
    m = RunLayout(tmp_path / "r3").read_marker("s.parquet")
    assert m["input"]["sha256"] == fresh.manifest["inputs"][0]["sha256"]


# --- 2. an input replaced during the run is not copied into kept/ -------------------------------------------


def test_input_swapped_between_scoring_and_copy_fails_the_shard(tmp_path, monkeypatch):
    shard = write_shard(tmp_path / "in" / "s.parquet", _texts(50))
    from filterkit.stages import shard_output

    real = shard_output.write_kept

    def swap_then_copy(*a, **kw):  # the file is re-exported after scoring, before kept rows are copied
        write_shard(shard, [PROXY_DOC] * 50)
        return real(*a, **kw)

    monkeypatch.setattr(shard_output, "write_kept", swap_then_copy)
    with pytest.raises(FilterkitError, match=r"row 0 is not the text that was scored"):
        run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "out")
    assert not list((tmp_path / "out").glob("kept/*")) and not RunLayout(tmp_path / "out").is_done("s.parquet")
    monkeypatch.undo()
    # the re-run scores the new content and removes every row of it
    res = run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "out2")
    assert res.counts["kept"] == 0 and res.counts["removed"] == 50


def test_input_changed_after_planning_fails_the_shard(tmp_path, monkeypatch):
    """Replaced after the run was planned (fingerprinted) but before it was read: the texts scored and copied
    agree, yet they are not the input the run id and manifest name, so the shard is not committed."""
    shard = write_shard(tmp_path / "in" / "s.parquet", _texts(50))
    from filterkit.runs import runner

    prep = runner.prepare(tmp_path / "in", _pipeline(tmp_path), tmp_path / "out")
    texts = _texts(50)
    texts[7] = texts[7].replace("(007)", "(00x)")  # same size, one character
    write_shard(shard, texts)
    with pytest.raises(FilterkitError, match="changed while it was being filtered"):
        runner.execute(prep)
    assert not RunLayout(tmp_path / "out").is_done("s.parquet")


# --- 4. a same-size change is noticed by a re-run, and by verify --------------------------------------------


def _flip_one_char(shard: Path) -> None:
    """One character of one text changed in place: an uncompressed parquet of the same size."""
    raw = shard.read_bytes()
    i = raw.index(b"football")
    shard.write_bytes(raw[:i] + b"Football" + raw[i + 8 :])


def test_rerun_refuses_an_input_changed_in_place_naming_it(tmp_path):
    d = tmp_path / "in"
    shard = d / "s.parquet"
    pq.write_table(pq.read_table(write_shard(shard, _texts(30))), shard, compression="none")
    other = write_shard(d / "t.parquet", _texts(5))
    out = tmp_path / "out"
    argv = ("run", d, "-p", _pipeline(tmp_path), "-o", out, "--quiet")
    assert _cli(*argv).exit_code == 0
    size = shard.stat().st_size
    _flip_one_char(shard)
    assert shard.stat().st_size == size
    line = one_line_error(_cli(*argv), str(shard), "content changed since it was filtered", "new --out")
    assert str(other) not in line
    assert RunLayout(out).is_done("s.parquet")  # the folder is left as it was: nothing lost


def test_verify_reports_a_changed_input(tmp_path):
    d = tmp_path / "in"
    shard = d / "s.parquet"
    pq.write_table(pq.read_table(write_shard(shard, _texts(30))), shard, compression="none")
    run(d, _pipeline(tmp_path), tmp_path / "out")
    ok = _cli("verify", tmp_path / "out")
    assert ok.exit_code == 0 and "inputs unchanged" in ok.output
    _flip_one_char(shard)
    report = verify(tmp_path / "out")
    assert not report.ok and list(report.bad) == ["s.parquet"]
    assert "content changed since it was filtered" in report.lines()[0] and "restore that input" in report.lines()[0]
    res = _cli("verify", tmp_path / "out")
    assert res.exit_code == 2 and str(shard) in " ".join(res.output.split())
    shard.unlink()  # an input deleted once filtered is not a damaged run folder
    gone = _cli("verify", tmp_path / "out")
    assert gone.exit_code == 0 and "1 not found, not checked" in gone.output


def test_markers_and_manifest_record_the_fingerprint_and_it_is_in_the_run_id(tmp_path):
    from filterkit.io import file_digest

    shard = write_shard(tmp_path / "in" / "s.parquet", _texts(10))
    a = run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "a")
    marker = RunLayout(tmp_path / "a").read_marker("s.parquet")
    assert {k: marker["input"][k] for k in ("bytes", "sha256")} == file_digest(shard)
    assert a.manifest["inputs"][0]["sha256"] == file_digest(shard)["sha256"] and marker["input"]["texts_sha256"]
    texts = _texts(10)
    texts[3] = texts[3].replace("(003)", "(00y)")
    write_shard(shard, texts)  # same rows, same size, another content
    b = run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "b")
    assert b.manifest["inputs"][0]["bytes"] == a.manifest["inputs"][0]["bytes"]
    assert b.manifest["run_id"] != a.manifest["run_id"]


def test_a_marker_without_an_input_fingerprint_is_redone(tmp_path, caplog):
    import json
    import logging

    write_shard(tmp_path / "in" / "s.parquet", _texts(10))
    run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "out")
    layout = RunLayout(tmp_path / "out")
    marker = layout.read_marker("s.parquet")
    del marker["input"]
    layout.done("s.parquet").write_text(json.dumps(marker))
    with caplog.at_level(logging.WARNING, logger="filterkit"):
        res = run(tmp_path / "in", _pipeline(tmp_path), tmp_path / "out")
    assert [r["shard"] for r in res.manifest["timing"]["redone_shards"]] == ["s.parquet"]
    assert "no input fingerprint" in caplog.text and layout.read_marker("s.parquet")["input"]["sha256"]
