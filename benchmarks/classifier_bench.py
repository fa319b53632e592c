"""Classifier stage throughput against the naive peer, in the same run.

Naive peer: ``SentenceTransformer.encode(docs)`` in input order with default settings (batch 32, each text
truncated to its first 256 tokens), then the same head. filterkit: ``EmbeddingClassifier.score`` — every
window of every document (so it does *more* work on long documents), length-sorted, packed by tokens,
bf16 on CUDA. Both are reported in docs/s and tokens/s; ``--truncate`` makes filterkit score first windows
only, which is the like-for-like comparison. On CUDA, GPU utilisation is sampled every 50 ms.

    python benchmarks/classifier_bench.py [--docs 400] [--device auto] [--truncate] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_sampler import GpuSampler  # noqa: E402


NEWS = ROOT.parent / "shared" / "data" / "ag_news_test.parquet"


def load_docs(n: int, shared: Path = NEWS) -> tuple[list[str], str]:
    files = sorted((ROOT / "sample_data" / "shards").glob("*.parquet"))
    docs: list[str] = []
    # a realistic mix: long-ish encyclopedia documents from the demo shards, short news items
    for f in files:
        docs += pq.read_table(f, columns=["text"]).column("text").to_pylist()
    source = "demo shards"
    if shared.is_file():
        news = pq.read_table(shared, columns=["text"]).column("text").to_pylist()
        docs = [d for pair in zip(docs, news) for d in pair]
        source = "demo shards + ag_news_test, interleaved"
    if n > len(docs):  # a GPU needs more documents than the samples hold to reach a steady state
        source += f", cycled to {n}"
        docs = [docs[i % len(docs)] for i in range(n)]
    return docs[:n], source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--truncate", action="store_true", help="filterkit scores first windows only (like the peer)")
    ap.add_argument("--batch-tokens", type=int, default=None, help="default: the encoder's (2048 CPU, 65536 CUDA)")
    ap.add_argument("--pad-multiple", type=int, default=None,
                    help="round batch shapes (default: the encoder's, 32 on CUDA, 1 = exact shapes)")
    ap.add_argument("--head", type=Path, default=ROOT / "classifiers" / "biorisk-proxy-minilm")
    ap.add_argument("--news", type=Path, default=NEWS, help="real general-domain text mixed in when present")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from filterkit.encoders import resolve_device
    from filterkit.heads import EmbeddingClassifier

    docs, source = load_docs(args.docs, args.news)
    device = resolve_device(args.device)
    clf = EmbeddingClassifier.load(args.head, device=device, batch_tokens=args.batch_tokens, truncate=args.truncate)
    if args.pad_multiple is not None:
        clf.encoder.pad_multiple = args.pad_multiple
    st = SentenceTransformer(str(clf.encoder.path), device=device)
    st.max_seq_length = clf.encoder.max_tokens
    cuda = device == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    # warm-up both paths (kernels, allocator, batch shapes) so both are timed in steady state
    warm = docs[: min(len(docs), 2000)]
    clf.score(warm)
    st.encode(warm)
    sync()

    with GpuSampler(cuda) as naive_gpu:
        t0 = time.perf_counter()
        emb = st.encode(docs)  # the naive peer: defaults, input order
        naive_scores = clf.probabilities(np.asarray(emb, dtype=np.float32))
        sync()
        naive_s = time.perf_counter() - t0
    naive_tokens = sum(min(len(w), clf.encoder.max_tokens) for w in clf.encoder.chunk(docs, truncate=True).windows)

    before = dict(clf.stats)
    with GpuSampler(cuda) as ours_gpu:
        t0 = time.perf_counter()
        ours = clf.score(docs)
        sync()
        ours_s = time.perf_counter() - t0
    ours_tokens = clf.stats["tokens"] - before["tokens"]
    windows = clf.stats["windows"] - before["windows"]

    agree = float(np.mean([(o.score >= clf.info.threshold) == (n >= clf.info.threshold) for o, n in zip(ours, naive_scores)]))
    name = f"{device}" + (f" ({torch.cuda.get_device_name(0)})" if cuda else f" ({torch.get_num_threads()} threads)")
    ratio = (len(docs) / ours_s) / (len(docs) / naive_s)
    print(f"device: {name}; docs: {len(docs)} ({source}); filterkit windows: {windows} "
          f"({'first window only' if args.truncate else 'all windows'}); pad multiple {clf.encoder.pad_multiple}")
    print(f"{'implementation':40s} {'docs/s':>9s} {'tokens/s':>10s} {'GPU util':>9s}")
    for label, secs, toks, gpu in (
        ("filterkit EmbeddingClassifier.score", ours_s, ours_tokens, ours_gpu.mean),
        ("naive SentenceTransformer.encode", naive_s, naive_tokens, naive_gpu.mean),
    ):
        util = "-" if gpu is None else f"{gpu:.0f}%"
        print(f"{label:40s} {len(docs) / secs:9.1f} {toks / secs:10.0f} {util:>9s}")
    print(f"ratio (docs/s, filterkit / naive): {ratio:.2f}x; decisions agree on {agree:.1%} of documents")
    if args.json:
        args.json.write_text(json.dumps({
            "docs_per_s": len(docs) / ours_s, "tokens_per_s": ours_tokens / ours_s,
            "naive_docs_per_s": len(docs) / naive_s, "naive_tokens_per_s": naive_tokens / naive_s,
            "ratio_vs_naive": ratio, "device": name, "docs": len(docs), "windows": windows,
            "truncate": args.truncate, "pad_multiple": clf.encoder.pad_multiple,
            "gpu_util_mean": ours_gpu.mean, "naive_gpu_util_mean": naive_gpu.mean,
            "decision_agreement": agree,
        }, indent=2))


if __name__ == "__main__":
    main()
