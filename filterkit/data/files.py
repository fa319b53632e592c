"""Opening a shard's bytes, local or through fsspec: parquet, Arrow streams, and gzip / zstd JSON lines.

zstd is read by :class:`_ZstdReader`, not python-zstandard's ``stream_reader``: that one stops after the first
frame and accepts a truncated file, and either would drop documents without a word.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq


def is_url(s: str) -> bool:
    """A path given as an fsspec URL (``s3://…``, ``memory://…``) rather than a local path."""
    return "://" in s


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
def open_binary(path: str, compression: str | None = None) -> Iterator[BinaryIO]:
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
def parquet_file(path: str) -> Iterator[pq.ParquetFile]:
    if is_url(path):
        with open_binary(path) as f:
            yield pq.ParquetFile(f)
    else:
        yield pq.ParquetFile(path)


@contextlib.contextmanager
def arrow_stream(path: str) -> Iterator[pa.ipc.RecordBatchStreamReader]:
    with open_binary(path) if is_url(path) else pa.memory_map(path) as src:
        yield pa.ipc.open_stream(src)
