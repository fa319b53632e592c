"""What the input fingerprints cost, as a share of a run's wall time (issue 20: target <= 5%).

    python benchmarks/fingerprint_bench.py [INPUT] [--pipeline P] [--passes 3] [--json FILE]

INPUT defaults to ``../shared/data/web`` (real web crawl), else ``sample_data/shards``. The pipeline defaults to
``pipelines/blocklist-only.yaml``: the cheapest run there is, so the share measured is the worst case (a run
with the classifier takes far longer for the same hashing). Two costs are measured in the same process:

* the **file** fingerprint (streamed sha256 of every input byte), taken at planning and again before each
  shard commits: ``fingerprint_shards`` timed alone, median of ``--passes``, counted twice;
* the **run** itself (``filterkit.run``, which includes the per-row texts digest and both file hashes),
  median of ``--passes`` into fresh folders.

The per-row texts digest runs inside the stages and is not timed apart; it is inside the run time.
Prints one table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filterkit.data.fingerprint import fingerprint_shards  # noqa: E402
from filterkit.data.sources import discover  # noqa: E402


def main() -> None:
    web = ROOT.parent / "shared" / "data" / "web"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=str(web if web.is_dir() else ROOT / "sample_data" / "shards"))
    ap.add_argument("--pipeline", default=str(ROOT / "pipelines" / "blocklist-only.yaml"))
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "fingerprint_bench.json")
    args = ap.parse_args()

    from dataclasses import replace

    from filterkit.runs.runner import run

    shards = discover(args.input)
    size = sum(s.size_bytes or 0 for s in shards)
    hash_s = []
    for _ in range(args.passes):
        fresh = [replace(s, sha256=None) for s in shards]
        t0 = time.perf_counter()
        fingerprint_shards(fresh)
        hash_s.append(time.perf_counter() - t0)
    run_s = []
    for _ in range(args.passes):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            run(args.input, args.pipeline, Path(tmp) / "run")
            run_s.append(time.perf_counter() - t0)
    h, r = statistics.median(hash_s), statistics.median(run_s)
    res = {
        "input": args.input,
        "pipeline": Path(args.pipeline).name,
        "shards": len(shards),
        "bytes": size,
        "passes": args.passes,
        "hash_seconds": hash_s,
        "run_seconds": run_s,
        "hash_median_s": h,
        "run_median_s": r,
        "hash_mb_per_s": size / h / 1e6 if h else None,
        "share_of_run": 2 * h / r if r else None,
        "note": "file hash taken twice per run (plan, before commit); share = 2 x hash / run wall time",
    }
    print(f"| input | shards | MB | sha256 MB/s | run s (median of {args.passes}) | 2 x hash share of run |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {Path(args.input).name} | {len(shards)} | {size / 1e6:.1f} | {res['hash_mb_per_s']:.0f} | {r:.2f} | "
        f"{100 * res['share_of_run']:.2f}% |"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
