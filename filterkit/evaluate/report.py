"""The tuning report: PR, ROC, calibration and score-histogram plots and a markdown summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from filterkit.evaluate.metrics import RATE_KEYS
from filterkit.io import write_text_atomic

PLOTS = ("pr_curve.png", "roc_curve.png", "calibration.png", "score_hist.png")


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


def _operating_points(ax, res: dict[str, Any], x: str, y: str, values) -> None:
    """The max-F1 point (square) and the chosen threshold (ring) on a curve of ``y`` against ``x``."""
    m = res["max_f1"]
    ax.plot(m[x], m[y], "s", color="C2", ms=6, label=f"max-F1 t = {m['threshold']:.3f}: {values(m)}")
    ax.plot(
        res[x],
        res[y],
        "o",
        color="C3",
        ms=11,
        mfc="none",
        mew=2,
        label=f"chosen t = {res['threshold']:.3f} (recall ≥ {res['target_recall']}): {values(res)}",
    )


def plot_pr(y: np.ndarray, scores: np.ndarray, res: dict[str, Any], path: Path) -> None:
    """Precision–recall curve with the target-recall and max-F1 operating points."""
    from sklearn.metrics import precision_recall_curve

    prec, rec, _ = precision_recall_curve(y, scores)
    fig, ax = _figure()
    ax.step(rec, prec, where="post", label=f"PR-AUC (AP) = {res['pr_auc']:.3f} {_fmt_ci(res['ci95']['pr_auc'])}")
    ax.axhline(y.mean(), color="grey", ls=":", lw=1, label=f"positive rate = {y.mean():.3f}")
    _operating_points(ax, res, "recall", "precision", lambda p: f"P = {p['precision']:.3f}, R = {p['recall']:.3f}")
    ax.set(
        xlabel="Recall (positives removed)",
        ylabel="Precision (removed that are positive)",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
        title=f"Precision–recall: {res['classifier']} on {res['labels']}",
    )
    ax.legend(loc="lower left", fontsize=7)
    _save(fig, path)


def plot_roc(y: np.ndarray, scores: np.ndarray, res: dict[str, Any], path: Path) -> None:
    """ROC curve with the target-recall and max-F1 operating points."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, scores)
    fig, ax = _figure()
    ax.plot(fpr, tpr, label=f"ROC-AUC = {res['roc_auc']:.3f} {_fmt_ci(res['ci95']['roc_auc'])}")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="chance")
    _operating_points(ax, res, "fpr", "recall", lambda p: f"FPR = {p['fpr']:.3f}, recall = {p['recall']:.3f}")
    ax.set(
        xlabel="False-positive rate (negatives removed)",
        ylabel="True-positive rate (recall)",
        xlim=(-0.01, 1.01),
        ylim=(0, 1.02),
        title=f"ROC: {res['classifier']} on {res['labels']}",
    )
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
    counts.bar(
        [b["lo"] + width / 2 for b in bins], [b["count"] for b in bins], width=width * 0.9, color="grey", alpha=0.2
    )
    for b in bins:
        counts.annotate(
            str(b["count"]),
            (b["lo"] + width / 2, b["count"]),
            textcoords="offset points",
            xytext=(0, 2),
            ha="center",
            fontsize=7,
            color="dimgrey",
        )
    counts.set_ylim(0, 3.2 * max(b["count"] for b in bins))
    counts.set_ylabel("Documents per bin (grey bars)")
    ax.set_zorder(counts.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfect calibration")
    ax.plot(
        [b["mean_score"] for b in bins],
        [b["frac_pos"] for b in bins],
        "o-",
        label=f"head: ECE = {res['calibration']['ece']:.3f} ({len(all_bins)} bins)",
    )
    t = res["threshold"]
    above = res["calibration"]["above_threshold"]
    if above["count"]:
        ax.plot(
            above["mean_score"],
            above["frac_pos"],
            "o",
            color="C3",
            ms=11,
            mfc="none",
            mew=2,
            label=f"all {above['count']} docs scoring ≥ t: mean score {above['mean_score']:.2f}, "
            f"{above['frac_pos']:.2f} positive",
        )
    ax.axvline(t, color="C3", ls="--", lw=1, label=f"chosen threshold t = {t:.3f}")
    ax.set(
        xlabel="Mean classifier score in bin",
        ylabel="Fraction of documents labelled positive",
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.1),
        title=f"Calibration: ECE = {res['calibration']['ece']:.3f} ({n} scored docs)",
    )
    ax.legend(loc="upper left", fontsize=7)
    _save(fig, path)


def plot_score_hist(y: np.ndarray, scores: np.ndarray, res: dict[str, Any], path: Path) -> None:
    """Score distribution per class (scored documents only): how much room the threshold has on each side."""
    fig, ax = _figure()
    edges = np.linspace(0, 1, 21)
    for label in (0, 1):
        ax.hist(scores[y == label], bins=edges, alpha=0.6, label=f"label {label} (n={int((y == label).sum())})")
    ax.axvline(res["threshold"], color="C3", ls="--", label=f"threshold = {res['threshold']:.3f}")
    ax.set(
        xlabel="Classifier score (max over windows)",
        ylabel="Documents",
        title=f"Score distribution by label: {res['labels']}",
    )
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
            row = f"| {g} | {v['n']} | {v['n_pos']} | {v['removed']} | {v['removal_rate']:.3f} | {_fmt_ci(v['ci95'])} |"
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
        titles = {
            "pr_curve.png": "Precision–recall",
            "roc_curve.png": "ROC",
            "calibration.png": "Calibration",
            "score_hist.png": "Score distribution",
        }
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
    write_text_atomic(path, render_report(res))
    return path
