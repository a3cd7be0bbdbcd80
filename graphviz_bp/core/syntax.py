"""The syntax tree both readers produce and the graph builder consumes.

The plain notation (:mod:`graphviz_bp.reading.parser`) and a pasted sheet (via
:mod:`graphviz_bp.reading.latex`) end in these five classes; :func:`graphviz_bp.core.graph.build`
turns a list of statements into nodes.  Each carries the line, column and source text it came from,
so that an error found later points at what the user typed.
"""
from __future__ import annotations

from dataclasses import dataclass


class Num:
    __slots__ = ("value", "line", "col", "src")

    def __init__(self, value, line, col, src):
        self.value, self.line, self.col, self.src = value, line, col, src


class Name:
    __slots__ = ("id", "line", "col", "src")

    def __init__(self, id, line, col):
        self.id, self.line, self.col, self.src = id, line, col, id


class Literal:
    """A vector or matrix literal (a float ndarray)."""
    __slots__ = ("value", "line", "col", "src")

    def __init__(self, value, line, col, src):
        self.value, self.line, self.col, self.src = value, line, col, src


class Apply:
    """An operation of the op table applied to operand expressions."""
    __slots__ = ("op", "args", "params", "line", "col", "src")

    def __init__(self, op, args, params, line, col, src):
        self.op, self.args, self.params, self.line, self.col, self.src = op, args, params, line, col, src


@dataclass
class Statement:
    target: str | None          # None for a bare expression
    expr: object
    line: int
    col: int
