"""Every command explains itself: help on every option, an example under every command, and config schemas
whose every key says what it does."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from filterkit.cli import app


def _commands(cmd, path: tuple[str, ...] = ()):
    """(argv path, command) for the root and every command and sub-command under it (typer's click objects,
    duck-typed: typer may vendor its own click)."""
    yield path, cmd
    if hasattr(cmd, "commands"):
        for name, sub in sorted(cmd.commands.items()):
            yield from _commands(sub, path + (name,))


ALL = list(_commands(typer.main.get_command(app)))


def test_the_walk_finds_every_command():
    names = {" ".join(p) for p, _ in ALL}
    assert {
        "run",
        "audit",
        "verify",
        "schema",
        "train",
        "train-gate",
        "tune",
        "rethreshold",
        "experiment",
        "blocklist build",
    } <= names


@pytest.mark.parametrize("path,cmd", ALL, ids=[" ".join(p) or "filterkit" for p, _ in ALL])
def test_every_option_has_help_and_every_command_an_example(path, cmd):
    for param in cmd.params:
        if param.name == "help":
            continue
        assert (getattr(param, "help", None) or "").strip(), f"filterkit {' '.join(path)}: {param.name} has no help"
    assert "Example: filterkit" in (cmd.epilog or ""), f"filterkit {' '.join(path)}: no example"
    r = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "Example: filterkit" in r.output
    for param in cmd.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--"):
                assert opt in r.output, (path, opt)


def test_argument_names_are_the_same_everywhere():
    """INPUT is what `run` reads, RUN a run folder, as an argument or as --out."""
    metavars = {}
    for path, cmd in ALL:
        for param in cmd.params:
            if param.param_type_name == "argument":
                metavars[(path, param.name)] = param.metavar
    assert metavars[(("run",), "input")] == "INPUT"
    for command in ("audit", "verify", "rethreshold"):
        assert metavars[((command,), "run_dir")] == "RUN"
    out = {p: next(x for x in c.params if x.name == "out").metavar for p, c in ALL if p in (("run",), ("rethreshold",))}
    assert set(out.values()) == {"RUN"}


def _undescribed(schema: dict) -> list[str]:
    """Properties without a description, at the top and in every $defs model (nested models are there)."""
    missing = []
    for model, node in [("(top)", schema), *schema.get("$defs", {}).items()]:
        for key, prop in node.get("properties", {}).items():
            if not (prop.get("description") or "").strip():
                missing.append(f"{model}.{key}")
    return missing


def test_every_pipeline_config_key_is_described():
    r = CliRunner().invoke(app, ["schema"])
    assert r.exit_code == 0, r.output
    schema = json.loads(r.output)
    assert schema["title"] == "PipelineConfig" and "$defs" in schema
    assert _undescribed(schema) == []


def test_schema_of_the_experiment_config():
    from filterkit.experiment.config import ExperimentConfig

    r = CliRunner().invoke(app, ["schema", "--experiment"])
    assert r.exit_code == 0, r.output
    schema = json.loads(r.output)
    assert schema == ExperimentConfig.model_json_schema()
    assert {"seeds", "corpus", "model", "attack"} <= set(schema["properties"])
    assert _undescribed(schema) == []
