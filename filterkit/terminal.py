"""Printing hostile text: no markup is parsed from data, and no control character reaches the terminal.

Paths, document ids, snippets, matched terms and error messages all come from data someone else wrote. Rich
parses ``[...]`` as markup by default, so a path holding ``[/]`` turned an error about it into a
``MarkupError`` traceback, and ``[link=...]`` became a clickable link; raw ESC sequences (set the title, clear
the screen) went straight to the reviewer's terminal. :class:`SafeConsole` parses no markup in strings (styled
prefixes are built as :class:`rich.text.Text`) and writes every control character other than newline and tab
as a visible escape (``\\x1b``), C1 controls and bidirectional overrides included.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rich.console import Console
from rich.text import Text

_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def _visible(c: str) -> str:
    return c.encode("unicode_escape").decode("ascii")


def clean(text: str, keep: str = "\n\t") -> str:
    """``text`` with control characters (C0, DEL, C1) and bidi overrides written as escapes, except ``keep``."""
    if text.isprintable() and not any(c in _BIDI for c in text):
        return text
    return "".join(
        _visible(c) if (c not in keep and (unicodedata.category(c) == "Cc" or c in _BIDI)) else c for c in text
    )


def one_line(text: str) -> str:
    """``text`` cleaned so it prints as one line (newlines and tabs escaped too): for error and warning lines."""
    return clean(text, keep="")


class SafeConsole(Console):
    """A rich console for data: markup off unless asked for, control characters escaped in every string."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(*args, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:  # every str printed, and every table cell and title
        return super().render_str(clean(text), **kwargs)


def labelled(label: str, style: str, message: str) -> Text:
    """``label: message`` with the label styled and the message printed as it is, on one line."""
    return Text.assemble((label, style), " ", one_line(message))
