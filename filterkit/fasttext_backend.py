"""fastText classifier backend: a bag-of-words-and-bigrams model that needs no encoder and no GPU.

A classifier folder holds ``config.json`` (``backend: fasttext``, threshold, window size, training
summary) and ``model.ftz``, a quantised fastText model. The ``.ftz``/``.bin`` format is fastText's own
binary matrix format, not pickle, so loading a downloaded folder cannot run code.

Documents are scored with the same any-window rule as the embedding backend: the text is cut into
windows of about ``window_words`` words and its score is the maximum window probability of
``__label__1``, so one proxy passage at the end of a long page is enough. Training cuts the labelled
documents the same way, every window carrying its document's label, and a document's out-of-fold
score is the max over its windows — cross-validated metrics measure the rule the pipeline applies.

Text goes through :func:`words` both at training and at scoring time; the config records its name
(``tokenizer``), and loading a folder made with another tokenizer fails instead of scoring silently wrong.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from filterkit.errors import FilterkitError
from filterkit.heads import CONFIG_FILE, BACKEND_FILES, ClassifierInfo, DocScore, read_classifier_info

MODEL_FILE = BACKEND_FILES["fasttext"]
POSITIVE = "__label__1"
NEGATIVE = "__label__0"
TOKENIZER = "casefold-alnum-v1"
DEFAULT_WINDOW_WORDS = 200

# letters and digits only: underscores split words, so no document can contain a `__label__` token
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The tokens fastText sees: NFKC-normalised, casefolded runs of letters and digits.

    The same normal form as the blocklist matcher (:func:`filterkit.blocklist.normalize`); punctuation and
    newlines drop out, which also makes every window a valid one-line fastText input.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.casefold())


def windows(text: str, window_words: int) -> list[str]:
    """Cut a document into near-equal windows of at most ``window_words`` words, as one-line strings.

    Equal parts rather than a fixed stride, so a 210-word page gives two windows of 105 words and not a
    10-word tail whose few words would decide the document's max score on their own. An empty document
    is one empty window (fastText still scores it from the end-of-line token).
    """
    toks = words(text)
    n = max(1, -(-len(toks) // window_words))
    size = -(-len(toks) // n) if toks else 0
    return [" ".join(toks[i * size : (i + 1) * size]) for i in range(n)]


def _load_model(path: Path):
    import fasttext

    try:
        return fasttext.load_model(str(path))
    except Exception as e:  # noqa: BLE001 - fastText raises ValueError/RuntimeError with C++ messages
        raise FilterkitError(
            f"{path}: cannot load fastText model ({type(e).__name__}: {e}); re-run `filterkit train --backend fasttext`"
        ) from None


def _positive_probs(model, lines: list[str]) -> np.ndarray:
    labels, probs = model.predict(lines, k=-1, threshold=0.0)
    out = np.empty(len(lines))
    for i, (lab, p) in enumerate(zip(labels, probs)):
        # fastText reports exp(log(p + 1e-5)), so a certain prediction can read 1.00001
        out[i] = min(1.0, float(dict(zip(lab, p)).get(POSITIVE, 0.0)))
    return out


@dataclass
class FastTextClassifier:
    """A loaded fastText classifier folder. Pickles as its folder path and reloads on the other side."""

    info: ClassifierInfo
    model: Any = field(repr=False)
    window_words: int = DEFAULT_WINDOW_WORDS
    stats: dict[str, float] = field(default_factory=lambda: {"windows": 0, "words": 0})

    @classmethod
    def load(cls, folder: str | Path) -> "FastTextClassifier":
        info = read_classifier_info(folder)
        cfg_path = info.path / CONFIG_FILE
        if info.backend != "fasttext":
            raise FilterkitError(
                f"{cfg_path}: backend is {info.backend!r}, not 'fasttext'; load it with load_classifier"
            )
        tokenizer = info.config.get("tokenizer", TOKENIZER)
        if tokenizer != TOKENIZER:
            raise FilterkitError(
                f"{cfg_path}: made with tokenizer {tokenizer!r} but this filterkit uses {TOKENIZER!r}; "
                "re-train with `filterkit train --backend fasttext`"
            )
        window_words = info.config.get("window_words", DEFAULT_WINDOW_WORDS)
        if not isinstance(window_words, int) or window_words < 1:
            raise FilterkitError(f"{cfg_path}: window_words must be a positive integer, got {window_words!r}")
        model = _load_model(info.path / MODEL_FILE)
        if POSITIVE not in model.get_labels():
            raise FilterkitError(
                f"{info.path / MODEL_FILE}: model has labels {model.get_labels()} but no {POSITIVE!r}; "
                "train it on labels 0 and 1 with `filterkit train --backend fasttext`"
            )
        return cls(info, model, window_words)

    def __reduce__(self):
        return (type(self).load, (str(self.info.path),))

    def submit(self, texts: Sequence[str]) -> list[DocScore]:
        """Scores eagerly (fastText runs on the CPU; there is nothing to overlap); :meth:`collect` returns them."""
        return self.score(texts)

    @staticmethod
    def collect(pending: list[DocScore]) -> list[DocScore]:
        return pending

    def score(self, texts: Sequence[str]) -> list[DocScore]:
        """Score documents; a document that cannot be cut or scored gets an error and the rest go on."""
        lines: list[str] = []
        owner: list[int] = []
        results: list[DocScore | None] = [None] * len(texts)
        for i, text in enumerate(texts):
            try:
                ws = windows(text, self.window_words)
            except Exception as e:  # noqa: BLE001 - recorded per document
                results[i] = DocScore(None, 0, f"fasttext: {type(e).__name__}: {e}"[:200])
                continue
            lines.extend(ws)
            owner.extend([i] * len(ws))
        if lines:
            try:
                probs = _positive_probs(self.model, lines)
            except Exception:  # one bad line must not sink the batch: retry document by document
                probs = np.full(len(lines), np.nan)
                own = np.asarray(owner)
                for i in sorted(set(owner)):
                    idx = np.flatnonzero(own == i)
                    try:
                        probs[idx] = _positive_probs(self.model, [lines[j] for j in idx])
                    except Exception as e:  # noqa: BLE001 - recorded per document
                        results[i] = DocScore(None, 0, f"fasttext: {type(e).__name__}: {e}"[:200])
            self.stats["windows"] += len(lines)
            self.stats["words"] += sum(line.count(" ") + 1 for line in lines if line)
            best = np.full(len(texts), -1.0)
            count = np.zeros(len(texts), dtype=np.int64)
            own = np.asarray(owner)
            np.maximum.at(best, own, probs)
            np.add.at(count, own, 1)
            for i in range(len(texts)):
                if results[i] is None and count[i]:
                    results[i] = DocScore(float(best[i]), int(count[i]))
        return [r if r is not None else DocScore(None, 0, "fasttext: no windows") for r in results]


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
            model = fasttext.train_supervised(
                input=job["input"], thread=1, verbose=0, loss="softmax", **spec["params"]
            )
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
    code = "import sys; from filterkit.fasttext_backend import _train_jobs; _train_jobs(sys.argv[1])"
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

    Folds are assigned exactly as in :func:`filterkit.training.train_head` (stratified, seeded), and the
    cross-validated models are quantised like the final one, so the threshold fits the scores the saved
    model gives. Returns ``{"config": ..., "cv": ...}``.
    """
    from filterkit.training import (
        binary_metrics,
        data_summary,
        load_labels,
        stratified_folds,
        threshold_for_recall,
    )

    if folds < 2:
        raise FilterkitError(f"folds must be at least 2 (got {folds}); the threshold comes from out-of-fold scores")
    if window_words < 1:
        raise FilterkitError(f"window_words must be positive (got {window_words})")
    if not 0 <= seed < 2**31 - 1:
        raise FilterkitError(f"seed must be between 0 and 2**31 - 2 (got {seed})")
    table = load_labels(labels)
    texts = table.column("text").to_pylist()
    y = np.asarray(table.column("label").to_pylist(), dtype=np.int64)
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
            model = _load_model(files[k])
            np.maximum.at(oof, owner[wtest], _positive_probs(model, [lines[j] for j in wtest]))
        out.mkdir(parents=True, exist_ok=True)
        tmp_model = out / (MODEL_FILE + ".tmp")
        shutil.copyfile(files[-1], tmp_model)  # the temp folder may be on another file system
        tmp_model.replace(out / MODEL_FILE)
    threshold = threshold_for_recall(oof, y, target_recall)
    cv = binary_metrics(oof, y, threshold)
    summary = data_summary(labels, table, y, len(owner))
    hyper = {
        "epoch": epoch, "lr": lr, "word_ngrams": word_ngrams, "dim": dim, "bucket": bucket,
        "loss": "softmax", "thread": 1, "fasttext_seed": seed + 1,
        "quantize": quantize, "cutoff": cutoff if quantize else None,
    }
    config = {
        "name": name or out.name,
        "backend": "fasttext",
        "tokenizer": TOKENIZER,
        "window_words": window_words,
        "threshold": threshold,
        "threshold_rule": (  # the wording train_head uses for the same rule (training.threshold_for_recall)
            f"out-of-fold recall >= {target_recall}, lowered to the next negative score at no extra "
            "false positive, midway in the gap"
        ),
        "labels": ["other", "proxy"],
        "training": {"data": summary, "folds": folds, "seed": seed, "cv": cv, "hyperparameters": hyper},
    }
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _write_model_card(out, config)
    return {"config": config, "cv": cv}


def _write_model_card(out: Path, config: dict[str, Any]) -> None:
    cv = config["training"]["cv"]
    data = config["training"]["data"]
    hp = config["training"]["hyperparameters"]
    quant = f"quantised (top {hp['cutoff']:,} words and bigrams kept)" if hp["quantize"] else "not quantised"
    card = f"""# {config['name']}

fastText classifier for filterkit: words and word n-grams up to {hp['word_ngrams']}, {hp['dim']}-d, softmax over two labels,
{quant}. Text is casefolded and cut into letter/digit words; a document is scored in windows of about
{config['window_words']} words and its score is the max over its windows. No encoder and no GPU: a CPU core
scores thousands of documents per second.

## Intended use
Flags documents about the biothreat *proxy* topic (microbiology, virology, pathogens and infectious-disease
mechanisms, genetic manipulation of microbes) so they can be kept out of LM pretraining data. Use it behind the
blocklist stage (`filterkit run`), which escalates only documents with several topic terms, or as a cheap
first classifier in front of the embedding head.

## Training data
`{data['file']}`: {data['documents']} documents ({data['positives']} positive, {data['negatives']} negative),
{data['windows']} windows; groups: {json.dumps(data['groups'])}.
Hyperparameters: epoch {hp['epoch']}, lr {hp['lr']}, bucket {hp['bucket']:,}, seed {config['training']['seed']},
one thread.

## Cross-validated metrics ({config['training']['folds']}-fold, out-of-fold document scores)
| ROC-AUC | PR-AUC | threshold | precision | recall | FPR | F1 |
|---|---|---|---|---|---|---|
| {cv['roc_auc']:.3f} | {cv['pr_auc']:.3f} | {cv['threshold']:.3f} | {cv['precision']:.3f} | {cv['recall']:.3f} | {cv['fpr']:.3f} | {cv['f1']:.3f} |

Threshold rule: {config['threshold_rule']}.

## Known failure modes
- A bag of words: it sees which words occur, not what is said about them. Documents that use the topic's
  vocabulary in another sense (lexical traps) or discuss it without its usual terms fool it more easily than
  the embedding head; on a few hundred training documents cross-validated metrics overstate held-out ones.
- Trained on team-written encyclopedia-style documents: expect lower recall on informal, jargon-heavy or
  non-English text, and check the false-positive rate on your own general data (`filterkit tune`).
- Short texts in another register (news snippets, captions) give it few known words, and their scores swing
  with a handful of them: measure its false-positive rate on short general text before letting it decide
  on documents the blocklist did not escalate.
- Scores are not calibrated probabilities.
"""
    (out / "MODEL_CARD.md").write_text(card, encoding="utf-8")
