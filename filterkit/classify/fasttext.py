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

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.classify.base import CONFIG_FILE, ClassifierInfo, DocScore
from filterkit.classify.registry import BACKENDS, read_classifier_info
from filterkit.config import ScoringSpec
from filterkit.errors import FilterkitError

MODEL_FILE = BACKENDS["fasttext"].weights
POSITIVE = "__label__1"
NEGATIVE = "__label__0"
TOKENIZER = "casefold-alnum-v1"
DEFAULT_WINDOW_WORDS = 200

# letters and digits only: underscores split words, so no document can contain a `__label__` token
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The tokens fastText sees: NFKC-normalised, casefolded runs of letters and digits.

    The same normal form as the blocklist matcher (:func:`filterkit.match.blocklist.normalize`); punctuation and
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


def load_fasttext_model(path: Path):
    import fasttext

    try:
        return fasttext.load_model(str(path))
    except Exception as e:  # noqa: BLE001 - fastText raises ValueError/RuntimeError with C++ messages
        raise FilterkitError(
            f"{path}: cannot load fastText model ({type(e).__name__}: {e}); re-run `filterkit train --backend fasttext`"
        ) from None


def positive_probs(model, lines: list[str]) -> np.ndarray:
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
    def load(cls, folder: str | Path, spec: ScoringSpec | None = None) -> FastTextClassifier:
        """``spec`` is accepted for the common interface; fastText has no encoder settings (CPU, whole words)."""
        info = read_classifier_info(folder)
        cfg_path = info.path / CONFIG_FILE
        if info.backend != "fasttext":
            raise FilterkitError(
                f"{cfg_path}: backend is {info.backend!r}, not 'fasttext'; load it with load_classifier"
            )
        tokenizer = info.folder.tokenizer or TOKENIZER
        if tokenizer != TOKENIZER:
            raise FilterkitError(
                f"{cfg_path}: made with tokenizer {tokenizer!r} but this filterkit uses {TOKENIZER!r}; "
                "re-train with `filterkit train --backend fasttext`"
            )
        window_words = info.folder.window_words or DEFAULT_WINDOW_WORDS
        model = load_fasttext_model(info.path / MODEL_FILE)
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
                probs = positive_probs(self.model, lines)
            except Exception:  # noqa: BLE001 - one bad line must not sink the batch: retry document by document
                probs = np.full(len(lines), np.nan)
                own = np.asarray(owner)
                for i in sorted(set(owner)):
                    idx = np.flatnonzero(own == i)
                    try:
                        probs[idx] = positive_probs(self.model, [lines[j] for j in idx])
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
