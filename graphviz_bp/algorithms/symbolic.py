"""Symbolic local derivatives and gradients (SymPy, imported only here, only when shown).

Each node is a SymPy symbol named as the node (``c``, ``W1``, ``lambda``);
a constant is its number. The local derivative of edge u → v is
``diff(op.sym(operands), u)``: ``2*c`` for ``e = c^2``, ``y`` for ``b = x*y``.
Tensor ops are written elementwise where that is exact (``sign(W)`` for
``‖W‖₁``, ``2*b`` for ``‖b‖₂²``, ``1`` for ``sum``); ops without an
elementwise form (``@``, softmax, …) give their vector–Jacobian rule as text.

The documented conventions hold here as in numbers: sign' = 0 (not SymPy's DiracDelta), a tie
of max/min goes to the first argument (``Heaviside(x - y, 1)``), relu'(0) = 0.  A reduction's
value keeps its name when it is substituted (``∂(α·Σw^p)/∂α = sum(w^p)``).  A tensor program
(vector or matrix values or declared shapes, or a matrix op) is handed to the matrix-form engine
(:mod:`graphviz_bp.algorithms.matrix_form`): its gradients are matrix formulas.
"""
from __future__ import annotations

from ..core.errors import InputError


def _sp():
    import sympy
    return sympy


def symbol(g, i: int):
    """The SymPy symbol of node ``i`` (a number for a scalar constant)."""
    sp = _sp()
    node = g.nodes[i]
    if node.kind == "const" and isinstance(node.default, float):
        return sp.Integer(int(node.default)) if node.default.is_integer() else sp.Float(node.default)
    return sp.Symbol(node.name, real=True)


def node_sym(g, i: int):
    """The node's operation over its operands' symbols, or None when it has no elementwise form."""
    node = g.nodes[i]
    if node.fn is None or node.fn.sym is None:
        return None
    return node.fn.sym(_sp(), *[symbol(g, j) for j in node.args], **node.params)


def _convention(sp, op: str, k: int, args):
    """The documented derivative where SymPy's differs: sign' = 0 (SymPy: 2·DiracDelta), and
    max/min give a tie to the first argument (SymPy: Heaviside with H(0) undefined)."""
    if op == "sign":
        return sp.Integer(0)
    a, b = args
    if op == "maximum":      # ∂/∂a = 1{a ≥ b}, ∂/∂b = 1{a < b}
        return sp.Heaviside(a - b, 1) if k == 0 else sp.Heaviside(b - a, 0)
    if op == "minimum":      # ∂/∂a = 1{a ≤ b}, ∂/∂b = 1{b < a}
        return sp.Heaviside(b - a, 1) if k == 0 else sp.Heaviside(a - b, 0)
    return None


_CONVENTIONS = ("sign", "maximum", "minimum")


def local_symbolic(g, u: int, v: int):
    """∂v/∂u as a SymPy expression in the graph's names, or None (then see :func:`local_text`)."""
    node = g.nodes[v]
    if node.fn is None or node.fn.sym is None:
        return None
    sp = _sp()
    if node.op in _CONVENTIONS:
        args = [symbol(g, j) for j in node.args]
        return sp.Add(*[_convention(sp, node.op, k, args) for k, j in enumerate(node.args) if j == u])
    wrt = symbol(g, u)
    if not wrt.is_Symbol:            # an edge from a constant: differentiate in a stand-in, then put it back
        stand_in = sp.Dummy(g.nodes[u].name)
        args = [stand_in if j == u else symbol(g, j) for j in node.args]
        return sp.diff(node.fn.sym(sp, *args, **node.params), stand_in).subs(stand_in, wrt)
    return sp.diff(node.fn.sym(sp, *[symbol(g, j) for j in node.args], **node.params), wrt)


def local_text(g, u: int, v: int) -> str:
    """The local derivative as a short string: ``2*c``, ``sign(W)``, or a rule like ``ḡ·Bᵀ`` (cached)."""
    cache = g.__dict__.setdefault("_local_text_cache", {})
    key = (u, v)
    if key not in cache:
        cache[key] = _local_text(g, u, v)
    return cache[key]


def _local_text(g, u: int, v: int) -> str:
    d = local_symbolic(g, u, v)
    if d is not None:
        return str(d).replace("**", "^")
    node = g.nodes[v]
    rules = node.fn.rules
    params = {k: (", ".join(map(str, p)) if isinstance(p, tuple) else p) for k, p in node.params.items()}
    positions = [k for k, j in enumerate(node.args) if j == u]
    texts = [rules[k if k < len(rules) else 0].format(**params) for k in positions] if rules else ["J"]
    return " + ".join(dict.fromkeys(texts))


def expression(g, name: str):
    """The node's value as one SymPy expression in the leaves (capped in size)."""
    sp = _sp()
    target = g.index(name)
    exprs = {}
    for node in g.nodes[:target + 1]:
        if node.is_leaf:
            exprs[node.index] = symbol(g, node.index)
            continue
        if node.fn.sym is None:
            raise InputError(f"{node.src!r} ({node.fn.title}) has no elementwise symbolic form; "
                             f"the symbolic gradient covers scalar and elementwise programs",
                             node.line, node.column, kind="value")
        e = _substituted(g, sp, node, [exprs[j] for j in node.args])
        if sp.count_ops(e) > g.limits.max_symbolic_ops:
            g.limits.refuse("max_symbolic_ops", f"the symbolic expression of {node.src!r}",
                            node.line, node.column)
        exprs[node.index] = e
    return exprs[target]


def symbolic_gradients(g, wrt=None, at=None, shapes=None) -> dict:
    """``{leaf: ∂output/∂leaf}`` as simplified SymPy expressions in the leaves.

    A tensor program (a vector or matrix value, given in the program, in ``at`` or declared in
    ``shapes``, or a matrix operation) gets matrix formulas instead:
    :class:`graphviz_bp.algorithms.matrix_form.formulas.Formula` objects whose ``str()`` is the
    plain notation (``2*X^T@(X@W - Y) + lambda*sign(W)``), each checked against the numeric
    gradient; the gradient has its variable's shape.

    Computed as the sum over paths of the products of symbolic local
    derivatives (symbolic reverse accumulation), with each node symbol then
    replaced by its expression.

    >>> from graphviz_bp import parse
    >>> symbolic_gradients(parse("f = x^2 + x*y + (x + y)^2"))
    {'x': 4*x + 3*y, 'y': 3*x + 2*y}
    """
    from .matrix_form.formulas import is_tensor_program, matrix_form
    if is_tensor_program(g, at, shapes):
        return matrix_form(g, at=at, shapes=shapes, wrt=wrt, levels=()).gradients
    sp = _sp()
    from ..core.graph import wrt_names
    names = wrt_names(g, wrt)
    out = g._output
    subs = {}
    adj = {out: sp.Integer(1)}
    for node in reversed(g.nodes[:out + 1]):
        i = node.index
        if i not in adj or node.is_leaf:
            continue
        for j in dict.fromkeys(node.args):
            if g.nodes[j].kind == "const":
                continue
            d = local_symbolic(g, j, i)
            if d is None:
                raise InputError(f"{node.src!r} ({node.fn.title}) has no elementwise symbolic form; "
                                 f"the symbolic gradient covers scalar and elementwise programs",
                                 node.line, node.column, kind="value")
            adj[j] = adj.get(j, sp.Integer(0)) + adj[i] * d
            _check_size(g, sp, adj[j], node)          # a ladder's adjoints double at each rung
    for node in g.nodes[:out + 1]:
        if not node.is_leaf and node.fn.sym is not None:
            subs[symbol(g, node.index)] = _substituted(g, sp, node, [subs.get(symbol(g, j), symbol(g, j))
                                                                     for j in node.args])
            _check_size(g, sp, subs[symbol(g, node.index)], node)
    result = {}
    for name in names:
        e = adj.get(g.index(name), sp.Integer(0))
        e = e.xreplace(subs) if subs else e     # values are in the leaves: one pass (subs: 400² steps)
        _check_size(g, sp, e, g.node(name), f"the symbolic gradient with respect to {name!r}")
        result[name] = _tidy(sp, e)
    return result


_REDUCTION_TEXT = {"sum": "sum({})", "mean": "mean({})", "norm1": "||{}||_1", "sqnorm2": "||{}||_2^2",
                   "norm2": "||{}||_2", "trace": "tr({})", "det": "det({})"}
_REDUCTIONS: dict = {}


def _reduction(sp, op):
    """A SymPy function standing for a reduction's value (``sum(w^p)``): its local derivative is
    elementwise, but its value is one number, so it is never replaced by its operand."""
    if op not in _REDUCTIONS:
        text = _REDUCTION_TEXT[op]

        def _sympystr(self, printer):
            return text.format(printer._print(self.args[0]))
        _REDUCTIONS[op] = type(f"reduction_{op}", (sp.Function,), {"_sympystr": _sympystr, "nargs": 1})
    return _REDUCTIONS[op]


def _substituted(g, sp, node, operands):
    """The node's operation over its operands' expressions; SymPy refusing one (Max of ``zoo``,
    which is log 0) becomes an InputError.  A reduction keeps its name (``sum(w^p)``, not ``w^p``)."""
    try:
        if node.op in _REDUCTION_TEXT:
            return _reduction(sp, node.op)(*operands)
        return node.fn.sym(sp, *operands, **node.params)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise InputError(f"{node.src!r} ({node.fn.title}) has no symbolic form here: {exc}",
                         node.line, node.column, kind="value") from None


def _check_size(g, sp, e, node, what=None):
    """Refuse (max_symbolic_ops) an expression too big to show or simplify."""
    if sp.count_ops(e) > g.limits.max_symbolic_ops:
        g.limits.refuse("max_symbolic_ops", what or f"the symbolic gradient through {node.src!r}",
                        node.line, node.column)


_TIDY_MAX_OPS = 40     # sympy.simplify is super-linear: 20 nested sin (250 ops) or a 7-layer σ net take minutes


def _tidy(sp, e):
    if sp.count_ops(e) > _TIDY_MAX_OPS:
        return e
    if any(p.exp.is_Number and abs(p.exp) > 16 for p in e.atoms(sp.Pow)):
        return e           # expand((x + y)^1000) has 1001 terms; (x + 1)^(10^308) fills the memory
    simple = sp.powsimp(sp.simplify(e), force=True)
    return min((simple, e, sp.expand(e)), key=sp.count_ops)   # ties: the simplified form
