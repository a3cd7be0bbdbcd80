"""Forward mode: tangents ∂node/∂src pushed from one input towards the output.

For a scalar input the tangent of a scalar node is a float. For tensors every
tangent is a matrix with one column per entry of ``src`` (all directions at
once) and one row per entry of the node, propagated with the edge Jacobians
``J[v, u]`` (entries of v × entries of u, built from the op table's local
derivative); the sizes are capped by ``Limits.max_jacobian_elements``.
"""
from __future__ import annotations

import numpy as np

from ..core.evaluate import _SCALAR_ERRORS, node_partials, run
from ..core.limits import check_deadline
from ..core.ops import operand_vjps


def edge_jacobian(g, u: int, v: int, values) -> np.ndarray:
    """∂v/∂u as a (v.size × u.size) matrix, built one output entry at a time."""
    node = g.nodes[v]
    out = values[v]
    n_out, n_in = int(np.size(out)), int(np.size(values[u]))
    if n_out * n_in > g.limits.max_jacobian_elements:
        g.limits.refuse("max_jacobian_elements",
                        f"forward mode: the Jacobian of {node.src!r} w.r.t. {g.nodes[u].name!r} "
                        f"({n_out}×{n_in})", node.line, node.column)
    argv = [values[j] for j in node.args]
    jac = np.zeros((n_out, n_in))
    for k in range(n_out):
        if not k & 255:        # one VJP per output entry: a 10⁶-entry node from a scalar is 10⁶ of them
            check_deadline("forward mode")
        basis = np.zeros(n_out)
        basis[k] = 1.0
        seed = basis.reshape(np.shape(out)) if np.ndim(out) else 1.0
        grads = operand_vjps(node.fn, seed, out, argv, node.params)
        for pos, j in enumerate(node.args):
            if j == u:
                jac[k] += np.ravel(grads[pos])
    return jac


def forward(g, src: str, at=None):
    """The tangent of every node reachable from ``src`` (``{name: tangent}``).

    >>> from graphviz_bp import parse
    >>> forward(parse("f = x^2 + x*y + (x + y)^2"), "x", at={"x": 1, "y": 2})["f"]
    10.0
    """
    values = run(g, at).values
    s = g.index(src)
    nodes = g.nodes
    scalar = values[s].__class__ is float
    tangent: dict[int, object] = {s: 1.0 if scalar else np.eye(np.size(values[s]))}
    for node in nodes[s + 1:g._output + 1]:
        if not node.index & 4095:
            check_deadline("forward mode")
        moving = [j for j in dict.fromkeys(node.args) if j in tangent]
        if not moving:
            continue
        i = node.index
        t = None
        if scalar and values[i].__class__ is float and node.fn.fast and \
                all(values[j].__class__ is float for j in node.args) and \
                all(tangent[j].__class__ is float for j in moving):
            try:
                parts = node_partials(node, values)
                t = 0.0
                for pos, j in enumerate(node.args):
                    if j in tangent:
                        t += parts[pos] * tangent[j]
            except _SCALAR_ERRORS:
                t = None
        if t is None:
            t = 0.0
            for j in moving:
                tj = tangent[j]
                tj = np.array([[tj]]) if tj.__class__ is float else tj
                with np.errstate(all="ignore"):     # inf·0 in the product: NaN, the value already warned
                    t = t + edge_jacobian(g, j, i, values) @ tj
            if scalar and np.size(values[i]) == 1:
                t = float(np.ravel(t)[0])
        tangent[i] = t
    return {nodes[i].name: t for i, t in tangent.items()}


def forward_gradient(g, src: str, at=None):
    """∂output/∂src by forward mode, shaped like ``src``."""
    values = run(g, at).values
    from .reverse import output_seed
    output_seed(g, values[g._output])        # the same scalar-output check as reverse mode
    t = forward(g, src, at).get(g.output)
    shape = np.shape(values[g.index(src)])
    if t is None:
        return 0.0 if shape == () else np.zeros(shape)
    if shape == ():
        return float(np.ravel(t)[0])
    return np.asarray(t).reshape(shape)
