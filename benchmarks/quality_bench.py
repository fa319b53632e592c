"""Filter quality on real labelled text: per stage, for the whole cascade, per source, under obfuscation.

    python benchmarks/quality_bench.py [--labels FILE] [--pipeline YAML] [--json FILE]

Defaults: labels ``../shared/data/real/dev.parquet``, pipeline ``pipelines/biorisk.yaml``. The pipeline is
applied as a run applies it: the cheap stage's escalation rule (:mod:`filterkit.match.escalation`) and the
classifier at the pipeline's threshold on the escalated documents only (a document never escalated is
kept whatever its score). Reported, each with a bootstrap 95% interval:

* escalation recall and cascade recall on positives; false-positive rate on ``general``; removal rate of
  ``bio_med`` (collateral damage); escalation and removal on AG News (all negatives) and on the team's
  general texts; per-source recall; short texts (MedMCQA microbiology questions, ``questions.parquet``
  dev split) when present;
* the classifier alone on every labelled document: PR-AUC, ROC-AUC, ECE;
* obfuscation: cascade recall on the positives rewritten by each variant below (the generator lives here);
* the cheap stage's speed on AG News on one core (median of several passes);
* ``web``: precision (strict / lenient), recall and non-proxy removal on the labelled web dev split, per source,
  weighted back to the web pool by the stratified estimator (``benchmarks/quality_web.py``; skipped with its reason
  when ``labels/web/`` or ``../shared/data/web`` is absent; ``--only-web`` runs this section alone).

Classifier scores are cached per (classifier, settings, text) under ``~/.cache/filterkit/quality_bench``, so
a second run with another escalation rule or threshold takes seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.quality_web import render_web, web_section  # noqa: E402
from filterkit.config import load_config  # noqa: E402
from filterkit.contract import Rule, decide_many  # noqa: E402
from filterkit.match.escalation import Escalator  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
CACHE = Path.home() / ".cache" / "filterkit" / "quality_bench"

# ----------------------------------------------------------------------------------- obfuscation variants
# Benign character-level rewrites of existing documents: what an uploader does to slip text past a filter.
_CYRILLIC = str.maketrans("aceopxyisj", "асеорхуіѕј")
_LEET = str.maketrans("aeiost", "431057")


def _inside_words(text: str, insert: str, rng: random.Random) -> str:
    out = []
    for w in text.split(" "):
        if sum(c.isalpha() for c in w) >= 4:
            k = rng.randint(1, len(w) - 1)
            w = w[:k] + insert + w[k:]
        out.append(w)
    return " ".join(out)


def _split_terms(text: str, rng: random.Random, terms: frozenset[str]) -> str:
    out = []
    for w in text.split(" "):
        core = w.strip(".,;:()[]\"'!?").lower()
        if len(core) >= 5 and core in terms:
            k = rng.randint(2, len(w) - 2) if len(w) > 4 else 1
            w = w[:k] + " " + w[k:]
        out.append(w)
    return " ".join(out)


def _leet(text: str, rng: random.Random, share: float = 0.3) -> str:
    return " ".join(w.translate(_LEET) if rng.random() < share else w for w in text.split(" "))


def variants(texts: list[str], terms: frozenset[str], boilerplate: str, seed: int = 0) -> dict[str, list[str]]:
    """Each variant of each text, deterministic per seed."""

    def each(fn):
        return [fn(t, random.Random(seed * 1_000_003 + i)) for i, t in enumerate(texts)]

    return {
        "clean": list(texts),
        "zero_width": each(lambda t, r: _inside_words(t, "\u200b", r)),
        "soft_hyphen": each(lambda t, r: _inside_words(t, "\u00ad", r)),
        "homoglyphs": [t.translate(_CYRILLIC) for t in texts],
        "split_terms": each(lambda t, r: _split_terms(t, r, terms)),
        "all_caps": [t.upper() for t in texts],
        "leetspeak_30": each(_leet),
        "boilerplate_3000": [boilerplate + "\n\n" + t for t in texts],
    }


# ------------------------------------------------------------------------------------------- statistics


def boot(mask: np.ndarray, n_boot: int = 1000, seed: int = 0) -> dict:
    """A proportion with its percentile bootstrap 95% interval."""
    mask = np.asarray(mask, dtype=bool)
    n = len(mask)
    if n == 0:
        return {"value": None, "n": 0, "ci95": None}
    rng = np.random.default_rng(seed)
    draws = mask[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    return {
        "value": float(mask.mean()),
        "n": int(n),
        "ci95": [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))],
    }


# ------------------------------------------------------------------------------------------------- scoring


class CachedScorer:
    """The pipeline's classifier, scoring as a run does, with a per-text cache on disk."""

    def __init__(self, cfg) -> None:
        from filterkit.classify.registry import read_classifier_info

        c = cfg.classifier
        self.cfg = c
        self.pipeline = cfg
        self.info = read_classifier_info(c.path)
        self.rule = Rule.from_config(cfg, self.info.threshold)  # the run's keep/remove rule
        self.threshold = self.rule.threshold
        # gate-only escalations may need more (Rule.threshold_for)
        self.gate_only_threshold = self.rule.threshold_for("gate")
        from filterkit.classify.scoring_path import resolve_runtime

        # the runtime that will score (auto resolved); torch/fp32 keeps the old key so earlier caches still hit
        ran = list(resolve_runtime(c.device, c.runtime, c.precision, c.cpu_int8)[1:])
        from filterkit.io import file_sha256

        # keyed on what moves scores (weights, head shape, settings), not on the threshold: re-tuning hits the cache
        weights = sorted(p for p in Path(c.path).iterdir() if p.suffix in (".safetensors", ".ftz", ".bin"))
        shape = {
            k: v
            for k, v in self.info.config.items()
            if k not in ("threshold", "threshold_rule", "training", "name", "tuned_runtime")
        }
        key = json.dumps(
            [[file_sha256(p) for p in weights], shape, c.max_tokens, c.long_docs, c.cpu_int8, str(c.encoder_path)]
            + (ran if ran != ["torch", "fp32"] else []),
            sort_keys=True,
            default=str,
        )
        self.file = CACHE / f"scores-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
        self.cache: dict[str, float] = json.loads(self.file.read_text()) if self.file.is_file() else {}
        self._model = None
        self.seconds = 0.0
        self.scored = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest()[:32] for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in self.cache}.items())
        if todo:
            if self._model is None:
                from filterkit.stages.classifier import ClassifierStage

                self._model = ClassifierStage.from_config(self.pipeline).model  # exactly as a run loads it
            t0 = time.perf_counter()
            for i in range(0, len(todo), 512):
                part = todo[i : i + 512]
                res = self._model.score([t for _, t in part])
                for (k, _), r in zip(part, res):
                    # an unscorable document is removed by the default on_error: remove
                    self.cache[k] = 1.0 if r.score is None else float(r.score)
                self.file.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.file.with_suffix(".tmp")
                tmp.write_text(json.dumps(self.cache))
                tmp.replace(self.file)
            self.seconds += time.perf_counter() - t0
            self.scored += len(todo)
        return np.asarray([self.cache[k] for k in keys], dtype=float)


def cascade(texts: list[str], esc: Escalator, scorer: CachedScorer) -> dict[str, np.ndarray]:
    """Escalated and removed per document, as a run decides."""
    e = esc(texts)
    scores = np.full(len(texts), np.nan)
    idx = np.flatnonzero(e.escalated)
    if len(idx):
        scores[idx] = scorer([texts[i] for i in idx])
    removed = decide_many(scorer.rule, e.escalated_by(), scores) != ""  # the run's own rule
    return {"escalated": e.escalated, "by_terms": e.by_terms, "removed": removed, "scores": scores}


def cheap_stage_speed(esc: Escalator, texts: list[str], passes: int = 5) -> dict:
    """Docs/s of the cheap stage on one core (torch and tokenizers limited to one thread)."""
    import torch

    torch.set_num_threads(1)
    esc(texts[:200])  # load the automaton and the gate outside the timing
    runs = []
    for _ in range(passes):
        t0 = time.perf_counter()
        esc(texts)
        runs.append(len(texts) / (time.perf_counter() - t0))
    return {
        "docs_per_s_median": statistics.median(runs),
        "docs_per_s_range": [min(runs), max(runs)],
        "docs": len(texts),
        "mb": sum(len(t.encode()) for t in texts) / 1e6,
        "passes": passes,
    }


# ---------------------------------------------------------------------------------------------------- main


def _read(path: Path, split: str | None = None):
    t = pq.read_table(path).to_pandas()
    if split is not None and "split" in t.columns:
        t = t[t["split"] == split]
    return t.reset_index(drop=True)


def _cascade_parts(args):
    cfg = load_config(args.pipeline)
    if not cfg.blocklist.enabled or not cfg.classifier.enabled or cfg.blocklist.mode != "escalate":
        raise SystemExit(
            "quality_bench measures the escalate cascade: enable the blocklist (mode: escalate) and the classifier"
        )
    return cfg, Escalator(cfg.blocklist, cfg.semantic_gate), CachedScorer(cfg)


def web(args, esc: Escalator, scorer: CachedScorer) -> dict:
    """The web section: the cascade's removals on the labelled web dev split, through the stratified estimator."""
    return web_section(
        Path(args.web_labels), Path(args.web_data), lambda texts: cascade(texts, esc, scorer)["removed"], seed=args.seed
    )


def evaluate(args) -> dict:
    from filterkit.match.blocklist import normalize, read_terms

    cfg, esc, scorer = _cascade_parts(args)
    lab = _read(Path(args.labels))
    y = lab["label"].to_numpy().astype(int)
    group = lab["group"].astype(str).to_numpy() if "group" in lab else np.where(y == 1, "proxy", "general")
    source = lab["source"].astype(str).to_numpy() if "source" in lab else np.full(len(y), "labels")
    texts = lab["text"].tolist()
    pos = y == 1
    res: dict = {
        "labels": str(args.labels),
        "pipeline": str(args.pipeline),
        "documents": len(y),
        "positives": int(pos.sum()),
        "classifier": scorer.info.name,
        "threshold": scorer.threshold,
        "gate_only_threshold": scorer.gate_only_threshold if scorer.gate_only_threshold != scorer.threshold else None,
        "semantic_gate": esc.gate_threshold is not None,
        "gate_threshold": esc.gate_threshold,
    }

    c = cascade(texts, esc, scorer)
    res["escalation_recall"] = boot(c["escalated"][pos])
    res["term_escalation_recall"] = boot(c["by_terms"][pos])
    res["cascade_recall"] = boot(c["removed"][pos])
    res["fpr_general"] = boot(c["removed"][group == "general"])
    res["escalated_general"] = boot(c["escalated"][group == "general"])
    res["collateral_bio_med"] = boot(c["removed"][group == "bio_med"])
    res["escalated_bio_med"] = boot(c["escalated"][group == "bio_med"])
    res["per_source"] = {
        s: {
            "positives": int((pos & (source == s)).sum()),
            "escalation_recall": boot(c["escalated"][pos & (source == s)])["value"],
            "cascade_recall": boot(c["removed"][pos & (source == s)]),
        }
        for s in sorted(set(source[pos]))
    }
    worst = min(res["per_source"].items(), key=lambda kv: kv[1]["cascade_recall"]["value"])
    res["worst_source"] = {"source": worst[0], "cascade_recall": worst[1]["cascade_recall"]["value"]}

    if not args.no_classifier_auc:  # the classifier alone on every document: ranking and calibration
        from filterkit.evaluate.metrics import auc_pair, calibration_bins, expected_calibration_error

        s = scorer(texts)
        res["classifier_alone"] = {
            **auc_pair(s, y),
            "ece": expected_calibration_error(calibration_bins(s, y)),
            "recall_at_threshold": float((s[pos] >= scorer.threshold).mean()),
            "fpr_general_at_threshold": float((s[group == "general"] >= scorer.threshold).mean()),
        }

    if args.questions and Path(args.questions).is_file():
        q = _read(Path(args.questions), split="dev")
        qy = q["label"].to_numpy().astype(int)
        qc = cascade(q["text"].tolist(), esc, scorer)
        res["short_texts"] = {
            "file": str(args.questions),
            "split": "dev",
            "positives": int(qy.sum()),
            "escalation_recall": boot(qc["escalated"][qy == 1]),
            "cascade_recall": boot(qc["removed"][qy == 1]),
            "removed_negatives": boot(qc["removed"][qy == 0]),
        }
    if args.news and Path(args.news).is_file():
        news = pq.read_table(args.news, columns=["text"]).column("text").to_pylist()
        nc = cascade(news, esc, scorer)
        res["news_escalated"] = boot(nc["escalated"])
        res["news_removed"] = boot(nc["removed"])
        res["cheap_stage_speed"] = cheap_stage_speed(esc, news, passes=args.passes)
    if args.team and Path(args.team).is_file():
        t = _read(Path(args.team))
        tg = t["group"].astype(str).to_numpy()
        tc = cascade(t["text"].tolist(), esc, scorer)
        res["team_general_removed"] = boot(tc["removed"][tg == "general"])

    if not args.no_obfuscation:
        terms = frozenset(x for x in (normalize(t) for t in read_terms(cfg.blocklist.path)) if " " not in x)
        ptexts = [texts[i] for i in np.flatnonzero(pos)]
        general = [texts[i] for i in np.flatnonzero(group == "general")]
        words: list[str] = []
        for g in general:
            words += g.split()
            if len(words) >= 3000:
                break
        boiler = " ".join(words[:3000])
        obf = {}
        for name, vt in variants(ptexts, terms, boiler, seed=args.seed).items():
            if name == "boilerplate_3000" and args.boilerplate_sample < len(vt):
                pick = np.random.default_rng(args.seed).choice(len(vt), args.boilerplate_sample, replace=False)
                vt = [vt[i] for i in sorted(pick)]
            vc = cascade(vt, esc, scorer)
            obf[name] = {"escalation_recall": boot(vc["escalated"]), "cascade_recall": boot(vc["removed"])}
        res["obfuscation"] = {k: v["cascade_recall"]["value"] for k, v in obf.items()}
        res["obfuscation_detail"] = obf
    if not args.no_web:
        res["web"] = web(args, esc, scorer)
    res["classifier_seconds"] = scorer.seconds
    res["classifier_docs_scored"] = scorer.scored
    return res


def _f(p: dict | None) -> str:
    if not p or p.get("value") is None:
        return "n/a"
    lo, hi = p["ci95"]
    return f"{p['value']:.3f} [{lo:.3f}, {hi:.3f}]"


def render(res: dict) -> str:
    lines = [
        f"quality_bench: {res['pipeline']} on {res['labels']} ({res['documents']} docs, {res['positives']} positive); "
        f"classifier {res['classifier']} at t = {res['threshold']:.3f}"
        + (
            f" (gate-only escalations: {res['gate_only_threshold']:.3f})"
            if res.get("gate_only_threshold") is not None
            else ""
        )
        + (f"; semantic gate at {res['gate_threshold']:.3f}" if res["semantic_gate"] else "; no semantic gate"),
        "",
        "| metric | value [95% CI] |",
        "|---|---|",
    ]
    for k in (
        "escalation_recall",
        "term_escalation_recall",
        "cascade_recall",
        "fpr_general",
        "escalated_general",
        "collateral_bio_med",
        "escalated_bio_med",
        "news_escalated",
        "news_removed",
        "team_general_removed",
    ):
        if k in res:
            lines.append(f"| {k} | {_f(res[k])} |")
    if "short_texts" in res:
        st = res["short_texts"]
        lines += [
            f"| short texts: escalation recall | {_f(st['escalation_recall'])} |",
            f"| short texts: cascade recall | {_f(st['cascade_recall'])} |",
            f"| short texts: negatives removed | {_f(st['removed_negatives'])} |",
        ]
    if "classifier_alone" in res:
        ca = res["classifier_alone"]
        lines.append(
            f"| classifier alone: PR-AUC / ROC-AUC / ECE | {ca['pr_auc']:.3f} / {ca['roc_auc']:.3f} / {ca['ece']:.3f} |"
        )
    if "cheap_stage_speed" in res:
        sp = res["cheap_stage_speed"]
        lines.append(
            f"| cheap stage, 1 core, AG News | {sp['docs_per_s_median']:,.0f} docs/s (range "
            f"{sp['docs_per_s_range'][0]:,.0f}-{sp['docs_per_s_range'][1]:,.0f}) |"
        )
    lines += ["", "| source | positives | escalation recall | cascade recall [95% CI] |", "|---|---|---|---|"]
    for s, v in res["per_source"].items():
        lines.append(f"| {s} | {v['positives']} | {v['escalation_recall']:.3f} | {_f(v['cascade_recall'])} |")
    if "obfuscation_detail" in res:
        lines += ["", "| variant | escalation recall | cascade recall [95% CI] |", "|---|---|---|"]
        for k, v in res["obfuscation_detail"].items():
            lines.append(f"| {k} | {v['escalation_recall']['value']:.3f} | {_f(v['cascade_recall'])} |")
    if "web" in res:
        lines += ["", render_web(res["web"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", default=str(SHARED / "real" / "dev.parquet"))
    ap.add_argument("--pipeline", default=str(ROOT / "pipelines" / "biorisk.yaml"))
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--questions", default=str(SHARED / "real" / "questions.parquet"), help="short texts (dev split)")
    ap.add_argument("--news", default=str(SHARED / "ag_news_test.parquet"))
    ap.add_argument("--team", default=str(ROOT / "sample_data" / "labelled" / "test.parquet"))
    ap.add_argument("--boilerplate-sample", type=int, default=150, help="positives in the 3,000-word variant")
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-obfuscation", action="store_true")
    ap.add_argument("--no-classifier-auc", action="store_true")
    ap.add_argument("--web-labels", default=str(ROOT / "labels" / "web"), help="labels.jsonl, split.json, strata.json")
    ap.add_argument("--web-data", default=str(SHARED / "web"), help="the web pool's parquet files (texts by id)")
    ap.add_argument("--no-web", action="store_true")
    ap.add_argument("--only-web", action="store_true", help="the web section alone (no real/dev, news, obfuscation)")
    args = ap.parse_args(argv)
    # one core for the cheap stage's speed: the tokenizers' thread pool reads these at first use
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.only_web:
        _, esc, scorer = _cascade_parts(args)
        res = {"web": web(args, esc, scorer), "classifier_seconds": scorer.seconds}
        print(render_web(res["web"]))
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        return 0
    if not Path(args.labels).is_file():
        print(
            f"{args.labels}: labels file not found; this benchmark needs ../shared/data/real/dev.parquet or --labels",
            file=sys.stderr,
        )
        return 2
    res = evaluate(args)
    print(render(res))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
