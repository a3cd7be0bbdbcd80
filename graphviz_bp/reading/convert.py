r"""Statements → text again: the plain notation (:func:`to_plain`) or LaTeX for a sheet (:func:`to_latex`).

Both printers write the fewest parentheses the reader needs (precedence, loosest first:
``+ -`` < ``* / @`` < unary ``-`` < ``^`` (right-associative) < postfix ``[i]`` ``^T``), so
that reading the text back builds the same graph: ``parse_program(to_plain(s))`` for the
notation, :func:`graphviz_bp.reading.latex.translate` for LaTeX.  Numbers are printed exactly (the
shortest text that reads back as the same float; ``2``, not ``2.0``).

>>> from graphviz_bp.reading.parser import parse_program
>>> print(to_plain(parse_program("f = ((x + y)) * (x - (y - 1))^(2)")), end="")
f = (x + y) * (x - (y - 1))^2
>>> print(to_latex(parse_program("L = ||X*W - Y||_2^2 + lambda*||W||_1")))
$$L = \|X * W - Y\|_2^2 + \lambda \cdot \|W\|_1$$
>>> from graphviz_bp.reading.program import convert
>>> print(convert(r"$$f(x, y) = \frac{x}{y}$$", "plain"), end="")
f = x / y

Nothing here evaluates anything; the expression trees are walked without recursion (a
100,000-term sum is a left-deep tree).
"""
from __future__ import annotations

import math
import re
from decimal import Decimal

import numpy as np

from ..core.errors import InputError
from ..core.notation import GREEK_LETTERS as GREEK
from ..core.ops import FUNCTIONS, OPS
from .parser import Apply, Literal, Name, Num, Statement
from .resolve import infer_shapes, product_op, sheet_power

__all__ = ["to_plain", "to_latex", "tex_name", "TARGETS"]

TARGETS = ("plain", "latex")

# precedence levels: what an expression is, and what an operand position needs
_ADD, _MUL, _UNARY, _POW, _SUP, _POSTFIX, _ATOM = 10, 20, 25, 30, 35, 40, 50
_SUM = 15          # \sum(…) takes what follows up to the next + or -: a product or power of it needs ( )

# function names from the op table: the plain spelling, and the LaTeX head of ``\\log\\left(…\\right)``
_OWN_SYNTAX = {"abs"}            # written |x| in both notations
_PLAIN_FUNCS = {op.name: op.spellings[0] for op in OPS.values() if op.spellings and op.name not in _OWN_SYNTAX}
_TEX_FUNCS = {op.name: op.tex.split(r"\left(")[0].replace("{{", "{").replace("}}", "}")
              for op in OPS.values() if op.name in _PLAIN_FUNCS and op.tex and r"\left(" in op.tex
              and "{0}" not in op.tex.split(r"\left(")[0] and "{1}" not in op.tex.split(r"\left(")[0]}
_TEX_FUNCS["sum"] = r"\sum"       # a sheet's Σ (its precedence: _SUM)
FUNCS = {name.lower() for name in FUNCTIONS if name.isascii()}
_BINARY = {"add": " + ", "sub": " - ", "mul": " * ", "div": " / ", "matmul": " @ "}


# --- numbers ---------------------------------------------------------------------------------

def plain_number(v: float) -> str:
    """The shortest notation text that reads back as ``v``: ``2``, ``-0.5``, ``1e-05``.

    >>> [plain_number(v) for v in (2.0, -0.5, 1e-05, 1e16, -0.0)]
    ['2', '-0.5', '1e-05', '1e+16', '-0']
    """
    v = float(v)
    if math.isinf(v):                     # "1e999" in a program reads as inf
        return "1e999" if v > 0 else "-1e999"
    if math.isnan(v):
        raise InputError("NaN has no notation (a program's numbers are finite)", kind="value")
    if v.is_integer() and abs(v) < 1e16:
        return ("-" if math.copysign(1.0, v) < 0 else "") + str(abs(int(v)))
    return repr(v)


def tex_number(v: float) -> str:
    """``v`` in positional notation (LaTeX has no ``1e-05``); it reads back as the same float.

    >>> [tex_number(v) for v in (2.0, -0.5, 1e-05, 1e16)]
    ['2', '-0.5', '0.00001', '10000000000000000']
    """
    text = plain_number(v)
    if "e" in text:
        if "999" in text and math.isinf(float(v)):
            raise InputError("an infinite number has no LaTeX form", kind="value")
        text = format(Decimal(text), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return text


def _literal(value, number, row_sep=", ") -> str:
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return number(float(a))
    return "[" + row_sep.join(_literal(x, number, row_sep) for x in a) + "]"


# --- the shared walk ---------------------------------------------------------------------------

def _walk(root, layout):
    """Text of ``root``: ``layout(e, done)`` gives ``(level, parts)`` for a node whose operands are
    done (``done[id(operand)]`` is their level); parts are strings or ``(operand, parenthesize)``.
    Two passes without recursion: levels bottom-up, then the text into one list."""
    done: dict[int, int] = {}
    parts_of: dict[int, list] = {}
    stack = [(root, False)]
    while stack:
        e, ready = stack.pop()
        if id(e) in done:
            continue
        if e.__class__ is Apply and not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in reversed(e.args) if id(a) not in done)
            continue
        done[id(e)], parts_of[id(e)] = layout(e, done)
    out: list[str] = []
    todo = [(root, False)]
    while todo:
        item, paren = todo.pop()
        if item.__class__ is str:
            out.append(item)
            continue
        parts = parts_of[id(item)]
        if paren:
            parts = [paren[0], *parts, paren[1]]
        for p in reversed(parts):
            todo.append((p, False) if p.__class__ is str else p)
    return "".join(out)


# --- plain -----------------------------------------------------------------------------------

def _index_text(e) -> str:
    """``[1]``, ``[0, 1]``: the same in both notations."""
    idx = e.params["index"]
    return "[" + (", ".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)) + "]"


def _bars(e) -> tuple[bool, bool]:
    """Whether the plain text of ``e`` starts / ends with a ``|`` (then ``|…|`` around it needs
    parentheses: ``||x||`` would be a norm).  Walks the leftmost / rightmost spine only."""
    def edge(e, side):
        while True:
            if e.__class__ is not Apply:
                return False
            if e.op in ("abs", "norm1", "norm2", "sqnorm2", "normp"):
                return True
            if e.op in _BINARY or e.op == "pow":
                e = e.args[0 if side == 0 else 1]
            elif e.op in ("transpose", "index") and side == 0:
                e = e.args[0]
            elif e.op == "neg" and side == 1:
                e = e.args[0]
            else:
                return False
    return edge(e, 0), edge(e, 1)


def _plain_layout(e, level):
    """(level, parts) of one node in the notation."""
    cls = e.__class__
    if cls is Num:
        text = plain_number(e.value)
        return (_UNARY if text.startswith("-") else _ATOM), [text]
    if cls is Name:
        return _ATOM, [e.id]
    if cls is Literal:
        return _ATOM, [_literal(e.value, plain_number)]
    op, args = e.op, e.args

    def operand(a, need, extra=False):
        return (a, ("(", ")") if level[id(a)] < need or extra else False)

    if op in _BINARY:
        lv = _ADD if op in ("add", "sub") else _MUL
        return lv, [operand(args[0], lv), _BINARY[op], operand(args[1], lv + 1)]
    if op == "pow":
        base, exp = args
        norm2 = base.__class__ is Apply and base.op == "norm2"            # ||e||^2 would be ||e||_2^2
        return _POW, [operand(base, _POW + 1, norm2), "^",
                      operand(exp, _UNARY, exp.__class__ is Name and exp.id == "T")]   # x^(T), not x^T
    if op == "neg":
        starts_minus = level[id(args[0])] == _UNARY     # - -x reads, -(-x) reads better
        return _UNARY, ["-", operand(args[0], _UNARY, starts_minus)]
    if op == "transpose":
        return _POSTFIX, [operand(args[0], _POSTFIX), "^T"]
    if op == "index":
        return _POSTFIX, [operand(args[0], _POSTFIX), _index_text(e)]
    if op in ("abs", "norm1", "norm2", "sqnorm2", "normp"):
        inner = (args[0], ("(", ")") if any(_bars(args[0])) else False)
        if op == "abs":
            return _ATOM, ["|", inner, "|"]
        p = e.params.get("p")
        sub = {"norm1": "_1", "norm2": "_2", "sqnorm2": "_2^2"}.get(op) or \
            ("_" + plain_number(p) if float(p).is_integer() else "_ " + plain_number(p))   # _1.5 reads _1
        return _ATOM, ["||", inner, "||" + sub]
    if op in _PLAIN_FUNCS:
        parts = [_PLAIN_FUNCS[op] + "("]
        for k, a in enumerate(args):
            parts += ([", "] if k else []) + [(a, False)]
        if "stride" in e.params:
            parts.append(f", stride={e.params['stride']}")
        return _ATOM, parts + [")"]
    raise InputError(f"the operation {op!r} has no notation", e.line, e.col)


def _plain_expr(e) -> str:
    return _walk(e, _plain_layout)


def to_plain(statements: list[Statement]) -> str:
    """The statements in the plain notation, one a line (with a final newline).

    >>> from graphviz_bp.reading.parser import parse_program
    >>> print(to_plain(parse_program("W = [[1, 2.0], [3, -4]]; v = [1e-3, 2]\\n"
    ...                              "f = -(x^2)^y.T + ||W @ v||_2^2 * abs(x - |y|) / A[0, 1]")), end="")
    W = [[1, 2], [3, -4]]
    v = [0.001, 2]
    f = -(x^2)^y^T + ||W @ v||_2^2 * |(x - |y|)| / A[0, 1]
    """
    lines = []
    for st in statements:
        text = _plain_expr(st.expr)
        lines.append(text if st.target is None else f"{st.target} = {text}")
    return "\n".join(lines) + "\n"


# --- LaTeX -----------------------------------------------------------------------------------

_GREEK_RE = "|".join(sorted(GREEK, key=len, reverse=True))
_SIMPLE_NAME = re.compile(rf"(?P<base>{_GREEK_RE}|[^\W\d_])(?P<hat>hat)?(?:_(?P<sub>[^\W_]+))?")
_BOLD_TEX = re.compile(r"\\(?:mathbf|boldsymbol|bm|vec|pmb)\b")


def tex_name(name: str, tex_names: dict | None = None) -> str:
    r"""How a name is written on a sheet, so that the translator reads it back as ``name``.

    >>> [tex_name(n) for n in ("x", "lambda", "yhat", "betahat", "w_12", "x_i", "W1", "logloss", "W1_b")]
    ['x', '\\lambda', '\\hat{y}', '\\hat{\\beta}', 'w_{12}', 'x_{i}', 'W1', '\\mathrm{logloss}', '\\mathrm{W1_b}']
    >>> tex_name("W_1", {"W_1": "W^{(1)}"})
    'W^{(1)}'
    """
    if tex_names and name in tex_names:
        return tex_names[name]
    m = _SIMPLE_NAME.fullmatch(name)
    if m:
        base = m["base"] if len(m["base"]) == 1 else "\\" + m["base"]
        text = "\\hat{" + base + "}" if m["hat"] else base
        return text + ("_{" + m["sub"] + "}" if m["sub"] else "")
    if re.fullmatch(r"[^\W\d_]\d+", name):
        return name                                   # W1: the translator keeps it
    if name.lower() in FUNCS:                         # \mathrm{Sum} would be the function sum
        return name
    return "\\mathrm{" + name + "}"


def _tex_literal(value) -> str:
    a = np.asarray(value, dtype=float)
    if a.ndim == 1:        # a bmatrix row is 1×n: a 1-D vector is written as the notation writes it
        return "[" + ", ".join(tex_number(x) for x in a) + "]"
    if a.ndim != 2:
        raise InputError(f"a {a.ndim}-D literal has no LaTeX form (bmatrix holds a matrix)", kind="shape")
    rows = " \\\\ ".join(" & ".join(tex_number(x) for x in row) for row in a)
    return "\\begin{bmatrix} " + rows + " \\end{bmatrix}"


class _TexLayout:
    """(level, parts) of one node in LaTeX; ``shapes`` decides products and powers."""

    def __init__(self, shapes, tex_names):
        self.shapes, self.tex_names = shapes, tex_names or {}

    def shape(self, e):
        return self.shapes.get(id(e))

    def __call__(self, e, level):
        cls = e.__class__
        if cls is Num:
            text = tex_number(e.value)
            return (_UNARY if text.startswith("-") else _ATOM), [text]
        if cls is Name:
            text = tex_name(e.id, self.tex_names)
            sup = "^" in text                                   # W^{(1)}: a power of it needs ( )
            return (_SUP if sup else _ATOM), [text]
        if cls is Literal:
            return _ATOM, [_tex_literal(e.value)]
        op, args = e.op, e.args

        def operand(a, need, extra=False):
            return (a, ("\\left(", "\\right)") if level[id(a)] < need or extra else False)

        def right(a, need):                 # a - (-b): a minus sign right after an operator
            return operand(a, need, level[id(a)] == _UNARY)

        if op in ("add", "sub"):
            return _ADD, [operand(args[0], _ADD), _BINARY[op], right(args[1], _ADD + 1)]
        if op in ("mul", "matmul"):
            sheet = product_op(self.shape(args[0]), self.shape(args[1]))
            sym = (" \\cdot " if sheet == "mul" else " * ") if op == "mul" else \
                (" \\cdot " if sheet == "matmul" else " \\mathbin{@} ")
            return _MUL, [operand(args[0], _MUL), sym, right(args[1], _MUL + 1)]
        if op == "div":     # the translator writes \frac{a}{b} as a / b: a level of its own
            return _MUL, ["\\frac{", (args[0], False), "}{", (args[1], False), "}"]
        if op == "pow":
            base, exp = args
            e_base = base.__class__ is Name and base.id == "e" and not self.tex_names.get("e")
            # the notation's ^ is elementwise: where a sheet's ^ would not be, write ^{\circ …}
            circ = "\\circ " if sheet_power(base, self.shape(base)) != "elementwise" else ""
            base_part = ["\\mathrm{e}"] if e_base else [operand(base, _POSTFIX)]   # e^{x} is exp(x)
            return _POW, [*base_part, "^{" + circ, (exp, False), "}"]
        if op == "neg":
            return _UNARY, ["-", operand(args[0], _UNARY, level[id(args[0])] == _UNARY)]
        if op == "transpose":
            return _SUP, [operand(args[0], _POSTFIX), "^{T}"]
        if op == "index":
            return _POSTFIX, [operand(args[0], _POSTFIX), _index_text(e)]
        if op in ("abs", "norm1", "norm2", "sqnorm2", "normp"):
            inner = (args[0], ("\\left(", "\\right)") if any(_bars(args[0])) else False)
            if op == "abs":
                return _ATOM, ["|", inner, "|"]
            p = e.params.get("p")
            sub = {"norm1": "_1", "norm2": "_2", "sqnorm2": "_2^2"}.get(op) or "_{" + tex_number(p) + "}"
            return _SUP, ["\\|", inner, "\\|" + sub]
        if op == "sqrt":
            return _ATOM, ["\\sqrt{", (args[0], False), "}"]
        if op in _PLAIN_FUNCS:
            name = _TEX_FUNCS.get(op) or "\\operatorname{" + _PLAIN_FUNCS[op] + "}"
            if op == "sum" and _names_an_entry(args[0]):
                name = "\\operatorname{sum}"     # \sum(x_{i}) would read as Σ over i of the entries of x
            parts = [name + "("]
            for k, a in enumerate(args):
                parts += ([", "] if k else []) + [(a, False)]
            if "stride" in e.params:
                parts.append(f", \\mathrm{{stride}}={e.params['stride']}")
            # \sum runs to the next + or - (\sum (y - b)^2 is a sum of squares): a level of a sum
            return (_SUM if op == "sum" else _ATOM), parts + [")"]
        raise InputError(f"the operation {op!r} has no LaTeX form", e.line, e.col)


_ENTRY_NAME = re.compile(r"_[ijkn]$")      # the subscripts a sheet's \sum runs over (reading.sums)


def _names_an_entry(expr) -> bool:
    """Whether a name in ``expr`` ends in ``_i`` (``_j``, ``_k``, ``_n``), which under ``\\sum`` a
    sheet reads as entry i of a vector."""
    stack = [expr]
    while stack:
        e = stack.pop()
        if e.__class__ is Name and _ENTRY_NAME.search(e.id):
            return True
        stack.extend(getattr(e, "args", ()))
    return False


def to_latex(statements: list[Statement], tex_names: dict | None = None) -> str:
    r"""LaTeX for a sheet, one ``$$…$$`` a statement, that :func:`graphviz_bp.reading.latex.translate`
    reads back to the same graph.  ``tex_names`` (name → LaTeX, as a translation gives it)
    overrides how names are written.

    A product is written ``\cdot`` where the sheet's reading (by shapes, see
    :mod:`graphviz_bp.reading.resolve`) gives the same operation, else ``*`` (elementwise) or
    ``\mathbin{@}`` (the matrix product); a power of a square matrix is ``X^{\circ 2}``.

    >>> from graphviz_bp.reading.parser import parse_program
    >>> print(to_latex(parse_program("A = [[1, 2], [3, 4]]\nB = A @ A + A^2\nf = tr(B) / (2*n)")))
    $$A = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$$
    $$B = A \cdot A + A^{\circ 2}$$
    $$f = \frac{\operatorname{tr}(B)}{2 \cdot n}$$
    """
    tex_names = tex_names or {}
    tensors = frozenset(n for n, t in tex_names.items() if _BOLD_TEX.search(t))
    shapes = infer_shapes(statements, tensors)
    layout = _TexLayout(shapes, tex_names)
    lines = []
    for st in statements:
        text = _walk(st.expr, layout)
        lines.append(f"$${text}$$" if st.target is None else f"$${tex_name(st.target, tex_names)} = {text}$$")
    return "\n".join(lines)


# --- the command ---------------------------------------------------------------------------------
