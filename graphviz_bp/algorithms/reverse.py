"""Reverse accumulation: ∂output/∂node for every node in one backward pass.

Nodes are visited in reverse topological order; when a node is reached its
adjoint is complete (every consumer has pushed its share), and the node pushes
``adjoint · local derivative`` to each operand. Cost is linear in the edges.
With ``record=True`` each visit is kept as a :class:`Step` so the dashboard and
``explain`` can replay the pass, seed 004 style: ``ā = Σ over consumers v of v̄·∂v/∂a``.

Gradients need a scalar output (a 1×1 result counts as one).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError
from ..core.evaluate import _SCALAR_ERRORS, Evaluation, run
from ..core.limits import check_deadline
from ..core.ops import operand_vjps


@dataclass
class Step:
    """One node's adjoint made final: ``adjoint = Σ contribution`` over ``terms`` = [(consumer, contribution)]."""
    node: str
    adjoint: object
    terms: list = field(default_factory=list)

    def equation(self, fmt=None) -> str:
        """``ā = d̄·∂d/∂a + …`` in words, with the numbers."""
        from ..core.notation import fmt_value, pretty_name
        fmt = fmt or fmt_value
        bar = overbar(pretty_name(self.node))
        if not self.terms:
            return f"{bar} = {fmt(self.adjoint)}  (seed: ∂{pretty_name(self.node)}/∂{pretty_name(self.node)})"
        parts = " + ".join(f"{overbar(pretty_name(v))}·∂{pretty_name(v)}/∂{pretty_name(self.node)}"
                           for v, _ in self.terms)
        values = " + ".join(fmt(c) for _, c in self.terms)
        return f"{bar} = {parts} = {values} = {fmt(self.adjoint)}" if len(self.terms) > 1 else \
            f"{bar} = {parts} = {fmt(self.adjoint)}"


def overbar(name: str) -> str:
    """The adjoint's bar over the whole name: ``ā`` for one letter (a macron), a joined overline
    over every character of a longer name (``o̅a̅``, not ``oā`` with the bar on its last letter).

    >>> overbar("a") == "a\u0304", overbar("oa") == "o\u0305a\u0305"
    (True, True)
    """
    return name + "\u0304" if len(name) == 1 else "".join(ch + "\u0305" for ch in name)


@dataclass
class ReverseResult:
    value: object            # the output's value
    adjoints: dict           # name -> ∂output/∂node (nodes the output depends on)
    steps: list              # [Step], in the order the pass visits them (empty unless recorded)
    warnings: list


def output_seed(g, value):
    """1 for a scalar output, ones for a 1×1 one; any other shape is an InputError."""
    if value.__class__ is float:
        return 1.0
    if np.size(value) == 1:
        return np.ones_like(value)
    node = g.nodes[g._output]
    shape = "×".join(map(str, np.shape(value)))
    raise InputError(f"gradients need a scalar output, but {node.name!r} has shape {shape}; "
                     f"reduce it first, e.g. sum({node.name}), or pick another output with --output",
                     node.line, node.column, kind="shape")


def _add(acc, x):
    if acc is None:
        return x
    return acc + x


def reverse(g, at=None, record: bool = False, wrt=None) -> ReverseResult:
    """Run reverse accumulation. With ``wrt`` (leaf names) the pass may skip adjoints
    that no requested gradient depends on.

    >>> from graphviz_bp import parse
    >>> r = parse("f = x^2 + x*y + (x + y)^2").reverse(at={"x": 1, "y": 2}, record=True)
    >>> r.adjoints["x"], r.adjoints["c"], r.steps[-1].terms
    (10.0, 6.0, [('a', 2.0), ('b', 2.0), ('c', 6.0)])
    >>> r.steps[-1].equation().endswith("= 2 + 2 + 6 = 10")
    True
    """
    ev = at if isinstance(at, Evaluation) else run(g, at)
    values = ev.values
    on_floats = ev.scalar
    nodes = g.nodes
    out = g._output
    needed = None
    if wrt is not None:        # only nodes downstream of a requested leaf need adjoints
        needed = bytearray(out + 1)
        for name in wrt:
            i = g.index(name)
            if i <= out:       # a leaf defined after the output does not reach it (x\nh = x\ny)
                needed[i] = 1
        for node in nodes[:out + 1]:
            if node.args and any(needed[j] for j in node.args):
                needed[node.index] = 1
    adj: list = [None] * (out + 1)
    adj[out] = output_seed(g, values[out])
    terms: list | None = [None] * (out + 1) if record else None
    steps = []
    float_ = float
    for i in range(out, -1, -1):
        gi = adj[i]
        if gi is None:
            continue
        if not i & 4095:
            check_deadline("reverse accumulation")
        node = nodes[i]
        if record and node.kind != "const":
            steps.append(Step(node.name, gi, [(nodes[v].name, c) for v, c in reversed(terms[i] or [])]))
        args = node.args
        if not args:
            continue
        op = node.fn
        vi = values[i]
        if on_floats[i] and gi.__class__ is float_ and not record and not node.params:
            # the float fast path, unrolled for the one- and two-operand ops of scalar programs
            if len(args) == 1:
                j = args[0]
                try:
                    c = gi * op.scalar_partials(vi, values[j])[0]
                    a = adj[j]
                    adj[j] = c if a is None else a + c
                    continue
                except _SCALAR_ERRORS:
                    pass
            elif len(args) == 2:
                j, k = args
                try:
                    dj, dk = op.scalar_partials(vi, values[j], values[k])
                    a = adj[j]
                    adj[j] = gi * dj if a is None else a + gi * dj
                    a = adj[k]
                    adj[k] = gi * dk if a is None else a + gi * dk
                    continue
                except _SCALAR_ERRORS:
                    pass
        argv = [values[j] for j in args]
        if on_floats[i] and gi.__class__ is float_:
            # the float fast path: evaluation ran this node on floats, so its partials are floats
            try:
                parts = op.scalar_partials(vi, *argv, **node.params) if node.params else \
                    op.scalar_partials(vi, *argv)
            except _SCALAR_ERRORS:
                parts = None
            if parts is not None:
                if record:
                    for j, d in zip(args, parts):
                        c = gi * d
                        adj[j] = c if adj[j] is None else adj[j] + c
                        _note(terms, j, i, c)
                else:
                    for j, d in zip(args, parts):
                        a = adj[j]
                        adj[j] = gi * d if a is None else a + gi * d
                continue
        need = None if needed is None else tuple(bool(needed[j]) for j in args)
        grads = operand_vjps(op, gi, vi, argv, node.params, need)
        if vi.__class__ is not float_ and vi.size >= 65536:    # one big tensor op costs like 4096 scalar ones
            check_deadline("reverse accumulation")
        for j, c in zip(args, grads):
            if c is None:
                continue
            if np.ndim(c) == 0:
                c = float(c)
            adj[j] = _add(adj[j], c)
            if record:
                _note(terms, j, i, c)
    adjoints = {nodes[i].name: a for i, a in enumerate(adj) if a is not None}
    return ReverseResult(values[out], adjoints, steps, ev.warnings)


def _note(terms, j, i, c):
    lst = terms[j]
    if lst is None:
        terms[j] = [(i, c)]
    elif lst[-1][0] == i:          # x*x: both positions of one edge make one term
        lst[-1] = (i, lst[-1][1] + c)
    else:
        lst.append((i, c))
