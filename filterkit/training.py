"""Training a classifier head on labelled documents.

Documents are embedded window by window exactly as the pipeline scores them, every window carrying its
document's label, and a document's out-of-fold score is the max over its windows — so cross-validated
metrics measure the rule the pipeline applies. Embeddings are cached on disk by content hash, so
re-training with another head or seed does not re-encode.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq

from filterkit.errors import FilterkitError


def load_labels(path: str | Path, text_column: str = "text", label_column: str = "label") -> pa.Table:
    """Read a labels file (parquet or jsonl); keep rows labelled 0 or 1 and say how many were ignored."""
    path = Path(path)
    if not path.is_file():
        raise FilterkitError(f"{path}: labels file not found; pass a parquet or jsonl file with text and label")
    try:
        if path.suffix in (".jsonl", ".json"):
            import pyarrow.json as pj

            table = pj.read_json(path)
        else:
            table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise FilterkitError(f"{path}: cannot read labels ({type(e).__name__}); use parquet or jsonl") from None
    for col in (text_column, label_column):
        if col not in table.column_names:
            raise FilterkitError(f"{path}: no {col!r} column; a labels file needs `{text_column}` and `{label_column}`")
    labels = table.column(label_column).to_pylist()
    keep = [lab in (0, 1) and t is not None for lab, t in zip(labels, table.column(text_column).to_pylist())]
    table = table.filter(pa.array(keep))
    table = table.replace_schema_metadata({"ignored_rows": str(len(keep) - sum(keep))})
    y = np.asarray(table.column(label_column).to_pylist(), dtype=np.int64)
    if len(y) == 0 or y.min() == y.max():
        which = "no rows labelled 0 or 1" if len(y) == 0 else ("no positives (label 1)" if y.max() == 0 else "no negatives (label 0)")
        raise FilterkitError(f"{path}: {which}; a classifier needs both classes")
    return table


@dataclass
class LabelledSet:
    """Several labels files read as one training set, with where each row came from."""

    texts: list[str]
    y: np.ndarray
    groups: list[str]
    sources: list[str]
    files: dict[str, dict[str, Any]]  # file name -> rows, positives, licence-relevant source counts


def load_labelled_sets(paths: Sequence[str | Path], split: str | None = None) -> LabelledSet:
    """Read and concatenate labels files; a file with a ``split`` column contributes only rows of ``split``.

    ``group`` and ``source`` default to the label and the file name where a file lacks them, so
    team-written and real data can be mixed and still balanced or held out by source.
    """
    texts: list[str] = []
    ys: list[np.ndarray] = []
    groups: list[str] = []
    sources: list[str] = []
    files: dict[str, dict[str, Any]] = {}
    for path in paths:
        table = load_labels(path)
        if split is not None and "split" in table.column_names:
            table = table.filter(pa.compute.equal(table.column("split"), split))
        n = table.num_rows
        y = np.asarray(table.column("label").to_pylist(), dtype=np.int64)
        g = table.column("group").to_pylist() if "group" in table.column_names else [
            "proxy" if v else "other" for v in y]
        src = table.column("source").to_pylist() if "source" in table.column_names else [_file_source(path)] * n
        texts += table.column("text").to_pylist()
        ys.append(y)
        groups += [str(x) for x in g]
        sources += [str(x) for x in src]
        per_source: dict[str, list[int]] = {}
        for s_, v in zip(src, y.tolist()):
            per_source.setdefault(str(s_), [0, 0])[v] += 1
        files[_file_source(path)] = {"rows": n, "positives": int(y.sum()),
                                  "sources": {k: {"negatives": a, "positives": b} for k, (a, b) in sorted(per_source.items())}}
    return LabelledSet(texts, np.concatenate(ys) if ys else np.zeros(0, np.int64), groups, sources, files)


def _file_source(path: str | Path) -> str:
    """A file's name as a source: ``labelled/train`` for ``sample_data/labelled/train.parquet``."""
    p = Path(path)
    return f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem


def cache_dir() -> Path:
    return Path.home() / ".cache" / "filterkit" / "embeddings"


def embed_windows_cached(encoder, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Window embeddings and their owner document index, cached by encoder + max_tokens + texts."""
    h = hashlib.sha256()
    h.update(f"{encoder.sha256}|{encoder.max_tokens}|{len(texts)}".encode())
    for t in texts:
        h.update(hashlib.sha256(t.encode("utf-8")).digest())
    path = cache_dir() / f"{h.hexdigest()[:32]}.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["emb"], z["owner"]
    ch = encoder.chunk(texts)
    if ch.errors:
        i = min(ch.errors)
        raise FilterkitError(f"labels row {i}: cannot tokenise ({ch.errors[i]}); fix or drop the row")
    emb = encoder.embed_windows(ch.windows)
    owner = np.asarray(ch.owner, dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, emb=emb, owner=owner)
    tmp.replace(path)
    return emb, owner


def fit_head(x: np.ndarray, y: np.ndarray, kind: str, hidden: int, seed: int, epochs: int = 300,
             weights: np.ndarray | None = None):
    """Class-weighted logistic (or MLP) head, full-batch Adam with weight decay; deterministic per seed.

    ``weights`` (one per row, e.g. to give every source the same say) multiply the class-weighted loss.
    """
    import torch

    from filterkit.heads import build_head

    gen = torch.Generator().manual_seed(seed)
    head = build_head(kind, x.shape[1], hidden)  # its default init is overwritten below from `gen`
    for p in head.parameters():
        if p.dim() > 1:
            torch.nn.init.normal_(p, std=0.02, generator=gen)
        else:
            torch.nn.init.zeros_(p)
    xt = torch.from_numpy(x.astype(np.float32))
    yt = torch.from_numpy(y.astype(np.float32))
    pos = float(yt.sum())
    neg = float(len(yt) - pos)
    wt = None if weights is None else torch.from_numpy(np.asarray(weights, dtype=np.float32) / np.mean(weights))
    base = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(neg / max(pos, 1.0)),
                                      reduction="mean" if wt is None else "none")

    def loss_fn(logits, target):
        out = base(logits, target)
        return out if wt is None else (out * wt).mean()

    opt = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=1e-4)
    head.train()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(head(xt).squeeze(-1), yt)
        loss.backward()
        opt.step()
    return head.eval()


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


def _doc_scores(head, emb: np.ndarray, owner: np.ndarray, n_docs: int) -> np.ndarray:
    import torch

    with torch.inference_mode():
        p = torch.sigmoid(head(torch.from_numpy(emb)).squeeze(-1)).numpy()
    best = np.full(n_docs, -1.0)
    np.maximum.at(best, owner, p)
    return best


def threshold_for_recall(scores: np.ndarray, y: np.ndarray, target: float) -> float:
    """A threshold meeting recall ``target`` that takes every further positive it can get for free.

    The k-th highest positive score meets the target exactly. Below it, positives that score above every
    remaining negative cost no false positive on this data, so they are taken too (a leaked proxy
    document costs more than a wrongly removed general one). The threshold sits midway between the
    highest negative below the k-th positive and the lowest positive above that negative, leaving a
    margin on both sides for documents not seen here.
    """
    pos = np.sort(scores[y == 1])[::-1]
    k = int(np.ceil(target * len(pos) - 1e-9)) - 1  # 0.28 * 25 is 7.000000000000001, not 8 positives
    t = float(pos[max(k, 0)])
    neg_below = scores[(y == 0) & (scores < t)]
    floor = float(neg_below.max()) if len(neg_below) else 0.0
    return (float(pos[pos > floor].min()) + floor) / 2


def binary_metrics(scores: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    pred = scores >= threshold
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    tn = int((~pred & (y == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "pr_auc": float(average_precision_score(y, scores)),
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold index per document, each class spread evenly; every backend uses this so CV splits match."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of


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


def train_head(
    labels: str | Path | Sequence[str | Path],
    out: str | Path,
    head: str = "logistic",
    hidden: int = 64,
    folds: int = 5,
    target_recall: float = 0.95,
    seed: int = 0,
    name: str | None = None,
    max_tokens: int = 256,
    encoder_path: str | Path | None = None,
    split: str | None = None,
    balance: str = "class",
) -> dict[str, Any]:
    """Cross-validate, choose the threshold for ``target_recall`` on out-of-fold scores, fit on all data, save.

    ``labels`` may be several files (a file with a ``split`` column contributes its ``split`` rows);
    ``balance="source"`` weights every source equally within each class (:func:`source_weights`).
    """
    from filterkit.encoders import Encoder
    from filterkit.heads import save_head

    if balance not in ("class", "source"):
        raise FilterkitError(f"unknown balance {balance!r}; use class or source")
    paths = [labels] if isinstance(labels, (str, Path)) else list(labels)
    if not paths:
        raise FilterkitError("no labels file given; pass --labels FILE (repeat it for several files)")
    encoder = Encoder(encoder_path, device="auto", max_tokens=max_tokens)
    parts = [load_labelled_sets([p], split) for p in paths]  # embedded per file: the cache is per file
    embs = [embed_windows_cached(encoder, p.texts) for p in parts]
    offsets = np.cumsum([0] + [len(p.texts) for p in parts])
    emb = np.concatenate([e for e, _ in embs])
    owner = np.concatenate([o + offsets[k] for k, (_, o) in enumerate(embs)])
    y = np.concatenate([p.y for p in parts])
    sources = [s for p in parts for s in p.sources]
    if y.min() == y.max():
        raise FilterkitError(f"{', '.join(map(str, paths))}: a classifier needs both classes (labels 0 and 1)")
    doc_w = source_weights(sources, y) if balance == "source" else None
    win_w = None if doc_w is None else doc_w[owner]
    fold_of = stratified_folds(y, folds, seed)
    oof = np.zeros(len(y))
    for k in range(folds):
        train_docs = fold_of != k
        wmask = train_docs[owner]
        h = fit_head(emb[wmask], y[owner][wmask], head, hidden, seed + k,
                     weights=None if win_w is None else win_w[wmask])
        test_idx = np.flatnonzero(~train_docs)
        sub = np.isin(owner, test_idx)
        remap = {d: i for i, d in enumerate(test_idx)}
        sub_owner = np.asarray([remap[d] for d in owner[sub]])
        oof[test_idx] = _doc_scores(h, emb[sub], sub_owner, len(test_idx))
    threshold = threshold_for_recall(oof, y, target_recall)
    cv = binary_metrics(oof, y, threshold)
    final = fit_head(emb, y[owner], head, hidden, seed, weights=win_w)
    out = Path(out)
    groups = [g for p in parts for g in p.groups]
    table = load_labels(paths[0]) if len(paths) == 1 else None
    summary = data_summary(paths[0], table, y, len(owner)) if table is not None and split is None else {
        "file": ", ".join(Path(p).name for p in paths),
        "documents": int(len(y)),
        "positives": int(y.sum()),
        "negatives": int(len(y) - y.sum()),
        "windows": int(len(owner)),
        "ignored_rows": 0,
        "groups": {g: groups.count(g) for g in sorted(set(groups))},
    }
    if len(paths) > 1 or split is not None:
        summary["files"] = {k: v for p in parts for k, v in p.files.items()}
        summary["split"] = split
    summary["balance"] = balance
    config = {
        "name": name or out.name,
        "backend": "embedding",
        "head": head,
        "hidden": hidden if head == "mlp" else 0,
        "dim": int(emb.shape[1]),
        "encoder": encoder.name,
        "encoder_sha256": encoder.sha256,
        "max_tokens": encoder.max_tokens,
        "threshold": threshold,
        "threshold_rule": (
            f"out-of-fold recall >= {target_recall}, lowered to the next negative score at no extra "
            "false positive, midway in the gap"
        ),
        "labels": ["other", "proxy"],
        "training": {"data": summary, "folds": folds, "seed": seed, "cv": cv},
    }
    save_head(out, final, config)
    _write_model_card(out, config)
    return {"config": config, "cv": cv}


def _sources_table(data: dict[str, Any]) -> str:
    """Per file and source: how many documents of each class trained the head (empty for one plain file)."""
    files = data.get("files")
    if not files:
        return ""
    rows = ["", "", f"Balance: `{data.get('balance', 'class')}`; split: `{data.get('split')}`.", "",
            "| file | source | positives | negatives |", "|---|---|---|---|"]
    for f, v in files.items():
        for src, c in v["sources"].items():
            rows.append(f"| {f} | {src} | {c['positives']} | {c['negatives']} |")
    return "\n".join(rows)


def _write_model_card(out: Path, config: dict[str, Any]) -> None:
    cv = config["training"]["cv"]
    data = config["training"]["data"]
    card = f"""# {config['name']}

Embedding classifier head for filterkit: {config['head']} head on {config['encoder']} sentence embeddings
({config['dim']}-d, windows of {config['max_tokens']} tokens; a document's score is the max over its windows).

## Intended use
Flags documents about the biothreat *proxy* topic (microbiology, virology, pathogens and infectious-disease
mechanisms, genetic manipulation of microbes) so they can be kept out of LM pretraining data. Use it behind the
blocklist stage (`filterkit run`), which escalates only documents with several topic terms.

## Training data
`{data['file']}`: {data['documents']} documents ({data['positives']} positive, {data['negatives']} negative),
{data['windows']} windows; groups: {json.dumps(data['groups'])}.{_sources_table(data)}

## Cross-validated metrics ({config['training']['folds']}-fold, out-of-fold document scores)
| ROC-AUC | PR-AUC | threshold | precision | recall | FPR | F1 |
|---|---|---|---|---|---|---|
| {cv['roc_auc']:.3f} | {cv['pr_auc']:.3f} | {cv['threshold']:.3f} | {cv['precision']:.3f} | {cv['recall']:.3f} | {cv['fpr']:.3f} | {cv['f1']:.3f} |

Threshold rule: {config['threshold_rule']}.

## Known failure modes
- Expect lower recall on text unlike the training sources (informal, technical-jargon or non-English text),
  and check the false-positive rate on your own general data.
- General biology and medicine sit close to the target in embedding space; measure their removal rate
  (collateral damage) before use (`filterkit tune`).
- Scores are not calibrated probabilities unless a calibration report says so.
"""
    (out / "MODEL_CARD.md").write_text(card, encoding="utf-8")
