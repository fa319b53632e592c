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

from datatrove.executor import SlurmPipelineExecutor

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
