"""One shard's outputs: its audit, scores and spans rows as they arrive, then the checked, atomic commit.

Removed documents become audit rows, escalated ones score rows, each built from what the stages recorded in the
document's metadata (nothing is recomputed to explain a decision). Kept rows are copied from the input file itself
(all columns, the input's exact schema, input order) using a keep-mask, so nothing a stage did to a document
object can leak into ``kept/``. :meth:`ShardOutput.finish` commits only when read = kept + removed has been
checked: the files are fsynced and renamed into place, then the done marker is written last. Used by the
writer step (:mod:`filterkit.stages.writer`) and by ``rethreshold``, so both commit a shard the same way.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document

from filterkit import contract
from filterkit.config import InputConfig
from filterkit.data.fingerprint import RowTexts, require_unchanged
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError
from filterkit.io import atomic_replace, file_digest, write_json_atomic
from filterkit.stages.kept import write_kept
from filterkit.store.layout import RunLayout
from filterkit.store.rows import (
    AUDIT_SCHEMA,
    SCORES_SCHEMA,
    SPANS_SCHEMA,
    AuditRow,
    RunInfo,
    ScoresRow,
    SpanRow,
    as_dict,
)


def _compression(name: str) -> str | None:
    return None if name == "none" else name


class _RowSink:
    """Rows of a fixed schema streamed to a parquet file one row group at a time."""

    def __init__(self, path: Path, schema: pa.Schema, row_group_rows: int, compression: str) -> None:
        self.path = path
        self.schema = schema
        self.rows: list[dict] = []
        self.row_group_rows = row_group_rows
        self.n = 0
        self.writer = pq.ParquetWriter(path, schema, compression=_compression(compression))

    def add(self, row: Any) -> None:
        """Queue one row (a dataclass of :mod:`filterkit.store.rows`, whose fields are the schema's columns)."""
        self.rows.append(as_dict(row))
        self.n += 1
        if len(self.rows) >= self.row_group_rows:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


class ShardOutput:
    """Everything the writer holds for the one shard in progress."""

    def __init__(self, shard: Shard, tmp: Path, info: RunInfo) -> None:
        self.shard = shard
        self.info = info
        self.output = out = info.output  # the run's output: section (kept/ format, row groups, compression)
        self.kept_name = shard.kept_name(out.format)
        tmp.mkdir(parents=True, exist_ok=True)
        stem = hashlib.sha1(shard.out_name.encode()).hexdigest()[:16]
        self.tmp_kept = tmp / f"{stem}.kept"
        self.audit = _RowSink(tmp / f"{stem}.audit.parquet", AUDIT_SCHEMA, out.row_group_rows, out.compression)
        self.scores = _RowSink(tmp / f"{stem}.scores.parquet", SCORES_SCHEMA, out.row_group_rows, out.compression)
        self.spans = (
            _RowSink(tmp / f"{stem}.spans.parquet", SPANS_SCHEMA, out.row_group_rows, out.compression)
            if info.export_spans
            else None
        )
        self.seen = np.zeros(shard.num_rows, dtype=bool)
        self.removed = np.zeros(shard.num_rows, dtype=bool)
        self.reasons: dict[str, int] = {r: 0 for r in contract.REASONS}
        self.n_seen = 0
        # the texts as scored, checked against the kept-rows copy's read; ``expected_texts``: the digest they must
        # give (rethreshold: the run whose scores it applies)
        self.texts = RowTexts(shard.path, shard.num_rows)
        self.expected_texts: str | None = None
        self.scoring: str | None = None  # device/runtime/precision the classifier actually used (None: unscored)
        self.escalated = 0
        self.scored = 0
        self.chars = 0

    def _text_field(self, text: str) -> str | None:
        if self.output.audit_text == "full":
            return text
        if self.output.audit_text == "snippet":
            return text[: self.output.snippet_chars]
        return None

    def add(self, doc: Document) -> None:
        meta = doc.metadata
        row = meta.get(contract.ROW)
        if row is None or not 0 <= row < len(self.seen):
            raise FilterkitError(f"{self.shard.path}: document {doc.id!r} has no valid row index; a step dropped it")
        if self.seen[row]:
            raise FilterkitError(f"{self.shard.path}: row {row} reached the writer twice; exactly-once violated")
        self.seen[row] = True
        self.texts.record(row, doc.text)
        self.n_seen += 1
        self.chars += len(doc.text)
        removed = contract.is_removed(doc)
        reason = meta.get(contract.REASON) if removed else None
        matched = [
            {"term": t, "count": c}
            for t, c in zip(meta.get(contract.MATCHED_TERMS) or [], meta.get(contract.TERM_COUNTS) or [])
        ]
        escalated = (
            bool(meta.get(contract.ESCALATED))
            or meta.get(contract.SCORE) is not None
            or meta.get(contract.ERROR) is not None
        )
        # the bar this document had to reach, once for its scores, spans and audit rows (none are written otherwise)
        threshold = self._threshold(meta) if escalated or removed else None
        if escalated:
            self.escalated += 1
            if meta.get(contract.SCORE) is not None:
                self.scored += 1
            self.scores.add(
                ScoresRow(
                    run_id=self.info.run_id,
                    input_shard=self.shard.name,
                    row_index=row,
                    doc_id=doc.id,
                    score=meta.get(contract.SCORE),
                    windows=meta.get(contract.WINDOWS) or 0,
                    matched_terms=matched,
                    unique_terms=meta.get(contract.UNIQUE_TERMS),
                    total_hits=meta.get(contract.TOTAL_HITS),
                    removed=removed,
                    reason=reason,
                    error=meta.get(contract.ERROR),
                    escalated_by=meta.get(contract.ESCALATED_BY),
                    gate_score=meta.get(contract.GATE_SCORE),
                    threshold=threshold,
                    classifier=self.info.classifier,
                )
            )
        if self.spans is not None and meta.get(contract.SPAN_STARTS):
            assert threshold is not None  # spans come only from a classifier, so the run has a rule
            for s, e, p in zip(meta[contract.SPAN_STARTS], meta[contract.SPAN_ENDS], meta[contract.SPAN_SCORES]):
                self.spans.add(
                    SpanRow(
                        run_id=self.info.run_id,
                        input_shard=self.shard.name,
                        row_index=row,
                        doc_id=doc.id,
                        start=s,
                        end=e,
                        score=p,
                        threshold=threshold,
                    )
                )
        if removed:
            self.removed[row] = True
            assert reason is not None  # contract.mark_removed always sets the reason
            self.reasons[reason] += 1
            self.audit.add(
                AuditRow(
                    run_id=self.info.run_id,
                    input_shard=self.shard.name,
                    row_index=row,
                    doc_id=doc.id,
                    stage=meta[contract.STAGE],
                    reason=reason,
                    matched_terms=matched,
                    unique_terms=meta.get(contract.UNIQUE_TERMS),
                    total_hits=meta.get(contract.TOTAL_HITS),
                    min_unique_hits=self.info.min_unique_hits,
                    score=meta.get(contract.SCORE),
                    threshold=threshold,
                    classifier=self.info.classifier,
                    classifier_sha256=self.info.classifier_sha256,
                    config_sha256=self.info.config_sha256,
                    error=meta.get(contract.ERROR),
                    text=self._text_field(doc.text),
                    text_sha256=hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).hexdigest(),
                    escalated_by=meta.get(contract.ESCALATED_BY),
                    gate_score=meta.get(contract.GATE_SCORE),
                )
            )

    def _threshold(self, meta: dict) -> float | None:
        """The classifier threshold this document had to reach (the run's rule, :meth:`Rule.threshold_for`)."""
        return self.info.rule.threshold_for(meta.get(contract.ESCALATED_BY))

    def _write_kept(self, input_cfg: InputConfig) -> tuple[int, int]:
        """Copy kept rows from the input file in the run's output format; returns (rows read, rows kept)."""
        return write_kept(self.shard, self.removed, self.tmp_kept, self.output, input_cfg, texts=self.texts)

    def finish(self, layout: RunLayout, input_cfg: InputConfig, stage_seconds: dict[str, float]) -> dict:
        shard = self.shard
        self.audit.close()
        self.scores.close()
        if self.spans is not None:
            self.spans.close()
        t_write = time.perf_counter()
        read, kept = self._write_kept(input_cfg)
        removed = int(self.removed.sum())
        seen = int(self.seen.sum())
        if read != shard.num_rows or seen != read:
            raise FilterkitError(
                f"{shard.path}: read {read} rows but {seen} reached the writer; a pipeline step dropped or "
                "duplicated documents — filterkit stages must be the only filters in this pipeline"
            )
        if kept + removed != read:
            raise FilterkitError(f"{shard.path}: read {read} != kept {kept} + removed {removed}; refusing to finish")
        if self.audit.n != removed:
            raise FilterkitError(f"{shard.path}: {removed} removed but {self.audit.n} audit rows; refusing to finish")
        if self.scoring is not None and self.info.scoring is not None and self.scoring != self.info.scoring:
            raise FilterkitError(
                f"{shard.path}: scored on {self.scoring}, but the run was planned for "
                f"{self.info.scoring}; set classifier.device and classifier.runtime explicitly"
            )
        # the file as it is now must be the file the run was planned on, and its texts the ones expected
        input_fp = {**require_unchanged(shard), "texts_sha256": self.texts.sha256()}
        if self.expected_texts is not None and input_fp["texts_sha256"] != self.expected_texts:
            raise FilterkitError(
                f"{shard.path}: its texts are not the ones the scores were computed on; nothing of "
                "this shard was written — restore that input or re-run `filterkit run`"
            )
        # each output's size, sha256 and rows go into the marker, so later readers can tell a file that
        # was changed, truncated or deleted after the shard finished (see RunLayout.output_problems)
        outputs = {}
        tmps: tuple[tuple[str, Path, int], ...] = (
            ("kept", self.tmp_kept, kept),
            ("audit", self.audit.path, self.audit.n),
            ("scores", self.scores.path, self.scores.n),
        )
        if self.spans is not None:  # optional: only with classifier.export_spans
            tmps += (("spans", self.spans.path, self.spans.n),)
        for kind, tmp, rows in tmps:
            outputs[kind] = {**file_digest(tmp), "rows": rows}
        if self.kept_name != shard.out_name:  # kept/ follows output.format (JSON lines); audit/ and scores/ are parquet
            outputs["kept"]["file"] = self.kept_name
        from filterkit.proc import die_if_run_died

        die_if_run_died()  # a pool worker of a killed run commits nothing
        for kind, tmp, _ in tmps:
            atomic_replace(tmp, layout.output(kind, self.kept_name if kind == "kept" else shard.out_name))
        seconds = dict(stage_seconds)
        seconds["write"] = time.perf_counter() - t_write
        stats = {
            "shard": shard.name,
            "out_name": shard.out_name,
            "path": shard.path,
            "rows_read": read,
            "kept": kept,
            "removed": removed,
            "removed_by_reason": self.reasons,
            "escalated": self.escalated,
            "scored": self.scored,
            "text_chars": self.chars,
            "input_bytes": shard.size_bytes,
            "input": input_fp,
            **({"scoring": self.scoring} if self.scoring is not None else {}),
            "seconds": seconds,
            "outputs": outputs,
        }
        write_json_atomic(layout.done(shard.out_name), stats)  # last: its presence means "finished"
        return stats

    def abort(self) -> None:
        for sink in (self.audit, self.scores, *((self.spans,) if self.spans is not None else ())):
            try:
                sink.writer.close()
            except Exception:  # noqa: BLE001 - best effort while unwinding another error
                pass
        for p in (self.tmp_kept, self.audit.path, self.scores.path, *((self.spans.path,) if self.spans else ())):
            p.unlink(missing_ok=True)
