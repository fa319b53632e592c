"""A finished shard's ``kept/`` file, copied from the input file itself in the run's ``output.format``.

Rows are copied, never rebuilt from documents, so nothing a stage did to a document can leak into ``kept/``:
the shard's format (:mod:`filterkit.data.formats`) copies them under a keep-mask — columnar input through its
record batches (the input's exact schema), JSON lines as their raw lines, byte for byte, or (for parquet
output) parsed under one schema inferred from the whole shard first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from filterkit.config import InputConfig, OutputConfig
from filterkit.data.fingerprint import RowTexts
from filterkit.data.formats import format_of
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError


def write_kept(
    shard: Shard,
    removed: np.ndarray,
    path: Path,
    output: OutputConfig,
    input_cfg: InputConfig,
    texts: RowTexts | None = None,
) -> tuple[int, int]:
    """Write the rows of ``shard`` not marked in ``removed`` to ``path``; returns (rows read, rows kept).

    With ``texts`` (the digests of the texts that were scored), every row this copy reads is checked against
    them first, so a file changed since it was scored fails instead of being copied.
    """
    read = 0

    def mask_for(n: int, batch_texts=None) -> np.ndarray:
        nonlocal read
        if read + n > len(removed):
            raise FilterkitError(f"{shard.path}: file changed while it was being filtered; re-run")
        if texts is not None and batch_texts is not None:
            texts.check(read, batch_texts())
        keep = ~removed[read : read + n]
        read += n
        return keep

    kept = format_of(shard).write_kept(shard, path, output, input_cfg, mask_for)
    return read, kept
