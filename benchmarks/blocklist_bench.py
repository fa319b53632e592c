"""Blocklist stage throughput (MB/s per core) against two naive peers, in the same run.

Text: real news from ../shared/data/ag_news_test.parquet when present (else the demo shards), repeated to
``--mb`` megabytes. Terms: the shipped blocklist plus word bigrams of the text itself (skipping the 3,000 most frequent), to
at least ``--terms`` entries, so the automaton is large and hits are real but not absurdly dense.

Peers (same normalised text, same term list):
  regex  one compiled alternation ``(?<!\\w)(?:t1|t2|...)(?!\\w)`` — the usual first implementation;
  loop   a per-term ``str.count`` loop over each document (no boundary checks, so it does *less* work).
The peers are timed on a slice of the text (they are slow) and scaled to MB/s.

    python benchmarks/blocklist_bench.py [--mb 20] [--terms 5000] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filterkit.blocklist import Blocklist, normalize, read_terms  # noqa: E402


def load_docs() -> tuple[list[str], str]:
    shared = ROOT.parent / "shared" / "data" / "ag_news_test.parquet"
    if shared.is_file():
        return pq.read_table(shared, columns=["text"]).column("text").to_pylist(), "ag_news_test (real news)"
    files = sorted((ROOT / "sample_data" / "shards").glob("*.parquet"))
    return [t for f in files for t in pq.read_table(f, columns=["text"]).column("text").to_pylist()], "demo shards"


def topic_docs() -> list[str]:
    """Proxy-topic texts (label 1) of the team's sample data: where a topical blocklist's terms come from."""
    files = sorted((ROOT / "sample_data").rglob("*.parquet"))
    out = []
    for f in files:
        t = pq.read_table(f, columns=["text", "label"])
        out += [x for x, y in zip(t.column("text").to_pylist(), t.column("label").to_pylist()) if y == 1]
    return out


def build_terms(docs: list[str], n: int, skip: int = 3000) -> list[str]:
    terms = read_terms(ROOT / "classifiers" / "blocklist" / "biorisk-proxy.txt")
    counts: collections.Counter[str] = collections.Counter()
    for d in docs[:20000]:
        words = re.findall(r"[a-z]{3,}", normalize(d))
        counts.update(f"{a} {b}" for a, b in zip(words, words[1:]))
    seen = set(terms)
    # skip the ~3,000 most frequent bigrams ("of the", "said on"): no real blocklist holds them, and they would
    # make the benchmark measure hit bookkeeping rather than scanning
    for bigram, _ in counts.most_common()[skip:]:
        if len(terms) >= n:
            break
        if bigram not in seen:
            seen.add(bigram)
            terms.append(bigram)
    return terms


def corpus(docs: list[str], mb: float) -> list[str]:
    out, size, i = [], 0, 0
    while size < mb * 1e6:
        d = docs[i % len(docs)]
        out.append(d)
        size += len(d.encode())
        i += 1
    return out


def time_it(fn, docs: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    hits = fn(docs)
    return time.perf_counter() - t0, hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20.0)
    ap.add_argument("--terms", type=int, default=5000)
    ap.add_argument("--peer-mb", type=float, default=1.0, help="text given to the slow peers")
    ap.add_argument(
        "--terms-from",
        choices=["text", "topic"],
        default="text",
        help="text: bigrams of the scanned text itself (dense hits, worst case); "
        "topic: bigrams and words of the proxy-topic sample texts (a realistic topical list)",
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    base, source = load_docs()
    if args.terms_from == "text":
        terms = build_terms(base, args.terms)
    else:
        terms = build_terms(topic_docs() * 1, args.terms, skip=0)
        if len(terms) < args.terms:  # pad with trigrams of the topic texts
            extra = collections.Counter()
            for d in topic_docs():
                w = re.findall(r"[a-z]{3,}", normalize(d))
                extra.update(f"{a} {b} {c}" for a, b, c in zip(w, w[1:], w[2:]))
            seen = set(terms)
            terms += [t for t, _ in extra.most_common() if t not in seen][: args.terms - len(terms)]
    docs = corpus(base, args.mb)
    peer_docs = corpus(base, args.peer_mb)
    mb = sum(len(d.encode()) for d in docs) / 1e6
    peer_mb = sum(len(d.encode()) for d in peer_docs) / 1e6

    bl = Blocklist(terms)
    batch = 1024  # as BlocklistStage batches documents

    def ours_fn(ds: list[str]) -> int:
        return sum(m.total for i in range(0, len(ds), batch) for m in bl.match_many(ds[i : i + batch]))

    ours_s, ours_hits = time_it(ours_fn, docs)

    alternation = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    rx = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
    regex_s, _ = time_it(lambda ds: sum(len(rx.findall(normalize(d))) for d in ds), peer_docs)

    def loop(ds: list[str]) -> int:
        n = 0
        for d in ds:
            norm = normalize(d)
            for t in terms:
                n += norm.count(t)
        return n

    loop_s, _ = time_it(loop, peer_docs)

    ours = mb / ours_s
    regex = peer_mb / regex_s
    loop_rate = peer_mb / loop_s
    rows = [
        ("filterkit Blocklist.match_many (batches of 1024)", ours, 1.0),
        ("regex alternation (compiled)", regex, ours / regex),
        ("per-term str.count loop", loop_rate, ours / loop_rate),
    ]
    print(f"text: {source}, {mb:.1f} MB ({len(docs):,} docs); terms: {len(terms):,} (from {args.terms_from}); "
          f"hits: {ours_hits:,} ({ours_hits / mb:,.0f}/MB); 1 core")
    print(f"{'implementation':48s} {'MB/s':>9s} {'filterkit is':>13s}")
    for name, rate, ratio in rows:
        print(f"{name:48s} {rate:9.2f} {ratio:12.1f}x")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "mb_per_s": ours,
                    "ratio_vs_regex": ours / regex,
                    "ratio_vs_loop": ours / loop_rate,
                    "regex_mb_per_s": regex,
                    "loop_mb_per_s": loop_rate,
                    "terms": len(terms),
                    "terms_from": args.terms_from,
                    "hits_per_mb": ours_hits / mb,
                    "text_mb": mb,
                    "source": source,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
