"""Writing kept rows: a streamed parquet sink, deterministic gzip / zstd, and rows as JSON lines.

Compressed output is deterministic (gzip without a timestamp, zstd at a fixed level on one thread), so the same
inputs and config give byte-identical kept files, resumed or not.
"""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

ZSTD_LEVEL = 3  # zstd's own default: fast, and a fixed level keeps the bytes reproducible


def parquet_codec(name: str) -> str | None:
    """``output.compression`` as pyarrow's codec argument."""
    return None if name == "none" else name


@contextlib.contextmanager
def compressed(path: Path, compression: str | None) -> Iterator[BinaryIO]:
    """``path`` opened for writing bytes, through gzip or zstd when asked."""
    with open(path, "wb") as raw:
        if compression == "gzip":
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
                yield f  # type: ignore[misc]
        elif compression == "zstd":
            import zstandard

            with zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(raw, closefd=False) as f:
                yield f
        else:
            yield raw


def _json_default(v: Any) -> Any:
    """Values orjson has no JSON form for: bytes as base64 text, decimals and the rest as their string."""
    if isinstance(v, (bytes, bytearray)):
        import base64

        return base64.b64encode(v).decode("ascii")
    return str(v)


def json_lines(batch: pa.RecordBatch) -> bytes:
    """A record batch as JSON lines, one object per row."""
    import orjson

    return b"".join(orjson.dumps(row, default=_json_default) + b"\n" for row in batch.to_pylist())


def batch_texts(batch: pa.RecordBatch, col: str) -> list[str | None]:
    """The text column of a batch as Python strings (None for every row where the batch has no such column)."""
    from filterkit.data.text import as_text_array

    idx = batch.schema.get_field_index(col)
    return as_text_array(batch.column(idx)).to_pylist() if idx >= 0 else [None] * batch.num_rows


class ParquetSink:
    """Kept rows streamed to a parquet file under one schema, ``row_group_rows`` rows per row group."""

    def __init__(self, path: Path, schema: pa.Schema, row_group_rows: int, compression: str | None) -> None:
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.writer = pq.ParquetWriter(path, schema, compression=compression)

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self.pending.append(batch)
            self.pending_rows += batch.num_rows
        if self.pending_rows >= self.row_group_rows:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            table = pa.Table.from_batches(self.pending, schema=self.schema)
            self.writer.write_table(table, row_group_size=self.row_group_rows)
            self.pending, self.pending_rows = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()
