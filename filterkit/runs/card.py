"""A run folder as a dataset: a ``README.md`` dataset card whose ``configs:`` name kept/, audit/, scores/ (and spans/).

``datasets.load_dataset(RUN)`` then loads the kept documents (the default config) and
``load_dataset(RUN, "audit")`` the removals, and the folder can be pushed to a hub as it is. The card also
says what the run was (counts, classifier, threshold, config hash) and what each audit/scores column holds,
from the same row dataclasses that generate the parquet schemas.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from filterkit.data.formats import input_suffix
from filterkit.io import write_text_atomic
from filterkit.store.rows import AuditRow, ScoresRow, SpanRow

CARD = "README.md"
REPORT = "report.html"  # filterkit.runs.report writes it; the card links it when it is there


def _data_files(root: Path, kind: str) -> list[str]:
    """Glob patterns for the files a config loads, one per file suffix present (kept/ may be JSON lines)."""
    folder = root / kind
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    suffixes = sorted({input_suffix(p.name) or p.suffix for p in files})
    return [f"{kind}/**/*{s}" for s in suffixes]


def _columns(row_type: type) -> str:
    return "\n".join(f"| `{f.name}` | {f.metadata['description']} |" for f in fields(row_type))


def render_card(root: Path, manifest: dict[str, Any]) -> str:
    configs = []
    for kind in ("kept", "audit", "scores", "spans"):
        files = _data_files(root, kind)
        if files:
            entry: dict[str, Any] = {"config_name": kind, "data_files": [{"split": "train", "path": files}]}
            if kind == "kept":
                entry["default"] = True
            configs.append(entry)
    header = yaml.safe_dump({"configs": configs, "tags": ["filterkit", "data-filtering"]}, sort_keys=False)
    c, info = manifest["counts"], manifest.get("run_info", {})
    lines = [
        "---",
        header.rstrip(),
        "---",
        "",
        f"# filterkit run `{manifest['run_id']}`",
        "",
        "Made by `filterkit run`: `kept` holds the documents the filter kept (the default config), `audit` one row "
        "per removed document with its reason, `scores` one row per document the classifier scored"
        + (", `spans` the flagged windows of removed documents" if (root / "spans").is_dir() else "")
        + ".",
        "",
        "```python",
        "from datasets import load_dataset",
        f'kept = load_dataset("{root.name}")            # or load_dataset(RUN_FOLDER, "audit")',
        "```",
        "",
        "| | |",
        "|---|---|",
        f"| documents read | {c['read']} |",
        f"| kept | {c['kept']} |",
        f"| removed | {c['removed']} "
        f"(blocklist {c['removed_blocklist']}, classifier {c['removed_classifier']}, error {c['removed_error']}) |",
        f"| escalated to the classifier | {c['escalated']} |",
        f"| classifier | {info.get('classifier')} (sha256 {str(info.get('classifier_sha256'))[:16]}) |",
        f"| threshold | {info.get('threshold')} |",
        f"| config sha256 | {manifest['config_sha256'][:16]} |",
        f"| filterkit | {manifest.get('versions', {}).get('filterkit')} |",
        "",
        "`manifest.json` holds the whole config, per-shard counts and timings; `filterkit verify` checks every file "
        "against its done marker.",
        "",
        *(
            [
                f"**Review it**: [{REPORT}]({REPORT}) is one page (counts, score distributions, terms, example documents) "
                "written by `filterkit report`; it opens offline.",
                "",
            ]
            if (root / REPORT).is_file()
            else []
        ),
        "## audit columns",
        "",
        "| column | meaning |",
        "|---|---|",
        _columns(AuditRow),
        "",
        "## scores columns",
        "",
        "| column | meaning |",
        "|---|---|",
        _columns(ScoresRow),
        "",
    ]
    if (root / "spans").is_dir():
        lines += ["## spans columns", "", "| column | meaning |", "|---|---|", _columns(SpanRow), ""]
    return "\n".join(lines)


def write_card(root: str | Path, manifest: dict[str, Any]) -> Path:
    """Write (or replace) the run folder's dataset card."""
    root = Path(root)
    return write_text_atomic(root / CARD, render_card(root, manifest))
