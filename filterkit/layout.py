"""Where a run keeps its files. Every output is named after its input shard, never after a task rank."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


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
        return self.root / "kept" / out_name

    def audit(self, out_name: str) -> Path:
        return self.root / "audit" / out_name

    def scores(self, out_name: str) -> Path:
        return self.root / "scores" / out_name

    def done(self, out_name: str) -> Path:
        return self.root / ".state" / "done" / (out_name + ".json")

    def tmp_dir(self, rank: int) -> Path:
        return self.root / ".state" / "tmp" / f"task-{rank:05d}"

    def is_done(self, out_name: str) -> bool:
        return self.done(out_name).is_file()


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_replace(tmp: Path, final: Path) -> None:
    """fsync ``tmp``, then rename it over ``final``: readers see the old file or the whole new one."""
    fsync_file(tmp)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    atomic_replace(tmp, path)
