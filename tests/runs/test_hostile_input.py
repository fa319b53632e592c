"""Issue 20, items 3, 5, 7-9 and 11-16: hostile input from the second battery — refused in one line, confined,
escaped — and the silent failures it found.

Every run here is blocklist-only (no encoder), on a few generated rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

from filterkit.cli import app
from tests.conftest import BLOCKLIST, GENERAL, PROXY, one_line_error

DOCS = PROXY + GENERAL  # 4 removed (>= 2 unique terms each), 6 kept


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _pipeline(tmp_path: Path, name: str = "p.yaml", **sections) -> Path:
    cfg: dict = {
        "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2, "mode": "remove"},
        "classifier": {"enabled": False},
        **sections,
    }
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return p


def _outputs_written(out: Path) -> list[Path]:
    return [p for kind in ("kept", "audit", "scores") for p in (out / kind).rglob("*") if p.is_file()] \
        if out.exists() else []


# --- 3. duplicate JSON keys ----------------------------------------------------------------------------------


def test_duplicate_json_keys_are_refused_naming_file_and_line(tmp_path):
    f = tmp_path / "in" / "d.jsonl"
    f.parent.mkdir()
    good = [json.dumps({"id": f"g{i}", "text": t}) for i, t in enumerate(GENERAL)]
    smuggled = '{"id": "k1", "text": %s, "text": %s}' % (json.dumps(" ".join(PROXY)), json.dumps(GENERAL[0]))
    f.write_text("\n".join(good[:2] + [smuggled] + good[2:]) + "\n", encoding="utf-8")
    res = _cli("run", f.parent, "-p", _pipeline(tmp_path), "-o", tmp_path / "out")
    one_line_error(res, str(f), "line 3", "'text' twice")
    assert _outputs_written(tmp_path / "out") == []


def test_duplicate_keys_in_nested_objects_or_escaped_spellings_are_refused(tmp_path):
    from filterkit.data.json_keys import duplicate_key

    import orjson

    for line in (b'{"id":"a","meta":{"src":"x","src" : "y"},"text":"t"}',
                 b'{"t\\u0065xt":"a","text":"b"}'):
        assert duplicate_key(line, orjson.loads(line)) is not None, line
    for line in (b'{"id":"a","text":"he wrote \\"note\\": fine"}', b'{"a":[{"b":1},{"b":2}],"text":"x"}'):
        assert duplicate_key(line, orjson.loads(line)) is None, line
