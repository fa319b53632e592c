"""The cheap stage (blocklist + semantic gate) in docs/s per core on real news, against a regex peer, same run.

Text: AG News test (``../shared/data/ag_news_test.parquet``, 7,600 real news documents; the demo shards when it is
absent). The pipeline's own cheap stage (``Escalator`` of ``--pipeline``: the term list, the term bar, the gate and
its threshold) is timed over all documents, ``--passes`` times after one warm-up pass; the median is reported. One
core: torch, the tokenizers' Rayon pool and BLAS are held to one thread before anything is imported.

Peer, in the same run and over the same documents: the same decision with the terms found by the usual first
implementation, one compiled regex alternation with word boundaries on the same normal form, and the same gate
(the gate is shared, so the ratio measures the matching only and is the honest lower bound of what the automaton
buys). Its escalations must equal filterkit's: the run fails loudly if they differ.

    python benchmarks/cheap_stage_bench.py [--pipeline pipelines/biorisk.yaml] [--passes 5] [--json out.json]
"""

from __future__ import annotations

import os

for _var in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filterkit.config import load_config  # noqa: E402
from filterkit.match.blocklist import normalize  # noqa: E402
from filterkit.match.escalation import Escalator, escalate  # noqa: E402

NEWS = ROOT.parent / "shared" / "data" / "ag_news_test.parquet"


def load_texts(path: Path) -> tuple[list[str], str]:
    if path.is_file():
        return pq.read_table(path, columns=["text"]).column("text").to_pylist(), f"{path.name} (real news)"
    files = sorted((ROOT / "sample_data" / "shards").glob("*.parquet"))
    return [t for f in files for t in pq.read_table(f, columns=["text"]).column("text").to_pylist()], "demo shards"


def regex_peer(esc: Escalator) -> callable:
    """The cheap stage with its matcher replaced by one regex alternation (unique terms per document)."""
    terms = esc.blocklist.terms
    alternation = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    rx = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
    bl = esc.bl

    def run(texts: list[str]) -> np.ndarray:
        norms = [normalize(t) for t in texts]
        unique = np.array([len(set(rx.findall(n))) for n in norms], dtype=np.int64)
        words = np.array([n.count(" ") + 1 if n else 0 for n in norms], dtype=np.int64)
        by_terms, _ = escalate(unique, words, None, None, bl)
        gate = np.full(len(texts), np.nan)
        below = np.flatnonzero(~by_terms)
        if esc.gate_threshold is not None and len(below):
            gate[below] = esc.gate.score([texts[i] for i in below])
        return escalate(unique, words, gate, esc.gate_threshold, bl)[1]

    return run


def timed(fn, texts: list[str], passes: int) -> tuple[list[float], object]:
    out = fn(texts[:200])  # warm-up: the automaton, the gate and the regex are built outside the timing
    rates = []
    for _ in range(passes):
        t0 = time.perf_counter()
        out = fn(texts)
        rates.append(len(texts) / (time.perf_counter() - t0))
    return rates, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", type=Path, default=ROOT / "pipelines" / "biorisk.yaml")
    ap.add_argument("--news", type=Path, default=NEWS)
    ap.add_argument("--passes", type=int, default=5, help="timed passes of filterkit (median reported)")
    ap.add_argument("--peer-passes", type=int, default=3, help="timed passes of the regex peer")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    texts, source = load_texts(args.news)
    cfg = load_config(args.pipeline)
    esc = Escalator(cfg.blocklist, cfg.semantic_gate)
    mb = sum(len(t.encode()) for t in texts) / 1e6

    ours, found = timed(esc, texts, max(args.passes, 1))
    terms_only = Escalator(cfg.blocklist, None)
    blocklist_rates, _ = timed(terms_only, texts, max(args.passes, 1))
    peer_rates, peer_escalated = timed(regex_peer(esc), texts, max(args.peer_passes, 1))
    if not np.array_equal(found.escalated, peer_escalated):
        raise SystemExit(
            f"the regex peer escalated {int(peer_escalated.sum())} documents, filterkit {int(found.escalated.sum())}: "
            "the two matchers disagree, so the timing compares different work"
        )
    med = statistics.median(ours)
    rows = [
        ("filterkit cheap stage (terms + gate)", med, min(ours), max(ours), 1.0),
        (
            "filterkit blocklist only",
            statistics.median(blocklist_rates),
            min(blocklist_rates),
            max(blocklist_rates),
            med / statistics.median(blocklist_rates),
        ),
        (
            "regex alternation + the same gate",
            statistics.median(peer_rates),
            min(peer_rates),
            max(peer_rates),
            med / statistics.median(peer_rates),
        ),
    ]
    print(
        f"text: {source}, {len(texts):,} docs, {mb:.1f} MB; terms: {len(esc.blocklist.terms):,}; escalated "
        f"{found.escalated.mean():.1%} ({found.by_terms.mean():.1%} by terms); 1 core; load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'implementation':40s} {'docs/s':>9s} {'range':>17s} {'cheap stage is':>15s}")
    for name, rate, lo, hi, ratio in rows:
        print(f"{name:40s} {rate:9,.0f} {lo:8,.0f}-{hi:<8,.0f} {ratio:14.2f}x")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "docs_per_s_median": med,
                    "docs_per_s_passes": ours,
                    "mb_per_s_median": med * mb / len(texts),
                    "blocklist_only_docs_per_s_median": statistics.median(blocklist_rates),
                    "blocklist_only_docs_per_s_passes": blocklist_rates,
                    "regex_peer_docs_per_s_median": statistics.median(peer_rates),
                    "regex_peer_docs_per_s_passes": peer_rates,
                    "ratio_vs_regex_peer": med / statistics.median(peer_rates),
                    "escalated_share": float(found.escalated.mean()),
                    "by_terms_share": float(found.by_terms.mean()),
                    "docs": len(texts),
                    "mb": mb,
                    "source": source,
                    "pipeline": str(
                        args.pipeline.relative_to(ROOT) if args.pipeline.is_relative_to(ROOT) else args.pipeline
                    ),
                    "load_1min_at_end": os.getloadavg()[0],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
