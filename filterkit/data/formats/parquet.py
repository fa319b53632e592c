"""Parquet input: counts from the footer, null counts from column statistics, batches streamed by column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pyarrow as pa

from filterkit.config import InputConfig
from filterkit.data.files import parquet_file
from filterkit.data.formats.base import ColumnarFormat

if TYPE_CHECKING:
    from filterkit.data.shard import Shard


class ParquetFormat(ColumnarFormat):
    name = "parquet"
    suffixes: ClassVar[dict[str, str | None]] = {".parquet": None}
    magic = b"PAR1"

    def count_rows(self, shard: Shard, cfg: InputConfig) -> int:
        try:
            with parquet_file(shard.path) as pf:
                return pf.metadata.num_rows
        except (pa.ArrowException, OSError) as e:
            raise self.unreadable(shard.path, e) from None

    def schema(self, shard: Shard) -> pa.Schema:
        with parquet_file(shard.path) as pf:
            return pf.schema_arrow

    def raw_batches(self, path: str, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with parquet_file(path) as pf:
            yield from pf.iter_batches(batch_size=batch_rows, columns=columns)

    def null_count(self, shard: Shard, column: str) -> int | None:
        with parquet_file(shard.path) as pf:
            md = pf.metadata
        idx = next((i for i in range(md.num_columns) if md.schema.column(i).path == column), None)
        if idx is None:
            return None
        total = 0
        for rg in range(md.num_row_groups):
            stats = md.row_group(rg).column(idx).statistics
            if stats is None or not stats.has_null_count:
                return None
            total += stats.null_count
        return total

    def file_rows(self, path: Path) -> int:
        from filterkit.io import parquet_rows

        return parquet_rows(path)
