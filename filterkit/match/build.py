"""Building a blocklist term file from labelled documents (``filterkit blocklist build``).

Terms are the 1–3-grams that best separate positive from negative documents by the log-odds ratio with
an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words"): the prior, taken from
the whole corpus, shrinks rare terms towards no difference, and dividing by the estimate's standard
deviation turns it into a z-score, so a term seen in three documents cannot outrank one seen in three
hundred by luck. Counts are *documents containing the term*, not occurrences, because the blocklist stage
counts unique terms per document: one long page repeating a word must not put it on the list.

Candidate n-grams are exact substrings of the matcher's normal form (:func:`filterkit.match.blocklist.normalize`)
made of whole words joined by a space or a hyphen, so every written term matches, on word boundaries,
the documents it was counted in. The output is deterministic: the same labels and settings give a
byte-identical file (no dates in the header; ties broken by the term).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filterkit.errors import FilterkitError
from filterkit.io import write_text_atomic
from filterkit.match.blocklist import normalize

# a word starts on a boundary with a letter and runs over word characters, exactly the spans the
# matcher's boundary check accepts (so "2virus" or "_virus" yield nothing, as the matcher would)
_WORD = re.compile(r"(?<!\w)[^\W\d_]\w*")
# words separated only by these stay in one phrase; any other punctuation ends the phrase
_JOINERS = frozenset({" ", "-"})

# A compact English stop list: function words, auxiliaries and contraction stubs. An n-gram starting or
# ending with one ("of the virus", "virus is") is a fragment, never a term.
STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else etc even ever every few for
    from further had has have having he her here hers herself him himself his how however i if in into is it
    its itself just least less like many may me might more most much must my myself neither no nor not now of
    off often on once one only or other others otherwise our ours ourselves out over own per perhaps quite
    rather same several shall she should since so some such than that the their theirs them themselves then
    there these they this those though through thus to too under until up upon us used using very via was we
    were what whatever when where whereas whether which while who whom whose why will with within without
    would yet you your yours yourself yourselves
    don doesn didn isn aren wasn weren hasn haven hadn couldn shouldn wouldn won ll re ve
    """.split()
)


@dataclass(frozen=True)
class TermScore:
    """One candidate term: its z-score and the documents of each class containing it."""

    term: str
    z: float
    pos_docs: int
    neg_docs: int


def phrases(text: str) -> Iterator[list[tuple[int, int]]]:
    """Runs of word spans in normalised ``text`` joined only by a space or hyphen (phrase boundaries)."""
    run: list[tuple[int, int]] = []
    prev_end = -1
    for m in _WORD.finditer(text):
        if run and text[prev_end : m.start()] not in _JOINERS:
            yield run
            run = []
        run.append(m.span())
        prev_end = m.end()
    if run:
        yield run


def _is_edge(word: str, stop_words: frozenset[str] | set[str]) -> bool:
    """Whether a word may start or end a term: not a stop word, not a single letter."""
    return len(word) > 1 and word not in stop_words


def doc_ngrams(text: str, ngram_max: int = 3, stop_words: frozenset[str] | set[str] = STOP_WORDS) -> set[str]:
    """The distinct candidate terms of one document: 1..``ngram_max``-grams with no stop word at an edge."""
    norm = normalize(text)
    out: set[str] = set()
    for run in phrases(norm):
        words = [norm[s:e] for s, e in run]
        for i, (start, _) in enumerate(run):
            if not _is_edge(words[i], stop_words):
                continue
            for j in range(i, min(i + ngram_max, len(run))):
                if _is_edge(words[j], stop_words):
                    out.add(norm[start : run[j][1]])
    return out


def document_frequencies(
    texts: Iterable[str], labels: Iterable[int], ngram_max: int = 3, stop_words: frozenset[str] | set[str] = STOP_WORDS
) -> tuple[Counter, Counter]:
    """Per class, how many documents contain each candidate term: (positives, negatives)."""
    pos: Counter = Counter()
    neg: Counter = Counter()
    for text, label in zip(texts, labels):
        (pos if label == 1 else neg).update(doc_ngrams(text, ngram_max, stop_words))
    return pos, neg


def log_odds_z(pos: Counter, neg: Counter, prior_scale: float = 0.01, min_support: int = 1) -> list[TermScore]:
    """Monroe et al.'s z-scored log-odds ratio (positives vs negatives) with an informative Dirichlet prior.

    The prior count of a term is ``prior_scale`` × its count over the whole corpus, so the prior says
    "no difference between the classes" with a strength proportional to how common the term is. Only
    terms in at least ``min_support`` positive documents are scored; all terms count in the totals.
    """
    n1, n0 = sum(pos.values()), sum(neg.values())
    a0 = prior_scale * (n1 + n0)
    out = []
    for term, p in pos.items():
        if p < min_support:
            continue
        q = neg.get(term, 0)
        a = prior_scale * (p + q)
        delta = math.log((p + a) / (n1 + a0 - p - a)) - math.log((q + a) / (n0 + a0 - q - a))
        z = delta / math.sqrt(1 / (p + a) + 1 / (q + a))
        out.append(TermScore(term, z, p, q))
    return out


def sub_phrases(term: str) -> set[str]:
    """Every run of whole words inside ``term`` (itself included): what the matcher would also hit in it."""
    spans = [m.span() for m in _WORD.finditer(term)]
    return {term[spans[i][0] : spans[j][1]] for i in range(len(spans)) for j in range(i, len(spans))}


def drop_nested_terms(terms: Sequence[TermScore]) -> list[TermScore]:
    """Keep a term only if it neither lies inside nor contains a higher-ranked kept term.

    The matcher counts overlapping terms separately, so with ``spore``, ``germination`` and
    ``spore germination`` all listed one phrase would be three unique hits and clear
    ``min_unique_hits`` on its own. ``terms`` must already be in rank order.
    """
    kept: list[TermScore] = []
    inside_kept: set[str] = set()  # sub-phrases of kept terms
    kept_terms: set[str] = set()
    for t in terms:
        subs = sub_phrases(t.term)
        if t.term in inside_kept or subs & kept_terms:
            continue
        kept.append(t)
        kept_terms.add(t.term)
        inside_kept |= subs
    return kept


def build_terms(
    labels: str | Path,
    max_terms: int = 400,
    min_support: int = 3,
    ngram_max: int = 3,
    prior_scale: float = 0.01,
    stop_words: set[str] | None = None,
    drop_nested: bool = True,
) -> list[TermScore]:
    """The top ``max_terms`` terms over-represented in positives (z > 0), by z descending, ties by term.

    ``drop_nested`` (default) skips a term inside or containing a higher-ranked one (see
    :func:`drop_nested_terms`), so every unique hit the blocklist stage counts is separate evidence.
    """
    from filterkit.data.labels import load_labels

    if max_terms < 1 or min_support < 1 or not 1 <= ngram_max <= 5 or not prior_scale > 0:
        raise FilterkitError(
            f"blocklist build: need max_terms >= 1, min_support >= 1, 1 <= ngram_max <= 5 and prior_scale > 0 "
            f"(got {max_terms}, {min_support}, {ngram_max}, {prior_scale})"
        )
    table = load_labels(labels)
    stops = frozenset(stop_words) if stop_words is not None else STOP_WORDS
    stops = frozenset(normalize(w).strip() for w in stops)
    pos, neg = document_frequencies(
        table.column("text").to_pylist(), table.column("label").to_pylist(), ngram_max, stops
    )
    scored = [t for t in log_odds_z(pos, neg, prior_scale, min_support) if t.z > 0]
    scored.sort(key=lambda t: (-t.z, t.term))
    if drop_nested:
        scored = drop_nested_terms(scored)
    return scored[:max_terms]


def write_term_file(terms: Sequence[TermScore | str], path: str | Path, header: dict[str, Any]) -> Path:
    """Write a term file that :func:`filterkit.match.blocklist.read_terms` loads: ``# key: value`` header, one term a line.

    Written to a temporary file and renamed, so a reader never sees half a list.
    """
    names = [t.term if isinstance(t, TermScore) else str(t) for t in terms]
    if not names:
        raise FilterkitError(
            f"{path}: no terms to write; lower --min-support or add positive documents to the labels file"
        )
    for n in names:
        if "#" in n or "\n" in n or "\r" in n or not n.strip():
            raise FilterkitError(f"{path}: term {n!r} cannot be written (empty, newline or '#'); drop it")
    lines = [f"# {k}: {' '.join(str(v).split())}" for k, v in header.items()]
    return write_text_atomic(path, "\n".join(lines + names) + "\n")


def build_blocklist(labels: str | Path, out: str | Path, **kw: Any) -> list[TermScore]:
    """Build terms with :func:`build_terms` (``kw`` are its settings) and write them with a provenance header."""
    from filterkit.data.labels import load_labels
    from filterkit.io import file_sha256

    terms = build_terms(labels, **kw)
    settings = {"max_terms": 400, "min_support": 3, "ngram_max": 3, "prior_scale": 0.01, "drop_nested": True, **kw}
    y = load_labels(labels).column("label").to_pylist()
    stops = "custom list" if kw.get("stop_words") is not None else f"built-in English list ({len(STOP_WORDS)} words)"
    header = {
        "filterkit blocklist": "made by filterkit.match.build (filterkit blocklist build); edit with care",
        "source": f"{Path(labels).name} sha256 {file_sha256(Path(labels))}",
        "documents": f"{len(y)} ({sum(y)} positive, {len(y) - sum(y)} negative)",
        "statistic": "log-odds ratio with informative Dirichlet prior, z-scored (Monroe, Colaresi & Quinn 2008), "
        "on document counts; kept if z > 0, sorted by z descending, ties by term",
        "prior": f"whole-corpus document counts x {settings['prior_scale']}",
        "min_support": f"{settings['min_support']} positive documents",
        "ngrams": f"1-{settings['ngram_max']} words joined by space or hyphen, no stop word or single letter at "
        f"either edge; stop words: {stops}",
        "nested": "a term inside or containing a higher-ranked term was dropped"
        if settings["drop_nested"]
        else "kept (overlapping terms each count as a unique hit)",
        "terms": f"{len(terms)} (max_terms {settings['max_terms']})",
    }
    write_term_file(terms, out, header)
    return terms
