"""Precision, recall and collateral removal on a corpus nobody labelled: a stratified sample, weighted back.

A run's decisions split its documents into strata (removed by the classifier, escalated and kept, not
escalated, ...) of known sizes. Reading a random sample of each stratum and weighting every labelled document by
``stratum_size / labelled_in_stratum`` estimates any total over the whole corpus (the stratified estimator:
per-stratum proportion x stratum size, summed). A plain average over the labelled documents would be wrong, because
strata are sampled at very different rates: 100 of 200 removals but 100 of a million kept documents.

Every metric is a ratio of such totals:

* precision = proxy documents removed / documents removed;
* recall = proxy documents removed / proxy documents;
* non-proxy removal share = non-proxy documents removed / all documents (the good data the filter throws away).

Labels are 1 (proxy), 0.5 (borderline) or 0 (not). The strict reading counts only 1 as proxy, the lenient one
counts 0.5 too; both are reported, because borderline pages are where filters and annotators disagree.

Intervals come from a bootstrap that resamples within strata (the Rao-Wu rescaling bootstrap: ``n - 1`` draws per
stratum, rescaled by ``sqrt(1 - n/N)``), so a stratum labelled in full (every removal read) adds no sampling error
and a stratum sampled at 1% adds its full share. A stratum with a single label has no variance estimate; it is
held at its value and named in ``notes``. Resamples where a ratio is undefined (nothing removed in that resample)
are left out of its interval.

:func:`estimate` takes per-document rows and needs no run folder: the benchmarks, ``filterkit estimate`` and the run
report all call it, so a number means the same thing wherever it is printed. The rows it reads are checked in
:mod:`filterkit.evaluate.labelled`; the one table it is printed as is :mod:`filterkit.evaluate.estimate_table`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from filterkit.errors import FilterkitError
from filterkit.evaluate.labelled import LabelledDoc, as_docs

# LabelledDoc is estimate()'s row type (docs/review.md imports both from here); the table is in estimate_table
__all__ = ["Cell", "Estimate", "LabelledDoc", "Metric", "Reading", "estimate"]

METHOD = (
    "stratified estimator (labelled documents weighted by stratum size / labels in stratum); ratio metrics; "
    "{level:.0%} percentile intervals from {n_boot} Rao-Wu rescaled bootstrap resamples within strata"
)


class Metric(BaseModel):
    """A point estimate and its interval; ``value`` None with ``undefined`` saying why (never a 0/0)."""

    value: float | None
    ci95: tuple[float, float] | None = None
    undefined: str | None = None


class Reading(BaseModel):
    """The metrics under one reading of the labels (strict: 1 is proxy; lenient: 0.5 and 1 are)."""

    proxy_share: Metric  # proxy documents / documents
    precision: Metric
    recall: Metric
    nonproxy_removed_share: Metric  # non-proxy documents removed / documents


class Cell(BaseModel):
    """The estimates for one set of documents: the whole corpus, one stratum, or one group."""

    name: str
    kind: Literal["overall", "stratum", "group"]
    size: float  # documents in the cell: exact for strata (and the overall without a scope), else estimated
    size_exact: bool
    sampled: int  # documents of the cell in the sample, labelled or not
    labelled: int
    removed_share: Metric
    strict: Reading
    lenient: Reading


class Estimate(BaseModel):
    """Overall, per-stratum and per-group estimates, with how they were made."""

    overall: Cell
    strata: list[Cell]
    groups: list[Cell]
    population: int  # sum of the stratum sizes
    labelled: int
    scope: list[str] | None
    n_boot: int
    seed: int
    level: float
    method: str
    notes: list[str]


@dataclass
class _Design:
    """The sample as arrays: labelled rows with their weights, and what is known of the unlabelled strata."""

    strata: dict[str, int]  # name -> size
    labelled_in: dict[str, int]
    sampled_in: dict[str, int]
    stratum: np.ndarray  # per labelled row
    group: np.ndarray
    removed: np.ndarray  # float 0/1 (0 outside the scope, where it is not read)
    label: np.ndarray
    in_scope: np.ndarray
    weight: np.ndarray
    unlabelled: list[LabelledDoc]  # sampled rows of strata with no label at all, in scope


def _design(docs: Sequence[LabelledDoc], scope: set[str] | None) -> _Design:
    strata: dict[str, int] = {}
    labelled_in: dict[str, int] = {}
    sampled_in: dict[str, int] = {}
    for d in docs:
        if strata.setdefault(d.stratum, d.stratum_size) != d.stratum_size:
            raise FilterkitError(
                f"stratum {d.stratum!r} is given two sizes ({strata[d.stratum]} and {d.stratum_size}); "
                "every row of a stratum must carry the same stratum_size"
            )
        sampled_in[d.stratum] = sampled_in.get(d.stratum, 0) + 1
        labelled_in[d.stratum] = labelled_in.get(d.stratum, 0) + (d.label is not None)
        if d.removed is None and (scope is None or d.group in scope):
            raise FilterkitError(
                f"row {d.id or ''} in stratum {d.stratum!r}: removed is null; it may be null only for a "
                "document outside the scope"
            )
    for s, n in labelled_in.items():
        if n > strata[s]:
            raise FilterkitError(
                f"stratum {s!r}: {n} labelled documents but a stratum size of {strata[s]}; "
                "the size must count every document of the stratum in the corpus"
            )
    lab = [d for d in docs if d.label is not None]
    in_scope = np.array([scope is None or d.group in scope for d in lab], dtype=bool)
    return _Design(
        strata,
        labelled_in,
        sampled_in,
        stratum=np.array([d.stratum for d in lab], dtype=object),
        group=np.array([d.group for d in lab], dtype=object),
        removed=np.array([float(bool(d.removed)) for d in lab]) * in_scope,
        label=np.array([d.label for d in lab], dtype=float),
        in_scope=in_scope,
        weight=np.array([strata[d.stratum] / labelled_in[d.stratum] for d in lab], dtype=float),
        unlabelled=[d for d in docs if labelled_in[d.stratum] == 0 and (scope is None or d.group in scope)],
    )


def _unseen_cases(design: _Design, level: float) -> list[str]:
    """A stratum read in part whose labels are all alike gives a bootstrap interval of width zero, yet rarer cases may
    hide in it: no proxy label among the kept pages read (which bounds recall), or only proxy labels among the
    removals read (which bounds precision). Say how many, by the exact (Clopper-Pearson) upper bound of a zero count."""
    out = []
    for s in sorted(design.strata):
        m = (design.stratum == s) & design.in_scope
        n, size = int(m.sum()), design.strata[s]
        proxy = int((design.label[m] >= 1.0).sum())
        if 0 < n < size and proxy in (0, n):
            upper = 1.0 - ((1 - level) / 2) ** (1 / n)
            what = "proxy" if proxy == 0 else "non-proxy"
            out.append(
                f"{s}: no {what} label in {n} of {size:,} documents; the interval cannot see rarer ones (a "
                f"{level:.0%} upper bound on its {what} share is {upper:.3f}, up to {upper * size:,.0f} documents)"
            )
    return out


BOOT_CHUNK = 100  # resamples whose weights are held at once: memory stays at 100 x labelled rows


def _boot_totals(design: _Design, v: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted column totals of ``v`` (labelled rows x k) in each of ``n_boot`` Rao-Wu rescaled bootstrap resamples
    (k x n_boot): per stratum ``n_h - 1`` draws with replacement, scaled by ``sqrt(1 - n_h / N_h)``, so a stratum
    labelled in full keeps its weights in every resample and none gets a negative weight."""
    plan = []
    for s in sorted(design.strata):
        idx = np.flatnonzero(design.stratum == s)
        if len(idx) >= 2:  # one label: no variance estimate (named in notes)
            plan.append((idx, np.sqrt(1.0 - len(idx) / design.strata[s])))
    out = []
    for start in range(0, n_boot, BOOT_CHUNK):
        b = min(BOOT_CHUNK, n_boot - start)
        w = np.tile(design.weight, (b, 1))
        for idx, lam in plan:
            n = len(idx)
            counts = rng.multinomial(n - 1, np.full(n, 1.0 / n), size=b)
            w[:, idx] *= 1.0 - lam + lam * n / (n - 1) * counts
        out.append(w @ v)
    return np.concatenate(out, axis=0).T


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _metric(point: float, draws: np.ndarray, level: float, why: str) -> Metric:
    if not np.isfinite(point):
        return Metric(value=None, undefined=why)
    d = draws[np.isfinite(draws)]
    a = (1 - level) / 2 * 100
    ci = (round(float(np.percentile(d, a)), 12), round(float(np.percentile(d, 100 - a)), 12)) if len(d) else None
    return Metric(value=round(float(point), 12), ci95=ci)


def _undefined(why: str) -> Metric:
    return Metric(value=None, undefined=why)


@dataclass
class _CellSpec:
    name: str
    kind: str
    mask: np.ndarray  # over labelled rows
    size: int | None  # exact document count when known (else estimated from the weights)
    unlabelled: list[LabelledDoc]  # the cell's sampled rows in strata without a single label
    sampled: int  # all its sampled rows, labelled or not
    labelled: int = 0  # its labelled rows (set by :func:`estimate`)

    def columns(self, design: _Design) -> np.ndarray:
        """Labelled rows x 6: in cell, removed, strict proxy, removed strict proxy, lenient proxy, removed lenient."""
        d = (self.mask & design.in_scope).astype(float)
        rem = design.removed * d
        strict, lenient = (design.label >= 1.0) * d, (design.label >= 0.5) * d
        return np.stack([d, rem, strict, rem * strict, lenient, rem * lenient], axis=1)


def _cell(spec: _CellSpec, tp: np.ndarray, tb: np.ndarray, level: float) -> Cell:
    """One cell's estimates from its column totals: ``tp`` (6,) on the sample, ``tb`` (6, n_boot) per resample."""
    name, kind, size, unlabelled = spec.name, spec.kind, spec.size, spec.unlabelled
    exact = size is not None
    n_p, n_b = (float(size), np.full(tb.shape[1], float(size))) if exact else (tp[0], tb[0])
    # strata with no label at all: what they hold is unknown, so a metric that counts them is undefined
    blind = sorted({u.stratum for u in unlabelled})
    blind_removed = sorted({u.stratum for u in unlabelled if u.removed})
    needs_all = f"no labels in stratum {', '.join(blind)}" if blind else None
    needs_removals = f"no labels in stratum {', '.join(blind_removed)}, which holds removals" if blind_removed else None
    needs_share = needs_removals if exact else needs_all  # an estimated size misses the unlabelled strata's documents

    def ratio(num: int | tuple[int, int], den: int | None, why: str, blocked: str | None) -> Metric:
        """Totals column ``num`` (a pair: their difference) over column ``den`` (None: the cell's size)."""
        if blocked:
            return _undefined(blocked)
        top_p, top_b = (
            (tp[num], tb[num]) if isinstance(num, int) else (tp[num[0]] - tp[num[1]], tb[num[0]] - tb[num[1]])
        )
        bot_p, bot_b = (n_p, n_b) if den is None else (tp[den], tb[den])
        return _metric(float(_ratio(np.array(top_p), np.array(bot_p))), _ratio(top_b, bot_b), level, why)

    readings = {
        key: Reading(
            proxy_share=ratio(pos, None, "no documents", needs_all),
            precision=ratio(pos + 1, 1, "nothing removed", needs_removals),
            recall=ratio(pos + 1, pos, "no proxy labels", needs_all),
            nonproxy_removed_share=ratio((1, pos + 1), None, "no documents", needs_share),
        )
        for key, pos in (("strict", 2), ("lenient", 4))
    }
    return Cell(
        name=name,
        kind=kind,
        size=float(n_p) if np.isfinite(n_p) else 0.0,
        size_exact=exact,
        sampled=spec.sampled,
        labelled=spec.labelled,
        removed_share=ratio(1, None, "no documents", needs_share),
        **readings,
    )


def estimate(
    rows: Iterable[LabelledDoc | Mapping[str, Any]],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    scope: Iterable[str] | None = None,
) -> Estimate:
    """Stratified estimates of precision, recall and non-proxy removal, overall, per stratum and per group.

    ``rows``: every sampled document (:class:`LabelledDoc` or a mapping with its keys). ``scope``: group names
    (e.g. the dev split's sources) whose documents make up the population to estimate for; rows outside it still
    count towards their stratum's sample size (they were drawn with it), but their decisions and labels are not
    read. Without a scope, the population is every stratum in full.
    """
    docs = as_docs(rows)
    if not docs:
        raise FilterkitError("no rows to estimate from: the labels file or row list is empty")
    if n_boot < 1 or not 0 < level < 1:
        raise FilterkitError(f"need at least one bootstrap resample and a level in (0, 1) (got {n_boot}, {level})")
    scope_set = None if scope is None else {str(s) for s in scope}
    design = _design(docs, scope_set)
    notes = []
    single = sorted(s for s, n in design.labelled_in.items() if n == 1 and design.strata[s] > 1)
    if single:
        notes.append(f"one label only in {', '.join(single)}: no sampling error estimated there (intervals too narrow)")
    skipped = sum(design.sampled_in[s] - design.labelled_in[s] for s in design.strata if design.labelled_in[s])
    if skipped:
        notes.append(
            f"{skipped} sampled documents without a label left out (taken as missing at random in their stratum)"
        )
    blind = sorted({u.stratum for u in design.unlabelled})
    if blind:
        notes.append(f"no labels in {', '.join(blind)}: metrics that need those documents are undefined")
    notes += _unseen_cases(design, level)
    if scope_set is not None:
        notes.append(f"population: documents of {', '.join(sorted(scope_set))} (sizes estimated from the sample)")
    in_scope = [d for d in docs if scope_set is None or d.group in scope_set]
    specs = [
        _CellSpec(
            "overall",
            "overall",
            np.ones(len(design.label), dtype=bool),
            None if scope_set else sum(design.strata.values()),
            design.unlabelled,
            len(in_scope),
        )
    ]
    specs += [
        _CellSpec(
            s,
            "stratum",
            design.stratum == s,
            None if scope_set else design.strata[s],
            [u for u in design.unlabelled if u.stratum == s],
            sum(d.stratum == s for d in in_scope),
        )
        for s in sorted(design.strata)
    ]
    specs += [
        _CellSpec(
            g,
            "group",
            design.group == g,
            None,
            [u for u in design.unlabelled if u.group == g],
            sum(d.group == g for d in in_scope),
        )
        for g in sorted({d.group for d in in_scope if d.group is not None})
    ]
    for spec in specs:
        spec.labelled = int((spec.mask & design.in_scope).sum())
    v = np.concatenate([spec.columns(design) for spec in specs], axis=1)
    tp, tb = design.weight @ v, _boot_totals(design, v, n_boot, np.random.default_rng(seed))
    cells = [_cell(spec, tp[6 * i : 6 * i + 6], tb[6 * i : 6 * i + 6], level) for i, spec in enumerate(specs)]
    overall = cells[0]
    strata = [c for c in cells if c.kind == "stratum"]
    groups = [c for c in cells if c.kind == "group"]
    return Estimate(
        overall=overall,
        strata=strata,
        groups=groups,
        population=sum(design.strata.values()),
        labelled=int(design.in_scope.sum()),
        scope=sorted(scope_set) if scope_set else None,
        n_boot=n_boot,
        seed=seed,
        level=level,
        method=METHOD.format(level=level, n_boot=n_boot),
        notes=notes,
    )
