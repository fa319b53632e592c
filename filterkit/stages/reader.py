"""The first step: stream this task's input shards as documents, in bounded record batches."""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from filterkit import contract
from filterkit.config import InputConfig
from filterkit.data.inputs import iter_documents
from filterkit.data.shard import Shard
from filterkit.store.layout import RunLayout


def shards_for_rank(shards: list[Shard], rank: int, world_size: int) -> list[Shard]:
    """Task ``rank`` takes every ``world_size``-th shard; reader and writer agree through this one function."""
    return shards[rank::world_size]


class ShardReader(PipelineStep):
    """Yields one document per row, tagged with its shard and row index; skips shards already done.

    Only the text and id are read here (the writer copies kept rows, all columns or the raw JSON lines,
    straight from the input), so memory holds one batch of ``input.batch_rows`` rows at a time whatever the
    shard size or format.
    """

    type = "📖 filterkit"
    name = "shard reader"

    def __init__(self, shards: list[Shard], cfg: InputConfig, layout: RunLayout | None = None) -> None:
        super().__init__()
        self.shards = shards
        self.cfg = cfg
        self.layout = layout

    def read_shard(self, shard: Shard) -> DocumentsPipeline:
        row = 0
        for texts, ids in iter_documents(shard, self.cfg):
            for i, text in enumerate(texts):
                doc_id = ids[i] if ids is not None and ids[i] is not None else f"{shard.name}#{row + i}"
                yield Document(text=text, id=doc_id, metadata={contract.SHARD: shard.name, contract.ROW: row + i})
            row += len(texts)
            self.stat_update("documents", value=len(texts))

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        for shard in shards_for_rank(self.shards, rank, world_size):
            if self.layout is not None and self.layout.is_done(shard.out_name):
                continue
            yield from self.read_shard(shard)
