"""Live counts of a run in progress, read from the writer's per-shard progress files (the CLI's progress bar)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filterkit.runs.prepared import PreparedRun


@dataclass(frozen=True)
class LiveCounts:
    """Where a run stands: finished shards from their done markers, unfinished ones from the tasks' live
    progress files (written about twice a second by the shard writer)."""

    done: int
    total: int
    escalated: int
    removed: int
    mb: float


ProgressFn = Callable[[LiveCounts], None]


def live_counts(prep: PreparedRun) -> LiveCounts:
    """Rows, escalated and removed so far; cheap enough to call every half second."""
    done = escalated = removed = 0
    chars = 0.0
    finished: set[str] = set()
    for s in prep.shards:
        marker = prep.layout.done(s.out_name)
        if marker.is_file():
            try:
                st = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            finished.add(s.out_name)
            done += s.num_rows
            escalated += int(st.get("escalated", 0))
            removed += int(st.get("removed", 0))
            chars += s.size_bytes
    folder = prep.layout.progress_file(0).parent
    for f in folder.glob("*.json") if folder.is_dir() else ():
        try:
            p = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being replaced right now
        if p.get("shard") in finished:
            continue
        done += int(p.get("rows", 0))
        escalated += int(p.get("escalated", 0))
        removed += int(p.get("removed", 0))
        chars += int(p.get("chars", 0))
    return LiveCounts(done, sum(s.num_rows for s in prep.shards), escalated, removed, chars / 1e6)
