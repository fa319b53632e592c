"""Issue 12, points 2-4: what a run folder says stays true, one writer per folder, no orphaned helpers.

Blocklist-only pipelines throughout, so no encoder is loaded.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.errors import FilterkitError
from filterkit.io import file_digest
from filterkit.runs.verify import verify
from filterkit.store.layout import LOCK_NAME, RunLayout
from tests.conftest import GENERAL, PROXY, PausedRun, write_pipeline, write_shard


def _blocklist_only(tmp_path: Path, **executor) -> Path:
    return write_pipeline(
        tmp_path / "bl.yaml",
        blocklist={"mode": "remove"},
        classifier={"enabled": False},
        **({"executor": executor} if executor else {}),
    )


def _input(folder: Path, n_shards: int = 3, rows: int = 12) -> Path:
    docs = GENERAL + PROXY + [" ".join(PROXY)]
    for i in range(n_shards):
        write_shard(folder / f"part-{i:03d}.parquet", [f"{docs[(i + j) % len(docs)]} {j}" for j in range(rows)])
    return folder


def _outputs(out: Path) -> dict[str, bytes]:
    return {f"{s}/{p.name}": p.read_bytes() for s in ("kept", "audit", "scores") for p in sorted((out / s).glob("*"))}


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _one_line(res, *needles: str) -> str:
    text = " ".join(res.output.split())  # rich may wrap a long line in a narrow terminal
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    for n in needles:
        assert " ".join(n.split()) in text, (n, res.output)
    return text


# --- 2. done markers record their outputs; tampered outputs are redone or refused -------------------------


def test_marker_records_each_output_and_a_rerun_redoes_tampered_shards(tmp_path, caplog):
    d = _input(tmp_path / "in")
    p = _blocklist_only(tmp_path)
    out, clean = tmp_path / "out", tmp_path / "clean"
    first = run(d, p, out)
    layout = RunLayout(out)
    for name in ("part-000.parquet", "part-001.parquet", "part-002.parquet"):
        marker = layout.read_marker(name)
        for kind in ("kept", "audit", "scores"):
            path = out / kind / name
            assert marker["outputs"][kind] == {**file_digest(path), "rows": pq.ParquetFile(path).metadata.num_rows}
        assert marker["outputs"]["kept"]["rows"] + marker["outputs"]["audit"]["rows"] == marker["rows_read"] == 12

    (out / "kept" / "part-000.parquet").unlink()
    audit = out / "audit" / "part-001.parquet"
    audit.write_bytes(audit.read_bytes()[: audit.stat().st_size // 2])
    with caplog.at_level(logging.WARNING, logger="filterkit"):
        again = run(d, p, out)
    redone = {r["shard"]: r["problem"] for r in again.manifest["timing"]["redone_shards"]}
    assert set(redone) == {"part-000.parquet", "part-001.parquet"}
    assert "missing" in redone["part-000.parquet"] and "bytes" in redone["part-001.parquet"]
    assert "redoing shard part-000.parquet" in caplog.text and "redoing shard part-001.parquet" in caplog.text
    assert again.manifest["timing"]["resumed_shards"] == ["part-002.parquet"]
    assert again.counts == first.counts
    run(d, p, clean)
    assert _outputs(out) == _outputs(clean)  # redone shards are byte-identical to a clean run
    assert verify(out).ok


def test_audit_and_rethreshold_refuse_a_damaged_run_in_one_line(tmp_path):
    d = _input(tmp_path / "in")
    out = tmp_path / "out"
    run(d, _blocklist_only(tmp_path), out)
    audit = out / "audit" / "part-002.parquet"
    audit.write_bytes(audit.read_bytes()[:100])
    _one_line(_cli("audit", str(out)), "part-002.parquet", "re-run `filterkit run`")
    _one_line(_cli("audit", str(out), "--sql", "SELECT count(*) FROM audit"), "part-002.parquet")
    _one_line(
        _cli("rethreshold", str(out), "-o", str(tmp_path / "re"), "--min-unique-hits", "3"),
        "part-002.parquet",
        "re-run `filterkit run`",
    )
    assert not (tmp_path / "re").exists()  # refused before anything was written
    (out / "scores" / "part-000.parquet").unlink()
    _one_line(_cli("audit", str(out)), "part-00")


def test_verify_checks_hashes_rows_and_conservation_from_the_files(tmp_path):
    d = _input(tmp_path / "in")
    out = tmp_path / "out"
    run(d, _blocklist_only(tmp_path), out)
    ok = _cli("verify", str(out))
    assert ok.exit_code == 0 and "ok: 3 shards" in ok.stdout, ok.output

    # same size, one byte changed: only the hash can tell
    kept = out / "kept" / "part-001.parquet"
    raw = bytearray(kept.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    kept.write_bytes(bytes(raw))
    # a consistent forgery: a kept file with a row dropped, and the marker updated to its size and hash
    layout = RunLayout(out)
    k2 = out / "kept" / "part-002.parquet"
    t = pq.read_table(k2)
    pq.write_table(t.slice(1), k2)
    marker = layout.read_marker("part-002.parquet")
    marker["outputs"]["kept"] = {**file_digest(k2), "rows": t.num_rows - 1}
    layout.done("part-002.parquet").write_text(json.dumps(marker))

    bad = _cli("verify", str(out))
    assert bad.exit_code == 2
    lines = [ln for ln in bad.output.splitlines() if ln.startswith("bad:")]
    assert len(lines) == 2, bad.output
    text = " ".join(bad.output.split())
    assert "part-001.parquet" in text and "sha256" in text
    assert "part-002.parquet" in text and f"read 12 != kept {t.num_rows - 1} + removed" in text
    report = verify(out)
    assert not report.ok and set(report.bad) == {"part-001.parquet", "part-002.parquet"}


def test_verify_refuses_an_unfinished_run(tmp_path):
    _one_line(_cli("verify", str(tmp_path / "nothing")), "no such run folder")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "run.json").write_text("{}")
    _one_line(_cli("verify", str(tmp_path / "half")), "no manifest.json")


# --- 3. one writer per run folder -------------------------------------------------------------------------


def _paused_run(tmp_path: Path, d: Path, p: Path, out: Path) -> PausedRun:
    return PausedRun(tmp_path, ["run", str(d), "-p", str(p), "-o", str(out), "--quiet"])


@pytest.mark.slow
def test_a_second_run_into_the_same_out_exits_2_naming_the_holder(tmp_path):
    d = _input(tmp_path / "in")
    p = _blocklist_only(tmp_path)
    out = tmp_path / "out"
    first = _paused_run(tmp_path, d, p, out)
    try:
        first.wait_paused()  # its first shard is written, not committed: the run holds the folder's lock
        lock = out / LOCK_NAME
        assert json.loads(lock.read_text())["pid"] == first.proc.pid
        second = _cli("run", str(d), "-p", str(p), "-o", str(out))
        text = _one_line(second, str(out), f"pid {first.proc.pid}", socket.gethostname())
        assert "another filterkit run" in text
        assert not (out / "manifest.json").exists()  # the refused run wrote nothing of its own
        first.resume()
        _, err = first.proc.communicate(timeout=300)
    finally:
        first.kill()
    assert first.proc.returncode == 0, err
    assert verify(out).ok and lock.read_text() == ""  # released on a clean exit
    assert json.loads((out / "manifest.json").read_text())["counts"]["read"] == 36


def test_a_stale_lock_is_taken_over_and_another_hosts_lock_is_named(tmp_path):
    d = _input(tmp_path / "in")
    p = _blocklist_only(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock = out / LOCK_NAME
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "started": "earlier"}))
    res = run(d, p, out)  # holder killed on this host: its OS lock is gone, so the file is stale
    assert res.counts["read"] == 36

    lock.write_text(json.dumps({"host": "node-17", "pid": 4242, "started": "2026-01-01T00:00:00+00:00"}))
    with pytest.raises(FilterkitError, match=r"node-17.*pid 4242.*delete"):
        run(d, p, out)
    lock.unlink()
    assert run(d, p, out).counts["read"] == 36


class _FakeSlurm:
    """Stands in for datatrove's SlurmPipelineExecutor: records submissions, finishes nothing."""

    submissions = 0

    def __init__(self) -> None:
        self.job_id = None

    def run(self) -> None:
        _FakeSlurm.submissions += 1
        self.job_id = str(1000 + _FakeSlurm.submissions)
        # sbatch --export=ALL hands this environment to the jobs: they must not tie themselves to this pid
        assert "FILTERKIT_RUN_PID" not in os.environ


def test_slurm_rerun_does_not_resubmit_queued_jobs(tmp_path, monkeypatch):
    from filterkit.runs import runner, slurm

    d = _input(tmp_path / "in")
    p = write_pipeline(
        tmp_path / "s.yaml",
        blocklist={"mode": "remove"},
        classifier={"enabled": False},
        executor={"kind": "slurm", "tasks": 3},
    )
    out = tmp_path / "out"
    monkeypatch.setattr(runner, "build_executor", lambda prep, steps: _FakeSlurm())
    queued: list[list[str]] = []
    monkeypatch.setattr(slurm, "slurm_jobs_active", lambda ids: queued.append(ids) or list(ids))
    _FakeSlurm.submissions = 0

    first = run(d, p, out)
    assert first.manifest["submitted"] and _FakeSlurm.submissions == 1
    assert json.loads((out / ".state" / "slurm.json").read_text()) == {"job_ids": ["1001"]}

    again = _cli("run", str(d), "-p", str(p), "-o", str(out))  # job 1001 still queued: nothing resubmitted
    assert again.exit_code == 0 and "1001" in again.stdout and "still queued" in again.stdout, again.output
    assert _FakeSlurm.submissions == 1 and queued == [["1001"]]

    monkeypatch.setattr(slurm, "slurm_jobs_active", lambda ids: [])  # the job ended without finishing
    run(d, p, out)
    assert _FakeSlurm.submissions == 2
    assert json.loads((out / ".state" / "slurm.json").read_text()) == {"job_ids": ["1002"]}


# --- 4. no orphaned helper processes after a SIGKILL ------------------------------------------------------


def test_a_task_ties_itself_only_to_a_local_run_on_this_host(monkeypatch):
    from filterkit import proc

    monkeypatch.setattr(proc, "_watchdog", [])
    monkeypatch.setenv("FILTERKIT_RUN_PID", f"another-node@{os.getpid() + 1}")  # a Slurm job's inherited env
    proc.tie_task_process()
    assert proc.watchdogs() == 0
    monkeypatch.setenv("FILTERKIT_RUN_PID", f"{socket.gethostname()}@{os.getpid()}")  # the run itself
    proc.tie_task_process()
    assert proc.watchdogs() == 0


from benchmarks.fault_bench import descendants as _descendants  # noqa: E402  (one /proc walker for both)
from benchmarks.fault_bench import processes as _processes  # noqa: E402


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts processes through /proc")
@pytest.mark.parametrize("workers", [1, 2])
def test_sigkilled_run_leaves_no_orphans(tmp_path, workers):
    d = _input(tmp_path / "in", n_shards=8)
    p = _blocklist_only(tmp_path, tasks=4, workers=workers)
    out = tmp_path / "out"
    before = _processes()
    paused = _paused_run(tmp_path, d, p, out)
    try:
        writers = paused.wait_paused()  # a shard's kept file written, not committed: the run is mid-way for sure
        proc = paused.proc
        during = _processes()
        helpers = _descendants(proc.pid, during) | {
            pid for pid, (_, cmd) in during.items() if str(out) in cmd and pid not in before
        }
        helpers.discard(proc.pid)
        assert helpers, "expected datatrove helper processes while the run is going"
        if workers > 1:
            assert set(writers) <= helpers  # the paused writer is a pool worker, not the run itself
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        paused.kill()
    done = out / ".state" / "done"
    deadline = time.time() + 10
    while time.time() < deadline and helpers & set(_processes()):  # the watchdogs poll every 0.2 s
        time.sleep(0.1)
    orphans = {pid: _processes().get(pid) for pid in helpers & set(_processes())}
    assert orphans == {}, orphans
    assert not any(str(out) in cmd for pid, (_, cmd) in _processes().items() if pid not in before)
    # every writer was paused before its first commit, and died with the run instead of finishing it
    assert not list(done.glob("*.json"))
    assert not (out / "manifest.json").exists()
    res = run(d, p, out)  # and the folder resumes
    assert res.counts["read"] == 8 * 12 == res.counts["kept"] + res.counts["removed"]
