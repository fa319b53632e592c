"""Finding, validating and streaming input shards.

INPUT may be a parquet file, a folder of parquet files (searched recursively), a glob, a Hugging Face
``datasets`` folder written by ``save_to_disk`` (its Arrow files are the shards), or a hub dataset named
explicitly as ``hf://datasets/NAME``, which ``datasets`` materialises into its cache first and whose Arrow
cache files are then streamed the same way. Only that explicit form may touch the network: a path that
does not exist is an error at once, so a typo can neither wait on DNS nor download a real hub dataset that
happens to share its name. Every shard is validated before the run writes anything, so a bad shard fails
the run up front with a message naming the file and the fix.
"""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from filterkit.config import InputConfig
from filterkit.errors import FilterkitError

_STRING_TYPES = (pa.string(), pa.large_string())
HUB_PREFIX = "hf://datasets/"
log = logging.getLogger("filterkit")


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


@dataclass(frozen=True)
class Shard:
    """One input file. ``name`` (relative to the input root) names its outputs, so resumes survive any
    change in task count."""

    path: str
    name: str
    format: str  # "parquet" | "arrow"
    num_rows: int
    size_bytes: int
    limit: int | None = None  # `filterkit run --limit`: read only the first `limit` rows (num_rows is already cut)

    @property
    def out_name(self) -> str:
        base = self.name[: -len(".arrow")] if self.name.endswith(".arrow") else self.name
        return base if base.endswith(".parquet") else base + ".parquet"


def _is_glob(s: str) -> bool:
    return any(c in s for c in "*?[")


def _hf_dataset_files(folder: Path, split: str) -> list[Path]:
    import datasets

    if (folder / "dataset_dict.json").is_file():
        dd = datasets.load_from_disk(str(folder))
        if split not in dd:
            raise FilterkitError(
                f"{folder}: dataset has splits {sorted(dd)} but not {split!r}; set input.hf_split in the pipeline YAML"
            )
        ds = dd[split]
    else:
        ds = datasets.load_from_disk(str(folder))
    return [Path(f["filename"]) for f in ds.cache_files]


def _hub_dataset_files(spec: str, split: str) -> list[Path]:
    import datasets

    name = spec[len(HUB_PREFIX):].strip("/")
    if not name:
        raise FilterkitError(f"{spec}: no dataset name after {HUB_PREFIX}; write {HUB_PREFIX}OWNER/NAME")
    try:
        ds = datasets.load_dataset(name, split=split)
    except Exception as e:  # noqa: BLE001 - offline, unknown name, ... all mean the same to the user
        raise FilterkitError(
            f"{spec}: not loadable as a Hugging Face hub dataset ({type(e).__name__}); check the name, "
            "or go online (HF_HUB_OFFLINE unset) to download it"
        ) from None
    return [Path(f["filename"]) for f in ds.cache_files]


def _folder_files(folder: Path) -> list[Path]:
    """The parquet files under ``folder``; says which other entries were skipped instead of passing over them.

    Symlinked sub-folders are not followed (a link may point outside INPUT or back into it); other files
    (``.jsonl``, ``.csv``, ...) are not read. Names starting with ``.`` or ``_`` (``_SUCCESS``, ``.crc``)
    are bookkeeping and skipped without a word.
    """
    files: list[Path] = []
    skipped_files: list[str] = []
    skipped_links: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):  # os.walk does not follow symlinked folders
        here = Path(dirpath)
        for d in dirnames:
            if (here / d).is_symlink():
                skipped_links.append(str((here / d).relative_to(folder)))
        for f in filenames:
            path = here / f
            if f.endswith(".parquet") and path.is_file():
                files.append(path)
            elif not f.startswith((".", "_")):
                skipped_files.append(str(path.relative_to(folder)))
    for what, names, fix in (
        ("symlinked folder(s), not followed", skipped_links, "point INPUT at the link's target to read it"),
        ("file(s) that are not .parquet", skipped_files, "convert them to parquet to filter them"),
    ):
        if names:
            names.sort()
            shown = ", ".join(names[:5]) + (f" … ({len(names)} in all)" if len(names) > 5 else "")
            log.warning(f"{folder}: skipped {len(names)} {what}: {shown}; {fix}")
    return sorted(files)


def discover(input_spec: str | Path, cfg: InputConfig | None = None) -> list[Shard]:
    """List the shards INPUT names, sorted by name, with row counts read from file metadata."""
    cfg = cfg or InputConfig()
    spec = str(input_spec)
    p = Path(spec)
    files: list[Path]
    root: Path
    if spec.startswith(HUB_PREFIX):
        files, root = _hub_dataset_files(spec, cfg.hf_split), None  # type: ignore[assignment]
    elif p.is_file():
        files, root = [p], p.parent
    elif p.is_dir() and ((p / "dataset_info.json").is_file() or (p / "dataset_dict.json").is_file()):
        files, root = _hf_dataset_files(p, cfg.hf_split), None  # type: ignore[assignment]
    elif p.is_dir():
        files = _folder_files(p)
        root = p
        if not files:
            raise FilterkitError(f"{p}: folder holds no .parquet files; point INPUT at parquet shards")
    elif _is_glob(spec):
        files = sorted(Path(x) for x in glob.glob(spec, recursive=True) if Path(x).is_file())
        if not files:
            raise FilterkitError(f"{spec}: glob matches no files; check the pattern")
        root = Path(os.path.commonpath([str(f.parent.resolve()) for f in files]))
    else:
        raise FilterkitError(
            f"{spec}: no such file or folder; check the path (a Hugging Face hub dataset must be named "
            f"explicitly, as {HUB_PREFIX}OWNER/NAME)"
        )
    shards = []
    for f in files:
        fmt = "arrow" if f.suffix == ".arrow" else "parquet"
        name = f.name if root is None else _relative_name(f, root)
        shards.append(Shard(str(f.resolve()), name, fmt, _count_rows(f, fmt), f.stat().st_size))
    names = [s.out_name for s in shards]
    if len(set(names)) != len(names):
        raise FilterkitError(f"{spec}: two input shards map to the same output name; rename one of them")
    return sorted(shards, key=lambda s: s.name)


def _relative_name(f: Path, root: Path) -> str:
    try:
        return str(f.resolve().relative_to(root.resolve()))
    except ValueError:  # a symlinked file pointing outside INPUT keeps the name it has inside INPUT
        return str(f.absolute().relative_to(root.absolute()))


def _count_rows(path: Path, fmt: str) -> int:
    try:
        if fmt == "parquet":
            return pq.ParquetFile(path).metadata.num_rows
        with pa.memory_map(str(path)) as src:
            return sum(b.num_rows for b in pa.ipc.open_stream(src))
    except (pa.ArrowException, OSError) as e:
        raise FilterkitError(
            f"{path}: not a readable {fmt} file ({type(e).__name__}: {str(e)[:120]}); re-export or remove the shard"
        ) from None


def read_schema(shard: Shard) -> pa.Schema:
    if shard.format == "parquet":
        return pq.read_schema(shard.path)
    with pa.memory_map(shard.path) as src:
        return pa.ipc.open_stream(src).schema


def iter_batches(shard: Shard, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Stream a shard in record batches of at most ``batch_rows`` rows (only its first ``shard.limit`` rows when
    set, so the reader, the kept-rows copy and validation all see the same cut)."""
    if shard.limit is not None:
        yield from _first_rows(iter_batches(replace(shard, limit=None), columns, batch_rows), shard.limit)
        return
    try:
        if shard.format == "parquet":
            pf = pq.ParquetFile(shard.path)
            yield from pf.iter_batches(batch_size=batch_rows, columns=columns)
        else:
            with pa.memory_map(shard.path) as src:
                for batch in pa.ipc.open_stream(src):
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
    """Check a shard before the run writes anything: text column present, string typed, no nulls."""
    schema = read_schema(shard)
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
    md = pq.ParquetFile(shard.path).metadata
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
