"""Peak memory of scoring one huge document: filterkit's block tokenisation against tokenising it whole.

    python benchmarks/memory_bench.py [--mb 20] [--json FILE]

Each measurement runs in a fresh child process (peak RSS = ``ru_maxrss`` of that child):

* ``filterkit truncate``: a ``--mb`` MB document scored with ``long_docs: truncate`` (first window) by the
  shipped head through ``load_classifier`` (the run's path);
* ``naive truncate``: the same document tokenised whole with the same tokenizer, then its first window scored —
  what filterkit did before (3.4 GB for 20 MB in the integrity issue's measurement);
* ``filterkit chunks`` on a smaller document (``--chunks-mb``, every window scored: CPU time grows with it).

Prints a table and writes JSON. The document is benign encyclopedia-register text repeated.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAD = ROOT / "classifiers" / "biorisk-proxy-minilm"

CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, sys.argv[1])
mode, mb = sys.argv[2], float(sys.argv[3])
para = ("Bacteriophages are viruses that infect bacteria. Plasmids are small circular DNA molecules. "
        "The cathedral's facade took a century to complete, and the market opened at dawn. ")
text = para * int(mb * 1e6 / len(para))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from filterkit.config import ScoringSpec
from filterkit.classify.registry import load_classifier
clf = load_classifier(sys.argv[4], ScoringSpec(device="cpu", long_docs=mode))
clf.score(["warm-up"])
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if mode == "naive":
    ids = clf.encoder.tokenizer.encode(text, add_special_tokens=False).ids
    score = clf.score([clf.encoder.tokenizer.decode(ids[:254])])[0].score
else:
    score = clf.score([text])[0].score
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"mode": mode, "mb": mb, "peak_rss_mb": peak / 1024, "after_load_rss_mb": loaded / 1024,
                  "seconds": dt, "score": score}))
"""


def measure(mode: str, mb: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), mode, str(mb), str(HEAD)],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=1800,
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode}: child failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=20.0)
    ap.add_argument("--chunks-mb", type=float, default=0.5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    rows = [measure("truncate", args.mb), measure("naive", args.mb), measure("chunks", args.chunks_mb)]
    print("| path | document | peak RSS | RSS after model load | seconds | score |")
    print("|---|---|---|---|---|---|")
    names = {
        "truncate": "filterkit, truncate",
        "naive": "naive: tokenise whole, first window",
        "chunks": "filterkit, chunks (every window)",
    }
    for r in rows:
        print(
            f"| {names[r['mode']]} | {r['mb']:g} MB | {r['peak_rss_mb']:,.0f} MB | {r['after_load_rss_mb']:,.0f} MB | "
            f"{r['seconds']:.1f} | {r['score']:.3f} |"
        )
    ratio = rows[1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    print(f"\npeak RSS, naive / filterkit (truncate, {args.mb:g} MB): {ratio:.1f}x")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"rows": rows, "naive_over_filterkit": ratio}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
