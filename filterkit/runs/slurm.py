"""Slurm submission with the job pickle kept private.

datatrove's Slurm executor pickles itself (with dill) to ``OUT/logs/executor.pik`` and every array job
unpickles that file: whoever can replace it runs code as the submitting user on the cluster. That is the
trust boundary: ``OUT/logs`` must be writable by you alone. This executor makes the pickle ``0600`` from
the moment it exists (it is created empty with that mode before datatrove fills it) and takes group and
world write permission off the logs folder, so another user can neither read nor swap it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatrove.executor import SlurmPipelineExecutor

from filterkit.errors import FilterkitError
from filterkit.io import write_json_atomic

if TYPE_CHECKING:
    from filterkit.runs.prepared import PreparedRun

PICKLE = "executor.pik"


def make_private(logs: Path) -> Path:
    """Strip group/world write from ``logs`` and create (or chmod) its pickle as owner-only; returns it."""
    logs.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(logs.stat().st_mode)
    if mode & 0o022:
        os.chmod(logs, mode & ~0o022)
    pik = logs / PICKLE
    fd = os.open(pik, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(pik, 0o600)  # an older pickle keeps its mode through O_CREAT; set it
    return pik


class PrivateSlurmExecutor(SlurmPipelineExecutor):
    """``SlurmPipelineExecutor`` whose ``executor.pik`` is readable and writable by its owner only."""

    def launch_job(self) -> None:
        pik = Path(self.logging_dir.resolve_paths(PICKLE))
        local = pik.is_absolute() and "://" not in str(self.logging_dir.path)
        if local:
            make_private(pik.parent)  # datatrove opens it for writing, truncating: the mode stays
        super().launch_job()
        if local and pik.exists():
            os.chmod(pik, 0o600)


SLURM_JOBS = Path(".state") / "slurm.json"


def slurm_jobs_active(job_ids: list[str]) -> list[str]:
    """Those of ``job_ids`` that ``squeue`` still lists (queued or running); tests replace this function."""
    import subprocess

    active = []
    for job in job_ids:
        try:
            r = subprocess.run(["squeue", "-h", "-o", "%i", "-j", job], capture_output=True, text=True, timeout=120)
        except (FileNotFoundError, subprocess.TimeoutExpired) as e:
            raise FilterkitError(
                f"cannot ask Slurm whether job {job} of this run is still queued ({type(e).__name__} running "
                "squeue); re-run where squeue works, or delete .state/slurm.json in the run folder if that job "
                "has ended"
            ) from None
        if r.returncode != 0:
            if "invalid job id" in r.stderr.lower():  # long finished and purged from the controller
                continue
            raise FilterkitError(
                f"squeue -j {job} failed: {(r.stderr.strip() or '?').splitlines()[0]}; re-run when Slurm answers"
            )
        if r.stdout.split():
            active.append(job)
    return active


def still_queued(prep: PreparedRun) -> dict[str, Any] | None:
    """A re-run while this run's Slurm jobs are queued or running reports them (what the run returns in place
    of a manifest) instead of resubmitting."""
    import json

    path = prep.layout.root / SLURM_JOBS
    missing = [s.name for s in prep.shards if not prep.layout.is_done(s.out_name)]
    if not missing or not path.is_file():
        return None
    try:
        jobs = [str(j) for j in json.loads(path.read_text(encoding="utf-8"))["job_ids"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    active = slurm_jobs_active(jobs)
    if not active:
        return None
    return {"submitted": True, "already_queued": active, "pending_shards": missing}


def record_job(prep: PreparedRun, executor: Any) -> None:
    job = getattr(executor, "job_id", None)
    if prep.config.executor.kind == "slurm" and job not in (None, -1, "-1"):
        # datatrove chains array jobs with afterany, so the last id outlives the others
        write_json_atomic(prep.layout.root / SLURM_JOBS, {"job_ids": [str(job)]})
