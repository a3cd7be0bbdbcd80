"""Check a hand solution: every claim right or wrong, the first wrong step, and the slip behind it.

An answers file holds one claim a line (a bracket left open continues on the next line;
``#`` starts a comment)::

    X*W - Y = [[-1, -3], [1, -1], [-2, -4]]   # any node or subexpression, as in the program
    L = 30                                    # a node's name
    grad W = [[11, 19]]                       # ∂output/∂W (also for an intermediate: grad X*W - Y)
    new W3[0, 1] = 1.18                       # W3 after one SGD step (needs sgd_lr); [i, j]: one entry

The left side is parsed by the project's parser and matched structurally against the
graph's nodes (names through aliases, constants by value, ``+ * max min`` in either order).
The first wrong step is the student's first wrong line, unless that line is computed from a
wrong claim written later (then that one, and the report says why). Wrong claims computed from
it are *inherited* (a value from the values it is computed from; a gradient from the values its
local derivatives use, never from the output's own value, and from the adjoints after it); where
the hand solution's own earlier value explains them, they *follow* from it.  Answers may be
written like the sheet (:mod:`.answers_latex`: LaTeX read with the program's shapes,
``\\nabla_W L``).  A wrong value that a common slip reproduces exactly (a table below: sign
flips, transposes, a lost factor 2, the ReLU derivative on the wrong side, a decimal slip in
``w − η·∇w``, …) is named with the expression the student actually computed.  Every expected
value comes from the engine.

>>> import graphviz_bp as gbp
>>> g = gbp.parse("X = [[-1], [1], [-2]]; Y = [[0, -2], [0, -2], [0, -2]]; W = [[1, 1]]; lambda = -1\\n"
...               "L = ||X*W - Y||_2^2 + lambda*||W||_1")
>>> report = check(g, "X*W - Y = [[-1, -3], [1, -1], [-2, -4]]\\nL = 30")
>>> report.ok, report.first_wrong, report.claims[0].slip
(False, 0, 'X*W + Y (sign flip)')
>>> print(report.text().splitlines()[0])
line 1: X*W - Y is wrong: expected [[-1, 1], [1, 3], [-2, 0]], given [[-1, -3], [1, -1], [-2, -4]] — that is X*W + Y (sign flip)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from ..core.limits import check_deadline
from .answers import Claim, _conform, _show, close, parse_claims
from .slips import _Outcome, given_variant, grad_slips, sgd_slips, value_slips

ATOL = 1e-9          # absolute tolerance, for values that should be 0
MAX_VARIANTS = 20    # ReLU nodes tried for a derivative slip (each costs a backward pass)
_COMMUTATIVE = {"add", "mul", "maximum", "minimum"}


# --- matching a left side to a node of the graph ------------------------------------------------

class Matcher:
    """Finds the node a left side names: a name, or a subexpression written as in the program."""

    def __init__(self, g, values=None):
        self.g, self.values = g, values
        self.keys: dict = {}
        self.scalars: dict = {}
        for node in g.nodes:
            if node.kind == "const":
                if isinstance(node.default, float):
                    self.scalars.setdefault(node.default, node.index)
            elif node.args:
                self.keys.setdefault(self._key(node.op, node.params, node.args), node.index)

    @staticmethod
    def _key(op, params, args):
        args = tuple(sorted(args)) if op in _COMMUTATIVE else tuple(args)
        return op, tuple(sorted((k, repr(v)) for k, v in params.items())), args

    def resolve(self, text: str, line: int, column: int) -> tuple[int, tuple | None]:
        """(node index, entry or None) for a left side; an InputError when it names nothing."""
        from ..reading.parser import Apply, parse_program
        prefix = "__lhs = "
        try:
            statements = parse_program(prefix + text)
        except InputError as exc:
            col = column + max(0, (exc.column or 1) - 1 - len(prefix))
            raise InputError(f"cannot read the left side {text!r}: {exc.message}", line, col, kind=exc.kind) from None
        if len(statements) != 1:
            raise InputError(f"cannot read the left side {text!r}", line, column)
        expr = statements[0].expr
        index = self._node(expr)
        if index is not None and self.g.nodes[index].kind != "const":
            return index, None
        if expr.__class__ is Apply and expr.op == "index":     # W3[0, 1]: one entry of a node
            inner = self._node(expr.args[0])
            if inner is not None:
                return inner, self._entry(inner, expr.params["index"], text, line, column)
        raise InputError(self._unknown(text, expr), line, column, kind="name")

    def _node(self, e):
        from ..reading.parser import Apply, Literal, Name, Num
        cls = e.__class__
        if cls is Name:
            return self.g._names.get(e.id)
        if cls is Num:
            return self.scalars.get(float(e.value))
        if cls is Literal:
            for node in self.g.nodes:
                if node.kind == "const" and isinstance(node.default, np.ndarray) \
                        and node.default.shape == e.value.shape and np.array_equal(node.default, e.value):
                    return node.index
            return None
        if cls is Apply:
            args = [self._node(a) for a in e.args]
            if any(a is None for a in args):
                return None
            return self.keys.get(self._key(e.op, e.params, args))
        return None

    def _entry(self, index, entry, text, line, column):
        entry = entry if isinstance(entry, tuple) else (entry,)
        shape = np.shape(self.values[index]) if self.values is not None else None
        if shape is not None:
            try:
                np.zeros(shape)[entry]
            except (IndexError, TypeError):
                raise InputError(f"{text}: no such entry; {self.g.nodes[index].name} has shape "
                                 f"{'×'.join(map(str, shape)) or 'scalar'} (indices are 0-based)",
                                 line, column, kind="shape") from None
        return entry

    def _unknown(self, text, expr) -> str:
        from ..reading.parser import Name
        if expr.__class__ is Name:
            names = ", ".join(n for n in self.g._names if not n[:1].isdigit() and not n.startswith("-"))
            return f"{text!r} names nothing in the program (its names: {names})"
        steps = [n.src for n in self.g.nodes if n.args][:8]
        return (f"{text!r} is not a step of the program; its steps are written "
                + "; ".join(steps) + (" …" if len(self.g.nodes) > 8 else ""))


# --- the check --------------------------------------------------------------------------------------

class _Context:
    def __init__(self, g, at, sgd_lr, rtol, atol):
        self.g, self.at, self.sgd_lr, self.rtol, self.atol = g, at, sgd_lr, rtol, atol
        self.truth = _Outcome(g, at, sgd_lr)

    def close(self, given, expected) -> bool:
        return close(given, expected, self.rtol, self.atol)

    def is_slip(self, claim: Claim, alternative) -> bool:
        """The claimed value is the alternative's, and the alternative is not the right value."""
        return self.close(claim.given, alternative) and not self.close(claim.expected, alternative)

    def matches(self, student_graph, claim: Claim) -> bool:
        """Whether the student's graph gives the claimed value (and the right one does not)."""
        try:
            v = _Outcome(student_graph, self.at, self.sgd_lr).expected(claim)
        except (InputError, ValueError, FloatingPointError):
            return False
        return self.is_slip(claim, v)


def _order(claim: Claim):
    """The order of the computation: forward values in topological order, then adjoints in reverse
    topological order, then updates (independent of each other: the student's order)."""
    phase = {"value": 0, "grad": 1, "new": 2}[claim.kind]
    if claim.kind == "new":
        return (phase, 0, claim.line)
    return (phase, claim.node if claim.kind == "value" else -claim.node, claim.line)


#: ops whose local derivatives use no operand's value (they pass the adjoint on, up to a sign, a sum or
#: a transpose): an operand off the path (d in L = e + d) does not enter ∂L/∂e
_VALUE_FREE_PARTIALS = {"add", "sub", "neg", "sum", "mean", "transpose", "index"}


def _gradient_uses(g, index: int) -> set:
    """The names of the nodes whose values ∂output/∂(node ``index``) is computed from: the nodes on
    its paths, the other operands their local derivatives use (W in ∂(X*W)/∂X), and what all these
    are computed from.  Never the output's own value: no local derivative on a path uses it.
    Nodes are in topological order, so one pass forward and one backward find them."""
    nodes, out = g.nodes, g._output
    after = [False] * len(nodes)            # reached from the node
    after[index] = True
    for n in nodes[index + 1:out + 1]:
        after[n.index] = any(after[a] for a in n.args)
    before = [False] * len(nodes)           # leads to the output
    before[out] = True
    used = [False] * len(nodes)
    used[index] = True
    for n in reversed(nodes[:out + 1]):
        if before[n.index]:
            for a in n.args:
                before[a] = True
        on_path = after[n.index] and before[n.index] and n.index != index
        if on_path and n.index != out:
            used[n.index] = True
        if on_path and n.op not in _VALUE_FREE_PARTIALS:
            for a in n.args:
                used[a] = True
    for n in reversed(nodes):               # and everything those values are computed from
        if used[n.index]:
            for a in n.args:
                used[a] = True
    return {n.name for n in nodes if used[n.index]}


def _depends(g, claim: Claim, first: Claim) -> bool:
    """Whether ``claim`` is computed from ``first`` (so a wrong ``first`` carries into it): a value
    from the values it is computed from, a gradient (and an update) from the values its local
    derivatives use and from the adjoints of the nodes after it on its paths."""
    import networkx as nx
    a, b = g.nodes[first.node].name, g.nodes[claim.node].name
    if first.kind == "value":
        if claim.kind == "value":
            return a == b or b in nx.descendants(g.dag, a)
        return a in _gradient_uses(g, claim.node) or claim.kind == "new" and a == b
    if first.kind == "grad":
        return claim.kind in ("grad", "new") and (a == b or a in nx.descendants(g.dag, b))
    return False


def _first_wrong(g, claims: list[Claim], wrong: list[int]) -> int | None:
    """The first wrong step: the student's first wrong line, unless it is computed from a wrong claim
    written later; then that root (the first of them in the order of the computation)."""
    if not wrong:
        return None
    earliest = min(wrong, key=lambda k: claims[k].line)
    roots = [k for k in wrong if k != earliest and _depends(g, claims[earliest], claims[k])]
    return min(roots, key=lambda k: _order(claims[k])) if roots else earliest


def check(g, answers_text: str, at=None, sgd_lr: float | None = None, rtol: float = 1e-6,
          atol: float = ATOL) -> "Report":
    """Check a hand solution against the engine; see the module docstring for the answers format."""
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise InputError(f"--rtol {rtol}: the tolerance must be a number ≥ 0", kind="usage")
    at = at or {}
    from .answers_latex import Reading          # LaTeX in the answers: the program's shapes and functions
    claims = parse_claims(answers_text, g.limits, Reading(g, at))
    from .check_formula import without_values     # issue 14: formulas judged at random points only
    judged = without_values(g, claims, at, rtol)
    if judged is not None:
        return Report(*judged, g.output, rtol)
    ctx = _Context(g, at, sgd_lr, rtol, atol)
    ctx.truth.values()                               # missing values fail here, before any claim
    matcher = Matcher(g, ctx.truth.values())
    for claim in claims:
        check_deadline("checking the answers")          # issue 19: each claim costs a lookup or a pass
        claim.node, claim.element = matcher.resolve(claim.target, claim.line, claim.column)
        node = g.nodes[claim.node]
        if claim.kind == "new":
            if sgd_lr is None:
                raise InputError(f"'{claim.lhs}' is a value after an SGD step: give the learning rate with "
                                 f"--sgd-lr", claim.line, claim.column, kind="usage")
            if node.kind != "input":
                raise InputError(f"'{claim.lhs}': {claim.target!r} is computed by the program; an SGD step "
                                 f"updates inputs ({', '.join(g.leaves)})", claim.line, claim.column, kind="name")
        claim.expected = ctx.truth.expected(claim)
    from .check_formula import is_formula, judge    # a formula is judged by numbers at several points
    for claim in claims:
        claim.ok = judge(g, claim, at, rtol) if is_formula(claim) else ctx.close(claim.given, claim.expected)
    wrong = [k for k, c in enumerate(claims) if not c.ok]
    first = _first_wrong(g, claims, wrong)
    if first is not None:
        _explain_wrong(g, claims, first, ctx)
    return Report(claims, first, not wrong, g.output, rtol)


def _explain_wrong(g, claims: list[Claim], first: int, ctx):
    """Slips for every wrong claim; which ones inherit the first error, and which follow from it."""
    head = claims[first]
    finders = {"value": value_slips, "grad": grad_slips, "new": sgd_slips}
    slips = {}
    from .check_formula import is_formula
    for k, claim in enumerate(claims):
        if claim.ok or is_formula(claim):       # a formula's slip was found when it was judged
            continue
        check_deadline("looking for the slip behind a wrong claim")     # issue 19
        if k != first and _depends(g, claim, head):
            claim.inherited = True
            continue
        slip = finders[claim.kind](g, claim, ctx)
        slips[k] = slip
        claim.slip = str(slip) if slip else _rounding(claim)
    student = slips.get(first).graph if slips.get(first) is not None else None
    if student is None and head.kind == "value":
        value = head.given if head.element is None else _with_entry(ctx.truth.values()[head.node],
                                                                    head.element, head.given)
        conformed = _conform(value, ctx.truth.values()[head.node])
        if conformed is not None:
            student = given_variant(g, head.node, conformed if conformed.ndim else float(conformed))
    outcome = _Outcome(student, ctx.at, ctx.sgd_lr) if student is not None else None
    for claim in claims:
        if not claim.inherited:
            continue
        if outcome is not None:
            try:
                claim.follows_value = outcome.expected(claim)
                claim.follows = ctx.close(claim.given, claim.follows_value)
            except (InputError, ValueError):
                claim.follows = None
        if not claim.follows:               # a slip of its own, on top of the first error (or instead)
            slip = finders[claim.kind](g, claim, ctx)
            claim.slip = str(slip) if slip else None


def _with_entry(value, entry, x):
    v = np.array(value, dtype=float, copy=True)
    v[entry] = float(np.ravel(x)[0])
    return v


def _rounding(claim: Claim) -> str | None:
    """'right to 4 significant digits' when the value is only rounded more than the tolerance."""
    g = _conform(claim.given, claim.expected)
    if g is None:
        return None
    e = np.asarray(claim.expected, dtype=float)
    scale = float(np.max(np.abs(e))) or 1.0
    err = float(np.max(np.abs(g - e))) / scale
    if not 0 < err < 5e-3:
        return None
    digits = max(1, int(-math.log10(err * 2)))
    return f"rounded: right to {digits} significant digits, beyond the tolerance (use --rtol 1e-{digits} to accept)"


# --- the report ----------------------------------------------------------------------------------------

@dataclass
class Report:
    claims: list
    first_wrong: int | None
    ok: bool
    output: str = ""
    rtol: float = 1e-6

    def to_json(self) -> dict:
        return {"claims": [c.to_json() for c in self.claims], "first_wrong": self.first_wrong, "ok": self.ok}

    def text(self) -> str:
        """Human-readable: first the first wrong step, then what it carries into, then every claim."""
        lines = []
        n_right = sum(c.ok for c in self.claims)
        if self.first_wrong is None:
            lines.append(f"all {len(self.claims)} claims are right")
        else:
            head = self.claims[self.first_wrong]
            lines.append(_wrong_line(head, "is wrong"))
            for c in (c for c in self.claims if c.inherited):
                how = f"inherited from line {head.line}" + (
                    ": it follows from the value given there" if c.follows else
                    f"; from the value given there it would be {_show(c.follows_value)}" if c.follows is False else "")
                also = f"; and it is {c.slip}" if c.slip else ""
                lines.append(f"line {c.line}: {c.lhs} = {_show(c.given)} is wrong (expected "
                             f"{_show(c.expected, c.given)}): {how}{also}")
            others = [c for k, c in enumerate(self.claims) if not c.ok and not c.inherited and k != self.first_wrong]
            for c in others:
                lines.append(_wrong_line(c, "is also wrong"))
            before = [c.line for c in self.claims if c.inherited and c.line < head.line]
            why = (f" (line{'s' if len(before) > 1 else ''} {', '.join(map(str, before))}, written before it, "
                   f"{'are' if len(before) > 1 else 'is'} computed from it)" if before else "")
            lines.append(f"{n_right} of {len(self.claims)} claims right; the first wrong step is line {head.line}{why}")
        lines.append("claims:")
        for k, c in enumerate(self.claims):
            mark = "right" if c.ok else ("WRONG, first wrong step" if k == self.first_wrong else
                                         "wrong, inherited" if c.inherited else "WRONG")
            lines.append(f"  line {c.line}: {c.lhs} = {_show(c.given)}  {mark}"
                         + ("" if c.ok else f" (expected {_show(c.expected, c.given)})"))
        return "\n".join(lines)


def _wrong_line(c: Claim, verb: str) -> str:
    text = f"line {c.line}: {c.lhs} {verb}: expected {_show(c.expected, c.given)}, given {_show(c.given)}"
    if c.slip:
        text += f" — that is {c.slip}" if not c.slip.startswith("rounded") else f" — {c.slip}"
    return text
