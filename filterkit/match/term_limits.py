"""Limits on a term file, checked when it is read (in the plan, before any worker starts).

The matcher compiles every term (and, with ``split_terms``, its split variants) into one automaton in every
worker. Unbounded lists broke it: a million terms took 260 s and 9.1 GB before a traceback inside the worker;
one 10 MB term was OOM-killed at 15.8 GB; one phrase of 1.67M words made 300 documents take over 15 minutes.
A topic term list holds hundreds to a few thousand short terms (the shipped one: 589, the longest 83
characters), so these limits leave two orders of magnitude of room and refuse the rest in one line.
"""

from __future__ import annotations

from pathlib import Path

from filterkit.errors import FilterkitError

MAX_FILE_BYTES = 8 << 20  # 8 MiB of term file
MAX_TERMS = 50_000
MAX_TERM_CHARS = 200
MAX_TERM_WORDS = 16


def check_file_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FilterkitError(
            f"{path}: blocklist file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a "
            "term list (hundreds to thousands of short terms); set blocklist.path to a term list"
        )


def check_term(path: Path, line_no: int, term: str) -> None:
    words = len(term.split())
    if len(term) > MAX_TERM_CHARS or words > MAX_TERM_WORDS:
        raise FilterkitError(
            f"{path}: line {line_no} holds a term of {len(term):,} characters and {words:,} words, "
            f"over the limit of {MAX_TERM_CHARS} characters and {MAX_TERM_WORDS} words; shorten or "
            "remove it (a term is a word or a short phrase)"
        )


def check_count(path: Path, n: int) -> None:
    if n > MAX_TERMS:
        raise FilterkitError(
            f"{path}: blocklist file has more than {MAX_TERMS:,} terms; a term list that long "
            "would take minutes and gigabytes to compile in every worker — keep the terms that "
            "matter, or split the list"
        )
