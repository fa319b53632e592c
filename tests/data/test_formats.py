"""Issue 13, point 1: JSON lines (.jsonl, .gz, .zst) and parquet inputs, local or through fsspec URLs;
kept/ in the input's format or as set by output.format; one-line errors for bad lines and unsupported files.

Every run here is blocklist-only (no encoder), on a few generated rows.
"""

from __future__ import annotations

import gzip
import io
import json
import signal
import uuid
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
import zstandard
from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.data.inputs import iter_documents
from filterkit.data.sources import discover
from filterkit.errors import FilterkitError
from filterkit.runs.verify import verify
from tests.conftest import (
    BLOCKLIST,
    GENERAL,
    PROXY,
    one_line_error,
    run_killed,
    write_shard,
)

DOCS = PROXY + GENERAL  # PROXY rows hold >= 2 unique terms each: 4 removed, 6 kept
KEPT_TEXTS = GENERAL


def _pipeline(tmp_path: Path, name: str = "p.yaml", **sections: dict) -> Path:
    cfg: dict = {
        "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
        "classifier": {"enabled": False},
        **sections,
    }
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return p


def _jsonl(texts: list[str], prefix: str = "d") -> bytes:
    """Lines with an id, the text and a nested field, in the spacing a json.dumps writer leaves (kept as is)."""
    return b"".join(
        json.dumps({"id": f"{prefix}{i}", "text": t, "meta": {"source": "wiki", "n": i}}).encode() + b"\n"
        for i, t in enumerate(texts)
    )


def _compress(data: bytes, suffix: str) -> bytes:
    if suffix.endswith(".gz"):
        return gzip.compress(data)
    if suffix.endswith(".zst"):
        return zstandard.ZstdCompressor().compress(data)
    return data


def _decompress(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


def _write_input(d: Path, suffix: str, texts: list[str], stem: str = "part-0") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        return write_shard(d / f"{stem}.parquet", texts, ids=[f"d{i}" for i in range(len(texts))])
    path = d / f"{stem}{suffix}"
    path.write_bytes(_compress(_jsonl(texts), suffix))
    return path


def _kept_lines(path: Path) -> list[bytes]:
    return [line for line in _decompress(path).splitlines(keepends=True) if line.strip()]


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


# --- each format end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst", ".json.gz", ".parquet"])
def test_each_format_end_to_end_keeps_its_format(tmp_path, suffix):
    """kept/ keeps the input's format (output.format: same); a JSON line is kept byte for byte, in order."""
    d = tmp_path / "in"
    src = _write_input(d, suffix, DOCS + GENERAL)  # 16 rows: 4 removed
    out = tmp_path / "out"
    res = run(d, _pipeline(tmp_path), out, capture_logs=False)
    assert (res.counts["read"], res.counts["removed"], res.counts["kept"]) == (16, 4, 12)
    kept_dir = out / "kept"
    if suffix == ".parquet":
        assert [p.name for p in kept_dir.iterdir()] == ["part-0.parquet"]
        kept = pq.read_table(kept_dir / "part-0.parquet")
        assert kept.schema == pq.read_schema(src) and kept.column("text").to_pylist() == GENERAL + GENERAL
    else:
        assert [p.name for p in kept_dir.iterdir()] == [src.name]
        lines = _kept_lines(kept_dir / src.name)
        want = [line for line in _decompress(src).splitlines(keepends=True) if json.loads(line)["text"] in GENERAL]
        assert lines == want  # the input's own bytes, in input order
    # audit and scores stay parquet, named after the shard
    assert sorted(p.name for p in (out / "audit").iterdir()) == ["part-0.parquet"]
    audit = pq.read_table(out / "audit" / "part-0.parquet")
    assert audit.column("row_index").to_pylist() == [0, 1, 2, 3]
    assert audit.column("doc_id").to_pylist() == ["d0", "d1", "d2", "d3"]
    assert verify(out).ok, verify(out).lines()
    m = json.loads((out / "manifest.json").read_text())
    assert m["inputs"][0]["format"] == ("parquet" if suffix == ".parquet" else "jsonl")


@pytest.mark.parametrize("output_format", ["parquet", "jsonl.zst"])
def test_output_format_converts_every_input_format(tmp_path, output_format):
    d = tmp_path / "in"
    _write_input(d, ".jsonl.gz", DOCS, stem="a")
    _write_input(d, ".parquet", DOCS, stem="b")
    _write_input(d, ".jsonl", DOCS, stem="c")
    out = tmp_path / "out"
    res = run(d, _pipeline(tmp_path, output={"format": output_format}), out, capture_logs=False)
    assert (res.counts["read"], res.counts["kept"]) == (30, 18)
    ext = ".parquet" if output_format == "parquet" else ".jsonl.zst"
    assert sorted(p.name for p in (out / "kept").iterdir()) == [f"{s}{ext}" for s in "abc"]
    for s in "abc":
        path = out / "kept" / f"{s}{ext}"
        if output_format == "parquet":
            rows = pq.read_table(path).to_pylist()
        else:
            rows = [json.loads(line) for line in _kept_lines(path)]
        assert [r["text"] for r in rows] == GENERAL and [r["id"] for r in rows] == [f"d{i}" for i in range(4, 10)]
        if s != "b":  # nested JSON survives parquet (as a struct) and the round trip
            assert rows[0]["meta"] == {"source": "wiki", "n": 4}
    assert verify(out).ok, verify(out).lines()


def test_jsonl_to_parquet_schema_comes_from_every_line(tmp_path):
    """A field that is an integer on the first lines and a float later is a double column, not an error."""
    d = tmp_path / "in"
    d.mkdir()
    rows = [{"text": t, "score": i} for i, t in enumerate(GENERAL)] + [{"text": GENERAL[0], "score": 0.5, "x": "y"}]
    (d / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    run(d, _pipeline(tmp_path, output={"format": "parquet"}, input={"batch_rows": 2}), out, capture_logs=False)
    t = pq.read_table(out / "kept" / "a.parquet")
    assert t.schema.field("score").type == pa.float64() and t.column("x").to_pylist() == [None] * 6 + ["y"]


def test_blank_lines_and_ids_of_any_json_type(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    lines = [
        json.dumps({"id": 7, "text": GENERAL[0]}),
        "",
        json.dumps({"text": PROXY[0]}),
        "  ",
        json.dumps({"id": "x", "text": GENERAL[1]}),
    ]
    (d / "a.jsonl").write_text("\n".join(lines), encoding="utf-8")  # no newline after the last line
    out = tmp_path / "out"
    res = run(d, _pipeline(tmp_path), out, capture_logs=False)
    assert (res.counts["read"], res.counts["kept"]) == (3, 2)
    assert (out / "kept" / "a.jsonl").read_text() == lines[0] + "\n" + lines[4] + "\n"
    assert pq.read_table(out / "audit" / "a.parquet").column("doc_id").to_pylist() == ["a.jsonl#1"]
    shard = discover(d)[0]
    assert [ids for _, ids in iter_documents(shard, _cfg())] == [["7", None, "x"]]


def _cfg(**kw):
    from filterkit.config import InputConfig

    return InputConfig(**kw)


def test_reading_streams_in_bounded_batches(tmp_path):
    """The reader holds input.batch_rows documents at a time, whatever the shard size."""
    path = _write_input(tmp_path / "in", ".jsonl.zst", DOCS * 5)
    shard = discover(path)[0]
    sizes = [len(texts) for texts, _ in iter_documents(shard, _cfg(batch_rows=7))]
    assert sizes == [7] * 7 + [1] and shard.num_rows == 50


def test_several_tasks_read_each_jsonl_shard_once(tmp_path):
    d = tmp_path / "in"
    for i in range(5):
        _write_input(d, [".jsonl", ".jsonl.gz", ".jsonl.zst"][i % 3], DOCS, stem=f"s{i}")
    p = _pipeline(tmp_path, executor={"tasks": 3, "workers": 1})
    res = run(d, p, tmp_path / "out", capture_logs=False)
    assert (res.counts["read"], res.counts["removed"]) == (50, 20)
    assert len(list((tmp_path / "out" / ".state" / "done").glob("*.json"))) == 5


# --- fsspec URLs ---------------------------------------------------------------------------------------------


@pytest.fixture
def memfs():
    """A private folder on fsspec's in-process memory filesystem, removed after the test."""
    import fsspec

    fs = fsspec.filesystem("memory")
    root = f"/filterkit-test-{uuid.uuid4().hex[:8]}"
    yield fs, root
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_memory_url_folder_of_mixed_formats(tmp_path, memfs):
    fs, root = memfs
    fs.pipe(f"{root}/in/a.jsonl.zst", _compress(_jsonl(DOCS), ".zst"))
    fs.pipe(f"{root}/in/sub/b.jsonl.gz", _compress(_jsonl(DOCS, "b"), ".gz"))
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": DOCS}), buf)
    fs.pipe(f"{root}/in/c.parquet", buf.getvalue())
    fs.pipe(f"{root}/in/_SUCCESS", b"")
    out = tmp_path / "out"
    res = run(f"memory://{root}/in", _pipeline(tmp_path), out, capture_logs=False)
    assert (res.counts["read"], res.counts["removed"], res.counts["kept"]) == (30, 12, 18)
    assert sorted(str(p.relative_to(out / "kept")) for p in (out / "kept").rglob("*") if p.is_file()) == [
        "a.jsonl.zst",
        "c.parquet",
        "sub/b.jsonl.gz",
    ]
    assert [json.loads(x)["id"] for x in _kept_lines(out / "kept" / "sub" / "b.jsonl.gz")] == [
        f"b{i}" for i in range(4, 10)
    ]
    m = json.loads((out / "manifest.json").read_text())
    assert all(i["path"].startswith("memory://") for i in m["inputs"])
    # the same URL again resumes the finished run instead of redoing it
    again = run(f"memory://{root}/in", _pipeline(tmp_path), out, capture_logs=False)
    assert sorted(again.manifest["timing"]["resumed_shards"]) == ["a.jsonl.zst", "c.parquet", "sub/b.jsonl.gz"]


def test_memory_url_file_and_glob(tmp_path, memfs):
    fs, root = memfs
    for s in "ab":
        fs.pipe(f"{root}/{s}.jsonl", _jsonl(DOCS))
    one = run(f"memory://{root}/a.jsonl", _pipeline(tmp_path), tmp_path / "one", capture_logs=False)
    both = run(f"memory://{root}/*.jsonl", _pipeline(tmp_path), tmp_path / "both", capture_logs=False)
    assert (one.counts["read"], both.counts["read"]) == (10, 20)
    assert (tmp_path / "one" / "kept" / "a.jsonl").read_bytes() == (tmp_path / "both" / "kept" / "a.jsonl").read_bytes()


def test_file_url_is_the_local_file(tmp_path):
    path = _write_input(tmp_path / "in", ".jsonl.zst", DOCS)
    res = run(f"file://{path}", _pipeline(tmp_path), tmp_path / "out", capture_logs=False)
    assert res.counts["read"] == 10 and res.manifest["inputs"][0]["path"] == str(path.resolve())


def test_url_errors_are_one_line(tmp_path, memfs):
    _, root = memfs
    p = str(_pipeline(tmp_path))
    one_line_error(
        _cli("run", f"memory://{root}/nothing", "-p", p, "-o", str(tmp_path / "o1")), "no such file or folder"
    )
    one_line_error(
        _cli("run", "nosuchproto://bucket/x.jsonl", "-p", p, "-o", str(tmp_path / "o2")), "nosuchproto://bucket/x.jsonl"
    )
    one_line_error(
        _cli("run", "hf://models/someorg/m", "-p", p, "-o", str(tmp_path / "o3")), "hf://datasets/"
    )  # only the hub's datasets, named explicitly


# --- resume after a kill -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_run_resumes_to_byte_identical_jsonl_zst(tmp_path):
    d = tmp_path / "in"
    for i in range(6):
        _write_input(
            d, [".jsonl.gz", ".parquet", ".jsonl"][i % 3], [DOCS[(i + j) % 10] for j in range(12)], stem=f"part-{i}"
        )
    p = _pipeline(tmp_path, output={"format": "jsonl.zst"}, input={"batch_rows": 5})
    killed = tmp_path / "killed"
    proc = run_killed(tmp_path, ["run", str(d), "-p", str(p), "-o", str(killed), "--quiet"], kill_at=3)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert len(list((killed / ".state" / "done").glob("*.json"))) == 2
    assert list((killed / ".state" / "tmp").rglob("*.kept"))  # the torn shard's file was left behind
    resumed = run(d, p, killed, capture_logs=False)
    assert len(resumed.manifest["timing"]["resumed_shards"]) == 2
    clean = run(d, p, tmp_path / "clean", capture_logs=False)
    assert resumed.counts == clean.counts

    def outputs(out: Path) -> dict[str, bytes]:
        return {
            str(f.relative_to(out)): f.read_bytes()
            for sub in ("kept", "audit", "scores")
            for f in (out / sub).rglob("*")
            if f.is_file()
        }

    got, want = outputs(killed), outputs(tmp_path / "clean")
    assert sorted(k for k in got if k.startswith("kept/")) == [f"kept/part-{i}.jsonl.zst" for i in range(6)]
    assert got == want  # byte for byte, compressed files included
    assert verify(killed).ok


def test_a_changed_jsonl_kept_file_is_caught_and_redone(tmp_path):
    d = tmp_path / "in"
    _write_input(d, ".jsonl.zst", DOCS)
    p = _pipeline(tmp_path)
    out = tmp_path / "out"
    run(d, p, out, capture_logs=False)
    kept = out / "kept" / "part-0.jsonl.zst"
    good = kept.read_bytes()
    lines = _kept_lines(kept)
    kept.write_bytes(zstandard.ZstdCompressor().compress(b"".join(lines[:-1] + [lines[0]])))  # a row swapped
    report = verify(out)
    assert not report.ok and "part-0.parquet" in report.bad and "kept/part-0.jsonl.zst" in report.lines()[0]
    kept.write_bytes(zstandard.ZstdCompressor().compress(b"".join(lines[:-1])))  # a row lost
    again = run(d, p, out, capture_logs=False)
    assert [r["shard"] for r in again.manifest["timing"]["redone_shards"]] == ["part-0.parquet"]
    assert kept.read_bytes() == good and verify(out).ok


# --- bad input: one line naming the file and the fix ---------------------------------------------------------


def test_malformed_line_names_file_and_line(tmp_path):
    d = tmp_path / "in"
    _write_input(d, ".jsonl", DOCS, stem="a")
    lines = _jsonl(GENERAL[:2]) + b"\n" + b'{"text": "cut off\n' + _jsonl(GENERAL[2:3])
    (d / "b.jsonl.zst").write_bytes(_compress(lines, ".zst"))
    out = tmp_path / "out"
    err = one_line_error(
        _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(out)),
        str(d / "b.jsonl.zst"),
        "line 4 ",
        "not valid JSON",
    )
    assert "fix or remove that line" in err
    assert not (out / "kept").exists()  # checked before anything is written


@pytest.mark.parametrize(
    "line, needles",
    [
        (b'{"body": "x"}', ["line 2 has no 'text' field", "fields: body", "input.text_column"]),
        (b'{"text": 5}', ["line 2", "'text' is a JSON number, not a string"]),
        (b'{"text": null}', ["'text' is null on lines 2", "drop or fill"]),
        (b'["text"]', ["line 2 is a JSON array, not an object"]),
    ],
)
def test_bad_text_field_is_one_line(tmp_path, line, needles):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.jsonl.gz").write_bytes(gzip.compress(_jsonl(GENERAL[:1]) + line + b"\n"))
    one_line_error(
        _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(tmp_path / "out")),
        str(d / "a.jsonl.gz"),
        *needles,
    )


def test_truncated_compressed_file_is_one_line(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    data = zstandard.ZstdCompressor().compress(_jsonl(DOCS * 20))
    (d / "a.jsonl.zst").write_bytes(data[: len(data) // 2])
    one_line_error(
        _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(tmp_path / "out")),
        str(d / "a.jsonl.zst"),
        "not a readable jsonl.zst file",
        "corrupt or truncated",
    )


def test_unsupported_extension_names_the_supported_ones(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("text\nhello\n")
    p = str(_pipeline(tmp_path))
    err = one_line_error(_cli("run", str(f), "-p", p, "-o", str(tmp_path / "o1")), str(f), "unsupported input format")
    for ext in (".parquet", ".jsonl", ".jsonl.gz", ".jsonl.zst"):
        assert ext in err
    j = tmp_path / "y.json"
    j.write_text('{"text": "hello"}\n')
    one_line_error(_cli("run", str(j), "-p", p, "-o", str(tmp_path / "o2")), "rename it .jsonl")
    d = tmp_path / "csvs"
    d.mkdir()
    (d / "a.csv").write_text("text\nhello\n")
    res = _cli("run", str(d), "-p", p, "-o", str(tmp_path / "o3"))
    one_line_error(res, str(d), "holds no .parquet, .jsonl, .jsonl.gz, .jsonl.zst")
    assert any("a.csv" in w for w in res.stderr.splitlines() if w.startswith("warning:"))


def test_parquet_without_extension_is_still_read(tmp_path):
    path = write_shard(tmp_path / "in" / "shard.parquet", DOCS)
    bare = path.rename(path.with_name("shard"))
    assert run(bare, _pipeline(tmp_path), tmp_path / "out", capture_logs=False).counts["read"] == 10


def test_same_name_in_two_formats_is_refused(tmp_path):
    d = tmp_path / "in"
    _write_input(d, ".jsonl", DOCS, stem="a")
    _write_input(d, ".parquet", DOCS, stem="a")
    with pytest.raises(FilterkitError, match=r"same output name 'a\.parquet'"):
        discover(d)


# --- DatasetDict: the split used is said, and how to pick another ------------------------------------------


@pytest.mark.slow
def test_dataset_dict_names_the_split_and_how_to_choose(tmp_path):
    import datasets

    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": DOCS}),
            "test": datasets.Dataset.from_dict({"text": GENERAL[:2]}),
        }
    )
    dd.save_to_disk(str(tmp_path / "hf"))
    res = _cli("run", str(tmp_path / "hf"), "-p", str(_pipeline(tmp_path)), "-o", str(tmp_path / "o1"), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["read"] == 10, res.output
    warned = [w for w in res.stderr.splitlines() if w.startswith("warning:")]
    assert any("test, train" in w and "'train'" in w and "input.hf_split" in w for w in warned), res.stderr
    test_split = _pipeline(tmp_path, "t.yaml", input={"hf_split": "test"})
    res = _cli("run", str(tmp_path / "hf"), "-p", str(test_split), "-o", str(tmp_path / "o2"), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["read"] == 2, res.output


def test_a_new_input_format_is_one_class_and_one_registry_line(tmp_path, monkeypatch):
    """The format registry (filterkit.data.formats): a CSV format written here, registered with one line, is listed,
    counted, checked, filtered, copied to kept/ and verified like the built-in ones, with no other change."""
    import pyarrow.csv as pacsv

    from filterkit.data import formats
    from filterkit.data.formats import ColumnarFormat

    class CsvFormat(ColumnarFormat):
        name = "csv"
        suffixes: ClassVar[dict[str, str | None]] = {".csv": None}

        def count_rows(self, shard, cfg):
            return pacsv.read_csv(shard.path).num_rows

        def schema(self, shard):
            return pacsv.read_csv(shard.path).schema

        def raw_batches(self, path, columns, batch_rows):
            table = pacsv.read_csv(path)
            yield from (table.select(columns) if columns else table).to_batches(max_chunksize=batch_rows)

        def file_rows(self, path):
            return pacsv.read_csv(path).num_rows

    monkeypatch.setitem(formats.FORMATS, "csv", CsvFormat())  # the one registry line
    d = tmp_path / "in"
    d.mkdir()
    pacsv.write_csv(pa.table({"id": [f"c{i}" for i in range(len(DOCS))], "text": DOCS}), d / "a.csv")
    assert ".csv" in formats.supported()
    res = run(d, _pipeline(tmp_path), tmp_path / "out")
    assert res.counts["read"] == len(DOCS) and res.counts["removed_blocklist"] == len(PROXY)
    kept = pq.read_table(tmp_path / "out" / "kept" / "a.parquet")
    assert kept.column("text").to_pylist() == KEPT_TEXTS and kept.column("id").to_pylist()[0] == f"c{len(PROXY)}"
    assert verify(tmp_path / "out").ok
