"""A finished run's documents split by what the run did to them: the strata ``review`` samples and ``estimate``
weights back.

Strata: one per removal reason (``removed_classifier``, ``removed_blocklist``, ``removed_error``, the manifest's
count names), ``escalated_kept`` (scored, kept), ``not_escalated`` (never scored), the last optionally split by an
input column (``not_escalated/<value>``): the kept majority is where missed proxy pages hide, and a topical column
(a domain, a source, a crawl) puts a sample where they are likely. Only ``audit/`` and ``scores/`` row indices are
read for the split, plus the ``--by`` column; never a text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from filterkit.config import InputConfig, PipelineConfig
from filterkit.data.formats import format_of
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError
from filterkit.runs.verify import require_intact
from filterkit.store.rows import read_rows

REMOVED = {"classifier_score": "removed_classifier", "blocklist_terms": "removed_blocklist", "error": "removed_error"}
ESCALATED_KEPT = "escalated_kept"
NOT_ESCALATED = "not_escalated"
BASES = (*REMOVED.values(), ESCALATED_KEPT, NOT_ESCALATED)
MAX_BY_VALUES = 50
NULL_VALUE = "(null)"


def base_of(stratum: str) -> str:
    """``not_escalated/blog`` -> ``not_escalated``: the decision a stratum stands for."""
    return stratum.split("/", 1)[0]


def is_removed(stratum: str) -> bool:
    return base_of(stratum) in REMOVED.values()


@dataclass
class ShardStrata:
    """One input shard's rows by stratum, with what ``audit/`` and ``scores/`` recorded about them."""

    shard: Shard
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # stratum -> sorted row indices
    recorded: dict[int, dict] = field(default_factory=dict)  # row -> its audit row, else its scores row


@dataclass
class RunStrata:
    """Every stratum of a finished run: sizes, and per shard which rows belong to which."""

    run: Path
    manifest: dict
    config: PipelineConfig
    by: str | None
    shards: list[ShardStrata]

    @property
    def input_cfg(self) -> InputConfig:
        return self.config.input

    def sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.shards:
            for name, rows in s.rows.items():
                out[name] = out.get(name, 0) + len(rows)
        return {k: out[k] for k in sorted(out) if out[k]}

    def pick(self, stratum: str, positions: np.ndarray) -> list[tuple[int, int]]:
        """(shard position, row) of the documents at ``positions`` in ``stratum``'s input order; nothing else of the
        stratum is materialised (a kept stratum may hold millions of rows)."""
        counts = np.array([len(s.rows.get(stratum, ())) for s in self.shards], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)])
        which = np.searchsorted(starts, positions, side="right") - 1
        return [(int(i), int(self.shards[i].rows[stratum][p - starts[i]])) for i, p in zip(which, positions)]

    @cached_property
    def by_name(self) -> dict[str, ShardStrata]:
        return {s.shard.name: s for s in self.shards}

    def find(self, shard_name: str, row: int) -> tuple[ShardStrata, str] | None:
        """The shard and stratum of one document, or None when the run has no such document."""
        st = self.by_name.get(shard_name)
        for name, rows in st.rows.items() if st is not None else ():
            i = np.searchsorted(rows, row)
            if i < len(rows) and rows[i] == row:
                return st, name
        return None


def load_manifest(run: Path, command: str) -> dict:
    path = run / "manifest.json"
    if not path.is_file():
        raise FilterkitError(
            f"{run}: no manifest.json; `filterkit {command}` needs a finished `filterkit run` folder "
            "(re-run the same `filterkit run` command to finish it)"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise FilterkitError(f"{path}: not valid JSON ({e}); re-run `filterkit run` to rewrite it") from None


def shards_of(manifest: dict) -> list[Shard]:
    """The run's input shards as it read them (a shard cut by ``run --limit`` stays cut)."""
    return [
        Shard(i["path"], i["name"], i.get("format", "parquet"), i["rows"], i["bytes"], limit=i.get("limit"))
        for i in manifest["inputs"]
    ]


def _recorded_rows(run: Path, kind: str, shard: Shard, columns: list[str]) -> list[dict]:
    path = run / kind / shard.out_name
    if not path.is_file():
        raise FilterkitError(f"{path}: missing; re-run `filterkit run` on {run} to finish it")
    return read_rows(path, kind, columns).to_pylist()


AUDIT_COLUMNS = [
    "row_index",
    "doc_id",
    "reason",
    "matched_terms",
    "score",
    "threshold",
    "escalated_by",
    "gate_score",
]
SCORES_COLUMNS = ["row_index", "doc_id", "removed", "matched_terms", "score", "threshold", "escalated_by", "gate_score"]


def _by_values(shard: Shard, cfg: InputConfig, column: str, rows: np.ndarray) -> np.ndarray:
    """The ``column`` value of each of ``rows`` (sorted) as text, ``(null)`` where missing; reads that column only."""
    values: list = []
    fmt = format_of(shard)
    names = fmt.columns(shard)  # None: JSON lines, a field per line
    if names is not None and column not in names:
        raise FilterkitError(
            f"{shard.path}: no column {column!r} for --by (columns: {', '.join(names[:12])}); "
            "name a column every input shard has"
        )
    for part in fmt.iter_column(shard, column, cfg):
        values += part
    picked = [values[r] if r < len(values) else None for r in rows]
    return np.array([NULL_VALUE if v is None else str(v) for v in picked], dtype=object)


def run_strata(run: str | Path, by: str | None = None, command: str = "review") -> RunStrata:
    """Split a finished run's documents into strata (see the module docstring); refuses a damaged run."""
    run = Path(run)
    manifest = load_manifest(run, command)
    require_intact(run, command=command)
    config = PipelineConfig.model_validate(manifest["config"])
    by_rows = {s["shard"]: s["rows_read"] for s in manifest.get("shards", [])}
    out = []
    for shard in shards_of(manifest):
        st = ShardStrata(shard)
        audit = _recorded_rows(run, "audit", shard, AUDIT_COLUMNS)
        scores = _recorded_rows(run, "scores", shard, SCORES_COLUMNS)
        st.recorded = {r["row_index"]: r for r in scores}
        st.recorded.update({r["row_index"]: {**r, "removed": True} for r in audit})
        for reason, name in REMOVED.items():
            st.rows[name] = np.array(sorted(r["row_index"] for r in audit if r["reason"] == reason), dtype=np.int64)
        removed = {r["row_index"] for r in audit}
        st.rows[ESCALATED_KEPT] = np.array(
            sorted(r["row_index"] for r in scores if r["row_index"] not in removed), dtype=np.int64
        )
        n = int(by_rows.get(shard.name, shard.num_rows))
        rest = np.setdiff1d(
            np.arange(n, dtype=np.int64), np.fromiter(st.recorded, dtype=np.int64, count=len(st.recorded))
        )
        if by is None:
            st.rows[NOT_ESCALATED] = rest
        else:
            values = _by_values(shard, config.input, by, rest)
            for v in sorted(set(values)):
                st.rows[f"{NOT_ESCALATED}/{v}"] = rest[values == v]
        out.append(st)
    strata = RunStrata(run, manifest, config, by, out)
    split = [k for k in strata.sizes() if k.startswith(NOT_ESCALATED + "/")]
    if len(split) > MAX_BY_VALUES:
        raise FilterkitError(
            f"--by {by}: {len(split):,} distinct values among documents never escalated; strata need a "
            f"column with at most {MAX_BY_VALUES} values (a domain, a source, a crawl)"
        )
    return strata


def ids_at(shard: Shard, cfg: InputConfig, rows: set[int]) -> dict[int, str]:
    """The document ids of ``rows`` as the run named them (the input's id column, else ``shard#row``), reading the id
    column only."""
    out: dict[int, str] = {}
    row = 0
    for values in format_of(shard).iter_ids(shard, cfg):
        out.update({row + j: v for j, v in enumerate(values) if row + j in rows})
        row += len(values)
    return {r: out.get(r) or f"{shard.name}#{r}" for r in rows}
