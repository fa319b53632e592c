"""The reviewer's page for a finished run: ``filterkit report RUN`` (library: :func:`write_report`).

:func:`build_report` gathers the numbers and examples as a :class:`RunReport`; :func:`render_html` turns one into
a self-contained page. Both read only the run folder (and, for ``by=COLUMN``, that one column of its inputs).
"""

from filterkit.runs.report.build import build_report, write_report
from filterkit.runs.report.html import render_html
from filterkit.runs.report.model import EstimateLine, RunReport

__all__ = ["EstimateLine", "RunReport", "build_report", "render_html", "write_report"]
