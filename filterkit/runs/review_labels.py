"""``filterkit estimate RUN --labels review.jsonl``: a labelled review file, checked against its run, weighted back.

The review file carries each document's stratum and stratum size, so :func:`filterkit.evaluate.estimate.estimate`
could work from it alone; the run is read as well so that a file from another run, a line edited by hand or a run
changed since the sample was drawn is refused instead of silently mis-weighted, and so that whether a document was
removed comes from the run's own ``audit/``, not from the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from filterkit.errors import FilterkitError
from filterkit.evaluate.estimate import Estimate, LabelledDoc, estimate
from filterkit.evaluate.labelled import parse_label
from filterkit.runs.strata import NOT_ESCALATED, RunStrata, base_of, ids_at, is_removed, run_strata

REQUIRED = ("id", "shard", "row", "stratum", "stratum_size", "label")


def read_review_file(path: str | Path) -> list[dict]:
    """The lines of a review file, each checked for the keys and label values the estimate needs."""
    path = Path(path)
    if not path.is_file():
        raise FilterkitError(f"{path}: no such labels file; pass the review file written by `filterkit review`")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise FilterkitError(f"{path}: line {n} is not valid JSON ({e.args[0][:80]}); fix that line") from None
            if not isinstance(obj, dict) or any(k not in obj for k in REQUIRED):
                raise FilterkitError(
                    f"{path}: line {n} lacks {', '.join(k for k in REQUIRED if k not in obj) or 'a JSON object'}; "
                    "every line needs id, shard, row, stratum, stratum_size and label (null if not read)"
                )
            obj["label"] = parse_label(obj["label"], f"{path}: line {n}")
            if isinstance(obj["row"], bool) or not isinstance(obj["row"], int):
                raise FilterkitError(f"{path}: line {n}: row {obj['row']!r} is not a row number")
            obj["_line"] = n
            rows.append(obj)
    if not rows:
        raise FilterkitError(f"{path}: no lines; write a sample with `filterkit review RUN --out {path}` and label it")
    return rows


def _check(labels: Path, strata: RunStrata, rows: list[dict]) -> dict[tuple[str, int], bool]:
    """Every line names a document of the run, in the stratum the run puts it in, with the run's stratum sizes;
    returns whether the run removed each one."""
    found = {id(r): strata.find(r["shard"], r["row"]) for r in rows}
    wanted: dict[str, set[int]] = {}
    for r in rows:
        if found[id(r)] is not None:
            wanted.setdefault(r["shard"], set()).add(r["row"])
    ids = {name: ids_at(strata.by_name[name].shard, strata.input_cfg, want) for name, want in wanted.items()}
    missing = [r for r in rows if found[id(r)] is None or ids[r["shard"]].get(r["row"]) != str(r["id"])]
    if missing:
        m = missing[0]
        raise FilterkitError(
            f"{labels}: {len(missing)} of {len(rows)} ids are not in run {strata.run} (first: "
            f"{m['id']!r}, {m['shard']} row {m['row']}, line {m['_line']}); estimate with the review "
            "file made from this run"
        )
    sizes = strata.sizes()
    removed = {}
    for r in rows:
        _, actual = found[id(r)]
        if base_of(r["stratum"]) != actual:
            raise FilterkitError(
                f"{labels}: line {r['_line']}: {r['id']!r} is in stratum {actual} of {strata.run}, not "
                f"{r['stratum']}; the run changed after the sample was drawn — draw a new one"
            )
        removed[(r["shard"], r["row"])] = is_removed(actual)
    given: dict[str, int] = {}
    for r in rows:
        if given.setdefault(r["stratum"], r["stratum_size"]) != r["stratum_size"]:
            raise FilterkitError(
                f"{labels}: line {r['_line']}: stratum {r['stratum']} has size {r['stratum_size']} here "
                f"but {given[r['stratum']]} on an earlier line; restore the size `filterkit review` wrote"
            )
    split = sum(v for k, v in given.items() if k.startswith(NOT_ESCALATED + "/"))
    for name, size in [
        *((k, v) for k, v in given.items() if "/" not in k),
        *([(NOT_ESCALATED, split)] if split else []),
    ]:
        if sizes.get(name, 0) != size:
            raise FilterkitError(
                f"{labels}: stratum {name} has {size:,} documents in the file but {sizes.get(name, 0):,} "
                f"in {strata.run}; draw a new sample with `filterkit review`"
            )
    return removed


def estimate_run(
    run: str | Path, labels: str | Path, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> Estimate:
    """Precision, recall and non-proxy removal of ``run``, from a labelled ``filterkit review`` file."""
    labels = Path(labels)
    strata = run_strata(run, None, command="estimate")
    rows = read_review_file(labels)
    removed = _check(labels, strata, rows)
    docs = [
        LabelledDoc(r["stratum"], r["stratum_size"], removed[(r["shard"], r["row"])], r["label"], id=str(r["id"]))
        for r in rows
    ]
    present = {base_of(r["stratum"]) for r in rows}
    for name, size in strata.sizes().items():  # a stratum the file lost every line of: unknown, not empty
        if name not in present:
            docs.append(LabelledDoc(name, size, is_removed(name), None))
    return estimate(docs, n_boot=n_boot, seed=seed, level=level)


def report_estimates(est: Estimate) -> dict[str, Any]:
    """The overall figures the run report shows beside its counts (strict and lenient readings), as
    ``{name: Metric}``: what `filterkit report --labels` passes to :func:`filterkit.runs.report.write_report`."""
    out: dict[str, Any] = {}
    for reading in ("strict", "lenient"):
        r = getattr(est.overall, reading)
        out[f"precision ({reading})"] = r.precision
        out[f"recall ({reading})"] = r.recall
        out[f"non-proxy removed, share of corpus ({reading})"] = r.nonproxy_removed_share
    return out
