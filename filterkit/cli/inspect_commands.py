"""The commands that read a finished run: audit, report, verify, review, estimate; and schema."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from filterkit.cli.base import app, err_console, out_console, user_errors
from filterkit.terminal import labelled


@app.command(epilog='Example: filterkit audit runs/demo --sql "SELECT reason, count(*) FROM audit GROUP BY 1"')
def audit(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a run folder"),
    sql: str | None = typer.Option(
        None, "--sql", metavar="QUERY", help="a DuckDB query over the views `audit` and `scores` (no file access)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Summarise a run's removals with DuckDB, or run your own SQL over them."""
    from filterkit.runs.audit import query, summarize

    with user_errors():
        if sql:
            cols, rows = query(run_dir, sql)
            if as_json:
                print(json.dumps([dict(zip(cols, r)) for r in rows], default=str))
                return
            table = Table(*cols)
            for r in rows:
                table.add_row(*("" if v is None else str(v) for v in r))
            out_console.print(table)
            return
        summary = summarize(run_dir)
    if as_json:
        print(json.dumps(summary, default=str))
        return
    _render_summary(summary)


def _render_summary(s: dict) -> None:
    t = Table("stage", "reason", "removed", title="removals by stage")
    for r in s["removed_by_stage"]:
        t.add_row(r["stage"], r["reason"], str(r["n"]))
    out_console.print(t)
    t = Table("term", "docs", "hits", title="top matched terms (removed documents)")
    for r in s["top_terms"]:
        t.add_row(r["term"], str(r["docs"]), str(r["hits"]))
    out_console.print(t)
    t = Table("score from", "escalated", "removed", "", title="classifier score histogram")
    peak = max((r["n"] for r in s["score_histogram"]), default=1)
    for r in s["score_histogram"]:
        t.add_row(f"{r['from']:.1f}", str(r["n"]), str(r["removed"]), "█" * max(1, round(30 * r["n"] / peak)))
    out_console.print(t)
    t = Table("shard", "read", "escalated", "removed", "removal rate", title="per shard")
    for r in s["per_shard"]:
        rate = f"{r['removed'] / r['read']:.2%}" if r.get("read") else "-"
        t.add_row(r["shard"], str(r.get("read", "")), str(r["escalated"]), str(r["removed"]), rate)
    out_console.print(t)
    t = Table("doc_id", "stage", "score", "snippet (redacted to 120 chars)", title="examples")
    for r in s["examples"]:
        score = "" if r["score"] is None else f"{r['score']:.3f}"
        t.add_row(str(r["doc_id"]), r["stage"], score, r["snippet"])
    out_console.print(t)


@app.command(epilog="Example: filterkit report runs/demo --by source --examples 10")
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a finished run folder"),
    out: Path | None = typer.Option(
        None, "--out", "-o", metavar="FILE", help="the page to write (default RUN/report.html)"
    ),
    examples: int = typer.Option(
        6,
        "--examples",
        metavar="N",
        min=0,
        help="documents shown per example list (removed near the threshold, kept near it, removed at random)",
    ),
    by: str | None = typer.Option(
        None,
        "--by",
        metavar="COLUMN",
        help="also count per value of this input column (e.g. source or domain); read from the run's input shards",
    ),
    seed: int = typer.Option(0, "--seed", help="seed of the random sample of removals"),
    labels: Path | None = typer.Option(
        None,
        "--labels",
        metavar="FILE",
        help="a labelled `filterkit review` file of this run: the page shows the "
        "estimated precision, recall and non-proxy removal with intervals",
    ),
) -> None:
    """Write one self-contained HTML page for reviewing a run: counts, scores, terms, examples, timing, config."""
    from filterkit.runs.report import write_report

    with user_errors(environment=True):
        estimates = None
        if labels is not None:
            from filterkit.runs.review_labels import estimate_run, report_estimates

            estimates = report_estimates(estimate_run(run_dir, labels))
        page = write_report(run_dir, out, examples=examples, by=by, seed=seed, estimates=estimates)
    out_console.print(f"report: {page}", highlight=False, soft_wrap=True)


@app.command(epilog="Example: filterkit verify runs/demo")
def verify(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a finished run folder"),
) -> None:
    """Check every output of a finished run against its done marker: size, sha256, row counts, read = kept + removed.

    Exit 0 when all is well; exit 2 with one line per damaged shard otherwise.
    """
    from filterkit.runs.verify import verify as _verify

    with user_errors():
        report = _verify(run_dir)
    if not report.ok:
        for line in report.lines():
            err_console.print(labelled("bad:", "bold red", line), highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    out_console.print(
        f"ok: {report.shards} shards; sizes, sha256 and row counts match their done markers; "
        f"read {report.read:,} = kept {report.kept:,} + removed {report.removed:,}; inputs unchanged"
        + (f" ({report.inputs_unchecked} not found, not checked)" if report.inputs_unchecked else ""),
        highlight=False,
        soft_wrap=True,
    )


@app.command(epilog="Example: filterkit schema --experiment > experiment.schema.json")
def schema(
    experiment: bool = typer.Option(
        False, "--experiment", help="the experiment config's schema (`filterkit experiment --config`) instead"
    ),
) -> None:
    """Print the pipeline config's JSON schema: every valid key, with its default and description."""
    if experiment:
        from filterkit.experiment.config import ExperimentConfig as model
    else:
        from filterkit.config import PipelineConfig as model

    print(json.dumps(model.model_json_schema(), indent=2))


@app.command(epilog="Example: filterkit review runs/demo --out runs/demo-review.jsonl --per-stratum 100 --by source")
def review(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a finished run folder"),
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE", help="review file to write (JSON lines)"),
    per_stratum: int = typer.Option(100, "--per-stratum", metavar="N", help="documents drawn from each stratum"),
    seed: int = typer.Option(0, "--seed", help="seed of the draw (same run, seed and N: same sample)"),
    by: str | None = typer.Option(
        None,
        "--by",
        metavar="COLUMN",
        help="split the never-escalated documents by this input column (a source, a domain)",
    ),
    with_scores: bool = typer.Option(
        False, "--with-scores", help="also write scores to <stem>.scores.jsonl (not for the annotator's eyes)"
    ),
    max_chars: int = typer.Option(6000, "--max-chars", help="longer documents are shown as their flagged passages"),
) -> None:
    """Draw a stratified random sample of a run's decisions for blind labelling (label: 1 proxy, 0.5 borderline, 0 not)."""
    from filterkit.runs.review import review as _review

    with user_errors():
        res = _review(
            run_dir, out, per_stratum=per_stratum, seed=seed, by=by, with_scores=with_scores, max_chars=max_chars
        )
    t = Table("stratum", "documents", "sampled", title=f"{res.lines:,} documents to label in {res.out}")
    for name, v in res.strata.items():
        t.add_row(name, f"{v['size']:,}", f"{v['sampled']:,}")
    out_console.print(t)
    out_console.print(f"then: filterkit estimate {run_dir} --labels {res.out}", highlight=False, soft_wrap=True)


@app.command(epilog="Example: filterkit estimate runs/demo --labels runs/demo-review.jsonl --json")
def estimate(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="the run the review file was drawn from"),
    labels: Path = typer.Option(..., "--labels", metavar="FILE", help="the labelled review file"),
    n_boot: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples (within strata) for the intervals"),
    seed: int = typer.Option(0, "--seed", help="seed for the bootstrap resamples"),
    as_json: bool = typer.Option(False, "--json", help="print the estimates as JSON"),
) -> None:
    """Precision, recall and non-proxy removal of a run, weighted back to stratum sizes, with 95% intervals."""
    from filterkit.evaluate.estimate_table import READINGS, TABLE_HEADERS, table_rows
    from filterkit.runs.review_labels import estimate_run

    with user_errors():
        res = estimate_run(run_dir, labels, n_boot=n_boot, seed=seed)
    if as_json:
        print(res.model_dump_json(indent=2))
        return
    for reading, title in READINGS.items():
        t = Table(*TABLE_HEADERS, title=f"{run_dir}: {title}")
        for row in table_rows(res, reading):
            t.add_row(*row)
        out_console.print(t)
    for note in res.notes:
        out_console.print(f"note: {note}", highlight=False, soft_wrap=True)
