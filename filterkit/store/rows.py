"""The rows a run writes beside its kept shards: the audit and scores schemas and the run facts on each row.

``audit/`` holds one row per removed document: enough to answer "why was this removed, by what, under
which config" without re-running anything. ``scores/`` holds one row per escalated document, kept or
removed, so a threshold can be changed later (``filterkit rethreshold``) without re-encoding: the
tagger/mixer split dolma uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from filterkit.config import OutputConfig
from filterkit.contract import Rule

_TERMS = pa.list_(pa.struct([("term", pa.string()), ("count", pa.int32())]))


def col(arrow: pa.DataType, description: str) -> Any:
    """A row field: its parquet type and the description stored in the parquet field metadata."""
    return field(metadata={"arrow": arrow, "description": description})


@dataclass
class AuditRow:
    """One removed document: why, by what, under which config; written from what the stages recorded."""

    run_id: str = col(pa.string(), "the run that removed it (manifest run_id)")
    input_shard: str = col(pa.string(), "input shard name, relative to the input root")
    row_index: int = col(pa.int64(), "row of the document in its input shard")
    doc_id: str = col(pa.string(), "the document's id (the input's id column, else shard/row)")
    stage: str = col(pa.string(), "the stage that removed it: blocklist | classifier")
    reason: str = col(pa.string(), "blocklist_terms | classifier_score | error")
    matched_terms: list = col(_TERMS, "blocklist terms found and how often (only for documents over the term bar)")
    unique_terms: int | None = col(pa.int32(), "distinct blocklist terms found")
    total_hits: int | None = col(pa.int32(), "blocklist term occurrences found")
    min_unique_hits: int | None = col(pa.int32(), "the run's term bar (blocklist.min_unique_hits)")
    score: float | None = col(
        pa.float64(), "the classifier's score (its doc_rule over window probabilities); null if not scored"
    )
    threshold: float | None = col(pa.float64(), "the classifier threshold this document had to reach")
    classifier: str | None = col(pa.string(), "classifier name")
    classifier_sha256: str | None = col(pa.string(), "hash of the classifier's config.json and weights")
    config_sha256: str = col(pa.string(), "hash of the resolved pipeline config")
    error: str | None = col(pa.string(), "why the classifier could not score it (reason error)")
    text: str | None = col(
        pa.string(),
        "the document text as read, under output.audit_text: full text, its first "
        "output.snippet_chars characters (snippet, the default), or null (none)",
    )
    text_sha256: str = col(pa.string(), "sha256 of the full text as read, whatever audit_text keeps")
    escalated_by: str | None = col(pa.string(), "terms | gate: what sent it to the classifier")
    gate_score: float | None = col(pa.float64(), "the semantic gate's score; null where the gate did not run")


@dataclass
class ScoresRow:
    """One escalated document, kept or removed: enough to re-decide under a new threshold without re-encoding."""

    run_id: str = col(pa.string(), "the run that scored it")
    input_shard: str = col(pa.string(), "input shard name, relative to the input root")
    row_index: int = col(pa.int64(), "row of the document in its input shard")
    doc_id: str = col(pa.string(), "the document's id")
    score: float | None = col(pa.float64(), "max window probability from the classifier; null on error")
    windows: int = col(pa.int32(), "windows the classifier scored")
    matched_terms: list = col(_TERMS, "blocklist terms found and how often")
    unique_terms: int | None = col(pa.int32(), "distinct blocklist terms found")
    total_hits: int | None = col(pa.int32(), "blocklist term occurrences found")
    removed: bool = col(pa.bool_(), "whether the run removed it")
    reason: str | None = col(pa.string(), "the removal reason, null when kept")
    error: str | None = col(pa.string(), "why it could not be scored")
    escalated_by: str | None = col(pa.string(), "terms | gate: what sent it to the classifier")
    gate_score: float | None = col(pa.float64(), "the semantic gate's score; null where the gate did not run")
    threshold: float | None = col(pa.float64(), "the classifier threshold this document had to reach")
    classifier: str | None = col(pa.string(), "classifier name")


@dataclass
class SpanRow:
    """One window of an escalated document the classifier scored at or over the threshold (``classifier.export_spans``):
    character offsets into the text as read, for loss masking or span removal in a user's own trainer."""

    run_id: str = col(pa.string(), "the run that scored it")
    input_shard: str = col(pa.string(), "input shard name, relative to the input root")
    row_index: int = col(pa.int64(), "row of the document in its input shard")
    doc_id: str = col(pa.string(), "the document's id")
    start: int = col(pa.int64(), "first character of the window in the document text (Python str index)")
    end: int = col(pa.int64(), "one past the window's last character")
    score: float = col(pa.float32(), "the window's classifier probability")
    threshold: float = col(pa.float64(), "the threshold the window reached")


def schema_of(row_type: type) -> pa.Schema:
    """The parquet schema a row dataclass describes, with each column's description in its field metadata."""
    return pa.schema(
        [
            pa.field(f.name, f.metadata["arrow"], metadata={"description": f.metadata["description"]})
            for f in fields(row_type)
        ]
    )


def as_dict(row: Any) -> dict[str, Any]:
    """A row as the dict pyarrow writes (shallow: term lists are not copied)."""
    return dict(vars(row))


AUDIT_SCHEMA = schema_of(AuditRow)
SCORES_SCHEMA = schema_of(ScoresRow)
SPANS_SCHEMA = schema_of(SpanRow)

#: Columns renamed since an earlier filterkit, per table: old name -> current name (CHANGELOG.md). A file written
#: before a rename is read under the current names (:func:`read_rows`, the DuckDB views of ``filterkit audit`` and
#: the report), so run folders made before it stay readable, and resume, as they are.
RENAMED_COLUMNS: dict[str, dict[str, str]] = {"audit": {"classifier_score": "score"}}


def old_names(kind: str, names: list[str]) -> dict[str, str]:
    """The renamed columns (old -> current) a file of table ``kind`` with columns ``names`` still has."""
    return {old: new for old, new in RENAMED_COLUMNS.get(kind, {}).items() if old in names}


def written_schema(kind: str, schema: pa.Schema) -> pa.Schema:
    """``schema`` as files written before :data:`RENAMED_COLUMNS`' renames hold it (same order, old names)."""
    back = {new: old for old, new in RENAMED_COLUMNS.get(kind, {}).items()}
    return pa.schema([f.with_name(back.get(f.name, f.name)) for f in schema])


def read_rows(path: Path, kind: str, columns: list[str] | None = None) -> pa.Table:
    """One ``kind`` file (audit, scores, spans) under the current column names, whichever filterkit wrote it."""
    renamed = old_names(kind, pq.read_schema(path).names)
    back = {new: old for old, new in renamed.items()}
    table = pq.read_table(path, columns=None if columns is None else [back.get(c, c) for c in columns])
    return table.rename_columns([renamed.get(n, n) for n in table.column_names]) if renamed else table


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run stamped on every audit row, and the rule and output settings its writer applies.

    Built once, by :func:`filterkit.runs.runner.plan`, from the config's sections whole: ``rule`` is the run's
    resolved keep/remove rule, ``output`` the ``output:`` section.
    """

    run_id: str
    config_sha256: str
    rule: Rule
    output: OutputConfig
    classifier: str | None = None
    classifier_sha256: str | None = None
    min_unique_hits: int | None = None
    export_spans: bool = False
    scoring: str | None = None  # device/runtime/precision planned for the classifier (classify/scoring_path.py)

    @property
    def threshold(self) -> float | None:
        return self.rule.threshold

    @property
    def gate_only_threshold(self) -> float | None:
        return self.rule.gate_only_threshold

    def to_dict(self) -> dict[str, Any]:
        """The manifest's ``run_info``: flat, with the keys run folders have always had (reports read them)."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("rule", "output")}
        out.update(threshold=self.threshold, gate_only_threshold=self.gate_only_threshold)
        out.update(self.output.model_dump(mode="json"))
        return out
