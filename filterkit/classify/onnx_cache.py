"""The ONNX export cache, verified: every cached graph has its sha256 stored beside it, checked at every load.

The cache (``$FILTERKIT_CACHE/onnx/<key>/``) lives outside the run folder and outside the model package, so
nothing else vouches for it: a graph edited to output zeros, or a file truncated by a full disk, would score
every document the same and the run would look normal. An export is written as ``encoder-fp32.onnx`` plus
``encoder-fp32.onnx.sha256`` (the digest is written and renamed into place first, the graph last); a load
hashes the graph and compares. A graph without its digest, or one that differs from it, is not used: it is
exported again from the verified model folder, and a warning names the file.

Exports are serialised by an OS lock on the cache folder, so workers exporting at once do not interleave one
export's digest with another's graph. The cache folders are created owner-only (``0700``): the digest
guards against damage and edits that leave it alone, while write access to the folder is what stands between
another user and your scores.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from filterkit.errors import FilterkitError
from filterkit.io import file_sha256, write_text_atomic

log = logging.getLogger("filterkit")


def digest_file(model: Path) -> Path:
    return model.with_name(model.name + ".sha256")


def _read_verified(model: Path, warn: bool = True) -> bytes | None:
    """The cached graph's bytes when their sha256 is the one stored beside it; else None (with a warning)."""
    try:
        data = model.read_bytes()
    except OSError:
        return None
    try:
        want = digest_file(model).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        want = ""
    if want and hashlib.sha256(data).hexdigest() == want:
        return data
    if warn:
        how = "differs from the sha256 stored beside it" if want else "has no sha256 stored beside it"
        log.warning(
            f"{model}: the cached ONNX graph {how} (edited, damaged or left by an older filterkit); "
            "exporting it again from the model folder"
        )
    return None


def install(tmp: Path, model: Path) -> None:
    """Put a finished export in place: its digest first, then the graph (both renamed atomically)."""
    write_text_atomic(digest_file(model), file_sha256(tmp) + "\n")
    os.replace(tmp, model)


@contextlib.contextmanager
def export_lock(folder: Path) -> Iterator[None]:
    """One exporter per cache folder at a time (``flock``; where there is none, exports may overlap)."""
    fd = os.open(folder / ".export.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except (ImportError, OSError):
            pass
        yield
    finally:
        os.close(fd)


def make_private(folder: Path) -> None:
    """Create the cache folder (and its parents) owner-only where they do not exist yet."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    for p in missing:
        with contextlib.suppress(OSError):
            os.chmod(p, 0o700)


def verified_bytes(model: Path, export: Callable[[Path], None]) -> bytes:
    """The bytes of ``model``, verified against its stored sha256; exported first (``export(tmp)`` writes the
    graph to ``tmp``) when missing or not verified. Bytes, not a path, so what was hashed is what is loaded."""
    data = _read_verified(model)
    if data is not None:
        return data
    with export_lock(model.parent):
        data = _read_verified(model, warn=False)  # another worker may have exported it while we waited
        if data is None:
            tmp = model.with_name(f".{model.name}.{os.getpid()}.tmp")
            try:
                export(tmp)
                install(tmp, model)
            finally:
                tmp.unlink(missing_ok=True)
            data = _read_verified(model, warn=False)
    if data is None:
        raise FilterkitError(
            f"{model}: the ONNX graph changed right after it was exported; something else writes "
            "into this cache — set FILTERKIT_CACHE to a folder only you can write, or set "
            "classifier.runtime: torch"
        )
    return data
