"""The rows a run writes beside its kept shards: the audit and scores schemas and the run facts on each row.

``audit/`` holds one row per removed document: enough to answer "why was this removed, by what, under
which config" without re-running anything. ``scores/`` holds one row per escalated document, kept or
removed, so a threshold can be changed later (``filterkit rethreshold``) without re-encoding: the
tagger/mixer split dolma uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

AUDIT_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("input_shard", pa.string()),
        ("row_index", pa.int64()),
        ("doc_id", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("matched_terms", pa.list_(pa.struct([("term", pa.string()), ("count", pa.int32())]))),
        ("unique_terms", pa.int32()),
        ("total_hits", pa.int32()),
        ("min_unique_hits", pa.int32()),
        ("classifier_score", pa.float64()),
        ("threshold", pa.float64()),
        ("classifier", pa.string()),
        ("classifier_sha256", pa.string()),
        ("config_sha256", pa.string()),
        ("error", pa.string()),
        ("text", pa.string()),
        ("text_sha256", pa.string()),
        ("escalated_by", pa.string()),
        ("gate_score", pa.float64()),
    ]
)

SCORES_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("input_shard", pa.string()),
        ("row_index", pa.int64()),
        ("doc_id", pa.string()),
        ("score", pa.float64()),
        ("windows", pa.int32()),
        ("matched_terms", pa.list_(pa.struct([("term", pa.string()), ("count", pa.int32())]))),
        ("unique_terms", pa.int32()),
        ("total_hits", pa.int32()),
        ("removed", pa.bool_()),
        ("reason", pa.string()),
        ("error", pa.string()),
        ("escalated_by", pa.string()),
        ("gate_score", pa.float64()),
    ]
)


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run stamped on every audit row."""

    run_id: str
    config_sha256: str
    classifier: str | None
    classifier_sha256: str | None
    threshold: float | None
    min_unique_hits: int | None
    gate_only_threshold: float | None = None
    audit_text: str = "snippet"
    snippet_chars: int = 300
    row_group_rows: int = 10_000
    compression: str = "zstd"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
