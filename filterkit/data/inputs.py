"""Validating and streaming input shards (finding them: :mod:`filterkit.data.sources`).

Every shard is checked before the run writes anything (parquet: schema and null statistics; JSON lines:
every line, in the pass that counts them), so a bad shard fails the run up front with one message naming
the file, the line or rows, and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from filterkit.config import InputConfig
from filterkit.data.files import _arrow_stream, _parquet_file
from filterkit.data.jsonl import (
    _batched,
    _id_of,
    _loads,
    _numbered_lines,
    _scan_jsonl,
    _text_of,
)
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError

_STRING_TYPES = (pa.string(), pa.large_string())


def _is_text_type(t: pa.DataType) -> bool:
    """Plain strings, or dictionary-encoded strings (pandas categoricals), which are decoded when read."""
    return t in _STRING_TYPES or (pa.types.is_dictionary(t) and t.value_type in _STRING_TYPES)


def as_text_array(arr: pa.Array) -> pa.Array:
    """A string array with one value per row, whatever string encoding the file used."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def _count_rows(path: str, fmt: str, cfg: InputConfig) -> int:
    if fmt == "jsonl":
        return _scan_jsonl(Shard(path, path, fmt, 0, 0), cfg)
    try:
        if fmt == "parquet":
            with _parquet_file(path) as pf:
                return pf.metadata.num_rows
        with _arrow_stream(path) as reader:
            return sum(b.num_rows for b in reader)
    except (pa.ArrowException, OSError) as e:
        raise FilterkitError(
            f"{path}: not a readable {fmt} file ({type(e).__name__}: {str(e)[:120]}); re-export or remove the shard"
        ) from None


def read_schema(shard: Shard) -> pa.Schema:
    """The schema of a parquet or Arrow shard (JSON lines have none: see :func:`jsonl_schema`)."""
    if shard.format == "parquet":
        with _parquet_file(shard.path) as pf:
            return pf.schema_arrow
    with _arrow_stream(shard.path) as reader:
        return reader.schema


def iter_batches(shard: Shard, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Stream a parquet or Arrow shard in record batches of at most ``batch_rows`` rows (only its first
    ``shard.limit`` rows when set, so the reader, the kept-rows copy and validation all see the same cut)."""
    if shard.limit is not None:
        yield from _first_rows(iter_batches(replace(shard, limit=None), columns, batch_rows), shard.limit)
        return
    try:
        if shard.format == "parquet":
            with _parquet_file(shard.path) as pf:
                yield from pf.iter_batches(batch_size=batch_rows, columns=columns)
        else:
            with _arrow_stream(shard.path) as reader:
                for batch in reader:
                    if columns is not None:
                        batch = batch.select(columns)
                    for off in range(0, batch.num_rows, batch_rows):
                        yield batch.slice(off, batch_rows)
    except (pa.ArrowException, OSError) as e:
        raise FilterkitError(
            f"{shard.path}: failed while reading ({type(e).__name__}: {str(e)[:120]}); the file is corrupt — "
            "re-export or remove the shard"
        ) from None


def _first_rows(batches: Iterator[pa.RecordBatch], n: int) -> Iterator[pa.RecordBatch]:
    """The first ``n`` rows of a batch stream, cutting the batch that crosses ``n``; stops reading there."""
    if n <= 0:
        return
    for batch in batches:
        yield batch if batch.num_rows <= n else batch.slice(0, n)
        n -= batch.num_rows
        if n <= 0:
            return


def iter_documents(shard: Shard, cfg: InputConfig) -> Iterator[tuple[list[str], list[str | None] | None]]:
    """(texts, ids) of a shard, ``cfg.batch_rows`` rows at a time, in file order, every text checked (not
    null, valid UTF-8, at most ``max_chars``). ``ids`` is None when the shard has no id column; an id may be
    None where a row has none."""
    if shard.format == "jsonl":
        for n_batch in _batched(_numbered_lines(shard), cfg.batch_rows):
            texts, ids = [], []
            for n, line in n_batch:
                obj = _loads(line, n, shard, cfg)
                text = _text_of(obj, n, shard, cfg)
                if text is None:
                    raise FilterkitError(
                        f"{shard.path}: field {cfg.text_column!r} is null on line {n}; the file changed since it "
                        "was checked — re-run"
                    )
                texts.append(text)
                ids.append(_id_of(obj, cfg))
            yield texts, ids
        return
    has_id = cfg.id_column in read_schema(shard).names
    columns = [cfg.text_column] + ([cfg.id_column] if has_id else [])
    row = 0
    for batch in iter_batches(shard, columns, cfg.batch_rows):
        texts = check_text(batch.column(0), row, shard, cfg).to_pylist()  # decoded if dictionary-encoded
        yield texts, (_ids(batch.column(1), row, shard, cfg) if has_id else None)
        row += batch.num_rows


def _ids(col: pa.Array, row: int, shard: Shard, cfg: InputConfig) -> list:
    """The id column as Python strings; ids that are not text (invalid UTF-8) are named, not a traceback."""
    try:
        return as_text_array(col).cast(pa.string()).to_pylist()
    except (pa.ArrowException, UnicodeDecodeError):
        raise FilterkitError(
            f"{shard.path}: column {cfg.id_column!r} cannot be read as text in rows {row}-{row + len(col) - 1} "
            "(not valid UTF-8); fix those ids, or set input.id_column to another column"
        ) from None


def _rows_list(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:10])
    return shown + (f" … ({len(rows)} rows)" if len(rows) > 10 else "")


def check_text(batch_text: pa.Array, offset: int, shard: Shard, cfg: InputConfig) -> pa.Array:
    """Raise if any row of this batch has null text, is not valid UTF-8 or exceeds ``max_chars``.

    Returns the column as a plain string array (dictionary-encoded text decoded), ready to read.
    """
    batch_text = as_text_array(batch_text)
    if batch_text.null_count:
        rows = [offset + i for i, v in enumerate(batch_text.is_null().to_pylist()) if v]
        raise FilterkitError(
            f"{shard.path}: column {cfg.text_column!r} is null at rows {_rows_list(rows)}; "
            "drop or fill those rows before filtering"
        )
    try:
        batch_text.validate(full=True)  # parquet readers do not check UTF-8; every step after this needs it
    except pa.ArrowInvalid:
        rows = [offset + i for i, v in enumerate(batch_text.cast(pa.binary()).to_pylist()) if not _is_utf8(v)]
        raise FilterkitError(
            f"{shard.path}: column {cfg.text_column!r} holds bytes that are not valid UTF-8 at rows "
            f"{_rows_list(rows)}; re-encode those documents as UTF-8 (or drop them) and re-export the shard"
        ) from None
    lengths = pc.utf8_length(batch_text)
    if len(lengths) and pc.max(lengths).as_py() > cfg.max_chars:
        too_long = pc.greater(lengths, cfg.max_chars).to_pylist()
        rows = [offset + i for i, v in enumerate(too_long) if v]
        raise FilterkitError(
            f"{shard.path}: rows {_rows_list(rows)} exceed input.max_chars={cfg.max_chars} characters; "
            "raise input.max_chars in the pipeline YAML or split those documents"
        )
    return batch_text


def _is_utf8(b: bytes | None) -> bool:
    try:
        b is None or b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def validate(shard: Shard, cfg: InputConfig) -> None:
    """Check a shard before the run writes anything: text column present, string typed, no nulls.

    A JSON-lines shard was checked line by line when :func:`discover` counted it, so there is nothing left.
    """
    if shard.format == "jsonl":
        return
    schema = read_schema(shard)
    dups = sorted({n for n in schema.names if schema.names.count(n) > 1})
    if dups:  # which of two `text` columns is the text? readers disagree, so refuse
        raise FilterkitError(
            f"{shard.path}: column {dups[0]!r} appears {schema.names.count(dups[0])} times; rename or drop the "
            "duplicate and re-export the shard"
        )
    if cfg.text_column not in schema.names:
        raise FilterkitError(
            f"{shard.path}: no {cfg.text_column!r} column (columns: {', '.join(schema.names[:8])}); "
            "set input.text_column in the pipeline YAML to the column holding the text"
        )
    t = schema.field(cfg.text_column).type
    if not _is_text_type(t):
        raise FilterkitError(
            f"{shard.path}: column {cfg.text_column!r} has type {t}, not string; "
            "convert it to strings or point input.text_column at a string column"
        )
    nulls = _null_count_from_stats(shard, cfg.text_column)
    if nulls is None or nulls > 0:  # no statistics, or nulls present: find the rows
        offset = 0
        for batch in iter_batches(shard, [cfg.text_column], 65536):
            col = batch.column(0)
            if col.null_count:
                check_text(col, offset, shard, cfg)
            offset += batch.num_rows


def _null_count_from_stats(shard: Shard, column: str) -> int | None:
    if shard.format != "parquet":
        return None
    with _parquet_file(shard.path) as pf:
        md = pf.metadata
    idx = next((i for i in range(md.num_columns) if md.schema.column(i).path == column), None)
    if idx is None:
        return None
    total = 0
    for rg in range(md.num_row_groups):
        col = md.row_group(rg).column(idx)
        stats = col.statistics
        if stats is None or not stats.has_null_count:
            return None
        total += stats.null_count
    return total

