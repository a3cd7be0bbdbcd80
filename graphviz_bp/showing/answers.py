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


def parse_claims(text: str, limits=None) -> list[Claim]:
    """The claims of an answers file, with their line and column; values parsed as literals.
    At most ``limits.max_claims`` claims (issue 19: 20,000 lines took 86 s of a server)."""
    from ..core.limits import current
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
        kind, target, target_col = "value", lhs, lhs_col
        m = _KEYWORD.match(lhs) or _NABLA.match(lhs)
        if m:
            kind = "grad" if m.re is _NABLA else m.group(1)
            target = m.group(m.lastindex)
            target_col = lhs_col + m.start(m.lastindex)
        claim = Claim(line_no, lhs_col, lhs, kind, target)
        from .check_formula import looks_like_formula, read_formula     # issue 14: grad W = 2*X^T@(…)
        claim.given = read_formula(right, line_no, value_col) if kind == "grad" and looks_like_formula(right) \
            else parse_literal(right.strip(), line_no, value_col)
        claim.column = target_col
        claims.append(claim)
        if len(claims) > limits.max_claims:       # issue 19: refused before the work, where it is crossed
            limits.refuse("max_claims", f"an answers file of more than {limits.max_claims} claims", line_no)
    if not claims:
        raise InputError("the answers contain no claims: write one 'LHS = value' a line", kind="usage")
    return claims


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
