"""JSON-lines input (``.jsonl``, gzip or zstd; dolma's ``.json.gz``): every line checked while it is counted, kept
lines copied byte for byte (or written as parquet under one schema inferred from the whole shard)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from filterkit.config import InputConfig, OutputConfig
from filterkit.data.formats.base import InputFormat, MaskFor
from filterkit.data.jsonl import (
    batched,
    id_of,
    iter_lines,
    iter_records,
    jsonl_schema,
    loads,
    numbered_lines,
    scan_jsonl,
    text_of,
)
from filterkit.errors import FilterkitError

if TYPE_CHECKING:
    from filterkit.data.shard import Shard


class JsonlFormat(InputFormat):
    name = "jsonl"
    suffixes: ClassVar[dict[str, str | None]] = {
        ".jsonl": None,
        ".jsonl.gz": "gzip",
        ".jsonl.zst": "zstd",
        ".json.gz": "gzip",
        ".json.zst": "zstd",
    }
    counted_by_reading = True

    def count_rows(self, shard: Shard, cfg: InputConfig) -> int:
        return scan_jsonl(shard, cfg)

    def validate(self, shard: Shard, cfg: InputConfig) -> None:
        """Nothing left: every line was checked when :meth:`count_rows` counted it."""

    def columns(self, shard: Shard) -> None:
        return None

    def iter_documents(self, shard: Shard, cfg: InputConfig) -> Iterator[tuple[list[str], list[str | None] | None]]:
        for n_batch in batched(numbered_lines(shard), cfg.batch_rows):
            texts, ids = [], []
            for n, line in n_batch:
                obj = loads(line, n, shard, cfg)
                text = text_of(obj, n, shard, cfg)
                if text is None:
                    raise FilterkitError(
                        f"{shard.path}: field {cfg.text_column!r} is null on line {n}; the file changed since it "
                        "was checked — re-run"
                    )
                texts.append(text)
                ids.append(id_of(obj, cfg))
            yield texts, ids

    def iter_column(self, shard: Shard, column: str, cfg: InputConfig) -> Iterator[list[Any]]:
        for records in iter_records(shard, cfg):
            yield [r.get(column) for r in records]

    def iter_ids(self, shard: Shard, cfg: InputConfig) -> Iterator[list[str | None]]:
        for records in iter_records(shard, cfg):
            yield [id_of(r, cfg) for r in records]

    def kept_name(self, shard: Shard, output_format: str) -> str:
        """``same`` keeps a JSON-lines shard's name and compression."""
        return shard.name if output_format == "same" else super().kept_name(shard, output_format)

    def write_kept(self, shard: Shard, path: Path, output: OutputConfig, cfg: InputConfig, mask_for: MaskFor) -> int:
        from filterkit.data.formats.sinks import ParquetSink, compressed, parquet_codec

        kept = 0
        col = cfg.text_column
        if output.format in ("same", "jsonl.zst"):  # the raw lines, byte for byte
            with compressed(path, "zstd" if output.format == "jsonl.zst" else shard.compression) as f:
                for lines in iter_lines(shard, cfg.batch_rows):
                    keep = mask_for(len(lines), lambda: [_line_text(line, col) for line in lines])  # noqa: B023 - called at once
                    chunk = b"".join(line for line, k in zip(lines, keep) if k)
                    kept += int(keep.sum())
                    if chunk:
                        f.write(chunk)
            return kept
        schema = jsonl_schema(shard, cfg)  # parquet: one schema from the whole shard, then the rows
        sink = ParquetSink(path, schema, output.row_group_rows, parquet_codec(output.compression))
        try:
            for records in iter_records(shard, cfg):
                keep = mask_for(len(records), lambda: [r.get(col) for r in records])  # noqa: B023 - called at once
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
        return kept

    def file_rows(self, path: Path) -> int:
        """Non-blank lines, decompressed by the file's extension."""
        from filterkit.data.files import open_binary

        with open_binary(str(path), self.compression(path.name)) as f:
            return sum(1 for line in f if line.strip())


def _line_text(line: bytes, col: str) -> str | None:
    """The text field of one raw JSON line, as the reader parsed it (None where there is none)."""
    import orjson

    obj = orjson.loads(line)
    text = obj.get(col) if isinstance(obj, dict) else None
    return text if isinstance(text, str) else None
