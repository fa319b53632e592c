"""A finished shard's ``kept/`` file, copied from the input file itself in the run's ``output.format``.

Rows are copied, never rebuilt from documents, so nothing a stage did to a document can leak into
``kept/``: parquet and Arrow input through a keep-mask over record batches (the input's exact schema);
JSON lines as their raw lines, byte for byte, or (for parquet output) parsed under one schema inferred
from the whole shard first. Compressed output is deterministic (gzip without a timestamp, zstd at a fixed
level on one thread), so the same inputs and config give byte-identical kept files, resumed or not.
"""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from filterkit.config import InputConfig
from filterkit.data.fingerprint import RowTexts
from filterkit.data.inputs import as_text_array, iter_batches, read_schema
from filterkit.data.jsonl import iter_lines, iter_records, jsonl_schema
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError

ZSTD_LEVEL = 3  # zstd's own default: fast, and a fixed level keeps the bytes reproducible


@contextlib.contextmanager
def _compressed(path: Path, compression: str | None) -> Iterator[BinaryIO]:
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


class _ParquetSink:
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


def kept_compression(shard: Shard, output_format: str) -> str | None:
    """Compression of the kept file when it is JSON lines."""
    return "zstd" if output_format == "jsonl.zst" else shard.compression


def writes_jsonl(shard: Shard, output_format: str) -> bool:
    return output_format == "jsonl.zst" or (output_format == "same" and shard.format == "jsonl")


def write_kept(
    shard: Shard,
    removed: np.ndarray,
    path: Path,
    output_format: str,
    input_cfg: InputConfig,
    row_group_rows: int,
    compression: str | None,
    texts: RowTexts | None = None,
) -> tuple[int, int]:
    """Write the rows of ``shard`` not marked in ``removed`` to ``path``; returns (rows read, rows kept).

    ``compression`` is the parquet codec (None for none); JSON-lines output takes its compression from
    :func:`kept_compression`. With ``texts`` (the digests of the texts that were scored), every row this copy
    reads is checked against them first, so a file changed since it was scored fails instead of being copied.
    """
    read = kept = 0
    col = input_cfg.text_column

    def mask_for(n: int, batch_texts=None) -> np.ndarray:
        nonlocal read
        if read + n > len(removed):
            raise FilterkitError(f"{shard.path}: file changed while it was being filtered; re-run")
        if texts is not None and batch_texts is not None:
            texts.check(read, batch_texts())
        keep = ~removed[read : read + n]
        read += n
        return keep

    if shard.format == "jsonl" and writes_jsonl(shard, output_format):
        with _compressed(path, kept_compression(shard, output_format)) as f:
            for lines in iter_lines(shard, input_cfg.batch_rows):
                keep = mask_for(len(lines), lambda lines=lines: [_line_text(line, col) for line in lines])
                chunk = b"".join(line for line, k in zip(lines, keep) if k)
                kept += int(keep.sum())
                if chunk:
                    f.write(chunk)
    elif shard.format == "jsonl":  # JSON lines to parquet: one schema from the whole shard, then the rows
        schema = jsonl_schema(shard, input_cfg)
        sink = _ParquetSink(path, schema, row_group_rows, compression)
        try:
            for records in iter_records(shard, input_cfg):
                keep = mask_for(len(records), lambda records=records: [r.get(col) for r in records])
                rows = [r for r, k in zip(records, keep) if k]
                kept += len(rows)
                if rows:
                    sink.add(pa.RecordBatch.from_pylist(rows, schema=schema))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise FilterkitError(
                f"{shard.path}: a line does not fit the shard's parquet schema ({str(e)[:160]}); set output.format: "
                "same or jsonl.zst in the pipeline YAML"
            ) from None
        finally:
            sink.close()
    elif writes_jsonl(shard, output_format):  # parquet or Arrow to JSON lines
        import orjson

        with _compressed(path, kept_compression(shard, output_format)) as f:
            for batch in iter_batches(shard, None, input_cfg.batch_rows):
                out = batch.filter(pa.array(mask_for(batch.num_rows, lambda batch=batch: _batch_texts(batch, col))))
                kept += out.num_rows
                if out.num_rows:
                    f.write(b"".join(orjson.dumps(row, default=_json_default) + b"\n" for row in out.to_pylist()))
    else:
        sink = _ParquetSink(path, read_schema(shard), row_group_rows, compression)
        try:
            for batch in iter_batches(shard, None, input_cfg.batch_rows):
                out = batch.filter(pa.array(mask_for(batch.num_rows, lambda batch=batch: _batch_texts(batch, col))))
                kept += out.num_rows
                sink.add(out)
        finally:
            sink.close()
    return read, kept


def _line_text(line: bytes, col: str) -> str | None:
    """The text field of one raw JSON line, as the reader parsed it (None where there is none)."""
    import orjson

    obj = orjson.loads(line)
    text = obj.get(col) if isinstance(obj, dict) else None
    return text if isinstance(text, str) else None


def _batch_texts(batch: pa.RecordBatch, col: str) -> list[str | None]:
    idx = batch.schema.get_field_index(col)
    return as_text_array(batch.column(idx)).to_pylist() if idx >= 0 else [None] * batch.num_rows
