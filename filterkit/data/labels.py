"""Labelled documents for training and tuning: one loader, one error message per malformed file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute  # registers pa.compute
import pyarrow.parquet as pq

from filterkit.errors import FilterkitError


def load_labels(path: str | Path, text_column: str = "text", label_column: str = "label") -> pa.Table:
    """Read a labels file (parquet or jsonl); keep rows labelled 0 or 1 and say how many were ignored."""
    path = Path(path)
    if not path.is_file():
        raise FilterkitError(f"{path}: labels file not found; pass a parquet or jsonl file with text and label")
    try:
        if path.suffix in (".jsonl", ".json"):
            import pyarrow.json as pj

            table = pj.read_json(path)
        else:
            table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise FilterkitError(f"{path}: cannot read labels ({type(e).__name__}); use parquet or jsonl") from None
    for col in (text_column, label_column):
        if col not in table.column_names:
            raise FilterkitError(f"{path}: no {col!r} column; a labels file needs `{text_column}` and `{label_column}`")
    labels = table.column(label_column).to_pylist()
    keep = [lab in (0, 1) and t is not None for lab, t in zip(labels, table.column(text_column).to_pylist())]
    table = table.filter(pa.array(keep))
    table = table.replace_schema_metadata({"ignored_rows": str(len(keep) - sum(keep))})
    y = np.asarray(table.column(label_column).to_pylist(), dtype=np.int64)
    if len(y) == 0 or y.min() == y.max():
        which = (
            "no rows labelled 0 or 1"
            if len(y) == 0
            else ("no positives (label 1)" if y.max() == 0 else "no negatives (label 0)")
        )
        raise FilterkitError(f"{path}: {which}; a classifier needs both classes")
    return table


def texts_and_labels(table: pa.Table) -> tuple[list[str], np.ndarray]:
    """The ``text`` and ``label`` columns of a :func:`load_labels` table, as a trainer or tuner reads them."""
    return table.column("text").to_pylist(), np.asarray(table.column("label").to_pylist(), dtype=np.int64)


@dataclass
class LabelledSet:
    """Several labels files read as one training set, with where each row came from."""

    texts: list[str]
    y: np.ndarray
    groups: list[str]
    sources: list[str]
    files: dict[str, dict[str, Any]]  # file name -> rows, positives, licence-relevant source counts


def load_labelled_sets(paths: Sequence[str | Path], split: str | None = None) -> LabelledSet:
    """Read and concatenate labels files; a file with a ``split`` column contributes only rows of ``split``.

    ``group`` and ``source`` default to the label and the file name where a file lacks them, so
    team-written and real data can be mixed and still balanced or held out by source.
    """
    texts: list[str] = []
    ys: list[np.ndarray] = []
    groups: list[str] = []
    sources: list[str] = []
    files: dict[str, dict[str, Any]] = {}
    for path in paths:
        table = load_labels(path)
        if split is not None and "split" in table.column_names:
            table = table.filter(pa.compute.equal(table.column("split"), split))
        n = table.num_rows
        y = np.asarray(table.column("label").to_pylist(), dtype=np.int64)
        g = (
            table.column("group").to_pylist()
            if "group" in table.column_names
            else ["proxy" if v else "other" for v in y]
        )
        src = table.column("source").to_pylist() if "source" in table.column_names else [_file_source(path)] * n
        texts += table.column("text").to_pylist()
        ys.append(y)
        groups += [str(x) for x in g]
        sources += [str(x) for x in src]
        per_source: dict[str, list[int]] = {}
        for s_, v in zip(src, y.tolist()):
            per_source.setdefault(str(s_), [0, 0])[v] += 1
        files[_file_source(path)] = {
            "rows": n,
            "positives": int(y.sum()),
            "sources": {k: {"negatives": a, "positives": b} for k, (a, b) in sorted(per_source.items())},
        }
    return LabelledSet(texts, np.concatenate(ys) if ys else np.zeros(0, np.int64), groups, sources, files)


def _file_source(path: str | Path) -> str:
    """A file's name as a source: ``labelled/train`` for ``sample_data/labelled/train.parquet``."""
    p = Path(path)
    return f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem
