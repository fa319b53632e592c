"""The ``filterkit`` command: a thin typer layer that parses, calls the library, and renders.

A :class:`FilterkitError` becomes one line on stderr and exit code 2; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import errno
import json
import logging
import sys
import time
from pathlib import Path

import typer
from rich.table import Table

from filterkit.errors import FilterkitError
from filterkit.terminal import SafeConsole, labelled

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Keep a topic out of pretraining data.",
                  context_settings={"help_option_names": ["-h", "--help"]})


def _version(value: bool) -> None:
    if value:
        from filterkit.version import __version__

        print(f"filterkit {__version__}")
        raise typer.Exit()


@app.callback(epilog="Example: filterkit run sample_data/shards -p pipelines/biorisk.yaml -o runs/demo --limit 1000")
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
) -> None:
    """Keep a topic out of pretraining data.

    Arguments are named the same in every command: INPUT is what `run` reads, RUN a run folder (`--out` of
    `run`)."""


# data reaches the terminal through these: no markup parsed from strings, control characters escaped
out_console = SafeConsole()
err_console = SafeConsole(stderr=True)


def _fail(e: FilterkitError) -> None:
    err_console.print(labelled("error:", "bold red", e.message), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


class _WarningLine(logging.Handler):
    """filterkit's warnings (skipped input files, an implausible term list) as one line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err_console.print(labelled("warning:", "yellow", record.getMessage()), highlight=False, soft_wrap=True)


if not any(isinstance(h, _WarningLine) for h in logging.getLogger("filterkit").handlers):
    logging.getLogger("filterkit").addHandler(_WarningLine(logging.WARNING))

_FULL = {errno.ENOSPC, errno.EDQUOT}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


def _environment_error(e: BaseException) -> FilterkitError | None:
    """A full disk or an unwritable folder, found anywhere in an exception's chain, as a user error.

    Writes go to temp files renamed into place, so such a failure leaves finished shards intact and nothing
    half-written; the message says so. Other OS errors stay tracebacks (they are bugs until shown otherwise).
    """
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, OSError) and e.errno in _FULL | _NOT_WRITABLE:
            where = e.filename or "the run folder"
            if e.errno in _FULL:
                return FilterkitError(
                    f"{where}: no space left on the device ({e.strerror}); finished shards are kept — free space "
                    "or choose an --out on a bigger disk, then re-run the same command to resume"
                )
            return FilterkitError(f"{where}: cannot write there ({e.strerror}); choose a writable --out")
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
        seen += 1
    return None


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
        table.add_row(f"--limit {limit['docs']:,}", f"{left:,} documents not read" if left is not None else
                      f"{limit['shards_left_out']:,} shards not read (not opened, so not counted)")
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
    pipeline: Path = typer.Option(..., "--pipeline", "-p", metavar="YAML",
                                  help="pipeline YAML (`filterkit schema` lists its keys)"),
    out: Path = typer.Option(..., "--out", "-o", metavar="RUN",
                             help="run folder to write (re-running the same command resumes it)"),
    limit: int | None = typer.Option(
        None, "--limit", metavar="N", min=1,
        help="only the first N documents in input order (shards by name, rows in file order); the manifest "
        "says which shard was cut",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or table"),
    as_json: bool = typer.Option(False, "--json", help="print the manifest's counts as JSON"),
    verbose: bool = typer.Option(False, "--verbose", help="show datatrove/torch logs instead of sending them to OUT/logs"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="validate inputs, config, blocklist, gate and classifier; print shards, rows, bytes, "
        "sampled escalation and an estimated time on this device; write nothing"
    ),
    report: bool | None = typer.Option(
        None, "--report/--no-report", help="write RUN/report.html (`filterkit report`) when the run ends; "
        "default: on for the local executor"
    ),
) -> None:
    """Filter INPUT through the pipeline into RUN: kept/, audit/, scores/, manifest.json."""
    from filterkit.runs.runner import execute, prepare

    if dry_run:
        _dry_run(input, pipeline, as_json, limit)
        return
    try:
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
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=out_console, transient=True,
            ) as bar:
                task = bar.add_task("filtering", total=sum(s.num_rows for s in prep.shards), rate="")
                result = execute(prep, progress=progress_updater(bar, task), capture_logs=not verbose)
        else:
            result = execute(prep, capture_logs=not verbose)
    except FilterkitError as e:
        _fail(e)
        return
    except Exception as e:  # re-raised unless it is a full disk or an unwritable --out
        mapped = _environment_error(e)
        if mapped is None:
            raise
        _fail(mapped)
        return
    m = result.manifest
    if m.get("already_queued"):
        out_console.print(f"Slurm job {', '.join(m['already_queued'])} of this run is still queued or running "
                          f"({len(m['pending_shards'])} shards pending); nothing resubmitted. Re-run when it ends.")
        return
    if m.get("submitted"):
        out_console.print(f"submitted to Slurm; {len(m['pending_shards'])} shards pending. Re-run to collect.")
        return
    page = _write_run_report(result.out) if (report if report is not None else prep.config.executor.kind == "local") \
        else None
    if as_json:
        print(json.dumps({**m["counts"], "run_id": m["run_id"], "docs_per_second": m["timing"]["docs_per_second"],
                          **({"limit": m["limit"]} if m.get("limit") else {}), "report": page and str(page)}))
    elif not quiet:
        out_console.print(_summary_table(m))
        out_console.print(f"outputs in {result.out} (kept/, audit/, scores/, manifest.json; README.md: load it with datasets.load_dataset)")
        if page:
            out_console.print(f"report: {page}", highlight=False, soft_wrap=True)


def _write_run_report(run_dir: Path) -> Path | None:
    """The run's report page after a finished run; a report that cannot be written is a warning, not a failed run."""
    from filterkit.runs.report import write_report

    try:
        return write_report(run_dir)
    except (FilterkitError, OSError) as e:
        mapped = e if isinstance(e, FilterkitError) else _environment_error(e)
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
        bar.update(task, completed=c.done, rate=f"{c.done / dt:,.0f} docs/s {c.mb / dt:,.1f} MB/s "
                                               f"escalated {c.escalated:,} removed {c.removed:,}")

    return update


def _dry_run(input: str, pipeline: Path, as_json: bool, limit: int | None = None) -> None:
    from filterkit.runs.dryrun import dry_run

    try:
        plan = dry_run(input, pipeline, limit=limit)
    except FilterkitError as e:
        _fail(e)
        return
    if as_json:
        print(json.dumps(plan))
        return
    table = Table(title="filterkit run --dry-run (nothing written)")
    table.add_column("plan")
    table.add_column("value", justify="right")
    for k, v in plan.items():
        if isinstance(v, dict):
            v = ", ".join(f"{r} {n:,}" for r, n in v.items()) or "none"
        table.add_row(k.replace("_", " "), f"{v:,.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v))
    out_console.print(table)


@app.command(epilog='Example: filterkit audit runs/demo --sql "SELECT reason, count(*) FROM audit GROUP BY 1"')
def audit(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a run folder"),
    sql: str | None = typer.Option(None, "--sql", metavar="QUERY",
                                      help="a DuckDB query over the views `audit` and `scores` (no file access)"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Summarise a run's removals with DuckDB, or run your own SQL over them."""
    from filterkit.runs import audit as A

    try:
        if sql:
            cols, rows = A.query(run_dir, sql)
            if as_json:
                print(json.dumps([dict(zip(cols, r)) for r in rows], default=str))
                return
            table = Table(*cols)
            for r in rows:
                table.add_row(*("" if v is None else str(v) for v in r))
            out_console.print(table)
            return
        summary = A.summarize(run_dir)
    except FilterkitError as e:
        _fail(e)
        return
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
    out: Path | None = typer.Option(None, "--out", "-o", metavar="FILE", help="the page to write (default RUN/report.html)"),
    examples: int = typer.Option(6, "--examples", metavar="N", min=0,
                                 help="documents shown per example list (removed near the threshold, kept near it, "
                                 "removed at random)"),
    by: str | None = typer.Option(None, "--by", metavar="COLUMN",
                                     help="also count per value of this input column (e.g. source or domain); read "
                                     "from the run's input shards"),
    seed: int = typer.Option(0, "--seed", help="seed of the random sample of removals"),
    labels: Path | None = typer.Option(None, "--labels", metavar="FILE",
                                          help="a labelled `filterkit review` file of this run: the page shows the "
                                          "estimated precision, recall and non-proxy removal with intervals"),
) -> None:
    """Write one self-contained HTML page for reviewing a run: counts, scores, terms, examples, timing, config."""
    from filterkit.runs.report import write_report

    try:
        estimates = None
        if labels is not None:
            from filterkit.runs.review_labels import estimate_run, report_estimates

            estimates = report_estimates(estimate_run(run_dir, labels))
        page = write_report(run_dir, out, examples=examples, by=by, seed=seed, estimates=estimates)
    except FilterkitError as e:
        _fail(e)
        return
    except OSError as e:
        mapped = _environment_error(e)
        if mapped is None:
            raise
        _fail(mapped)
        return
    out_console.print(f"report: {page}", highlight=False, soft_wrap=True)


@app.command(epilog="Example: filterkit verify runs/demo")
def verify(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a finished run folder"),
) -> None:
    """Check every output of a finished run against its done marker: size, sha256, row counts, read = kept + removed.

    Exit 0 when all is well; exit 2 with one line per damaged shard otherwise.
    """
    from filterkit.runs.verify import verify as _verify

    try:
        report = _verify(run_dir)
    except FilterkitError as e:
        _fail(e)
        return
    if not report.ok:
        for line in report.lines():
            err_console.print(labelled("bad:", "bold red", line), highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    out_console.print(
        f"ok: {report.shards} shards; sizes, sha256 and row counts match their done markers; "
        f"read {report.read:,} = kept {report.kept:,} + removed {report.removed:,}; inputs unchanged"
        + (f" ({report.inputs_unchecked} not found, not checked)" if report.inputs_unchecked else ""),
        highlight=False, soft_wrap=True,
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


@app.command(epilog="Example: filterkit train --labels sample_data/labelled/train.parquet --out classifiers/my-head")
def train(
    labels: list[Path] = typer.Option(
        ..., "--labels", metavar="FILE",
        help="parquet or jsonl with text and label (1 = proxy topic); repeat for several files",
    ),
    out: Path = typer.Option(..., "--out", metavar="FOLDER", help="classifier folder to write"),
    backend: str = typer.Option("embedding", "--backend", help="embedding (MiniLM + head) or fasttext"),
    head: str = typer.Option("logistic", "--head", help="logistic or mlp (embedding backend)"),
    split: str | None = typer.Option(None, "--split", help="use only rows of this split where a file has a split column"),
    balance: str = typer.Option("class", "--balance", help="class, or source: every source weighs the same (embedding)"),
    folds: int = typer.Option(5, "--folds", help="cross-validation folds"),
    target_recall: float = typer.Option(0.95, "--target-recall", help="threshold chosen to reach this CV recall"),
    seed: int = typer.Option(0, "--seed", help="seed for the folds and the head's training (same seed, same head)"),
    name: str | None = typer.Option(None, "--name", help="classifier name (default: folder name)"),
) -> None:
    """Train a classifier with k-fold CV; saves weights + config.json + MODEL_CARD.md."""
    try:
        if backend == "fasttext":
            from filterkit.train.fasttext import train_fasttext

            if len(labels) != 1 or split is not None:
                raise FilterkitError("the fasttext backend trains on one labels file; pass --labels once, no --split")
            report = train_fasttext(labels[0], out, folds=folds, target_recall=target_recall, seed=seed, name=name)
        elif backend == "embedding":
            from filterkit.train.embedding import train_head

            report = train_head(labels, out, head=head, folds=folds, target_recall=target_recall, seed=seed,
                                name=name, split=split, balance=balance)
        else:
            raise FilterkitError(f"unknown --backend {backend!r}; use embedding or fasttext")
    except FilterkitError as e:
        _fail(e)
        return
    out_console.print_json(json.dumps(report["cv"]))
    out_console.print(f"wrote {out}")


@app.command("train-gate", epilog="Example: filterkit train-gate --labels sample_data/labelled/train.parquet "
             "--out classifiers/my-gate")
def train_gate_cmd(
    labels: list[Path] = typer.Option(..., "--labels", metavar="FILE",
                                      help="labelled parquet/jsonl (text, label); repeat for several"),
    out: Path = typer.Option(..., "--out", metavar="FOLDER", help="gate folder to write"),
    split: str | None = typer.Option(None, "--split", help="use only rows of this split where a file has a split column"),
    static_model: Path | None = typer.Option(
        None, "--static-model", help="an existing model2vec folder; default: distil the installed MiniLM (offline)"
    ),
    negatives_rate: float = typer.Option(
        0.01, "--negatives-rate", help="share of general negatives the gate may escalate (sets its threshold)"
    ),
    window_words: int = typer.Option(256, "--window-words", help="words per window; a document scores its best window"),
) -> None:
    """Build the semantic escalation gate: a static-embedding model and a logistic head (filterkit/match/gate.py)."""
    from filterkit.data.labels import load_labelled_sets
    from filterkit.train.gate import train_gate

    try:
        data = load_labelled_sets(labels, split)
        config = train_gate(data.texts, data.y, out, static_model=static_model, groups=data.groups,
                            negatives_rate=negatives_rate, window_words=window_words, sources=data.files)
    except FilterkitError as e:
        _fail(e)
        return
    out_console.print_json(json.dumps(config["training"]["cv"]))
    out_console.print(f"wrote {out} (threshold {config['threshold']:.3f})")


@app.command(epilog="Example: filterkit tune --labels sample_data/labelled/test.parquet --classifier "
             "classifiers/biorisk-proxy-minilm --pipeline pipelines/biorisk.yaml --report runs/tune")
def tune(
    labels: Path = typer.Option(..., "--labels", metavar="FILE", help="held-out labelled parquet/jsonl (text, label)"),
    classifier: Path = typer.Option(..., "--classifier", metavar="FOLDER", help="classifier folder"),
    target_recall: float = typer.Option(
        0.95, "--target-recall", help="choose the threshold that reaches this recall on --labels (0-1]"
    ),
    pipeline: Path | None = typer.Option(None, "--pipeline", metavar="YAML",
                                            help="also report blocklist and cascade recall"),
    report: Path | None = typer.Option(None, "--report", metavar="FOLDER",
                                          help="folder for report.md and PNG plots"),
    json_path: Path | None = typer.Option(None, "--json", metavar="FILE", help="write the metrics JSON here"),
    write_threshold: bool = typer.Option(False, "--write-threshold", help="store the tuned threshold in the classifier"),
    n_boot: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for the 95% intervals"),
    seed: int = typer.Option(0, "--seed", help="seed for the bootstrap resamples"),
    device: str | None = typer.Option(
        None, "--device", help="cpu, cuda or auto; default: the pipeline's classifier.device, else auto"
    ),
) -> None:
    """Choose a threshold for a recall target and report PR/ROC/calibration, with bootstrap intervals."""
    from filterkit.evaluate.tune import tune as _tune

    try:
        res = _tune(labels, classifier, target_recall=target_recall, pipeline=pipeline, report_dir=report,
                    json_path=json_path, write_threshold=write_threshold, n_boot=n_boot, seed=seed, device=device)
    except FilterkitError as e:
        _fail(e)
        return
    t = Table("metric", "value", "95% interval", title=f"tuned at recall >= {target_recall}")
    for key in ("roc_auc", "pr_auc", "threshold", "precision", "recall", "fpr", "f1"):
        ci = (res.get("ci95") or {}).get(key)
        t.add_row(key, f"{res[key]:.4f}" if res[key] is not None else "-",
                  f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
    cascade = res.get("cascade")
    if cascade:
        for key in ("escalation_recall", "recall", "fpr"):
            t.add_row(f"cascade {key}", f"{cascade[key]:.4f}" if cascade[key] is not None else "-", "")
    out_console.print(t)
    if report:
        out_console.print(f"report: {Path(report) / 'report.md'}")


blocklist_app = typer.Typer(
    help="Build blocklist term files.", no_args_is_help=True,
    epilog="Example: filterkit blocklist build --labels sample_data/labelled/train.parquet --out my-terms.txt",
)
app.add_typer(blocklist_app, name="blocklist")


@blocklist_app.command("build", epilog="Example: filterkit blocklist build --labels sample_data/labelled/train.parquet "
                       "--out classifiers/blocklist/my-terms.txt")
def blocklist_build(
    labels: Path = typer.Option(..., "--labels", metavar="FILE", help="labelled parquet/jsonl (text, label)"),
    out: Path = typer.Option(..., "--out", metavar="FILE", help="term file to write (review it before shipping)"),
    max_terms: int = typer.Option(
        400, "--max-terms", help="write at most this many terms, most over-represented in positives first"
    ),
    min_support: int = typer.Option(3, "--min-support", help="minimum positive documents containing a term"),
    ngram_max: int = typer.Option(3, "--ngram-max", help="longest term in words, 1-5 (1: single words only)"),
    prior_scale: float = typer.Option(0.01, "--prior-scale", help="Dirichlet prior strength (x corpus counts)"),
) -> None:
    """Extract discriminative 1- to --ngram-max-word terms by log-odds with an informative Dirichlet prior."""
    from filterkit.match.build import build_blocklist

    try:
        terms = build_blocklist(labels, out, max_terms=max_terms, min_support=min_support, ngram_max=ngram_max,
                                prior_scale=prior_scale)
    except FilterkitError as e:
        _fail(e)
        return
    t = Table("term", "z", "positive docs", "negative docs", title=f"top of {len(terms)} terms written to {out}")
    for ts in terms[:15]:
        t.add_row(ts.term, f"{ts.z:.2f}", str(ts.pos_docs), str(ts.neg_docs))
    out_console.print(t)


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

    try:
        result = _rethreshold(run_dir, out, threshold=threshold, min_unique_hits=min_unique_hits)
    except FilterkitError as e:
        _fail(e)
        return
    if as_json:
        print(json.dumps({**result.counts, "run_id": result.manifest["run_id"]}))
    else:
        out_console.print(_summary_table(result.manifest))


@app.command(epilog="Example: filterkit experiment --config pipelines/experiment-cpu.yaml --out runs/exp")
def experiment(
    config: Path = typer.Option(..., "--config", metavar="YAML",
                                help="experiment YAML, e.g. pipelines/experiment-cpu.yaml "
                                "(`filterkit schema --experiment` lists its keys)"),
    out: Path = typer.Option(..., "--out", metavar="FOLDER",
                             help="folder for corpus, models, results.json, report.md, plots"),
) -> None:
    """Pretrain small LMs on filtered vs unfiltered data; evaluate, attack, and report."""
    from filterkit.experiment.harness import run_experiment

    try:
        r = run_experiment(config, out)
    except FilterkitError as e:
        _fail(e)
        return
    if r.get("mode") == "real":  # real-text mode: its side-by-side table (experiment/realreport.py)
        from filterkit.experiment.realreport import summary_rows

        out_console.print("\n".join(summary_rows(r)), markup=False, highlight=False)
        out_console.print(f"wall {r['wall_seconds']:.0f} s; results in {out}/results.json, report.md", markup=False)
        return
    t = Table("model", "proxy acc", "general acc", "proxy loss", "general loss", title=f"chance {r['chance']:.2f}")
    for name in ("baseline", "filtered"):
        s = r[name]
        t.add_row(name, f"{s['proxy_acc']:.3f}", f"{s['general_acc']:.3f}", f"{s['proxy_loss']:.3f}",
                  f"{s['general_loss']:.3f}")
    out_console.print(t)
    rec = r["filter"]["recall"]
    rec_s = "n/a (no labels)" if rec is None else f"{rec:.3f}"
    out_console.print(f"filter recall {rec_s}; wall {r['wall_seconds']:.0f} s; results in {out}/results.json, report.md")


@app.command(epilog="Example: filterkit review runs/demo --out runs/demo-review.jsonl --per-stratum 100 --by source")
def review(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="a finished run folder"),
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE", help="review file to write (JSON lines)"),
    per_stratum: int = typer.Option(100, "--per-stratum", metavar="N", help="documents drawn from each stratum"),
    seed: int = typer.Option(0, "--seed", help="seed of the draw (same run, seed and N: same sample)"),
    by: str | None = typer.Option(None, "--by", metavar="COLUMN",
                                     help="split the never-escalated documents by this input column (a source, a domain)"),
    with_scores: bool = typer.Option(False, "--with-scores",
                                     help="also write scores to <stem>.scores.jsonl (not for the annotator's eyes)"),
    max_chars: int = typer.Option(6000, "--max-chars", help="longer documents are shown as their flagged passages"),
) -> None:
    """Draw a stratified random sample of a run's decisions for blind labelling (label: 1 proxy, 0.5 borderline, 0 not)."""
    from filterkit.runs.review import review as _review

    try:
        res = _review(run_dir, out, per_stratum=per_stratum, seed=seed, by=by, with_scores=with_scores,
                      max_chars=max_chars)
    except FilterkitError as e:
        _fail(e)
        return
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
    from filterkit.evaluate.estimate import READINGS, TABLE_HEADERS, table_rows
    from filterkit.runs.review_labels import estimate_run

    try:
        res = estimate_run(run_dir, labels, n_boot=n_boot, seed=seed)
    except FilterkitError as e:
        _fail(e)
        return
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


if __name__ == "__main__":  # pragma: no cover
    app()
