"""An input shard: one file, its format, rows and the names its outputs take; the suffixes filterkit reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("filterkit")

# extension -> compression of the JSON lines it holds; dolma ships its documents as .json.gz
JSONL_SUFFIXES: dict[str, str | None] = {
    ".jsonl": None, ".jsonl.gz": "gzip", ".jsonl.zst": "zstd", ".json.gz": "gzip", ".json.zst": "zstd",
}
INPUT_SUFFIXES = (".parquet", *JSONL_SUFFIXES, ".arrow")
SUPPORTED = ".parquet, .jsonl, .jsonl.gz, .jsonl.zst, .json.gz, .json.zst or .arrow"  # .json*: JSON lines


def input_suffix(name: str) -> str | None:
    """The supported extension ``name`` ends with (the longest, so ``.jsonl.gz`` wins over nothing)."""
    low = name.lower()
    return next((s for s in sorted(INPUT_SUFFIXES, key=len, reverse=True) if low.endswith(s)), None)


def _format_of_suffix(suffix: str | None) -> str | None:
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    return {".parquet": "parquet", ".arrow": "arrow"}.get(suffix or "")


def _format_of(name: str) -> str:
    """The format of a listed file, whose extension was checked when it was listed (else a parquet sniff)."""
    return _format_of_suffix(input_suffix(name)) or "parquet"


@dataclass(frozen=True)
class Shard:
    """One input file. ``name`` (relative to the input root) names its outputs, so resumes survive any
    change in task count. ``path`` is a local path or an fsspec URL."""

    path: str
    name: str
    format: str  # "parquet" | "arrow" | "jsonl"
    num_rows: int
    size_bytes: int
    limit: int | None = None  # `filterkit run --limit`: read only the first `limit` rows (num_rows is already cut)
    counted: bool = True  # False: a JSON-lines shard past a --limit cut, never opened (num_rows is 0, not known)
    sha256: str | None = None  # the file's content fingerprint, taken when the run is planned (data/fingerprint.py)

    @property
    def base(self) -> str:
        """The name without its format extension: ``a/b.jsonl.zst`` -> ``a/b``."""
        suffix = input_suffix(self.name)
        return self.name[: -len(suffix)] if suffix else self.name

    @property
    def compression(self) -> str | None:
        """``gzip`` or ``zstd`` for compressed JSON lines, else None."""
        return JSONL_SUFFIXES.get(input_suffix(self.name) or "") if self.format == "jsonl" else None

    @property
    def out_name(self) -> str:
        """The name of its ``audit/`` and ``scores/`` files and done marker (always parquet)."""
        return self.base + ".parquet"

    def kept_name(self, output_format: str = "same") -> str:
        """The name of its ``kept/`` file under ``output.format``: ``same`` keeps a JSON-lines shard's name
        (and compression) and writes parquet for parquet and Arrow input."""
        if output_format == "jsonl.zst":
            return self.base + ".jsonl.zst"
        if output_format == "same" and self.format == "jsonl":
            return self.name
        return self.out_name


def _is_url(s: str) -> bool:
    return "://" in s


def _format_label(shard: Shard) -> str:
    return (input_suffix(shard.name) or "").lstrip(".") or shard.format
