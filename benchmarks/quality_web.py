"""The ``web`` section of ``quality_bench.py``: the cascade on labelled real web pages, dev split, by source.

Inputs (none of them hold text; texts are rebuilt by id from ``../shared/data/web/*.parquet``, columns
``id, text, source, url``):

* ``labels/web/labels.jsonl``: one line per reading, ``{"id", "source", "label", "reason", "annotator"}``, label 1
  (proxy), 0.5 (borderline) or 0. A document read by several annotators gets one label, :func:`consensus_label`.
* ``labels/web/split.json``: ``{"<source>": "train" | "dev", ...}``; the section scores the dev sources only.
* ``labels/web/strata.json`` (optional): how the labelled set was drawn from the web pool, as
  ``{"pool": 12115, "sizes": {"<stratum>": documents in the pool, ...}, "stratum": {"<id>": "<stratum>", ...}}``
  covering every labelled id (train ids too: they were drawn with their stratum). Without it, the labelled set is
  taken as a simple random sample of the pool, and the output says so: if removals were over-sampled, those
  figures over-weight them.

The estimates come from :func:`filterkit.evaluate.estimate.estimate` with the dev sources as its scope: the population
is the pool's dev-source documents, each source a group.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from filterkit.errors import FilterkitError
from filterkit.evaluate.estimate import LabelledDoc, estimate
from filterkit.evaluate.estimate_table import READINGS, TABLE_HEADERS, table_rows

Decide = Callable[[list[str]], np.ndarray]  # texts -> removed (bool per text), as a run decides


def consensus_label(labels: list[float]) -> float:
    """One label from several readers: the mean, rounded to the nearest of 0, 0.5, 1 with ties going to 0.5, so
    readers who disagree (1 and 0, or 1 and 0.5) make the document borderline: strict reads it as not proxy,
    lenient as proxy."""
    m = sum(labels) / len(labels)
    return 0.0 if m < 0.25 else 1.0 if m > 0.75 else 0.5


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise FilterkitError(f"{path}: not valid JSON ({e}); fix the file") from None


def read_labels(path: Path) -> tuple[dict[str, float], dict[str, str], int]:
    """(id -> consensus label, id -> source, ids whose readers disagreed) from ``labels.jsonl``."""
    labels: dict[str, list[float]] = {}
    source: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            doc, label, src = str(row["id"]), row["label"], str(row["source"])
        except (ValueError, KeyError, TypeError):
            raise FilterkitError(
                f"{path}: line {n} is not a JSON object with id, source and label; fix that line"
            ) from None
        if isinstance(label, bool) or label not in (0, 0.5, 1):
            raise FilterkitError(f"{path}: line {n}: label {label!r} is not 0, 0.5 or 1")
        labels.setdefault(doc, []).append(float(label))
        source[doc] = src
    disagree = sum(len(set(v)) > 1 for v in labels.values())
    return {k: consensus_label(v) for k, v in labels.items()}, source, disagree


def _pool(web_dir: Path, ids: set[str]) -> tuple[int, dict[str, str]]:
    """(documents in the pool, id -> text for ``ids``), reading only the id column of rows not wanted."""
    total, texts = 0, {}
    for f in sorted(web_dir.glob("*.parquet")):
        pf = pq.ParquetFile(f)
        total += pf.metadata.num_rows
        for batch in pf.iter_batches(columns=["id", "text"], batch_size=4096):
            for i, t in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                if str(i) in ids:
                    texts[str(i)] = t
    return total, texts


def _strata(path: Path, ids: list[str], pool: int) -> tuple[dict[str, str], dict[str, int], str]:
    """(id -> stratum, stratum -> size, how the sample was drawn)."""
    if not path.is_file():
        return (
            {i: "pool" for i in ids},
            {"pool": pool},
            f"{path.name} absent: the labelled set is treated as a simple random sample of the {pool:,}-document "
            "pool; if removals were over-sampled when it was drawn, these figures over-weight them",
        )
    data = _read_json(path)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("sizes"), dict)
        or not isinstance(data.get("stratum"), dict)
    ):
        raise FilterkitError(
            f'{path}: expected {{"pool": N, "sizes": {{stratum: documents}}, "stratum": '
            "{id: stratum}}; rewrite it in that form"
        )
    stratum = {str(k): str(v) for k, v in data["stratum"].items()}
    lost = [i for i in ids if i not in stratum or stratum[i] not in data["sizes"]]
    if lost:
        raise FilterkitError(
            f"{path}: {len(lost)} labelled ids have no stratum with a size (first: {lost[0]!r}); "
            "give every id of labels.jsonl a stratum listed under sizes"
        )
    return stratum, {str(k): int(v) for k, v in data["sizes"].items()}, f"stratified sample ({path.name})"


def web_section(labels_dir: Path, web_dir: Path, decide: Decide, n_boot: int = 1000, seed: int = 0) -> dict:
    """The section's results, or ``{"skipped": why}`` when the labels or the web pool are not here."""
    labels_path, split_path = labels_dir / "labels.jsonl", labels_dir / "split.json"
    for p, what in ((labels_path, "the labelled web set"), (split_path, "the train/dev split by source")):
        if not p.is_file():
            return {"skipped": f"{p} not found ({what}); the web section needs labels/web/ from the labelling work"}
    if not web_dir.is_dir() or not any(web_dir.glob("*.parquet")):
        return {"skipped": f"{web_dir} not found: the web texts are rebuilt from ../shared/data/web/*.parquet by id"}
    labels, source, disagree = read_labels(labels_path)
    split = _read_json(split_path)
    if not isinstance(split, dict) or any(v not in ("train", "dev") for v in split.values()):
        raise FilterkitError(f'{split_path}: expected {{source: "train" | "dev"}}; fix the file')
    unsplit = sorted({s for s in source.values() if s not in split})
    if unsplit:
        raise FilterkitError(f"{split_path}: sources {', '.join(unsplit[:5])} of labels.jsonl have no split; add them")
    dev_sources = sorted({s for s in source.values() if split[s] == "dev"})
    dev_ids = sorted(i for i in labels if split[source[i]] == "dev")
    pool, texts = _pool(web_dir, set(dev_ids))
    ids = sorted(labels)
    stratum, sizes, drawn = _strata(labels_dir / "strata.json", ids, pool)
    missing = [i for i in dev_ids if i not in texts]
    scored = [i for i in dev_ids if i in texts]
    if not scored:
        return {"skipped": f"none of the {len(dev_ids)} dev ids of {labels_path} is in {web_dir}"}
    removed = decide([texts[i] for i in scored]) if scored else np.zeros(0, dtype=bool)
    was_removed = dict(zip(scored, (bool(r) for r in removed)))
    rows = [
        LabelledDoc(stratum[i], sizes[stratum[i]], was_removed.get(i), labels[i], group=source[i], id=i)
        for i in ids
        if i not in missing
    ]
    e = estimate(rows, n_boot=n_boot, seed=seed, scope=dev_sources)
    return {
        "labels": str(labels_dir),
        "web_data": str(web_dir),
        "pool": pool,
        "drawn": drawn,
        "labelled_documents": len(labels),
        "readers_disagreed": disagree,
        "dev_sources": dev_sources,
        "dev_documents_scored": len(scored),
        "dev_removed": int(sum(was_removed.values())),
        "dev_texts_missing": len(missing),
        "dev_label_counts": dict(Counter(labels[i] for i in scored)),
        "estimate": e.model_dump(mode="json"),
    }


def render_web(res: dict) -> str:
    if "skipped" in res:
        return f"web section skipped: {res['skipped']}"
    from filterkit.evaluate.estimate import Estimate

    e = Estimate.model_validate(res["estimate"])
    lines = [
        f"web dev split: {res['dev_documents_scored']:,} labelled documents scored ({res['dev_removed']:,} removed) "
        f"from {len(res['dev_sources'])} dev sources of a {res['pool']:,}-document pool; {res['drawn']}; "
        f"{res['readers_disagreed']} documents with readers who disagreed (made borderline)"
    ]
    if res["dev_texts_missing"]:
        lines.append(f"warning: {res['dev_texts_missing']} dev ids not found in {res['web_data']} (left out)")
    for reading, title in READINGS.items():
        lines += ["", f"{title}", "", "| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
        lines += ["| " + " | ".join(r) + " |" for r in table_rows(e, reading)]
    lines += [f"note: {n}" for n in e.notes]
    return "\n".join(lines)
