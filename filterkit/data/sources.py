"""Finding the shards INPUT names.

INPUT may be a file, a folder of files (searched recursively), a glob, an fsspec URL of any of these
(``s3://``, ``gs://``, ``file://``, ``memory://``, ...: whichever fsspec backend is installed), a Hugging
Face ``datasets`` folder written by ``save_to_disk`` (its Arrow files are the shards), or a hub dataset
named explicitly as ``hf://datasets/NAME``. Only a URL the user writes may touch the network: a path that
does not exist is an error at once, so a typo can neither wait on DNS nor download a real hub dataset that
happens to share its name, and ``hf://`` is read only in its ``hf://datasets/`` form.
"""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from filterkit.config import InputConfig
from filterkit.data.files import is_url
from filterkit.data.formats import FORMATS, format_named, input_suffix, sniff_format, supported
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError

log = logging.getLogger("filterkit")

HUB_PREFIX = "hf://datasets/"
DATASETS_FORMAT = "arrow"  # `datasets` keeps every split as Arrow IPC stream files (save_to_disk and the hub cache)


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

    name = spec[len(HUB_PREFIX) :].strip("/")
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
        ("file(s) of an unsupported format", skipped_files, f"filterkit reads {supported()} files"),
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
    runs: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):  # os.walk does not follow symlinked folders
        here = Path(dirpath)
        for d in dirnames:
            if (here / d).is_symlink():
                skipped_links.append(str((here / d).relative_to(folder)))
        # a run folder inside INPUT (an --out put there) holds outputs, not input: never read it
        runs += [str((here / d).relative_to(folder)) for d in dirnames if _is_run_folder(here / d)]
        dirnames[:] = [d for d in dirnames if not _is_run_folder(here / d)]
        for f in filenames:
            path = here / f
            if _bookkeeping(f):
                continue
            if input_suffix(f) and path.is_symlink() and not path.is_file():
                raise FilterkitError(
                    f"{path}: a broken or looping symlink where an input shard should be; fix the link or remove it"
                )
            if input_suffix(f) and path.is_file():
                files.append(path)
            else:
                skipped_files.append(str(path.relative_to(folder)))
    _warn_skipped(str(folder), skipped_files, skipped_links)
    if runs:
        log.warning(
            f"{folder}: skipped {len(runs)} filterkit run folder(s) inside INPUT: {', '.join(sorted(runs)[:5])}; "
            "their files are outputs, not input (put --out outside INPUT)"
        )
    return sorted(files)


def _is_run_folder(d: Path) -> bool:
    """A filterkit run folder: ``run.json`` or the run lock at its top."""
    return (d / "run.json").is_file() or (d / ".filterkit.lock").is_file()


def _unsupported(path: str) -> FilterkitError:
    hint = "; a .json file of JSON lines: rename it .jsonl" if path.lower().endswith(".json") else ""
    return FilterkitError(
        f"{path}: unsupported input format; filterkit reads {supported()} files (.json*: JSON lines), folders or "
        f"globs of them, datasets folders and {HUB_PREFIX}NAME{hint}"
    )


def _sniff_format(path: str, opener: Any = open) -> str:
    """Format of a file named directly: by extension, or by its magic bytes (a parquet shard saved without an
    extension); otherwise an error naming the supported formats."""
    fmt = format_named(path) or sniff_format(path, opener)
    if fmt is None:
        raise _unsupported(path)
    return fmt.name


def _format_of(name: str) -> str:
    """The format of a listed file, whose extension was checked when it was listed."""
    fmt = format_named(name)
    return fmt.name if fmt is not None else "parquet"


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
        rel = p[len(root) :].lstrip("/") if root and p.startswith(root) else p.lstrip("/")
        if _bookkeeping(rel.rsplit("/", 1)[-1]):
            continue
        if input_suffix(rel):
            files.append((fs.unstrip_protocol(p), rel, int(info.get("size") or 0)))
        else:
            skipped.append(rel)
    _warn_skipped(spec, skipped, [])
    if not files:
        raise FilterkitError(f"{spec}: holds no {supported()} files; point INPUT at input shards")
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
        spec = spec[len("file://") :]
    p = Path(spec)
    entries: list[tuple[str, str, str, int]] = []  # (path, name, format, size)
    if spec.startswith(HUB_PREFIX):
        for f in _hub_dataset_files(spec, cfg.hf_split):
            entries.append((str(f.resolve()), f.name, DATASETS_FORMAT, f.stat().st_size))
    elif spec.startswith("hf://"):
        raise FilterkitError(
            f"{spec}: only Hugging Face hub datasets are read, named as {HUB_PREFIX}OWNER/NAME; check the URL"
        )
    elif is_url(spec):
        for url, name, size in _url_files(spec):
            entries.append((url, name, _format_of(name), size))
    elif p.is_file():
        entries.append((str(p.resolve()), p.name, _sniff_format(str(p)), p.stat().st_size))
    elif p.is_dir() and ((p / "dataset_info.json").is_file() or (p / "dataset_dict.json").is_file()):
        for f in _hf_dataset_files(p, cfg.hf_split):
            entries.append((str(f.resolve()), f.name, DATASETS_FORMAT, f.stat().st_size))
    elif p.is_dir():
        files = _folder_files(p)
        if not files:
            raise FilterkitError(f"{p}: folder holds no {supported()} files; point INPUT at input shards")
        for f in files:
            entries.append((str(f.resolve()), _relative_name(f, p), _format_of(f.name), f.stat().st_size))
    elif _is_glob(spec):
        matched = sorted(Path(x) for x in glob.glob(spec, recursive=True) if Path(x).is_file())
        if not matched:
            raise FilterkitError(f"{spec}: glob matches no files; check the pattern")
        files = [
            f
            for f in matched
            if input_suffix(f.name) and not _bookkeeping(f.name) and not any(_is_run_folder(p) for p in f.parents)
        ]  # a run folder's outputs are not input
        _warn_skipped(spec, [str(f) for f in matched if f not in files and not _bookkeeping(f.name)], [])
        if not files:
            raise FilterkitError(f"{spec}: glob matches no {supported()} files; check the pattern")
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
        if limit is not None and total >= limit and FORMATS[fmt].counted_by_reading:  # a footer count is free
            shards.append(Shard(path, name, fmt, 0, size, counted=False))
            continue
        listed = Shard(path, name, fmt, 0, size)
        shards.append(replace(listed, num_rows=FORMATS[fmt].count_rows(listed, cfg)))
        total += shards[-1].num_rows
    names = [s.out_name for s in shards]  # a.parquet and a.jsonl.zst would share audit/a.parquet
    if len(set(names)) != len(names):
        dup = sorted(n for n in set(names) if names.count(n) > 1)[0]
        raise FilterkitError(f"{spec}: two input shards map to the same output name {dup!r}; rename one of them")
    return sorted(shards, key=lambda s: s.name)


def _relative_name(f: Path, root: Path) -> str:
    try:
        return str(f.resolve().relative_to(root.resolve()))
    except ValueError:  # a symlinked file pointing outside INPUT keeps the name it has inside INPUT
        return str(f.absolute().relative_to(root.absolute()))
