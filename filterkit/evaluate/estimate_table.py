"""An :class:`~filterkit.evaluate.estimate.Estimate` as one table: the CLI (``filterkit estimate``), the web
benchmark and the run report print the same rows with the same wording, so a number reads the same everywhere."""

from __future__ import annotations

from filterkit.evaluate.estimate import Estimate, Metric, Reading


def format_metric(m: Metric, digits: int = 3, percent: bool = False) -> str:
    """``0.812 [0.700, 0.900]``, ``1.000`` (an interval of width zero), or ``n/a (why)``: one rendering for the CLI,
    the benchmark and the report."""
    if m.value is None:
        return f"n/a ({m.undefined})"

    def f(x: float) -> str:
        return f"{x:.{max(digits - 1, 1)}%}" if percent else f"{x:.{digits}f}"

    if m.ci95 is None or (f(m.ci95[0]) == f(m.value) == f(m.ci95[1])):
        return f(m.value)  # no sampling error (a stratum read in full): no interval to print
    return f"{f(m.value)} [{f(m.ci95[0])}, {f(m.ci95[1])}]"


TABLE_HEADERS = ("documents", "size", "labelled", "removed", "precision", "recall", "non-proxy removed")
READINGS = {"strict": "strict: only 1 is proxy", "lenient": "lenient: 0.5 and 1 are proxy"}


def table_rows(e: Estimate, reading: str) -> list[list[str]]:
    """One row per cell (overall, strata, groups) under ``reading`` ("strict" or "lenient"), in the order and
    wording of :data:`TABLE_HEADERS`: the CLI, the benchmark and the run report print the same table."""
    out = []
    for c in (e.overall, *e.strata, *e.groups):
        r: Reading = getattr(c, reading)
        size = f"{c.size:,.0f}" if c.size_exact else f"~{c.size:,.0f}"
        name = c.name if c.kind != "group" else f"group {c.name}"
        out.append(
            [
                name,
                size,
                f"{c.labelled:,}",
                format_metric(c.removed_share, percent=True),
                format_metric(r.precision),
                format_metric(r.recall),
                format_metric(r.nonproxy_removed_share, percent=True),
            ]
        )
    return out
