"""report.md and plots of the real-text run, written from results.json's content alone (a committed run's report can
be regenerated without re-running it: ``write_real_report(json.load(open(".../results.json")), folder)``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODELS = ("none", "document", "masking", "span_removal", "oracle")
LABELS = {
    "none": "none (baseline)",
    "document": "document",
    "masking": "loss masking",
    "span_removal": "span removal",
    "oracle": "oracle (labels)",
}
COLORS = {
    "none": "tab:red",
    "document": "tab:blue",
    "masking": "tab:orange",
    "span_removal": "tab:purple",
    "oracle": "tab:green",
}
DOMAIN_TITLES = {
    "forget": "forget loss (real/dev proxy)",
    "retain": "retain loss (real/dev general)",
    "collateral": "collateral loss (real/dev bio_med)",
}


def _ci(v: float, ci: list[float]) -> str:
    return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def nx_text(nx: dict[str, Any]) -> str:
    """N× with its interval; a censored point estimate is written as the bound it is."""
    if nx["where"] == "below":
        return f"> {nx['nx']:.2f}× (loss above every baseline's)"
    if nx["where"] == "above":
        return f"< {nx['nx']:.2f}× (loss below every baseline's)"
    if not nx.get("ci95"):
        return f"{nx['nx']:.2f}×"
    lo, hi = nx["ci95"]
    return f"{nx['nx']:.2f}× [{lo:.2f}, {hi:.2f}]"


def summary_rows(r: dict[str, Any]) -> list[str]:
    """The side-by-side table (also pasted into the README)."""
    lines = [
        "| filter | forget loss | retain loss | collateral loss | forget N× | retain N× | relearn tokens / pretraining |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in MODELS:
        m = r["models"][name]
        nx_f = "1 (reference)" if name == "none" else nx_text(m["forget_nx"])
        nx_r = "1 (reference)" if name == "none" else nx_text(m["retain_nx"])
        rel = "0 (is the target)" if name == "none" else m["relearn"]["text"]
        lines.append(
            f"| {LABELS[name]} | {_ci(m['forget'], m['forget_ci95'])} | {_ci(m['retain'], m['retain_ci95'])} | "
            f"{_ci(m['collateral'], m['collateral_ci95'])} | {nx_f} | {nx_r} | {rel} |"
        )
    return lines


def report_lines(r: dict[str, Any]) -> list[str]:
    f, s, q = r["filter"], r["filter"]["span"], r["filter"]["quality"]
    t = r["timings"]
    la = t.get("load_average") or {}
    lines = [
        "# Real-text filtering experiment",
        "",
        (
            f"Seeds {r['seeds']}; {r['pretrain_tokens']:,} pretraining tokens per model "
            f"({r['flops_per_token']:.3g} FLOPs/token); wall {r['wall_seconds']:.0f} s (filter {t['filter_s']:.0f} s, "
            f"pretraining {t['pretrain_s']:.0f} s, relearning {t['relearn_s']:.0f} s); 1-minute load average "
            f"{la.get('start')} at start, {la.get('end')} at end on {la.get('cpus')} CPUs."
        ),
        "",
        "Losses are nats per token on held-out real/dev documents (first tokens of each), " + r["interval_note"],
        "",
        *summary_rows(r),
        "",
        (
            "N×: the filtered model's pretraining compute over the compute at which the unfiltered baselines reach its "
            f"loss ({r['fits']['forget']['used']} fit; a value outside the baselines' range is a bound). Relearn: "
            "fine-tuning tokens on held-out real proxy text until the forget loss reaches the unfiltered model's, at "
            "the best of the swept learning rates, as a share of pretraining tokens; '>' = not reached within the "
            "budget."
        ),
        "",
        "## Collateral N× and the other fit",
        "",
        "| filter | collateral N× | forget N× (other fit) | retain N× (other fit) |",
        "|---|---|---|---|",
    ]
    other = "power" if r["fits"]["forget"]["used"] == "interp" else "interp"
    for name in MODELS[1:]:
        m = r["models"][name]
        lines.append(
            f"| {LABELS[name]} | {nx_text(m['collateral_nx'])} | {nx_text(m[f'forget_nx_{other}'])} | "
            f"{nx_text(m[f'retain_nx_{other}'])} |"
        )
    lines += [
        "",
        "## Baselines (the compute curve)",
        "",
        "| budget | steps | tokens | FLOPs | forget | retain | collateral |",
        "|---|---|---|---|---|---|---|",
    ]
    for b in r["baselines"]:
        lines.append(
            f"| {b['budget']:g}× | {b['steps']} | {b['tokens']:,} | {b['flops']:.3g} | "
            f"{_ci(b['forget'], b['forget_ci95'])} | {_ci(b['retain'], b['retain_ci95'])} | "
            f"{_ci(b['collateral'], b['collateral_ci95'])} |"
        )
    lines += [
        "",
        "Fits, leave-one-out RMSE at the inner budgets (nats): "
        + "; ".join(
            f"{d}: interp {v['loo_rmse']['interp']:.3f}, power {v['loo_rmse']['power']:.3f}"
            for d, v in r["fits"].items()
        ),
        "",
        "## The filter on the corpus it filtered",
        "",
        f"Document filter (head threshold {f['doc_threshold']:.3f}, `filterkit train` CV): recall "
        f"{_ci(q['recall'], q['recall_ci95'])}, precision {_ci(q['precision'], q['precision_ci95'])} "
        f"({q['removed']} of {q['documents']} corpus documents removed; removed share by group "
        + ", ".join(f"{g} {v:.3f}" for g, v in q["removed_by_group"].items())
        + ").",
        "",
        f"Span threshold {s['threshold']:.3f}: {s['rule']} (reached: {s['reached']}). On the tuning documents the "
        "flagged windows cover "
        + ", ".join(f"{g} {v:.3f}" for g, v in s["char_coverage"].items())
        + " of the characters (at the document threshold: "
        + ", ".join(f"{g} {v:.3f}" for g, v in s["char_coverage_at_doc_threshold"].items())
        + "; the document filter removes "
        + ", ".join(f"{g} {v:.3f}" for g, v in s.get("document_filter_char_recall", {}).items())
        + "); on the corpus "
        + ", ".join(f"{g} {v:.3f}" for g, v in s["corpus_char_coverage"].items())
        + ".",
        "",
        "Corpus tokens per arm: "
        + ", ".join(f"{k} {v:,}" for k, v in r["corpus_tokens"].items())
        + f"; loss masking leaves {r['loss_tokens_masking']:,} of its tokens with a loss.",
        "",
        f"Splits (documents): {r['splits']}.",
        "",
        "![forget loss against compute](compute.png)",
        "",
        "![relearning](relearn.png)",
        "",
    ]
    return lines


def _plot_compute(r: dict[str, Any], out: Path) -> None:
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    from filterkit.experiment.compute import isotonic_decreasing

    fig = Figure(figsize=(16, 4.6))
    axes = fig.subplots(1, 3, gridspec_kw={"wspace": 0.3})
    for ax, d in zip(axes, ("forget", "retain", "collateral")):
        c = np.array([b["flops"] for b in r["baselines"]])
        y = np.array([b[d] for b in r["baselines"]])
        err = np.array([[b[d] - b[f"{d}_ci95"][0], b[f"{d}_ci95"][1] - b[d]] for b in r["baselines"]]).T
        ax.errorbar(c, y, yerr=err, fmt="o", color="k", label="unfiltered baselines (95% CI)")
        ax.plot(c, isotonic_decreasing(y), "-", color="k", lw=1, label="monotone interpolation")
        p = r["fits"][d]["power"]
        if p:
            xs = np.geomspace(c.min() / 1.5, c.max() * 1.5, 100)
            ax.plot(
                xs,
                p["a"] * (xs / p["c_max"]) ** (-p["b"]) + p["c"],
                "--",
                color="grey",
                lw=1,
                label=f"power law a·C^-{p['b']:.2f} + {p['c']:.2f}",
            )
        for name in ("document", "masking", "span_removal", "oracle"):
            m = r["models"][name]
            nx = m[f"{d}_nx"]
            ax.errorbar(
                [m["flops"]],
                [m[d]],
                yerr=[[m[d] - m[f"{d}_ci95"][0]], [m[f"{d}_ci95"][1] - m[d]]],
                fmt="s",
                color=COLORS[name],
                label=f"{LABELS[name]}: N× {nx_text(nx).split(' (')[0]}",
            )
            ax.plot([nx["matched_compute"], m["flops"]], [m[d], m[d]], ":", color=COLORS[name], lw=1)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels on a 16x log axis overlap
        ax.set_xlabel("pretraining compute (FLOPs)")
        ax.set_title(DOMAIN_TITLES[d], fontsize=9)
        ax.legend(fontsize=6)
    axes[0].set_ylabel("nats per token")
    fig.savefig(out / "compute.png", dpi=110, bbox_inches="tight")


def _plot_relearn(r: dict[str, Any], out: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.6))
    ax = fig.subplots()
    for name in MODELS[1:]:
        rl = r["models"][name]["relearn"]
        sw = rl["sweep"][0][str(rl["best_lr"][0])]
        ax.plot(
            [s * rl["tokens_per_step"] / 1000 for s in sw["steps"]],
            sw["loss"],
            "-o",
            ms=3,
            color=COLORS[name],
            label=f"{LABELS[name]} (lr {rl['best_lr'][0]:g}): {rl['text']}",
        )
    ax.axhline(
        r["models"]["none"]["relearn"]["target"][0],
        color="tab:red",
        lw=1,
        label="target: the unfiltered model's forget loss",
    )
    ax.set_xlabel("fine-tuning tokens on held-out real proxy text (thousands)")
    ax.set_ylabel("forget loss (relearn eval documents)")
    ax.set_title("Relearning, seed 0, each model at its best learning rate", fontsize=9)
    ax.legend(fontsize=7)
    fig.savefig(out / "relearn.png", dpi=110, bbox_inches="tight")


def write_real_report(r: dict[str, Any], out: str | Path) -> None:
    out = Path(out)
    (out / "report.md").write_text("\n".join(report_lines(r)) + "\n", encoding="utf-8")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    _plot_compute(r, out)
    _plot_relearn(r, out)
