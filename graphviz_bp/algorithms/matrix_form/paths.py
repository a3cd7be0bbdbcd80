"""A derivative path's contribution as a matrix formula (issue 14): ``π₁ = 2Xᵀc`` for W → a → c → e → L.

A path's contribution is the output's adjoint (1 for a scalar end) pulled back along the path's
edges only: for each edge u → v, from the output end, the matrix VJP template of v for the operand
u (:func:`.derive.pull_back`; ``x*x`` is one edge, both operand positions count) and nothing else,
so the other adjoints along the way are not added.  The formula is in node names and has the
source's shape (the gradient layout; vectors are columns), written as the constructors of
:mod:`.expr` canonicalise it (not tidied: a long list of paths stays quick), and the contributions of
all paths sum to the gradient.

Never a wrong formula: each one is evaluated (:mod:`.check`) and compared with the path's numeric
contribution (``Path.value``, :func:`graphviz_bp.algorithms.paths.path_value`) at the program's
values and ``at``.  A path through an op with no matrix rule for its shapes (conv2d, indexing of a
matrix, …), a formula that disagrees, or a path without values gives a :class:`.formulas.Formula`
with no ``expr`` and a one-line ``note``: show the numbers.
"""
from __future__ import annotations

from ...core.errors import InputError
from ...core.limits import check_deadline
from . import check as C
from . import expr as X
from .derive import ShapeError, derive, pull_back
from .formulas import Formula
from .traverse import substitute, tree_size


def path_formulas(g, paths, at=None, shapes=None) -> list[Formula]:
    """One checked :class:`.formulas.Formula` per path (a :class:`~graphviz_bp.algorithms.paths.Path`
    of ``g`` at ``at``: its ``indices`` and ``value``), in the order given; ``Formula.node`` is the
    path's start.  ``shapes``: declared input shapes, as for :func:`.derive.derive`.

    >>> from graphviz_bp import parse
    >>> from graphviz_bp.algorithms.paths import derivative_paths
    >>> g = parse("X = [[-1], [1], [-2]]\\nY = [[0, -2], [0, -2], [0, -2]]\\nW = [[1, 1]]\\nlambda = -1\\n"
    ...           "L = ||X*W - Y||_2^2 + lambda*||W||_1")
    >>> [f.plain for f in path_formulas(g, derivative_paths(g, "W"))]
    ['2*X^T@c', 'lambda*sign(W)']
    """
    shapes = {**(getattr(g, "declared_shapes", None) or {}), **(shapes or {})} or None
    paths = list(paths)
    try:
        d = derive(g, at=at, shapes=shapes, adjoints=False)
        env = C.node_values(g, d, at)
    except (InputError, ShapeError, ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        return [Formula(g.nodes[p.indices[0]].name, None, note=f"no matrix formula for this program ({exc})")
                for p in paths]
    memo: dict = {}
    out = []
    for k, p in enumerate(paths):
        if not k & 63:
            check_deadline("writing paths as matrix formulas")
        name = g.nodes[p.indices[0]].name
        e, note = _pull_back(g, d, p.indices, memo)
        if e is None:
            out.append(Formula(name, None, note=note))
            continue
        value = p.value
        if value is None:
            out.append(Formula(name, None, note="no values to check its matrix formula at"))
            continue
        try:
            ok = C.agrees(C.evaluate(e, env), value)
        except (KeyError, ValueError, IndexError, TypeError, ArithmeticError):
            ok = False
        out.append(Formula(name, e, verified=True) if ok else
                   Formula(name, None, note="its matrix formula disagrees with the path's value here"))
    return out


def path_formula(g, path, at=None, shapes=None) -> Formula:
    """The checked formula of one path (see :func:`path_formulas`)."""
    return path_formulas(g, [path], at, shapes)[0]


def _pull_back(g, d, indices, memo) -> tuple:
    """``(formula, None)``, or ``(None, why not)``: the seed at the path's end through its edges."""
    nodes = g.nodes
    end = nodes[indices[-1]]
    if d.shapes[end.name] != X.SCALAR:
        return None, f"the path ends at {end.name!r}, which is not a scalar"
    gbar = X.ONE
    for k in range(len(indices) - 1, 0, -1):
        u, node = indices[k - 1], nodes[indices[k]]
        terms = pull_back(node, gbar, d.syms[node.name], [d.syms[nodes[j].name] for j in node.args],
                          d.flips.get(node.index))
        if terms is None:
            return None, f"{node.src or node.name!r} ({node.op}) has no matrix rule for these shapes"
        gbar = substitute(X.add(*[t for t, j in zip(terms, node.args) if j == u]), d.defs, memo)
    cap = g.limits.max_symbolic_ops
    if tree_size(gbar) > cap:
        return None, f"too long to write out (more than {cap} operations)"
    return gbar, None                   # as pulled back (BᵀXᵀ); tidy's (XB)ᵀ costs 20 ms a path


__all__ = ["path_formula", "path_formulas"]
