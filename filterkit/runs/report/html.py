"""A :class:`RunReport` as one self-contained HTML page.

Jinja2 with autoescaping renders it, so document text, ids, terms, shard names and metadata values (all of them
hostile input: a crawled page may hold ``<script>`` or ``</textarea>``) are escaped by the template engine, not
by hand at each place they appear. The only markup not escaped is the SVG matplotlib made from numbers. The page
carries a Content-Security-Policy that allows no script, no fetch and no frame: inline styles and data: images only.
"""

from __future__ import annotations

import json

from filterkit.runs.report.model import RunReport
from filterkit.runs.report.plots import histogram_svg


def _num(v: int | float | None) -> str:
    return "–" if v is None else f"{v:,}"


def _pct(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.2f}%" if v >= 0.0001 or v == 0 else f"{100 * v:.4f}%"


def _score(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _rate(v: float | None) -> str:
    return "–" if v is None else f"{v:,.1f}"


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("filterkit.runs.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, pct=_pct, score=_score, rate=_rate)
    return env


def render_html(report: RunReport) -> str:
    """The page as text (UTF-8 when written); the same report gives the same page, byte for byte."""
    plots = {"score": histogram_svg(report.score_hist), "gate": histogram_svg(report.gate_hist)}
    config_json = json.dumps(report.config, indent=2, sort_keys=True, default=str)
    return _environment().get_template("report.html.j2").render(r=report, plots=plots, config_json=config_json)
