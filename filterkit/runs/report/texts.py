"""The text of the few documents a report shows, read row group by row group, never a whole text column.

Removed documents have their text in ``audit/`` (as ``output.audit_text`` kept it: a snippet by default);
kept ones only in ``kept/``, whose rows are the input's rows minus the removed ones, in order, so a kept
document's position there is its input row minus the removals before it. A kept row is checked against the
document id the run recorded before its text is shown.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from filterkit.data.formats import input_suffix
from filterkit.data.shard import Shard


def audit_texts(path: Path, rows: Iterable[int]) -> dict[int, str | None]:
    """``text`` of the given row indexes of one ``audit/`` file, reading only row groups whose
    ``row_index`` statistics can hold them."""
    wanted = set(rows)
    want = sorted(wanted)
    out: dict[int, str | None] = {}
    if not want or not path.is_file():
        return out
    pf = pq.ParquetFile(path)
    col = pf.schema_arrow.get_field_index("row_index")
    for rg in range(pf.metadata.num_row_groups):
        stats = pf.metadata.row_group(rg).column(col).statistics
        if stats is not None and stats.has_min_max:
            lo, hi = stats.min, stats.max
            if bisect.bisect_left(want, lo) == bisect.bisect_right(want, hi):
                continue
        t = pf.read_row_group(rg, columns=["row_index", "text"])
        for r, text in zip(t.column(0).to_pylist(), t.column(1).to_pylist()):
            if r in wanted and r not in out:
                out[r] = text
    return out


def kept_positions(rows: Iterable[int], removed_rows: list[int]) -> dict[int, int]:
    """Input row -> position in the shard's ``kept/`` file (``removed_rows`` ascending)."""
    return {r: r - bisect.bisect_left(removed_rows, r) for r in rows}


def kept_texts(
    path: Path, positions: dict[int, int], text_column: str, id_column: str, doc_ids: dict[int, str | None]
) -> dict[int, str | None]:
    """Texts of kept documents by input row, from a parquet or JSON-lines ``kept/`` file.

    A row whose id differs from the id the run recorded (``doc_ids``) is left out: the file is not the one
    the run wrote, and showing another document's text under this one's score would mislead.
    """
    if not positions or not path.is_file():
        return {}
    by_pos = {p: r for r, p in positions.items()}
    got = (
        _parquet_rows(path, by_pos, text_column, id_column)
        if input_suffix(path.name) == ".parquet"
        else _jsonl_rows(path, by_pos, text_column, id_column)
    )
    out = {}
    for pos, (text, doc_id) in got.items():
        row = by_pos[pos]
        recorded = doc_ids.get(row)
        if doc_id is not None and recorded is not None and str(doc_id) != recorded:
            continue
        out[row] = text
    return out


def _parquet_rows(path: Path, by_pos: dict[int, int], text_column: str, id_column: str) -> dict[int, tuple]:
    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    if text_column not in names:
        return {}
    cols = [text_column] + ([id_column] if id_column in names else [])
    out: dict[int, tuple] = {}
    start = 0
    for rg in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(rg).num_rows
        inside = [p for p in by_pos if start <= p < start + n]
        if inside:
            t = pf.read_row_group(rg, columns=cols)
            for p in inside:
                text = t.column(0)[p - start].as_py()
                doc_id = t.column(1)[p - start].as_py() if len(cols) > 1 else None
                out[p] = (text, doc_id)
        start += n
    return out


def _jsonl_rows(path: Path, by_pos: dict[int, int], text_column: str, id_column: str) -> dict[int, tuple]:
    """Stream a JSON-lines kept file up to the last wanted line (its own lines, so positions are line indexes)."""
    import orjson

    from filterkit.data.jsonl import numbered_lines

    shard = Shard(str(path), path.name, "jsonl", 0, 0)
    last = max(by_pos)
    out: dict[int, tuple] = {}
    for pos, (_, line) in enumerate(numbered_lines(replace(shard, limit=last + 1))):
        if pos in by_pos:
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get(text_column), str):
                out[pos] = (obj[text_column], obj.get(id_column))
    return out


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for a document's matched terms, on word boundaries, longest first; a space
    in a term matches any run of whitespace. Terms were matched on the normal form (look-alikes folded, format
    characters removed), so an obfuscated spelling in the raw text may go unmarked; the term list says it matched."""
    terms = sorted({t for t in terms if t and t.strip()}, key=lambda t: (-len(t), t))
    if not terms:
        return None
    alts = "|".join(r"\s+".join(re.escape(part) for part in t.split()) for t in terms)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)


def segments(text: str, pattern: re.Pattern[str] | None) -> list[tuple[str, bool]]:
    """``text`` cut into ``(piece, is_term)`` pairs at the pattern's matches (the renderer escapes each piece)."""
    if pattern is None:
        return [(text, False)] if text else []
    out: list[tuple[str, bool]] = []
    at = 0
    for m in pattern.finditer(text):
        if m.start() > at:
            out.append((text[at : m.start()], False))
        out.append((m.group(0), True))
        at = m.end()
    if at < len(text):
        out.append((text[at:], False))
    return out


def merge_windows(windows: Iterable[tuple[int, int, float]]) -> list[tuple[int, int]]:
    """Flagged windows as disjoint character ranges: overlapping or touching windows (chunked scoring) joined."""
    out: list[tuple[int, int]] = []
    for s, e, _ in sorted(windows):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def clip(text: str, chars: int) -> str:
    """At most ``chars`` characters, cut at the last space before the limit when there is one, with an ellipsis."""
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[: cut if cut > chars // 2 else chars] + " …"
