"""Issue 20, items 3, 5, 7-9 and 11-16: hostile input from the second battery — refused in one line, confined,
escaped — and the silent failures it found.

Every run here is blocklist-only (no encoder), on a few generated rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from filterkit.cli import app
from tests.conftest import BLOCKLIST, GENERAL, PROXY, one_line_error

DOCS = PROXY + GENERAL  # 4 removed (>= 2 unique terms each), 6 kept


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _pipeline(tmp_path: Path, name: str = "p.yaml", **sections) -> Path:
    cfg: dict = {
        "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
        "classifier": {"enabled": False},
        **sections,
    }
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return p


def _outputs_written(out: Path) -> list[Path]:
    return (
        [p for kind in ("kept", "audit", "scores") for p in (out / kind).rglob("*") if p.is_file()]
        if out.exists()
        else []
    )


# --- 3. duplicate JSON keys ----------------------------------------------------------------------------------


def test_duplicate_json_keys_are_refused_naming_file_and_line(tmp_path):
    f = tmp_path / "in" / "d.jsonl"
    f.parent.mkdir()
    good = [json.dumps({"id": f"g{i}", "text": t}) for i, t in enumerate(GENERAL)]
    smuggled = '{"id": "k1", "text": %s, "text": %s}' % (json.dumps(" ".join(PROXY)), json.dumps(GENERAL[0]))  # noqa: UP031 - the JSON's own braces
    f.write_text("\n".join(good[:2] + [smuggled] + good[2:]) + "\n", encoding="utf-8")
    res = _cli("run", f.parent, "-p", _pipeline(tmp_path), "-o", tmp_path / "out")
    one_line_error(res, str(f), "line 3", "'text' twice")
    assert _outputs_written(tmp_path / "out") == []


def test_duplicate_keys_in_nested_objects_or_escaped_spellings_are_refused(tmp_path):
    import orjson

    from filterkit.data.json_keys import duplicate_key

    for line in (b'{"id":"a","meta":{"src":"x","src" : "y"},"text":"t"}', b'{"t\\u0065xt":"a","text":"b"}'):
        assert duplicate_key(line, orjson.loads(line)) is not None, line
    for line in (b'{"id":"a","text":"he wrote \\"note\\": fine"}', b'{"a":[{"b":1},{"b":2}],"text":"x"}'):
        assert duplicate_key(line, orjson.loads(line)) is None, line


# --- 5. object-store keys that climb out of --out; every output path confined ---------------------------------


def _memory_parquet(key: str, texts: list[str]) -> None:
    import io

    import fsspec
    import pyarrow as pa

    buf = io.BytesIO()
    pq.write_table(pa.table({"text": texts}), buf)
    fsspec.filesystem("memory").pipe(key, buf.getvalue())


def test_object_keys_with_dot_dot_are_refused_before_anything_is_written(tmp_path):
    import uuid

    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    _memory_parquet(f"/{bucket}/ok.parquet", DOCS)
    _memory_parquet(f"/{bucket}/d/../../../escaped.parquet", DOCS)  # joined under OUT/kept: tmp_path/escaped.parquet
    out = tmp_path / "out"
    res = _cli("run", f"memory://{bucket}/", "-p", _pipeline(tmp_path), "-o", out)
    one_line_error(res, "d/../../../escaped.parquet", "'..' part", "rename")
    assert not list(tmp_path.glob("escaped*")) and not (tmp_path / ".state").exists()
    assert _outputs_written(out) == []


def test_shard_names_with_control_characters_are_refused_in_one_plain_line(tmp_path):
    from tests.conftest import write_shard

    write_shard(tmp_path / "in" / "a\x1b]0;pwned\x07b.parquet", DOCS)
    res = _cli("run", tmp_path / "in", "-p", _pipeline(tmp_path), "-o", tmp_path / "out")
    line = one_line_error(res, "control characters", "rename")
    assert "\x1b" not in res.output and "\x07" not in res.output and "\\x1b" in line


def test_every_output_path_is_confined_to_the_run_folder(tmp_path):
    import pytest

    from filterkit.errors import FilterkitError
    from filterkit.store.layout import RunLayout

    layout = RunLayout(tmp_path / "out")
    assert layout.output("kept", "a/b.parquet") == tmp_path / "out" / "kept" / "a" / "b.parquet"
    for bad in ("../x.parquet", "a/../../x.parquet", "/etc/x.parquet"):
        with pytest.raises(FilterkitError, match=r"outside .* in the run folder"):
            layout.output("audit", bad)
    with pytest.raises(FilterkitError, match=r"outside .* in the run folder"):
        layout.done("../../../x.parquet")


# --- 12. shard names too long for the outputs' names ------------------------------------------------------------


def test_a_name_too_long_for_its_done_marker_is_refused_up_front(tmp_path):
    from tests.conftest import write_shard

    name = "x" * 240 + ".parquet"  # 248 bytes: a legal file, but <name>.json.tmp would be 257
    write_shard(tmp_path / "in" / name, DOCS)
    out = tmp_path / "out"
    argv = ("run", tmp_path / "in", "-p", _pipeline(tmp_path), "-o", out)
    one_line_error(_cli(*argv), name, "too long", "rename")
    assert _outputs_written(out) == []
    one_line_error(_cli(*argv), "too long")  # the same answer on every re-run, not a traceback


# --- 7. markup and terminal escapes in paths, ids and texts ----------------------------------------------------

HOSTILE = "[/] [link=http://evil.example]click[/link] \x1b]0;pwned\x07\x1b[2J\x9b31m "


def test_an_error_about_a_path_with_markup_is_one_plain_line(tmp_path):
    res = _cli("run", tmp_path / "in[/]x", "-p", _pipeline(tmp_path), "-o", tmp_path / "out")
    one_line_error(res, "in[/]x", "glob matches no files")


def test_audit_prints_hostile_ids_and_texts_literally(tmp_path):
    from tests.conftest import write_shard

    texts = [HOSTILE + PROXY[0], HOSTILE + PROXY[1]] + GENERAL[:2]
    write_shard(tmp_path / "in" / "s.parquet", texts, ids=["\x1b[2J[/]id0", "[bold]id1", "g0", "g1"])
    assert _cli("run", tmp_path / "in", "-p", _pipeline(tmp_path), "-o", tmp_path / "out", "-q").exit_code == 0
    for argv in (
        ("audit", tmp_path / "out"),
        ("audit", tmp_path / "out", "--sql", 'SELECT doc_id, text AS "[/]" FROM audit'),
    ):
        res = _cli(*argv)
        assert res.exit_code == 0, (res.output, res.exception)
        assert "\x1b" not in res.output and "\x07" not in res.output and "\x9b" not in res.output
        assert "[/]" in res.output and "\\x1b" in res.output  # shown, as text
    assert "[link=http://evil.example]" in _cli("audit", tmp_path / "out", "--sql", "SELECT text FROM audit").output


def test_warning_lines_escape_control_characters(tmp_path):
    from tests.conftest import write_shard

    write_shard(tmp_path / "in" / "s.parquet", DOCS)
    (tmp_path / "in" / "notes\x1b[2J[bold].csv").write_text("x")  # skipped, and named in a warning
    res = _cli("run", tmp_path / "in", "-p", _pipeline(tmp_path), "-o", tmp_path / "out", "-q")
    assert res.exit_code == 0, res.output
    warning = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "\x1b" not in res.stderr and "notes\\x1b[2J[bold].csv" in warning[0]


# --- 8. YAML alias bombs, cycles and deep nesting ------------------------------------------------------------

BILLION_LAUGHS = (
    "\n".join(
        ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
        + ["name: *a8"]
    )
    + "\n"
)


def test_yaml_alias_bomb_is_refused_at_once(tmp_path):
    import time

    p = tmp_path / "bomb.yaml"
    p.write_text(BILLION_LAUGHS, encoding="utf-8")
    t0 = time.perf_counter()
    res = _cli("run", tmp_path, "-p", p, "-o", tmp_path / "out")
    one_line_error(res, str(p), "expand to more than")
    assert time.perf_counter() - t0 < 30  # it used to hang for minutes (seconds here, even on a loaded machine)


@pytest.mark.slow
def test_yaml_self_referencing_alias_and_deep_nesting_are_one_line(tmp_path):
    for name, text, needle in (
        ("cycle.yaml", "name: &r [*r]\n", "refers to the value that contains it"),
        ("deep.yaml", "name: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ):
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        one_line_error(_cli("run", tmp_path, "-p", p, "-o", tmp_path / "out"), str(p), needle)


def test_ordinary_anchors_still_work(tmp_path):
    from filterkit.config import load_config

    p = tmp_path / "ok.yaml"
    p.write_text(
        f"blocklist: &bl {{path: {BLOCKLIST}, min_unique_hits: 2, mode: remove}}\n"
        "classifier: {enabled: false}\nexecutor: {tasks: 1}\n",
        encoding="utf-8",
    )
    assert load_config(p).blocklist.min_unique_hits == 2


# --- 9. term files without limits ------------------------------------------------------------------------------


def _term_pipeline(tmp_path: Path, terms: str) -> Path:
    f = tmp_path / "terms.txt"
    f.write_text(terms, encoding="utf-8")
    return _pipeline(tmp_path, "terms.yaml", blocklist={"path": str(f), "min_unique_hits": 1, "mode": "remove"})


def test_term_files_over_the_limits_are_refused_before_any_worker(tmp_path, monkeypatch):
    from tests.conftest import write_shard

    write_shard(tmp_path / "in" / "s.parquet", DOCS)
    from filterkit.match import blocklist

    monkeypatch.setattr(
        blocklist.Blocklist,
        "__init__",
        lambda *a, **k: (_ for _ in ()).throw(AssertionError("the automaton was built")),
    )
    cases = (
        ("virus\n" + "x" * 5000 + "\n", "line 2 holds a term of 5,000 characters"),
        ("virus\n" + " ".join(["word"] * 2000) + "\n", "2,000 words"),
        ("".join(f"term{i}\n" for i in range(60_000)), "more than 50,000 terms"),
        ("x" * (9 << 20), "over the 8,388,608-byte limit"),
    )
    for terms, needle in cases:
        p = _term_pipeline(tmp_path, terms)
        one_line_error(_cli("run", tmp_path / "in", "-p", p, "-o", tmp_path / "out"), "terms.txt", needle)
        assert _outputs_written(tmp_path / "out") == []


# --- 11. a full disk under OUT/logs still leaves the error line on stderr -----------------------------------


def test_stderr_is_restored_when_the_log_cannot_be_flushed():
    import os
    import sys

    import pytest

    from filterkit.errors import FilterkitError
    from filterkit.runs.runner import _stderr_to

    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full (Linux) to make a write fail with ENOSPC")
    saved = os.dup(2)
    before = os.fstat(2)
    try:
        with pytest.raises(FilterkitError, match="the run's own error"), _stderr_to(Path("/dev/full"), True):
            sys.stderr.write("datatrove chatter that cannot be flushed\n")
            raise FilterkitError("the run's own error")
        after = os.fstat(2)
        assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino), "fd 2 still points at the log"
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# --- 13. two parquet columns named text --------------------------------------------------------------------


def test_duplicate_parquet_columns_are_one_line(tmp_path):
    import pyarrow as pa

    f = tmp_path / "in" / "dup.parquet"
    f.parent.mkdir()
    t = pa.Table.from_arrays([pa.array(GENERAL[:2]), pa.array([PROXY[0], PROXY[1]])], names=["text", "text"])
    pq.write_table(t, f)
    res = _cli("run", f.parent, "-p", _pipeline(tmp_path), "-o", tmp_path / "out")
    one_line_error(res, str(f), "column 'text' appears 2 times")
    assert _outputs_written(tmp_path / "out") == []


# --- 14. pickled encoder weights ------------------------------------------------------------------------------


def test_an_encoder_folder_with_pickle_weights_is_refused_up_front(tmp_path, monkeypatch):
    import filterkit.classify.encoder as E
    from tests.conftest import HEAD, write_shard

    enc = tmp_path / "enc"
    shutil_copy = __import__("shutil").copytree
    shutil_copy(
        E.packaged_encoder_path(), enc, ignore=lambda d, names: [n for n in names if n.endswith(".safetensors")]
    )
    (enc / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    write_shard(tmp_path / "in" / "s.parquet", DOCS)
    p = _pipeline(
        tmp_path,
        blocklist={"path": str(BLOCKLIST), "min_unique_hits": 2},
        classifier={"path": str(HEAD), "device": "cpu", "encoder_path": str(enc)},
    )
    monkeypatch.setattr(E.Encoder, "__init__", lambda *a, **k: (_ for _ in ()).throw(AssertionError("loaded")))
    res = _cli("run", tmp_path / "in", "-p", p, "-o", tmp_path / "out")
    one_line_error(res, str(enc), "safetensors", "pytorch_model.bin")
    assert not (tmp_path / "out").exists() or _outputs_written(tmp_path / "out") == []


# --- 15. --out inside INPUT ---------------------------------------------------------------------------------


def test_a_run_folder_inside_input_is_skipped_with_a_warning(tmp_path):
    from tests.conftest import write_shard

    d = tmp_path / "in"
    write_shard(d / "s.parquet", DOCS)
    argv = ("run", d, "-p", _pipeline(tmp_path), "-o", d / "filtered", "-q", "--json")
    first = _cli(*argv)
    assert first.exit_code == 0, first.output
    again = _cli(*argv)  # used to read filtered/scores/*.parquet as input: "no 'text' column"
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["read"] == json.loads(first.stdout)["read"] == len(DOCS)
    assert "skipped 1 filterkit run folder(s) inside INPUT: filtered" in again.stderr
    glob = _cli("run", f"{d}/**/*.parquet", "-p", _pipeline(tmp_path), "-o", tmp_path / "g", "-q", "--json")
    assert glob.exit_code == 0 and json.loads(glob.stdout)["read"] == len(DOCS), glob.output


# --- 16. the smaller ones ------------------------------------------------------------------------------------


def test_a_refused_run_leaves_no_lock_file_behind(tmp_path):
    from tests.conftest import write_shard

    d = tmp_path / "in"
    write_shard(d / "s.parquet", DOCS)
    res = _cli("run", d, "-p", _pipeline(tmp_path), "-o", d)  # --out is the input folder itself
    one_line_error(res, "is not a filterkit run folder")
    assert sorted(p.name for p in d.iterdir()) == ["s.parquet"]
    bad_cfg = tmp_path / "bad.yaml"
    bad_cfg.write_text("nonsense: 1\n")
    assert _cli("run", d, "-p", bad_cfg, "-o", tmp_path / "new").exit_code == 2
    assert not (tmp_path / "new").exists()


def test_audit_of_an_unfinished_run_says_so_and_counts_finished_shards_only(tmp_path):
    from filterkit.runs.audit import summarize
    from filterkit.store.layout import RunLayout
    from tests.conftest import write_shard

    d = tmp_path / "in"
    write_shard(d / "a.parquet", DOCS)
    write_shard(d / "b.parquet", DOCS)
    out = tmp_path / "out"
    assert _cli("run", d, "-p", _pipeline(tmp_path), "-o", out, "-q").exit_code == 0
    (out / "manifest.json").unlink()
    RunLayout(out).done("b.parquet").unlink()  # as a killed run leaves it: b's files there, no marker
    res = _cli("audit", out, "--json")
    assert res.exit_code == 0, res.output
    assert "has not finished" in res.stderr and "1 shard(s)" in res.stderr
    assert [r["shard"] for r in summarize(out)["per_shard"]] == ["a.parquet"]


def test_a_broken_parquet_symlink_is_named_as_such(tmp_path):
    import os

    from tests.conftest import write_shard

    d = tmp_path / "in"
    write_shard(d / "s.parquet", DOCS)
    os.symlink(tmp_path / "gone.parquet", d / "t.parquet")
    os.symlink(d / "loop.parquet", d / "loop.parquet")
    res = _cli("run", d, "-p", _pipeline(tmp_path), "-o", tmp_path / "out")
    one_line_error(res, "broken or looping symlink")
