"""Writing files so a crash leaves the old file or the whole new one, and hashing them.

Every writer in filterkit goes through here (run outputs, manifests, tuning reports, term lists, heads), so
there is one definition of "atomic": write a sibling ``.tmp``, fsync it, rename it over the target.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def file_digest(path: Path) -> dict[str, Any]:
    """Size and sha256 of a file, as a done marker records them."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": h.hexdigest()}


def parquet_rows(path: Path) -> int:
    """Row count from a parquet file's footer (no data pages are read)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def fsync_file(path: Path) -> None:
    """Flush a closed file's data to disk (rename is only atomic for data that reached it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_replace(tmp: Path, final: Path) -> None:
    """fsync ``tmp``, then rename it over ``final``: readers see the old file or the whole new one."""
    fsync_file(tmp)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; the parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    atomic_replace(tmp, path)
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    """Canonical JSON (sorted keys, 2-space indent) written atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def stable_hash(obj: Any) -> str:
    """sha256 of canonical JSON: the same settings always give the same hash."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
