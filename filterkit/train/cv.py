"""What every trainer shares: folds, source weights, the threshold from out-of-fold scores, the folder's
``config.json`` skeleton, the training-data summary and the model card.

A backend's trainer does only what is its own (cut windows, fit, predict); the threshold rule, the metrics a
card reports and the card's sections are written once here, so two backends trained on the same labels are
described and thresholded the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from filterkit.evaluate.metrics import binary_metrics, threshold_for_recall
from filterkit.io import write_text_atomic


def threshold_rule(target_recall: float) -> str:
    return (
        f"out-of-fold recall >= {target_recall}, lowered to the next negative score at no extra "
        "false positive, midway in the gap"
    )


def choose_threshold(oof: np.ndarray, y: np.ndarray, target_recall: float) -> tuple[float, dict[str, float]]:
    """The threshold meeting ``target_recall`` on out-of-fold document scores, and the CV metrics there."""
    threshold = threshold_for_recall(oof, y, target_recall)
    return threshold, binary_metrics(oof, y, threshold)


def data_summary(labels: str | Path, table: pa.Table, y: np.ndarray, windows: int) -> dict[str, Any]:
    """What a model card says about its training data."""
    groups = table.column("group").to_pylist() if "group" in table.column_names else None
    return {
        "file": str(Path(labels).name),
        "documents": int(len(y)),
        "positives": int(y.sum()),
        "negatives": int(len(y) - y.sum()),
        "windows": int(windows),
        "ignored_rows": int((table.schema.metadata or {}).get(b"ignored_rows", b"0")),
        "groups": {g: groups.count(g) for g in sorted(set(groups))} if groups else None,
    }


def classifier_config(
    backend: str,
    name: str,
    threshold: float,
    target_recall: float,
    data: dict[str, Any],
    folds: int,
    seed: int,
    cv: dict[str, float],
    backend_keys: dict[str, Any],
    training_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A classifier folder's ``config.json`` (read back as :class:`filterkit.classify.base.FolderConfig`)."""
    return {
        "name": name,
        "backend": backend,
        **backend_keys,
        "threshold": threshold,
        "threshold_rule": threshold_rule(target_recall),
        "labels": ["other", "proxy"],
        "training": {"data": data, "folds": folds, "seed": seed, "cv": cv, **(training_extra or {})},
    }


def _sources_table(data: dict[str, Any]) -> str:
    """Per file and source: how many documents of each class trained it (empty for one plain file)."""
    files = data.get("files")
    if not files:
        return ""
    rows = [
        "",
        "",
        f"Balance: `{data.get('balance', 'class')}`; split: `{data.get('split')}`.",
        "",
        "| file | source | positives | negatives |",
        "|---|---|---|---|",
    ]
    for f, v in files.items():
        for src, c in v["sources"].items():
            rows.append(f"| {f} | {src} | {c['positives']} | {c['negatives']} |")
    return "\n".join(rows)


INTENDED_USE = """Flags documents about the biothreat *proxy* topic (microbiology, virology, pathogens and infectious-disease
mechanisms, genetic manipulation of microbes) so they can be kept out of LM pretraining data. Use it behind the
blocklist stage (`filterkit run`), which escalates only documents with topic terms or the semantic gate's flag."""


def write_model_card(
    out: Path, config: dict[str, Any], about: str, failure_modes: Sequence[str], training_note: str = ""
) -> Path:
    """``MODEL_CARD.md``: what the model is (``about``, the backend's own words), intended use, training data,
    cross-validated metrics with the threshold rule, and the known failure modes."""
    cv, data = config["training"]["cv"], config["training"]["data"]
    card = f"""# {config["name"]}

{about.strip()}

## Intended use
{INTENDED_USE}

## Training data
`{data["file"]}`: {data["documents"]} documents ({data["positives"]} positive, {data["negatives"]} negative),
{data["windows"]} windows; groups: {json.dumps(data["groups"])}.{_sources_table(data)}
{training_note.strip()}

## Cross-validated metrics ({config["training"]["folds"]}-fold, out-of-fold document scores)
| ROC-AUC | PR-AUC | threshold | precision | recall | FPR | F1 |
|---|---|---|---|---|---|---|
| {cv["roc_auc"]:.3f} | {cv["pr_auc"]:.3f} | {cv["threshold"]:.3f} | {cv["precision"]:.3f} | {cv["recall"]:.3f} | {cv["fpr"]:.3f} | {cv["f1"]:.3f} |

Threshold rule: {config["threshold_rule"]}.

## Known failure modes
""" + "".join(f"- {m.strip()}\n" for m in failure_modes)
    return write_text_atomic(out / "MODEL_CARD.md", card)


def cache_dir() -> Path:
    return Path.home() / ".cache" / "filterkit" / "embeddings"


def source_weights(sources: Sequence[str], y: np.ndarray) -> np.ndarray:
    """Per-document weights giving every source the same total weight within each class.

    Without them the largest source of positives (1,000 WHO outbreak bulletins) teaches the head what
    "proxy" looks like; with them a 56-abstract source counts as much, which is what a head meant for
    text from sources it never saw needs (see benchmarks/head_selection.py).
    """
    sources = np.asarray(sources)
    y = np.asarray(y)
    w = np.zeros(len(y), dtype=np.float64)
    for cls in (0, 1):
        m = y == cls
        cells = sorted(set(sources[m]))
        for s in cells:
            c = m & (sources == s)
            w[c] = m.sum() / (len(cells) * c.sum())
    return w


def stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold index per document, each class spread evenly; every backend uses this so CV splits match."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of
