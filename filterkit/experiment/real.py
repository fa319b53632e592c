"""Real-text mode, the data: which real document goes where, decided once per seed, by document.

``real/train`` feeds two disjoint parts: the filter head's training labels (``RealSection.filter_docs`` per group)
and the pretraining corpus (``corpus_docs`` of the rest, stratified by group so the corpus keeps real/train's mix),
so the filter never saw the text it filters, as the synthetic experiment trains its filter on an independent world.
``real/dev`` feeds the eval sets (forget = proxy, retain = general, collateral = bio_med), the relearning text
(its other proxy documents: never pretrained on, never evaluated on) and the span-threshold tuning set (those
proxy documents with ``tune_docs`` of the other groups). The texts stay in the run folder; results carry counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from filterkit.errors import FilterkitError
from filterkit.experiment.config import RealSection

COLUMNS = ["id", "text", "label", "group", "source"]
#: eval set name -> the real/dev group it is made of
EVAL_GROUPS = {"forget": "proxy", "retain": "general", "collateral": "bio_med"}


@dataclass(frozen=True)
class RealSets:
    """The document splits of one run (pyarrow tables with :data:`COLUMNS`)."""

    filter_train: pa.Table
    corpus: pa.Table
    evals: dict[str, pa.Table]
    relearn: pa.Table
    tune: pa.Table

    def counts(self) -> dict[str, object]:
        def by_group(t: pa.Table) -> dict[str, int]:
            groups = t.column("group").to_pylist()
            return {g: groups.count(g) for g in sorted(set(groups))}

        return {
            "filter_train": by_group(self.filter_train),
            "corpus": by_group(self.corpus),
            "eval": {k: v.num_rows for k, v in self.evals.items()},
            "relearn": self.relearn.num_rows,
            "tune": by_group(self.tune),
        }


def _read(path: Path) -> pa.Table:
    if not path.is_file():
        raise FilterkitError(
            f"{path}: not found; the real-text experiment reads ../shared/data/real/ "
            "(set real.data_dir in the experiment config to the folder holding real/)"
        )
    t = pq.read_table(path, columns=COLUMNS)
    return t.set_column(t.schema.get_field_index("label"), "label", pc.cast(t.column("label"), pa.int64()))


def _shuffled_by_group(t: pa.Table, rng: np.random.Generator) -> dict[str, np.ndarray]:
    groups = np.asarray(t.column("group").to_pylist())
    return {g: rng.permutation(np.flatnonzero(groups == g)) for g in sorted(set(groups))}


def _take(t: pa.Table, idx) -> pa.Table:
    return t.take(pa.array(np.sort(np.asarray(idx, dtype=np.int64)), type=pa.int64()))


def _stratified(pools: dict[str, np.ndarray], n: int | None) -> np.ndarray:
    """``n`` indices drawn from ``pools`` in proportion to their sizes (largest remainders), or all of them."""
    sizes = {g: len(ix) for g, ix in pools.items()}
    total = sum(sizes.values())
    if n is None or n >= total:
        return np.concatenate(list(pools.values()))
    exact = {g: n * s / total for g, s in sizes.items()}
    take = {g: int(v) for g, v in exact.items()}
    for g in sorted(exact, key=lambda g: exact[g] - take[g], reverse=True)[: n - sum(take.values())]:
        take[g] += 1
    return np.concatenate([pools[g][: take[g]] for g in pools])


def split_real(section: RealSection) -> RealSets:
    """The document splits for ``section`` (same seed and files: same splits)."""
    root = Path(section.data_dir)
    train, dev = _read(root / "real" / "train.parquet"), _read(root / "real" / "dev.parquet")
    rng = np.random.default_rng([section.seed, 24])
    pools = _shuffled_by_group(train, rng)
    filt, rest = [], {}
    for g, ix in pools.items():
        k = section.filter_docs.get(g, 0)
        if k >= len(ix):
            raise FilterkitError(
                f"real.filter_docs.{g}={k}: real/train has {len(ix)} {g} documents; leave some for the corpus"
            )
        filt.append(ix[:k])
        rest[g] = ix[k:]
    dpools = _shuffled_by_group(dev, rng)
    evals, tune = {}, []
    for name, g in EVAL_GROUPS.items():
        k = section.eval_docs[g]
        if k >= len(dpools[g]):
            raise FilterkitError(
                f"real.eval_docs.{g}={k}: real/dev has {len(dpools[g])} {g} documents; leave some "
                "for relearning and tuning"
            )
        evals[name] = _take(dev, dpools[g][:k])
    relearn_ix = dpools["proxy"][section.eval_docs["proxy"] :]
    for g, k in section.tune_docs.items():  # proxy: the first relearning documents (not pretrained on either)
        tune.append(dpools[g][section.eval_docs[g] : section.eval_docs[g] + k])
    return RealSets(
        filter_train=_take(train, np.concatenate(filt)),
        corpus=_take(train, _stratified(rest, section.corpus_docs)),
        evals=evals,
        relearn=_take(dev, relearn_ix),
        tune=_take(dev, np.concatenate(tune)),
    )
