"""A program's observations (its data set), for training: a table, or indexed values.

Two ways to write them, as the sheets do:

* **indexed values**: ``x_1 = 1; x_2 = 2; y_1 = 2; y_2 = 3`` next to a loss in ``x`` and ``y``.
  An input ``N_k`` (k a whole number) that the loss does not use, whose base ``N`` is an input the
  loss does use, is the value of ``N`` in observation k. Every base needs the same indices.
* **a Markdown table**, each line may start with ``#`` so that the other commands read the file
  as a plain program (its lines are comments to them)::

      # | № | x1 | x2 | y |
      # |---|----|----|---|
      # | 1 | 1  | 1  | 1 |
      # | 2 | 5  | 2  | 0 |

  A column names an input (``x``, ``y``); a cell is a number or a bracket literal (``[[5, 2]]``).
  Columns ``x1, x2`` (or ``x_1, x_2``) with no input of that name fill the entries of the input
  ``x`` in order, when the program gives ``x`` a value with that many entries (its shape is kept).
  A first column ``№``, ``#``, ``n`` or ``obs`` numbers the rows; it must count 1, 2, … .

Observations are numbered from 1 (``--order 2,1`` uses these numbers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError

_TABLE_LINE = re.compile(r"^\s*#?\s*(\|.*\|)\s*$")
_SEPARATOR = re.compile(r"^\|(\s*:?-{2,}:?\s*\|)+$")
_INDEXED = re.compile(r"^(.+?)_(\d+)$")
_FEATURE = re.compile(r"^(.+?)_?(\d+)$")
LABEL_COLUMNS = ("№", "#", "n", "no", "obs", "i")


@dataclass
class Observation:
    label: int          # 1-based number, as the sheets count observations
    values: dict        # input name -> value (float or float64 ndarray)


def split_table(text: str) -> tuple[str, list[tuple[int, list[str]]]]:
    """``(program text without the table lines, [(line number, cells)] of the table's rows)``.

    Table lines are blanked, not removed, so the program's line numbers stay right.
    A table is a header line, a separator line ``|---|---|`` and rows; other lines are left alone.
    """
    lines = text.split("\n")
    rows: list[tuple[int, list[str]]] = []
    k = 0
    while k < len(lines):
        m = _TABLE_LINE.match(lines[k])
        sep = _TABLE_LINE.match(lines[k + 1]) if m and k + 1 < len(lines) else None
        if m and sep and _SEPARATOR.match(sep.group(1).replace(" ", "")):
            if rows:
                raise InputError("a second table of observations; give all of them in one table", k + 1,
                                 kind="syntax")
            start = k
            rows.append((k + 1, _cells(m.group(1))))
            k += 2
            while k < len(lines) and _TABLE_LINE.match(lines[k]):
                rows.append((k + 1, _cells(_TABLE_LINE.match(lines[k]).group(1))))
                k += 1
            for j in range(start, k):
                lines[j] = ""
            continue
        k += 1
    return "\n".join(lines), rows


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip()[1:-1].split("|")]


def _cell_value(text: str, line: int, column_name: str):
    from ..core.evaluate import as_value
    from ..reading.parser import Literal, Num, parse_program
    try:
        statements = parse_program(f"v = {text}")
    except (InputError, ValueError):
        statements = []
    if len(statements) != 1 or statements[0].expr.__class__ not in (Num, Literal):
        raise InputError(f"observation table, column {column_name}: {text!r} is not a number or a literal "
                         f"like [[5, 2]]", line, kind="value")
    return as_value(statements[0].expr.value, column_name)


def from_table(g, rows) -> list[Observation]:
    """Observations from the rows :func:`split_table` found (header first)."""
    (head_line, header), body = rows[0], rows[1:]
    if not body:
        raise InputError("the table of observations has a header but no rows", head_line, kind="syntax")
    label_col = 0 if header[0].lower() in LABEL_COLUMNS else None
    columns = [(j, h) for j, h in enumerate(header) if j != label_col]
    inputs = {n.name for n in g.nodes if n.kind == "input"}
    direct, features = [], {}
    for j, h in columns:
        if h in inputs:
            direct.append((j, h))
            continue
        m = _FEATURE.match(h)
        if m and m.group(1) in inputs:
            features.setdefault(m.group(1), []).append((int(m.group(2)), j, h))
            continue
        raise InputError(f"observation table: column {h!r} is not an input of the program "
                         f"(inputs: {', '.join(sorted(inputs))})", head_line, kind="name")
    for base, cols in features.items():
        default = g.node(base).default
        size = np.size(default) if default is not None else None
        if size != len(cols) or sorted(c[0] for c in cols) != list(range(1, len(cols) + 1)):
            raise InputError(f"observation table: columns {', '.join(c[2] for c in cols)} would fill {base!r}, "
                             f"but the program must give {base} a value with {len(cols)} entries "
                             f"(numbered from 1) to show its shape", head_line, kind="shape")
    out = []
    for k, (line, cells) in enumerate(body, 1):
        if len(cells) != len(header):
            raise InputError(f"observation table: row {k} has {len(cells)} cells, the header {len(header)}",
                             line, kind="syntax")
        if label_col is not None and cells[label_col] not in (str(k), f"{k}."):
            raise InputError(f"observation table: row {k} is numbered {cells[label_col]!r}; number the rows "
                             f"1, 2, … in order", line, kind="value")
        values = {h: _cell_value(cells[j], line, h) for j, h in direct}
        for base, cols in features.items():
            shape = np.shape(g.node(base).default)
            flat = [float(_cell_value(cells[j], line, h)) for _, j, h in sorted(cols)]
            values[base] = np.array(flat).reshape(shape) if shape else flat[0]
        out.append(Observation(k, values))
    return out


def from_indexed(g) -> list[Observation]:
    """Observations from indexed values ``x_1 = 1, y_1 = 2, …`` (see the module docstring)."""
    from ..core.graph import is_parameter
    used = _used_inputs(g)
    by_label: dict[int, dict] = {}
    bases: dict[str, set] = {}
    for n in g.nodes:
        if n.kind != "input" or n.name in used or n.default is None:
            continue
        m = _INDEXED.match(n.name)
        if not m or m.group(1) not in used or is_parameter(m.group(1)):
            continue
        base, k = m.group(1), int(m.group(2))
        by_label.setdefault(k, {})[base] = n.default
        bases.setdefault(base, set()).add(k)
    if not bases:
        return []
    labels = sorted(by_label)
    for base, ks in bases.items():
        missing = [k for k in labels if k not in ks]
        if missing:
            other = next(b for b in bases if missing[0] in bases[b])
            raise InputError(f"observation {missing[0]} gives {other}_{missing[0]} but no {base}_{missing[0]}",
                             kind="value")
    return [Observation(k, by_label[k]) for k in labels]


def _used_inputs(g) -> set:
    """Inputs the output depends on."""
    seen = {g.index(g.output)}
    stack = [g.index(g.output)]
    while stack:
        for j in g.nodes[stack.pop()].args:
            if j not in seen:
                seen.add(j)
                stack.append(j)
    return {g.nodes[j].name for j in seen if g.nodes[j].kind == "input"}


def read(text: str, syntax: str = "auto", limits=None, output: str | None = None):
    """``(graph, observations)`` of a program with its data: the table lines are taken out before the
    program is parsed; without a table, indexed values are looked for; without either, ``[]``."""
    from ..reading.program import parse
    program, rows = split_table(text)
    g = parse(program, limits=limits, output=output, syntax=syntax)
    if rows:
        table = from_table(g, rows)
        indexed = from_indexed(g)
        if indexed:
            raise InputError("observations are given twice: as a table and as indexed values (x_1 = …); "
                             "keep one", kind="value")
        return g, table
    return g, from_indexed(g)
