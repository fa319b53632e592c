"""The commands that make what a pipeline uses (train, train-gate, tune, blocklist build) and the experiment."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from filterkit.cli.base import app, out_console, user_errors
from filterkit.errors import FilterkitError


@app.command(epilog="Example: filterkit train --labels sample_data/labelled/train.parquet --out classifiers/my-head")
def train(
    labels: list[Path] = typer.Option(
        ...,
        "--labels",
        metavar="FILE",
        help="parquet or jsonl with text and label (1 = proxy topic); repeat for several files",
    ),
    out: Path = typer.Option(..., "--out", metavar="FOLDER", help="classifier folder to write"),
    backend: str = typer.Option("embedding", "--backend", help="embedding (MiniLM + head) or fasttext"),
    head: str = typer.Option("logistic", "--head", help="logistic or mlp (embedding backend)"),
    split: str | None = typer.Option(
        None, "--split", help="use only rows of this split where a file has a split column"
    ),
    balance: str = typer.Option(
        "class", "--balance", help="class, or source: every source weighs the same (embedding)"
    ),
    folds: int = typer.Option(5, "--folds", help="cross-validation folds"),
    target_recall: float = typer.Option(0.95, "--target-recall", help="threshold chosen to reach this CV recall"),
    seed: int = typer.Option(0, "--seed", help="seed for the folds and the head's training (same seed, same head)"),
    name: str | None = typer.Option(None, "--name", help="classifier name (default: folder name)"),
) -> None:
    """Train a classifier with k-fold CV; saves weights + config.json + MODEL_CARD.md."""
    with user_errors():
        if backend == "fasttext":
            from filterkit.train.fasttext import train_fasttext

            if len(labels) != 1 or split is not None:
                raise FilterkitError("the fasttext backend trains on one labels file; pass --labels once, no --split")
            report = train_fasttext(labels[0], out, folds=folds, target_recall=target_recall, seed=seed, name=name)
        elif backend == "embedding":
            from filterkit.train.embedding import train_head

            report = train_head(
                labels,
                out,
                head=head,
                folds=folds,
                target_recall=target_recall,
                seed=seed,
                name=name,
                split=split,
                balance=balance,
            )
        else:
            raise FilterkitError(f"unknown --backend {backend!r}; use embedding or fasttext")
    out_console.print_json(json.dumps(report["cv"]))
    out_console.print(f"wrote {out}")


@app.command(
    "train-gate",
    epilog="Example: filterkit train-gate --labels sample_data/labelled/train.parquet --out classifiers/my-gate",
)
def train_gate_cmd(
    labels: list[Path] = typer.Option(
        ..., "--labels", metavar="FILE", help="labelled parquet/jsonl (text, label); repeat for several"
    ),
    out: Path = typer.Option(..., "--out", metavar="FOLDER", help="gate folder to write"),
    split: str | None = typer.Option(
        None, "--split", help="use only rows of this split where a file has a split column"
    ),
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

    with user_errors():
        data = load_labelled_sets(labels, split)
        config = train_gate(
            data.texts,
            data.y,
            out,
            static_model=static_model,
            groups=data.groups,
            negatives_rate=negatives_rate,
            window_words=window_words,
            sources=data.files,
        )
    out_console.print_json(json.dumps(config["training"]["cv"]))
    out_console.print(f"wrote {out} (threshold {config['threshold']:.3f})")


@app.command(
    epilog="Example: filterkit tune --labels sample_data/labelled/test.parquet --classifier "
    "classifiers/biorisk-proxy-minilm --pipeline pipelines/biorisk.yaml --report runs/tune"
)
def tune(
    labels: Path = typer.Option(..., "--labels", metavar="FILE", help="held-out labelled parquet/jsonl (text, label)"),
    classifier: Path = typer.Option(..., "--classifier", metavar="FOLDER", help="classifier folder"),
    target_recall: float = typer.Option(
        0.95, "--target-recall", help="choose the threshold that reaches this recall on --labels (0-1]"
    ),
    pipeline: Path | None = typer.Option(
        None, "--pipeline", metavar="YAML", help="also report blocklist and cascade recall"
    ),
    report: Path | None = typer.Option(None, "--report", metavar="FOLDER", help="folder for report.md and PNG plots"),
    json_path: Path | None = typer.Option(None, "--json", metavar="FILE", help="write the metrics JSON here"),
    write_threshold: bool = typer.Option(
        False, "--write-threshold", help="store the tuned threshold in the classifier"
    ),
    n_boot: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for the 95% intervals"),
    seed: int = typer.Option(0, "--seed", help="seed for the bootstrap resamples"),
    device: str | None = typer.Option(
        None, "--device", help="cpu, cuda or auto; default: the pipeline's classifier.device, else auto"
    ),
) -> None:
    """Choose a threshold for a recall target and report PR/ROC/calibration, with bootstrap intervals."""
    from filterkit.evaluate.tune import tune as _tune

    with user_errors():
        res = _tune(
            labels,
            classifier,
            target_recall=target_recall,
            pipeline=pipeline,
            report_dir=report,
            json_path=json_path,
            write_threshold=write_threshold,
            n_boot=n_boot,
            seed=seed,
            device=device,
        )
    t = Table("metric", "value", "95% interval", title=f"tuned at recall >= {target_recall}")
    for key in ("roc_auc", "pr_auc", "threshold", "precision", "recall", "fpr", "f1"):
        ci = (res.get("ci95") or {}).get(key)
        t.add_row(key, f"{res[key]:.4f}" if res[key] is not None else "-", f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
    cascade = res.get("cascade")
    if cascade:
        for key in ("escalation_recall", "recall", "fpr"):
            t.add_row(f"cascade {key}", f"{cascade[key]:.4f}" if cascade[key] is not None else "-", "")
    out_console.print(t)
    if report:
        out_console.print(f"report: {Path(report) / 'report.md'}")


blocklist_app = typer.Typer(
    help="Build blocklist term files.",
    no_args_is_help=True,
    epilog="Example: filterkit blocklist build --labels sample_data/labelled/train.parquet --out my-terms.txt",
)


app.add_typer(blocklist_app, name="blocklist")


@blocklist_app.command(
    "build",
    epilog="Example: filterkit blocklist build --labels sample_data/labelled/train.parquet "
    "--out classifiers/blocklist/my-terms.txt",
)
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

    with user_errors():
        terms = build_blocklist(
            labels, out, max_terms=max_terms, min_support=min_support, ngram_max=ngram_max, prior_scale=prior_scale
        )
    t = Table("term", "z", "positive docs", "negative docs", title=f"top of {len(terms)} terms written to {out}")
    for ts in terms[:15]:
        t.add_row(ts.term, f"{ts.z:.2f}", str(ts.pos_docs), str(ts.neg_docs))
    out_console.print(t)


@app.command(epilog="Example: filterkit experiment --config pipelines/experiment-cpu.yaml --out runs/exp")
def experiment(
    config: Path = typer.Option(
        ...,
        "--config",
        metavar="YAML",
        help="experiment YAML, e.g. pipelines/experiment-cpu.yaml (`filterkit schema --experiment` lists its keys)",
    ),
    out: Path = typer.Option(
        ..., "--out", metavar="FOLDER", help="folder for corpus, models, results.json, report.md, plots"
    ),
) -> None:
    """Pretrain small LMs on filtered vs unfiltered data; evaluate, attack, and report."""
    from filterkit.experiment.harness import run_experiment

    with user_errors():
        r = run_experiment(config, out)
    if r.get("mode") == "real":  # real-text mode: its side-by-side table (experiment/realreport.py)
        from filterkit.experiment.realreport import summary_rows

        out_console.print("\n".join(summary_rows(r)), markup=False, highlight=False)
        out_console.print(f"wall {r['wall_seconds']:.0f} s; results in {out}/results.json, report.md", markup=False)
        return
    t = Table("model", "proxy acc", "general acc", "proxy loss", "general loss", title=f"chance {r['chance']:.2f}")
    for name in ("baseline", "filtered"):
        s = r[name]
        t.add_row(
            name,
            f"{s['proxy_acc']:.3f}",
            f"{s['general_acc']:.3f}",
            f"{s['proxy_loss']:.3f}",
            f"{s['general_loss']:.3f}",
        )
    out_console.print(t)
    rec = r["filter"]["recall"]
    rec_s = "n/a (no labels)" if rec is None else f"{rec:.3f}"
    out_console.print(
        f"filter recall {rec_s}; wall {r['wall_seconds']:.0f} s; results in {out}/results.json, report.md"
    )
