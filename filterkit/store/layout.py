"""Where a run keeps its files. Every output is named after its input shard, never after a task rank."""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from filterkit.errors import FilterkitError
from filterkit.io import file_digest
from filterkit.store.paths import confined

OUTPUT_KINDS = ("kept", "audit", "scores")


class RunLayout:
    """Paths inside a run folder (``--out``).

    ``kept/``, ``audit/`` and ``scores/`` mirror the input shard names; ``.state/done/`` holds one JSON
    marker per finished shard (written last, so its presence means all three outputs are complete);
    ``.state/tmp/`` holds files being written, renamed into place only when whole.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def kept(self, out_name: str) -> Path:
        return confined(self.root / "kept", self.root / "kept" / out_name)

    def audit(self, out_name: str) -> Path:
        return confined(self.root / "audit", self.root / "audit" / out_name)

    def scores(self, out_name: str) -> Path:
        return confined(self.root / "scores", self.root / "scores" / out_name)

    def output(self, kind: str, out_name: str) -> Path:
        """``kept``, ``audit`` or ``scores`` file of a shard (``out_name`` is the kept file's own name for
        ``kept`` when ``output.format`` makes it JSON lines: see :meth:`recorded_output`)."""
        return confined(self.root / kind, self.root / kind / out_name)

    def recorded_output(self, kind: str, out_name: str, marker: dict | None) -> Path:
        """Where a done shard's ``kind`` file is: the kept file's name is in its marker (``outputs.kept.file``:
        ``a.jsonl.zst`` under ``output.format: jsonl.zst``); otherwise the shard's parquet ``out_name``."""
        recorded = (marker or {}).get("outputs")
        entry = recorded.get(kind) if isinstance(recorded, dict) else None
        name = entry.get("file") if isinstance(entry, dict) else None
        if isinstance(name, str) and name and ".." not in Path(name).parts and not Path(name).is_absolute():
            return self.output(kind, name)
        return self.output(kind, out_name)

    @property
    def lock_file(self) -> Path:
        return self.root / LOCK_NAME

    def done(self, out_name: str) -> Path:
        return confined(self.root / ".state" / "done", self.root / ".state" / "done" / (out_name + ".json"))

    def progress_file(self, rank: int) -> Path:
        """A task's live counts for the unfinished shard it is writing (read by the progress bar only)."""
        return self.root / ".state" / "progress" / f"{rank:05d}.json"

    def tmp_dir(self, rank: int) -> Path:
        return self.root / ".state" / "tmp" / f"task-{rank:05d}"

    def is_done(self, out_name: str) -> bool:
        return self.done(out_name).is_file()

    def read_marker(self, out_name: str) -> dict | None:
        """A shard's done marker, or None when it is absent or not a marker (damaged)."""
        try:
            data = json.loads(self.done(out_name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def output_problems(
        self,
        out_name: str,
        marker: dict | None = None,
        deep: bool = False,
        kinds: tuple[str, ...] = OUTPUT_KINDS,
        rows_of: Callable[[Path], int] | None = None,
    ) -> list[str]:
        """What is wrong with a done shard's outputs against its marker; ``[]`` when they match.

        ``rows_of`` counts a written file's rows (``deep`` only): :func:`filterkit.data.formats.file_rows`, which
        knows every format a ``kept/`` file can be in, passed in because the formats live above this layer.

        Without ``deep``, only sizes are compared (a ``stat`` per file: cheap enough for every re-run,
        ``audit`` and ``rethreshold``). With ``deep``, sha256 and parquet row counts are checked too, and
        rows read = kept rows + audit rows is re-checked from the files themselves (``filterkit verify``).
        """
        if marker is None:
            marker = self.read_marker(out_name)
        if marker is None:
            return [f"{self.done(out_name)}: done marker is missing or unreadable"]
        recorded = marker.get("outputs")
        if not isinstance(recorded, dict) or any(not isinstance(recorded.get(k), dict) for k in OUTPUT_KINDS):
            return [f"{self.done(out_name)}: done marker records no output sizes (written by an older filterkit)"]
        problems: list[str] = []
        rows: dict[str, int] = {}
        if "spans" in recorded and "spans" not in kinds:  # optional output (classifier.export_spans)
            kinds = (*kinds, "spans")
        for kind in kinds:
            path, want = self.recorded_output(kind, out_name, marker), recorded[kind]
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                problems.append(f"{path}: missing (the done marker recorded {want.get('bytes')} bytes)")
                continue
            except OSError as e:
                problems.append(f"{path}: cannot be read ({e.strerror})")
                continue
            if size != want.get("bytes"):
                problems.append(f"{path}: {size} bytes, the done marker recorded {want.get('bytes')}")
                continue
            if not deep:
                continue
            if file_digest(path)["sha256"] != want.get("sha256"):
                problems.append(f"{path}: sha256 differs from the one the done marker recorded")
                continue
            if rows_of is None:
                raise ValueError("output_problems(deep=True) needs rows_of (filterkit.data.formats.file_rows)")
            try:
                rows[kind] = rows_of(path)
            except FilterkitError as e:  # an unreadable footer or stream is a damaged file
                problems.append(e.message)
                continue
            if rows[kind] != want.get("rows"):
                problems.append(f"{path}: {rows[kind]} rows, the done marker recorded {want.get('rows')}")
        if deep and not problems and set(rows) == set(OUTPUT_KINDS):
            read, kept, removed = marker.get("rows_read"), rows["kept"], rows["audit"]
            if read != kept + removed or kept != marker.get("kept") or removed != marker.get("removed"):
                problems.append(
                    f"{self.root}: shard {out_name}: read {read} != kept {kept} + removed {removed} (rows in "
                    f"kept/ and audit/), or they differ from the marker (kept {marker.get('kept')}, "
                    f"removed {marker.get('removed')})"
                )
            elif rows["scores"] != marker.get("escalated"):
                problems.append(
                    f"{self.output('scores', out_name)}: {rows['scores']} rows but "
                    f"{marker.get('escalated')} documents were escalated"
                )
        return problems


LOCK_NAME = ".filterkit.lock"


def _holder_text(holder: dict) -> str:
    return f"host {holder.get('host')}, pid {holder.get('pid')}, started {holder.get('started')}" + (
        f": {holder['command']}" if holder.get("command") else ""
    )


def _read_holder(fd: int) -> dict | None:
    try:
        raw = os.pread(fd, 1 << 16, 0)
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


_held_lock_fds: set[int] = set()


def _close_locks_in_child() -> None:
    """A forked child (datatrove's Manager, a pool worker) must not keep the run lock alive after the run
    dies: closing its copy of the descriptor leaves the parent's lock in place (flock is released only when
    every copy is closed)."""
    for fd in list(_held_lock_fds):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_lock_fds.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_locks_in_child)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(root: str | Path, command: str | None = None) -> Iterator[dict]:
    """Hold ``ROOT/.filterkit.lock`` exclusively while a run writes into ``root``.

    Two mechanisms, because run folders live on local disks and on shared cluster filesystems:

    * an OS lock (``flock``) on the lock file. The kernel drops it when the holder dies, however it dies,
      so a killed run never blocks the next one on the same machine.
    * the holder (host, pid, start time, command) written into the file, and emptied on a clean exit. A
      second run that finds the file locked names the holder. A file naming a holder whose OS lock is gone
      is stale when that holder was on this host (its pid must be dead, or it would still hold the lock);
      a holder on another host cannot be checked from here (``flock`` may be node-local on a shared
      filesystem), so the run is refused and the message says to delete the file if that run is gone.
      Where the filesystem has no ``flock`` at all, only the holder record is used: same host and pid dead
      means stale.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise FilterkitError(f"{root}: is a file, not a folder; choose a folder for --out")
    path = root / LOCK_NAME
    created_root, created_lock = not root.exists(), not path.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise FilterkitError(f"{path}: cannot write the run lock ({e.strerror}); choose a writable --out") from None
    host = socket.gethostname()
    me = {
        "host": host,
        "pid": os.getpid(),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command if command is not None else " ".join(sys.argv)[:300],
    }
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os_locked = True
        except (BlockingIOError, PermissionError):
            raise FilterkitError(
                f"{root}: another filterkit run is writing into this folder ({_holder_text(_read_holder(fd) or {})}); "
                "wait for it to finish or stop it, then re-run"
            ) from None
        except (ImportError, OSError) as e:
            if isinstance(e, OSError) and e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
            os_locked = False  # no flock on this filesystem: the holder record is all there is
        holder = _read_holder(fd)
        if holder:
            same_host = holder.get("host") == host
            pid = holder.get("pid")
            if not same_host:
                raise FilterkitError(
                    f"{root}: {path.name} names a run on another machine ({_holder_text(holder)}); if that run "
                    f"has ended (check it there), delete {path} and re-run"
                )
            if not os_locked and isinstance(pid, int) and pid != os.getpid() and pid_alive(pid):
                raise FilterkitError(
                    f"{root}: another filterkit run is writing into this folder ({_holder_text(holder)}); wait "
                    "for it to finish or stop it, then re-run"
                )
            # same host and the OS lock was free (or the pid is dead): the holder was killed; a stale lock
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me, sort_keys=True) + "\n").encode("utf-8"), 0)
        os.fsync(fd)
        _held_lock_fds.add(fd)
        try:
            yield me
        finally:
            _held_lock_fds.discard(fd)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # a clean exit leaves an empty (free) lock file behind
            if os_locked:  # explicitly: a forked helper may still share this descriptor
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        if created_lock and not (root / "run.json").exists():  # refused before it claimed the folder: leave
            _remove_own_lock(path, root if created_root else None)  # the user's folder as it was
        os.close(fd)  # closing the last descriptor drops the flock


def _remove_own_lock(path: Path, root: Path | None) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
    if root is not None:
        with contextlib.suppress(OSError):
            root.rmdir()  # only when empty
