"""The contract between stages: the metadata keys each stage writes on a datatrove ``Document``.

Keys are flat scalars or lists so datatrove's own writers can store them. Stages never edit ``doc.text``:
the audit must hold what was read, not what a stage made of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from datatrove.data import Document

# Every key carries the one ``filterkit_`` prefix (so none collides with another step's in a user's datatrove
# pipeline) and the name of the audit/scores column it becomes.
# set by ShardReader
SHARD = "filterkit_shard"  # input shard name, relative to the input root (column input_shard)
ROW = "filterkit_row"  # row index within the input shard (column row_index)
# set by BlocklistStage
UNIQUE_TERMS = "filterkit_unique_terms"
TOTAL_HITS = "filterkit_total_hits"
MATCHED_TERMS = "filterkit_matched_terms"  # sorted matched terms
TERM_COUNTS = "filterkit_term_counts"  # hits per term, aligned with MATCHED_TERMS
ESCALATED = "filterkit_escalated"  # True: the classifier must decide on this document
ESCALATED_BY = "filterkit_escalated_by"  # "terms" | "gate" | None
GATE_SCORE = "filterkit_gate_score"  # the semantic gate's score; None where it did not run
# set by ClassifierStage on the documents it scores
SCORE = "filterkit_score"
WINDOWS = "filterkit_windows"
ERROR = "filterkit_error"
# with classifier.export_spans: a *span* is a classifier *window* (its unit, counted in WINDOWS; a backend's
# DocScore.window_scores holds every window's probability) that reached the threshold, as character offsets in the
# text as read; the spans/ table holds them (columns start, end, score)
SPAN_STARTS = "filterkit_span_starts"
SPAN_ENDS = "filterkit_span_ends"
SPAN_SCORES = "filterkit_span_scores"
# the decision, set by whichever stage removes the document
DECISION = "filterkit_decision"  # "remove" when removed; absent while kept
STAGE = "filterkit_stage"  # "blocklist" | "classifier"
REASON = "filterkit_reason"  # "blocklist_terms" | "classifier_score" | "error"


class Stage(str, Enum):
    """The stage that removed a document (audit column ``stage``)."""

    BLOCKLIST = "blocklist"
    CLASSIFIER = "classifier"


class Reason(str, Enum):
    """Why a document was removed (audit column ``reason``; manifest ``removed_by_reason`` keys)."""

    BLOCKLIST_TERMS = "blocklist_terms"
    CLASSIFIER_SCORE = "classifier_score"
    ERROR = "error"


REASONS = tuple(r.value for r in Reason)
# ``escalated_by``, one name from the stage to the column: what the cheap stage found, the input of :func:`decide`:
# over the term bar, escalated by the semantic gate alone, or neither; ``None`` where no cheap stage ran (every
# document reaches the classifier). Key ESCALATED_BY and the audit/scores column hold it for escalated documents.
ESCALATED_BY_VALUES = ("terms", "gate", "none")

# every key a stage may write, with its type: each document carries all of them from the first filterkit stage on
# (None where a value does not apply), so datatrove's writers see one schema (see :func:`document_schema`)
METADATA_TYPES = {
    UNIQUE_TERMS: "int64",
    TOTAL_HITS: "int64",
    MATCHED_TERMS: "list<string>",
    TERM_COUNTS: "list<int64>",
    ESCALATED: "bool",
    ESCALATED_BY: "string",
    GATE_SCORE: "float64",
    SCORE: "float64",
    WINDOWS: "int64",
    ERROR: "string",
    SPAN_STARTS: "list<int64>",
    SPAN_ENDS: "list<int64>",
    SPAN_SCORES: "list<float64>",
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


@dataclass(frozen=True, kw_only=True)
class Rule:
    """The keep/remove rule of one pipeline config: everything :func:`decide` needs and nothing else.

    Built from the config's sections by :meth:`from_config` (no defaults of its own: those live in the config
    model). ``threshold`` is resolved (the config's, else the head's own), so the run, ``rethreshold``,
    ``--dry-run`` and ``tune`` cannot fall back differently; ``None`` where no classifier runs.
    """

    mode: str  # blocklist.mode: "escalate" (the classifier decides) or "remove" (the list decides)
    classifier: bool
    threshold: float | None
    gate_only_threshold: float | None = None  # applies only where the semantic gate ran
    on_error: str

    @classmethod
    def from_config(
        cls,
        cfg: Any = None,
        head_threshold: float | None = None,
        *,
        blocklist: Any = None,
        semantic_gate: Any = None,
        classifier: Any = None,
    ) -> Rule:
        """The rule of a :class:`~filterkit.config.PipelineConfig` (or of the sections given by keyword: a stage
        holds only its own), for a classifier head whose own threshold is ``head_threshold``.

        A section that is absent or disabled does not take part: no blocklist, escalate everything; no gate, no
        gate-only bar; no classifier, the list alone decides.
        """
        if cfg is not None:
            blocklist, semantic_gate, classifier = cfg.blocklist, cfg.semantic_gate, cfg.classifier
        c = classifier if classifier is not None and classifier.enabled else None
        gate_ran = semantic_gate is not None and semantic_gate.enabled
        if c is not None and head_threshold is None and c.threshold is None:
            raise ValueError("the rule needs the classifier head's own threshold (head_threshold)")
        return cls(
            mode=blocklist.mode if blocklist is not None and blocklist.enabled else "escalate",
            classifier=c is not None,
            threshold=c.threshold_or(head_threshold) if c is not None else None,
            gate_only_threshold=c.gate_only_threshold if c is not None and gate_ran else None,
            on_error=c.on_error if c is not None else "keep",  # never read: nothing is scored
        )

    def threshold_for(self, escalated_by: str | None) -> float | None:
        """Documents only the semantic gate escalated may need more (``classifier.gate_only_threshold``): on-topic
        *style* without topic words is where the classifier's false positives on ordinary text come from."""
        if escalated_by == "gate" and self.gate_only_threshold is not None:
            return self.gate_only_threshold
        return self.threshold


def decide(
    rule: Rule, escalated_by: str | None, score: float | None = None, error: str | None = None
) -> tuple[Stage, Reason] | None:
    """Remove (by which stage, why) or keep (``None``): the one keep/remove rule.

    ``escalated_by`` is what the cheap stage found (:data:`ESCALATED_BY_VALUES`, ``None`` where none ran); ``score`` and
    ``error`` are the classifier's (both ``None`` before it ran). The blocklist stage calls it before scoring,
    the classifier stage after, ``rethreshold`` on recorded rows; :func:`decide_many` is the same rule over
    arrays for ``tune`` and the benchmarks, and a test pins the two together.
    """
    if rule.mode == "remove":
        return (Stage.BLOCKLIST, Reason.BLOCKLIST_TERMS) if escalated_by == "terms" else None
    if escalated_by == "none" or not rule.classifier:
        return None
    if error is not None:
        return (Stage.CLASSIFIER, Reason.ERROR) if rule.on_error == "remove" else None
    threshold = rule.threshold_for(escalated_by)
    if score is None or threshold is None:  # not scored; or no threshold, which only a rule without a classifier has
        return None
    return (Stage.CLASSIFIER, Reason.CLASSIFIER_SCORE) if score >= threshold else None


def decide_many(
    rule: Rule, escalated_by: np.ndarray | None, scores: np.ndarray, errors: np.ndarray | None = None
) -> np.ndarray:
    """:func:`decide` over arrays: the removal reason per document (``""``: kept).

    ``escalated_by`` holds :data:`ESCALATED_BY_VALUES` strings (``None``: no cheap stage ran), ``scores`` floats (NaN: not scored),
    ``errors`` booleans (``None``: none).
    """
    n = len(scores)
    scores = np.asarray(scores, dtype=float)
    escalated_by = np.full(n, None, dtype=object) if escalated_by is None else np.asarray(escalated_by, dtype=object)
    out = np.full(n, "", dtype=object)
    if rule.mode == "remove":
        out[escalated_by == "terms"] = Reason.BLOCKLIST_TERMS.value
        return out
    if not rule.classifier:
        return out
    reach = escalated_by != "none"
    err = np.zeros(n, dtype=bool) if errors is None else np.asarray(errors, dtype=bool)
    bar = np.full(n, rule.threshold)
    if rule.gate_only_threshold is not None:
        bar[escalated_by == "gate"] = rule.gate_only_threshold
    hit = reach & ~err & (np.nan_to_num(scores, nan=-np.inf) >= bar)
    out[hit] = Reason.CLASSIFIER_SCORE.value
    if rule.on_error == "remove":
        out[reach & err] = Reason.ERROR.value
    return out


def recorded_escalated_by(meta: dict) -> str | None:
    """The cheap stage's verdict recorded on a document's metadata (see :data:`ESCALATED_BY_VALUES`)."""
    if meta.get(ESCALATED) is None:
        return None
    return (meta.get(ESCALATED_BY) or "terms") if meta[ESCALATED] else "none"


def mark_removed(doc: Document, stage: Stage | str, reason: Reason | str) -> None:
    """Record that ``stage`` removes ``doc`` and why; the writer routes it to the audit log."""
    doc.metadata[DECISION] = "remove"
    doc.metadata[STAGE] = Stage(stage).value
    doc.metadata[REASON] = Reason(reason).value


def is_removed(doc: Document) -> bool:
    return doc.metadata.get(DECISION) == "remove"
