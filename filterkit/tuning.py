"""Choosing and defending a classifier threshold on a labelled set (``filterkit tune``).

A threshold is a claim about recall and collateral damage on data nobody has labelled yet, so a bare
point estimate is not enough: every rate comes with a bootstrap 95% interval, the removal rate of each
labelled group (e.g. ``biomed_negative``, ``lexical_trap``) is shown beside the headline numbers, and with
a pipeline config the whole cascade is measured — a document the blocklist never escalates is kept
whatever its score, so the classifier's recall alone overstates what a run removes.

Scores are computed exactly as a run computes them (max over windows; a document that cannot be scored
counts as 1.0, i.e. removed — the pipeline's fail-closed default), and nothing here uses global random
state: the bootstrap draws from ``np.random.default_rng(seed)``, so the same inputs give the same report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from filterkit.errors import FilterkitError
from filterkit.training import binary_metrics, load_labels, threshold_for_recall

RATE_KEYS = ("precision", "recall", "fpr", "f1")
PLOTS = ("pr_curve.png", "roc_curve.png", "calibration.png", "score_hist.png")


# --------------------------------------------------------------------------------------------- metrics


def _midpoint_below(scores: np.ndarray, t: float) -> float:
    """Move a threshold sitting on a document's score halfway to the next lower score.

    Same rule as :func:`threshold_for_recall`: identical decisions on this data, a margin for new data.
    """
    below = scores[scores < t]
    return (t + float(below.max())) / 2 if len(below) else float(t)


def max_f1_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The threshold with the highest F1 on this data (ties: the highest such threshold), midpoint rule.

    Reported beside the target-recall threshold so a reader sees what the recall target costs in precision.
    """
    order = np.argsort(-scores, kind="stable")
    s, lab = scores[order], y[order]
    tp = np.cumsum(lab)
    fp = np.cumsum(1 - lab)
    last = np.r_[s[1:] != s[:-1], True]  # predicting positive for every score >= s[i] of a distinct value
    f1 = 2 * tp[last] / (tp[last] + fp[last] + lab.sum())  # 2TP / (2TP + FP + FN), FN = P - TP
    return _midpoint_below(scores, float(s[last][int(np.argmax(f1))]))


def rates(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Precision, recall, FPR and F1 of boolean predictions; ``nan`` where a rate is undefined.

    Unlike :func:`binary_metrics` (which reports 0.0), an undefined rate is ``nan`` so a bootstrap
    resample with no predicted positives does not drag a precision interval towards zero.
    """
    pos = y == 1
    tp = float(np.sum(pred & pos))
    fp = float(np.sum(pred & ~pos))
    fn = float(np.sum(~pred & pos))
    tn = float(np.sum(~pred & ~pos))
    nan = float("nan")
    return {
        "precision": tp / (tp + fp) if tp + fp else nan,
        "recall": tp / (tp + fn) if tp + fn else nan,
        "fpr": fp / (fp + tn) if fp + tn else nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else nan,
    }


def auc_pair(scores: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """ROC-AUC and PR-AUC (average precision); ``nan`` when ``y`` holds one class only."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if y.min() == y.max():
        return {"roc_auc": float("nan"), "pr_auc": float("nan")}
    return {"roc_auc": float(roc_auc_score(y, scores)), "pr_auc": float(average_precision_score(y, scores))}


def bootstrap_ci(
    stat: Callable[[np.ndarray], dict[str, float]], n: int, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, list[float] | None]:
    """Percentile intervals of ``stat(indices)`` over ``n_boot`` resamples of ``n`` documents with replacement.

    ``stat`` returns several named statistics per resample, so all of them are computed on the same
    resamples (paired intervals). ``nan`` values (a rate undefined in that resample) are left out; a
    statistic that is never defined gets ``None``. Only ``np.random.default_rng(seed)`` is used.
    """
    if n < 1 or n_boot < 1:
        raise FilterkitError(f"bootstrap needs at least one document and one resample (got n={n}, n_boot={n_boot})")
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        for k, v in stat(rng.integers(0, n, size=n)).items():
            draws.setdefault(k, []).append(v)
    alpha = (1 - level) / 2 * 100
    out: dict[str, list[float] | None] = {}
    for k, vals in draws.items():
        a = np.asarray(vals, dtype=float)
        a = a[~np.isnan(a)]
        out[k] = [float(np.percentile(a, alpha)), float(np.percentile(a, 100 - alpha))] if len(a) else None
    return out


def calibration_bins(
    scores: np.ndarray, y: np.ndarray, n_bins: int = 10, lo: float = 0.0
) -> list[dict[str, Any]]:
    """Equal-width reliability bins on [``lo``, 1]: count, mean score and fraction positive per bin.

    Scores are probabilities only if these agree; the bins are kept (not just the ECE) so the report can
    show where they disagree and how many documents each bin rests on. ``n_bins=1, lo=threshold`` gives
    the same numbers for the documents a threshold removes.
    """
    keep = scores >= lo
    scores, y = scores[keep], y[keep]
    span = 1.0 - lo
    pos = (scores - lo) * n_bins / span if span > 0 else np.zeros(len(scores))
    idx = np.clip(np.floor(pos).astype(np.int64), 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        m = idx == b
        c = int(m.sum())
        bins.append(
            {
                "lo": lo + span * b / n_bins,
                "hi": lo + span * (b + 1) / n_bins,
                "count": c,
                "mean_score": float(scores[m].mean()) if c else None,
                "frac_pos": float(y[m].mean()) if c else None,
            }
        )
    return bins


def expected_calibration_error(bins: Sequence[dict[str, Any]]) -> float:
    """Count-weighted mean of |fraction positive − mean score| over non-empty bins."""
    n = sum(b["count"] for b in bins)
    if n == 0:
        return float("nan")
    return float(sum(b["count"] * abs(b["frac_pos"] - b["mean_score"]) for b in bins if b["count"]) / n)


def wilson_interval(k: int, n: int, z: float = 1.96) -> list[float] | None:
    """95% Wilson interval of a proportion: sane at 0/n and n/n, where small groups usually sit."""
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [float(max(0.0, c - h)), float(min(1.0, c + h))]


def group_removal(groups: Sequence[Any], y: np.ndarray, removed: np.ndarray) -> dict[str, dict[str, Any]]:
    """Removal rate per labelled group, so collateral damage on hard negatives is visible, not averaged away."""
    names = np.asarray(["(none)" if g is None else str(g) for g in groups], dtype=object)
    out: dict[str, dict[str, Any]] = {}
    for g in sorted(set(names)):
        m = names == g
        n, k = int(m.sum()), int(removed[m].sum())
        out[g] = {
            "n": n,
            "n_pos": int(y[m].sum()),
            "removed": k,
            "removal_rate": k / n,
            "ci95": wilson_interval(k, n),
        }
    return out


def _frac(mask: np.ndarray) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def cascade_decisions(
    scores: np.ndarray,
    unique: np.ndarray | None,
    min_unique_hits: int,
    threshold: float,
    mode: str = "escalate",
    classifier_enabled: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Which documents the blocklist escalates and which the run removes, mirroring the runner.

    ``unique`` is each document's unique blocklist-term count, or ``None`` when the blocklist is off
    (every document reaches the classifier). ``mode="remove"`` removes every escalated document;
    ``mode="escalate"`` removes escalated documents scoring ≥ ``threshold``.
    """
    escalated = np.ones(len(scores), dtype=bool) if unique is None else unique >= min_unique_hits
    if mode == "remove":
        return escalated, escalated.copy()
    if classifier_enabled:
        return escalated, escalated & (scores >= threshold)
    return escalated, np.zeros(len(scores), dtype=bool)


def cascade_metrics(
    y: np.ndarray,
    scores: np.ndarray,
    unique: np.ndarray | None,
    min_unique_hits: int,
    threshold: float,
    mode: str = "escalate",
    classifier_enabled: bool = True,
) -> dict[str, Any]:
    """What a run with this pipeline removes: a positive the blocklist never escalates is kept whatever
    its score, so the cascade's recall is at most the escalation recall."""
    escalated, removed = cascade_decisions(scores, unique, min_unique_hits, threshold, mode, classifier_enabled)
    pos = y == 1
    return {
        "mode": mode,
        "min_unique_hits": int(min_unique_hits),
        "threshold": float(threshold),
        "escalation_recall": _frac(escalated[pos]),
        "escalation_rate_neg": _frac(escalated[~pos]),
        "escalated": int(escalated.sum()),
        "removed": int(removed.sum()),
        **rates(removed, y),
    }


# ------------------------------------------------------------------------------------------- scoring


def score_documents(
    classifier: str | Path, texts: list[str], device: str = "auto", **load_kw: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Document scores as a run computes them, and a mask of documents that could not be scored.

    An unscorable document gets 1.0: the pipeline removes it (``on_error: remove``), so it is a removal
    the metrics must count.
    """
    from filterkit.heads import load_classifier

    model = load_classifier(classifier, device=device, **load_kw)
    results = model.score(texts)
    errors = np.asarray([r.error is not None or r.score is None for r in results], dtype=bool)
    scores = np.asarray([1.0 if e else float(r.score) for r, e in zip(results, errors)], dtype=float)
    return scores, errors


# --------------------------------------------------------------------------------------------- plots


def _figure():
    """A figure outside pyplot: no global backend switch or figure registry, so it is safe in a notebook
    or a headless worker alike (the Agg canvas is attached explicitly)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4.5), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _save(fig, path: Path) -> None:
    fig.savefig(path, metadata={"Software": None})


def _fmt_ci(ci: list[float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "[n/a]"


def plot_pr(y: np.ndarray, scores: np.ndarray, res: dict[str, Any], path: Path) -> None:
    """Precision–recall curve with the target-recall and max-F1 operating points."""
    from sklearn.metrics import precision_recall_curve

    prec, rec, _ = precision_recall_curve(y, scores)
    fig, ax = _figure()
    ax.step(rec, prec, where="post", label=f"PR-AUC (AP) = {res['pr_auc']:.3f} {_fmt_ci(res['ci95']['pr_auc'])}")
    ax.axhline(y.mean(), color="grey", ls=":", lw=1, label=f"positive rate = {y.mean():.3f}")
    m = res["max_f1"]
    ax.plot(m["recall"], m["precision"], "s", color="C2", ms=6,
            label=f"max-F1 t = {m['threshold']:.3f}: P = {m['precision']:.3f}, R = {m['recall']:.3f}")
    ax.plot(res["recall"], res["precision"], "o", color="C3", ms=11, mfc="none", mew=2,
            label=f"chosen t = {res['threshold']:.3f} (recall ≥ {res['target_recall']}): "
                  f"P = {res['precision']:.3f}, R = {res['recall']:.3f}")
    ax.set(xlabel="Recall (positives removed)", ylabel="Precision (removed that are positive)",
           xlim=(0, 1.02), ylim=(0, 1.02), title=f"Precision–recall: {res['classifier']} on {res['labels']}")
    ax.legend(loc="lower left", fontsize=7)
    _save(fig, path)


def plot_roc(y: np.ndarray, scores: np.ndarray, res: dict[str, Any], path: Path) -> None:
    """ROC curve with the target-recall and max-F1 operating points."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, scores)
    fig, ax = _figure()
    ax.plot(fpr, tpr, label=f"ROC-AUC = {res['roc_auc']:.3f} {_fmt_ci(res['ci95']['roc_auc'])}")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="chance")
    m = res["max_f1"]
    ax.plot(m["fpr"], m["recall"], "s", color="C2", ms=6,
            label=f"max-F1 t = {m['threshold']:.3f}: FPR = {m['fpr']:.3f}, recall = {m['recall']:.3f}")
    ax.plot(res["fpr"], res["recall"], "o", color="C3", ms=11, mfc="none", mew=2,
            label=f"chosen t = {res['threshold']:.3f} (recall ≥ {res['target_recall']}): "
                  f"FPR = {res['fpr']:.3f}, recall = {res['recall']:.3f}")
    ax.set(xlabel="False-positive rate (negatives removed)", ylabel="True-positive rate (recall)",
           xlim=(-0.01, 1.01), ylim=(0, 1.02), title=f"ROC: {res['classifier']} on {res['labels']}")
    ax.legend(loc="lower right", fontsize=7)
    _save(fig, path)


def plot_calibration(res: dict[str, Any], path: Path) -> None:
    """Reliability diagram: fraction positive against mean score per bin, with each bin's count as a bar."""
    all_bins = res["calibration"]["bins"]
    bins = [b for b in all_bins if b["count"]]
    n = sum(b["count"] for b in bins)
    fig, ax = _figure()
    counts = ax.twinx()  # counts in the bottom third, behind the curve: how much each point rests on
    width = all_bins[0]["hi"] - all_bins[0]["lo"]
    counts.bar([b["lo"] + width / 2 for b in bins], [b["count"] for b in bins], width=width * 0.9,
               color="grey", alpha=0.2)
    for b in bins:
        counts.annotate(str(b["count"]), (b["lo"] + width / 2, b["count"]), textcoords="offset points",
                        xytext=(0, 2), ha="center", fontsize=7, color="dimgrey")
    counts.set_ylim(0, 3.2 * max(b["count"] for b in bins))
    counts.set_ylabel("Documents per bin (grey bars)")
    ax.set_zorder(counts.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfect calibration")
    ax.plot([b["mean_score"] for b in bins], [b["frac_pos"] for b in bins], "o-",
            label=f"head: ECE = {res['calibration']['ece']:.3f} ({len(all_bins)} bins)")
    t = res["threshold"]
    above = res["calibration"]["above_threshold"]
    if above["count"]:
        ax.plot(above["mean_score"], above["frac_pos"], "o", color="C3", ms=11, mfc="none", mew=2,
                label=f"all {above['count']} docs scoring ≥ t: mean score {above['mean_score']:.2f}, "
                      f"{above['frac_pos']:.2f} positive")
    ax.axvline(t, color="C3", ls="--", lw=1, label=f"chosen threshold t = {t:.3f}")
    ax.set(xlabel="Mean classifier score in bin", ylabel="Fraction of documents labelled positive",
           xlim=(-0.02, 1.02), ylim=(-0.02, 1.1),
           title=f"Calibration: ECE = {res['calibration']['ece']:.3f} ({n} scored docs)")
    ax.legend(loc="upper left", fontsize=7)
    _save(fig, path)


def plot_score_hist(y: np.ndarray, scores: np.ndarray, res: dict[str, Any], path: Path) -> None:
    """Score distribution per class (scored documents only): how much room the threshold has on each side."""
    fig, ax = _figure()
    edges = np.linspace(0, 1, 21)
    for label in (0, 1):
        ax.hist(scores[y == label], bins=edges, alpha=0.6, label=f"label {label} (n={int((y == label).sum())})")
    ax.axvline(res["threshold"], color="C3", ls="--", label=f"threshold = {res['threshold']:.3f}")
    ax.set(xlabel="Classifier score (max over windows)", ylabel="Documents",
           title=f"Score distribution by label: {res['labels']}")
    ax.legend(fontsize=7)
    _save(fig, path)


# -------------------------------------------------------------------------------------------- report


def _row(name: str, point: float | None, ci: list[float] | None) -> str:
    """One metric row; ``None`` is an undefined rate (e.g. precision when nothing is removed)."""
    return f"| {name} | {point:.3f} | {_fmt_ci(ci)} |" if point is not None else f"| {name} | n/a | |"


def _run_threshold(res: dict[str, Any]) -> str:
    pt = res["cascade"]["pipeline_threshold"]
    if pt is not None:
        return f"{pt:.3f}, the pipeline's classifier.threshold"
    return f"{res['head_threshold']:.3f}, the head's config.json threshold, as the pipeline sets none"


def render_report(res: dict[str, Any]) -> str:
    """The markdown report: metrics with intervals, per-group removal, the cascade, and the plots."""
    ci, m = res["ci95"], res["max_f1"]
    lines = [
        f"# Threshold tuning: {res['classifier']} on {res['labels']}",
        "",
        f"- labels: `{res['labels']}` (sha256 `{res['labels_sha256'][:16]}…`): {res['n_pos']} positive, "
        f"{res['n_neg']} negative; ignored rows (label not 0/1, or no text): {res['ignored_rows']}; "
        f"unscorable documents, counted as score 1.0 (removed, fail-closed): {res['errors']}",
        f"- target recall: {res['target_recall']}; intervals: bootstrap 95% percentile, {res['n_boot']} resamples "
        f"of documents, seed {res['seed']}",
        "- rates are measured at a threshold chosen on this same set, so they are optimistic for new data; the "
        "threshold interval shows how much the choice itself moves between resamples",
        "",
        "## Metrics",
        "",
        "| metric | value | 95% CI |",
        "|---|---|---|",
        _row("ROC-AUC", res["roc_auc"], ci["roc_auc"]),
        _row("PR-AUC (average precision)", res["pr_auc"], ci["pr_auc"]),
        _row(f"threshold (recall ≥ {res['target_recall']})", res["threshold"], ci["threshold"]),
        *(_row(k, res[k], ci[k]) for k in RATE_KEYS),
        _row("max-F1 threshold", m["threshold"], m["ci95"]["threshold"]),
        *(_row(f"{k} at max-F1", m[k], m["ci95"][k]) for k in RATE_KEYS),
        "",
        f"Calibration: expected calibration error {res['calibration']['ece']:.3f} over "
        f"{len(res['calibration']['bins'])} equal-width bins (unscorable documents left out).",
        "",
    ]
    if res["groups"]:
        with_cascade = res.get("cascade") is not None
        lines += [
            f"## Removal rate per group (classifier at threshold {res['threshold']:.3f})",
            "",
            "| group | docs | positives | removed | removal rate | 95% CI (Wilson) |"
            + (" removed by the cascade | cascade rate |" if with_cascade else ""),
            "|---|---|---|---|---|---|" + ("---|---|" if with_cascade else ""),
        ]
        for g, v in res["groups"].items():
            row = (f"| {g} | {v['n']} | {v['n_pos']} | {v['removed']} | {v['removal_rate']:.3f} | "
                   f"{_fmt_ci(v['ci95'])} |")
            if with_cascade:
                row += f" {v['cascade_removed']} | {v['cascade_removal_rate']:.3f} |"
            lines.append(row)
        lines.append("")
    if res.get("cascade"):
        c = res["cascade"]
        lines += [
            f"## Cascade: `{res['pipeline']}`",
            "",
            f"Blocklist `{c['blocklist']}` (mode `{c['mode']}`, escalates at ≥ {c['min_unique_hits']} unique terms), "
            f"then the classifier **at the threshold tuned here ({c['threshold']:.3f})**, not at the threshold a "
            f"run of this pipeline uses now ({_run_threshold(res)}).",
            "",
            "| metric | value | 95% CI |",
            "|---|---|---|",
            _row("escalation recall (positives escalated)", c["escalation_recall"], c["ci95"]["escalation_recall"]),
            _row("escalation rate among negatives", c["escalation_rate_neg"], c["ci95"]["escalation_rate_neg"]),
            *(_row(f"cascade {k}", c[k], c["ci95"][k]) for k in ("recall", "fpr", "precision", "f1")),
            "",
        ]
        lines += [f"- note: {n}" for n in c["notes"]] + ([""] if c["notes"] else [])
    if res.get("plots"):
        lines += ["## Plots", ""]
        titles = {"pr_curve.png": "Precision–recall", "roc_curve.png": "ROC", "calibration.png": "Calibration",
                  "score_hist.png": "Score distribution"}
        lines += [f"![{titles[p]}]({p})" for p in res["plots"]]
        lines.append("")
    return "\n".join(lines)


def write_report(
    y: np.ndarray, scores: np.ndarray, errors: np.ndarray, res: dict[str, Any], report_dir: str | Path
) -> Path:
    """Write the four plots and ``report.md`` into ``report_dir``; returns the report path.

    Sets ``res["plots"]`` to the image names, so the JSON says what the report links.
    """
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_pr(y, scores, res, out / "pr_curve.png")
    plot_roc(y, scores, res, out / "roc_curve.png")
    plot_calibration(res, out / "calibration.png")
    plot_score_hist(y[~errors], scores[~errors], res, out / "score_hist.png")
    res["plots"] = list(PLOTS)
    path = out / "report.md"
    _write_atomic(path, render_report(res))
    return path


# ------------------------------------------------------------------------------------- writing files


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_classifier_threshold(
    classifier: str | Path, threshold: float, rule: str, tuned_runtime: str | None = None
) -> Path:
    """Set ``threshold`` and ``threshold_rule`` (and ``tuned_runtime``, e.g. ``onnx/int8``: the encoder runtime the
    scores came from; loading on another warns) in a classifier's ``config.json``, keeping every other key.

    Written to a temporary file and renamed, so a crash never leaves a half-written config behind.
    """
    from filterkit.heads import CONFIG_FILE, read_classifier_info

    info = read_classifier_info(classifier)
    config = dict(info.config)
    config["threshold"] = float(threshold)
    config["threshold_rule"] = rule
    if tuned_runtime:
        config["tuned_runtime"] = tuned_runtime
    path = info.path / CONFIG_FILE
    _write_atomic(path, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return path


# ---------------------------------------------------------------------------------------------- tune


def _json_safe(obj: Any) -> Any:
    """Undefined rates (``nan``, e.g. precision when nothing is removed) become ``null``: strict JSON."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _evaluate(
    scores: np.ndarray, y: np.ndarray, target_recall: float, n_boot: int, seed: int,
    cascade: Callable[[np.ndarray, float, np.ndarray | None], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Point estimates and paired bootstrap intervals for both thresholds (and the cascade, if given).

    Rates are bootstrapped at the thresholds chosen on the full set; the thresholds' own intervals come
    from re-choosing them in each resample.
    """
    t = threshold_for_recall(scores, y, target_recall)
    t_f1 = max_f1_threshold(scores, y)
    point = binary_metrics(scores, y, t)
    f1_point = {k: v for k, v in binary_metrics(scores, y, t_f1).items() if k in RATE_KEYS}

    def stat(idx: np.ndarray) -> dict[str, float]:
        s, yy = scores[idx], y[idx]
        out = auc_pair(s, yy)
        out.update(rates(s >= t, yy))
        out.update({f"maxf1.{k}": v for k, v in rates(s >= t_f1, yy).items()})
        two = yy.min() != yy.max()
        out["threshold"] = threshold_for_recall(s, yy, target_recall) if yy.max() == 1 else float("nan")
        out["maxf1.threshold"] = max_f1_threshold(s, yy) if two else float("nan")
        if cascade is not None:
            out.update({f"cascade.{k}": v for k, v in cascade(yy, t, idx).items()})
        return out

    ci = bootstrap_ci(stat, len(y), n_boot, seed)
    res: dict[str, Any] = {
        **point,
        "ci95": {k: v for k, v in ci.items() if "." not in k},
        "max_f1": {"threshold": t_f1, **f1_point,
                   "ci95": {k.split(".", 1)[1]: v for k, v in ci.items() if k.startswith("maxf1.")}},
    }
    res["_cascade_ci"] = {k.split(".", 1)[1]: v for k, v in ci.items() if k.startswith("cascade.")}
    return res


def tune(
    labels: str | Path,
    classifier: str | Path,
    target_recall: float = 0.95,
    pipeline: str | Path | None = None,
    report_dir: str | Path | None = None,
    json_path: str | Path | None = None,
    write_threshold: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
    device: str = "auto",
) -> dict[str, Any]:
    """Score a labelled set, choose the threshold meeting ``target_recall``, and report what it costs.

    Returns (and writes to ``json_path``) a JSON-ready dict: AUCs, the chosen threshold with its
    precision / recall / FPR / F1, bootstrap intervals (``ci95``), the max-F1 alternative, per-group
    removal rates, calibration, and with ``pipeline`` the cascade (blocklist escalation, then the
    classifier at the tuned threshold). With a pipeline, documents are scored with its classifier
    settings (``max_tokens``, ``long_docs``, ``encoder_path``) so the threshold fits what a run computes.
    ``write_threshold`` stores the threshold in the classifier's ``config.json``.
    """
    from filterkit.config import file_sha256, load_config
    from filterkit.heads import read_classifier_info

    if not 0 < target_recall <= 1:
        raise FilterkitError(f"target recall must be in (0, 1], got {target_recall}; pass e.g. 0.95")
    labels, classifier = Path(labels), Path(classifier)
    # every input is checked before anything is encoded: a typo should cost a second, not an encoding pass
    table = load_labels(labels)
    info = read_classifier_info(classifier)
    cfg = load_config(pipeline) if pipeline is not None else None
    texts = table.column("text").to_pylist()
    y = np.asarray(table.column("label").to_pylist(), dtype=np.int64)
    groups = table.column("group").to_pylist() if "group" in table.column_names else None

    load_kw: dict[str, Any] = {}
    unique = None
    gate_only = None
    if cfg is not None:
        c = cfg.classifier
        # every scoring setting of the run (cpu_int8 moves scores: tuning must see what the run sees)
        load_kw = {"max_tokens": c.max_tokens, "encoder_path": c.encoder_path, "truncate": c.long_docs == "truncate",
                   "batch_tokens": c.batch_tokens, "cpu_int8": c.cpu_int8,
                   "runtime": c.runtime, "precision": c.precision}
        if cfg.blocklist.enabled:  # before scoring: a bad term file should fail in a second, not after encoding
            from filterkit.escalation import Escalator

            # the run's own escalation rule (term bar by length, semantic gate): 1 = escalated, 0 = not
            esc = Escalator(cfg.blocklist, cfg.semantic_gate)(texts)
            unique = esc.escalated.astype(np.int64)
            if cfg.semantic_gate.enabled and cfg.classifier.gate_only_threshold is not None:
                gate_only = esc.escalated & ~esc.by_terms
    scores, errors = score_documents(classifier, texts, device, **load_kw)
    cascade = _Cascade(cfg, unique, scores, errors, gate_only) if cfg is not None else None

    res = _evaluate(scores, y, target_recall, n_boot, seed, cascade)
    cal = calibration_bins(scores[~errors], y[~errors])
    result: dict[str, Any] = {
        "labels": labels.name,
        "labels_sha256": file_sha256(labels),
        "classifier": info.name,
        "classifier_path": str(classifier),
        "head_threshold": info.threshold,  # config.json's threshold before this tuning
        "target_recall": float(target_recall),
        "n_pos": int(y.sum()),
        "n_neg": int(len(y) - y.sum()),
        "ignored_rows": int((table.schema.metadata or {}).get(b"ignored_rows", b"0")),
        "errors": int(errors.sum()),
        **{k: v for k, v in res.items() if not k.startswith("_")},
        "calibration": {"ece": expected_calibration_error(cal), "bins": cal,
                        "above_threshold": calibration_bins(scores[~errors], y[~errors], n_bins=1,
                                                            lo=res["threshold"])[0]},
        "groups": None,
        "cascade": None,
        "pipeline": str(pipeline) if pipeline is not None else None,
        "scoring": {"max_tokens": load_kw.get("max_tokens", info.config.get("max_tokens")),
                    "long_docs": "truncate" if load_kw.get("truncate") else "chunks"},
        "n_boot": int(n_boot),
        "seed": int(seed),
        "plots": None,
    }
    if groups is not None:
        result["groups"] = group_removal(groups, y, scores >= res["threshold"])
        if cascade is not None:
            for g, v in group_removal(groups, y, cascade.removed(res["threshold"])).items():
                result["groups"][g].update(cascade_removed=v["removed"], cascade_removal_rate=v["removal_rate"])
    if cascade is not None:
        result["cascade"] = {**cascade(y, res["threshold"]), **cascade.facts(classifier), "ci95": res["_cascade_ci"]}
    result = _json_safe(result)
    rule = (f"tuned by filterkit tune on {labels.name} (sha256 {result['labels_sha256'][:16]}): "
            f"recall >= {target_recall} on {result['n_pos']} positives, midway into the score gap below")
    result["threshold_rule"] = rule
    if report_dir is not None:
        write_report(y, scores, errors, result, report_dir)
    if json_path is not None:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(json_path, json.dumps(result, indent=2, sort_keys=True) + "\n")
    if write_threshold:
        tuned_runtime = None
        if info.backend == "embedding":  # int8 moves scores: record which runtime this threshold fits
            from filterkit.encoders import resolve_runtime

            tuned_runtime = "/".join(resolve_runtime(device, load_kw.get("runtime", "auto"), load_kw.get("precision", "fp32"),
                                                     load_kw.get("cpu_int8", False))[1:])
        write_classifier_threshold(classifier, result["threshold"], rule, tuned_runtime)
    return result


class _Cascade:
    """The pipeline's cascade on this labelled set: blocklist counts matched once, scores fixed.

    Unscorable documents follow the pipeline's ``on_error`` (1.0 when removed, 0.0 when kept). Calling
    it with resample indices gives the rates the bootstrap needs; without, the full metrics.
    """

    BOOT_KEYS = ("escalation_recall", "escalation_rate_neg", "recall", "fpr", "precision", "f1")

    def __init__(self, cfg, unique: np.ndarray | None, scores: np.ndarray, errors: np.ndarray,
                 gate_only: np.ndarray | None = None) -> None:
        self.bl, self.clf = cfg.blocklist, cfg.classifier
        self.unique = unique
        self.scores = np.where(errors, 1.0 if self.clf.on_error == "remove" else 0.0, scores)
        if gate_only is not None:
            # documents only the gate escalated meet classifier.gate_only_threshold whatever threshold is tuned
            # (escalation.classifier_threshold): removed at any threshold, or at none
            hit = self.scores >= self.clf.gate_only_threshold
            self.scores = np.where(gate_only, np.where(hit, 2.0, -1.0), self.scores)
        self.mode = self.bl.mode if self.bl.enabled else "escalate"

    def _args(self, t: float, idx: np.ndarray | None) -> tuple:
        s = self.scores if idx is None else self.scores[idx]
        u = self.unique if self.unique is None or idx is None else self.unique[idx]
        return s, u, 1, t, self.mode, self.clf.enabled  # ``unique`` holds the escalation decision (0/1)

    def __call__(self, y: np.ndarray, t: float, idx: np.ndarray | None = None) -> dict[str, Any]:
        full = cascade_metrics(y, *self._args(t, idx))
        return full if idx is None else {k: full[k] for k in self.BOOT_KEYS}

    def removed(self, t: float) -> np.ndarray:
        return cascade_decisions(*self._args(t, None))[1]

    def facts(self, classifier: Path) -> dict[str, Any]:
        """What the reader must know to trust the cascade numbers: which list, which threshold a run uses."""
        notes = []
        if self.clf.threshold is not None:
            notes.append(f"this pipeline sets classifier.threshold: {self.clf.threshold}, which a run uses "
                         "instead of the head's config.json threshold")
        if Path(self.clf.path).resolve() != Path(classifier).resolve():
            notes.append(f"the pipeline's classifier is {self.clf.path}, not the tuned {classifier}")
        if not self.bl.enabled:
            notes.append("the blocklist is disabled: every document reaches the classifier")
        if not self.clf.enabled:
            notes.append("the classifier is disabled in this pipeline: the blocklist alone decides")
        return {"blocklist": Path(self.bl.path).name if self.bl.enabled else None,
                "min_unique_hits": self.bl.min_unique_hits, "short_doc_words": self.bl.short_doc_words,
                "short_min_unique_hits": self.bl.short_min_unique_hits,
                "pipeline_threshold": self.clf.threshold, "on_error": self.clf.on_error, "notes": notes}
