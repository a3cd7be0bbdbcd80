"""A hand solution's claims: one a line (``L = 30``, ``grad W = …``, ``new W3[0, 1] = 1.18``), read
by the project's parser, and how a given value is compared with the engine's."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..core.notation import fmt_value, to_json
from ..core.errors import InputError

ATOL = 1e-9          # absolute tolerance, for values that should be 0
MAX_VARIANTS = 20    # ReLU nodes tried for a derivative slip (each costs a backward pass)
_COMMUTATIVE = {"add", "mul", "maximum", "minimum"}


# --- claims: parsing the answers file -----------------------------------------------------------

@dataclass
class Claim:
    """One line of a hand solution and its verdict."""
    line: int
    column: int
    lhs: str                     # as written, e.g. "X*W - Y", "grad W", "new W3[0, 1]"
    kind: str                    # "value" | "grad" | "new"
    target: str = ""             # the expression or name after grad/new (= lhs for values)
    node: int = -1               # graph node index the claim is about
    element: tuple | None = None  # an entry of the node's value, e.g. (0, 1)
    given: object = None
    expected: object = None
    ok: bool = True
    slip: str | None = None
    inherited: bool = False
    follows: bool | None = None  # inherited and equal to what the earlier wrong value gives
    follows_value: object = None

    def to_json(self) -> dict:
        return {"line": self.line, "lhs": self.lhs, "kind": self.kind, "given": to_json(self.given),
                "expected": to_json(self.expected), "ok": self.ok, "slip": self.slip,
                "inherited": self.inherited, "follows": self.follows}


_KEYWORD = re.compile(r"^(grad|new)\s+(\S.*)$")
_NABLA = re.compile(r"^∇_?\s*(\S.*)$")


def parse_claims(text: str, limits=None, reading=None) -> list[Claim]:
    """The claims of an answers file, with their line and column; values parsed as literals.
    ``reading`` (:class:`.answers_latex.Reading`) reads LaTeX as the program reads its sheet.
    At most ``limits.max_claims`` claims (issue 19: 20,000 lines took 86 s of a server)."""
    from ..core.limits import current
    from .answers_latex import unwrap
    limits = limits or current()
    claims = []
    lines = text.split("\n")
    k = 0
    while k < len(lines):
        first = k
        code = lines[k].split("#", 1)[0]
        depth = code.count("[") - code.count("]")
        while depth > 0 and k + 1 < len(lines):      # a matrix written over several lines
            k += 1
            more = lines[k].split("#", 1)[0]
            code += " " + more
            depth += more.count("[") - more.count("]")
        k += 1
        if not code.strip():
            continue
        line_no = first + 1
        if unwrap(code) != code:                    # $$\frac{\partial J}{\partial W} = …$$, pasted whole
            start = code.index(unwrap(code))
            code = " " * start + unwrap(code)
        if "=" not in code:
            col = len(code) - len(code.lstrip()) + 1
            raise InputError("expected a claim 'LHS = value', 'grad NAME = value' or 'new NAME = value'",
                             line_no, col, kind="syntax")
        left, right = code.split("=", 1)
        lhs_col = len(left) - len(left.lstrip()) + 1
        lhs = left.strip()
        if not lhs:
            raise InputError("a claim needs a left side before '='", line_no, lhs_col)
        value_col = len(left) + 2 + len(right) - len(right.lstrip())
        kind, target, target_col = _left_side(lhs, line_no, lhs_col, reading)
        claim = Claim(line_no, lhs_col, lhs, kind, target)
        claim.given = _right_side(right, kind, line_no, value_col, reading)
        claim.column = target_col
        claims.append(claim)
        if len(claims) > limits.max_claims:       # issue 19: refused before the work, where it is crossed
            limits.refuse("max_claims", f"an answers file of more than {limits.max_claims} claims", line_no)
    if not claims:
        raise InputError("the answers contain no claims: write one 'LHS = value' a line", kind="usage")
    return claims


def _left_side(lhs: str, line: int, column: int, reading) -> tuple[str, str, int]:
    """``(kind, target, column of the target)``: ``grad W``, ``new W``, ``∇W``, the sheet's
    ``\\nabla_W L`` and ``\\frac{\\partial L}{\\partial W}``, or a value's left side.  A target
    in LaTeX (``h^{(3)}``) becomes the program's name (``h_3``)."""
    from .answers_latex import is_latex
    if reading is not None:
        sheet = reading.left_side(lhs, line, column)
        if sheet is not None:
            return sheet
    kind, target, target_col = "value", lhs, column
    m = _KEYWORD.match(lhs) or _NABLA.match(lhs)
    if m:
        kind = "grad" if m.re is _NABLA else m.group(1)
        target = m.group(m.lastindex)
        target_col = column + m.start(m.lastindex)
    if reading is not None and is_latex(target):
        target = reading.name(target, line, target_col)
    elif is_latex(target):
        raise InputError(f"cannot read the left side {lhs!r}: write the program's names "
                         f"(grad W, L, X*W - Y)", line, target_col, kind="syntax")
    return kind, target, target_col


def _right_side(right: str, kind: str, line: int, column: int, reading):
    """A claim's value: numbers (a literal; in LaTeX a matrix or a fraction of numbers), or for
    ``grad`` a formula (:mod:`.check_formula`) read with the program's shapes and functions."""
    from .answers_latex import is_latex, unwrap
    from .check_formula import looks_like_formula, read_formula
    text = unwrap(right).strip()
    if is_latex(text) and reading is not None:
        plain = reading.translate(text, line, column, "the formula" if kind == "grad" else "the value")
    elif kind == "grad" and looks_like_formula(text):
        plain = text
    else:
        return parse_literal(text, line, column)
    from .answers_latex import is_number
    if is_number(plain):                    # a LaTeX matrix of numbers: a value
        return parse_literal(plain, line, column)
    try:
        formula = read_formula(plain, line, column, written=text)
    except InputError:
        if plain is not text or reading is None:
            raise
        try:                                # 2 X^T (X W - Y): the sheets' notation, without a backslash
            formula = read_formula(reading.translate(text, line, column, "the formula"), line, column, written=text)
        except InputError:
            formula = None
        if formula is None:
            raise
    if not any(n.kind == "input" for n in formula.graph.nodes):       # numbers only: \frac{28}{2}
        from ..core.evaluate import run
        return run(formula.graph, {}).values[formula.graph._output]
    if kind != "grad":
        raise InputError(f"expected a number or a literal like [[1, 2], [3, 4]], not {text!r} "
                         f"(formulas are checked for gradients: grad NAME = …)", line, column)
    return formula


def parse_literal(text: str, line: int, column: int):
    """A number or a bracket literal, read by the notation's parser (never by Python)."""
    from ..core.evaluate import as_value
    from ..reading.parser import Literal, Num, parse_program
    prefix = "__value = "
    if not text:
        raise InputError("a claim needs a value after '='", line, column)
    try:
        statements = parse_program(prefix + text)
    except InputError as exc:
        col = column + max(0, (exc.column or 1) - 1 - len(prefix))
        raise InputError(exc.message, line, col, kind=exc.kind) from None
    if len(statements) != 1 or statements[0].expr.__class__ not in (Num, Literal):
        raise InputError(f"expected a number or a literal like [[1, 2], [3, 4]], not {text!r}", line, column)
    return as_value(statements[0].expr.value, f"line {line}")


# --- comparing values ----------------------------------------------------------------------------

def _conform(given, expected):
    """``given`` in the shape of ``expected`` when only the layout differs (9 vs [[9]]), else None."""
    g, e = np.asarray(given, dtype=float), np.asarray(expected, dtype=float)
    if g.shape == e.shape:
        return g
    if g.size == e.size and np.squeeze(g).shape == np.squeeze(e).shape:
        return g.reshape(e.shape)
    return None


def close(given, expected, rtol: float, atol: float = ATOL) -> bool:
    """Whether a given value equals the expected one within the tolerances (shapes must agree)."""
    g = _conform(given, expected)
    if g is None:
        return False
    e = np.asarray(expected, dtype=float)
    return bool(np.all(np.abs(g - e) <= atol + rtol * np.abs(e)))


def _show(v, like=None) -> str:
    """A value on one line; with ``like``, in its layout when only that differs (9 for [[9]])."""
    if isinstance(v, str) or isinstance(like, str):      # a formula claim (check_formula) as written
        return v if isinstance(v, str) else fmt_value(v, 6)
    if like is not None and np.shape(v) != np.shape(like) and _conform(v, like) is not None:
        v = _conform(v, like)
        v = float(v) if v.ndim == 0 else v
    return fmt_value(v, 6)
