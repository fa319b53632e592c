"""What the two deciding stages share: routing of removed documents and per-shard timing."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Iterator

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from filterkit import contract


class DecisionStage(PipelineStep):
    """A datatrove step that records a decision on each document instead of returning a bool.

    Inside ``filterkit run`` every document flows on (``drop_removed=False``) and the writer routes it,
    so the audit row is written from what the stages recorded. Dropped into a user's own datatrove
    pipeline (the default, ``drop_removed=True``) it behaves like a datatrove filter: removed documents
    stop here and go to ``exclusion_writer`` if one is given, with their decision in the metadata.
    """

    type = "🦠 filterkit"

    def __init__(self, drop_removed: bool = True, exclusion_writer=None) -> None:
        super().__init__()
        self.drop_removed = drop_removed
        self.exclusion_writer = exclusion_writer
        self.shard_seconds: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def timed(self, shard: str) -> Iterator[None]:
        """Per-shard seconds for the manifest, and datatrove's own time stats (its ``stats.json`` report)."""
        t0 = time.perf_counter()
        try:
            with self.track_time("batch"):
                yield
        finally:
            self.shard_seconds[shard] += time.perf_counter() - t0

    def pop_seconds(self, shard: str) -> float:
        return self.shard_seconds.pop(shard, 0.0)

    def process(self, docs: DocumentsPipeline) -> DocumentsPipeline:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        writer_cm = self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext()
        with writer_cm as writer:
            for doc in self.process(data):
                if self.drop_removed and contract.is_removed(doc):
                    self.stat_update("removed")
                    if writer is not None:
                        writer.write(doc, rank)
                    continue
                yield doc


def shard_of(doc: Document) -> str:
    return doc.metadata.get(contract.SHARD, "")
