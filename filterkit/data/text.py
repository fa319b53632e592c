"""The checks every input format applies to a batch's text and ids: present, valid UTF-8, within ``max_chars``,
named by file and rows when not (formats: :mod:`filterkit.data.formats`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from filterkit.config import InputConfig
from filterkit.errors import FilterkitError

if TYPE_CHECKING:
    from filterkit.data.shard import Shard

_STRING_TYPES = (pa.string(), pa.large_string())


def is_text_type(t: pa.DataType) -> bool:
    """Plain strings, or dictionary-encoded strings (pandas categoricals), which are decoded when read."""
    return t in _STRING_TYPES or (pa.types.is_dictionary(t) and t.value_type in _STRING_TYPES)


def as_text_array(arr: pa.Array) -> pa.Array:
    """A string array with one value per row, whatever string encoding the file used."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def text_ids(col: pa.Array, row: int, shard: Shard, cfg: InputConfig) -> list:
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
