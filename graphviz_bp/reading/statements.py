r"""The statements of a pasted sheet: where a math span splits into statements, which side of
``a = b = c`` is the formula, declarations (``X \\in \\mathbb{R}^{D \\times D}``), labels
(``h^a``), literals, and the order the program is written in (literals first, definitions before
use, the sheet's final statement last).
"""
from __future__ import annotations

import heapq
import re

from ..core.errors import InputError
from .latex_tokens import _SEPARATORS, _Fail
from .parser import Literal, Num, parse_program

def _statements(toks):
    """Split a span's tokens at top-level separators; a statement is its list of (lo, hi) sides.

    ``… \\rightarrow \\min_w`` (what is done with a loss) ends a formula; an empty last side (a
    line of an aligned derivation ending in ``=``) is dropped; a statement that starts with ``=``
    continues the derivation before it (a worked step) and is returned with an empty first side."""
    if toks and toks[-1][:2] == ("sym", "."):
        toks.pop()
    out, sides, lo, depth, skip = [], [], 0, 0, False
    for k, (kind, v, pos) in enumerate(toks + [("sym", ";", None)]):
        depth += kind in ("open", "lbar", "begin") or (kind, v) in (("sym", "{"), ("cmd", "langle"))
        depth -= kind in ("close", "rbar", "end") or (kind, v) in (("sym", "}"), ("cmd", "rangle"))
        prose = kind == "text" and not re.fullmatch(r"[^\W\d]\w*", v)   # \text{ for all } ends a formula
        arrow = depth <= 0 and kind == "cmd" and v in ("rightarrow", "to", "longrightarrow", "implies",
                                                        "Rightarrow", "iff", "Longrightarrow")
        if pos is None or depth <= 0 and ((kind, v) in _SEPARATORS or prose or arrow):
            if not skip and (k > lo or sides):
                sides = sides + [(lo, k)]
                while len(sides) > 2 and sides[-1][1] <= sides[-1][0]:
                    sides.pop()                                  # "y &= a + b = \\"
                out.append(sides)
            sides, lo, skip = [], k + 1, arrow or (skip and (kind, v) not in _SEPARATORS and pos is not None)
        elif depth <= 0 and (kind, v) == ("sym", "=") and not skip:
            sides, lo = sides + [(lo, k)], k + 1
    return out


class _Stmt:
    __slots__ = ("name", "rhs", "used", "pos", "conv", "span", "inline", "params")

    def __init__(self, name, pos, conv, span, inline=False, params=()):
        self.name, self.pos, self.conv, self.span, self.rhs, self.used = name, pos, conv, span, "", set()
        self.inline, self.params = inline, params


def _is_literal(rhs: str) -> bool:
    """A number or a bracket literal (a given value), not a formula such as ``1 + 2``."""
    if not re.fullmatch(r"[-+\d.e\[\], ]+", rhs):
        return False
    try:
        (st,) = parse_program("v = " + rhs)
    except (InputError, ValueError):
        return False
    return st.expr.__class__ in (Num, Literal)


def _where(text, pos):
    pos = len(text) if pos is None else pos
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def _declaration(conv, sides, earlier=()) -> bool:
    r"""``W \in \mathbb{R}^{M \times p}``: not a formula, but it says W is a vector or a matrix.

    ``earlier``: the statements of the span before this one; the bare names that end them
    (``\mathbf{A}, \mathbf{B} \in …``, split at the comma) are declared too."""
    if len(sides) != 1:
        return False
    lo, hi = sides[0]
    at = next((k for k in range(lo, hi) if conv.t[k][:2] == ("cmd", "in")), None)
    if at is None:
        return False
    sup = next((k for k in range(at, hi) if conv.t[k][:2] == ("sym", "^")), None)
    if sup is not None:
        conv.header = True                                  # x_i \in R^D names sample i, not an entry
        try:
            names = [it.text + it.suffix for it in conv.convert(lo, at) if it.kind == "name"]
            names = _bare_names(conv, earlier) + names
            dims_lo, dims_hi, _ = conv.arg(sup + 1, hi, "^")
        except _Fail:
            return True
        finally:
            conv.header = False
        dims, dim = [], []
        for t in conv.t[dims_lo:dims_hi] + [("cmd", "times", None)]:
            if t[:2] == ("cmd", "times"):
                dims, dim = dims + [tuple(x[:2] for x in dim)], []
            else:
                dim.append(t)
        conv.tensor_names.update(names)
        shape = tuple(_dim_text(d) for d in dims)
        for name in names:
            conv.sheet.declared[name] = shape
        if len(dims) == 2 and dims[0] == dims[1] and dims[0]:
            conv.square_names.update(names)                # R^{D \times D}: X^2 is a matrix power
    return True


def _bare_names(conv, earlier) -> list[str]:
    r"""The names of the one-name statements just before a declaration (A, B in ``A, B \in …``)."""
    names = []
    for sides in reversed(earlier):
        if len(sides) != 1:
            break
        try:
            items = conv.convert(*sides[0])
        except _Fail:
            break
        if len(items) != 1 or items[0].kind != "name":
            break
        names.insert(0, items[0].text + items[0].suffix)
    return names


def _dim_text(dim):
    """A declared dimension: a whole number, or the symbol as the sheet writes it (``D``, ``d_h``)."""
    text = "".join(v for _, v in dim)
    return int(text) if text.isdigit() else text


def _name_only(conv, side):
    """The name item when a side of ``a = b = c`` is just a name (then all are set to c), else None."""
    try:
        items = conv.convert(*side)
    except _Fail:
        return None
    return items[0] if len(items) == 1 and items[0].kind == "name" and not items[0].post else None


_INDEX_FORM = re.compile(r"_[ijklnm]{1,2}(?=_|$)")


def _right_side(conv, sides, params=()):
    """The formula of ``a = … = …``: the first side after the name that is not a label such as
    ``P(y=1)`` and, for ``L(W_1, W_2) = …``, that uses the header's variables; the last side
    when every side between is a name (``x = y = 3``)."""
    middle = [_name_only(conv, side) for side in sides[1:-1]]
    if middle and all(middle):
        return sides[-1]
    formulas = [side for side in sides[1:] if not any(conv.t[k][:2] == ("sym", "=") for k in range(*side))]
    for side in formulas:
        words = {conv.t[k][1] for k in range(*side) if conv.t[k][0] == "word"}
        if not params or all(p.split("_")[0] in words for p in params):
            return side
    return formulas[0] if formulas else sides[1]


def _labels(text) -> set:
    r"""(base, letter) pairs that are labels, not powers: ``h^a`` and ``h^s`` on one sheet (a base
    with two letter superscripts), or a letter superscript on the left of ``=`` (``o^a = …``)."""
    seen: dict = {}
    out = set()
    for m in re.finditer(r"(?<![\\\w])([A-Za-z])(?:_\{?\w+\}?)?\s*\^\s*(?:\{\s*([a-z])\s*\}|([a-z])(?!\w))"
                         r"(?:_\{?\w+\}?)?(\s*=)?", text):
        base, letter = m.group(1), m.group(2) or m.group(3)
        if base == "e" or letter == "T":
            continue
        seen.setdefault(base, set()).add(letter)
        if m.group(4):
            out.add((base, letter))
    return out | {(b, x) for b, letters in seen.items() if len(letters) > 1 for x in letters}


def _order(stmts, defined, text):
    """Literals first, then definitions before use (stable), the sheet's final statement last."""
    literal = [s for s in stmts if s.name and _is_literal(s.rhs)]
    rest = [s for s in stmts if s not in literal]
    used = set().union(*(s.used for s in stmts))
    final = ([s for s in rest if s.name not in used] or [None])[-1]
    stray = [s for s in stmts if s.name is None and s is not final]
    if stray:
        raise _Fail("an expression without a name must be the last formula", stray[0].pos)
    pending = [s for s in rest if s is not final]
    index = {id(s): k for k, s in enumerate(pending)}
    users, indeg = [[] for _ in pending], [0] * len(pending)
    for k, s in enumerate(pending):
        for d in {index.get(id(defined[n])) for n in s.used if n in defined} - {None}:
            users[d].append(k)
            indeg[k] += 1
    ready, order = [k for k, n in enumerate(indeg) if n == 0], []
    while ready:                               # Kahn's algorithm, taking the earliest ready statement
        k = heapq.heappop(ready)
        order.append(pending[k])
        for u in users[k]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, u)
    if len(order) < len(pending):
        cycle = [s for k, s in enumerate(pending) if indeg[k] > 0]
        places = ", ".join("{} (line {}, column {})".format(s.name, *_where(text, s.pos)) for s in cycle)
        raise _Fail(f"circular definitions: {places} are defined in terms of each other", cycle[0].pos)
    return literal + order + ([final] if final else [])
