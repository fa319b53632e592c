"""JSON-lines shards: every line checked while it is counted (file and line named), then streamed as records."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from filterkit.config import InputConfig
from filterkit.data.files import open_binary
from filterkit.errors import FilterkitError

if TYPE_CHECKING:
    from filterkit.data.shard import Shard

# --- JSON lines ---------------------------------------------------------------------------------------------
# One JSON object per line; blank lines are skipped (row indices count documents, messages name file lines).


def numbered_lines(shard: Shard) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of every non-blank line, each ending in a newline, in file order (only the first
    ``shard.limit`` documents when set: `run --limit`)."""
    if shard.limit is not None:
        yield from itertools.islice(numbered_lines(replace(shard, limit=None)), shard.limit)
        return
    try:
        with open_binary(shard.path, shard.compression) as f:
            n = 0
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield n, line if line.endswith(b"\n") else line + b"\n"
    except FilterkitError:
        raise
    except Exception as e:  # noqa: BLE001 - gzip.BadGzipFile, zstd.ZstdError, EOFError, OSError, ...
        raise FilterkitError(
            f"{shard.path}: not a readable {shard.label} file ({type(e).__name__}: {str(e)[:120]}); "
            "the file is corrupt or truncated — re-export or remove the shard"
        ) from None


def _json_kind(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(v), "null" if v is None else type(v).__name__
    )


def loads(line: bytes, n: int, shard: Shard, cfg: InputConfig) -> dict:
    import orjson

    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise FilterkitError(
            f"{shard.path}: line {n} is not valid JSON ({e.msg} at character {e.pos + 1}); fix or remove that line"
        ) from None
    if not isinstance(obj, dict):
        raise FilterkitError(
            f"{shard.path}: line {n} is a JSON {_json_kind(obj)}, not an object; each line must be one JSON object "
            f"with the text in its {cfg.text_column!r} field"
        )
    from filterkit.data.json_keys import duplicate_key

    dup = duplicate_key(line, obj)
    if dup is not None:
        raise FilterkitError(
            f"{shard.path}: line {n} gives the key {dup!r} twice, so readers disagree on its value (filterkit would "
            "read the last, many readers the first); keep one of them"
        )
    return obj


def text_of(obj: dict, n: int, shard: Shard, cfg: InputConfig) -> str | None:
    col = cfg.text_column
    if col not in obj:
        fields = ", ".join(list(obj)[:8]) or "none"
        raise FilterkitError(
            f"{shard.path}: line {n} has no {col!r} field (fields: {fields}); set input.text_column in the "
            "pipeline YAML to the field holding the text"
        )
    text = obj[col]
    if text is not None and not isinstance(text, str):
        raise FilterkitError(
            f"{shard.path}: line {n}: field {col!r} is a JSON {_json_kind(text)}, not a string; convert it to a "
            "string or point input.text_column at a string field"
        )
    if text is not None and len(text) > cfg.max_chars:
        raise FilterkitError(
            f"{shard.path}: line {n} has {len(text):,} characters, over input.max_chars={cfg.max_chars}; "
            "raise input.max_chars in the pipeline YAML or split that document"
        )
    return text


def id_of(obj: dict, cfg: InputConfig) -> str | None:
    """The id as text: strings as they are, other JSON values as their JSON text (``5`` -> ``"5"``)."""
    v = obj.get(cfg.id_column)
    if v is None or isinstance(v, str):
        return v
    import orjson

    return orjson.dumps(v).decode("utf-8")


def _lines_list(lines: list[int]) -> str:
    shown = ", ".join(str(r) for r in lines[:10])
    return shown + (f" … ({len(lines)} lines)" if len(lines) > 10 else "")


def scan_jsonl(shard: Shard, cfg: InputConfig) -> int:
    """Count a JSON-lines shard's documents, checking every line on the way (one streaming pass)."""
    rows = 0
    nulls: list[int] = []
    for n, line in numbered_lines(shard):
        if text_of(loads(line, n, shard, cfg), n, shard, cfg) is None:
            nulls.append(n)
        rows += 1
    if nulls:
        raise FilterkitError(
            f"{shard.path}: field {cfg.text_column!r} is null on lines {_lines_list(nulls)}; drop or fill those "
            "lines before filtering"
        )
    return rows


def iter_lines(shard: Shard, batch_rows: int) -> Iterator[list[bytes]]:
    """A JSON-lines shard's documents as their raw lines (newline-terminated), ``batch_rows`` at a time."""
    for batch in batched(numbered_lines(shard), batch_rows):
        yield [line for _, line in batch]


def iter_records(shard: Shard, cfg: InputConfig) -> Iterator[list[dict]]:
    """A JSON-lines shard's documents as parsed objects, ``cfg.batch_rows`` at a time."""
    for batch in batched(numbered_lines(shard), cfg.batch_rows):
        yield [loads(line, n, shard, cfg) for n, line in batch]


def batched(items: Iterator[Any], n: int) -> Iterator[list[Any]]:
    """Lists of ``n`` items (the last shorter): ``itertools.batched`` before Python 3.12."""
    items = iter(items)
    while batch := list(itertools.islice(items, n)):
        yield batch


def jsonl_schema(shard: Shard, cfg: InputConfig) -> pa.Schema:
    """One explicit parquet schema for a JSON-lines shard, from all its rows (never from the first row):
    each batch's inferred types unified, so an integer field that later holds a float becomes a double."""
    schema: pa.Schema | None = None
    try:
        for records in iter_records(shard, cfg):
            got = pa.Table.from_pylist(records).schema
            schema = got if schema is None else pa.unify_schemas([schema, got], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise FilterkitError(
            f"{shard.path}: its lines do not share one type per field ({str(e)[:160]}), so they cannot be written "
            "as parquet; set output.format: same or jsonl.zst in the pipeline YAML"
        ) from None
    return schema if schema is not None else pa.schema([(cfg.text_column, pa.string())])
