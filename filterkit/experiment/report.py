"""report.md and the plots, written from results.json's content alone (so a committed run's report can be
regenerated without re-running it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _num(x: float | None) -> str:
    return "n/a (no labels)" if x is None else f"{x:.3f}"


_COLORS = {"baseline": "tab:red", "filtered": "tab:blue", "no_proxy": "tab:green", "span_filtered": "tab:purple"}
_LABELS = {
    "baseline": "baseline",
    "filtered": "filtered",
    "no_proxy": "no-proxy (leak 0)",
    "span_filtered": "span-filtered",
}


def _band(ax, x, entry: dict, key: str, color: str, label: str, style: str = "-") -> None:
    ax.plot(x, entry[key], style, color=color, label=label)
    ci = entry.get(f"{key}_ci95")
    if ci and style == "-":
        ax.fill_between(x, [lo for lo, _ in ci], [hi for _, hi in ci], color=color, alpha=0.15)


def _plot_attack(r: dict[str, Any], out: Path) -> None:
    """attack.png: accuracy and held-out loss along the best attack per model, and relearn tokens beside them."""
    from matplotlib.figure import Figure

    a, chk, rl = r["attack"], r["attack_check"], r["relearn"]
    fig = Figure(figsize=(17, 4.8))
    axes = fig.subplots(1, 3, gridspec_kw={"wspace": 0.35})
    k = lambda xs: [x / 1000 for x in xs]
    for ax, key, label in ((axes[0], "proxy_acc", "proxy accuracy"), (axes[1], "proxy_loss", "held-out proxy loss")):
        for name, e in a["models"].items():
            c = _COLORS.get(name, "k")
            _band(ax, k(a["tokens"]), e, key, c, f"{_LABELS.get(name, name)}: attack, lr {e['best_lr']:g}")
            if "fact_injection" in e:
                ax.plot(
                    k(a["controls_tokens"]),
                    e["fact_injection"][key],
                    ":",
                    color=c,
                    lw=1,
                    label=f"{_LABELS.get(name, name)}: fact injection (upper bound, not an attack)",
                )
            if "benign" in e:
                ax.plot(
                    k(a["controls_tokens"]),
                    e["benign"][key],
                    "--",
                    color=c,
                    lw=1,
                    alpha=0.6,
                    label=f"{_LABELS.get(name, name)}: benign control",
                )
        if "baseline" in a["models"]:
            ax.axhline(
                a["models"]["baseline"][key][0],
                color="tab:red",
                lw=0.8,
                alpha=0.5,
                label="relearn target: baseline before fine-tuning",
            )
        if key == "proxy_acc":
            ax.axhline(r["chance"], ls="--", color="grey", label=f"chance ({r['chance']:.2f})")
        else:
            ax.set_yscale("log")
        ax.set_xlabel("fine-tuning tokens (thousands)")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=6)
    ok = chk.get("passed")
    axes[0].set_title(
        (
            "Best attack per model (mean over seeds, 95% CI)"
            if ok
            else "Attack check NOT passed: read as forgetting, not relearning"
        ),
        fontsize=9,
    )
    axes[1].set_title("Held-out proxy loss along the same attack", fontsize=9)
    ax = axes[2]
    rows = [(rl, "accuracy"), (rl.get("loss", {}), "loss"), (rl.get("inferable", {}), "inferable acc")]
    ylabels = []
    for i, (m, what) in enumerate(rows):
        if not m.get("filtered_tokens"):
            continue
        ft = [m["budget_tokens"] if t is None else t for t in m["filtered_tokens"]]
        y = 2.6 * i
        ax.barh(
            y,
            float(np.mean(ft)),
            color="tab:blue",
            height=0.8,
            hatch="//" if m["censored"] else None,
            label="filtered: fine-tuning tokens to target" if i == 0 else None,
        )
        ax.scatter(ft, [y] * len(ft), color="k", s=10, zorder=3)
        if m["censored"]:
            ax.annotate(
                f"> budget in {m['n_censored']}/{m['n_seeds']} seeds",
                (m["budget_tokens"], y),
                fontsize=7,
                xytext=(4, -3),
                textcoords="offset points",
            )
        if m.get("baseline_tokens"):
            ax.barh(
                y + 0.9,
                m["baseline_tokens"],
                color="tab:red",
                height=0.8,
                label="baseline: proxy tokens read in pretraining" if i == 0 else None,
            )
        ylabels.append((y + 0.45, what))
        ax.text(0, y + 1.45, f"slowdown {m.get('slowdown_text', '')}", fontsize=7)
    ax.set_yticks([y for y, _ in ylabels], [t for _, t in ylabels], fontsize=8)
    ax.set_xlabel("tokens")
    ax.set_title("Relearn: filtered model to the baseline's pre-attack level", fontsize=9)
    ax.legend(fontsize=6)
    fig.savefig(out / "attack.png", dpi=110, bbox_inches="tight")

    models = list(a["models"])
    fig = Figure(figsize=(4.2 * len(models), 6.5))
    axes = fig.subplots(2, len(models), squeeze=False)
    for j, name in enumerate(models):
        for lr, e in a["models"][name]["sweep"].items():
            best = float(lr) == a["models"][name]["best_lr"]
            for i, key in enumerate(("proxy_acc", "proxy_loss")):
                axes[i][j].plot(
                    k(a["tokens"]), e[key], lw=2 if best else 1, label=f"lr {float(lr):g}" + (" (best)" if best else "")
                )
        axes[0][j].set_title(_LABELS.get(name, name), fontsize=9)
        axes[0][j].axhline(r["chance"], ls="--", color="grey")
        axes[1][j].set_yscale("log")
        axes[1][j].set_xlabel("fine-tuning tokens (thousands)")
        axes[0][j].legend(fontsize=7)
    axes[0][0].set_ylabel("proxy accuracy")
    axes[1][0].set_ylabel("held-out proxy loss")
    fig.tight_layout()
    fig.savefig(out / "sweep.png", dpi=100, bbox_inches="tight")

    if chk.get("per_attribute"):
        pa_ = chk["per_attribute"]
        fig = Figure(figsize=(6, 3.6))
        ax = fig.add_subplot()
        names = list(pa_)
        x = np.arange(len(names))
        ax.bar(x - 0.2, [pa_[n]["before"] for n in names], 0.4, color="lightgrey", label="before")
        ax.bar(
            x + 0.2,
            [pa_[n]["after"] for n in names],
            0.4,
            color=["tab:green" if pa_[n]["inferable"] else "tab:grey" for n in names],
            label=f"after {chk['tokens']:,} tokens, lr {chk['lr']:g}",
        )
        ax.axhline(r["chance"], ls="--", color="grey")
        ax.set_xticks(x, [f"{n}\n({'inferable' if pa_[n]['inferable'] else 'arbitrary'})" for n in names], fontsize=8)
        ax.set_ylabel("proxy accuracy")
        ax.set_title("Attack check: the no-proxy model fine-tuned on the attack corpus", fontsize=9)
        ax.legend(fontsize=7)
        fig.savefig(out / "attack_check.png", dpi=110, bbox_inches="tight")


def write_report(r: dict[str, Any], out: Path) -> None:
    """report.md and PNGs: knowledge bars, attack (+ relearn), sweep, attack check, leak curve; chance on each."""
    from matplotlib.figure import Figure

    b, f = r["baseline"], r["filtered"]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for i, (name, s) in enumerate((("baseline", b), ("filtered", f))):
        for j, key in enumerate(("proxy_acc", "general_acc")):
            lo, hi = s[f"{key}_ci95"]
            ax.bar(
                j * 3 + i,
                s[key],
                yerr=[[s[key] - lo], [hi - s[key]]],
                color=["tab:red", "tab:blue"][i],
                label=name if j == 0 else None,
                capsize=4,
            )
    ax.axhline(r["chance"], ls="--", color="grey", label=f"chance ({r['chance']:.2f})")
    ax.set_xticks([0.5, 3.5], ["proxy knowledge", "general knowledge"])
    ax.set_ylabel("multiple-choice accuracy")
    ax.set_title(f"Knowledge after pretraining ({len(r['seeds'])} seeds, 95% CI)")
    ax.legend()
    fig.savefig(out / "knowledge.png", dpi=120, bbox_inches="tight")

    _plot_attack(r, out)

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    leak = r["leak"]
    cis = leak.get("proxy_acc_ci95") or [[a, a] for a in leak["proxy_acc"]]
    err = [
        [a - lo for a, (lo, _) in zip(leak["proxy_acc"], cis)],
        [hi - a for a, (_, hi) in zip(leak["proxy_acc"], cis)],
    ]
    n_seeds = len(leak.get("seeds", [])) or 1
    ax.errorbar(
        leak["fractions"],
        leak["proxy_acc"],
        yerr=err,
        fmt="o-",
        capsize=4,
        label=f"proxy accuracy ({n_seeds} seed{'s' if n_seeds > 1 else ''}" + (", 95% CI)" if n_seeds > 1 else ")"),
    )
    ax.axhline(r["chance"], ls="--", color="grey", label="chance")
    if r["filter"]["recall"] is not None:
        ax.axvline(1 - r["filter"]["recall"], ls=":", color="tab:blue", label="this filter's leak rate")
    ax.set_xlabel("fraction of proxy documents in pretraining")
    ax.set_ylabel("proxy accuracy")
    ax.set_title("Leak curve: what filter recall buys")
    ax.legend()
    fig.savefig(out / "leak.png", dpi=120, bbox_inches="tight")
    (out / "report.md").write_text("\n".join(report_lines(r)), encoding="utf-8")


def _load_text(r: dict[str, Any]) -> str:
    la = r.get("timings", {}).get("load_average") or {}
    if la.get("start") is None:
        return ""
    return f" (load average {la['start']:.1f} at start, {la['end']:.1f} at end, {la['cpus']} CPUs)"


def report_lines(r: dict[str, Any]) -> list[str]:
    def fmt(s: dict, k: str) -> str:
        lo, hi = s[f"{k}_ci95"]
        return f"{s[k]:.3f} [{lo:.3f}, {hi:.3f}]"

    b, f = r["baseline"], r["filtered"]
    lines = [
        "# filterkit experiment",
        "",
        f"Seeds {r['seeds']}; chance {r['chance']:.2f}; filter recall {_num(r['filter']['recall'])}, "
        f"precision {_num(r['filter']['precision'])}; wall {r['wall_seconds']:.0f} s on {r['device']}{_load_text(r)}.",
        "",
        "| model | proxy acc | general acc | held-out proxy loss | general loss |",
        "|---|---|---|---|---|",
    ]
    for name in ("baseline", "filtered", "span_filtered", "no_proxy"):
        if name in r:
            s = r[name]
            lines.append(
                f"| {_LABELS[name]} | {fmt(s, 'proxy_acc')} | {fmt(s, 'general_acc')} | {fmt(s, 'proxy_loss')} | "
                f"{fmt(s, 'general_loss')} |"
            )
    lines += [
        "",
        f"Length-normalised accuracy (acc_norm): baseline proxy {fmt(b, 'proxy_acc_norm')}, general "
        f"{fmt(b, 'general_acc_norm')}; filtered proxy {fmt(f, 'proxy_acc_norm')}, general {fmt(f, 'general_acc_norm')}.",
    ]
    chk = r["attack_check"]
    lines += ["", "## Attack check (can the attack teach?)", "", chk["note"] + "."]
    if chk.get("per_attribute"):
        g = chk["no_proxy_model_gain"]
        lines += [
            "",
            f"No-proxy model ({chk['seeds']} seed(s)) fine-tuned on the attack corpus for {chk['tokens']:,} tokens "
            f"at lr {chk['lr']:g}: gain {g['inferable']:+.3f} on inferable attributes, {g['arbitrary']:+.3f} on "
            f"arbitrary ones.",
            "",
            "| attribute | kind | before | after | gain |",
            "|---|---|---|---|---|",
        ]
        for a, v in chk["per_attribute"].items():
            lines.append(
                f"| {a} | {'inferable' if v['inferable'] else 'arbitrary'} | {v['before']:.3f} | {v['after']:.3f} | "
                f"{v['gain']:+.3f} |"
            )
        lines += [
            "",
            "Inferable-attribute gain by learning rate: "
            + ", ".join(f"lr {lr}: {v['inferable']:+.3f}" for lr, v in chk["by_lr"].items())
            + ".",
        ]
    a = r["attack"]
    lines += [
        "",
        "## Best attack per model",
        "",
        f"Learning rates swept: {', '.join(f'{x:g}' for x in a['lrs'])}; {a['tokens'][-1]:,} fine-tuning tokens "
        f"({a['tokens_per_step']:,} per step); held-out proxy loss on {a['heldout_proxy_source']}."
        + ("" if chk.get("passed") else " **The attack check was not passed: read these as forgetting curves.**"),
        "",
        "| model | best lr | proxy acc: start | peak | end | held-out proxy loss: start | end | fact injection end (upper bound) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, e in a["models"].items():
        fi = f"{e['fact_injection']['final']:.3f}" if "fact_injection" in e else "—"
        lines.append(
            f"| {_LABELS.get(name, name)} | {e['best_lr']:g} | {e['start']:.3f} | {e['peak']:.3f} | {e['final']:.3f} | "
            f"{e['proxy_loss'][0]:.3f} | {e['proxy_loss'][-1]:.3f} | {fi} |"
        )
    lines += [
        "",
        "Proxy accuracy along each model's best attack (mean over seeds):",
        "",
        "| tokens | " + " | ".join(_LABELS.get(n, n) for n in a["models"]) + " |",
        "|---|" + "---|" * len(a["models"]),
    ]
    for i, t in enumerate(a["tokens"]):
        lines.append(
            f"| {t:,} | "
            + " | ".join(f"{e['proxy_acc'][i]:.3f} ({e['proxy_loss'][i]:.2f})" for e in a["models"].values())
            + " |"
        )
    lines += ["", "(held-out proxy loss in brackets)"]
    rl = r["relearn"]
    if "filtered_tokens" in rl:
        lines += [
            "",
            "## Relearn",
            "",
            "| target (baseline before fine-tuning) | filtered: tokens to target per seed | lr | "
            "baseline proxy tokens in pretraining | slowdown |",
            "|---|---|---|---|---|",
        ]
        for m, what in (
            (rl, "proxy accuracy"),
            (rl["loss"], "held-out proxy loss"),
            (rl.get("inferable"), "proxy accuracy, inferable attributes"),
        ):
            if not m:
                continue
            toks = ", ".join(f"> {m['budget_tokens']:,}" if t is None else f"{t:,}" for t in m["filtered_tokens"])
            bt = f"{m['baseline_tokens']:,.0f}" if m.get("baseline_tokens") else "n/a"
            tg = ", ".join(f"{x:.3f}" for x in m["target"])
            lines.append(f"| {what} ({tg}) | {toks} | {m['lr']:g} | {bt} | {m['slowdown_text']} |")
    if "granularity" in r:
        lines += granularity_lines(r)
    if r["leak"]["fractions"]:
        lines += [
            "",
            "Leak curve (proxy accuracy by fraction of proxy documents in pretraining):",
            "",
            "| fraction | proxy acc | from |",
            "|---|---|---|",
        ]
        for fr, acc, src in zip(r["leak"]["fractions"], r["leak"]["proxy_acc"], r["leak"].get("source", [])):
            lines.append(f"| {fr:.3f} | {acc:.3f} | {src} |")
    lines += [
        "",
        "![knowledge](knowledge.png) ![leak](leak.png)",
        "",
        "![attack](attack.png)",
        "",
        "![sweep](sweep.png)",
    ]
    if chk.get("per_attribute"):
        lines += ["", "![attack check](attack_check.png)"]
    return lines + [""]


def granularity_lines(r: dict[str, Any]) -> list[str]:
    """The document vs span filtering table of report.md."""
    g, sp = r["granularity"], r["span"]

    def ci(v: float, c: list[float] | None) -> str:
        return f"{v:.3f}" + (f" [{c[0]:.3f}, {c[1]:.3f}]" if c else "")

    thr = "the run's" if sp.get("threshold") is None else f"{sp['threshold']:.3f}"
    lines = [
        "",
        "## Document vs span filtering (same classifier, same threshold)",
        "",
        f"Span filtering keeps every document and cuts the sentences the classifier flags (threshold {thr}); spans "
        f"from {sp['source']}: {sp['n_spans']:,} spans in {sp['docs_with_spans']:,} of {sp['escalated']:,} escalated "
        f"documents, {sp['docs_emptied']:,} documents left empty, {sp['cut_char_fraction']:.1%} of training characters "
        "cut.",
        "",
        "| granularity | proxy chars kept | general chars kept | training tokens | proxy acc | general acc | "
        "held-out proxy loss | best-attack peak proxy acc | relearn slowdown: accuracy | held-out loss | "
        "inferable accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for gran, e in g.items():
        ck = e.get("chars_kept") or {}
        lines.append(
            f"| {gran} | {ck.get('proxy', float('nan')):.3f} | {ck.get('general', float('nan')):.3f} | "
            f"{e['corpus_tokens']:,} | {ci(e['proxy_acc'], e['proxy_acc_ci95'])} | "
            f"{ci(e['general_acc'], e['general_acc_ci95'])} | {e['proxy_loss']:.3f} | "
            f"{e['attack_peak_proxy_acc']:.3f} (lr {e['attack_best_lr']:g}) | {e['relearn_text'] or 'n/a'} | "
            f"{e.get('relearn_loss_text') or 'n/a'} | {e.get('relearn_inferable_text') or 'n/a'} |"
        )
    return lines
