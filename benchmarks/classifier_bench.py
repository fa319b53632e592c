"""Classifier stage throughput against the naive peer, per document set and per runtime x precision.

Naive peer: ``SentenceTransformer.encode(docs)`` in input order with default settings (batch 32, each text
truncated to its first 256 tokens), then the same head. filterkit: ``EmbeddingClassifier.score`` — every
window of every document (so it does *more* work on long documents), length-sorted, packed by tokens,
bf16 on CUDA, and on CPU the forward pass in torch or ONNX Runtime (fp32 or int8). ``--truncate`` makes filterkit
score first windows only, which is the like-for-like comparison.

Document sets: ``mix`` (the demo shards and AG News interleaved, the earlier default), ``demo``, ``news``, and
``real-dev`` (``../shared/data/real/dev.parquet``, a seeded sample of ``--docs`` documents, all windows; skipped
with a message when absent). Each implementation runs ``--passes`` timed passes (median reported: the machine
is shared, single passes swing) after a warm-up; the naive peer runs in the same process, alternating with them.
Per set, the time inside ``score`` is split into tokenising (normalise + tokenizer + windows), batching
(sorting, padded-array building), model forward and the rest (head, gather).

``--quality`` scores *all* of real/dev once per runtime x precision: PR-AUC of the shipped head, recall and FPR
at its threshold, and the largest score difference from torch fp32. On CUDA only torch/fp32 runs.

    python benchmarks/classifier_bench.py [--docs 300] [--sets mix,real-dev] [--runtimes torch/fp32,onnx/fp32,onnx/int8]
                                          [--passes 3] [--quality] [--device auto] [--truncate] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_sampler import GpuSampler  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
NEWS = SHARED / "ag_news_test.parquet"
REAL_DEV = SHARED / "real" / "dev.parquet"
SETS = ("mix", "demo", "news", "real-dev")


def _cycle(docs: list[str], n: int, source: str) -> tuple[list[str], str]:
    if n > len(docs):  # a GPU needs more documents than the samples hold to reach a steady state
        source += f", cycled to {n}"
        docs = [docs[i % len(docs)] for i in range(n)]
    return docs[:n], source


def load_docs(n: int, shared: Path = NEWS) -> tuple[list[str], str]:
    """The ``mix`` set: long-ish encyclopedia documents from the demo shards and short news items, interleaved."""
    docs = demo_docs()
    source = "demo shards"
    if shared.is_file():
        news = pq.read_table(shared, columns=["text"]).column("text").to_pylist()
        docs = [d for pair in zip(docs, news) for d in pair]
        source = "demo shards + ag_news_test, interleaved"
    return _cycle(docs, n, source)


def demo_docs() -> list[str]:
    docs: list[str] = []
    for f in sorted((ROOT / "sample_data" / "shards").glob("*.parquet")):
        docs += pq.read_table(f, columns=["text"]).column("text").to_pylist()
    return docs


def load_set(name: str, n: int, news: Path = NEWS, real_dev: Path = REAL_DEV) -> tuple[list[str], str] | None:
    """``(docs, description)`` of a document set, or None (with a message) when its file is absent."""
    if name == "mix":
        return load_docs(n, news)
    if name == "demo":
        return _cycle(demo_docs(), n, "demo shards")
    path = news if name == "news" else real_dev
    if not path.is_file():
        print(f"skipping set {name}: {path} not found (needs ../shared/data)")
        return None
    texts = pq.read_table(path, columns=["text"]).column("text").to_pylist()
    if name == "real-dev":  # the file is grouped by source: a seeded sample keeps every source in the timed set
        random.Random(0).shuffle(texts)
    return _cycle(texts, n, f"{path.name} ({len(texts)} docs{', seeded sample' if name == 'real-dev' else ''})")


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def bench_set(name, docs, source, clfs, st, args, sync, cuda) -> dict:
    """Median-of-passes docs/s for each runtime and the naive peer on one document set, plus the time split."""
    import numpy as np

    from filterkit.match.blocklist import clean_text

    any_clf = next(iter(clfs.values()))
    enc0 = any_clf.encoder
    n_windows_naive = enc0.chunk(docs, truncate=True).windows
    naive_tokens = sum(min(len(w), enc0.max_tokens) for w in n_windows_naive)
    warm = docs[: min(len(docs), 2000 if cuda else 32)]
    st.encode(warm)
    for clf in clfs.values():
        clf.score(warm)
    sync()

    naive_s: list[float] = []
    naive_gpu: list[float] = []
    times = {k: [] for k in clfs}
    splits = {k: [] for k in clfs}
    gpu = {k: [] for k in clfs}
    results = {}
    naive_scores = None
    for _ in range(args.passes):  # alternate implementations pass by pass: a slow phase hits all alike
        with GpuSampler(cuda) as g:
            t0 = time.perf_counter()
            emb = st.encode(docs)
            naive_scores = any_clf.probabilities(np.asarray(emb, dtype=np.float32))
            sync()
            naive_s.append(time.perf_counter() - t0)
        if g.mean is not None:
            naive_gpu.append(g.mean)
        for key, clf in clfs.items():
            enc = clf.encoder
            before_t = dict(enc.timing)
            before = dict(clf.stats)
            with GpuSampler(cuda) as g:
                t0 = time.perf_counter()
                results[key] = clf.score(docs)
                sync()
                secs = time.perf_counter() - t0
            times[key].append(secs)
            if g.mean is not None:
                gpu[key].append(g.mean)
            split = {k: enc.timing[k] - before_t.get(k, 0.0) for k in enc.timing}
            split["total"] = secs
            split["tokens"] = clf.stats["tokens"] - before["tokens"]
            split["windows"] = clf.stats["windows"] - before["windows"]
            splits[key].append(split)
    t0 = time.perf_counter()
    for d in docs:
        clean_text(d)
    normalise_s = time.perf_counter() - t0

    naive_dps = len(docs) / _median(naive_s)
    out = {
        "set": name,
        "source": source,
        "docs": len(docs),
        "passes": args.passes,
        "naive": {
            "docs_per_s": naive_dps,
            "tokens_per_s": naive_tokens / _median(naive_s),
            "pass_seconds": naive_s,
            "gpu_util_mean": _median(naive_gpu) if naive_gpu else None,
        },
        "runtimes": {},
    }
    base = None
    for key, clf in clfs.items():
        med = _median(times[key])
        mid = sorted(splits[key], key=lambda s: s["total"])[len(splits[key]) // 2]  # the median pass's own split
        tot = mid["total"]
        tok_s = mid.get("tokenise", 0.0)
        share = {
            "tokenise": tok_s / tot,
            "of_which_normalise": normalise_s / tot,
            "batching": mid["batching"] / tot,
            "forward": mid["forward"] / tot,
        }
        share["other"] = max(0.0, 1.0 - share["tokenise"] - share["batching"] - share["forward"])
        thr = clf.info.threshold
        agree = float(
            np.mean(
                [(o.score is not None and o.score >= thr) == (s >= thr) for o, s in zip(results[key], naive_scores)]
            )
        )
        dps = len(docs) / med
        if base is None:
            base = dps
        out["runtimes"][key] = {
            "docs_per_s": dps,
            "tokens_per_s": mid["tokens"] / tot,
            "windows": mid["windows"],
            "pass_seconds": times[key],
            "ratio_vs_naive": dps / naive_dps,
            "ratio_vs_first": dps / base,
            "time_share": share,
            "decision_agreement_with_naive": agree,
            "gpu_util_mean": _median(gpu[key]) if gpu[key] else None,
        }
    return out


def quality(clfs, real_dev: Path, head: Path) -> dict | None:
    """Every real/dev document scored by each runtime: PR-AUC, recall/FPR at the head's threshold, drift.

    Scores go through quality_bench's per-text cache (same key as a pipeline with that runtime), so
    ``quality_bench.py --pipeline`` with the same runtime afterwards reuses them for its cascade numbers.
    """
    import numpy as np
    from sklearn.metrics import average_precision_score, roc_auc_score

    from filterkit.config import config_from_dict
    from quality_bench import CachedScorer

    if not real_dev.is_file():
        print(f"skipping quality: {real_dev} not found (needs ../shared/data)")
        return None
    t = pq.read_table(real_dev, columns=["text", "label"])
    texts = t.column("text").to_pylist()
    y = np.asarray(t.column("label").to_pylist())
    out, ref = {}, None
    for key, clf in clfs.items():
        runtime, precision = key.split("/")
        cfg = config_from_dict(
            {
                "classifier": {
                    "path": str(head.resolve()),
                    "device": clf.encoder.device,
                    "max_tokens": clf.encoder.max_tokens,  # explicit, as in biorisk.yaml
                    "runtime": runtime,
                    "precision": precision,
                }
            }
        )
        scorer = CachedScorer(cfg)
        scorer._model = clf  # the loaded classifier scores what the cache lacks
        t0 = time.perf_counter()
        s = scorer(texts)
        secs = time.perf_counter() - t0
        thr = clf.info.threshold
        if ref is None:
            ref = s
        out[key] = {
            "pr_auc": float(average_precision_score(y, s)),
            "roc_auc": float(roc_auc_score(y, s)),
            "threshold": thr,
            "recall": float((s[y == 1] >= thr).mean()),
            "fpr": float((s[y == 0] >= thr).mean()),
            "max_score_drift_vs_first": float(np.abs(s - ref).max()),
            "mean_score_drift_vs_first": float(np.abs(s - ref).mean()),
            "decisions_changed_vs_first": int(((s >= thr) != (ref >= thr)).sum()),
            "docs": len(texts),
            "newly_scored": scorer.scored,
            "seconds": secs,
        }
        print(
            f"  quality {key}: PR-AUC {out[key]['pr_auc']:.4f}, recall {out[key]['recall']:.3f}, "
            f"FPR {out[key]['fpr']:.4f}, max drift {out[key]['max_score_drift_vs_first']:.4f} "
            f"({scorer.scored} scored, {secs:.0f} s)",
            flush=True,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=300, help="documents per set and pass")
    ap.add_argument("--sets", default="mix,real-dev", help=f"comma-separated, from {','.join(SETS)}")
    ap.add_argument(
        "--runtimes",
        default=None,
        help="comma-separated runtime/precision; default torch/fp32,onnx/fp32,onnx/int8 on CPU, torch/fp32 on CUDA",
    )
    ap.add_argument("--passes", type=int, default=3, help="timed passes per implementation (median reported)")
    ap.add_argument("--quality", action="store_true", help="also score all of real/dev per runtime (PR-AUC, drift)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--truncate", action="store_true", help="filterkit scores first windows only (like the peer)")
    ap.add_argument("--batch-tokens", type=int, default=None, help="default: the encoder's (2048 CPU, 65536 CUDA)")
    ap.add_argument(
        "--pad-multiple",
        type=int,
        default=None,
        help="round batch shapes (default: the encoder's, 32 on CUDA, 1 = exact shapes)",
    )
    ap.add_argument("--head", type=Path, default=ROOT / "classifiers" / "biorisk-proxy-minilm")
    ap.add_argument("--news", type=Path, default=NEWS, help="real general-domain text mixed in when present")
    ap.add_argument("--real-dev", type=Path, default=REAL_DEV)
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch and ONNX Runtime alike (default: torch's, one per core)",
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from filterkit.classify.embedding import EmbeddingClassifier
    from filterkit.config import ScoringSpec
    from filterkit.device import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)  # ONNX Runtime sessions take torch's thread count (onnx_runtime.py)
    device = resolve_device(args.device)
    cuda = device == "cuda"
    wanted = args.runtimes or ("torch/fp32" if cuda else "torch/fp32,onnx/fp32,onnx/int8")
    clfs = {}
    for key in wanted.split(","):
        runtime, precision = key.strip().split("/")
        spec = ScoringSpec(
            device=device,
            batch_tokens=args.batch_tokens,
            runtime=runtime,
            precision=precision,
            long_docs="truncate" if args.truncate else "chunks",
        )
        clf = EmbeddingClassifier.load(args.head, spec)
        if args.pad_multiple is not None:
            clf.encoder.pad_multiple = args.pad_multiple
        clfs[key.strip()] = clf
    first = next(iter(clfs.values()))
    st = SentenceTransformer(str(first.encoder.path), device=device)
    st.max_seq_length = first.encoder.max_tokens

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    name = f"{device}" + (f" ({torch.cuda.get_device_name(0)})" if cuda else f" ({torch.get_num_threads()} threads)")
    report = {
        "device": name,
        "truncate": args.truncate,
        "head": str(args.head),
        "head_sha256": first.info.sha256,
        "batch_tokens": first.encoder.batch_tokens,
        "pad_multiple": first.encoder.pad_multiple,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "sets": [],
    }
    print(
        f"device: {name}; {'first window only' if args.truncate else 'all windows'}; "
        f"{args.passes} passes, median; load average {os.getloadavg()[0]:.1f} (shared machine)"
    )
    for set_name in filter(None, args.sets.split(",")):  # --sets "": quality only
        if set_name.strip() not in SETS:
            raise SystemExit(f"unknown set {set_name!r}; use {', '.join(SETS)}")
        loaded = load_set(set_name.strip(), args.docs, args.news, args.real_dev)
        if loaded is None:
            continue
        docs, source = loaded
        r = bench_set(set_name.strip(), docs, source, clfs, st, args, sync, cuda)
        report["sets"].append(r)
        print(f"\n[{r['set']}] {len(docs)} docs ({source})")
        print(
            f"{'implementation':28s} {'docs/s':>8s} {'tokens/s':>9s} {'vs first':>8s} {'vs naive':>8s} "
            f"{'tokenise':>8s} {'batching':>8s} {'forward':>8s} {'other':>6s} {'GPU':>5s}"
        )
        for key, v in r["runtimes"].items():
            sh = v["time_share"]
            util = "-" if v["gpu_util_mean"] is None else f"{v['gpu_util_mean']:.0f}%"
            print(
                f"{'filterkit ' + key:28s} {v['docs_per_s']:8.1f} {v['tokens_per_s']:9.0f} {v['ratio_vs_first']:7.2f}x "
                f"{v['ratio_vs_naive']:7.2f}x {sh['tokenise']:8.1%} {sh['batching']:8.1%} {sh['forward']:8.1%} "
                f"{sh['other']:6.1%} {util:>5s}"
            )
        nv = r["naive"]
        util = "-" if nv["gpu_util_mean"] is None else f"{nv['gpu_util_mean']:.0f}%"
        print(
            f"{'naive ST.encode (1st window)':28s} {nv['docs_per_s']:8.1f} {nv['tokens_per_s']:9.0f} "
            f"{'':8s} {'':8s} {'':8s} {'':8s} {'':8s} {'':6s} {util:>5s}"
        )
    if args.quality:
        print("\nquality on all of real/dev (each runtime scores every document once):")
        report["quality"] = quality(clfs, args.real_dev, args.head)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
