"""Real-text mode, the filter: a head trained by ``filterkit train`` on the filter part of real/train, run by the
real ``filterkit run`` over the pretraining corpus (and the span-tuning documents), every window's score kept.

One encoder pass serves every granularity (dolma's split of tagging from thresholding): the run scores at
threshold 0 with ``classifier.export_spans``, so ``spans/`` holds every window of every escalated document with
its score; ``filterkit rethreshold`` at the head's own threshold then gives the document filter's removals
(byte-identical to a run at that threshold); the span threshold is chosen on the tuning documents' windows and
applied to the corpus's. The shipped semantic gate is switched off: it was trained on all of real/train, corpus
included. The blocklist is the shipped hand-curated list (no real text went into it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from filterkit.experiment.real import RealSets
from filterkit.experiment.spans import read_run_spans

#: ``filterkit train`` settings of the shipped head (classifiers/biorisk-proxy-minilm/MODEL_CARD.md)
SHIPPED_TRAIN = {"head": "logistic", "folds": 5, "target_recall": 0.95, "balance": "source"}


def train_real_head(sets: RealSets, out: Path, seed: int) -> Path:
    """``filterkit train --labels FILTER_PART --balance source`` (the shipped head's settings) into ``out/head``."""
    from filterkit.train.embedding import train_head

    out.mkdir(parents=True, exist_ok=True)
    labels = out / "labels.parquet"
    pq.write_table(sets.filter_train, labels)
    head = out / "head"
    train_head([labels], head, seed=seed, name="experiment-real-head", **SHIPPED_TRAIN)
    return head


def scoring_pipeline(base: Path, head: Path, out: Path) -> Path:
    """``base`` (the shipped pipeline) with the trained head at threshold 0, spans exported, the gate off."""
    from filterkit.config_file import read_yaml_mapping

    cfg = read_yaml_mapping(base, "pipeline config", "filter_pipeline in the experiment config")
    cfg["name"] = f"{cfg.get('name', 'filter')}-experiment-real"
    cfg["semantic_gate"] = {"enabled": False}
    blocklist = dict(cfg.get("blocklist", {}))
    if "path" in blocklist and not Path(blocklist["path"]).is_absolute():
        blocklist["path"] = str((base.parent / blocklist["path"]).resolve())
    cfg["blocklist"] = blocklist
    clf = {k: v for k, v in cfg.get("classifier", {}).items() if k not in ("gate_only_threshold", "threshold")}
    cfg["classifier"] = {**clf, "path": str(head.resolve()), "threshold": 0.0, "export_spans": True}
    out.mkdir(parents=True, exist_ok=True)
    path = out / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def coverage(texts: dict[str, str], windows: dict[str, list[tuple[int, int, float]]], t: float) -> float:
    """Share of the characters of ``texts`` inside windows scoring >= ``t`` (overlaps counted once)."""
    covered = total = 0
    for i, text in texts.items():
        total += len(text)
        spans = sorted((s, e) for s, e, p in windows.get(i, ()) if p >= t)
        pos = 0
        for s, e in spans:
            s = max(s, pos)
            if e > s:
                covered += e - s
                pos = e
    return covered / total if total else 0.0


def document_coverage(texts: dict[str, str], windows: dict[str, list[tuple[int, int, float]]], t: float) -> float:
    """Share of the characters of ``texts`` in documents the document filter removes at ``t`` (any window >= t)."""
    total = sum(len(x) for x in texts.values())
    removed = sum(len(x) for i, x in texts.items() if any(p >= t for _, _, p in windows.get(i, ())))
    return removed / total if total else 0.0


def choose_span_threshold(
    tune: pa.Table, windows: dict[str, list[tuple[int, int, float]]], target: float | str, doc_threshold: float
) -> dict[str, Any]:
    """The highest window threshold at which flagged windows cover ``target`` of the tuning proxy documents'
    characters (their labels are per document, so every character of a proxy document counts as proxy); with
    ``target="document"``, the share the document filter removes there, so the span filters reach the document
    filter's proxy recall with finer cuts. The coverage of the other groups at it is the span filter's collateral."""
    rows = tune.select(["id", "text", "group"]).to_pylist()
    by_group = {g: {r["id"]: r["text"] for r in rows if r["group"] == g} for g in ("proxy", "bio_med", "general")}
    proxy = by_group["proxy"]
    rule = target
    if target == "document":
        target = document_coverage(proxy, windows, doc_threshold)
    cands = sorted({p for i in proxy for _, _, p in windows.get(i, ())}, reverse=True)
    chosen, reached = (cands[-1] if cands else 0.0), False
    for t in cands:  # coverage only grows as t falls
        if coverage(proxy, windows, t) >= target:
            chosen, reached = float(t), True
            break
    cov = lambda t: {g: coverage(texts, windows, t) for g, texts in by_group.items()}
    matched = " (the share the document filter removes there)" if rule == "document" else ""
    return {
        "threshold": chosen,
        "target_recall": target,
        "target_rule": rule,
        "reached": reached,
        "rule": f"highest window score at which the flagged windows cover >= {target:.3f}{matched} of the "
        f"characters of {len(proxy)} real/dev proxy documents (not in the eval sets); documents the "
        "blocklist never escalates have no windows and count as missed",
        "char_coverage": cov(chosen),
        "char_coverage_at_doc_threshold": cov(doc_threshold),
        "document_filter_char_recall": {g: document_coverage(t, windows, doc_threshold) for g, t in by_group.items()},
        "n_tune_docs": {g: len(v) for g, v in by_group.items()},
    }


def _bootstrap_share(hit: np.ndarray, rng: np.random.Generator, n: int = 1000) -> list[float]:
    if not len(hit):
        return [float("nan"), float("nan")]
    draws = rng.integers(0, len(hit), size=(n, len(hit)))
    return np.percentile(hit[draws].mean(axis=1), [2.5, 97.5]).tolist()


def filter_quality(corpus: pa.Table, kept: set[str], seed: int) -> dict[str, Any]:
    """Recall and precision of the document filter on the corpus it filtered, bootstrap 95% intervals."""
    ids, labels = corpus.column("id").to_pylist(), np.asarray(corpus.column("label").to_pylist())
    groups = np.asarray(corpus.column("group").to_pylist())
    removed = np.asarray([i not in kept for i in ids])
    rng = np.random.default_rng(seed)
    pos = labels == 1
    out = {
        "recall": float(removed[pos].mean()),
        "recall_ci95": _bootstrap_share(removed[pos].astype(float), rng),
        "precision": float(pos[removed].mean()) if removed.any() else None,
        "precision_ci95": _bootstrap_share(pos[removed].astype(float), rng),
        "removed": int(removed.sum()),
        "documents": len(ids),
    }
    out["removed_by_group"] = {g: float(removed[groups == g].mean()) for g in sorted(set(groups))}
    return out


def run_filter(cfg, sets: RealSets, out: Path) -> dict[str, Any]:
    """Train the head, score the corpus and the tuning documents once, derive every granularity's decisions.

    Returns the document filter's kept ids, the corpus windows at or over the span threshold, both thresholds, the
    filter's quality on the corpus and the span-threshold choice."""
    import json

    from filterkit.runs.rethreshold import rethreshold
    from filterkit.runs.runner import run

    head = train_real_head(sets, out / "filter-model", cfg.real.seed)
    head_info = json.loads((head / "config.json").read_text(encoding="utf-8"))
    doc_threshold = float(head_info["threshold"])
    inp = out / "filter-input"
    inp.mkdir(parents=True, exist_ok=True)
    pq.write_table(sets.corpus, inp / "corpus.parquet")
    pq.write_table(sets.tune, inp / "tune.parquet")
    pipeline = scoring_pipeline(cfg.filter_pipeline, head, out / "filter-model")
    scored = run(inp, pipeline, out / "filter-scores")
    table = read_run_spans(out / "filter-scores")
    windows: dict[str, list[tuple[int, int, float]]] = {}
    if table is not None:
        for i, s, e, p in zip(*(table.column(c).to_pylist() for c in ("id", "start", "end", "score"))):
            windows.setdefault(i, []).append((int(s), int(e), float(p)))
    span = choose_span_threshold(sets.tune, windows, cfg.real.span_target_recall, doc_threshold)
    docs = rethreshold(out / "filter-scores", out / "filter", threshold=doc_threshold)
    kept = set(pq.read_table(out / "filter" / "kept", columns=["id"]).column("id").to_pylist())
    corpus_ids = set(sets.corpus.column("id").to_pylist())
    flagged = {i: [(s, e) for s, e, p in w if p >= span["threshold"]] for i, w in windows.items() if i in corpus_ids}
    flagged = {i: v for i, v in flagged.items() if v}
    texts = dict(zip(sets.corpus.column("id").to_pylist(), sets.corpus.column("text").to_pylist()))
    groups = dict(zip(sets.corpus.column("id").to_pylist(), sets.corpus.column("group").to_pylist()))
    span["corpus_char_coverage"] = {
        g: coverage(
            {i: t for i, t in texts.items() if groups[i] == g},
            {i: [(s, e, 1.0) for s, e in v] for i, v in flagged.items()},
            0.5,
        )
        for g in ("proxy", "bio_med", "general")
    }
    span["corpus_docs_with_spans"] = len(flagged)
    quality = filter_quality(sets.corpus, kept & corpus_ids, cfg.real.seed)
    return {
        "kept_ids": kept & corpus_ids,
        "spans": flagged,
        "doc_threshold": doc_threshold,
        "span": span,
        "quality": quality,
        "head_cv": head_info.get("training", {}).get("cv"),
        "counts": {"scoring_run": scored.counts, "document_run": docs.counts},
        "scored_windows": 0 if table is None else table.num_rows,
    }
