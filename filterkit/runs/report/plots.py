"""The report's pictures as inline SVG text: no image files beside the page, nothing fetched when it opens.

Built on matplotlib's object API (``Figure``, no pyplot), so rendering a report changes no global backend
or figure state of the caller. Text stays text in the SVG (``svg.fonttype: none``), which keeps files small
and lets the browser's own fonts draw it; ids are salted with a constant so the same run gives the same page.
"""

from __future__ import annotations

import io

import numpy as np

from filterkit.runs.report.model import Histogram

COLORS = {"kept": "#4c78a8", "removed": "#e45756"}
LINE_STYLES = ("-", "--", ":", "-.")


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "filterkit-report"}):
        fig.savefig(
            buf,
            format="svg",
            bbox_inches="tight",  # no RDF block: nothing in the page names a URL
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the page inlines the element


def histogram_svg(h: Histogram, width: float = 7.0, height: float = 3.0) -> str:
    """Kept and removed counts per bin (log scale: the few documents near a threshold stay visible beside the
    many far from it), with each threshold as a vertical line."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    bins = len(next(iter(h.series.values())))
    edges = np.linspace(h.lo, h.hi, bins + 1)
    w = (h.hi - h.lo) / bins
    for name, counts in h.series.items():
        c = np.asarray(counts, dtype=float)
        if c.sum() == 0:
            continue
        ax.bar(
            edges[:-1],
            np.where(c > 0, c, np.nan),
            width=w,
            align="edge",
            alpha=0.65,
            color=COLORS.get(name),
            label=f"{name} ({int(c.sum()):,})",
            log=True,
        )
    for (label, x), style in zip(h.lines.items(), LINE_STYLES):
        ax.axvline(x, color="black", linestyle=style, linewidth=1.2, label=f"{label} = {x:g}")
    ax.set_xlim(h.lo, h.hi)
    ax.set_xlabel(h.xlabel)
    ax.set_ylabel("documents (log)")
    if h.total == 0:
        ax.text(0.5, 0.5, "no scores recorded", transform=ax.transAxes, ha="center", va="center")
        ax.set_yscale("linear")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    if ax.get_yscale() == "log":  # plain numbers (2, 10, 100), not 2 x 10^0
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, frameon=False, ncol=4)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
