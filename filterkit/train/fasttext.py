"""Training the fastText backend: out-of-fold threshold choice, the final model, and its model card.

fastText trains in a child process (it aborts the interpreter on some bad inputs and keeps a large heap), so
a failure becomes one error line instead of a dead run.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.classify.base import CONFIG_FILE
from filterkit.classify.fasttext import (
    DEFAULT_WINDOW_WORDS,
    MODEL_FILE,
    NEGATIVE,
    POSITIVE,
    TOKENIZER,
    load_fasttext_model,
    positive_probs,
    windows,
)
from filterkit.errors import FilterkitError
from filterkit.io import atomic_replace, write_text_atomic

# glibc reads this at start-up: every allocation of 4 KiB or more gets its own page-aligned mapping
_CHILD_ENV = {"MALLOC_MMAP_THRESHOLD_": "4096"}


def _train_jobs(jobs_file: str) -> None:
    """Child-process entry: train each job in ``jobs_file`` and write ``{"error": ...}`` beside it.

    Runs in a fresh interpreter with a fixed mmap threshold because fastText's training arithmetic
    depends on the memory alignment of its matrices: in a long-lived process whose heap has seen other
    allocations, the same seed and one thread gave different models (and now and then a spurious
    "Encountered NaN") from run to run. Page-aligned matrices make it reproducible, byte for byte.
    """
    import fasttext

    spec = json.loads(Path(jobs_file).read_text(encoding="utf-8"))
    error = None
    try:
        for job in spec["jobs"]:
            model = fasttext.train_supervised(input=job["input"], thread=1, verbose=0, loss="softmax", **spec["params"])
            if spec["cutoff"] is not None:
                # keep the `cutoff` strongest words and n-grams, retrain them, product-quantise
                model.quantize(input=job["input"], qnorm=True, retrain=True, cutoff=spec["cutoff"])
            model.save_model(job["output"])
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises FilterkitError
        error = f"{type(e).__name__}: {e}"
    Path(jobs_file).with_suffix(".result.json").write_text(json.dumps({"error": error}), encoding="utf-8")


def _fit_all(
    datasets: list[tuple[list[str], np.ndarray]], workdir: Path, params: dict[str, Any], cutoff: int | None
) -> list[Path]:
    """Train one model per (windows, labels) pair in one child process; returns the model files."""
    import os
    import subprocess
    import sys

    jobs = []
    for k, (lines, y) in enumerate(datasets):
        data = workdir / f"train{k}.txt"
        with data.open("w", encoding="utf-8") as f:
            for line, lab in zip(lines, y):
                f.write(f"{POSITIVE if lab else NEGATIVE} {line}\n")
        jobs.append({"input": str(data), "output": str(workdir / f"model{k}.ftz")})
    jobs_file = workdir / "jobs.json"
    jobs_file.write_text(json.dumps({"jobs": jobs, "params": params, "cutoff": cutoff}), encoding="utf-8")
    package_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, **_CHILD_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    code = "import sys; from filterkit.train.fasttext import _train_jobs; _train_jobs(sys.argv[1])"
    proc = subprocess.run([sys.executable, "-c", code, str(jobs_file)], env=env, capture_output=True, text=True)
    result_file = jobs_file.with_suffix(".result.json")
    if proc.returncode != 0 or not result_file.is_file():
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        raise FilterkitError(f"fastText training process failed ({tail[0]}); check that `import fasttext` works")
    error = json.loads(result_file.read_text(encoding="utf-8"))["error"]
    if error is not None:
        raise FilterkitError(
            f"fastText training failed ({error}); lower lr (now {params['lr']}) or epoch and re-run `filterkit train`"
        )
    return [Path(j["output"]) for j in jobs]


def train_fasttext(
    labels: str | Path,
    out: str | Path,
    folds: int = 5,
    target_recall: float = 0.95,
    seed: int = 0,
    name: str | None = None,
    epoch: int = 25,
    lr: float = 0.5,
    word_ngrams: int = 2,
    dim: int = 50,
    window_words: int = DEFAULT_WINDOW_WORDS,
    bucket: int = 2_000_000,
    quantize: bool = True,
    cutoff: int = 20_000,
) -> dict[str, Any]:
    """Cross-validate, choose the threshold for ``target_recall`` on out-of-fold scores, fit on all data, save.

    Folds are assigned exactly as in :func:`filterkit.train.embedding.train_head` (stratified, seeded), and the
    cross-validated models are quantised like the final one, so the threshold fits the scores the saved
    model gives. Returns ``{"config": ..., "cv": ...}``.
    """
    from filterkit.data.labels import load_labels, texts_and_labels
    from filterkit.train.cv import (
        choose_threshold,
        classifier_config,
        data_summary,
        stratified_folds,
        write_model_card,
    )

    if folds < 2:
        raise FilterkitError(f"folds must be at least 2 (got {folds}); the threshold comes from out-of-fold scores")
    if window_words < 1:
        raise FilterkitError(f"window_words must be positive (got {window_words})")
    if not 0 <= seed < 2**31 - 1:
        raise FilterkitError(f"seed must be between 0 and 2**31 - 2 (got {seed})")
    table = load_labels(labels)
    texts, y = texts_and_labels(table)
    if min(int(y.sum()), int(len(y) - y.sum())) < folds:
        raise FilterkitError(
            f"{labels}: fewer documents of one class than folds ({folds}); add labels or lower --folds"
        )
    lines: list[str] = []
    owner_list: list[int] = []
    for i, t in enumerate(texts):
        ws = windows(t, window_words)
        lines.extend(ws)
        owner_list.extend([i] * len(ws))
    owner = np.asarray(owner_list, dtype=np.int64)
    # fastText seeds std::minstd_rand, which turns seed 0 into 1: shift so seeds 0 and 1 give different models
    params = {"epoch": epoch, "lr": lr, "wordNgrams": word_ngrams, "dim": dim, "bucket": bucket, "seed": seed + 1}

    fold_of = stratified_folds(y, folds, seed)  # the same assignment as train_head
    oof = np.full(len(y), -1.0)
    out = Path(out)
    sets = []
    for k in range(folds):
        wtrain = np.flatnonzero(fold_of[owner] != k)
        sets.append(([lines[j] for j in wtrain], y[owner][wtrain]))
    sets.append((lines, y[owner]))  # the final model, on everything
    with tempfile.TemporaryDirectory(prefix="filterkit-fasttext-") as tmp:
        files = _fit_all(sets, Path(tmp), params, cutoff if quantize else None)
        for k in range(folds):
            wtest = np.flatnonzero(fold_of[owner] == k)
            model = load_fasttext_model(files[k])
            np.maximum.at(oof, owner[wtest], positive_probs(model, [lines[j] for j in wtest]))
        out.mkdir(parents=True, exist_ok=True)
        tmp_model = out / (MODEL_FILE + ".tmp")
        shutil.copyfile(files[-1], tmp_model)  # the temp folder may be on another file system
        atomic_replace(tmp_model, out / MODEL_FILE)
    threshold, cv = choose_threshold(oof, y, target_recall)
    summary = data_summary(labels, table, y, len(owner))
    hyper = {
        "epoch": epoch,
        "lr": lr,
        "word_ngrams": word_ngrams,
        "dim": dim,
        "bucket": bucket,
        "loss": "softmax",
        "thread": 1,
        "fasttext_seed": seed + 1,
        "quantize": quantize,
        "cutoff": cutoff if quantize else None,
    }
    config = classifier_config(
        "fasttext",
        name or out.name,
        threshold,
        target_recall,
        summary,
        folds,
        seed,
        cv,
        {"tokenizer": TOKENIZER, "window_words": window_words},
        {"hyperparameters": hyper},
    )
    write_text_atomic(out / CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")
    quant = f"quantised (top {cutoff:,} words and bigrams kept)" if quantize else "not quantised"
    write_model_card(
        out,
        config,
        FASTTEXT_ABOUT.format(word_ngrams=word_ngrams, dim=dim, quant=quant, window_words=window_words),
        FASTTEXT_FAILURE_MODES,
        f"Hyperparameters: epoch {epoch}, lr {lr}, bucket {bucket:,}, seed {seed}, one thread.",
    )
    return {"config": config, "cv": cv}


FASTTEXT_ABOUT = """fastText classifier for filterkit: words and word n-grams up to {word_ngrams}, {dim}-d, softmax over two
labels, {quant}. Text is casefolded and cut into letter/digit words; a document is scored in windows of about
{window_words} words and its score is the max over its windows. No encoder and no GPU: a CPU core scores
thousands of documents per second."""
FASTTEXT_FAILURE_MODES = [
    "A bag of words: it sees which words occur, not what is said about them. Documents that use the topic's "
    "vocabulary in another sense (lexical traps) or discuss it without its usual terms fool it more easily than "
    "the embedding head; on a few hundred training documents cross-validated metrics overstate held-out ones.",
    "Expect lower recall on informal, jargon-heavy or non-English text, and check the false-positive rate on "
    "your own general data (`filterkit tune`).",
    "Short texts in another register (news snippets, captions) give it few known words, and their scores swing "
    "with a handful of them: measure its false-positive rate on short general text before letting it decide on "
    "documents the blocklist did not escalate.",
    "Scores are not calibrated probabilities.",
]
