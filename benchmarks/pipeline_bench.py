"""End-to-end ``filterkit run`` throughput and memory on generated shards (~10% proxy documents).

Shards are built from the demo shards' documents (and real news from ../shared when present), so the
blocklist escalates realistically and the classifier scores what it would in production. Each
configuration runs in a fresh subprocess so its peak RSS is its own.

    python benchmarks/pipeline_bench.py [--docs 4000] [--shards 1,20] [--pipeline pipelines/biorisk.yaml] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


NEWS = ROOT.parent / "shared" / "data" / "ag_news_test.parquet"


def make_shards(folder: Path, n_docs: int, n_shards: int, seed: int = 0, shared: Path = NEWS) -> float:
    """Write ``n_docs`` documents (~10% proxy) into ``n_shards`` shards; returns total text MB."""
    demo = pa.concat_tables(pq.read_table(f) for f in sorted((ROOT / "sample_data" / "shards").glob("*.parquet")))
    rows = demo.select(["text", "label"]).to_pylist()
    proxy = [r["text"] for r in rows if r["label"] == 1]
    general = [r["text"] for r in rows if r["label"] == 0]
    if shared.is_file():
        general += pq.read_table(shared, columns=["text"]).column("text").to_pylist()
    rng = random.Random(seed)
    texts = [rng.choice(proxy) if rng.random() < 0.10 else rng.choice(general) for _ in range(n_docs)]
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-n_docs // n_shards)
    for i in range(n_shards):
        part = texts[i * per : (i + 1) * per]
        ids = [f"b{i}-{j}" for j in range(len(part))]
        pq.write_table(pa.table({"id": ids, "text": part}), folder / f"bench-{i:04d}.parquet")
    return sum(len(t.encode()) for t in texts) / 1e6


def run_child(inp: Path, pipeline: Path, out: Path) -> tuple[dict, float, float, float | None]:
    """Run `filterkit run` in a subprocess; returns (manifest, wall seconds, peak RSS MB of the child, mean GPU util)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gpu_sampler import GpuSampler

    t0 = time.perf_counter()
    with GpuSampler(True) as gpu:  # None where there is no NVML (no GPU)
        subprocess.run(
            [sys.executable, "-m", "filterkit.cli", "run", str(inp), "-p", str(pipeline), "-o", str(out), "--quiet"],
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads((out / "manifest.json").read_text()), wall, peak_mb, gpu.mean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--shards", default="1,20", help="comma-separated shard counts to compare")
    ap.add_argument("--pipeline", type=Path, default=ROOT / "pipelines" / "biorisk.yaml")
    ap.add_argument("--news", type=Path, default=NEWS, help="real general-domain text mixed in when present")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n_shards in (int(x) for x in args.shards.split(",")):
            inp = Path(tmp) / f"in-{n_shards}"
            mb = make_shards(inp, args.docs, n_shards, shared=args.news)
            # RUSAGE_CHILDREN is a running max over all children, so each config gets its own bench process
            code = (
                "import json,sys; sys.path.insert(0, %r); from pipeline_bench import run_child; from pathlib import Path;"  # noqa: UP031 - %r quotes paths
                "m, w, rss, g = run_child(Path(%r), Path(%r), Path(%r)); print(json.dumps([m['counts'], m['timing'], w, rss, g, m['device']]))"
                % (str(Path(__file__).parent), str(inp), str(args.pipeline), str(Path(tmp) / f"out-{n_shards}"))
            )
            out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
            counts, timing, wall, rss, gpu, device = json.loads(out.strip().splitlines()[-1])
            stage = timing["stage_seconds"]
            busy = sum(stage.values())
            results.append(
                {
                    "shards": n_shards,
                    "docs": counts["read"],
                    "mb": mb,
                    "wall_seconds": wall,
                    "run_seconds": timing["wall_seconds"],
                    "docs_per_s": counts["read"] / timing["wall_seconds"],
                    "mb_per_s": mb / timing["wall_seconds"],
                    "escalated": counts["escalated"],
                    "removed": counts["removed"],
                    "stage_seconds": stage,
                    "stage_share": {k: v / busy for k, v in stage.items() if busy},
                    "peak_rss_mb": rss,
                    "gpu_util_mean": gpu,
                    "device": device,
                }
            )
    print(f"pipeline: {args.pipeline.name}; {args.docs} docs (~10% proxy); classifier device: {results[0]['device']}")
    print(f"{'shards':>6s} {'docs/s':>8s} {'MB/s':>7s} {'escal.':>7s} {'removed':>8s} {'peak RSS MB':>12s} "
          f"{'GPU util':>9s}  stage share")
    for r in results:
        share = ", ".join(f"{k} {v:.0%}" for k, v in r["stage_share"].items())
        util = "-" if r["gpu_util_mean"] is None else f"{r['gpu_util_mean']:.0f}%"
        print(f"{r['shards']:6d} {r['docs_per_s']:8.1f} {r['mb_per_s']:7.3f} {r['escalated']:7d} {r['removed']:8d} "
              f"{r['peak_rss_mb']:12.0f} {util:>9s}  {share}")
    if args.json:
        first = results[0]
        args.json.write_text(json.dumps({"docs_per_s": first["docs_per_s"], "mb_per_s": first["mb_per_s"],
                                         "stage_seconds": first["stage_seconds"], "device": first["device"],
                                         "gpu_util_mean": first["gpu_util_mean"], "runs": results}, indent=2))


if __name__ == "__main__":
    main()
