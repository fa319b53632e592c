"""The ``filterkit`` command: a thin typer layer that parses, calls the library, and renders.

The commands live by job in ``run_commands`` (run, rethreshold), ``inspect_commands`` (audit, report, verify,
schema, review, estimate) and ``train_commands`` (train, train-gate, tune, blocklist build, experiment); every one
turns errors into one line through :func:`filterkit.cli.base.user_errors`.
"""

from __future__ import annotations

import typer

# importing a commands module registers its commands, in this order in `filterkit --help`
from filterkit.cli import (
    inspect_commands,  # noqa: F401
    run_commands,  # noqa: F401
    train_commands,  # noqa: F401
)
from filterkit.cli.base import app
from filterkit.cli.run_commands import progress_updater

__all__ = ["app", "progress_updater"]


def _version(value: bool) -> None:
    if value:
        from filterkit.version import __version__

        print(f"filterkit {__version__}")
        raise typer.Exit()


@app.callback(epilog="Example: filterkit run sample_data/shards -p pipelines/biorisk.yaml -o runs/demo --limit 1000")
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Keep a topic out of pretraining data.

    Arguments are named the same in every command: INPUT is what `run` reads, RUN a run folder (`--out` of
    `run`)."""
