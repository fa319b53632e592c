"""Issue 12, points 1, 5, 6 and 7: hostile names, no network at run time, one-line errors, nothing silent.

Every run here is blocklist-only (no encoder), on a few generated rows.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import stat
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from filterkit.cli import app
from filterkit.errors import FilterkitError
from tests.conftest import BLOCKLIST, GENERAL, PROXY, one_line_error, write_shard

DOCS = PROXY + GENERAL  # 4 removed (>= 2 unique terms each), 6 kept


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _pipeline(tmp_path: Path, name: str = "p.yaml", **input_cfg) -> Path:
    cfg: dict = {
        "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
        "classifier": {"enabled": False},
    }
    if input_cfg:
        cfg["input"] = input_cfg
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return p


def _no_partial_files(out: Path) -> None:
    assert not (out / ".state" / "tmp").exists() or not any((out / ".state" / "tmp").rglob("*"))
    assert list(out.rglob("*.tmp")) == [] if out.exists() else True


# --- 1. no SQL built from paths ------------------------------------------------------------------------------

INJECTION = "'[:-2] || $$a.parquet$$]); COPY (SELECT 42 AS pwned) TO $$pwned.csv$$; --\""


def test_audit_is_safe_with_hostile_shard_names(tmp_path, monkeypatch):
    """A quote-breaking shard name and a folder name carrying SQL: audit and --sql read them as data."""
    monkeypatch.chdir(tmp_path)  # the payload's COPY target is relative: it would land here
    d = tmp_path / "in"
    write_shard(d / "a.parquet", DOCS)
    write_shard(d / "a'b\".parquet", DOCS[:5])
    write_shard(d / INJECTION / "s.parquet", DOCS[2:])
    out = tmp_path / "out"
    res = _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(out), "--quiet")
    assert res.exit_code == 0, res.output

    res = _cli("audit", str(out), "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    per_shard = {r["shard"]: (r["read"], r["removed"]) for r in summary["per_shard"]}
    assert per_shard == {"a.parquet": (10, 4), "a'b\".parquet": (5, 4), f"{INJECTION}/s.parquet": (8, 2)}
    assert summary["removed_by_stage"] == [{"stage": "blocklist", "reason": "blocklist_terms", "n": 10}]

    res = _cli(
        "audit", str(out), "--sql", "SELECT input_shard, count(*) AS n FROM audit GROUP BY 1 ORDER BY 1", "--json"
    )
    assert res.exit_code == 0, res.output
    assert [(r["input_shard"], r["n"]) for r in json.loads(res.stdout)] == sorted(
        [("a.parquet", 4), ("a'b\".parquet", 4), (f"{INJECTION}/s.parquet", 2)]
    )
    assert not (tmp_path / "pwned.csv").exists()


def test_audit_sql_reads_only_the_two_views(tmp_path, monkeypatch):
    """--sql is the user's query over read-only views: it cannot write or read other files."""
    monkeypatch.chdir(tmp_path)
    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    out = tmp_path / "out"
    assert _cli("run", str(tmp_path / "in"), "-p", str(_pipeline(tmp_path)), "-o", str(out), "-q").exit_code == 0
    target = tmp_path / "copied.csv"
    one_line_error(_cli("audit", str(out), "--sql", f"COPY (SELECT * FROM audit) TO '{target}'"), "query failed")
    assert not target.exists()
    one_line_error(_cli("audit", str(out), "--sql", "SELECT * FROM read_csv('/etc/hostname')"), "query failed")


# --- 5. no network at run time ------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Every name lookup, connection or hub load is recorded and refused."""
    calls: list[str] = []

    def refuse(what):
        def f(*a, **k):
            calls.append(what)
            raise OSError(errno.ENETUNREACH, f"network disabled in this test ({what})")

        return f

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", refuse("load_dataset"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return calls


def test_missing_input_is_one_line_at_once_without_the_hub(tmp_path, no_network):
    out = tmp_path / "out"
    t0 = time.perf_counter()
    res = _cli("run", "someorg/no-such-folder", "-p", str(_pipeline(tmp_path)), "-o", str(out))
    assert time.perf_counter() - t0 < 10
    one_line_error(res, "someorg/no-such-folder", "no such file or folder", "hf://datasets/")
    assert no_network == []
    assert not out.exists()


def _unshare_works() -> bool:
    import shutil
    import subprocess

    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (a private network namespace)")
def test_missing_input_in_a_namespace_without_network(tmp_path):
    """The real thing: no network interface at all, hub not offline-flagged; still one line, at once."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    t0 = time.perf_counter()
    res = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-m",
            "filterkit.cli",
            "run",
            "someorg/no-such-folder",
            "-p",
            str(_pipeline(tmp_path)),
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert time.perf_counter() - t0 < 20  # the old fall-through to the hub spent ~25 s retrying DNS
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no such file or folder" in lines[0], res.stderr


def test_hub_datasets_are_reached_only_by_the_explicit_form(tmp_path, no_network):
    out = tmp_path / "out"
    res = _cli("run", "hf://datasets/someorg/data", "-p", str(_pipeline(tmp_path)), "-o", str(out))
    one_line_error(res, "hf://datasets/someorg/data", "Hugging Face hub")
    assert no_network == ["load_dataset"]  # tried, because the user asked for the hub by name
    assert not out.exists()


def test_slurm_pickle_is_private(tmp_path, monkeypatch):
    """The pickle Slurm jobs load is 0600 and its folder is writable by its owner only."""
    import datatrove.executor.slurm as ds

    from filterkit.runs.folder import claim_out_dir
    from filterkit.runs.runner import build_executor, build_pipeline, prepare

    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    p = _pipeline(tmp_path)
    cfg = yaml.safe_load(p.read_text())
    cfg["executor"] = {"kind": "slurm", "tasks": 1}
    p.write_text(yaml.safe_dump(cfg))
    prep = prepare(tmp_path / "in", p, tmp_path / "out")
    claim_out_dir(prep)
    prep.layout.logs.mkdir(parents=True)
    os.chmod(prep.layout.logs, 0o777)
    monkeypatch.setattr(ds, "launch_slurm_job", lambda *a, **k: "4242")
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
    build_executor(prep, build_pipeline(prep)).run()
    pik = prep.layout.logs / "executor.pik"
    assert pik.stat().st_size > 0
    assert stat.S_IMODE(pik.stat().st_mode) == 0o600
    assert stat.S_IMODE(prep.layout.logs.stat().st_mode) & 0o022 == 0


# --- 6. one line, exit 2, instead of a traceback ------------------------------------------------------------


def test_invalid_utf8_in_text_is_one_line(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    raw = pa.array([t.encode() for t in GENERAL[:3]] + [b"caf\xe9 au lait"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"text": raw}), d / "latin1.parquet")
    out = tmp_path / "out"
    one_line_error(
        _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(out)),
        str(d / "latin1.parquet"),
        "not valid UTF-8",
        "rows 3",
        "re-encode",
    )
    assert not (out / "kept").exists() or list((out / "kept").iterdir()) == []
    _no_partial_files(out)
    bad_ids = pa.array([b"a", b"\xff"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"id": bad_ids, "text": GENERAL[:2]}), d / "latin1.parquet")
    one_line_error(
        _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(tmp_path / "out2")),
        str(d / "latin1.parquet"),
        "'id'",
        "not valid UTF-8",
        "input.id_column",
    )


def test_out_that_is_a_file_is_one_line(tmp_path):
    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    f = tmp_path / "out.txt"
    f.write_text("not a folder")
    one_line_error(
        _cli("run", str(tmp_path / "in"), "-p", str(_pipeline(tmp_path)), "-o", str(f)), str(f), "is a file", "--out"
    )
    assert f.read_text() == "not a folder"


def test_unwritable_out_is_one_line(tmp_path, monkeypatch):
    """EACCES / EROFS on the run folder (simulated: the tests run as root, whom chmod does not stop)."""
    from filterkit.runs import folder

    def denied(path, data):
        raise PermissionError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(folder, "write_json_atomic", denied)  # the first file a run writes: run.json
    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    out = tmp_path / "ro"
    one_line_error(
        _cli("run", str(tmp_path / "in"), "-p", str(_pipeline(tmp_path)), "-o", str(out)),
        str(out),
        "cannot write",
        "writable --out",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_out_folder_is_one_line(tmp_path):
    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        one_line_error(
            _cli("run", str(tmp_path / "in"), "-p", str(_pipeline(tmp_path)), "-o", str(ro / "out")), "cannot write"
        )
    finally:
        os.chmod(ro, 0o755)


def test_disk_full_mid_run_is_one_line_and_resumes(tmp_path, monkeypatch):
    from filterkit.stages import shard_output

    d = tmp_path / "in"
    write_shard(d / "a.parquet", DOCS)
    write_shard(d / "b.parquet", DOCS[:6])
    real = shard_output.atomic_replace

    def full(tmp, final):
        if "b.parquet" in str(final):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
        real(tmp, final)

    monkeypatch.setattr(shard_output, "atomic_replace", full)
    out = tmp_path / "out"
    p = _pipeline(tmp_path)
    one_line_error(_cli("run", str(d), "-p", str(p), "-o", str(out)), str(out), "no space left", "re-run")
    assert sorted(x.name for x in (out / "kept").iterdir()) == ["a.parquet"]  # finished shards are kept
    _no_partial_files(out)
    monkeypatch.setattr(shard_output, "atomic_replace", real)
    res = _cli("run", str(d), "-p", str(p), "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    counts = json.loads(res.stdout)
    assert (counts["read"], counts["kept"], counts["removed"]) == (16, 8, 8)


def test_overlong_document_mid_run_leaves_a_folder_the_fixed_rerun_accepts(tmp_path):
    """The first run fails on shard c after a shard finished; the re-run that raises max_chars resumes it."""
    d = tmp_path / "in"
    write_shard(d / "a.parquet", GENERAL[:3])
    write_shard(d / "b.parquet", GENERAL[3:])
    write_shard(d / "c.parquet", DOCS + ["word " * 100])
    out = tmp_path / "out"
    strict = _pipeline(tmp_path, "strict.yaml", max_chars=300)
    one_line_error(
        _cli("run", str(d), "-p", str(strict), "-o", str(out)), str(d / "c.parquet"), "rows 10", "input.max_chars"
    )
    finished = sorted(m.name[: -len(".json")] for m in (out / ".state" / "done").glob("*.json"))
    assert finished  # something to resume, so the folder is not simply taken over
    loose = _pipeline(tmp_path, "loose.yaml", max_chars=10_000)
    res = _cli("run", str(d), "-p", str(loose), "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    counts = json.loads(res.stdout)
    assert (counts["read"], counts["removed"]) == (17, 4)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["timing"]["resumed_shards"] == finished


def test_failed_first_shard_leaves_a_folder_a_corrected_input_takes_over(tmp_path):
    """Nothing finished: the re-run over the fixed shard (another run id) is not refused."""
    d = tmp_path / "in"
    write_shard(d / "b.parquet", DOCS + ["word " * 100])
    out = tmp_path / "out"
    p = _pipeline(tmp_path, max_chars=300)
    one_line_error(_cli("run", str(d), "-p", str(p), "-o", str(out)), "input.max_chars")
    write_shard(d / "b.parquet", DOCS)  # the user splits or drops the long document
    res = _cli("run", str(d), "-p", str(p), "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["read"] == 10


@pytest.mark.parametrize("torn", [False, True])
def test_run_json_tmp_left_by_a_kill_is_recovered(tmp_path, torn):
    """A SIGKILL around the first run.json rename leaves only run.json.tmp: the same run goes ahead."""
    from filterkit.runs.runner import prepare

    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    p = _pipeline(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    prep = prepare(tmp_path / "in", p, out)
    whole = json.dumps({"run_id": prep.info.run_id, "config_sha256": prep.info.config_sha256, "filterkit": "x"})
    (out / "run.json.tmp").write_text(whole[:25] if torn else whole)
    res = _cli("run", str(tmp_path / "in"), "-p", str(p), "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["kept"] == 6
    assert not (out / "run.json.tmp").exists()
    assert json.loads((out / "run.json").read_text())["run_id"] == prep.info.run_id


# --- 7. nothing accepted silently ----------------------------------------------------------------------------


def test_binary_or_empty_term_files_are_refused(tmp_path):
    from filterkit.match.blocklist import read_terms

    binary = tmp_path / "terms.bin"
    binary.write_bytes(b"virus\x00\x00\x01\x02bacteria\x00\npathogen\n")  # valid UTF-8, but not text
    with pytest.raises(FilterkitError, match="binary"):
        read_terms(binary)
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n\n   \n", encoding="utf-8")
    with pytest.raises(FilterkitError, match="no terms"):
        read_terms(empty)
    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    p = tmp_path / "p.yaml"
    p.write_text(
        yaml.safe_dump({"blocklist": {"path": str(binary), "mode": "remove"}, "classifier": {"enabled": False}})
    )
    one_line_error(
        _cli("run", str(tmp_path / "in"), "-p", str(p), "-o", str(tmp_path / "out")),
        str(binary),
        "binary",
        "blocklist.path",
    )


def test_implausible_term_file_is_warned_about(tmp_path, caplog):
    from filterkit.match.blocklist import read_terms

    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    with caplog.at_level(logging.WARNING, logger="filterkit"):
        assert len(read_terms(passwd)) == 2
    assert str(passwd) in caplog.text and "2 of 2" in caplog.text and "root:x:0:0" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="filterkit"):
        read_terms(BLOCKLIST)
    assert caplog.text == ""  # the shipped list is plausible

    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    p = tmp_path / "p.yaml"
    p.write_text(
        yaml.safe_dump({"blocklist": {"path": str(passwd), "mode": "remove"}, "classifier": {"enabled": False}})
    )
    res = _cli("run", str(tmp_path / "in"), "-p", str(p), "-o", str(tmp_path / "out"), "--quiet")
    assert res.exit_code == 0
    assert "warning:" in res.stderr and str(passwd) in res.stderr and "do not look like topic terms" in res.stderr


def test_duplicate_yaml_keys_are_refused(tmp_path):
    from filterkit.config import load_config

    p = tmp_path / "dup.yaml"
    p.write_text(
        f"blocklist:\n  path: {BLOCKLIST}\n  min_unique_hits: 2\n  mode: remove\n  min_unique_hits: 9\n"
        "classifier:\n  enabled: false\n",
        encoding="utf-8",
    )
    with pytest.raises(FilterkitError) as e:
        load_config(p)
    assert str(p) in e.value.message and "'min_unique_hits'" in e.value.message and "line 5" in e.value.message
    p.write_text("classifier:\n  enabled: false\nclassifier:\n  threshold: 0.5\n", encoding="utf-8")
    write_shard(tmp_path / "in" / "a.parquet", DOCS)
    one_line_error(
        _cli("run", str(tmp_path / "in"), "-p", str(p), "-o", str(tmp_path / "out")), str(p), "'classifier'", "line 3"
    )


def test_skipped_files_and_symlinked_folders_are_named(tmp_path):
    d = tmp_path / "in"
    write_shard(d / "a.parquet", DOCS)
    (d / "extra.csv").write_text("text\nx\n")
    (d / "_SUCCESS").write_text("")
    elsewhere = tmp_path / "elsewhere"
    write_shard(elsewhere / "b.parquet", DOCS)
    (d / "linked").symlink_to(elsewhere, target_is_directory=True)
    res = _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(tmp_path / "out"), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["read"] == 10  # only a.parquet is read
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert any("extra.csv" in w and "unsupported format" in w for w in warnings), res.stderr
    assert any("linked" in w and "symlinked" in w for w in warnings), res.stderr
    assert not any("_SUCCESS" in w for w in warnings)


def test_dictionary_encoded_text_is_read_as_text(tmp_path):
    """pandas categoricals are stored dictionary-encoded: same decisions as plain strings."""
    pd = pytest.importorskip("pandas", reason="writes a categorical column with pandas (installed with datasets)")
    d = tmp_path / "in"
    d.mkdir()
    texts = DOCS + DOCS[:2]
    pd.DataFrame({"text": pd.Categorical(texts), "id": [f"d{i}" for i in range(len(texts))]}).to_parquet(
        d / "c.parquet"
    )
    assert pa.types.is_dictionary(pq.read_schema(d / "c.parquet").field("text").type)
    out = tmp_path / "out"
    res = _cli("run", str(d), "-p", str(_pipeline(tmp_path)), "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    counts = json.loads(res.stdout)
    assert (counts["read"], counts["removed"], counts["kept"]) == (12, 6, 6)
    kept = pq.read_table(out / "kept" / "c.parquet")
    assert sorted(kept.column("id").to_pylist()) == [f"d{i}" for i in range(4, 10)]
