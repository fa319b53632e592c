"""An input shard: one file, its format (a key of :data:`filterkit.data.formats.FORMATS`), rows and the names its
outputs take."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """One input file. ``name`` (relative to the input root) names its outputs, so resumes survive any
    change in task count. ``path`` is a local path or an fsspec URL."""

    path: str
    name: str
    format: str  # a key of filterkit.data.formats.FORMATS: "parquet" | "arrow" | "jsonl"
    num_rows: int
    size_bytes: int
    limit: int | None = None  # `filterkit run --limit`: read only the first `limit` rows (num_rows is already cut)
    counted: bool = True  # False: a JSON-lines shard past a --limit cut, never opened (num_rows is 0, not known)
    sha256: str | None = None  # the file's content fingerprint, taken when the run is planned (data/fingerprint.py)

    @property
    def base(self) -> str:
        """The name without its format extension: ``a/b.jsonl.zst`` -> ``a/b``."""
        from filterkit.data.formats import input_suffix

        suffix = input_suffix(self.name)
        return self.name[: -len(suffix)] if suffix else self.name

    @property
    def compression(self) -> str | None:
        """``gzip`` or ``zstd`` where the file's extension says its bytes are compressed, else None."""
        from filterkit.data.formats import format_of

        return format_of(self).compression(self.name)

    @property
    def label(self) -> str:
        """The file's kind as a user names it in a message: its extension (``jsonl.zst``), else its format."""
        from filterkit.data.formats import input_suffix

        return (input_suffix(self.name) or "").lstrip(".") or self.format

    @property
    def out_name(self) -> str:
        """The name of its ``audit/`` and ``scores/`` files and done marker (always parquet)."""
        return self.base + ".parquet"

    def kept_name(self, output_format: str = "same") -> str:
        """The name of its ``kept/`` file under ``output.format`` (the format decides what ``same`` keeps)."""
        from filterkit.data.formats import format_of

        return format_of(self).kept_name(self, output_format)
