"""The slips table: a wrong value that a common slip reproduces exactly is named with the expression
the student actually computed (a sign flip, a transpose, a lost factor 2, the ReLU derivative on the
wrong side, a decimal slip in ``w − η·∇w``, a missing path).  Each candidate is the program with one
node computed differently (:func:`variant`), evaluated by the engine."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..core.notation import fmt_number
from ..core.ops import OPS, Op
from ..algorithms.reverse import reverse
from .answers import MAX_VARIANTS, Claim


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
