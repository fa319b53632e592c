"""One metadata column of the run's inputs (``--by source``), read for every row, as (shard, row, value).

``audit/`` and ``scores/`` do not copy the input's own columns, and ``kept/`` holds them only for kept rows,
so a per-value funnel needs the column from the input shards the manifest names. Only that column is read
(parquet and Arrow by projection; JSON lines are parsed line by line, the text ignored), and each shard is
checked against what the run recorded (size and row count) first: a value read from a file that changed
since the run would be attributed to the wrong document.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filterkit.config import InputConfig
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError


def _shards(manifest: dict[str, Any]) -> list[Shard]:
    return [Shard(i["path"], i["name"], i["format"], i["rows"], i["bytes"], i.get("limit")) for i in manifest["inputs"]]


def _check_unchanged(shard: Shard, column: str) -> None:
    if "://" in shard.path:
        return  # object stores: the row count check below still applies
    try:
        size = os.stat(shard.path).st_size
    except OSError:
        raise FilterkitError(
            f"{shard.path}: input shard not found; --by {column} reads that column from the run's "
            "inputs, so restore the file or leave out --by"
        ) from None
    if size != shard.size_bytes:
        raise FilterkitError(
            f"{shard.path}: the input changed since the run ({size} bytes, the run read "
            f"{shard.size_bytes}); --by {column} needs the inputs as they were — restore them or "
            "leave out --by"
        )


def _as_strings(arr: pa.Array, shard: Shard, column: str) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise FilterkitError(
            f"{shard.path}: column {column!r} has type {arr.type}, which has no one-line value per "
            "document; pass --by a text, number or boolean column"
        ) from None


def _values(shard: Shard, column: str, cfg: InputConfig) -> pa.Array:
    from filterkit.data.formats import format_of

    fmt = format_of(shard)
    names = fmt.columns(shard)
    if names is None:  # no schema (JSON lines): each row's value as Python writes it
        vals = [v for part in fmt.iter_column(shard, column, cfg) for v in part]
        simple = [None if v is None else v if isinstance(v, str) else str(v) for v in vals]
        return pa.array(simple, pa.string())
    if column not in names:
        raise FilterkitError(
            f"{shard.path}: no column {column!r} (columns: {', '.join(names[:12])}); pass --by one of those"
        )
    chunks = [_as_strings(b.column(0), shard, column) for b in fmt.iter_batches(shard, [column], 65_536)]
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())


def column_table(manifest: dict[str, Any], column: str) -> pa.Table:
    """``(input_shard, row_index, value)`` for every document the run read, values as strings (null kept)."""
    cfg = InputConfig.model_validate(manifest["config"]["input"])
    parts = []
    for shard in _shards(manifest):
        _check_unchanged(shard, column)
        values = _values(shard, column, cfg)
        if len(values) != shard.num_rows:
            raise FilterkitError(
                f"{shard.path}: {len(values)} rows, the run read {shard.num_rows}; the input "
                f"changed since the run — restore it or leave out --by {column}"
            )
        n = len(values)
        name = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([shard.name]))
        parts.append(
            pa.table(
                {
                    "input_shard": name.cast(pa.string()),
                    "row_index": pa.array(np.arange(n, dtype=np.int64)),
                    "value": values,
                }
            )
        )
    if not parts:
        return pa.table(
            {
                "input_shard": pa.array([], pa.string()),
                "row_index": pa.array([], pa.int64()),
                "value": pa.array([], pa.string()),
            }
        )
    return pa.concat_tables(parts)
