"""Time and peak memory of ``filterkit report`` on a generated run folder of a million documents or more.

    python benchmarks/report_bench.py [--docs 1000000] [--shards 20] [--escalated 0.5] [--json FILE] [--keep DIR]

The run folder is synthetic but in the real on-disk format: ``audit/`` and ``scores/`` are written with
filterkit's own schemas (:mod:`filterkit.store.rows`), ``kept/`` holds the kept rows of each input shard in order,
the done markers record each output's size and sha256 (so the report's integrity check passes), and the manifest
has the real keys. Input shards carry a ``source`` column for ``--by``. Scores are a two-bump mixture, so the
share removed is set by ``--escalated`` and the threshold (0.6; 0.95 for gate-only documents), like a heavy run.

Each measurement runs ``write_report`` in a fresh child process: wall time inside the call, wall time of the
child including Python start-up and imports, and the child's peak RSS (``wait4``'s ``ru_maxrss``). Prints a
table and writes JSON (default ``benchmarks/results/report_bench.json``). Targets (issue 21): <= 30 s, <= 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filterkit.config import load_config  # noqa: E402
from filterkit.io import file_digest, write_json_atomic  # noqa: E402
from filterkit.match.blocklist import read_terms  # noqa: E402
from filterkit.store.rows import AUDIT_SCHEMA, SCORES_SCHEMA  # noqa: E402

THRESHOLD, GATE_ONLY = 0.6, 0.95
WORDS = [
    "the",
    "market",
    "opened",
    "at",
    "dawn",
    "and",
    "the",
    "river",
    "rose",
    "after",
    "rain",
    "while",
    "the",
    "council",
    "met",
    "to",
    "discuss",
    "a",
    "new",
    "bridge",
    "students",
    "read",
    "about",
    "the",
    "history",
    "of",
    "the",
    "cathedral",
    "and",
    "the",
    "orchestra",
    "rehearsed",
    "a",
    "symphony",
    "in",
    "the",
    "old",
    "hall",
    "farmers",
    "planted",
    "wheat",
    "in",
    "spring",
    "the",
    "museum",
    "added",
    "a",
    "gallery",
    "of",
    "maps",
    "and",
    "the",
    "train",
    "left",
    "on",
    "time",
]
SOURCES = np.array(["web", "news", "forum", "wiki", "books", "code", "papers", "blogs"])


def _texts(rng: np.random.Generator, n: int, chars: int) -> pa.Array:
    """``n`` benign texts of about ``chars`` characters: slices of one long random word sequence."""
    base = " ".join(rng.choice(WORDS, size=max(200_000, chars * 4))) + " "
    starts = rng.integers(0, len(base) - chars - 1, size=n)
    return pa.array([base[s : s + chars] for s in starts.tolist()], pa.string())


def _terms(rng: np.random.Generator, vocab: np.ndarray, n: int, none: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """A matched-terms list per row (1-6 terms, counts 1-5; empty where ``none``: gate-escalated rows), built from
    offsets, not Python lists; and the number of terms per row."""
    k = np.where(none, 0, rng.integers(1, 7, size=n))
    offsets = np.concatenate([[0], np.cumsum(k)]).astype(np.int32)
    total = int(offsets[-1])
    zipf = np.minimum(rng.zipf(1.3, size=total) - 1, len(vocab) - 1)  # a few terms are everywhere, most rare
    structs = pa.StructArray.from_arrays(
        [pa.array(vocab[zipf]), pa.array(rng.integers(1, 6, size=total), pa.int32())], names=["term", "count"]
    )
    lists = pa.ListArray.from_arrays(pa.array(offsets), structs).cast(AUDIT_SCHEMA.field("matched_terms").type)
    return lists, pa.array(k, pa.int32())


def _shard(
    root: Path,
    name: str,
    rows: int,
    escalated: float,
    rng: np.random.Generator,
    vocab: np.ndarray,
    run_id: str,
    config_sha: str,
) -> dict:
    """One input shard and its kept/, audit/, scores/ files and done marker; returns the marker."""
    ids = np.char.add(f"{name[:-8]}-", np.arange(rows).astype(str))
    source = SOURCES[rng.integers(0, len(SOURCES), size=rows)]
    pq.write_table(
        pa.table({"id": pa.array(ids), "text": _texts(rng, rows, 40), "source": pa.array(source)}),
        root / "inputs" / name,
    )
    esc_idx = np.flatnonzero(rng.random(rows) < escalated)
    n = len(esc_idx)
    by_gate = rng.random(n) < 0.1
    on_topic = rng.random(n) < 0.45
    score = np.where(on_topic, rng.beta(8, 1.5, size=n), rng.beta(1.2, 6, size=n))
    error = rng.random(n) < 0.001
    thr = np.where(by_gate, GATE_ONLY, THRESHOLD)
    removed = (score >= thr) | error
    reason = np.where(error, "error", np.where(removed, "classifier_score", None))
    terms, uniq = _terms(rng, vocab, n, by_gate)
    gate_score = np.where(by_gate, rng.uniform(0.5, 1.0, size=n), np.nan)
    scores = pa.table(
        {
            "run_id": pa.array([run_id] * n),
            "input_shard": pa.array([name] * n),
            "row_index": pa.array(esc_idx, pa.int64()),
            "doc_id": pa.array(ids[esc_idx]),
            "score": pa.array(np.where(error, np.nan, score), pa.float64(), mask=error),
            "windows": pa.array(rng.integers(1, 4, size=n), pa.int32()),
            "matched_terms": terms,
            "unique_terms": uniq,
            "total_hits": uniq,
            "removed": pa.array(removed),
            "reason": pa.array(reason.tolist(), pa.string()),
            "error": pa.array([None] * n, pa.string()),
            "escalated_by": pa.array(np.where(by_gate, "gate", "terms")),
            "gate_score": pa.array(gate_score, pa.float64(), mask=~by_gate),
            "threshold": pa.array(thr),
            "classifier": pa.array(["biorisk-proxy-minilm"] * n),
        },
        schema=SCORES_SCHEMA,
    )
    rem = np.flatnonzero(removed)
    m = len(rem)
    audit = pa.table(
        {
            "run_id": pa.array([run_id] * m),
            "input_shard": pa.array([name] * m),
            "row_index": pa.array(esc_idx[rem], pa.int64()),
            "doc_id": pa.array(ids[esc_idx[rem]]),
            "stage": pa.array(["classifier"] * m),
            "reason": pa.array(reason[rem].tolist()),
            "matched_terms": terms.take(pa.array(rem)),
            "unique_terms": uniq.take(pa.array(rem)),
            "total_hits": uniq.take(pa.array(rem)),
            "min_unique_hits": pa.array([1] * m, pa.int32()),
            "score": scores.column("score").take(pa.array(rem)),
            "threshold": pa.array(thr[rem]),
            "classifier": pa.array(["biorisk-proxy-minilm"] * m),
            "classifier_sha256": pa.array(["0" * 64] * m),
            "config_sha256": pa.array([config_sha] * m),
            "error": pa.array([None] * m, pa.string()),
            "text": _texts(rng, m, 300),
            "text_sha256": pa.array(["0" * 64] * m),
            "escalated_by": scores.column("escalated_by").take(pa.array(rem)),
            "gate_score": scores.column("gate_score").take(pa.array(rem)),
        },
        schema=AUDIT_SCHEMA,
    )
    keep = np.ones(rows, bool)
    keep[esc_idx[rem]] = False
    kept = pq.read_table(root / "inputs" / name).filter(pa.array(keep))
    outputs = {}
    for kind, table in (("kept", kept), ("audit", audit), ("scores", scores)):
        path = root / "run" / kind / name
        pq.write_table(table, path, row_group_size=10_000, compression="zstd")
        outputs[kind] = {**file_digest(path), "rows": table.num_rows}
    counts = np.unique(reason[rem], return_counts=True)
    by_reason = {"blocklist_terms": 0, "classifier_score": 0, "error": 0, **{str(k): int(v) for k, v in zip(*counts)}}
    marker = {
        "shard": name,
        "out_name": name,
        "path": str(root / "inputs" / name),
        "rows_read": rows,
        "kept": int(keep.sum()),
        "removed": m,
        "escalated": n,
        "scored": n,
        "removed_by_reason": by_reason,
        "seconds": {"blocklist": rows / 150_000, "classifier": n / 1_500, "write": rows / 500_000},
        "text_chars": rows * 40,
        "input_bytes": (root / "inputs" / name).stat().st_size,
        "outputs": outputs,
    }
    write_json_atomic(root / "run" / ".state" / "done" / f"{name}.json", marker)
    return marker


def generate(root: Path, docs: int, shards: int, escalated: float, seed: int = 0) -> dict:
    """Write a run folder of ``docs`` documents in ``shards`` shards under ``root/run``; returns its manifest."""
    rng = np.random.default_rng(seed)
    for sub in ("inputs", "run/kept", "run/audit", "run/scores", "run/.state/done"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    cfg = load_config(ROOT / "pipelines" / "biorisk.yaml")
    vocab = np.array(read_terms(cfg.blocklist.path))
    run_id, config_sha = "bench0000000000", "b" * 64
    per = [docs // shards + (1 if i < docs % shards else 0) for i in range(shards)]
    markers = [
        _shard(root, f"bench-{i:04d}.parquet", n, escalated, rng, vocab, run_id, config_sha) for i, n in enumerate(per)
    ]
    tot = {k: sum(mk[k] for mk in markers) for k in ("rows_read", "kept", "removed", "escalated")}
    reasons = {
        r: sum(mk["removed_by_reason"][r] for mk in markers) for r in ("blocklist_terms", "classifier_score", "error")
    }
    stage = {k: sum(mk["seconds"][k] for mk in markers) for k in ("blocklist", "classifier", "write")}
    manifest = {
        "run_id": run_id,
        "config_sha256": config_sha,
        "config": cfg.model_dump(mode="json"),
        "run_info": {
            "run_id": run_id,
            "config_sha256": config_sha,
            "classifier": "biorisk-proxy-minilm",
            "classifier_sha256": "0" * 64,
            "threshold": THRESHOLD,
            "min_unique_hits": 1,
            "gate_only_threshold": GATE_ONLY,
            "audit_text": "snippet",
            "snippet_chars": 300,
            "row_group_rows": 10_000,
            "compression": "zstd",
            "export_spans": False,
        },
        "versions": {"filterkit": "bench"},
        "device": "synthetic",
        "inputs": [
            {
                "name": mk["shard"],
                "path": mk["path"],
                "format": "parquet",
                "rows": mk["rows_read"],
                "bytes": mk["input_bytes"],
            }
            for mk in markers
        ],
        "limit": None,
        "shards": markers,
        "counts": {
            "read": tot["rows_read"],
            "escalated": tot["escalated"],
            "removed_blocklist": 0,
            "removed_classifier": reasons["classifier_score"],
            "removed_error": reasons["error"],
            "removed": tot["removed"],
            "kept": tot["kept"],
            "conservation_ok": True,
        },
        "timing": {
            "wall_seconds": max(stage.values()),
            "rows_processed_this_invocation": tot["rows_read"],
            "docs_per_second": tot["rows_read"] / max(stage.values()),
            "text_mb_per_second": 0.0,
            "stage_seconds": stage,
            "resumed_shards": [],
            "redone_shards": [],
        },
    }
    write_json_atomic(root / "run" / "manifest.json", manifest)
    write_json_atomic(root / "run" / "run.json", {"run_id": run_id, "config_sha256": config_sha})
    return manifest


CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
from filterkit.runs.report import write_report
t1 = time.perf_counter()
page = write_report(sys.argv[2], sys.argv[3], by=sys.argv[4] or None, examples=int(sys.argv[5]))
t2 = time.perf_counter()
print(json.dumps({"import_seconds": t1 - t0, "report_seconds": t2 - t1, "bytes": page.stat().st_size}))
"""


def measure(run: Path, out: Path, by: str | None, examples: int) -> dict:
    """One report in a fresh child: its own timings, and the child's wall time and peak RSS from wait4."""
    t0 = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ROOT), str(run), str(out), by or "", str(examples)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    stdout, stderr = child.stdout.read(), child.stderr.read()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"report child failed: {stderr.strip().splitlines()[-3:]}")
    got = json.loads(stdout.strip().splitlines()[-1])
    return {"by": by, "examples": examples, **got, "child_wall_seconds": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1_000_000, help="documents read by the generated run")
    ap.add_argument("--shards", type=int, default=20)
    ap.add_argument("--escalated", type=float, default=0.5, help="share of documents in scores/ (heavy: 0.5)")
    ap.add_argument("--examples", type=int, default=10)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "report_bench.json")
    ap.add_argument("--keep", type=Path, default=None, help="generate into this folder and keep it")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))
    try:
        t0 = time.perf_counter()
        m = generate(root, args.docs, args.shards, args.escalated)
        gen = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (root / "run").rglob("*.parquet"))
        runs = [
            measure(root / "run", root / f"report-{by or 'plain'}.html", by, args.examples) for by in (None, "source")
        ]
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    c = m["counts"]
    print(
        f"run: {c['read']:,} documents, {c['escalated']:,} scores rows, {c['removed']:,} audit rows, "
        f"{size / 1e6:,.0f} MB of parquet (generated in {gen:.0f} s); load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'--by':<8} {'report s':>9} {'child s':>8} {'imports s':>9} {'peak RSS MB':>11} {'page KB':>8}  target")
    for r in runs:
        ok = r["child_wall_seconds"] <= 30 and r["peak_rss_mb"] <= 1024
        print(
            f"{r['by'] or '-':<8} {r['report_seconds']:>9.2f} {r['child_wall_seconds']:>8.2f} {r['import_seconds']:>9.2f} "
            f"{r['peak_rss_mb']:>11.0f} {r['bytes'] / 1024:>8.0f}  {'met' if ok else 'MISSED'} (<= 30 s, <= 1024 MB)"
        )
    result = {
        "docs": c["read"],
        "scores_rows": c["escalated"],
        "audit_rows": c["removed"],
        "shards": args.shards,
        "parquet_mb": size / 1e6,
        "generate_seconds": gen,
        "runs": runs,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
