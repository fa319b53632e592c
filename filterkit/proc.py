"""Tie a run's helper and worker processes to the run, so nothing outlives a killed ``filterkit run``.

Linux-only where it matters (``prctl(PR_SET_PDEATHSIG)``, ``/proc``); elsewhere these are no-ops or fall
back to a signal-0 probe.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1
_tie_state: dict[str, Any] = {"enabled": False, "parent": 0, "run": None}
_hook_installed = False


def _tie_to_parent() -> None:
    """In a helper process: be killed (SIGKILL) the moment the process that started it dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere a no-op. If the parent already died between the
    fork and this call, exit now.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if _tie_state["parent"] and os.getppid() != _tie_state["parent"]:
        os._exit(1)  # reparented already: the parent died before the tie was made


def _before_fork() -> None:
    _tie_state["parent"] = os.getpid()


def _after_fork_in_child() -> None:
    if _tie_state["enabled"]:
        _tie_to_parent()


def _proc_identity(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, or None when it is gone; start time tells a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0], fields[19]


def _run_is_alive(pid: int, start: str | None) -> bool:
    if start is None:  # no /proc: a signal-0 probe
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    ident = _proc_identity(pid)
    return ident is not None and ident[0] not in ("Z", "X") and ident[1] == start


_watchdog: list[threading.Thread] = []


def watchdogs() -> int:
    """How many run watchdogs this process started (0 or 1): what a test of :func:`tie_task_process` checks."""
    return len(_watchdog)


def _die() -> None:
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def die_if_run_died() -> None:
    """In a pool worker, just before a shard's outputs are committed: if the run is gone, die now instead
    of finishing a shard into a folder whose lock is no longer held (the watchdog polls; this closes most of
    its window)."""
    run = _tie_state.get("run")
    if run and not _run_is_alive(*run):
        _die()


def tie_task_process(interval: float = 0.2) -> None:
    """Called where a task starts: in a worker process of this run (not the run itself), die with the run.

    datatrove's local pool uses the forkserver start method, so its workers are not forked by the run and
    the at-fork hook never sees them. Their parent, the forkserver, does not exit when the run dies either
    (each worker holds a copy of its liveness pipe), and a busy worker would finish its task writing into a
    run folder that is no longer locked. So a daemon thread here watches the run's pid (and start time)
    and kills this worker as soon as the run is gone.
    """
    host, _, pid = os.environ.get("FILTERKIT_RUN_PID", "").rpartition("@")
    run_pid = int(pid) if pid.isdigit() else 0
    if not run_pid or run_pid == os.getpid() or host != socket.gethostname() or _watchdog:
        return
    _tie_state["parent"] = os.getppid()
    _tie_to_parent()
    ident = _proc_identity(run_pid)
    if ident is None and sys.platform.startswith("linux"):
        os._exit(1)  # the run is already gone
    start = ident[1] if ident is not None else None

    _tie_state["run"] = (run_pid, start)

    def watch() -> None:
        while _run_is_alive(run_pid, start):
            time.sleep(interval)
        _die()

    t = threading.Thread(target=watch, name="filterkit-run-watchdog", daemon=True)
    t.start()
    _watchdog.append(t)


@contextlib.contextmanager
def helpers_die_with_run(enabled: bool = True):
    """While a run executes, every process it forks (datatrove's multiprocess Manager; fork-started pool
    workers), and every task worker, dies with it.

    Without this a SIGKILL or SIGTERM of ``filterkit run`` left datatrove's Manager server process (about
    70 MB, parent PID 1) alive for good. Children inherit the tie through ``PR_SET_PDEATHSIG``, which the
    kernel delivers however the parent dies. Local executor only: Slurm jobs (which inherit the submitting
    environment through ``--export=ALL``) and Ray workers outlive the submitting process by design.
    """
    global _hook_installed
    if not enabled:
        yield
        return
    if not _hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        _hook_installed = True
    saved = os.environ.get("FILTERKIT_RUN_PID")
    os.environ["FILTERKIT_RUN_PID"] = f"{socket.gethostname()}@{os.getpid()}"
    _tie_state["enabled"] = True
    try:
        yield
    finally:
        _tie_state["enabled"] = False
        if saved is None:
            os.environ.pop("FILTERKIT_RUN_PID", None)
        else:
            os.environ["FILTERKIT_RUN_PID"] = saved
