"""Exactly-once under a real crash: SIGKILL a `filterkit run` at a known point mid-way (no timing race), re-run,
compare with a clean run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from filterkit import run
from tests.conftest import GENERAL, PROXY, run_killed, write_shard

N_SHARDS = 12


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes() for sub in ("kept", "audit", "scores") for p in (out / sub).glob("*")
    }


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_result(tmp_path, pipeline):
    d = tmp_path / "in"
    for i in range(N_SHARDS):
        texts = [GENERAL[(i + j) % len(GENERAL)] for j in range(4)] + [" ".join(PROXY)] * 4 + PROXY
        write_shard(d / f"part-{i:03d}.parquet", texts)
    killed = tmp_path / "killed"
    # killed when the 4th shard's kept file is written: 3 shards finished, one torn, the rest not started
    proc = run_killed(tmp_path, ["run", str(d), "-p", str(pipeline), "-o", str(killed), "--quiet"], kill_at=4)
    done_dir = killed / ".state" / "done"
    finished = len(list(done_dir.glob("*.json")))
    assert proc.returncode == -signal.SIGKILL and finished == 3, proc.stderr[-2000:]
    assert not (killed / "manifest.json").exists()

    resumed = run(d, pipeline, killed)
    assert len(resumed.manifest["timing"]["resumed_shards"]) == finished
    clean = run(d, pipeline, tmp_path / "clean")
    assert resumed.counts == clean.counts
    assert resumed.counts["read"] == N_SHARDS * 12 == resumed.counts["kept"] + resumed.counts["removed"]
    assert _outputs(killed) == _outputs(tmp_path / "clean")  # same kept set and audit, byte for byte
    assert not (killed / ".state" / "tmp").exists()
