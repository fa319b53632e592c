"""Re-decide a finished run under a new threshold or a stricter blocklist bar, without re-encoding.

The first run's ``scores/`` hold every escalated document's score and matched terms, so a new
classifier threshold, or a higher ``min_unique_hits``, is a re-read of those tables plus the input
files. The new decisions go through the same shard writer as ``filterkit run``, so the new run folder
has the same layout, audit schema, conservation checks and manifest — and a rethreshold to threshold
*t* gives byte-identical outputs to a fresh run at *t*.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from filterkit import contract
from filterkit.config import BlocklistConfig, PipelineConfig
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError
from filterkit.match import escalation
from filterkit.runs.folder import claim_out_dir
from filterkit.runs.manifest import write_manifest
from filterkit.runs.prepared import RunResult
from filterkit.runs.runner import plan
from filterkit.runs.verify import redo_damaged, require_intact
from filterkit.stages.reader import ShardReader
from filterkit.stages.shard_output import ShardOutput
from filterkit.store.layout import RunLayout, run_lock
from filterkit.store.rows import read_rows


def _load_run(run_dir: Path) -> dict:
    manifest = run_dir / "manifest.json"
    if not manifest.is_file():
        raise FilterkitError(f"{run_dir}: no manifest.json; rethreshold needs a finished `filterkit run` folder")
    return json.loads(manifest.read_text(encoding="utf-8"))


def _new_config(old: PipelineConfig, threshold: float | None, min_unique_hits: int | None) -> PipelineConfig:
    """The first run's config with the new bar and threshold, validated as a fresh config is."""
    if threshold is not None and not old.classifier.enabled:
        raise FilterkitError("this run has no classifier stage, so --threshold does not apply; use --min-unique-hits")
    if min_unique_hits is not None:
        if not old.blocklist.enabled:
            raise FilterkitError("this run has no blocklist stage, so --min-unique-hits does not apply")
        if old.semantic_gate.enabled or old.blocklist.short_doc_words > 0:
            raise FilterkitError(
                "this run escalated with a semantic gate or a length-aware bar, which rethreshold cannot replay under "
                "a new --min-unique-hits (the gate never scored documents over the old bar); re-run `filterkit run`"
            )
        if min_unique_hits < old.blocklist.min_unique_hits:
            raise FilterkitError(
                f"--min-unique-hits {min_unique_hits} is below the run's {old.blocklist.min_unique_hits}: documents "
                "under the old bar were never scored; re-run `filterkit run` with the lower bar instead"
            )
    data = old.model_dump()
    data["classifier"]["export_spans"] = False  # window scores below the old threshold were never kept: no spans/
    if threshold is not None:
        data["classifier"]["threshold"] = threshold
    if min_unique_hits is not None:
        data["blocklist"]["min_unique_hits"] = min_unique_hits
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as e:  # only the two values given here can be new, so the error is about one of them
        err = e.errors()[0]
        flag, value = (
            ("--threshold", threshold) if "threshold" in err["loc"] else ("--min-unique-hits", min_unique_hits)
        )
        raise FilterkitError(f"{flag} {value}: {err['msg']}") from None


def _recorded(run_dir: Path, sub: str, shard: Shard) -> dict[int, dict]:
    path = run_dir / sub / shard.out_name
    if not path.is_file():
        raise FilterkitError(
            f"{path}: missing; the run folder {run_dir} is incomplete — finish it with `filterkit run`"
        )
    return {r["row_index"]: r for r in read_rows(path, sub).to_pylist()}


def _scored_on(run_dir: Path, m: dict) -> str | None:
    """The device/runtime/precision the first run's scores came from (planned, or recorded by its workers)."""
    layout = RunLayout(run_dir)
    recorded = [
        (layout.read_marker(Shard("", i["name"], "parquet", 0, 0).out_name) or {}).get("scoring") for i in m["inputs"]
    ]
    return (m.get("run_info") or {}).get("scoring") or next((p for p in recorded if p), None)


def _scored_texts(run_dir: Path, shard: Shard) -> str:
    marker = RunLayout(run_dir).read_marker(shard.out_name) or {}
    digest = (marker.get("input") or {}).get("texts_sha256")
    if not digest:
        raise FilterkitError(
            f"{shard.path}: {run_dir}'s done marker records no digest of the texts it scored (a run "
            "made by an older filterkit); re-run `filterkit run` into a new --out first"
        )
    return digest


def _recorded_escalated_by(rec: dict, bl: BlocklistConfig) -> str:
    """A recorded row's cheap-stage verdict under the new term bar (:func:`~filterkit.match.escalation.escalated_by`, the run's own rule).

    A raised ``--min-unique-hits`` is refused where a gate or a length-aware bar ran, so there the recorded
    verdict stands; otherwise a row escalated by terms stays so only with the new bar's unique terms.
    """
    by_gate = rec.get("escalated_by") == "gate"
    by_terms = not by_gate and (bl.short_doc_words > 0 or (rec.get("unique_terms") or 0) >= bl.min_unique_hits)
    return escalation.escalated_by(np.array([by_terms]), np.array([by_terms or by_gate]))[0]


def _annotate(doc, rec: dict, cfg: PipelineConfig, rule: contract.Rule) -> None:
    """Restore what the stages recorded and decide again under the new bar and threshold (:func:`contract.decide`)."""
    meta = doc.metadata
    terms = rec.get("matched_terms") or []
    meta[contract.MATCHED_TERMS] = [t["term"] for t in terms]
    meta[contract.TERM_COUNTS] = [t["count"] for t in terms]
    meta[contract.UNIQUE_TERMS] = rec.get("unique_terms")
    meta[contract.TOTAL_HITS] = rec.get("total_hits")
    meta[contract.GATE_SCORE] = rec.get("gate_score")
    escalated_by = (
        _recorded_escalated_by(rec, cfg.blocklist) if cfg.blocklist.enabled else None
    )  # None: no cheap stage ran
    escalate = escalated_by != "none" and rule.mode == "escalate"
    meta[contract.ESCALATED_BY] = escalated_by if escalate and escalated_by is not None else None
    meta[contract.ESCALATED] = escalate
    if escalate:
        meta[contract.WINDOWS] = rec.get("windows") or 0
        if rec.get("error") is not None:
            meta[contract.ERROR] = rec["error"]
        else:
            meta[contract.SCORE] = rec.get("score")
    verdict = contract.decide(rule, escalated_by, meta.get(contract.SCORE), meta.get(contract.ERROR))
    if verdict is not None:
        contract.mark_removed(doc, *verdict)


def rethreshold(
    run_dir: str | Path, out: str | Path, threshold: float | None = None, min_unique_hits: int | None = None
) -> RunResult:
    """Write a new run folder ``out`` from ``run_dir``'s scores under a new threshold / blocklist bar."""
    run_dir = Path(run_dir)
    if threshold is None and min_unique_hits is None:
        raise FilterkitError("nothing to change: pass --threshold and/or --min-unique-hits")
    m = _load_run(run_dir)
    old = PipelineConfig.model_validate(m["config"])
    cfg = _new_config(old, threshold, min_unique_hits)
    from filterkit.runs.input_check import recorded_inputs

    # a shard cut by `run --limit` stays cut; each input must still be the file that was scored (size, sha256)
    shards = recorded_inputs(run_dir, m)
    require_intact(run_dir, command="rethreshold")  # its audit/ and scores/ are the decisions' source
    prep = plan(cfg, shards, out, limit=m.get("limit"), scored_on=_scored_on(run_dir, m))
    with run_lock(prep.layout.root):
        return _rethreshold_locked(run_dir, prep, shards)


def _rethreshold_locked(run_dir: Path, prep, shards: list[Shard]) -> RunResult:
    cfg = prep.config
    claim_out_dir(prep)
    redone = redo_damaged(prep.layout, [s.out_name for s in shards], shards)
    t0 = time.perf_counter()
    reader = ShardReader(shards, cfg.input)
    rule = prep.info.rule
    layout: RunLayout = prep.layout
    for shard in shards:
        if layout.is_done(shard.out_name):
            continue
        t_shard = time.perf_counter()
        scored = _recorded(run_dir, "scores", shard)
        removed_by_blocklist = {
            r: rec for r, rec in _recorded(run_dir, "audit", shard).items() if rec["stage"] == "blocklist"
        }
        sink = ShardOutput(shard, layout.tmp_dir(0), prep.info)
        # the texts read now must be the texts the first run scored (its done marker's digest)
        sink.expected_texts = _scored_texts(run_dir, shard)
        try:
            for doc in reader.read_shard(shard):
                row = doc.metadata[contract.ROW]
                rec = scored.get(row) or removed_by_blocklist.get(row)
                if rec is not None:
                    _annotate(doc, rec, cfg, rule)
                sink.add(doc)
            sink.finish(layout, cfg.input, {"rethreshold": time.perf_counter() - t_shard})
        except BaseException:
            sink.abort()
            raise
    return RunResult(layout.root, write_manifest(prep, time.perf_counter() - t0, [], redone))
