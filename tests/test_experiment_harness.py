"""`filterkit experiment` end to end on a tiny config (seconds): every output the report promises."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from filterkit.cli import app
from tests.conftest import BLOCKLIST


def test_tiny_experiment_runs_end_to_end(tmp_path):
    (tmp_path / "filter.yaml").write_text(yaml.safe_dump(
        {"blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 1, "mode": "remove"}, "classifier": {"enabled": False}}))
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({
        "seeds": [0, 1],
        "corpus": {"n_docs_general": 120, "n_docs_proxy": 60, "n_attack_weak": 20, "n_attack_strong": 20, "n_control": 20},
        "filter_pipeline": "filter.yaml",
        "vocab_size": 400,
        "model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32, "steps": 10, "batch_size": 4},
        "attack": {"steps": 4, "eval_every": 2},
        "leak_fractions": [0.0, "actual", 1.0],
    }))
    out = tmp_path / "exp"
    r = CliRunner().invoke(app, ["experiment", "--config", str(tmp_path / "exp.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert res["chance"] == 0.25 and res["seeds"] == [0, 1]
    for name in ("baseline", "filtered"):
        for key in ("proxy_acc", "general_acc", "proxy_loss", "general_loss"):
            lo, hi = res[name][f"{key}_ci95"]
            assert lo <= res[name][key] <= hi
    assert 0 < res["filter"]["recall"] <= 1 and 0 < res["filter"]["precision"] <= 1
    assert res["filter"]["counts"]["read"] == 180  # the real pipeline filtered the training shards
    a = res["attack"]
    assert a["steps"] == [0, 2, 4] and len(a["baseline_proxy_acc"]) == 3 == len(a["filtered_proxy_acc"])
    assert len(res["leak"]["fractions"]) == 3 and len(res["leak"]["proxy_acc"]) == 3
    assert res["wall_seconds"] > 0
    for f in ("report.md", "knowledge.png", "attack.png", "leak.png", "config.json"):
        assert (out / f).is_file(), f
    assert (out / "models" / "baseline" / "config.json").is_file() and (out / "models" / "tokenizer").is_dir()


def test_bad_experiment_config(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("seedz: [0]\n")
    r = CliRunner().invoke(app, ["experiment", "--config", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "seedz" in r.stderr
