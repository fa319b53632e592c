"""Output paths stay inside the run folder: shard names checked before a run, every output path confined.

A shard's outputs are named after it (``kept/<name>``, ``audit/<name>``, ``.state/done/<name>.json``). An
object-store key is any string: ``d/../../../tmp/x.parquet`` is a legal S3, GCS or ``memory://`` key, and
joined under ``--out`` it points outside it, where a run would overwrite files it does not own (and a shard's
kept, audit and scores files would land on one path). Names are refused up front, before any worker starts;
every path :class:`~filterkit.store.layout.RunLayout` hands out is checked as well, so no code path can
write outside ``--out`` whatever name reaches it.

Names are also checked for length: ``<name>.json.tmp`` (the done marker being written) must fit the
filesystem's limit on one path component, or a shard would fail after its outputs were renamed into place,
and so would every re-run.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from filterkit.errors import FilterkitError

NAME_MAX = 255  # bytes in one path component (ext4, xfs, btrfs, zfs, NFS)
# the longest suffix a shard's outputs add to its base name: the done marker's temp file
_LONGEST_SUFFIX = ".parquet.json.tmp"


def _control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"  # C0, DEL and C1 controls


def printable(text: str) -> str:
    """``text`` with control characters written as escapes, so a message naming it stays one plain line."""
    return "".join(c.encode("unicode_escape").decode("ascii") if _control(c) else c for c in text)


def name_problem(name: str, base: str) -> str | None:
    """Why a shard name cannot name outputs (None when it can). ``base`` is the name without its format
    extension (:attr:`Shard.base`)."""
    if any(_control(c) for c in name):
        return "holds control characters"
    if name.startswith(("/", "\\")):
        return "is an absolute path"
    parts = name.replace("\\", "/").split("/")
    if any(p in ("..", ".", "") for p in parts):
        return "has an empty, '.' or '..' part (legal in object stores, but its outputs would land outside --out)"
    size = [len(p.encode("utf-8", "surrogatepass")) for p in parts[:-1]]
    last = len(base.replace("\\", "/").rsplit("/", 1)[-1].encode("utf-8", "surrogatepass")) + len(_LONGEST_SUFFIX)
    if last > NAME_MAX or any(n > NAME_MAX for n in size):
        return (
            f"is too long for an output name (its done marker's temp file name would take {last} bytes, over "
            f"the {NAME_MAX}-byte limit on one file name)"
        )
    return None


def check_shard_names(shards: list) -> None:
    """Refuse, before anything is written, a shard whose name cannot name its outputs (one line, the fix)."""
    for s in shards:
        problem = name_problem(s.name, s.base)
        if problem is not None:
            raise FilterkitError(
                f"{printable(s.path)}: input shard name {printable(repr(s.name))} {problem}; rename the "
                "file or object (or copy it under a plain name) and re-run"
            )


def confined(root: Path, path: Path) -> Path:
    """``path``, after checking that it lies inside ``root`` (lexically: no ``..`` walks out of it)."""
    r = os.path.normpath(os.path.abspath(root))
    p = os.path.normpath(os.path.abspath(path))
    if p != r and not p.startswith(r.rstrip(os.sep) + os.sep):
        raise FilterkitError(
            f"{printable(str(path))}: an output path outside {r} in the run folder; refusing to "
            "write it (rename the input shard it is named after)"
        )
    return path
