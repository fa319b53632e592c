"""``filterkit report RUN``: gather a finished run's numbers and examples into a :class:`RunReport`, write the page.

Small named steps, each reading one part of the run folder: the manifest for counts and timing, DuckDB
aggregates over ``audit``/``scores`` for splits, histograms and terms, and a handful of rows (by key) for
the examples' text. Nothing here decides anything; it shows what the run recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from filterkit.errors import FilterkitError
from filterkit.runs.card import REPORT
from filterkit.runs.report import queries
from filterkit.runs.report.model import Example, ExampleSet, RunReport, StageTime, estimate_lines
from filterkit.runs.report.texts import (
    audit_texts,
    clip,
    kept_positions,
    kept_texts,
    merge_windows,
    segments,
    term_pattern,
)
from filterkit.store.layout import RunLayout

REPORT_NAME = REPORT  # the page's name in a run folder, shared with the dataset card that links it


def load_manifest(run: Path) -> dict[str, Any]:
    """The finished run's manifest, or one line saying what the folder is missing."""
    path = run / "manifest.json"
    if not path.is_file():
        raise FilterkitError(
            f"{run}: no manifest.json, so not a finished filterkit run; pass the --out of a "
            "`filterkit run` that completed (re-run it to finish)"
        )
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise FilterkitError(f"{path}: not readable JSON ({e}); re-run `filterkit run` on this folder") from None
    if not isinstance(m, dict) or not all(k in m for k in ("counts", "shards", "inputs", "config")):
        raise FilterkitError(
            f"{path}: not a finished run's manifest (counts, shards, inputs or config missing); "
            "re-run `filterkit run` on this folder"
        )
    return m


def _facts(run: Path, m: dict[str, Any]) -> dict[str, Any]:
    from filterkit.version import __version__

    info, cfg = m.get("run_info", {}), m["config"]
    gate = cfg.get("semantic_gate", {})
    return {
        "run folder": str(run),
        "run id": m.get("run_id"),
        "config sha256": m.get("config_sha256"),
        "classifier": info.get("classifier"),
        "classifier sha256": info.get("classifier_sha256"),
        "threshold": info.get("threshold"),
        "gate_only_threshold": info.get("gate_only_threshold"),
        "semantic gate": f"{gate.get('path')} (threshold {_gate_threshold(gate)})" if gate.get("enabled") else "off",
        "blocklist": (
            f"{cfg['blocklist'].get('path')} (min_unique_hits {cfg['blocklist'].get('min_unique_hits')}, "
            f"mode {cfg['blocklist'].get('mode')})"
        )
        if cfg.get("blocklist", {}).get("enabled")
        else "off",
        "audit text": f"{info.get('audit_text')} ({info.get('snippet_chars')} characters)"
        if info.get("audit_text") == "snippet"
        else info.get("audit_text"),
        "device": m.get("device"),
        "filterkit (run)": m.get("versions", {}).get("filterkit"),
        "filterkit (report)": __version__,
    }


def _gate_threshold(gate: dict[str, Any]) -> float | None:
    """The gate's threshold: the config's, else the gate folder's own (``threshold: null``), else unknown."""
    if not gate.get("enabled"):
        return None
    if gate.get("threshold") is not None:
        return float(gate["threshold"])
    from filterkit.match.gate import read_gate_config

    try:
        return float(read_gate_config(gate["path"])["threshold"])
    except (FilterkitError, KeyError, TypeError, ValueError):
        return None  # the gate folder moved since the run: the histogram is drawn without the line


def _timing(m: dict[str, Any]) -> list[StageTime]:
    """Per-stage seconds (summed over tasks) and the documents each stage handled."""
    c = m["counts"]
    docs = {"classifier": c["escalated"]}
    return [
        StageTime(stage, float(sec), int(docs.get(stage, c["read"])))
        for stage, sec in m.get("timing", {}).get("stage_seconds", {}).items()
    ]


def _example(row: tuple, removed: bool, seg: list[tuple[str, bool]], note: str) -> Example:
    doc_id, shard, idx, reason, score, threshold, by, gate, terms = row
    pairs = [(t["term"], int(t["count"])) for t in (terms or [])]
    return Example(doc_id, shard, int(idx), removed, reason, score, threshold, by, gate, pairs, seg, note)


class _Texts:
    """Looks up the text of example documents: ``audit/`` for removed ones, ``kept/`` for kept ones."""

    def __init__(self, run: Path, m: dict[str, Any], views: queries.Views, text_chars: int) -> None:
        self.layout = RunLayout(run)
        self.out_names = {st["shard"]: st["out_name"] for st in m["shards"]}
        self.info = m.get("run_info", {})
        self.input = m["config"]["input"]
        self.views = views
        self.chars = text_chars

    def _group(self, rows: list[tuple]) -> dict[str, list[tuple]]:
        by: dict[str, list[tuple]] = {}
        for r in rows:
            by.setdefault(r[1], []).append(r)
        return by

    def removed(self, rows: list[tuple]) -> list[Example]:
        texts: dict[tuple[str, int], str | None] = {}
        for shard, group in self._group(rows).items():
            got = audit_texts(self.layout.audit(self.out_names.get(shard, shard)), [r[2] for r in group])
            texts.update({(shard, k): v for k, v in got.items()})
        spans = queries.span_windows(self.views, [(r[1], r[2]) for r in rows]) if self.info.get("export_spans") else {}
        mode = self.info.get("audit_text")
        out = []
        for r in rows:
            text, windows = texts.get((r[1], r[2])), spans.get((r[1], r[2]), [])
            if text is None:
                shown, note = (
                    "",
                    (
                        "no text: the run kept none (output.audit_text: none)"
                        if mode == "none"
                        else "no text found in audit/ for this row"
                    ),
                )
            elif windows and mode == "full":
                ranges = merge_windows(windows)
                per = max(self.chars // len(ranges), 200)
                shown = "\n[…]\n".join(clip(text[s:e], per) for s, e in ranges)
                note = "flagged windows: " + ", ".join(f"characters {s:,}–{e:,} ({sc:.3f})" for s, e, sc in windows)
            else:
                shown = clip(text, self.chars)
                note = (
                    f"audit snippet (the first {self.info.get('snippet_chars')} characters)"
                    if mode == "snippet"
                    else f"the first {self.chars} characters of the audited text"
                )
                if windows:
                    note += "; flagged windows: " + ", ".join(f"characters {s:,}–{e:,}" for s, e, _ in windows)
            pattern = term_pattern(t["term"] for t in (r[8] or []))
            out.append(_example(r, True, segments(shown, pattern), note))
        return out

    def kept(self, rows: list[tuple]) -> list[Example]:
        texts: dict[tuple[str, int], str | None] = {}
        files: dict[str, str] = {}
        for shard, group in self._group(rows).items():
            out_name = self.out_names.get(shard, shard)
            path = self.layout.recorded_output("kept", out_name, self.layout.read_marker(out_name))
            files[shard] = path.name
            positions = kept_positions([r[2] for r in group], queries.removed_rows_of(self.views, shard))
            got = kept_texts(
                path, positions, self.input["text_column"], self.input["id_column"], {r[2]: r[0] for r in group}
            )
            texts.update({(shard, k): v for k, v in got.items()})
        out = []
        for r in rows:
            text = texts.get((r[1], r[2]))
            if text is None:
                seg, note = [], "text not found in kept/ (file missing, or its row does not carry the recorded id)"
            else:
                seg = segments(clip(text, self.chars), term_pattern(t["term"] for t in (r[8] or [])))
                note = f"the first {self.chars} characters, from kept/{files[r[1]]}"
            out.append(_example(r, False, seg, note))
        return out


def _examples(views: queries.Views, texts: _Texts, n: int, seed: int) -> list[ExampleSet]:
    if n <= 0:
        return []
    return [
        ExampleSet(
            "removed-near",
            "Removed, closest above the threshold",
            f"the {n} classifier removals with the smallest score − threshold",
            texts.removed(queries.removed_above_threshold(views, n)),
        ),
        ExampleSet(
            "kept-near",
            "Kept, closest below the threshold",
            f"the {n} escalated, kept documents with the smallest threshold − score",
            texts.kept(queries.kept_below_threshold(views, n)),
        ),
        ExampleSet(
            "removed-random",
            "Removed, at random",
            f"{n} removals drawn uniformly (any reason; seed {seed})",
            texts.removed(queries.random_removed(views, n, seed)),
        ),
    ]


def _notes(m: dict[str, Any], overall: Any) -> list[str]:
    notes = []
    if overall.escalated != m["counts"]["escalated"]:
        notes.append(
            f"scores/ holds {overall.escalated:,} escalated documents, the manifest counts "
            f"{m['counts']['escalated']:,}; `filterkit verify` checks the files."
        )
    lim = m.get("limit")
    if lim:
        notes.append(f"This run read only the first {lim['docs']:,} documents (`filterkit run --limit`).")
    resumed = m.get("timing", {}).get("resumed_shards") or []
    if resumed:
        notes.append(
            f"{len(resumed)} shards were finished by an earlier invocation: docs/s counts only the last "
            "one; stage seconds add up every shard's own record."
        )
    return notes


def build_report(
    run: str | Path,
    examples: int = 6,
    by: str | None = None,
    estimates: Mapping[str, Any] | None = None,
    seed: int = 0,
    text_chars: int = 600,
    max_rows: int = 50,
) -> RunReport:
    """Read a finished run folder into a :class:`RunReport` (see the module docstring for what comes from where).

    ``estimates``: optional ``{name: metric}`` (precision, recall, ... with ``value`` and ``ci95``), e.g. from a
    labelled review of this run, shown beside the counts.
    """
    from filterkit.runs.audit import connect_views

    run = Path(run)
    m = load_manifest(run)
    info, cfg = m.get("run_info", {}), m["config"]
    con = connect_views(run, command="report", spans=bool(info.get("export_spans")))
    views = queries.Views(con, str(run))
    overall, shards = queries.overall_and_shards(views, m, max_rows)
    by_rows = None
    if by:
        from filterkit.runs.report.bycolumn import column_table

        con.register("_by", column_table(m, by))
        by_rows = queries.by_value(views, by, max_rows)
    lines = {
        k: v
        for k, v in (("threshold", info.get("threshold")), ("gate_only_threshold", info.get("gate_only_threshold")))
        if v is not None
    }
    score_hist = queries.histogram(views, "score", "Classifier score of escalated documents", "classifier score", lines)
    gate_at = _gate_threshold(cfg.get("semantic_gate", {}))
    gate_hist = queries.histogram(
        views,
        "gate_score",
        "Gate score of documents the gate escalated",
        "semantic gate score",
        {"gate threshold": gate_at} if gate_at is not None else {},
        note="The gate runs on documents under the term bar, and the run records its score only for those it "
        "escalated, so every bar here is at or above the gate's threshold.",
    )
    timing = m.get("timing", {})
    return RunReport(
        run=str(run),
        run_id=str(m.get("run_id")),
        facts=_facts(run, m),
        overall=overall,
        shards=shards,
        by=by_rows,
        score_hist=score_hist,
        gate_hist=gate_hist,
        terms=queries.over_represented_terms(views),
        examples=_examples(views, _Texts(run, m, views, text_chars), examples, seed),
        timing=_timing(m),
        wall_seconds=timing.get("wall_seconds"),
        docs_per_second=timing.get("docs_per_second"),
        config=cfg,
        versions=m.get("versions", {}),
        estimates=estimate_lines(estimates),
        notes=_notes(m, overall),
    )


def write_report(
    run: str | Path,
    out: str | Path | None = None,
    examples: int = 6,
    by: str | None = None,
    estimates: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Path:
    """Build and write the run's report page (default ``RUN/report.html``), atomically; returns its path.

    Written into the run folder, it is linked from the dataset card, which is rewritten to say so.
    """
    from filterkit.io import write_text_atomic
    from filterkit.runs.report.html import render_html

    run = Path(run)
    target = Path(out) if out is not None else run / REPORT_NAME
    if target.is_dir():
        raise FilterkitError(f"{target}: is a folder; pass --out a file name such as {target / REPORT_NAME}")
    report = build_report(run, examples=examples, by=by, estimates=estimates, seed=seed)
    path = write_text_atomic(target, render_html(report))
    if target.resolve() == (run / REPORT_NAME).resolve():
        from filterkit.runs.card import write_card

        write_card(run, load_manifest(run))  # the card links the page now that it exists
    return path
