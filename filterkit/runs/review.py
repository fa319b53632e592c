"""``filterkit review``: a stratified random sample of a finished run's decisions, written for blind labelling.

Precision on a corpus nobody labelled can only be measured by reading, and reading every removal of a large run
is not possible: a random sample per stratum (:mod:`filterkit.runs.strata`) keeps the reading small and still lets
``filterkit estimate`` weight the labels back to the whole corpus. Each line of the review file holds a document's
id, shard and row, its text (the full text, or for a long document the passages that drew the filter's attention),
its stratum with the stratum's size, and ``label`` left null for the reader: 1 proxy, 0.5 borderline, 0 not.

Scores are not in the file: a reader who sees 0.97 reads a different document. ``with_scores`` writes them to a
sidecar the annotator should not open. Lines are shuffled, so strata do not come in blocks. Texts are read from
the run's inputs, one shard at a time, keeping only the sampled rows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from filterkit.data.inputs import iter_documents
from filterkit.errors import FilterkitError
from filterkit.io import write_text_atomic
from filterkit.runs.strata import RunStrata, ShardStrata, run_strata

MAX_CHARS = 6000  # longer documents are shown as excerpts around what the filter flagged
CONTEXT_CHARS = 500  # either side of a blocklist term's hit
SEPARATOR = "\n[…]\n"


@dataclass(frozen=True)
class ReviewResult:
    """What ``review`` wrote: the file, its sidecars, and each stratum's size and sample."""

    out: Path
    meta: Path
    scores: Path | None
    strata: dict[str, dict[str, int]]  # stratum -> {"size", "sampled"}
    lines: int


def sidecars(out: Path) -> tuple[Path, Path]:
    """``review.jsonl`` -> (``review.meta.json``, ``review.scores.jsonl``)."""
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(stem + ".meta.json"), out.with_name(stem + ".scores.jsonl")


def _refuse_labelled(out: Path) -> None:
    """A review file someone has started labelling is never overwritten: hours of reading would be lost."""
    if not out.exists():
        return
    if out.is_dir():
        raise FilterkitError(f"{out}: is a folder; --out names the review file to write (e.g. review.jsonl)")
    with open(out, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            try:
                labelled = json.loads(line).get("label") is not None
            except (ValueError, AttributeError):
                labelled = True  # not a review file of ours: do not touch it either
            if labelled:
                raise FilterkitError(
                    f"{out}: exists and holds labels (line {n}); choose another --out, or move it "
                    "away if you really mean to start over"
                )


def _refuse_inside_outputs(run: Path, out: Path) -> None:
    for kind in ("kept", "audit", "scores", "spans", ".state"):
        if (run / kind).resolve() in out.resolve().parents:
            raise FilterkitError(
                f"{out}: inside the run's {kind}/ folder, where `filterkit verify` counts every file; "
                "write the review file elsewhere (e.g. next to the run folder)"
            )


def sample(strata: RunStrata, per_stratum: int, seed: int) -> dict[str, list[tuple[int, int]]]:
    """Up to ``per_stratum`` documents of each stratum, drawn uniformly without replacement; the same run, seed and
    size give the same sample (strata in name order, members in input order)."""
    if per_stratum < 1:
        raise FilterkitError(f"--per-stratum {per_stratum}: sample at least one document per stratum")
    rng = np.random.default_rng(seed)
    picked = {}
    for name, size in strata.sizes().items():
        picked[name] = strata.pick(name, np.sort(rng.choice(size, size=min(per_stratum, size), replace=False)))
    return picked


def _spans(run: Path, st: ShardStrata, rows: set[int]) -> dict[int, list[tuple[int, int]]]:
    """The flagged windows of ``rows`` as character spans, where the run wrote ``spans/`` (classifier.export_spans)."""
    path = run / "spans" / st.shard.out_name
    out: dict[int, list[tuple[int, int]]] = {}
    if path.is_file():
        for r in pq.read_table(path, columns=["row_index", "start", "end"]).to_pylist():
            if r["row_index"] in rows:
                out.setdefault(r["row_index"], []).append((r["start"], r["end"]))
    return out


def _term_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Windows around the blocklist terms' hits, found again in the text as read (case-insensitive; a hit only the
    normal form saw, such as a split or look-alike spelling, is not found and its window not shown)."""
    spans = []
    for t in terms:
        for hit in list(re.finditer(r"(?<!\w)" + re.escape(t) + r"(?!\w)", text, re.IGNORECASE))[:20]:
            spans.append((max(0, hit.start() - CONTEXT_CHARS), min(len(text), hit.end() + CONTEXT_CHARS)))
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def excerpt(
    text: str, flagged: list[tuple[int, int]], terms: list[str], max_chars: int = MAX_CHARS
) -> tuple[str, dict | None]:
    """(text shown, excerpt info): the full text when it is short or nothing was flagged, else every flagged window
    (the run's ``spans/``), or failing those every blocklist term's context, joined by ``[…]``."""
    if len(text) <= max_chars:
        return text, None
    of = "flagged windows" if flagged else "blocklist terms"
    windows = _merged(flagged or _term_spans(text, terms))
    if not windows or sum(e - s for s, e in windows) >= len(text):
        return text, None
    shown = SEPARATOR.join(text[s:e] for s, e in windows)
    return shown, {"chars": len(text), "windows": windows, "of": of}


def _lines(
    strata: RunStrata, picked: dict[str, list[tuple[int, int]]], max_chars: int
) -> tuple[list[dict], list[dict]]:
    """The review lines and their score rows, texts read shard by shard from the inputs (sampled rows only)."""
    sizes = strata.sizes()
    want: dict[int, dict[int, str]] = {}
    for name, members in picked.items():
        for i, row in members:
            want.setdefault(i, {})[row] = name
    lines, scored = [], []
    for i in sorted(want):
        st = strata.shards[i]
        rows = want[i]
        if "://" not in st.shard.path and not Path(st.shard.path).is_file():
            raise FilterkitError(
                f"{st.shard.path}: input shard of {strata.run} is gone; review reads the sampled texts "
                "from the run's inputs — restore it at that path"
            )
        flagged = _spans(strata.run, st, set(rows))
        row = 0
        for texts, ids in iter_documents(st.shard, strata.input_cfg):
            for j, text in enumerate(texts):
                if row + j not in rows:
                    continue
                r, rec = row + j, st.recorded.get(row + j, {})
                doc_id = ids[j] if ids is not None and ids[j] is not None else f"{st.shard.name}#{r}"
                terms = [t["term"] for t in rec.get("matched_terms") or []]
                shown, info = excerpt(text, flagged.get(r, []), terms, max_chars)
                lines.append(
                    {
                        "id": doc_id,
                        "shard": st.shard.name,
                        "row": r,
                        "stratum": rows[r],
                        "stratum_size": sizes[rows[r]],
                        "text": shown,
                        "excerpt": info,
                        "label": None,
                        "note": None,
                    }
                )
                scored.append(
                    {
                        "id": doc_id,
                        "shard": st.shard.name,
                        "row": r,
                        "stratum": rows[r],
                        "score": rec.get("score"),
                        "threshold": rec.get("threshold"),
                        "escalated_by": rec.get("escalated_by"),
                        "gate_score": rec.get("gate_score"),
                        "matched_terms": terms,
                    }
                )
            row += len(texts)
    return lines, scored


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def review(
    run: str | Path,
    out: str | Path,
    per_stratum: int = 100,
    seed: int = 0,
    by: str | None = None,
    with_scores: bool = False,
    max_chars: int = MAX_CHARS,
) -> ReviewResult:
    """Write a stratified random sample of ``run``'s decisions to ``out`` (JSON lines) for blind labelling.

    Beside it, ``<stem>.meta.json`` records the run, seed and every stratum's size and sample; ``with_scores`` also
    writes ``<stem>.scores.jsonl`` (score, threshold, what escalated it, matched terms) for after the labelling.
    """
    run, out = Path(run), Path(out)
    _refuse_inside_outputs(run, out)
    _refuse_labelled(out)
    strata = run_strata(run, by, command="review")
    picked = sample(strata, per_stratum, seed)
    lines, scored = _lines(strata, picked, max_chars)
    rng = np.random.default_rng([seed, 1])  # the order of lines: strata interleaved, stable per seed
    order = rng.permutation(len(lines))
    lines, scored = [lines[i] for i in order], [scored[i] for i in order]
    sizes = strata.sizes()
    table = {k: {"size": v, "sampled": len(picked[k])} for k, v in sizes.items()}
    meta_path, scores_path = sidecars(out)
    meta = {
        "run": str(run),
        "run_id": strata.manifest.get("run_id"),
        "config_sha256": strata.manifest.get("config_sha256"),
        "documents": sum(sizes.values()),
        "per_stratum": per_stratum,
        "seed": seed,
        "by": by,
        "max_chars": max_chars,
        "strata": table,
        "with_scores": with_scores,
    }
    if with_scores:
        write_text_atomic(scores_path, _jsonl(scored))
    write_text_atomic(meta_path, json.dumps(meta, indent=2) + "\n")
    write_text_atomic(out, _jsonl(lines))  # last: its presence means the sidecars are complete
    return ReviewResult(out, meta_path, scores_path if with_scores else None, table, len(lines))
