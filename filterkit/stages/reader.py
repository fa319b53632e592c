"""The first step: stream this task's input shards as documents, in bounded record batches."""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from filterkit import contract as D
from filterkit.config import InputConfig
from filterkit.errors import FilterkitError
from filterkit.data.inputs import Shard, as_text_array, check_text, iter_batches, read_schema
from filterkit.store.layout import RunLayout


def shards_for_rank(shards: list[Shard], rank: int, world_size: int) -> list[Shard]:
    """Task ``rank`` takes every ``world_size``-th shard; reader and writer agree through this one function."""
    return shards[rank::world_size]


def _ids(col, row: int, shard: Shard, cfg: InputConfig) -> list:
    """The id column as Python strings; ids that are not text (invalid UTF-8) are named, not a traceback."""
    import pyarrow as pa

    try:
        return as_text_array(col).cast(pa.string()).to_pylist()
    except (pa.ArrowException, UnicodeDecodeError):
        raise FilterkitError(
            f"{shard.path}: column {cfg.id_column!r} cannot be read as text in rows {row}-{row + len(col) - 1} "
            "(not valid UTF-8); fix those ids, or set input.id_column to another column"
        ) from None


class ShardReader(PipelineStep):
    """Yields one document per row, tagged with its shard and row index; skips shards already done.

    Only the text and id columns are read here (the writer copies kept rows, all columns, straight from
    the input), so memory holds one record batch at a time whatever the shard size.
    """

    type = "📖 filterkit"
    name = "shard reader"

    def __init__(self, shards: list[Shard], cfg: InputConfig, layout: RunLayout | None = None) -> None:
        super().__init__()
        self.shards = shards
        self.cfg = cfg
        self.layout = layout

    def read_shard(self, shard: Shard) -> DocumentsPipeline:
        cfg = self.cfg
        has_id = cfg.id_column in read_schema(shard).names
        columns = [cfg.text_column] + ([cfg.id_column] if has_id else [])
        row = 0
        for batch in iter_batches(shard, columns, cfg.batch_rows):
            texts = check_text(batch.column(0), row, shard, cfg)  # decoded if dictionary-encoded
            ids = _ids(batch.column(1), row, shard, cfg) if has_id else None
            for i, text in enumerate(texts.to_pylist()):
                doc_id = ids[i] if ids is not None and ids[i] is not None else f"{shard.name}#{row + i}"
                yield Document(text=text, id=doc_id, metadata={D.SHARD: shard.name, D.ROW: row + i})
            row += batch.num_rows
            self.stat_update("documents", value=batch.num_rows)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        for shard in shards_for_rank(self.shards, rank, world_size):
            if self.layout is not None and self.layout.is_done(shard.out_name):
                continue
            yield from self.read_shard(shard)
