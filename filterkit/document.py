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


def mark_removed(doc: Document, stage: str, reason: str) -> None:
    """Record that ``stage`` removes ``doc`` and why; the writer routes it to the audit log."""
    assert reason in REASONS, reason
    doc.metadata[DECISION] = "remove"
    doc.metadata[STAGE] = stage
    doc.metadata[REASON] = reason


def is_removed(doc: Document) -> bool:
    return doc.metadata.get(DECISION) == "remove"
