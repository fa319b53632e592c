"""What every ``filterkit`` command shares: the typer app, the two consoles, and :func:`user_errors`, the one
wrapper that turns a :class:`FilterkitError` (and a full disk or an unwritable folder) into one line on stderr and
exit code 2. Anything else is a bug and keeps its traceback."""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Iterator

import typer

from filterkit.errors import FilterkitError
from filterkit.terminal import SafeConsole, labelled

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Keep a topic out of pretraining data.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# data reaches the terminal through these: no markup parsed from strings, control characters escaped
out_console = SafeConsole()
err_console = SafeConsole(stderr=True)


def fail(e: FilterkitError) -> None:
    err_console.print(labelled("error:", "bold red", e.message), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextlib.contextmanager
def user_errors(environment: bool = False) -> Iterator[None]:
    """Run a command's library call: a :class:`FilterkitError` becomes one line and exit code 2 (:func:`fail`).

    ``environment``: a full disk or an unwritable folder anywhere in an exception's chain is a user error too
    (commands that write a run folder or a page); every other exception is re-raised with its traceback.
    """
    try:
        yield
    except FilterkitError as e:
        fail(e)
    except Exception as e:
        mapped = environment_error(e) if environment else None
        if mapped is None:
            raise
        fail(mapped)


class _WarningLine(logging.Handler):
    """filterkit's warnings (skipped input files, an implausible term list) as one line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err_console.print(labelled("warning:", "yellow", record.getMessage()), highlight=False, soft_wrap=True)


if not any(isinstance(h, _WarningLine) for h in logging.getLogger("filterkit").handlers):
    logging.getLogger("filterkit").addHandler(_WarningLine(logging.WARNING))

_FULL = {errno.ENOSPC, errno.EDQUOT}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


def environment_error(e: BaseException) -> FilterkitError | None:
    """A full disk or an unwritable folder, found anywhere in an exception's chain, as a user error.

    Writes go to temp files renamed into place, so such a failure leaves finished shards intact and nothing
    half-written; the message says so. Other OS errors stay tracebacks (they are bugs until shown otherwise).
    """
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, OSError) and e.errno in _FULL | _NOT_WRITABLE:
            where = e.filename or "the run folder"
            if e.errno in _FULL:
                return FilterkitError(
                    f"{where}: no space left on the device ({e.strerror}); finished shards are kept — free space "
                    "or choose an --out on a bigger disk, then re-run the same command to resume"
                )
            return FilterkitError(f"{where}: cannot write there ({e.strerror}); choose a writable --out")
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
        seen += 1
    return None
