"""A finished run's ``manifest.json``: per-shard stats merged, read = kept + removed checked, config,
versions and device recorded, so a run folder explains itself without the command that made it."""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING, Any

from filterkit.classify.registry import read_classifier_info
from filterkit.errors import FilterkitError
from filterkit.io import write_json_atomic

if TYPE_CHECKING:
    from filterkit.runs.prepared import PreparedRun


def device_summary(prep: PreparedRun) -> str:
    if not prep.config.classifier.enabled:
        return "none (blocklist only)"
    from filterkit.classify.scoring_path import resolve_runtime

    c = prep.config.classifier
    try:  # the encoder runtime moves scores (int8), so the manifest names it
        dev, runtime, precision = resolve_runtime(c.device, c.runtime, c.precision, c.cpu_int8)
        ran = f", {runtime}/{precision}" if read_classifier_info(c.path).backend == "embedding" else ""
    except Exception:  # noqa: BLE001 - a fastText head or an invalid combination: the stage reports it
        dev, ran = ("cuda" if c.device == "cuda" else "cpu"), ""
    if dev == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)}{ran})"
    return f"cpu ({os.cpu_count()} cores{ran})"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("filterkit", "datatrove", "pyarrow", "torch", "sentence-transformers", "ahocorasick-rs", "duckdb"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def write_manifest(
    prep: PreparedRun, wall: float, resumed: list[str], redone: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Merge per-shard stats, check read = kept + removed for every shard and overall, write manifest.json."""
    import json

    layout = prep.layout
    shards = []
    for s in prep.shards:
        marker = layout.done(s.out_name)
        if not marker.is_file():
            raise FilterkitError(f"{s.path}: the run ended but this shard has no done marker; re-run to finish it")
        st = json.loads(marker.read_text(encoding="utf-8"))
        if st["rows_read"] != st["kept"] + st["removed"] or st["rows_read"] != s.num_rows:
            raise FilterkitError(
                f"{s.path}: conservation violated (read {st['rows_read']}, kept {st['kept']}, "
                f"removed {st['removed']}); delete {marker} and re-run"
            )
        shards.append(st)
    paths = {st["scoring"]: st["shard"] for st in shards if st.get("scoring")}
    if len(paths) > 1:  # remote workers resolved classifier.device: auto differently
        raise FilterkitError(
            f"{layout.root}: its shards were scored on different paths ({', '.join(sorted(paths))}; "
            "e.g. shard " + sorted(paths.values())[0] + "); set classifier.device and "
            "classifier.runtime explicitly and filter into a new --out"
        )
    reasons = {
        r: sum(st["removed_by_reason"][r] for st in shards) for r in ("blocklist_terms", "classifier_score", "error")
    }
    read = sum(st["rows_read"] for st in shards)
    kept = sum(st["kept"] for st in shards)
    removed = sum(st["removed"] for st in shards)
    if read != kept + removed:
        raise FilterkitError(f"{layout.root}: read {read} != kept {kept} + removed {removed}")
    stage_seconds: dict[str, float] = {}
    for st in shards:
        for k, v in st["seconds"].items():
            stage_seconds[k] = stage_seconds.get(k, 0.0) + v
    processed = sum(st["rows_read"] for st in shards if st["shard"] not in resumed)
    mb = sum(st["text_chars"] for st in shards if st["shard"] not in resumed) / 1e6
    counts = {
        "read": read,
        "escalated": sum(st["escalated"] for st in shards),
        "removed_blocklist": reasons["blocklist_terms"],
        "removed_classifier": reasons["classifier_score"],
        "removed_error": reasons["error"],
        "removed": removed,
        "kept": kept,
        "conservation_ok": True,
    }
    manifest = {
        "run_id": prep.info.run_id,
        "config_sha256": prep.info.config_sha256,
        "config": prep.config.model_dump(mode="json"),
        "run_info": prep.info.to_dict(),
        "versions": _versions(),
        "device": device_summary(prep),
        "inputs": [
            {
                "name": s.name,
                "path": s.path,
                "format": s.format,
                "rows": s.num_rows,
                "bytes": s.size_bytes,
                "sha256": s.sha256,
                **({"limit": s.limit} if s.limit is not None else {}),
            }
            for s in prep.shards
        ],
        # `run --limit N`: the first N documents only; which shard was cut, and how much was left out
        "limit": prep.limit,
        "shards": shards,
        "counts": counts,
        "timing": {
            "wall_seconds": wall,
            "rows_processed_this_invocation": processed,
            "docs_per_second": processed / wall if wall > 0 else 0.0,
            "text_mb_per_second": mb / wall if wall > 0 else 0.0,
            "stage_seconds": stage_seconds,
            "resumed_shards": resumed,
            "redone_shards": redone or [],
        },
    }
    write_json_atomic(layout.manifest, manifest)
    from filterkit.runs.card import write_card

    write_card(layout.root, manifest)  # the folder loads with datasets.load_dataset(RUN)
    return manifest
