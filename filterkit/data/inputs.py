"""Finding, validating and streaming input shards.

INPUT may be a file, a folder of files (searched recursively), a glob, an fsspec URL of any of these
(``s3://``, ``gs://``, ``file://``, ``memory://``, ...: whichever fsspec backend is installed), a Hugging
Face ``datasets`` folder written by ``save_to_disk`` (its Arrow files are the shards), or a hub dataset
named explicitly as ``hf://datasets/NAME``, which ``datasets`` materialises into its cache first and whose
Arrow cache files are then streamed the same way. Files are parquet or JSON lines (``.jsonl``,
``.jsonl.gz``, ``.jsonl.zst``, and dolma's ``.json.gz`` / ``.json.zst``), told apart by their extension.

Only a URL the user writes may touch the network: a path that does not exist is an error at once, so a
typo can neither wait on DNS nor download a real hub dataset that happens to share its name, and
``hf://`` is read only in its ``hf://datasets/`` form. Every shard is checked before the run writes
anything (parquet: schema and null statistics; JSON lines: every line, in the pass that counts them), so
a bad shard fails the run up front with one message naming the file, the line or rows, and the fix.
"""

from __future__ import annotations

import contextlib
import glob
import io
import itertools
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from filterkit.config import InputConfig
from filterkit.errors import FilterkitError

_STRING_TYPES = (pa.string(), pa.large_string())
HUB_PREFIX = "hf://datasets/"
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
    change in task count. ``path`` is a local path or an fsspec URL."""

    path: str
    name: str
    format: str  # "parquet" | "arrow" | "jsonl"
    num_rows: int
    size_bytes: int
    limit: int | None = None  # `filterkit run --limit`: read only the first `limit` rows (num_rows is already cut)
    counted: bool = True  # False: a JSON-lines shard past a --limit cut, never opened (num_rows is 0, not known)

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


def _is_glob(s: str) -> bool:
    return any(c in s for c in "*?[")


def _is_url(s: str) -> bool:
    return "://" in s


def _hf_dataset_files(folder: Path, split: str) -> list[Path]:
    import datasets

    if (folder / "dataset_dict.json").is_file():
        dd = datasets.load_from_disk(str(folder))
        if split not in dd:
            raise FilterkitError(
                f"{folder}: dataset has splits {sorted(dd)} but not {split!r}; set input.hf_split in the pipeline YAML"
            )
        others = sorted(s for s in dd if s != split)
        if others:  # the other splits are not read: say so, and how to read one of them
            log.warning(
                f"{folder}: a DatasetDict with splits {', '.join(sorted(dd))}; filtering split {split!r} only "
                f"(set input.hf_split: NAME in the pipeline YAML to filter another)"
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


def _warn_skipped(folder: str, skipped_files: list[str], skipped_links: list[str]) -> None:
    for what, names, fix in (
        ("symlinked folder(s), not followed", skipped_links, "point INPUT at the link's target to read it"),
        ("file(s) of an unsupported format", skipped_files, f"filterkit reads {SUPPORTED} files"),
    ):
        if names:
            names.sort()
            shown = ", ".join(names[:5]) + (f" … ({len(names)} in all)" if len(names) > 5 else "")
            log.warning(f"{folder}: skipped {len(names)} {what}: {shown}; {fix}")


def _bookkeeping(name: str) -> bool:
    """``_SUCCESS``, ``.crc`` and the like: skipped without a word."""
    return name.startswith((".", "_"))


def _folder_files(folder: Path) -> list[Path]:
    """The input files under ``folder``; says which other entries were skipped instead of passing over them.

    Symlinked sub-folders are not followed (a link may point outside INPUT or back into it); files of other
    formats (``.csv``, ...) are not read. Names starting with ``.`` or ``_`` (``_SUCCESS``, ``.crc``) are
    bookkeeping and skipped without a word.
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
            if _bookkeeping(f):
                continue
            if input_suffix(f) and path.is_file():
                files.append(path)
            else:
                skipped_files.append(str(path.relative_to(folder)))
    _warn_skipped(str(folder), skipped_files, skipped_links)
    return sorted(files)


def _unsupported(path: str) -> FilterkitError:
    hint = "; a .json file of JSON lines: rename it .jsonl" if path.lower().endswith(".json") else ""
    return FilterkitError(
        f"{path}: unsupported input format; filterkit reads {SUPPORTED} files (.json*: JSON lines), folders or "
        f"globs of them, datasets folders and {HUB_PREFIX}NAME{hint}"
    )


def _sniff_format(path: str, opener: Any = open) -> str:
    """Format of a file named directly: by extension, or parquet by its magic bytes (a shard saved
    without an extension); otherwise an error naming the supported formats."""
    fmt = _format_of_suffix(input_suffix(path))
    if fmt is not None:
        return fmt
    try:
        with opener(path, "rb") as f:
            magic = f.read(4)
    except OSError:
        magic = b""
    if magic == b"PAR1":
        return "parquet"
    raise _unsupported(path)


def _url_fs(spec: str):
    import fsspec

    try:
        return fsspec.core.url_to_fs(spec)
    except ImportError as e:
        proto = spec.split("://", 1)[0]
        raise FilterkitError(
            f"{spec}: reading {proto}:// needs an fsspec backend that is not installed ({e}); install it"
        ) from None
    except ValueError as e:
        raise FilterkitError(f"{spec}: not a URL fsspec can read ({e}); check the protocol") from None


def _url_files(spec: str) -> list[tuple[str, str, int]]:
    """(URL, name relative to the URL's folder, size) of each input file an fsspec URL names."""
    fs, path = _url_fs(spec)
    try:
        if _is_glob(path):
            found = {p: info for p, info in fs.glob(path, detail=True).items() if info.get("type") != "directory"}
            if not found:
                raise FilterkitError(f"{spec}: glob matches no files; check the pattern")
            root = os.path.commonpath([p.rsplit("/", 1)[0] if "/" in p else "" for p in found])
        elif fs.isfile(path):
            info = fs.info(path)
            _sniff_format(path, fs.open)
            name = path.rstrip("/").rsplit("/", 1)[-1]
            return [(fs.unstrip_protocol(path), name, int(info.get("size") or 0))]
        elif fs.isdir(path):
            found = fs.find(path, detail=True)
            root = path.rstrip("/")
        else:
            raise FilterkitError(f"{spec}: no such file or folder; check the URL")
    except FilterkitError:
        raise
    except Exception as e:  # noqa: BLE001 - credentials, permissions, a bucket that does not exist ...
        raise FilterkitError(
            f"{spec}: cannot list it ({type(e).__name__}: {str(e)[:160]}); check the URL and your credentials"
        ) from None
    files, skipped = [], []
    for p, info in sorted(found.items()):
        rel = p[len(root):].lstrip("/") if root and p.startswith(root) else p.lstrip("/")
        if _bookkeeping(rel.rsplit("/", 1)[-1]):
            continue
        if input_suffix(rel):
            files.append((fs.unstrip_protocol(p), rel, int(info.get("size") or 0)))
        else:
            skipped.append(rel)
    _warn_skipped(spec, skipped, [])
    if not files:
        raise FilterkitError(f"{spec}: holds no {SUPPORTED} files; point INPUT at input shards")
    return files


def discover(input_spec: str | Path, cfg: InputConfig | None = None, limit: int | None = None) -> list[Shard]:
    """List the shards INPUT names, sorted by name, with row counts (parquet: from file metadata; JSON
    lines: counted, and every line checked, in one streaming pass).

    With ``limit`` (``run --limit``), JSON-lines shards after the first ``limit`` documents are listed but not
    opened (``counted=False``): a sample of a large JSON-lines corpus starts at once.
    """
    cfg = cfg or InputConfig()
    spec = str(input_spec)
    if spec.startswith("file://"):
        spec = spec[len("file://"):]
    p = Path(spec)
    entries: list[tuple[str, str, str, int]] = []  # (path, name, format, size)
    if spec.startswith(HUB_PREFIX):
        for f in _hub_dataset_files(spec, cfg.hf_split):
            entries.append((str(f.resolve()), f.name, "arrow", f.stat().st_size))
    elif spec.startswith("hf://"):
        raise FilterkitError(
            f"{spec}: only Hugging Face hub datasets are read, named as {HUB_PREFIX}OWNER/NAME; check the URL"
        )
    elif _is_url(spec):
        for url, name, size in _url_files(spec):
            entries.append((url, name, _format_of(name), size))
    elif p.is_file():
        entries.append((str(p.resolve()), p.name, _sniff_format(str(p)), p.stat().st_size))
    elif p.is_dir() and ((p / "dataset_info.json").is_file() or (p / "dataset_dict.json").is_file()):
        for f in _hf_dataset_files(p, cfg.hf_split):
            entries.append((str(f.resolve()), f.name, "arrow", f.stat().st_size))
    elif p.is_dir():
        files = _folder_files(p)
        if not files:
            raise FilterkitError(f"{p}: folder holds no {SUPPORTED} files; point INPUT at input shards")
        for f in files:
            entries.append((str(f.resolve()), _relative_name(f, p), _format_of(f.name), f.stat().st_size))
    elif _is_glob(spec):
        matched = sorted(Path(x) for x in glob.glob(spec, recursive=True) if Path(x).is_file())
        if not matched:
            raise FilterkitError(f"{spec}: glob matches no files; check the pattern")
        files = [f for f in matched if input_suffix(f.name) and not _bookkeeping(f.name)]
        _warn_skipped(spec, [str(f) for f in matched if f not in files and not _bookkeeping(f.name)], [])
        if not files:
            raise FilterkitError(f"{spec}: glob matches no {SUPPORTED} files; check the pattern")
        root = Path(os.path.commonpath([str(f.parent.resolve()) for f in files]))
        for f in files:
            entries.append((str(f.resolve()), _relative_name(f, root), _format_of(f.name), f.stat().st_size))
    else:
        raise FilterkitError(
            f"{spec}: no such file or folder; check the path (a Hugging Face hub dataset must be named "
            f"explicitly, as {HUB_PREFIX}OWNER/NAME)"
        )
    shards: list[Shard] = []
    total = 0
    for path, name, fmt, size in sorted(entries, key=lambda e: e[1]):
        if limit is not None and total >= limit and fmt == "jsonl":  # parquet counts are free (footer)
            shards.append(Shard(path, name, fmt, 0, size, counted=False))
            continue
        shards.append(Shard(path, name, fmt, _count_rows(path, fmt, cfg), size))
        total += shards[-1].num_rows
    names = [s.out_name for s in shards]  # a.parquet and a.jsonl.zst would share audit/a.parquet
    if len(set(names)) != len(names):
        dup = sorted(n for n in set(names) if names.count(n) > 1)[0]
        raise FilterkitError(
            f"{spec}: two input shards map to the same output name {dup!r}; rename one of them"
        )
    return sorted(shards, key=lambda s: s.name)


def _relative_name(f: Path, root: Path) -> str:
    try:
        return str(f.resolve().relative_to(root.resolve()))
    except ValueError:  # a symlinked file pointing outside INPUT keeps the name it has inside INPUT
        return str(f.absolute().relative_to(root.absolute()))


class _ZstdReader(io.RawIOBase):
    """zstd decompression that reads every concatenated frame and fails on a truncated one.

    python-zstandard's ``stream_reader`` (what fsspec uses) stops after the first frame and ends a truncated
    frame without an error: both would lose documents silently.
    """

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self.raw = raw
        self.dctx = zstandard.ZstdDecompressor()
        self.frame: Any = None
        self.buf = b""
        self.pos = 0
        self.ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while self.pos >= len(self.buf) and not self.ended:
            data = self.raw.read(1 << 18)  # decompressed, a chunk's output stays within a few MB
            if not data:
                if self.frame is not None and not self.frame.eof:
                    raise EOFError("the zstd stream ends inside a frame")
                self.ended = True
                break
            out = []
            while data:
                if self.frame is None or self.frame.eof:
                    self.frame = self.dctx.decompressobj()
                out.append(self.frame.decompress(data))
                data = self.frame.unused_data if self.frame.eof else b""
            self.buf, self.pos = b"".join(out), 0
        n = min(len(b), len(self.buf) - self.pos)
        b[:n] = self.buf[self.pos : self.pos + n]
        self.pos += n
        return n


@contextlib.contextmanager
def _open_binary(path: str, compression: str | None = None) -> Iterator[BinaryIO]:
    """A local path or an fsspec URL, opened for reading, decompressed (gzip: Python's reader, which reads
    every member and raises on truncation; zstd: :class:`_ZstdReader`); line iteration works on it."""
    import fsspec

    if compression == "zstd":
        with fsspec.open(path, "rb") as raw, io.BufferedReader(_ZstdReader(raw), 1 << 20) as f:
            yield f
        return
    with fsspec.open(path, "rb", compression=compression) as f:
        yield f


@contextlib.contextmanager
def _parquet_file(path: str) -> Iterator[pq.ParquetFile]:
    if _is_url(path):
        with _open_binary(path) as f:
            yield pq.ParquetFile(f)
    else:
        yield pq.ParquetFile(path)


@contextlib.contextmanager
def _arrow_stream(path: str) -> Iterator[pa.ipc.RecordBatchStreamReader]:
    with (_open_binary(path) if _is_url(path) else pa.memory_map(path)) as src:
        yield pa.ipc.open_stream(src)


def _format_label(shard: Shard) -> str:
    return (input_suffix(shard.name) or "").lstrip(".") or shard.format


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


# --- JSON lines ---------------------------------------------------------------------------------------------
# One JSON object per line; blank lines are skipped (row indices count documents, messages name file lines).


def _numbered_lines(shard: Shard) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of every non-blank line, each ending in a newline, in file order (only the first
    ``shard.limit`` documents when set: `run --limit`)."""
    if shard.limit is not None:
        yield from itertools.islice(_numbered_lines(replace(shard, limit=None)), shard.limit)
        return
    try:
        with _open_binary(shard.path, shard.compression) as f:
            n = 0
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield n, line if line.endswith(b"\n") else line + b"\n"
    except FilterkitError:
        raise
    except Exception as e:  # noqa: BLE001 - gzip.BadGzipFile, zstd.ZstdError, EOFError, OSError, ...
        raise FilterkitError(
            f"{shard.path}: not a readable {_format_label(shard)} file ({type(e).__name__}: {str(e)[:120]}); "
            "the file is corrupt or truncated — re-export or remove the shard"
        ) from None


def _json_kind(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(v), "null" if v is None else type(v).__name__)


def _loads(line: bytes, n: int, shard: Shard, cfg: InputConfig) -> dict:
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
    return obj


def _text_of(obj: dict, n: int, shard: Shard, cfg: InputConfig) -> str | None:
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


def _id_of(obj: dict, cfg: InputConfig) -> str | None:
    """The id as text: strings as they are, other JSON values as their JSON text (``5`` -> ``"5"``)."""
    v = obj.get(cfg.id_column)
    if v is None or isinstance(v, str):
        return v
    import orjson

    return orjson.dumps(v).decode("utf-8")


def _lines_list(lines: list[int]) -> str:
    shown = ", ".join(str(r) for r in lines[:10])
    return shown + (f" … ({len(lines)} lines)" if len(lines) > 10 else "")


def _scan_jsonl(shard: Shard, cfg: InputConfig) -> int:
    """Count a JSON-lines shard's documents, checking every line on the way (one streaming pass)."""
    rows = 0
    nulls: list[int] = []
    for n, line in _numbered_lines(shard):
        if _text_of(_loads(line, n, shard, cfg), n, shard, cfg) is None:
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
    for batch in _batched(_numbered_lines(shard), batch_rows):
        yield [line for _, line in batch]


def iter_records(shard: Shard, cfg: InputConfig) -> Iterator[list[dict]]:
    """A JSON-lines shard's documents as parsed objects, ``cfg.batch_rows`` at a time."""
    for batch in _batched(_numbered_lines(shard), cfg.batch_rows):
        yield [_loads(line, n, shard, cfg) for n, line in batch]


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


def _batched(items: Iterator[Any], n: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def _ids(col: pa.Array, row: int, shard: Shard, cfg: InputConfig) -> list:
    """The id column as Python strings; ids that are not text (invalid UTF-8) are named, not a traceback."""
    try:
        return as_text_array(col).cast(pa.string()).to_pylist()
    except (pa.ArrowException, UnicodeDecodeError):
        raise FilterkitError(
            f"{shard.path}: column {cfg.id_column!r} cannot be read as text in rows {row}-{row + len(col) - 1} "
            "(not valid UTF-8); fix those ids, or set input.id_column to another column"
        ) from None


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
