"""The CLI as people expect it: --version and -h everywhere."""

from __future__ import annotations

from typer.testing import CliRunner

from filterkit import __version__
from filterkit.cli import app


def test_version_and_short_help():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"filterkit {__version__}"
    for argv in (["-h"], ["run", "-h"], ["train-gate", "-h"], ["blocklist", "build", "-h"]):
        r = CliRunner().invoke(app, argv)
        assert r.exit_code == 0 and "Usage" in r.output, argv
