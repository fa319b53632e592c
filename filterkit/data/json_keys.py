"""Duplicate keys in one JSON object: ambiguous input, refused.

``{"text": A, "text": B}`` is valid JSON whose meaning depends on the reader: orjson (what filterkit scores
with) keeps the last value, many readers keep the first, and Arrow's JSON reader refuses the line. A kept line is
copied byte for byte, so a document could be scored as B and read downstream as A. Every line is checked while
it is parsed.

orjson cannot report duplicates, and parsing every line a second time with the standard library's pairs hook
would halve JSON throughput, so the exact check runs only where a duplicate is possible: every key token
ends in a quote followed by a colon (``"\\s*:``), so a line with no more such matches than the parsed object
tree has keys holds no duplicate. Matches inside strings (an escaped quote before a colon) only send a line to
the exact check, never past it.
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY_END = re.compile(rb'"[ \t\r\n]*:')


def _count_keys(obj: Any) -> int:
    n, stack = 0, [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            n += len(x)
            stack.extend(v for v in x.values() if isinstance(v, (dict, list)))
        elif isinstance(x, list):
            stack.extend(v for v in x if isinstance(v, (dict, list)))
    return n


def duplicate_key(line: bytes, obj: Any) -> str | None:
    """The first key given twice in one object of ``line`` (already parsed as ``obj``), or None."""
    if len(_KEY_END.findall(line)) <= _count_keys(obj):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict:
        seen: set[str] = set()
        for k, _ in items:
            if k in seen and not found:
                found.append(k)
            seen.add(k)
        return dict(items)

    try:
        json.loads(line, object_pairs_hook=pairs)
    except (ValueError, RecursionError):  # orjson accepted it; nothing more to learn here
        return None
    return found[0] if found else None
