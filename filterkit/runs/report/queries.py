"""The report's numbers: DuckDB aggregates over a run's ``audit``/``scores`` views and its manifest.

Only aggregates and the keys of the few documents shown come back from DuckDB; no query reads the ``text``
column, so a run of millions of documents is summarised in the time it takes to scan a few numeric columns.
Every query takes its values as parameters (the views come from :func:`filterkit.runs.audit.connect_views`, whose
connection has file access switched off).
"""

from __future__ import annotations

import math
from typing import Any

from filterkit.runs.report.model import Breakdown, Funnel, Histogram, TermRow

REASONS = ("blocklist_terms", "classifier_score", "error")


class Views:
    """A DuckDB connection over one run, and the one way the report queries it."""

    def __init__(self, con: Any, run: str) -> None:
        self.con = con
        self.run = run

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        from filterkit.runs.audit import fetch_all

        return fetch_all(self.con, self.run, sql, params)[1]  # type: ignore[arg-type]


def _funnel(label: str, read: int, esc: dict[str, int], removed: dict[str, int], kept: int) -> Funnel:
    return Funnel(
        label,
        read,
        esc.get("terms", 0),
        esc.get("gate", 0),
        sum(n for k, n in esc.items() if k not in ("terms", "gate")),
        removed.get("blocklist_terms", 0),
        removed.get("classifier_score", 0),
        removed.get("error", 0),
        kept,
    )


def escalated_by_shard(v: Views) -> dict[str, dict[str, int]]:
    """Scored documents per shard, split by what escalated them (``terms``, ``gate``, ``none``)."""
    out: dict[str, dict[str, int]] = {}
    for shard, by, n in v.rows("SELECT input_shard, coalesce(escalated_by, 'none'), count(*) FROM scores GROUP BY ALL"):
        out.setdefault(shard, {})[by] = int(n)
    return out


def overall_and_shards(v: Views, manifest: dict[str, Any], max_rows: int) -> tuple[Funnel, Breakdown]:
    """The run's funnel (read, removed and kept exactly as the manifest counts them) and one per input shard."""
    esc = escalated_by_shard(v)
    rows = []
    for st in manifest["shards"]:
        rows.append(
            _funnel(st["shard"], st["rows_read"], esc.get(st["shard"], {}), st["removed_by_reason"], st["kept"])
        )
    c = manifest["counts"]
    total_esc: dict[str, int] = {}
    for per in esc.values():
        for k, n in per.items():
            total_esc[k] = total_esc.get(k, 0) + n
    overall = _funnel(
        "all documents",
        c["read"],
        total_esc,
        {
            "blocklist_terms": c["removed_blocklist"],
            "classifier_score": c["removed_classifier"],
            "error": c["removed_error"],
        },
        c["kept"],
    )
    return overall, _breakdown("input shard", rows, max_rows)


def _breakdown(key: str, rows: list[Funnel], max_rows: int) -> Breakdown:
    """The ``max_rows`` rows with most removals (then most read), the rest counted as left out."""
    rows = sorted(rows, key=lambda f: (-f.removed, -f.read, f.label))
    shown, rest = rows[:max_rows], rows[max_rows:]
    return Breakdown(key, shown, len(rest), sum(f.read for f in rest))


def by_value(v: Views, column: str, max_rows: int) -> Breakdown:
    """Funnels per value of a metadata column; needs the ``_by`` table (input_shard, row_index, value) registered."""
    sql = (
        "WITH esc AS (SELECT input_shard, row_index, coalesce(escalated_by, 'none') AS by FROM scores), "
        "rem AS (SELECT input_shard, row_index, reason FROM audit) "
        "SELECT coalesce(b.value, '(null)') AS value, count(*) AS read, "
        "count(*) FILTER (WHERE esc.by = 'terms'), count(*) FILTER (WHERE esc.by = 'gate'), "
        "count(*) FILTER (WHERE esc.by = 'none'), "
        "count(*) FILTER (WHERE rem.reason = 'blocklist_terms'), count(*) FILTER (WHERE rem.reason = 'classifier_score'), "
        "count(*) FILTER (WHERE rem.reason = 'error'), count(*) FILTER (WHERE rem.reason IS NULL) "
        "FROM _by b LEFT JOIN esc USING (input_shard, row_index) LEFT JOIN rem USING (input_shard, row_index) "
        "GROUP BY 1"
    )
    rows = [
        Funnel(str(val), int(r), int(t), int(g), int(o), int(rb), int(rc), int(re_), int(k))
        for val, r, t, g, o, rb, rc, re_, k in v.rows(sql)
    ]
    return _breakdown(column, rows, max_rows)


def histogram(
    v: Views, column: str, title: str, xlabel: str, lines: dict[str, float], bins: int = 50, note: str = ""
) -> Histogram:
    """Counts of ``scores.<column>`` (``score`` or ``gate_score``) in ``bins`` bins over [0, 1], kept vs removed."""
    if column not in ("score", "gate_score"):  # a column name is SQL text: only these two are ever used
        raise ValueError(column)
    got = v.rows(
        f"SELECT least(greatest(floor({column} * $bins), 0), $bins - 1)::INTEGER AS b, removed, count(*) "
        f"FROM scores WHERE {column} IS NOT NULL GROUP BY ALL",
        {"bins": bins},
    )
    series = {"kept": [0] * bins, "removed": [0] * bins}
    for b, removed, n in got:
        series["removed" if removed else "kept"][b] += int(n)
    return Histogram(title, xlabel, 0.0, 1.0, series, lines, note)


def over_represented_terms(v: Views, limit: int = 25, min_removed_docs: int = 2) -> list[TermRow]:
    """Blocklist terms ranked by how much more often removed documents carry them than escalated-kept ones: by the
    lower end of the log ratio's 95% interval, so a term ranks high only when it is both over-represented and seen
    in enough documents for that to be more than chance."""
    n_removed = v.rows("SELECT count(*) FROM audit")[0][0]
    n_kept = v.rows("SELECT count(*) FROM scores WHERE NOT removed")[0][0]
    got = v.rows(
        "WITH r AS (SELECT t.term, count(*) AS docs, sum(t.count) AS hits FROM "
        "(SELECT unnest(matched_terms) AS t FROM audit) GROUP BY t.term), "
        "k AS (SELECT t.term, count(*) AS docs, sum(t.count) AS hits FROM "
        "(SELECT unnest(matched_terms) AS t FROM scores WHERE NOT removed) GROUP BY t.term) "
        "SELECT term, coalesce(r.docs, 0), coalesce(r.hits, 0), coalesce(k.docs, 0), coalesce(k.hits, 0) "
        "FROM r FULL JOIN k USING (term) WHERE coalesce(r.docs, 0) >= $min",
        {"min": min(min_removed_docs, max(n_removed, 1))},
    )
    out = []
    for term, rd, rh, kd, kh in got:
        a, b = rd + 0.5, kd + 0.5
        lr = math.log(a / (n_removed + 1)) - math.log(b / (n_kept + 1))
        out.append(TermRow(term, int(rd), int(rh), int(kd), int(kh), lr, lr - 1.96 * math.sqrt(1 / a + 1 / b)))
    out.sort(key=lambda t: (-t.low, -t.removed_docs, t.term))
    return out[:limit]


# --- which documents to show: keys and recorded facts only, never text ----------------------------------------

_AUDIT_COLS = "doc_id, input_shard, row_index, reason, score, threshold, escalated_by, gate_score, matched_terms"
_SCORES_COLS = "doc_id, input_shard, row_index, reason, score, threshold, escalated_by, gate_score, matched_terms"


def removed_above_threshold(v: Views, n: int) -> list[tuple]:
    return v.rows(
        f"SELECT {_AUDIT_COLS} FROM audit WHERE reason = 'classifier_score' AND score IS NOT "
        "NULL AND threshold IS NOT NULL ORDER BY score - threshold, input_shard, row_index "
        "LIMIT $n",
        {"n": n},
    )


def kept_below_threshold(v: Views, n: int) -> list[tuple]:
    return v.rows(
        f"SELECT {_SCORES_COLS} FROM scores WHERE NOT removed AND score IS NOT NULL AND threshold IS NOT "
        "NULL ORDER BY threshold - score, input_shard, row_index LIMIT $n",
        {"n": n},
    )


def random_removed(v: Views, n: int, seed: int) -> list[tuple]:
    """A uniform sample of removals, the same for the same run and seed (ordered by a hash of the key)."""
    return v.rows(
        f"SELECT {_AUDIT_COLS} FROM audit ORDER BY hash(input_shard, row_index, $seed), input_shard, "
        "row_index LIMIT $n",
        {"n": n, "seed": seed},
    )


def removed_rows_of(v: Views, shard: str) -> list[int]:
    """Row indexes removed from one shard, ascending: maps an input row to its position in ``kept/``."""
    return [r for (r,) in v.rows("SELECT row_index FROM audit WHERE input_shard = $s ORDER BY row_index", {"s": shard})]


def span_windows(v: Views, keys: list[tuple[str, int]]) -> dict[tuple[str, int], list[tuple[int, int, float]]]:
    """Flagged windows (start, end, score) of the given removed documents, from ``spans/``."""
    out: dict[tuple[str, int], list[tuple[int, int, float]]] = {}
    for shard, row in keys:
        for s, e, sc in v.rows(
            'SELECT start, "end", score FROM spans WHERE input_shard = $s AND row_index = $r ORDER BY start',
            {"s": shard, "r": row},
        ):
            out.setdefault((shard, row), []).append((int(s), int(e), float(sc)))
    return out
