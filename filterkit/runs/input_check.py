"""Is each input still the file a run folder's decisions were made on? One rule for resume, rethreshold, verify.

Done markers and the manifest record every input's fingerprint (:mod:`filterkit.data.fingerprint`). A decision
applied to another content puts unscored documents into ``kept/``, so every reader of a run folder that
goes back to its inputs compares first:

* ``filterkit run`` (resume): the fingerprints are in the run id, so a changed input makes the run another
  run; :func:`refuse_changed_inputs` names the shard that changed instead of a bare "different inputs".
  A done marker whose recorded input differs from the planned one is redone (:func:`marker_input_problem`).
* ``filterkit rethreshold``: :func:`recorded_inputs` refuses a run whose inputs changed or were never
  fingerprinted, naming the shard.
* ``filterkit verify``: :func:`input_problems` reports each changed input as a ``bad:`` line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from filterkit.data.fingerprint import difference, file_fingerprint, recorded
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError
from filterkit.store.layout import RunLayout


def marker_input_problem(marker: dict | None, shard: Shard) -> str | None:
    """Why a done marker does not describe ``shard`` as planned now (None when it does)."""
    if marker is None or shard.sha256 is None:
        return None
    return difference(shard.path, marker.get("input"), recorded(shard))


def refuse_changed_inputs(layout: RunLayout, shards: list[Shard], prev: dict[str, Any]) -> None:
    """Raise, naming the shard, when a run folder's recorded inputs differ from the ones planned now.

    Called when the folder's run id differs from this run's: either an input changed (named here, from the
    inputs ``run.json`` records), or the folder predates input fingerprints. Returns when neither is the case.
    """
    if not prev.get("input_fingerprints"):
        raise FilterkitError(
            f"{layout.root}: made by an older filterkit that did not fingerprint its inputs, so its shards cannot "
            "be checked against them; use a new --out (or delete that folder to start over)"
        )
    before = {i.get("name"): i for i in prev.get("inputs") or [] if isinstance(i, dict)}
    changed = []
    for s in shards:
        if s.name in before:
            problem = difference(s.path, before[s.name], recorded(s))
        else:
            problem = marker_input_problem(layout.read_marker(s.out_name), s)
        if problem is not None:
            changed.append(problem)
    if changed:
        more = f" (and {len(changed) - 1} more changed inputs)" if len(changed) > 1 else ""
        raise FilterkitError(
            f"{changed[0]}{more}; this run folder's decisions were made on the old content — restore the input, "
            f"or filter the new one into a new --out"
        )


def run_file_inputs(shards: list[Shard]) -> list[dict[str, Any]]:
    """What ``run.json`` records of each input, so a later run can name the one that changed."""
    return [{"name": s.name, **recorded(s)} for s in shards]


def recorded_inputs(run: Path, manifest: dict[str, Any]) -> list[Shard]:
    """The shards of a finished run, each checked against its file as it is now; refuses any difference.

    ``rethreshold`` copies kept rows from these files under decisions read from ``scores/``, so the files
    must be the ones that were scored: same size and sha256 as the manifest recorded.
    """
    shards = []
    for i in manifest["inputs"]:
        s = Shard(
            i["path"],
            i["name"],
            i.get("format", "parquet"),
            i["rows"],
            i["bytes"],
            limit=i.get("limit"),
            sha256=i.get("sha256"),
        )
        if "://" not in s.path and not Path(s.path).is_file():  # a URL input is checked when it is read
            raise FilterkitError(f"{s.path}: input shard of {run} is gone; kept rows are copied from it")
        problem = difference(s.path, {"bytes": s.size_bytes, "sha256": s.sha256}, file_fingerprint(s.path))
        if problem is not None:
            raise FilterkitError(
                f"{problem}; {run}'s scores describe the old content, so rethreshold would keep "
                "documents nobody scored — restore the input, or re-run `filterkit run`"
            )
        shards.append(s)
    return shards


def input_problems(inp: dict[str, Any], marker: dict | None) -> tuple[list[str], bool]:
    """``verify``'s check of one manifest input: (problems, checked). An input that is no longer there is not
    a damaged run folder (inputs are often deleted once filtered): it is reported as not checked."""
    path = str(inp.get("path"))
    want = {"bytes": inp.get("bytes"), "sha256": inp.get("sha256")}
    problems = []
    if (
        marker is not None
        and isinstance(marker.get("input"), dict)
        and want["sha256"] is not None
        and marker["input"].get("sha256") != want["sha256"]
    ):
        problems.append(f"{path}: the done marker and the manifest record different input fingerprints")
    if not want["sha256"]:
        return [difference(path, None, {})] + problems, True  # type: ignore[list-item]
    try:
        now = file_fingerprint(path)
    except FilterkitError:
        return problems, False
    diff = difference(path, want, now)
    return ([diff] if diff else []) + problems, True
