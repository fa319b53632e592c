"""Validating and streaming input shards (finding them: :mod:`filterkit.data.sources`; each format's own code:
:mod:`filterkit.data.formats`), and the text checks every format shares.

Every shard is checked before the run writes anything (parquet: schema and null statistics; JSON lines:
every line, in the pass that counts them), so a bad shard fails the run up front with one message naming
the file, the line or rows, and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from filterkit.config import InputConfig
from filterkit.data.formats import ColumnarFormat, format_of
from filterkit.data.shard import Shard
from filterkit.data.text import as_text_array, check_text, is_text_type, text_ids

__all__ = [
    "as_text_array",
    "check_text",
    "columnar",
    "is_text_type",
    "iter_batches",
    "iter_documents",
    "read_schema",
    "text_ids",
    "validate",
]


def columnar(shard: Shard) -> ColumnarFormat:
    """The shard's format where it has a schema and record batches; an error for JSON lines."""
    fmt = format_of(shard)
    if not isinstance(fmt, ColumnarFormat):
        raise TypeError(f"{shard.path}: a {fmt.name} shard has no schema or record batches")
    return fmt


def read_schema(shard: Shard) -> pa.Schema:
    """The schema of a parquet or Arrow shard (JSON lines have none: see :func:`filterkit.data.jsonl.jsonl_schema`)."""
    return columnar(shard).schema(shard)


def iter_batches(shard: Shard, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Stream a parquet or Arrow shard in record batches of at most ``batch_rows`` rows (only its first
    ``shard.limit`` rows when set)."""
    return columnar(shard).iter_batches(shard, columns, batch_rows)


def iter_documents(shard: Shard, cfg: InputConfig) -> Iterator[tuple[list[str], list[str | None] | None]]:
    """(texts, ids) of a shard, ``cfg.batch_rows`` rows at a time, in file order, every text checked (not
    null, valid UTF-8, at most ``max_chars``). ``ids`` is None when the shard has no id column; an id may be
    None where a row has none."""
    return format_of(shard).iter_documents(shard, cfg)


def validate(shard: Shard, cfg: InputConfig) -> None:
    """Check a shard before the run writes anything: text column present, string typed, no nulls (a JSON-lines
    shard was checked line by line when :func:`~filterkit.data.sources.discover` counted it)."""
    format_of(shard).validate(shard, cfg)
