"""Span-level filtering for the experiment: keep a flagged document, drop only the text the classifier flags.

Document filtering removes a whole document when its classifier score (the maximum over its windows) reaches
the threshold. Span filtering, at the same threshold, keeps every document and cuts out the flagged spans, so
the rest of a mixed document still reaches the model (Rathi & Radford 2026 compared the two as research code).

The spans come from the run itself when ``filterkit run`` exported them (``RUN/spans/``, one parquet table per
shard: ``id``, ``start``, ``end`` (character offsets into the original text, end exclusive), ``score``);
otherwise :func:`flag_sentence_spans` computes the same table here by scoring each sentence of every document
the run escalated to the classifier with the run's classifier. Sentences, not the classifier's token windows:
the synthetic documents are shorter than one window (256 tokens), so a window span would be the whole document
and span filtering would be document filtering by construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: The span table's columns: those of ``filterkit run``'s ``spans/`` export that a trainer needs (its ``doc_id`` is
#: read as ``id``).
SPANS_SCHEMA = pa.schema([("id", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("score", pa.float32())])

# a sentence ends at . ? or ! followed by whitespace, or at a line break (catalogue entries are one fact a line)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character offsets ``[start, end)`` of the sentences of ``text``, surrounding whitespace excluded."""
    spans, start = [], 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = len(text) if m is None else m.start()
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        if m is not None:
            start = m.end()
    return spans


def flag_sentence_spans(
    ids: Sequence[str], texts: Sequence[str], score: Callable[[list[str]], Sequence[float | None]], threshold: float
) -> pa.Table:
    """The flagged sentences of each document: those whose own classifier score is >= ``threshold``.

    ``score`` maps a list of texts to one probability each (None: not scored, never flagged). One call for all
    sentences, so a batch-first classifier batches them."""
    owners, offsets, sentences = [], [], []
    for i, text in enumerate(texts):
        for s, e in sentence_spans(text):
            owners.append(i)
            offsets.append((s, e))
            sentences.append(text[s:e])
    scores = list(score(sentences)) if sentences else []
    rows: dict[str, list[Any]] = {"id": [], "start": [], "end": [], "score": []}
    for i, (s, e), p in zip(owners, offsets, scores):
        if p is not None and p >= threshold:
            rows["id"].append(str(ids[i]))
            rows["start"].append(s)
            rows["end"].append(e)
            rows["score"].append(float(p))
    return pa.table(rows, schema=SPANS_SCHEMA)


def read_run_spans(run_dir: Path) -> pa.Table | None:
    """``RUN/spans/`` as one table in :data:`SPANS_SCHEMA`, or None when the run did not export spans."""
    folder = Path(run_dir) / "spans"
    files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    tables = []
    for f in files:
        names = pq.read_schema(f).names
        key = "id" if "id" in names else "doc_id"  # filterkit run's SpanRow names the document's id doc_id
        t = pq.read_table(f, columns=[key, "start", "end", "score"])
        tables.append(t.rename_columns(SPANS_SCHEMA.names).cast(SPANS_SCHEMA))
    return pa.concat_tables(tables)


def remove_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` without the character ranges ``spans`` (overlaps merged); the pieces left are joined by one space."""
    pieces, pos = [], 0
    for s, e in sorted(spans):
        if s > pos:
            pieces.append(text[pos:s])
        pos = max(pos, e)
    pieces.append(text[pos:])
    return " ".join(p.strip() for p in pieces if p.strip())


def spans_by_id(table: pa.Table) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for i, s, e in zip(
        table.column("id").to_pylist(), table.column("start").to_pylist(), table.column("end").to_pylist()
    ):
        out.setdefault(i, []).append((int(s), int(e)))
    return out


def run_classifier(pipeline: Path) -> tuple[Callable[[list[str]], list[float | None]], float] | None:
    """The run's classifier as a scoring function, and the threshold the run applied (the pipeline's
    ``classifier.threshold``, else the classifier folder's tuned one); None when the pipeline has no classifier."""
    from filterkit.classify.registry import load_classifier, read_classifier_info
    from filterkit.config import ScoringSpec, load_config

    cfg = load_config(pipeline)
    if not cfg.classifier.enabled or cfg.classifier.path is None:
        return None
    info = read_classifier_info(cfg.classifier.path)
    threshold = float(cfg.classifier.threshold if cfg.classifier.threshold is not None else info.threshold)
    clf = load_classifier(cfg.classifier.path, ScoringSpec.from_config(cfg.classifier))
    return (lambda texts: [d.score for d in clf.score(texts)]), threshold


def span_filter(ids: Sequence[str], texts: Sequence[str], run_dir: Path, pipeline: Path, out: Path) -> dict[str, Any]:
    """Span-filtered training texts at the run's classifier threshold, and what was cut.

    Documents the run escalated to the classifier (``RUN/scores/``) lose their flagged spans and stay; a
    document left empty is dropped. Documents the run removed for another reason (a blocklist in ``remove`` mode)
    stay removed, as in document filtering; the rest are kept whole. The spans used are written to
    ``out/spans.parquet``."""
    kept = set(pq.read_table(run_dir / "kept", columns=["id"]).column("id").to_pylist())
    scores_dir = run_dir / "scores"
    escalated: set[str] = set()
    if scores_dir.is_dir() and any(scores_dir.rglob("*.parquet")):
        sc = pq.read_table(scores_dir, columns=["doc_id", "error"]).to_pylist()
        escalated = {r["doc_id"] for r in sc if r["error"] is None}
    table, source = read_run_spans(run_dir), "RUN/spans/ (filterkit run's export)"
    threshold = None
    if table is None:
        source = "sentences scored here with the run's classifier (filterkit run exported no spans)"
        clf = run_classifier(pipeline)
        if clf is None:
            table = SPANS_SCHEMA.empty_table()
        else:
            score, threshold = clf
            todo = [(i, t) for i, t in zip(ids, texts) if i in escalated]
            table = flag_sentence_spans([i for i, _ in todo], [t for _, t in todo], score, threshold)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "spans.parquet")
    flagged = spans_by_id(table)
    new_texts: list[str] = []
    new_ids: list[str] = []
    cut_chars = total_chars = dropped = 0
    for i, t in zip(ids, texts):
        total_chars += len(t)
        if i in escalated:
            left = remove_spans(t, flagged.get(i, []))
            cut_chars += len(t) - len(left)
            if not left:
                dropped += 1
                continue
            new_ids.append(i)
            new_texts.append(left)
        elif i in kept:
            new_ids.append(i)
            new_texts.append(t)
    return {
        "ids": new_ids,
        "texts": new_texts,
        "source": source,
        "threshold": threshold,
        "n_spans": table.num_rows,
        "docs_with_spans": len(flagged),
        "docs_emptied": dropped,
        "escalated": len(escalated),
        "cut_char_fraction": cut_chars / total_chars if total_chars else 0.0,
        "mean_span_score": float(np.mean(table.column("score").to_numpy())) if table.num_rows else None,
    }
