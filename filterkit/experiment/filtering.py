"""The synthetic experiment's filter: trained on an independent world, run by the real ``filterkit run`` over the
training corpus, measured against the generator's labels; span filtering beside it at the same threshold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from filterkit.experiment.config import ExperimentConfig


def filter_corpus(corpus_dir: Path, pipeline: Path, out: Path) -> dict[str, Any]:
    """Run the real pipeline on the training shards; measure it against the generator's labels."""
    from filterkit.runs.runner import run

    result = run(corpus_dir / "train", pipeline, out)
    kept_ids = set(pq.read_table(out / "kept", columns=["id"]).column("id").to_pylist())
    names = pq.read_schema(next(iter(sorted((corpus_dir / "train").glob("*.parquet"))))).names
    if "label" not in names:  # a user's corpus without labels: the filter cannot be scored
        return {"kept_ids": kept_ids, "recall": None, "precision": None, "leak_rate": None, "counts": result.counts}
    source = pq.read_table(corpus_dir / "train", columns=["id", "label"]).to_pylist()
    proxy = [r["id"] for r in source if r["label"] == 1]
    removed = [r for r in source if r["id"] not in kept_ids]
    removed_proxy = sum(1 for r in removed if r["label"] == 1)
    recall = removed_proxy / len(proxy) if proxy else 0.0
    return {
        "kept_ids": kept_ids,
        "recall": recall,
        "precision": removed_proxy / len(removed) if removed else 0.0,
        "leak_rate": 1 - recall,
        "counts": result.counts,
    }


def train_filter(cfg: ExperimentConfig, out: Path) -> Path:
    """Train the topic filter on an independent world; return a pipeline YAML that uses it (see FilterTrainingSection)."""
    from filterkit.experiment.corpus import corpus_from_section
    from filterkit.match.build import build_terms, write_term_file

    ft = cfg.filter_training
    assert ft is not None
    c = cfg.corpus
    # the same world sizes, another seed; only its training text is used (no attack, control or held-out sets)
    world = corpus_from_section(
        c,
        seed=c.seed + ft.world_seed_offset,
        n_attack_weak=0,
        n_fact_injection=0,
        n_control=0,
        n_proxy_heldout=0,
        habitat_notes=0,
    )
    out.mkdir(parents=True, exist_ok=True)
    labels = out / "labels.parquet"
    docs = [d for d in world.train if d.kind not in ft.unseen_kinds]
    pq.write_table(
        pa.table({"id": [d.id for d in docs], "text": [d.text for d in docs], "label": [d.label for d in docs]}), labels
    )
    terms = build_terms(labels, max_terms=ft.max_terms)
    blocklist = write_term_file(
        terms,
        out / "blocklist.txt",
        {"source": "filterkit experiment, independent world", "world_seed": c.seed + ft.world_seed_offset},
    )
    head = out / "head"
    if ft.backend == "fasttext":
        from filterkit.train.fasttext import train_fasttext

        train_fasttext(labels, head, target_recall=ft.target_recall, seed=c.seed, name="experiment-topic-fasttext")
    else:
        from filterkit.train.embedding import train_head

        train_head(labels, head, target_recall=ft.target_recall, seed=c.seed, name="experiment-topic-embedding")
    from filterkit.config_file import read_yaml_mapping  # aliases, cycles, duplicate keys refused, as for `run -p`

    base = read_yaml_mapping(cfg.filter_pipeline, "pipeline config", "filter_pipeline in the experiment config")
    base["blocklist"] = {
        **base.get("blocklist", {}),
        "path": str(blocklist.resolve()),
        "min_unique_hits": ft.min_unique_hits,
    }
    base["classifier"] = {
        k: v for k, v in base.get("classifier", {}).items() if k not in ("path", "threshold", "backend")
    }
    base["classifier"]["path"] = str(head.resolve())
    base["name"] = f"{base.get('name', 'experiment-filter')}-trained"
    # no semantic gate is trained for the synthetic world: the shipped gate (real biology) must not escalate here
    base["semantic_gate"] = {"enabled": False}
    pipeline = out / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    return pipeline


def span_filtering(cdir: Path, run_dir: Path, pipeline: Path, out: Path, kept_ids: set[str]) -> dict[str, Any]:
    """The span-filtered training texts (see spans.span_filter) and, where the corpus has labels, the share of
    proxy and general characters each granularity keeps."""
    from filterkit.experiment.spans import span_filter

    names = pq.read_schema(next(iter(sorted((cdir / "train").glob("*.parquet"))))).names
    rows = pq.read_table(cdir / "train", columns=["id", "text"] + (["label"] if "label" in names else [])).to_pylist()
    res = span_filter([r["id"] for r in rows], [r["text"] for r in rows], run_dir, pipeline, out)
    if "label" in names:
        span_len = dict(zip(res["ids"], (len(t) for t in res["texts"])))
        kept: dict[str, dict[str, float]] = {"document": {}, "span": {}}
        for label, domain in ((1, "proxy"), (0, "general")):
            mine = [r for r in rows if r["label"] == label]
            total = sum(len(r["text"]) for r in mine) or 1
            kept["document"][domain] = sum(len(r["text"]) for r in mine if r["id"] in kept_ids) / total
            kept["span"][domain] = sum(span_len.get(r["id"], 0) for r in mine) / total
        res["chars_kept"] = kept
    del res["ids"]
    return res
