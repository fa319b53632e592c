"""What a run is before and after it runs: :class:`PreparedRun` (everything decided before any worker starts) and
:class:`RunResult`. Their own module, so the runner's helpers (folder, manifest, progress, slurm) can name them
without importing the runner back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filterkit.config import PipelineConfig
from filterkit.data.shard import Shard
from filterkit.store.layout import RunLayout
from filterkit.store.rows import RunInfo


@dataclass
class RunResult:
    """What a finished run produced; ``counts`` is the manifest's counts section."""

    out: Path
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest["counts"]


@dataclass
class PreparedRun:
    """Everything decided before any worker starts."""

    config: PipelineConfig
    shards: list[Shard]
    layout: RunLayout
    info: RunInfo
    fingerprint: dict[str, Any] = field(default_factory=dict)
    limit: dict[str, Any] | None = None  # what --limit cut (see limit_shards); recorded in the manifest
