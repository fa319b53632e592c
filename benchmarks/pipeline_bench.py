"""End-to-end ``filterkit run`` throughput: on generated shards (default), on real web crawl against the ways
others filter (``--web``), and scaled out over tasks, processes and Ray (``--scale``).

Generated shards (default) are built from the demo shards' documents (and real news from ../shared when present),
~10% proxy, so the blocklist escalates realistically; each configuration runs in a fresh subprocess so its peak RSS
is its own.

``--web`` samples a fixed random subset of the real web-crawl pool (``../shared/data/web/*.parquet``) and times, in
one invocation, three filters that share the reader, the classifier (the pipeline's head, threshold and window rule)
and the writer, and differ only in what reaches the classifier:

* ``filterkit``: the pipeline as shipped (``pipelines/biorisk.yaml``: word-bounded terms on the obfuscation-resistant
  normal form, the semantic gate, then every window of an escalated page scored);
* ``deep_ignorance``: Deep Ignorance's cheap stage (O'Brien, Casper et al., 2025): the same terms as lower-case
  substrings of the lower-cased text, no word boundaries, no normal form, >= 2 unique terms escalate; then every
  window of an escalated page scored by the same classifier;
* ``classify_all``: no cheap stage, every window of every page scored (how NeMo Curator's classifiers run), timed on
  the first ``--all-docs`` documents of the same sample (docs/s is what is compared).

Each method runs in its own subprocess: one warm-up run loads the encoder, then ``--passes`` timed runs (medians
reported); the per-stage split comes from the run's manifest (blocklist, classifier, write), the encoder's own
timers (tokenise, batching, forward) and a profile of the cheap stage on the same input (read, normal form,
automaton, gate). Quality: each method's decisions on the labelled web dev split (``labels/web``; the estimator of
``filterkit/evaluate/estimate.py`` through ``benchmarks/quality_web.py``), with scores from quality_bench's cache.

``--scale`` runs the shipped pipeline on the same sample with ``executor`` local tasks 1 / workers 1, local tasks 4 /
workers 2 and Ray (tasks 4, workers 2, a local cluster), checks that the kept rows (shard, row id, text sha256) and
the kept files' sha256 are identical, and reports docs/s for each.

    python benchmarks/pipeline_bench.py [--docs 4000] [--shards 1,20] [--pipeline pipelines/biorisk.yaml] [--json out.json]
    python benchmarks/pipeline_bench.py --web [--docs 1500] [--all-docs 400] [--passes 3] [--json out.json]
    python benchmarks/pipeline_bench.py --scale [--docs 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
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


def synthetic(args: argparse.Namespace) -> None:
    """Generated shards (~10% proxy): docs/s, stage shares and peak RSS per shard count."""

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
    print(
        f"{'shards':>6s} {'docs/s':>8s} {'MB/s':>7s} {'escal.':>7s} {'removed':>8s} {'peak RSS MB':>12s} "
        f"{'GPU util':>9s}  stage share"
    )
    for r in results:
        share = ", ".join(f"{k} {v:.0%}" for k, v in r["stage_share"].items())
        util = "-" if r["gpu_util_mean"] is None else f"{r['gpu_util_mean']:.0f}%"
        print(
            f"{r['shards']:6d} {r['docs_per_s']:8.1f} {r['mb_per_s']:7.3f} {r['escalated']:7d} {r['removed']:8d} "
            f"{r['peak_rss_mb']:12.0f} {util:>9s}  {share}"
        )
    if args.json:
        first = results[0]
        args.json.write_text(
            json.dumps(
                {
                    "docs_per_s": first["docs_per_s"],
                    "mb_per_s": first["mb_per_s"],
                    "stage_seconds": first["stage_seconds"],
                    "device": first["device"],
                    "gpu_util_mean": first["gpu_util_mean"],
                    "runs": results,
                },
                indent=2,
            )
        )


# ------------------------------------------------------------------------------------------ --web, --scale

WEB = ROOT.parent / "shared" / "data" / "web"
WEB_LABELS = ROOT / "labels" / "web"
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("filterkit", "deep_ignorance", "classify_all")
SHARDS = 4  # the sample is written as 4 shards, so --scale can give each of 4 tasks one


def web_sample(web_dir: Path, n_docs: int, seed: int) -> pa.Table:
    """A fixed random sample of the web pool (seeded; every file, columns id, text, source, url)."""
    import numpy as np

    files = sorted(web_dir.glob("*.parquet"))
    if not files:
        raise SystemExit(f"{web_dir}: no web-crawl parquet files; pass --web-data ../shared/data/web")
    cols = ["id", "text", "source", "url"]
    pool = pa.concat_tables(
        pq.read_table(f, columns=cols).cast(pa.schema([(c, pa.string()) for c in cols])) for f in files
    )
    order = np.random.default_rng(seed).permutation(pool.num_rows)[: min(n_docs, pool.num_rows)]
    return pool.take(pa.array(order))


def write_shards_of(table: pa.Table, folder: Path, n_shards: int = SHARDS) -> float:
    """``table`` as ``n_shards`` parquet shards; returns the text's size in MB (UTF-8)."""
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-table.num_rows // n_shards)
    for i in range(n_shards):
        pq.write_table(table.slice(i * per, per), folder / f"web-{i:02d}.parquet")
    return sum(len(t.encode()) for t in table.column("text").to_pylist()) / 1e6


def method_config(cfg, method: str):
    """The pipeline config a method runs: the shipped one, or it with the cheap stage swapped or removed.

    Classifier, threshold, window rule, reader and writer stay the same, so only what reaches the classifier
    differs. ``deep_ignorance`` keeps the blocklist stage at 2 terms with no gate; its matcher is replaced in the
    child (:func:`_di_pipeline`)."""
    from filterkit.config import config_from_dict

    if method == "filterkit":
        return cfg
    d = cfg.model_dump(mode="json")
    d["semantic_gate"]["enabled"] = False
    d["classifier"]["gate_only_threshold"] = None
    if method == "classify_all":
        d["blocklist"]["enabled"] = False
    else:
        d["blocklist"].update(min_unique_hits=2, short_doc_words=0, split_terms=False, mode="escalate")
    return config_from_dict(d)


def _di_pipeline(build):
    """``runner.build_pipeline`` with the blocklist stage's matcher replaced by Deep Ignorance's substring rule."""
    from deep_ignorance import SubstringEscalator
    from filterkit.stages.blocklist import BlocklistStage

    def patched(prep):
        steps = build(prep)
        for step in steps:
            if isinstance(step, BlocklistStage):
                step.escalator = SubstringEscalator.from_file(prep.config.blocklist.path)
        return steps

    return patched


def _windows_scored(out: Path) -> int:
    return sum(
        sum(w or 0 for w in pq.read_table(f, columns=["windows"]).column(0).to_pylist())
        for f in sorted((out / "scores").glob("*.parquet"))
    )


def _cheap_profile(cfg, inp: Path) -> dict:
    """Seconds of the shipped cheap stage's parts on ``inp``, measured apart (the run records only their sum):
    reading the text column, loading the automaton and the gate, the normal form, the automaton pass with its
    bookkeeping, and the gate on documents below the term bar."""
    import numpy as np

    from filterkit.match.blocklist import _SEP, Blocklist, match_form
    from filterkit.match.escalation import _STEP_DOCS, escalate
    from filterkit.match.gate import StaticGate

    out: dict[str, float] = {}
    t = time.perf_counter()
    texts = [
        x
        for f in sorted(inp.glob("*.parquet"))
        for b in pq.ParquetFile(f).iter_batches(
            columns=[cfg.input.text_column, cfg.input.id_column], batch_size=cfg.input.batch_rows
        )
        for x in b.column(0).to_pylist()
    ]
    out["read"] = time.perf_counter() - t
    t = time.perf_counter()
    bl = Blocklist.from_file(cfg.blocklist.path, split_terms=cfg.blocklist.split_terms)
    out["load_blocklist"] = time.perf_counter() - t
    gate = None
    if cfg.semantic_gate.enabled:
        t = time.perf_counter()
        gate = StaticGate.load(cfg.semantic_gate.path)
        out["load_gate"] = time.perf_counter() - t
    nf = count = gate_s = 0.0
    for i in range(0, len(texts), _STEP_DOCS):
        part = texts[i : i + _STEP_DOCS]
        t = time.perf_counter()
        match_form(_SEP.join(part))
        nf += time.perf_counter() - t
        t = time.perf_counter()
        found = bl.count_many(part, detail_min_unique=cfg.blocklist.min_unique_hits)
        count += time.perf_counter() - t
        by_terms, _ = escalate(found.unique, np.zeros(len(part), dtype=np.int64), None, None, cfg.blocklist)
        if gate is not None and (~by_terms).any():
            t = time.perf_counter()
            gate.score([part[j] for j in np.flatnonzero(~by_terms)])
            gate_s += time.perf_counter() - t
    out["normal_form"], out["automaton"], out["gate"] = nf, count - nf, gate_s
    return out


def child(args: argparse.Namespace) -> None:
    """One method's timed passes in this process (encoder loaded once by a warm-up run); prints JSON."""
    from filterkit.classify import embedding
    from filterkit.config import load_config
    from filterkit.runs import runner

    cfg = method_config(load_config(args.pipeline), args.child)
    if args.child == "deep_ignorance":
        runner.build_pipeline = _di_pipeline(runner.build_pipeline)
    out = Path(args.child_out)
    runner.run(args.child_warm, cfg, out / "warm")

    def enc_timing() -> dict[str, float]:
        t: dict[str, float] = {}
        for e in embedding._ENCODERS.values():
            for k, v in e.timing.items():
                t[k] = t.get(k, 0.0) + v
        return t

    passes = []
    for p in range(args.passes):
        before = enc_timing()
        res = runner.run(args.child_input, cfg, out / f"pass{p}")
        after = enc_timing()
        m = res.manifest
        passes.append(
            {
                "wall_seconds": m["timing"]["wall_seconds"],
                "counts": m["counts"],
                "stage_seconds": m["timing"]["stage_seconds"],
                "encoder_seconds": {k: after[k] - before.get(k, 0.0) for k in after},
                "windows": _windows_scored(out / f"pass{p}"),
                "device": m["device"],
                "kept_sha256": {s["shard"]: s["outputs"]["kept"]["sha256"] for s in m["shards"]},
            }
        )
    profile = _cheap_profile(cfg, Path(args.child_input)) if args.child == "filterkit" else None
    print(json.dumps({"passes": passes, "cheap_profile": profile}))


def _run_method(args, method: str, inp: Path, warm: Path, out: Path) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        method,
        "--child-input",
        str(inp),
        "--child-warm",
        str(warm),
        "--child-out",
        str(out),
        "--passes",
        str(args.passes),
        "--pipeline",
        str(args.pipeline),
    ]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).resolve().parent)]),
    }
    r = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _median(xs):
    return statistics.median(xs) if xs else None


def summarise(method: str, raw: dict, mb: float) -> dict:
    """Medians over passes: docs/s, MB/s, escalation, windows per 1,000 documents, seconds per stage."""
    passes = raw["passes"]
    docs = passes[0]["counts"]["read"]
    walls = [p["wall_seconds"] for p in passes]
    med = _median(walls)
    stage = {k: _median([p["stage_seconds"].get(k, 0.0) for p in passes]) for k in passes[0]["stage_seconds"]}
    enc = {k: _median([p["encoder_seconds"].get(k, 0.0) for p in passes]) for k in passes[0]["encoder_seconds"]}
    split = {"blocklist": stage.get("blocklist", 0.0)}
    split.update({f"classifier:{k}": v for k, v in enc.items()})
    split["classifier:head_and_rest"] = max(stage.get("classifier", 0.0) - sum(enc.values()), 0.0)
    split["write"] = stage.get("write", 0.0)
    split["read_and_overhead"] = max(med - sum(stage.values()), 0.0)  # reader, datatrove, plan, manifest
    c = passes[0]["counts"]
    escalated = c["escalated"] if method != "classify_all" else docs
    return {
        "method": method,
        "docs": docs,
        "mb": mb,
        "passes": len(passes),
        "wall_seconds": walls,
        "docs_per_s": docs / med,
        "docs_per_s_passes": [docs / w for w in walls],
        "mb_per_s": mb / med,
        "escalation_rate": escalated / docs,
        "removed": c["removed"],
        "removed_rate": c["removed"] / docs,
        "windows": passes[0]["windows"],
        "windows_per_1k_docs": 1000 * passes[0]["windows"] / docs,
        "seconds_split": split,
        "stage_seconds": stage,
        "device": passes[0]["device"],
        "kept_identical_across_passes": len({json.dumps(p["kept_sha256"], sort_keys=True) for p in passes}) == 1,
        "cheap_profile": raw.get("cheap_profile"),
    }


def web_quality(cfg, labels_dir: Path, web_dir: Path, seed: int, score_missing: bool = False) -> dict:
    """Each method's precision and recall on the labelled web dev split (quality_web's estimator), from one set of
    classifier scores: a page's score does not depend on which cheap stage escalated it.

    Scores come from quality_bench's cache (``CachedScorer``, scored as a run scores). Where a page has no cached
    score, a decision is still known without one when the page has a word-bounded term (the shipped cheap stage
    escalates it on terms): at the shared threshold its removal is its stratum's (``strata.json`` was drawn from the
    shipped pipeline's run; ``strata_check`` counts how often the cached scores and this run's escalation agree with
    the strata). A method still missing decisions is reported as incomplete, unless ``score_missing`` scores them
    (slow on CPU)."""
    import hashlib

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from benchmarks.quality_bench import CachedScorer
    from benchmarks.quality_web import _pool, web_section
    from deep_ignorance import SubstringEscalator
    from filterkit.contract import Rule, decide_many
    from filterkit.match.escalation import Escalator

    scorer = CachedScorer(cfg)
    stratum_of = json.loads((labels_dir / "strata.json").read_text())["stratum"]
    _, dev_texts = _pool(web_dir, set(stratum_of))
    stratum = {t: stratum_of[i] for i, t in dev_texts.items()}
    esc = Escalator(cfg.blocklist, cfg.semantic_gate)
    di = SubstringEscalator.from_file(cfg.blocklist.path)
    shipped = scorer.rule  # the pipeline's own rule (gate-only pages need gate_only_threshold)
    plain = Rule(threshold=scorer.threshold, on_error=cfg.classifier.on_error)  # one threshold, no gate
    key = lambda t: hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest()[:32]  # noqa: E731 CachedScorer's
    missing: dict[str, int] = {}
    check = {"escalation_agrees": 0, "escalation_differs": 0, "decision_agrees": 0, "decision_differs": 0}

    def scores_for(method: str, texts: list[str], need: np.ndarray, as_stratum: np.ndarray) -> np.ndarray:
        """Scores where cached; where ``as_stratum``, a stand-in (1 or 0) that decides as the stratum did; NaN else."""
        if score_missing:
            out = np.full(len(texts), np.nan)
            if need.any():
                out[need] = scorer([t for t, x in zip(texts, need) if x])
            return out
        out = np.full(len(texts), np.nan)
        for j in np.flatnonzero(need):
            cached = scorer.cache.get(key(texts[j]))
            if cached is not None:
                out[j] = cached
            elif as_stratum[j]:  # decided at this method's threshold exactly as the shipped run decided it
                out[j] = 1.0 if stratum[texts[j]] == "removed" else 0.0
        missing[method] = int(np.isnan(out[need]).sum())
        return out

    def fk_decide(texts):
        e = esc(texts)
        cheap = np.where(e.by_terms, "terms", np.where(e.escalated, "gate", "none")).astype(object)
        strata_removed = np.array([stratum[t] == "removed" for t in texts])
        for t, x in zip(texts, e.escalated):
            check["escalation_agrees" if x == (stratum[t] != "not_escalated") else "escalation_differs"] += 1
        scores = scores_for("filterkit", texts, e.escalated, e.escalated)  # every decision is the stratum's
        mine = decide_many(shipped, cheap, scores) != ""
        known = e.escalated & np.array([key(t) in scorer.cache for t in texts])
        real = decide_many(shipped, cheap, np.array([scorer.cache.get(key(t), np.nan) for t in texts])) != ""
        mine = np.where(known, real, mine)
        check["decision_agrees"] += int((mine[known] == strata_removed[known]).sum())
        check["decision_differs"] += int((mine[known] != strata_removed[known]).sum())
        return mine

    def di_decide(texts):
        e = di(texts).escalated
        scores = scores_for("deep_ignorance", texts, e, esc(texts).by_terms)
        return decide_many(plain, np.where(e, "terms", "none").astype(object), scores) != ""

    def all_decide(texts):
        scores = scores_for("classify_all", texts, np.ones(len(texts), dtype=bool), esc(texts).by_terms)
        return decide_many(plain, np.full(len(texts), "terms", dtype=object), scores) != ""

    decide = {"filterkit": fk_decide, "deep_ignorance": di_decide, "classify_all": all_decide}
    out: dict = {}
    for m in METHODS:
        res = web_section(labels_dir, web_dir, decide[m], seed=seed)
        if "skipped" in res:
            return {"skipped": res["skipped"]}
        if missing.get(m):
            out[m] = {
                "incomplete": f"{missing[m]} dev pages need a classifier score not yet cached; run with "
                "--score-missing (slow on CPU)"
            }
            continue
        o = res["estimate"]["overall"]
        out[m] = {
            "dev_documents_scored": res["dev_documents_scored"],
            "dev_removed": res["dev_removed"],
            **{
                r: {k: o[r][k] for k in ("precision", "recall", "nonproxy_removed_share")}
                for r in ("strict", "lenient")
            },
            "notes": res["estimate"]["notes"],
        }
    out["strata_check"] = check
    out["threshold"] = scorer.threshold
    out["gate_only_threshold"] = scorer.gate_only_threshold
    return out


def pool_windows(cfg, web_dir: Path) -> dict:
    """Escalation and windows per 1,000 documents of each method over the whole web pool, without a forward pass
    (the tokenizer cuts the windows the classifier would score). On CPU the forward pass is nearly all of a run's
    time, so these bound the docs/s ratios on the full pool where the timed sample is small."""
    import numpy as np

    from deep_ignorance import SubstringEscalator
    from filterkit.classify.encoder import Encoder
    from filterkit.classify.registry import read_classifier_info
    from filterkit.match.escalation import Escalator

    texts = [
        x for f in sorted(web_dir.glob("*.parquet")) for x in pq.read_table(f, columns=["text"]).column(0).to_pylist()
    ]
    fk = Escalator(cfg.blocklist, cfg.semantic_gate)(texts)
    di = SubstringEscalator.from_file(cfg.blocklist.path)(texts).escalated
    enc = Encoder(
        cfg.classifier.encoder_path,
        device="cpu",
        runtime="torch",
        max_tokens=int(cfg.classifier.max_tokens or read_classifier_info(cfg.classifier.path).folder.max_tokens),
    )
    per_doc = np.bincount(np.asarray(enc.chunk(texts).owner), minlength=len(texts))
    out = {"docs": len(texts), "mb": sum(len(t.encode()) for t in texts) / 1e6}
    for m, esc in (("filterkit", fk.escalated), ("deep_ignorance", di), ("classify_all", np.ones(len(texts), bool))):
        out[m] = {
            "escalation_rate": float(esc.mean()),
            "windows_per_1k_docs": 1000 * float(per_doc[esc].sum()) / len(texts),
        }
    out["filterkit"]["escalated_by_terms_rate"] = float(fk.by_terms.mean())
    out["filterkit"]["windows_per_1k_docs_gate_only"] = (
        1000 * float(per_doc[fk.escalated & ~fk.by_terms].sum()) / len(texts)
    )
    return out


def _fmt(m: dict) -> str:
    if m.get("value") is None:
        return "n/a"
    ci = m.get("ci95")
    return f"{m['value']:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def _header(args) -> dict:
    return {
        "load_average_start": os.getloadavg(),
        "cpus": os.cpu_count(),
        "pipeline": str(args.pipeline),
        "seed": args.seed,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def web(args: argparse.Namespace) -> None:
    from filterkit.config import load_config

    cfg = load_config(args.pipeline)
    if args.quality_only:  # the timed passes of an earlier --no-quality run, with the quality filled in
        doc = json.loads(args.json.read_text())
        doc["quality_web_dev"] = web_quality(cfg, args.web_labels, args.web_data, args.seed, args.score_missing)
        if args.pool_windows:
            doc["pool_windows"] = pool_windows(cfg, args.web_data)
        print(render_web_table(doc))
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.json}")
        return
    head = _header(args)
    quality = (
        None if args.no_quality else web_quality(cfg, args.web_labels, args.web_data, args.seed, args.score_missing)
    )
    sample = web_sample(args.web_data, args.docs, args.seed)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mb = write_shards_of(sample, tmp / "in")
        mb_all = write_shards_of(sample.slice(0, args.all_docs), tmp / "in-all")
        write_shards_of(sample.slice(0, 40), tmp / "warm", 1)
        for m in METHODS:
            inp = tmp / ("in-all" if m == "classify_all" else "in")
            raw = _run_method(args, m, inp, tmp / "warm", tmp / f"out-{m}")
            results[m] = summarise(m, raw, mb_all if m == "classify_all" else mb)
            print(f"{m}: {results[m]['docs_per_s']:.1f} docs/s", file=sys.stderr, flush=True)
    base = results["filterkit"]["docs_per_s"]
    ratios = {f"filterkit_vs_{m}": base / results[m]["docs_per_s"] for m in METHODS[1:]}
    doc = {
        **head,
        "load_average_end": os.getloadavg(),
        "mode": "web",
        "web_data": str(args.web_data),
        "sample_docs": args.docs,
        "classify_all_docs": args.all_docs,
        "note": "docs/s = documents / the run's wall seconds (manifest), median of passes; the encoder is loaded "
        "by a warm-up run before the passes (a per-process fixed cost), the automaton and gate are built "
        "inside each pass. classify_all is timed on the first classify_all_docs documents of the sample.",
        "methods": results,
        "ratios": ratios,
        "quality_web_dev": quality,
        "pool_windows": pool_windows(cfg, args.web_data) if args.pool_windows else None,
    }
    print(render_web_table(doc))
    out = args.json or RESULTS / f"pipeline-web-{time.strftime('%Y-%m-%d')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


def render_web_table(doc: dict) -> str:
    res, q = doc["methods"], doc.get("quality_web_dev") or {}
    f = res["filterkit"]
    lines = [
        f"web crawl sample: {f['docs']:,} docs ({f['mb']:.1f} MB), classify_all on {res['classify_all']['docs']:,}; "
        f"{f['passes']} passes, medians; {f['device']}; load average {doc['load_average_start'][0]:.1f} -> "
        f"{doc['load_average_end'][0]:.1f} on {doc['cpus']} cores",
        "",
        (
            "| method | docs/s | MB/s | x filterkit | escalated | windows / 1k docs | removed | precision (strict) "
            "| recall (strict) | precision (lenient) | recall (lenient) |"
        ),
        "|---|" + "---|" * 10,
    ]
    for m, r in res.items():
        qm = q.get(m, {})
        cells = [
            m,
            f"{r['docs_per_s']:.1f}",
            f"{r['mb_per_s']:.3f}",
            f"{f['docs_per_s'] / r['docs_per_s']:.2f}",
            f"{r['escalation_rate']:.1%}",
            f"{r['windows_per_1k_docs']:,.0f}",
            f"{r['removed_rate']:.1%}",
        ]
        for reading in ("strict", "lenient"):
            cells += [_fmt(qm.get(reading, {}).get("precision", {})), _fmt(qm.get(reading, {}).get("recall", {}))]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "seconds per stage (median pass; classifier split by the encoder's own timers):", ""]
    keys = list(dict.fromkeys(k for r in res.values() for k in r["seconds_split"]))
    lines += ["| stage | " + " | ".join(res) + " |", "|---|" + "---|" * len(res)]
    for k in keys:
        lines.append(
            f"| {k} | "
            + " | ".join(
                f"{r['seconds_split'].get(k, 0.0):.2f} ({r['seconds_split'].get(k, 0.0) / sum(r['wall_seconds']) * len(r['wall_seconds']):.0%})"
                for r in res.values()
            )
            + " |"
        )
    lines.append("| wall | " + " | ".join(f"{_median(r['wall_seconds']):.2f}" for r in res.values()) + " |")
    prof = f.get("cheap_profile")
    if prof:
        lines += [
            "",
            "filterkit cheap stage, profiled apart on the same input (seconds): "
            + ", ".join(f"{k} {v:.2f}" for k, v in prof.items()),
        ]
    pw = doc.get("pool_windows")
    if pw:
        lines += [
            "",
            f"whole pool ({pw['docs']:,} docs, {pw['mb']:.0f} MB), no forward pass: "
            + "; ".join(
                f"{m} escalates {pw[m]['escalation_rate']:.1%}, {pw[m]['windows_per_1k_docs']:,.0f} windows/1k docs"
                for m in METHODS
            )
            + f"; filterkit's gate-only escalations: {pw['filterkit']['windows_per_1k_docs_gate_only']:,.0f} windows/1k docs",
        ]
    if "skipped" in q:
        lines.append(f"quality skipped: {q['skipped']}")
    return "\n".join(lines)


def _kept_rows(out: Path, id_col: str = "id") -> list[tuple[str, str, str]]:
    """(shard, row id, text sha256) of every kept row, in shard and row order."""
    import hashlib

    rows = []
    for f in sorted((out / "kept").glob("*.parquet")):
        t = pq.read_table(f, columns=[id_col, "text"])
        rows += [
            (f.name, str(i), hashlib.sha256(x.encode()).hexdigest())
            for i, x in zip(t.column(0).to_pylist(), t.column(1).to_pylist())
        ]
    return rows


SCALE_EXECUTORS = {
    "local_t1_w1": {"kind": "local", "tasks": 1, "workers": 1},
    "local_t4_w2": {"kind": "local", "tasks": 4, "workers": 2},
    "ray_t4_w2": {"kind": "ray", "tasks": 4, "workers": 2, "ray": {"cpus_per_task": 1, "mem_per_cpu_gb": 1}},
}


def scale(args: argparse.Namespace) -> None:
    """The shipped pipeline on one input under each executor: same kept rows, and docs/s for each."""
    import yaml

    from filterkit.config import load_config

    cfg = load_config(args.pipeline)
    head = _header(args)
    sample = web_sample(args.web_data, args.docs, args.seed)
    results, reference = {}, None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mb = write_shards_of(sample, tmp / "in")
        for name, ex in SCALE_EXECUTORS.items():
            d = cfg.model_dump(mode="json")
            d["executor"] = ex
            y = tmp / f"{name}.yaml"
            y.write_text(yaml.safe_dump(d))
            walls, kept, files, errors = [], None, None, []
            for p in range(args.scale_passes):
                out = tmp / f"out-{name}-{p}"
                for attempt in range(3):  # a local Ray head waits 30 s for its raylet: a loaded machine misses that
                    r = subprocess.run(
                        [
                            sys.executable,
                            "-m",
                            "filterkit.cli",
                            "run",
                            str(tmp / "in"),
                            "-p",
                            str(y),
                            "-o",
                            str(out),
                            "--quiet",
                            "--no-report",
                        ],
                        cwd=ROOT,
                        capture_output=True,
                        text=True,
                        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
                    )
                    if r.returncode == 0:
                        break
                    errors.append((r.stderr.strip().splitlines() or ["(no stderr)"])[-1])
                    print(f"{name}: attempt {attempt + 1} failed: {errors[-1]}", file=sys.stderr, flush=True)
                if r.returncode != 0:
                    break
                m = json.loads((out / "manifest.json").read_text())
                walls.append(m["timing"]["wall_seconds"])
                kept = _kept_rows(out, cfg.input.id_column)
                files = {s["shard"]: s["outputs"]["kept"]["sha256"] for s in m["shards"]}
            if not walls:
                results[name] = {"executor": ex, "docs": len(sample), "failed": errors}
                continue
            reference = reference or (kept, files)
            med = _median(walls)
            results[name] = {
                "executor": ex,
                "docs": len(sample),
                "wall_seconds": walls,
                "docs_per_s": len(sample) / med,
                "mb_per_s": mb / med,
                "kept_rows": len(kept),
                "kept_rows_identical": kept == reference[0],
                "kept_files_identical": files == reference[1],
                "failed_attempts": errors,
            }
            print(f"{name}: {results[name]['docs_per_s']:.1f} docs/s", file=sys.stderr, flush=True)
    doc = {
        **head,
        "load_average_end": os.getloadavg(),
        "mode": "scale",
        "sample_docs": args.docs,
        "shards": SHARDS,
        "note": "docs/s = documents / the run's wall seconds (manifest: includes each worker's model loading and, "
        "for Ray, starting the local cluster); kept rows compared as (shard, row id, text sha256)",
        "executors": results,
    }
    print(
        f"scale-out: {len(sample):,} web docs in {SHARDS} shards; {args.scale_passes} pass(es); load average "
        f"{head['load_average_start'][0]:.1f} -> {doc['load_average_end'][0]:.1f} on {head['cpus']} cores\n"
    )
    print(
        "| executor | docs/s | MB/s | x local 1/1 | kept rows | same kept rows | same kept files |\n|---|---|---|---|---|---|---|"
    )
    b = results["local_t1_w1"]["docs_per_s"]
    for name, r in results.items():
        if "failed" in r:
            print(f"| {name} | failed: {r['failed'][-1]} | | | | | |")
            continue
        print(
            f"| {name} | {r['docs_per_s']:.1f} | {r['mb_per_s']:.3f} | {r['docs_per_s'] / b:.2f} | {r['kept_rows']:,} "
            f"| {r['kept_rows_identical']} | {r['kept_files_identical']} |"
        )
    out = args.json or RESULTS / f"pipeline-scale-{time.strftime('%Y-%m-%d')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--web", action="store_true", help="real web crawl: filterkit vs Deep Ignorance's rule vs classify-everything"
    )
    ap.add_argument("--scale", action="store_true", help="the same input under local 1/1, local 4/2 and Ray executors")
    ap.add_argument("--docs", type=int, help="documents (default: 4000 generated; 1500 web sample; 1000 for --scale)")
    ap.add_argument("--all-docs", type=int, default=400, help="--web: documents classify-everything is timed on")
    ap.add_argument("--passes", type=int, default=3, help="--web: timed passes per method (medians reported)")
    ap.add_argument("--scale-passes", type=int, default=1, help="--scale: passes per executor")
    ap.add_argument("--seed", type=int, default=0, help="the web sample's seed (and the bootstrap's)")
    ap.add_argument("--web-data", type=Path, default=WEB)
    ap.add_argument("--web-labels", type=Path, default=WEB_LABELS)
    ap.add_argument("--no-quality", action="store_true", help="--web: skip the labelled web dev split")
    ap.add_argument(
        "--pool-windows",
        action="store_true",
        help="--web: also count each method's escalation and windows over the whole pool (no forward pass)",
    )
    ap.add_argument(
        "--score-missing",
        action="store_true",
        help="--web: score dev pages the score cache lacks (slow on CPU) instead of reporting incomplete",
    )
    ap.add_argument(
        "--quality-only",
        action="store_true",
        help="--web: add the web dev quality to the JSON of an earlier --no-quality run (--json)",
    )
    ap.add_argument("--shards", default="1,20", help="generated shards: comma-separated shard counts to compare")
    ap.add_argument("--pipeline", type=Path, default=ROOT / "pipelines" / "biorisk.yaml")
    ap.add_argument("--news", type=Path, default=NEWS, help="real general-domain text mixed in when present")
    ap.add_argument("--json", type=Path)
    for a in ("--child", "--child-input", "--child-warm", "--child-out"):
        ap.add_argument(a, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.web:
        if args.quality_only and not (args.json and args.json.is_file()):
            raise SystemExit("--quality-only needs --json naming the JSON of an earlier --web --no-quality run")
        args.docs = args.docs or 1500
        return web(args)
    if args.scale:
        args.docs = args.docs or 1000
        return scale(args)
    args.docs = args.docs or 4000
    synthetic(args)


if __name__ == "__main__":
    main()
