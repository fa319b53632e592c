"""The input-format registry: format name -> the object that lists, counts, checks, streams and copies its files.

A new format is one module in this package (an :class:`~filterkit.data.formats.base.InputFormat`, or a
:class:`~filterkit.data.formats.base.ColumnarFormat` when pyarrow reads it in record batches) and one line in
:data:`FORMATS`; nothing else in filterkit names a format.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from filterkit.data.formats.arrow import ArrowFormat
from filterkit.data.formats.base import ColumnarFormat, InputFormat
from filterkit.data.formats.jsonl import JsonlFormat
from filterkit.data.formats.parquet import ParquetFormat
from filterkit.errors import FilterkitError

if TYPE_CHECKING:
    from filterkit.data.shard import Shard

FORMATS: dict[str, InputFormat] = {
    f.name: f
    for f in (
        ParquetFormat(),
        JsonlFormat(),
        ArrowFormat(),
    )
}

__all__ = [
    "FORMATS",
    "ColumnarFormat",
    "InputFormat",
    "file_rows",
    "format_named",
    "format_of",
    "input_suffix",
    "sniff_format",
    "supported",
]


def _suffixes() -> list[tuple[str, InputFormat]]:
    """Every extension filterkit reads, longest first (so ``.jsonl.gz`` wins over a shorter match)."""
    return sorted(((s, f) for f in FORMATS.values() for s in f.suffixes), key=lambda x: -len(x[0]))


def supported() -> str:
    """The extensions filterkit reads, for messages (``.json*`` files are JSON lines)."""
    every = [s for f in FORMATS.values() for s in f.suffixes]
    return ", ".join(every[:-1]) + " or " + every[-1]


def input_suffix(name: str) -> str | None:
    """The supported extension ``name`` ends with (the longest), else None."""
    low = name.lower()
    return next((s for s, _ in _suffixes() if low.endswith(s)), None)


def format_named(name: str) -> InputFormat | None:
    """The format a file name's extension says, else None."""
    low = name.lower()
    return next((f for s, f in _suffixes() if low.endswith(s)), None)


def format_of(shard: Shard) -> InputFormat:
    """The format object of a listed shard (its ``format`` is a registry key)."""
    return FORMATS[shard.format]


def sniff_format(path: str, opener=open) -> InputFormat | None:
    """A file named without a known extension: the format whose magic bytes it starts with, else None."""
    try:
        with opener(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    return next((f for f in FORMATS.values() if f.magic and head.startswith(f.magic)), None)


def file_rows(path: Path) -> int:
    """Rows of a file filterkit wrote (a ``kept/`` file: parquet or JSON lines), read back by its extension."""
    fmt = format_named(path.name) or FORMATS["parquet"]
    try:
        return fmt.file_rows(path)
    except FilterkitError:
        raise
    except Exception as e:  # noqa: BLE001 - any unreadable footer or stream is a damaged file
        raise FilterkitError(f"{path}: not a readable {fmt.name} file ({type(e).__name__})") from None
