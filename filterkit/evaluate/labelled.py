"""The rows a stratified estimate reads: one sampled document each, checked one row at a time.

A labels file (``filterkit estimate``), the web benchmark's sample and library callers all give rows in this one
shape, so a bad value is refused with the row (and its id) named, before any arithmetic, wherever it came from.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from filterkit.errors import FilterkitError

LABEL_VALUES = (0.0, 0.5, 1.0)


@dataclass(frozen=True)
class LabelledDoc:
    """One sampled document: its stratum and that stratum's size, what the filter did, and what a reader said.

    ``label`` is None for a document sampled but not (yet) labelled: it tells the estimator that its stratum exists
    and whether it holds removals, nothing more. ``group`` is an optional reporting group that may cut across
    strata (a source, a language); ``removed`` may be None only for a document outside :func:`estimate`'s ``scope``.
    """

    stratum: str
    stratum_size: int
    removed: bool | None
    label: float | None
    group: str | None = None
    id: str | None = None


def parse_label(v: Any, where: str) -> float | None:
    """A label as 0.0, 0.5 or 1.0 (None: sampled, not labelled); anything else is refused naming ``where``."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or float(v) not in LABEL_VALUES:
        raise FilterkitError(f"{where}: label {v!r} is not one of 0, 0.5, 1 (or null for not labelled); fix that label")
    return float(v)


def as_docs(rows: Iterable[LabelledDoc | Mapping[str, Any]]) -> list[LabelledDoc]:
    """Rows as :class:`LabelledDoc`, from dataclasses or mappings with the same keys; bad values name the row."""
    out = []
    for i, r in enumerate(rows):
        if isinstance(r, LabelledDoc):
            r = r.__dict__
        where = f"row {i}" + (f" (id {r.get('id')!r})" if r.get("id") is not None else "")
        missing = [k for k in ("stratum", "stratum_size", "removed", "label") if k not in r]
        if missing:
            raise FilterkitError(
                f"{where}: no {', '.join(missing)}; every row needs stratum, stratum_size, removed, label"
            )
        size = r["stratum_size"]
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral) or size < 1:
            raise FilterkitError(f"{where}: stratum_size {size!r} is not a positive whole number")
        removed = r["removed"]
        if removed is not None and not isinstance(removed, (bool, np.bool_)):
            raise FilterkitError(f"{where}: removed {removed!r} is not true or false")
        out.append(
            LabelledDoc(
                str(r["stratum"]),
                int(size),
                None if removed is None else bool(removed),
                parse_label(r["label"], where),
                None if r.get("group") is None else str(r["group"]),
                None if r.get("id") is None else str(r["id"]),
            )
        )
    return out
