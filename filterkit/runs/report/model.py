"""What a run report holds, as plain typed data: the HTML page is one rendering of it, a script can use another.

Every number here is read from the run folder (manifest, ``audit/``, ``scores/``, ``spans/``, ``kept/``), never
recomputed from texts, so the page shows what the run decided and nothing the report guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Funnel:
    """The counts of one set of documents (the run, one input shard, one value of a metadata column).

    ``read = kept + removed`` holds for every row. ``escalated_*`` split the documents the classifier scored by
    what sent them there (``escalated_other``: a pipeline with no cheap stage scores everything).
    """

    label: str
    read: int
    escalated_terms: int
    escalated_gate: int
    escalated_other: int
    removed_blocklist: int
    removed_classifier: int
    removed_error: int
    kept: int

    @property
    def escalated(self) -> int:
        return self.escalated_terms + self.escalated_gate + self.escalated_other

    @property
    def removed(self) -> int:
        return self.removed_blocklist + self.removed_classifier + self.removed_error

    @property
    def escalated_kept(self) -> int:
        """Scored and kept: the contrast set for the term table (blocklist removals are never scored)."""
        return self.escalated - self.removed_classifier - self.removed_error

    @property
    def removed_share(self) -> float | None:
        return self.removed / self.read if self.read else None


@dataclass(frozen=True)
class Breakdown:
    """Funnels per value of one key (shard or metadata column), largest first; ``left_out`` values not shown."""

    key: str
    rows: list[Funnel]
    left_out: int = 0
    left_out_read: int = 0


@dataclass(frozen=True)
class Histogram:
    """Counts per bin of equal width over ``[lo, hi]``, one list per series (``kept``, ``removed``)."""

    title: str
    xlabel: str
    lo: float
    hi: float
    series: dict[str, list[int]]
    lines: dict[str, float]  # label -> x of a vertical line (thresholds)
    note: str = ""

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.series.values())


@dataclass(frozen=True)
class TermRow:
    """A blocklist term's documents among removals and among escalated-but-kept documents.

    ``log_ratio`` is the log of the two document rates (0.5 added to each count so a term seen on one side
    only stays finite); ``low`` is the lower end of its 95% interval (log ratio − 1.96 standard errors), so a
    term in three documents does not outrank one in three hundred by luck.
    """

    term: str
    removed_docs: int
    removed_hits: int
    kept_docs: int
    kept_hits: int
    log_ratio: float
    low: float


@dataclass(frozen=True)
class Example:
    """One document shown to the reviewer: where it is, what the stages recorded, and a piece of its text.

    ``segments`` is the text cut at matched terms: ``(piece, is_term)`` pairs, so the renderer escapes every
    piece and marks terms without ever treating document text as markup.
    """

    doc_id: str | None
    shard: str
    row: int
    removed: bool
    reason: str | None
    score: float | None
    threshold: float | None
    escalated_by: str | None
    gate_score: float | None
    terms: list[tuple[str, int]]
    segments: list[tuple[str, bool]]
    text_note: str


@dataclass(frozen=True)
class ExampleSet:
    """A titled list of examples and how they were chosen."""

    key: str
    title: str
    how: str
    examples: list[Example]


@dataclass(frozen=True)
class StageTime:
    """Seconds one stage spent (summed over tasks) and the documents it handled per second of that."""

    stage: str
    seconds: float
    docs: int

    @property
    def docs_per_second(self) -> float | None:
        return self.docs / self.seconds if self.seconds > 0 else None


@dataclass(frozen=True)
class EstimateLine:
    """One estimated rate with its interval, from labelled reading (the review file): shown beside the counts."""

    name: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


def estimate_lines(estimates: Mapping[str, Any] | None) -> list[EstimateLine]:
    """Estimates given as ``{name: metric}``; a metric is an :class:`EstimateLine`, a mapping or an object with
    ``value``, ``ci95`` (``(low, high)``) and optionally ``undefined`` (why there is no value): the shape of
    :mod:`filterkit.evaluate.estimate`'s ``Metric``, so its results pass through unchanged."""
    lines = []
    for name, m in (estimates or {}).items():
        if isinstance(m, EstimateLine):
            lines.append(m)
            continue
        get = m.get if isinstance(m, Mapping) else (lambda k, d=None, _m=m: getattr(_m, k, d))
        ci = get("ci95") or (get("low"), get("high"))
        value = get("value")
        lines.append(
            EstimateLine(
                str(name),
                None if value is None else float(value),
                None if ci[0] is None else float(ci[0]),
                None if ci[1] is None else float(ci[1]),
                str(get("undefined") or get("note") or ""),
            )
        )
    return lines


@dataclass
class RunReport:
    """Everything the page shows, in the order it shows it."""

    run: str
    run_id: str
    facts: dict[str, Any]
    overall: Funnel
    shards: Breakdown
    by: Breakdown | None
    score_hist: Histogram
    gate_hist: Histogram
    terms: list[TermRow]
    examples: list[ExampleSet]
    timing: list[StageTime]
    wall_seconds: float | None
    docs_per_second: float | None
    config: dict[str, Any]
    versions: dict[str, str]
    estimates: list[EstimateLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
