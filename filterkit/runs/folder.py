"""Taking a run folder: a new one, a resume of the same run, or a folder a failed run left with nothing
finished; anything else is refused with the reason, so two runs never write into one folder."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from filterkit.errors import FilterkitError
from filterkit.io import write_json_atomic
from filterkit.store.layout import LOCK_NAME, RunLayout
from filterkit.version import __version__

if TYPE_CHECKING:
    from filterkit.runs.prepared import PreparedRun


def claim_out_dir(prep: PreparedRun) -> None:
    """A run folder belongs to one config and one input set; a rerun of the same resumes it.

    A folder whose run finished no shard (it failed on its first shard, say, on an over-long document) holds
    nothing worth keeping, so a corrected run with another config or input takes it over instead of being
    refused. A Slurm submission is never taken over: its jobs may still be queued.
    """
    layout = prep.layout
    if layout.root.exists() and not layout.root.is_dir():
        raise FilterkitError(f"{layout.root}: is a file, not a folder; pass a new or empty folder as --out")
    _recover_run_file(layout)
    if layout.run_file.is_file():
        prev = _read_run_file(layout)
        same = prev.get("config_sha256") == prep.info.config_sha256 and prev.get("run_id") == prep.info.run_id
        if not same and not _finished_nothing(layout):
            from filterkit.runs.input_check import refuse_changed_inputs

            if not prev.get("input_fingerprints"):  # older folder: its run id cannot be compared
                refuse_changed_inputs(layout, prep.shards, prev)
            if prev.get("config_sha256") != prep.info.config_sha256:
                raise FilterkitError(
                    f"{layout.root}: holds a run with a different config (config_sha256 "
                    f"{str(prev.get('config_sha256'))[:12]}…: settings, term list, head, or the device/runtime/precision "
                    "the classifier resolves to on this machine); use a new --out, or delete that folder to start over"
                )
            limits = prev.get("limit"), _limit_docs(prep)
            if limits[0] != limits[1]:
                raise FilterkitError(
                    f"{layout.root}: holds a run of {_docs_read(limits[0])}, and this one reads "
                    f"{_docs_read(limits[1])}; use a new --out for it"
                )
            refuse_changed_inputs(layout, prep.shards, prev)  # names the input that changed
            raise FilterkitError(
                f"{layout.root}: holds a run over different input shards; use a new --out for this input"
            )
    elif layout.root.exists() and any(p.name != LOCK_NAME for p in layout.root.iterdir()):
        raise FilterkitError(f"{layout.root}: exists and is not a filterkit run folder; choose an empty --out")
    from filterkit.runs.input_check import run_file_inputs

    try:
        write_json_atomic(
            layout.run_file,
            {
                "run_id": prep.info.run_id,
                "config_sha256": prep.info.config_sha256,
                "filterkit": __version__,
                **({"limit": _limit_docs(prep)} if prep.limit else {}),
                "input_fingerprints": True,
                "inputs": run_file_inputs(prep.shards),
            },
        )
    except OSError as e:
        raise FilterkitError(
            f"{e.filename or layout.root}: cannot write the run folder ({e.strerror}); "
            "choose a writable --out (or free space on its disk)"
        ) from None


def _limit_docs(prep: PreparedRun) -> int | None:
    return prep.limit["docs"] if prep.limit else None


def _docs_read(limit: int | None) -> str:
    return "all documents" if limit is None else f"the first {limit:,} documents (--limit {limit})"


def _recover_run_file(layout: RunLayout) -> None:
    """Finish or undo a ``run.json`` write cut off before its rename (only ``run.json.tmp`` is left)."""
    import json

    tmp = layout.run_file.with_name(layout.run_file.name + ".tmp")
    if layout.run_file.is_file() or not tmp.is_file():
        return
    try:
        whole = isinstance(json.loads(tmp.read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        whole = False
    try:
        if whole:  # written and fsynced before the rename: complete it
            os.replace(tmp, layout.run_file)
        else:  # torn while being written, so nothing after it ran
            tmp.unlink()
    except OSError as e:
        raise FilterkitError(f"{tmp}: cannot recover it ({e.strerror}); delete it and re-run") from None


def _read_run_file(layout: RunLayout) -> dict[str, Any]:
    import json

    try:
        prev = json.loads(layout.run_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return prev if isinstance(prev, dict) else {}


def _finished_nothing(layout: RunLayout) -> bool:
    """No done marker, no output file and no Slurm submission: the folder's run left nothing to resume."""
    root = layout.root
    slurm = (layout.logs / "executor.pik").exists() or (root / ".state" / "slurm.json").exists()
    if slurm or any((root / ".state" / "done").glob("*.json")):
        return False
    return not any(any((root / kind).rglob("*.parquet")) for kind in ("kept", "audit", "scores"))
