"""Check a hand solution: every claim right or wrong, the first wrong step, and the slip behind it.

An answers file holds one claim a line (a bracket left open continues on the next line;
``#`` starts a comment)::

    X*W - Y = [[-1, -3], [1, -1], [-2, -4]]   # any node or subexpression, as in the program
    L = 30                                    # a node's name
    grad W = [[11, 19]]                       # ∂output/∂W (also for an intermediate: grad X*W - Y)
    new W3[0, 1] = 1.18                       # W3 after one SGD step (needs sgd_lr); [i, j]: one entry

The left side is parsed by the project's parser and matched structurally against the
graph's nodes (names through aliases, constants by value, ``+ * max min`` in either order).
The first wrong claim is taken in the order of the computation: forward values in
topological order, then adjoints in reverse topological order, then SGD updates. Later
wrong claims that depend on it are *inherited*; where the hand solution's own earlier
value explains them, they *follow* from it. A wrong value that a common slip reproduces
exactly (a table below: sign flips, transposes, a lost factor 2, the ReLU derivative on
the wrong side, a decimal slip in ``w − η·∇w``, …) is named with the expression the student
actually computed. Every expected value comes from the engine.

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

import dataclasses
import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..core.notation import fmt_number, fmt_value, to_json
from ..core.errors import InputError
from ..core.limits import check_deadline
from ..core.ops import OPS, Op
from ..algorithms.reverse import reverse

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


# --- the student's graph: the program with one node computed differently -------------------------

def variant(g, index: int, fn: Op | None = None, op: str | None = None, order=None, params=None,
            default=None):
    """A copy of ``g`` in which node ``index`` uses another operation (``fn``/``op``), its operands in
    another ``order``, or (a leaf) another ``default`` value; the rest of the graph is shared."""
    from ..core.graph import Node
    nodes = [Node(n.index, n.name, n.op, n.args, n.params, n.kind, n.default, n.src, n.line, n.column, n.expr)
             for n in g.nodes]
    node = nodes[index]
    if fn is not None:
        node.fn, node.op = fn, op or fn.name
        node.params = params if params is not None else {}
    if order is not None:
        node.args = tuple(node.args[k] for k in order)
    if default is not None:
        node.default = default
    return g.derive(nodes=nodes)


def given_variant(g, index: int, value):
    """``g`` with node ``index`` taking the given value (its local derivatives unchanged)."""
    node = g.nodes[index]
    if node.is_leaf:
        return variant(g, index, default=value)
    fixed = value
    fn = dataclasses.replace(node.fn, value=lambda xp, *a, **k: fixed, scalar_ok=False)
    return variant(g, index, fn=fn, op=node.op, params=node.params)


class _Outcome:
    """Values, adjoints and gradients of one (student) graph at a point, computed on demand."""

    def __init__(self, g, at, sgd_lr):
        self.g, self.at, self.sgd_lr = g, at, sgd_lr
        self._values = self._adjoints = None

    def values(self):
        if self._values is None:
            from ..core.evaluate import run
            self._values = run(self.g, self.at).values
        return self._values

    def adjoint(self, index: int):
        if self._adjoints is None:
            self._adjoints = reverse(self.g, at=self.at).adjoints
        name = self.g.nodes[index].name
        value = self.values()[index]
        a = self._adjoints.get(name)
        if a is None:
            return 0.0 if np.ndim(value) == 0 else np.zeros(np.shape(value))
        if np.shape(a) != np.shape(value):
            a = float(np.ravel(a)[0]) if np.ndim(value) == 0 else np.asarray(a, dtype=float).reshape(np.shape(value))
        return a

    def expected(self, claim: Claim):
        if claim.kind == "value":
            v = self.values()[claim.node]
        elif claim.kind == "grad":
            v = self.adjoint(claim.node)
        else:
            v = self.values()[claim.node] - self.sgd_lr * self.adjoint(claim.node)
        if claim.element is not None:
            v = float(np.asarray(v)[claim.element])
        return v


# --- the slips table -------------------------------------------------------------------------------

def _identity_op(name: str) -> Op:
    return Op(name, 1, lambda xp, a: a, "{0}", partials=lambda xp, out, a: (1.0,))


def _relu_backward(partial, name: str) -> Op:
    relu = OPS["relu"]
    return dataclasses.replace(relu, name=name, partials=partial)


#: op → [(slip, how the student wrote it over the operands, op used instead, operand order)]
OP_SLIPS = {
    "sub": [("sign flip", "{0} + {1}", "add", (0, 1)), ("operands swapped", "{1} - {0}", "sub", (1, 0))],
    "add": [("sign flip", "{0} - {1}", "sub", (0, 1)), ("sign flip", "{1} - {0}", "sub", (1, 0))],
    "mul": [("matrix product instead of the elementwise one", "{0} @ {1}", "matmul", (0, 1)),
            ("divided instead of multiplied", "{0}/{1}", "div", (0, 1))],
    "matmul": [("elementwise product instead of the matrix product", "{0} * {1}", "mul", (0, 1)),
               ("factors in the wrong order", "{1} @ {0}", "matmul", (1, 0))],
    "div": [("division turned over", "{1}/{0}", "div", (1, 0)),
            ("multiplied instead of divided", "{0}*{1}", "mul", (0, 1))],
    "pow": [("doubled instead of squared", "2*{0}", "mul", (0, 1))],
    "sqnorm2": [("the norm not squared", "||{0}||_2", "norm2", (0,)),
                ("the entries summed, not squared", "sum({0})", "sum", (0,))],
    "norm2": [("the norm squared", "||{0}||_2^2", "sqnorm2", (0,))],
    "norm1": [("absolute values dropped", "sum({0})", "sum", (0,)),
              ("2-norm instead of 1-norm", "||{0}||_2", "norm2", (0,))],
    "relu": [("ReLU not applied", "{0}", _identity_op("identity"), (0,))],
    "neg": [("minus sign dropped", "{0}", _identity_op("identity"), (0,))],
    "transpose": [("transpose forgotten", "{0}", _identity_op("identity"), (0,))],
    "sigmoid": [("σ not applied", "{0}", _identity_op("identity"), (0,))],
}

#: (slip, transform of the right value, how to write it over the claim's left side)
VALUE_SLIPS = [
    ("sign flip", lambda e: -e, "-({0})"),
    ("transposed", lambda e: np.swapaxes(e, -1, -2) if np.ndim(e) >= 2 else None, "({0})^T"),
    ("factor 2 missing", lambda e: e / 2, "({0})/2"),
    ("extra factor 2", lambda e: 2 * e, "2*({0})"),
]


@dataclass
class Slip:
    label: str
    computed: str                        # the expression the student actually computed
    graph: object = field(default=None, repr=False)   # the student's graph, when the slip is one

    def __str__(self):
        return f"{self.computed} ({self.label})"


def _operand_texts(node) -> list[str]:
    from ..reading.parser import Apply
    texts = []
    for a in node.expr.args if node.expr is not None and hasattr(node.expr, "args") else ():
        wrap = a.__class__ is Apply and a.op in ("add", "sub", "neg")
        texts.append(f"({a.src})" if wrap else a.src)
    return texts


def value_slips(g, claim: Claim, ctx) -> Slip | None:
    """A slip that gives the wrong value of a value claim exactly."""
    node = g.nodes[claim.node]
    operands = _operand_texts(node)
    for label, template, op, order in OP_SLIPS.get(node.op, ()) if len(operands) == len(node.args) else ():
        if node.op == "pow" and not (g.nodes[node.args[1]].kind == "const" and g.nodes[node.args[1]].default == 2.0):
            continue
        fn = op if isinstance(op, Op) else OPS[op]
        params = node.params if fn is node.fn else {}
        student = variant(g, claim.node, fn=fn, op=fn.name, order=order, params=params)
        if ctx.matches(student, claim):
            return Slip(label, template.format(*operands), student)
    return _transform_slip(claim, claim.target, ctx)


def _transform_slip(claim: Claim, text: str, ctx) -> Slip | None:
    expected = np.asarray(claim.expected, dtype=float)
    for label, transform, template in VALUE_SLIPS:
        with np.errstate(all="ignore"):
            alt = transform(expected)
        if alt is not None and ctx.is_slip(claim, alt):
            return Slip(label, template.format(text))
    return None


def grad_slips(g, claim: Claim, ctx) -> Slip | None:
    """A slip that gives the wrong gradient: a ReLU derivative on the wrong side, a path left out,
    a sign, a transpose, a factor 2."""
    import networkx as nx
    name = g.nodes[claim.node].name
    out = g.notation.name(g.output)
    downstream = nx.descendants(g.dag, name)
    grad_text = f"∂{out}/∂{g.notation.name(name)}"
    relus = [n for n in g.nodes if n.op == "relu" and n.name in downstream][:MAX_VARIANTS]
    for r in relus:
        a = g.nodes[r.args[0]].name
        for label, computed, partial in (
                ("ReLU derivative taken on the wrong side", f"{grad_text} with 1{{{a} < 0}} in place of "
                 f"ReLU'({a}) = 1{{{a} > 0}} at {r.src}", lambda xp, out_, x: (xp.step(-x),)),
                ("ReLU treated as the identity going back", f"{grad_text} with ReLU'({a}) taken as 1 at {r.src}",
                 lambda xp, out_, x: (1.0 + 0.0 * x,))):
            student = variant(g, r.index, fn=_relu_backward(partial, "relu"), op="relu")
            if ctx.matches(student, claim):
                return Slip(label, computed, student)
    slip = _path_slip(g, claim, ctx)
    if slip is not None:
        return slip
    slip = _transform_slip(claim, grad_text, ctx)
    if slip is not None and "factor 2" in slip.label:
        squares = [n.src for n in g.nodes if n.name in downstream and
                   (n.op == "sqnorm2" or (n.op == "pow" and g.nodes[n.args[1]].default == 2.0))]
        if squares:
            slip.label += f": the 2 of the derivative of {squares[0]}"
    return slip


def _path_slip(g, claim: Claim, ctx, max_paths: int = 8) -> Slip | None:
    from itertools import islice

    from ..algorithms.paths import count_paths, derivative_paths
    name = g.nodes[claim.node].name
    n = count_paths(g, name)
    if not 2 <= n <= max_paths:
        return None
    paths = list(islice(derivative_paths(g, name, at=ctx.at), max_paths))
    total = ctx.truth.adjoint(claim.node)
    for p in paths:
        only = p.value
        rest = total - only
        route = " → ".join(p.nodes)
        for label, value in ((f"only the path {route} counted", only), (f"the path {route} left out", rest)):
            v = float(np.asarray(value)[claim.element]) if claim.element is not None else value
            if ctx.is_slip(claim, v):
                return Slip(label, f"the sum over {'one path' if value is only else f'{n - 1} of {n} paths'}")
    return None


def _num(x: float) -> str:
    return fmt_number(x, 6) if x >= 0 else f"({fmt_number(x, 6)})"


#: SGD update rules a hand solution uses by mistake: (rule(w, g, η), slip told with one entry's numbers)
SGD_SLIPS = [
    (lambda w, g, eta: w + eta * g, lambda w, g, eta: "w + η·∇w instead of w - η·∇w: sign of the step flipped"),
    (lambda w, g, eta: w - g, lambda w, g, eta: "w - ∇w: η left out"),
    (lambda w, g, eta: w + g, lambda w, g, eta: "w + ∇w: η left out and the sign flipped"),
    (lambda w, g, eta: -eta * g, lambda w, g, eta: "-η·∇w: the old weight left out"),
] + [
    ((lambda k: lambda w, g, eta: w - eta * g * 10.0 ** k)(k),
     (lambda k: lambda w, g, eta: f"η·∇w shifted {('one', 'two')[abs(k) - 1]} decimal place{'s' if abs(k) > 1 else ''}: "
                                  f"{fmt_number(eta, 6)}·{_num(g)} = {fmt_number(eta * g, 6)} written as "
                                  f"{fmt_number(eta * g * 10.0 ** k, 6)}")(k))
    for k in (-1, 1, -2, 2)]


def sgd_slips(g, claim: Claim, ctx) -> Slip | None:
    """A wrong update rule that gives the claimed new value exactly, told with the numbers of an
    entry whose gradient is not 0 (the 1.18 of seed 004: ``1 − 0.1·(−18)`` is 2.8)."""
    w = np.asarray(ctx.truth.values()[claim.node], dtype=float)
    grad = np.asarray(ctx.truth.adjoint(claim.node), dtype=float)
    if claim.element is not None:
        w, grad = np.asarray(w[claim.element]), np.asarray(grad[claim.element])
    eta = ctx.sgd_lr
    for rule, tell in SGD_SLIPS:
        with np.errstate(all="ignore"):
            alt = rule(w, grad, eta)
        if ctx.is_slip(claim, alt if alt.ndim else float(alt)):
            where, we, ge = _entry_with_gradient(w, grad)
            wrong, right = float(rule(we, ge, eta)), we - eta * ge
            computed = (f"{where}{fmt_number(we, 6)} - {_num(we - wrong)} = {fmt_number(wrong, 6)} instead of "
                        f"{fmt_number(we, 6)} - {_num(eta * ge)} = {fmt_number(right, 6)}")
            return Slip(tell(we, ge, eta), computed)
    return None


def _entry_with_gradient(w, grad):
    """(label, w, g) of the first entry whose gradient is not 0: where a wrong rule shows."""
    if w.ndim == 0:
        return "", float(w), float(grad)
    nz = np.argwhere(grad != 0)
    idx = tuple(int(i) for i in nz[0]) if len(nz) else (0,) * w.ndim
    return f"entry [{', '.join(map(str, idx))}]: ", float(w[idx]), float(grad[idx])


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
    phase = {"value": 0, "grad": 1, "new": 2}[claim.kind]
    if claim.kind == "new":            # updates are independent of each other: the student's order
        return (phase, 0, claim.line)
    return (phase, claim.node if claim.kind == "value" else -claim.node, claim.line)


def _depends(g, claim: Claim, first: Claim) -> bool:
    """Whether ``claim`` is computed from ``first`` (so a wrong ``first`` carries into it)."""
    import networkx as nx
    a, b = g.nodes[first.node].name, g.nodes[claim.node].name
    if first.kind == "value":
        return claim.kind != "value" or a == b or b in nx.descendants(g.dag, a)
    if first.kind == "grad":
        return claim.kind in ("grad", "new") and (a == b or a in nx.descendants(g.dag, b))
    return False


def check(g, answers_text: str, at=None, sgd_lr: float | None = None, rtol: float = 1e-6,
          atol: float = ATOL) -> "Report":
    """Check a hand solution against the engine; see the module docstring for the answers format."""
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise InputError(f"--rtol {rtol}: the tolerance must be a number ≥ 0", kind="usage")
    at = at or {}
    claims = parse_claims(answers_text, g.limits)
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
    first = min(wrong, key=lambda k: _order(claims[k])) if wrong else None
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
            lines.append(f"{n_right} of {len(self.claims)} claims right; the first wrong step is line {head.line}")
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
