"""``filterkit run --dry-run``: validate everything and say what a run would cost, writing nothing.

A user about to filter a few terabytes wants to know, in a minute, that the inputs, config, term list, gate and
classifier all load, how many documents the cheap stage would send to the classifier, and roughly how long
that takes on this machine. The estimate comes from a sample: the first ``sample_docs`` documents in input
order through the run's own cheap stage, and up to ``score_docs`` of the escalated ones through the run's own
classifier stage (built exactly as ``filterkit run`` builds it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from filterkit.config import PipelineConfig
from filterkit.contract import REASONS, Reason, Rule, decide


def dry_run(
    input_spec: str | Path,
    config: PipelineConfig | str | Path,
    sample_docs: int = 2000,
    score_docs: int = 64,
    limit: int | None = None,
) -> dict[str, Any]:
    """The plan of a run of ``input_spec`` with ``config``: shards, rows, bytes, sampled escalation, time
    (of the first ``limit`` documents only, as ``run --limit`` would read them, when given)."""
    from filterkit.match.escalation import Escalator
    from filterkit.runs.manifest import device_summary
    from filterkit.runs.runner import prepare
    from filterkit.stages.classifier import ClassifierStage
    from filterkit.stages.reader import ShardReader

    # inputs are not hashed (that reads every byte), so there is no run id to show
    prep = prepare(input_spec, config, "(dry-run: nothing written)", limit=limit, fingerprint=False)
    cfg = prep.config
    rows = sum(s.num_rows for s in prep.shards)
    plan: dict[str, Any] = {
        "shards": len(prep.shards),
        "rows": rows,
        "bytes": sum(s.size_bytes for s in prep.shards),
        "device": device_summary(prep),
        "sample_docs": 0,
    }
    reader = ShardReader(prep.shards, cfg.input)
    texts: list[str] = []
    for shard in prep.shards:
        for doc in reader.read_shard(shard):
            texts.append(doc.text)
            if len(texts) >= sample_docs:
                break
        if len(texts) >= sample_docs:
            break
    plan["sample_docs"] = len(texts)
    if not texts:
        return plan
    escalated_by = None  # no cheap stage: every document reaches the classifier
    cheap_s = 0.0
    if cfg.blocklist.enabled:
        esc = Escalator(cfg.blocklist, cfg.semantic_gate if cfg.semantic_gate.enabled else None)
        esc(texts[:8])  # load the automaton and the gate outside the timing
        t0 = time.perf_counter()
        escalated_by = esc(texts).escalated_by()
        cheap_s = time.perf_counter() - t0
        n_over = int((escalated_by != "none").sum())
        plan["cheap_stage_docs_per_s"] = len(texts) / max(cheap_s, 1e-9)
        plan["sample_escalated"] = n_over
        plan["sample_escalation_rate"] = n_over / len(texts)
    escalated = [i for i in range(len(texts)) if escalated_by is None or escalated_by[i] != "none"]
    estimate = rows * cheap_s / len(texts)
    removed: dict[str, int] = {r: 0 for r in REASONS}
    if not cfg.classifier.enabled:  # blocklist.mode: remove — the list decides alone
        rule = Rule.from_config(cfg)  # no classifier: no head threshold to fall back on
        for i in range(len(texts)):
            verdict = decide(rule, None if escalated_by is None else escalated_by[i])
            if verdict is not None:
                removed[verdict[1].value] += 1
        plan["sample_removed_by_blocklist"] = removed[Reason.BLOCKLIST_TERMS.value]
    elif escalated:
        stage = ClassifierStage.from_config(cfg)
        model = stage.model  # loads exactly what the run loads
        model.score([texts[escalated[0]]])  # warm-up: set-up is not throughput
        pick = escalated[:score_docs]
        t0 = time.perf_counter()
        scores = model.score([texts[i] for i in pick])
        clf_s = time.perf_counter() - t0
        for i, r in zip(pick, scores):  # the run's own rule: gate-only threshold and on_error included
            verdict = decide(stage.rule, None if escalated_by is None else escalated_by[i], r.score, r.error)
            if verdict is not None:
                removed[verdict[1].value] += 1
        plan["classifier_docs_per_s"] = len(pick) / max(clf_s, 1e-9)
        plan["sample_scored"] = len(pick)
        plan["sample_removed_of_scored"] = sum(removed.values())
        rate = len(escalated) / len(texts)
        estimate += rows * rate / plan["classifier_docs_per_s"]
    plan["sample_removed_by_reason"] = {k: v for k, v in removed.items() if v}
    plan["estimated_seconds"] = estimate
    return plan
