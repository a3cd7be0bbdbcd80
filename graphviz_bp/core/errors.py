"""The one exception type for bad input, and warnings about numerics.

Every error caused by what a user typed or passed is an :class:`InputError`
(or a subclass), carrying where it happened.  The CLI turns it into one line
and exit status 2; the dashboard shows it with ``st.error``.  Anything else
that escapes the library is a bug.
"""
from __future__ import annotations


class InputError(ValueError):
    """Bad input: syntax, unknown name or function, shape mismatch, missing value, a limit.

    Attributes
    ----------
    message : str   what is wrong, without the location prefix
    line, column : int | None   1-based position in the program text, when known
    kind : str      one of "syntax", "name", "shape", "value", "limit", "usage"
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 kind: str = "syntax"):
        self.message = message
        self.line = line
        self.column = column
        self.kind = kind
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.line is not None and self.column is not None:
            return f"line {self.line}, column {self.column}: {self.message}"
        if self.line is not None:
            return f"line {self.line}: {self.message}"
        return self.message

    def to_json(self) -> dict:
        return {"kind": self.kind, "message": self.message,
                "line": self.line, "column": self.column}


class LimitError(InputError):
    """A configured limit was exceeded; the message names the limit and how to raise it."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message, line, column, kind="limit")


class NumericWarning(UserWarning):
    """A value became NaN or infinite (e.g. ``log`` of a negative number); names the node."""
