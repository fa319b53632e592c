"""Arrow IPC stream input (what ``datasets`` saves, one ``.arrow`` file per shard): memory-mapped, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pyarrow as pa

from filterkit.config import InputConfig
from filterkit.data.files import arrow_stream
from filterkit.data.formats.base import ColumnarFormat

if TYPE_CHECKING:
    from filterkit.data.shard import Shard


class ArrowFormat(ColumnarFormat):
    name = "arrow"
    suffixes: ClassVar[dict[str, str | None]] = {".arrow": None}

    def count_rows(self, shard: Shard, cfg: InputConfig) -> int:
        try:
            return self.file_rows(shard.path)
        except (pa.ArrowException, OSError) as e:
            raise self.unreadable(shard.path, e) from None

    def schema(self, shard: Shard) -> pa.Schema:
        with arrow_stream(shard.path) as reader:
            return reader.schema

    def raw_batches(self, path: str, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with arrow_stream(path) as reader:
            for batch in reader:
                if columns is not None:
                    batch = batch.select(columns)
                for off in range(0, batch.num_rows, batch_rows):
                    yield batch.slice(off, batch_rows)

    def file_rows(self, path: Path | str) -> int:
        with arrow_stream(str(path)) as reader:
            return sum(b.num_rows for b in reader)
