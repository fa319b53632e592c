"""One exception type for everything a user can fix.

The CLI turns a :class:`FilterkitError` into one line on stderr and exit code 2; anything else is a bug
and keeps its traceback. Messages name the file involved and the fix, because the reader is usually
looking at a failed batch job and has nothing else to go on.
"""

from __future__ import annotations


class FilterkitError(Exception):
    """A problem with the user's input, config or environment, with a message that says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self):  # survives pickling across datatrove's worker processes
        return (type(self), (self.message,))
