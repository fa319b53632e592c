"""Fingerprints of input shards: what a decision was made on, checked wherever the decision is applied.

An input file is read more than once: counted and validated, read for scoring, read again to copy its kept
rows, and read again by a resume or a ``rethreshold`` long after. Anything read twice can change in between
(a re-export under the same name, a swap in the middle of a run), and then decisions made on one content
are applied to another: documents nobody scored end up in ``kept/``. Two fingerprints close that:

* the **file** fingerprint (size and the sha256 of every byte, streamed) is taken when a run is planned and
  enters the run id; the shard writer takes it again before it commits a shard and refuses the shard on
  any difference; done markers and the manifest record it, and a resume (the run id), ``rethreshold`` and
  ``verify`` compare it with the file as it is now. A full hash, not a footer or a sample: a one-byte edit
  of the same size is a different input (measured cost: ``benchmarks/fingerprint_bench.py``).
* the **texts** fingerprint (:class:`RowTexts`): a digest of every row's text as the stages scored it,
  checked row by row against the texts the kept-rows copy reads, so the rows copied into ``kept/`` are
  exactly the rows that were scored, whatever happened to the file between the two reads. Its digest goes
  into the done marker, and ``rethreshold`` requires the texts it reads to give the same digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from filterkit.data.files import is_url
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError

_CHUNK = 1 << 20
_ROW_DIGEST = 16  # bytes of sha256 kept per row: second preimages stay out of reach


def file_fingerprint(path: str) -> dict[str, Any]:
    """``{"bytes", "sha256"}`` of a local file or an fsspec URL, streamed in 1 MiB blocks (hashlib releases
    the GIL on them, so several files hash in parallel threads)."""
    h = hashlib.sha256()
    size = 0
    try:
        if is_url(path):
            import fsspec

            opened = fsspec.open(path, "rb")
        else:
            opened = open(path, "rb")  # noqa: SIM115 - closed by the `with` below
        with opened as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise FilterkitError(f"{path}: input shard is gone; restore it (or leave it out of INPUT) and re-run") from None
    except OSError as e:
        raise FilterkitError(f"{path}: cannot read the input shard ({e.strerror or e}); check it and re-run") from None
    return {"bytes": size, "sha256": h.hexdigest()}


def fingerprint_shards(shards: list[Shard], threads: int | None = None) -> list[Shard]:
    """The shards with :attr:`Shard.sha256` filled in where it is missing (hashed in parallel threads).

    The size recorded when the shard was listed must still hold: a file that changed between listing and
    hashing is refused, since its row count and validation describe another content.
    """
    todo = [s for s in shards if s.sha256 is None]
    if not todo:
        return shards
    import os

    workers = max(1, min(len(todo), threads or os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(workers) as pool:
        fps = dict(zip((s.name for s in todo), pool.map(lambda s: file_fingerprint(s.path), todo)))
    out = []
    for s in shards:
        if s.sha256 is None:
            fp = fps[s.name]
            if s.size_bytes and fp["bytes"] != s.size_bytes:
                raise FilterkitError(
                    f"{s.path}: changed while the run was being planned ({s.size_bytes} bytes when "
                    f"listed, {fp['bytes']} now); wait until it is written completely, then re-run"
                )
            s = replace(s, sha256=fp["sha256"], size_bytes=fp["bytes"])
        out.append(s)
    return out


def recorded(shard: Shard) -> dict[str, Any]:
    """A shard's file fingerprint as the manifest and done markers record it."""
    return {"bytes": shard.size_bytes, "sha256": shard.sha256}


def difference(path: str, want: dict[str, Any] | None, now: dict[str, Any]) -> str | None:
    """What differs between a recorded fingerprint and the file now (None when they match)."""
    if not isinstance(want, dict) or not want.get("sha256"):
        return f"{path}: no input fingerprint was recorded for it (a run folder made by an older filterkit)"
    if want.get("bytes") != now["bytes"]:
        return f"{path}: changed since it was filtered ({now['bytes']} bytes now, {want.get('bytes')} then)"
    if want["sha256"] != now["sha256"]:
        return (
            f"{path}: content changed since it was filtered (same size; sha256 {now['sha256'][:12]}… now, "
            f"{str(want['sha256'])[:12]}… then)"
        )
    return None


def require_unchanged(shard: Shard) -> dict[str, Any]:
    """The shard's file fingerprint now; raises when it differs from the one the run was planned with."""
    now = file_fingerprint(shard.path)
    if shard.sha256 is not None:
        diff = difference(shard.path, recorded(shard), now)
        if diff is not None:
            raise FilterkitError(
                f"{diff}: the file changed while it was being filtered, so nothing of this shard "
                "was written; re-run once it stays put"
            )
    return now


def _text_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class RowTexts:
    """Per-row digests of the texts a shard's documents carried into the writer, for checking the copy.

    ``record`` is called as each document reaches the writer (any order); ``check`` as the kept-rows copy reads
    each row from the input file, in file order. 16 bytes per row: a 1M-row shard holds 16 MB.
    """

    def __init__(self, path: str, rows: int) -> None:
        self.path = path
        self.buf = bytearray(_ROW_DIGEST * rows)

    @staticmethod
    def _digest(text: str) -> bytes:
        return hashlib.sha256(_text_bytes(text)).digest()[:_ROW_DIGEST]

    def record(self, row: int, text: str) -> None:
        self.buf[row * _ROW_DIGEST : (row + 1) * _ROW_DIGEST] = self._digest(text)

    def check(self, start: int, texts: Iterable[str | None]) -> None:
        """Raise unless rows ``start, start+1, ...`` of the file hold the texts that were scored."""
        for i, text in enumerate(texts):
            row = start + i
            want = self.buf[row * _ROW_DIGEST : (row + 1) * _ROW_DIGEST]
            if text is None or len(want) != _ROW_DIGEST or self._digest(text) != want:
                raise FilterkitError(
                    f"{self.path}: row {row} is not the text that was scored (the file changed while it was being "
                    "filtered), so nothing of this shard was written; re-run once it stays put"
                )

    def sha256(self) -> str:
        """One digest of every row's text, in row order: what the done marker records as ``texts_sha256``."""
        return hashlib.sha256(bytes(self.buf)).hexdigest()
