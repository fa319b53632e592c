"""What an input format is to filterkit: one object that lists, counts, checks, streams and copies its files.

Every place that used to ask ``shard.format == ...`` asks the shard's format object instead, so a new format is
one module here (a subclass of :class:`InputFormat`, or of :class:`ColumnarFormat` when pyarrow reads it in
record batches) and one line in :data:`filterkit.data.formats.FORMATS` — the shape of ``datasets``' packaged
modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from filterkit.config import InputConfig, OutputConfig
from filterkit.errors import FilterkitError

if TYPE_CHECKING:
    from filterkit.data.shard import Shard

# mask_for(n, texts) -> the keep-mask of the next n rows; texts() gives their texts, checked against the scored ones
MaskFor = Callable[[int, Callable[[], list]], Any]


class InputFormat:
    """One input file format. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]  # the registry key, recorded as Shard.format and in the manifest
    suffixes: ClassVar[dict[str, str | None]]  # file extension -> compression of the bytes under it
    magic: ClassVar[bytes | None] = None  # first bytes of a file named without an extension
    # True where counting means reading every row (JSON lines): a `run --limit` leaves such shards past the cut
    # unopened; False where the count is cheap (a parquet footer)
    counted_by_reading: ClassVar[bool] = False

    def compression(self, name: str) -> str | None:
        """The compression a file's extension says its bytes are in (``gzip``, ``zstd``), else None."""
        low = name.lower()
        return next((c for s, c in sorted(self.suffixes.items(), key=lambda x: -len(x[0])) if low.endswith(s)), None)

    def count_rows(self, shard: Shard, cfg: InputConfig) -> int:
        """The documents in a listed file (``num_rows`` not yet known; checked on the way where counting reads
        them)."""
        raise NotImplementedError

    def validate(self, shard: Shard, cfg: InputConfig) -> None:
        """Raise a :class:`FilterkitError` naming the file and the fix if the shard cannot be filtered as is."""
        raise NotImplementedError

    def columns(self, shard: Shard) -> list[str] | None:
        """The shard's column names; None where the format has no schema (JSON lines: a field per line)."""
        raise NotImplementedError

    def iter_documents(self, shard: Shard, cfg: InputConfig) -> Iterator[tuple[list[str], list[str | None] | None]]:
        """(texts, ids) of a shard, ``cfg.batch_rows`` rows at a time, in file order, every text checked; ``ids``
        is None when the shard has no id column."""
        raise NotImplementedError

    def iter_column(self, shard: Shard, column: str, cfg: InputConfig) -> Iterator[list[Any]]:
        """One column's values per row as Python values (None where a row has none), ``cfg.batch_rows`` at a time.
        A schema-ful format raises if the column is absent: call :meth:`columns` first for a message of your own."""
        raise NotImplementedError

    def iter_ids(self, shard: Shard, cfg: InputConfig) -> Iterator[list[str | None]]:
        """The id column's values as text, as the run named documents (nothing where the shard has no ids)."""
        raise NotImplementedError

    def kept_name(self, shard: Shard, output_format: str) -> str:
        """The name of the shard's ``kept/`` file under ``output.format`` (``same``: the format's own choice)."""
        if output_format == "jsonl.zst":
            return shard.base + ".jsonl.zst"
        return shard.out_name

    def write_kept(self, shard: Shard, path: Path, output: OutputConfig, cfg: InputConfig, mask_for: MaskFor) -> int:
        """Copy the kept rows of ``shard`` (``mask_for``) from the file itself to ``path``; returns rows kept."""
        raise NotImplementedError

    def file_rows(self, path: Path) -> int:
        """The rows of a file of this format as written (a ``kept/`` file read back by ``filterkit verify``)."""
        raise NotImplementedError

    def unreadable(self, path: str, e: BaseException, label: str | None = None) -> FilterkitError:
        return FilterkitError(
            f"{path}: not a readable {label or self.name} file ({type(e).__name__}: {str(e)[:120]}); "
            "re-export or remove the shard"
        )


class ColumnarFormat(InputFormat):
    """A format pyarrow reads as a schema and record batches (parquet, Arrow IPC): checks, documents and the
    kept-rows copy are written once for all of them; a subclass says how to open, count and stream its files."""

    def schema(self, shard: Shard) -> pa.Schema:
        raise NotImplementedError

    def raw_batches(self, path: str, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def null_count(self, shard: Shard, column: str) -> int | None:
        """Nulls in ``column`` from file statistics; None where the file keeps none (the rows are read)."""
        return None

    def columns(self, shard: Shard) -> list[str]:
        return self.schema(shard).names

    def iter_batches(self, shard: Shard, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Record batches of at most ``batch_rows`` rows (only the first ``shard.limit`` rows when set, so the
        reader, the kept-rows copy and validation all see the same cut)."""
        batches = self._batches(shard.path, columns, batch_rows)
        yield from batches if shard.limit is None else _first_rows(batches, shard.limit)

    def _batches(self, path: str, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        try:
            yield from self.raw_batches(path, columns, batch_rows)
        except (pa.ArrowException, OSError) as e:
            raise FilterkitError(
                f"{path}: failed while reading ({type(e).__name__}: {str(e)[:120]}); the file is corrupt — "
                "re-export or remove the shard"
            ) from None

    def validate(self, shard: Shard, cfg: InputConfig) -> None:
        from filterkit.data.text import check_text, is_text_type

        schema = self.schema(shard)
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
        if not is_text_type(t):
            raise FilterkitError(
                f"{shard.path}: column {cfg.text_column!r} has type {t}, not string; "
                "convert it to strings or point input.text_column at a string column"
            )
        nulls = self.null_count(shard, cfg.text_column)
        if nulls is None or nulls > 0:  # no statistics, or nulls present: find the rows
            offset = 0
            for batch in self.iter_batches(shard, [cfg.text_column], 65536):
                col = batch.column(0)
                if col.null_count:
                    check_text(col, offset, shard, cfg)
                offset += batch.num_rows

    def iter_documents(self, shard: Shard, cfg: InputConfig) -> Iterator[tuple[list[str], list[str | None] | None]]:
        from filterkit.data.text import check_text, text_ids

        has_id = cfg.id_column in self.schema(shard).names
        columns = [cfg.text_column] + ([cfg.id_column] if has_id else [])
        row = 0
        for batch in self.iter_batches(shard, columns, cfg.batch_rows):
            texts = check_text(batch.column(0), row, shard, cfg).to_pylist()  # decoded if dictionary-encoded
            yield texts, (text_ids(batch.column(1), row, shard, cfg) if has_id else None)
            row += batch.num_rows

    def iter_column(self, shard: Shard, column: str, cfg: InputConfig) -> Iterator[list[Any]]:
        for batch in self.iter_batches(shard, [column], cfg.batch_rows):
            yield batch.column(0).to_pylist()

    def iter_ids(self, shard: Shard, cfg: InputConfig) -> Iterator[list[str | None]]:
        from filterkit.data.text import text_ids

        if cfg.id_column not in self.schema(shard).names:
            return
        row = 0
        for batch in self.iter_batches(shard, [cfg.id_column], cfg.batch_rows):
            yield text_ids(batch.column(0), row, shard, cfg)
            row += batch.num_rows

    def write_kept(self, shard: Shard, path: Path, output: OutputConfig, cfg: InputConfig, mask_for: MaskFor) -> int:
        from filterkit.data.formats.sinks import ParquetSink, batch_texts, compressed, json_lines, parquet_codec

        kept = 0
        col = cfg.text_column
        if output.format == "jsonl.zst":
            with compressed(path, "zstd") as f:
                for batch in self.iter_batches(shard, None, cfg.batch_rows):
                    out = batch.filter(pa.array(mask_for(batch.num_rows, lambda: batch_texts(batch, col))))  # noqa: B023 - mask_for calls it at once
                    kept += out.num_rows
                    if out.num_rows:
                        f.write(json_lines(out))
            return kept
        sink = ParquetSink(path, self.schema(shard), output.row_group_rows, parquet_codec(output.compression))
        try:
            for batch in self.iter_batches(shard, None, cfg.batch_rows):
                out = batch.filter(pa.array(mask_for(batch.num_rows, lambda: batch_texts(batch, col))))  # noqa: B023 - mask_for calls it at once
                kept += out.num_rows
                sink.add(out)
        finally:
            sink.close()
        return kept


def _first_rows(batches: Iterator[pa.RecordBatch], n: int) -> Iterator[pa.RecordBatch]:
    """The first ``n`` rows of a batch stream, cutting the batch that crosses ``n``; stops reading there."""
    if n <= 0:
        return
    for batch in batches:
        yield batch if batch.num_rows <= n else batch.slice(0, n)
        n -= batch.num_rows
        if n <= 0:
            return
