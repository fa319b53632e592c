"""Config loading: defaults, path resolution, and readable errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from filterkit.cli import app
from filterkit.config import load_config
from filterkit.errors import FilterkitError
from tests.conftest import ROOT


def test_shipped_pipelines_load_and_resolve_paths():
    cfg = load_config(ROOT / "pipelines" / "biorisk.yaml")
    assert cfg.blocklist.path == ROOT / "classifiers" / "blocklist" / "biorisk-proxy.txt"
    assert cfg.classifier.path == ROOT / "classifiers" / "biorisk-proxy-minilm"
    # one term escalates, and the semantic gate escalates on-topic text without terms (docs/results.md: quality on real text)
    assert cfg.blocklist.min_unique_hits == 1 and cfg.blocklist.mode == "escalate" and cfg.blocklist.split_terms
    assert cfg.semantic_gate.enabled and cfg.semantic_gate.path == ROOT / "classifiers" / "biorisk-proxy-static"
    assert cfg.classifier.on_error == "remove" and cfg.classifier.long_docs == "chunks"
    only = load_config(ROOT / "pipelines" / "blocklist-only.yaml")
    assert only.blocklist.mode == "remove" and not only.classifier.enabled


def test_unknown_key_is_named(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("blocklist:\n  min_unique_hit: 3\n", encoding="utf-8")
    with pytest.raises(FilterkitError) as e:
        load_config(p)
    assert str(p) in e.value.message and "blocklist.min_unique_hit" in e.value.message
    assert "unknown key" in e.value.message


def test_bad_values_and_yaml(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("blocklist:\n  mode: delete\n", encoding="utf-8")
    with pytest.raises(FilterkitError, match=r"blocklist\.mode"):
        load_config(p)
    p.write_text("blocklist: [unclosed\n", encoding="utf-8")
    with pytest.raises(FilterkitError, match="not valid YAML"):
        load_config(p)
    p.write_text("blocklist:\n  mode: remove\n", encoding="utf-8")
    with pytest.raises(FilterkitError, match=r"classifier\.enabled: false"):
        load_config(p)
    with pytest.raises(FilterkitError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_schema_command_lists_keys():
    res = CliRunner().invoke(app, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert "min_unique_hits" in json.dumps(schema) and "on_error" in json.dumps(schema)
