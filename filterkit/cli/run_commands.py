"""``filterkit run`` (and ``--dry-run``) and ``filterkit rethreshold``: the commands that write a run folder."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer
from rich.table import Table

from filterkit.cli.base import app, environment_error, err_console, out_console, user_errors
from filterkit.errors import FilterkitError


def _summary_table(m: dict) -> Table:
    c, t = m["counts"], m["timing"]
    table = Table(title=f"filterkit run {m['run_id']}", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, key in (
        ("read", "read"),
        ("escalated to classifier", "escalated"),
        ("removed by blocklist", "removed_blocklist"),
        ("removed by classifier", "removed_classifier"),
        ("removed on error", "removed_error"),
        ("kept", "kept"),
    ):
        table.add_row(label, f"{c[key]:,}")
    table.add_row("read = kept + removed", "ok" if c["conservation_ok"] else "VIOLATED")
    limit = m.get("limit")
    if limit:
        cut = limit["cut_shard"]
        left = limit["rows_left_out"]
        table.add_row(
            f"--limit {limit['docs']:,}",
            f"{left:,} documents not read"
            if left is not None
            else f"{limit['shards_left_out']:,} shards not read (not opened, so not counted)",
        )
        if cut:
            table.add_row("cut shard", f"{cut['name']} ({cut['rows_read']:,} of {cut['rows_in_file']:,} rows)")
    table.add_row("docs/s (this invocation)", f"{t['docs_per_second']:,.1f}")
    stage = t["stage_seconds"]
    for name in ("blocklist", "classifier", "write"):
        if name in stage:
            table.add_row(f"{name} seconds", f"{stage[name]:.2f}")
    if t["resumed_shards"]:
        table.add_row("shards resumed (skipped)", str(len(t["resumed_shards"])))
    table.add_row("device", m["device"])
    return table


@app.command(epilog="Example: filterkit run sample_data/shards -p pipelines/biorisk.yaml -o runs/demo --limit 1000")
def run(
    input: str = typer.Argument(..., metavar="INPUT", help="parquet file, folder, glob, or Hugging Face dataset"),
    pipeline: Path = typer.Option(
        ..., "--pipeline", "-p", metavar="YAML", help="pipeline YAML (`filterkit schema` lists its keys)"
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="RUN", help="run folder to write (re-running the same command resumes it)"
    ),
    limit: int | None = typer.Option(
        None,
        "--limit",
        metavar="N",
        min=1,
        help="only the first N documents in input order (shards by name, rows in file order); the manifest "
        "says which shard was cut",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or table"),
    as_json: bool = typer.Option(False, "--json", help="print the manifest's counts as JSON"),
    verbose: bool = typer.Option(
        False, "--verbose", help="show datatrove/torch logs instead of sending them to OUT/logs"
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="validate inputs, config, blocklist, gate and classifier; print shards, rows, bytes, "
        "sampled escalation and an estimated time on this device; write nothing",
    ),
    report: bool | None = typer.Option(
        None,
        "--report/--no-report",
        help="write RUN/report.html (`filterkit report`) when the run ends; default: on for the local executor",
    ),
) -> None:
    """Filter INPUT through the pipeline into RUN: kept/, audit/, scores/, manifest.json."""
    from filterkit.runs.runner import execute, prepare

    if dry_run:
        _dry_run(input, pipeline, as_json, limit)
        return
    with user_errors(environment=True):
        prep = prepare(input, pipeline, out, limit=limit)
        show_bar = not quiet and not as_json and sys.stdout.isatty()
        if show_bar:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=out_console,
                transient=True,
            ) as bar:
                task = bar.add_task("filtering", total=sum(s.num_rows for s in prep.shards), rate="")
                result = execute(prep, progress=progress_updater(bar, task), capture_logs=not verbose)
        else:
            result = execute(prep, capture_logs=not verbose)
    m = result.manifest
    if m.get("already_queued"):
        out_console.print(
            f"Slurm job {', '.join(m['already_queued'])} of this run is still queued or running "
            f"({len(m['pending_shards'])} shards pending); nothing resubmitted. Re-run when it ends."
        )
        return
    if m.get("submitted"):
        out_console.print(f"submitted to Slurm; {len(m['pending_shards'])} shards pending. Re-run to collect.")
        return
    page = (
        _write_run_report(result.out)
        if (report if report is not None else prep.config.executor.kind == "local")
        else None
    )
    if as_json:
        print(
            json.dumps(
                {
                    **m["counts"],
                    "run_id": m["run_id"],
                    "docs_per_second": m["timing"]["docs_per_second"],
                    **({"limit": m["limit"]} if m.get("limit") else {}),
                    "report": page and str(page),
                }
            )
        )
    elif not quiet:
        out_console.print(_summary_table(m))
        out_console.print(
            f"outputs in {result.out} (kept/, audit/, scores/, manifest.json; README.md: load it with datasets.load_dataset)"
        )
        if page:
            out_console.print(f"report: {page}", highlight=False, soft_wrap=True)


def _write_run_report(run_dir: Path) -> Path | None:
    """The run's report page after a finished run; a report that cannot be written is a warning, not a failed run."""
    from filterkit.runs.report import write_report

    try:
        return write_report(run_dir)
    except (FilterkitError, OSError) as e:
        mapped = e if isinstance(e, FilterkitError) else environment_error(e)
        if mapped is None:
            raise
        err_console.print(f"[yellow]warning:[/] no report written: {mapped.message}", highlight=False, soft_wrap=True)
        return None


def progress_updater(bar, task, clock=time.monotonic):
    """The callback that moves a rich bar from a run's :class:`~filterkit.runs.progress.LiveCounts`: rows done,
    docs/s and MB/s since start, escalated and removed so far (rich adds the ETA)."""
    start = clock()

    def update(c) -> None:
        dt = max(clock() - start, 1e-9)
        bar.update(
            task,
            completed=c.done,
            rate=f"{c.done / dt:,.0f} docs/s {c.mb / dt:,.1f} MB/s escalated {c.escalated:,} removed {c.removed:,}",
        )

    return update


def _dry_run(input: str, pipeline: Path, as_json: bool, limit: int | None = None) -> None:
    from filterkit.runs.dryrun import dry_run

    with user_errors():
        plan = dry_run(input, pipeline, limit=limit)
    if as_json:
        print(json.dumps(plan))
        return
    table = Table(title="filterkit run --dry-run (nothing written)")
    table.add_column("plan")
    table.add_column("value", justify="right")
    for k, v in plan.items():
        if isinstance(v, dict):
            v = ", ".join(f"{r} {n:,}" for r, n in v.items()) or "none"
        table.add_row(
            k.replace("_", " "), f"{v:,.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
        )
    out_console.print(table)


@app.command(epilog="Example: filterkit rethreshold runs/demo --threshold 0.7 --out runs/demo-t07")
def rethreshold(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a finished run folder"),
    out: Path = typer.Option(..., "--out", "-o", metavar="RUN", help="new run folder to write"),
    threshold: float | None = typer.Option(None, "--threshold", help="new classifier threshold"),
    min_unique_hits: int | None = typer.Option(None, "--min-unique-hits", help="new (higher) blocklist bar"),
    as_json: bool = typer.Option(False, "--json", help="print the new counts as JSON"),
) -> None:
    """Re-decide a finished run from its scores/ under a new threshold, without re-encoding anything."""
    from filterkit.runs.rethreshold import rethreshold as _rethreshold

    with user_errors():
        result = _rethreshold(run_dir, out, threshold=threshold, min_unique_hits=min_unique_hits)
    if as_json:
        print(json.dumps({**result.counts, "run_id": result.manifest["run_id"]}))
    else:
        out_console.print(_summary_table(result.manifest))
