"""One edge's term of reverse accumulation as a matrix formula: ``Xᵀā`` for the edge W → a of
``a = X*W`` (X 3×1, W 1×2), where an elementwise product ``ā·X`` would hide the sum over the axis
the broadcast added.

The term is the consumer's adjoint symbol ``v̄`` pulled back to the operand ``u`` by v's matrix
VJP template (:func:`.derive.pull_back`; ``x*x`` is one edge, both operand positions count), in
node names and with u's shape (the gradient layout; vectors are columns).  It is what the worked
solution writes for each term ``v̄ ∂v/∂u`` of a tensor program's reverse step.

Never a wrong formula: each one is evaluated with the numeric adjoints in place of the ``v̄``
symbols (:mod:`.check`) and compared with the term the recorded reverse pass added
(``Step.terms``).  An op with no matrix rule for its shapes, or a formula that disagrees, gives no
entry: show the numbers.
"""
from __future__ import annotations

from ...core.errors import InputError
from . import check as C
from . import expr as X
from .derive import ShapeError, derive, pull_back


def edge_formulas(g, steps, at=None) -> dict:
    """``{(u, v): expression}``: the checked term ``v̄ → u`` for every term ``(v, contribution)`` of
    the recorded reverse ``steps`` of ``g`` at ``at`` that has one (printing: :mod:`.printing`).

    >>> from graphviz_bp import parse
    >>> from graphviz_bp.algorithms.matrix_form.printing import plain
    >>> g = parse("X = [[-1], [1], [-2]]\\nW = [[1, 1]]\\nL = sum(X*W)")
    >>> terms = edge_formulas(g, g.reverse(record=True).steps)
    >>> plain(terms[("W", "a")]), plain(terms[("X", "a")])       # Xᵀā, āWᵀ (dL_da is ā)
    ('X^T@dL_da', 'dL_da@W^T')
    """
    try:
        d = derive(g, at=at, adjoints=False)
        env, _ = C.environment(g, d, at)
    except (InputError, ShapeError, ValueError, TypeError, KeyError, IndexError, ArithmeticError):
        return {}                              # no matrix form of this program: the numbers stand
    nodes, out = g.nodes, {}
    pulled: dict = {}                           # consumer -> its template's terms (one per operand)
    for step in steps:
        u = g.index(step.node)
        for v_name, contribution in step.terms:
            v = nodes[g.index(v_name)]
            if v.index not in pulled:
                pulled[v.index] = pull_back(v, X.sym(v.name, d.shapes[v.name], "bar"), d.syms[v.name],
                                            [d.syms[nodes[j].name] for j in v.args], d.flips.get(v.index))
            terms = pulled[v.index]
            if terms is None:
                continue
            e = X.add(*[t for t, j in zip(terms, v.args) if j == u])
            try:
                ok = C.agrees(C.evaluate(e, env), contribution)
            except (KeyError, ValueError, IndexError, TypeError, ArithmeticError):
                ok = False
            if ok:
                out[(step.node, v.name)] = e
    return out


__all__ = ["edge_formulas"]
