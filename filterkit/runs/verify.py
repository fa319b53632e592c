"""Is what a run folder says still true? Checks of finished shards' outputs against their done markers.

Each done marker records the size, sha256 and row count of the shard's ``kept/``, ``audit/`` and
``scores/`` files. Three levels of checking use it:

* :func:`redo_damaged` — every re-run of ``filterkit run`` / ``rethreshold``: sizes only (a ``stat`` per
  file). A done shard whose outputs are missing or of another size loses its marker and is redone.
* :func:`require_intact` — ``filterkit audit`` and ``rethreshold`` reading a run: sizes only; a mismatch is
  refused with one line naming the shard and the fix.
* :func:`verify` — ``filterkit verify RUN``: sizes, sha256 and row counts of every output, and read =
  kept + removed re-counted from the files themselves against the markers and the manifest; and every input
  still found against the fingerprint (size, sha256) its shard was filtered with (:mod:`filterkit.runs.input_check`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filterkit.data.formats import file_rows
from filterkit.errors import FilterkitError
from filterkit.store.layout import OUTPUT_KINDS, RunLayout

log = logging.getLogger("filterkit")


def _out_name(name: str) -> str:
    """The done marker's name of an input shard (``a/b.jsonl.zst`` -> ``a/b.parquet``)."""
    from filterkit.data.shard import Shard

    return Shard("", name, "parquet", 0, 0).out_name


def _manifest(run: Path) -> dict[str, Any] | None:
    path = run / "manifest.json"
    if not path.is_file():
        return None
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(m, dict) or not isinstance(m.get("inputs"), list):
            raise ValueError("no inputs list")
    except (OSError, ValueError) as e:
        raise FilterkitError(
            f"{path}: unreadable manifest ({e}); re-run `filterkit run` with the same arguments to rewrite it"
        ) from None
    return m


def redo_damaged(layout: RunLayout, out_names: list[str], shards: list | None = None) -> list[dict[str, str]]:
    """Drop the done marker of every finished shard whose outputs no longer match it, so it is redone.

    With ``shards`` (the run's planned inputs), a marker that recorded another input fingerprint, or none,
    is redone too.

    Returns one ``{"shard", "problem"}`` per dropped marker (also logged as a warning). When any is dropped,
    ``manifest.json`` is removed too: until the redone shards finish it would describe outputs that are
    not there.
    """
    redone = []
    planned = {s.out_name: s for s in shards or []}
    for name in out_names:
        if not layout.is_done(name):
            continue
        problems = layout.output_problems(name)
        if name in planned:
            from filterkit.runs.input_check import marker_input_problem

            changed = marker_input_problem(layout.read_marker(name), planned[name])
            problems += [changed] if changed else []
        if problems:
            layout.done(name).unlink(missing_ok=True)
            redone.append({"shard": name, "problem": "; ".join(problems)})
            log.warning("redoing shard %s: %s", name, "; ".join(problems))
    if redone:
        layout.manifest.unlink(missing_ok=True)
    return redone


def require_intact(run: str | Path, kinds: tuple[str, ...] = ("audit", "scores"), command: str = "audit") -> None:
    """Refuse to read a run folder whose finished shards' ``kinds`` files differ in size from their markers.

    A finished run (``manifest.json``) must have a marker for every input shard; an unfinished one is checked
    shard by shard for what has finished.
    """
    run = Path(run)
    layout = RunLayout(run)
    m = _manifest(run)
    fix = (
        f"re-run `filterkit run` with the same INPUT, --pipeline and --out {run} to redo it before "
        f"`filterkit {command}` (`filterkit verify {run}` lists every damaged shard)"
    )
    if m is not None:
        names = [_out_name(i["name"]) for i in m["inputs"]]
    else:
        done_dir = run / ".state" / "done"
        names = sorted(p.name[: -len(".json")] for p in done_dir.glob("*.json")) if done_dir.is_dir() else []
    for name in names:
        problems = layout.output_problems(name, kinds=kinds)
        if problems:
            raise FilterkitError(
                f"shard {name} of {run} was changed or damaged after it finished ({problems[0]}); {fix}"
            )


@dataclass
class VerifyReport:
    """What ``filterkit verify`` found: ``bad`` maps a shard (or a stray file) to its problems."""

    run: Path
    shards: int
    read: int = 0
    kept: int = 0
    removed: int = 0
    bad: dict[str, list[str]] = field(default_factory=dict)
    fixes: dict[str, str] = field(default_factory=dict)
    inputs_unchecked: int = 0  # inputs no longer found (deleted once filtered, say): their fingerprints not compared

    @property
    def ok(self) -> bool:
        return not self.bad

    def lines(self) -> list[str]:
        """One line per bad shard."""
        return [f"{name}: {'; '.join(problems)}; {self.fixes[name]}" for name, problems in self.bad.items()]


def verify(run: str | Path) -> VerifyReport:
    """Check every output of a finished run: sizes, sha256, row counts, and read = kept + removed.

    Row counts come from the parquet files' footers, so the conservation check does not trust the
    markers' or the manifest's numbers: ``kept/`` rows + ``audit/`` rows must equal the rows read from
    the input (as the manifest recorded it), per shard and in total.
    """
    run = Path(run)
    if not run.is_dir():
        raise FilterkitError(f"{run}: no such run folder; pass the --out of `filterkit run`")
    m = _manifest(run)
    if m is None:
        raise FilterkitError(
            f"{run}: no manifest.json, so the run has not finished; finish it by re-running "
            "`filterkit run` with the same arguments, then verify"
        )
    layout = RunLayout(run)
    listed = {s.get("shard"): s for s in m.get("shards", []) if isinstance(s, dict)}
    report = VerifyReport(run, len(m["inputs"]))
    expected: dict[str, set[str]] = {kind: set() for kind in OUTPUT_KINDS}
    for inp in m["inputs"]:
        name = _out_name(inp["name"])
        marker = layout.read_marker(name)
        for kind in OUTPUT_KINDS:  # kept/ may be JSON lines (output.format): its marker names the file
            expected[kind].add(str(layout.recorded_output(kind, name, marker).relative_to(run / kind)))
        problems = layout.output_problems(name, marker, deep=True, rows_of=file_rows)
        if marker is not None and not problems:
            if marker.get("rows_read") != inp.get("rows"):
                problems.append(f"read {marker.get('rows_read')} rows but the input had {inp.get('rows')}")
            st = listed.get(inp["name"])
            if st is None or any(st.get(k) != marker.get(k) for k in ("rows_read", "kept", "removed")):
                problems.append(f"{layout.manifest}: its counts for this shard differ from the done marker")
            report.read += marker.get("rows_read") or 0
            report.kept += marker.get("kept") or 0
            report.removed += marker.get("removed") or 0
        from filterkit.runs.input_check import input_problems

        changed, checked = input_problems(inp, marker)  # the input must still be the file that was filtered
        report.inputs_unchecked += not checked
        if changed and not problems:
            report.bad[name] = changed
            report.fixes[name] = (
                "fix: restore that input, or filter it as it is now into a new --out (this "
                "folder's decisions were made on the old content)"
            )
        elif problems:
            report.bad[name] = problems + changed
            report.fixes[name] = (
                f"fix: delete {layout.done(name)} (if present) and re-run `filterkit run` with "
                f"the same INPUT, --pipeline and --out {run}"
            )
    for kind in OUTPUT_KINDS:  # a file no input accounts for would be read by `audit` and by users
        folder = run / kind
        for p in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if p.is_file() and str(p.relative_to(folder)) not in expected[kind]:
                key = f"{kind}/{p.relative_to(folder)}"
                report.bad[key] = [f"{p}: not an output of any input shard of this run"]
                report.fixes[key] = "fix: move it out of the run folder"
    c = m.get("counts", {})
    if report.ok and (c.get("read"), c.get("kept"), c.get("removed")) != (report.read, report.kept, report.removed):
        report.bad["manifest.json"] = [
            f"{layout.manifest}: totals read {c.get('read')}, kept {c.get('kept')}, removed {c.get('removed')} differ "
            f"from the shards' read {report.read}, kept {report.kept}, removed {report.removed}"
        ]
        report.fixes["manifest.json"] = "fix: re-run `filterkit run` with the same arguments to rewrite it"
    return report
