"""The contract between stages: the metadata keys each stage writes on a datatrove ``Document``.

Keys are flat scalars or lists so datatrove's own writers can store them. Stages never edit ``doc.text``:
the audit must hold what was read, not what a stage made of it.
"""

from __future__ import annotations

from datatrove.data import Document

# set by ShardReader
SHARD = "fk_shard"  # input shard name, relative to the input root
ROW = "fk_row"  # row index within the input shard
# set by BlocklistStage
BL_UNIQUE = "blocklist_unique"
BL_TOTAL = "blocklist_hits"
BL_TERMS = "blocklist_terms"  # sorted matched terms
BL_COUNTS = "blocklist_term_counts"  # hits per term, aligned with BL_TERMS
ESCALATED = "escalated"  # True: the classifier must decide on this document
ESCALATED_BY = "escalated_by"  # "terms" | "gate" | None
GATE_SCORE = "gate_score"  # the semantic gate's score; None where it did not run
# set by ClassifierStage on the documents it scores
SCORE = "classifier_score"
WINDOWS = "classifier_windows"
ERROR = "classifier_error"
# the decision, set by whichever stage removes the document
DECISION = "filterkit_decision"  # "remove" when removed; absent while kept
STAGE = "filterkit_stage"  # "blocklist" | "classifier"
REASON = "filterkit_reason"  # "blocklist_terms" | "classifier_score" | "error"

REASONS = ("blocklist_terms", "classifier_score", "error")

# every key a stage may write, with its type: each document carries all of them from the first filterkit stage on
# (None where a value does not apply), so datatrove's writers see one schema (see :func:`document_schema`)
METADATA_TYPES = {
    BL_UNIQUE: "int64",
    BL_TOTAL: "int64",
    BL_TERMS: "list<string>",
    BL_COUNTS: "list<int64>",
    ESCALATED: "bool",
    ESCALATED_BY: "string",
    GATE_SCORE: "float64",
    SCORE: "float64",
    WINDOWS: "int64",
    ERROR: "string",
    DECISION: "string",
    STAGE: "string",
    REASON: "string",
}


def ensure_keys(doc: Document) -> None:
    """Give ``doc`` every filterkit metadata key (typed nulls: ``None``, or ``[]`` for lists) it lacks."""
    meta = doc.metadata
    for key, kind in METADATA_TYPES.items():
        if key not in meta:
            meta[key] = [] if kind.startswith("list") else None


def document_schema(extra_metadata: dict | None = None):
    """The pyarrow schema of a document after filterkit's stages, for datatrove's ``ParquetWriter(schema=...)``.

    datatrove infers a parquet schema from the first document; a first document whose score is ``None`` (not
    escalated) or whose term list is empty would fix a null type and the next scored one would not fit.
    ``extra_metadata`` maps the reader's own metadata keys to pyarrow types; keys not named are not written.
    """
    import pyarrow as pa

    def arrow(kind: str):
        if kind.startswith("list<"):
            return pa.list_(arrow(kind[5:-1]))
        return {"int64": pa.int64(), "bool": pa.bool_(), "string": pa.string(), "float64": pa.float64()}[kind]

    fields = [(k, arrow(v)) for k, v in METADATA_TYPES.items()]
    fields += [(k, t) for k, t in (extra_metadata or {}).items()]
    return pa.schema([("text", pa.string()), ("id", pa.string()), ("metadata", pa.struct(fields))])


def mark_removed(doc: Document, stage: str, reason: str) -> None:
    """Record that ``stage`` removes ``doc`` and why; the writer routes it to the audit log."""
    assert reason in REASONS, reason
    doc.metadata[DECISION] = "remove"
    doc.metadata[STAGE] = stage
    doc.metadata[REASON] = reason


def is_removed(doc: Document) -> bool:
    return doc.metadata.get(DECISION) == "remove"
