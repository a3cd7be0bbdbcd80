"""The scalar view: every tensor expanded into element nodes (``W2[0,1]``, ``h1[1]``).

``W2 @ h1`` becomes the familiar picture of a layer: each ``a2[i]`` is one
neuron, a weighted sum ``Σₖ W2[i,k]·h1[k]`` (op ``dot``) with an edge from
every input and every weight. Elementwise ops (with broadcasting) become one
node per element with the same op; transposes and indexing only rename
elements. Every other op (softmax, norms, det, conv2d, …) becomes one
``component`` node per output element, with edges from exactly the input
elements it depends on and the Jacobian's entries as local derivatives.

The view is itself a :class:`~graphviz_bp.core.graph.Graph` whose inputs default to the
element values at ``at``, so every algorithm (evaluate, reverse, forward,
paths, render) works on it unchanged.

>>> import graphviz_bp as gbp
>>> g = gbp.parse(open("graphviz_bp/examples/relu_network_sgd.txt").read())
>>> s = scalar_view(g)
>>> gbp.count_paths(s, "x"), gbp.gradients(s, wrt=["W2[1,0]"])
(4, {'W2[1,0]': -18.0})
"""
from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..core.evaluate import run
from ..core.graph import Graph, Node
from ..core.ops import operand_vjps

# --- building the view ------------------------------------------------------------------------


def _element_name(name: str, index: tuple, shape: tuple) -> str:
    if all(n == 1 for n in shape):                # a 1×1 result is a number on paper
        return name
    if len(shape) == 2 and 1 in shape:            # a row or a column: one index reads better
        index = (index[0] if shape[0] != 1 else index[1],)
    return f"{name}[{','.join(map(str, index))}]"


class _Builder:
    def __init__(self, g: Graph, at):
        self.g = g
        self.values = run(g, at).values
        self.nodes: list[Node] = []
        self.names: dict[str, int] = {}
        self.cap = g.limits.max_scalar_view_nodes

    def new(self, name, op, args, params, kind, default, src, line, col) -> int:
        if len(self.nodes) >= self.cap:
            self.g.limits.refuse("max_scalar_view_nodes", "the scalar view", line, col)
        if name in self.names:
            name = f"{name}'"
        node = Node(len(self.nodes), name, op, tuple(args), params, kind, default, src, line, col)
        self.nodes.append(node)
        self.names[name] = node.index
        return node.index

    def leaf(self, node: Node):
        v = self.values[node.index]
        kind = node.kind if node.kind in ("input", "const") else "input"
        if np.ndim(v) == 0:
            return self.new(node.name, "const" if kind == "const" else "input", (), {}, kind, float(v),
                            node.src, node.line, node.column)
        shape = np.shape(v)
        elems = np.empty(shape, dtype=object)
        for idx in np.ndindex(shape):
            elems[idx] = self.new(_element_name(node.name, idx, shape), kind, (), {}, kind, float(v[idx]),
                                  node.src, node.line, node.column)
        return elems

    def operation(self, node: Node, maps):
        op, out = node.fn, self.values[node.index]
        shape = np.shape(out)
        name = node.name

        def make(idx, opname, args, params):
            elem_name = name if not shape else _element_name(name, idx, shape)
            return self.new(elem_name, opname, args, params, "intermediate", None, node.src, node.line, node.column)

        if node.op == "transpose":
            m = maps[0]
            return m if np.ndim(m) < 2 else np.swapaxes(m, -1, -2)
        if node.op == "index":
            return maps[0][node.params["index"]]
        if node.op == "matmul" and all(np.ndim(m) >= 1 for m in maps) and all(np.ndim(m) <= 2 for m in maps):
            a, b = maps
            a2 = a if a.ndim == 2 else a[None, :]
            b2 = b if b.ndim == 2 else b[:, None]
            result = np.empty((a2.shape[0], b2.shape[1]), dtype=object)
            for i in range(a2.shape[0]):
                for j in range(b2.shape[1]):
                    idx = tuple(k for k, keep in zip((i, j), (a.ndim == 2, b.ndim == 2)) if keep)
                    result[i, j] = make(idx, "dot", list(a2[i, :]) + list(b2[:, j]), {})
            if a.ndim == 1:
                result = result[0]
            if b.ndim == 1:
                result = result[..., 0]
            return result if np.ndim(result) else result.item()
        if op.kind == "elementwise" or (node.op == "matmul" and any(np.ndim(m) == 0 for m in maps)):
            opname = node.op if node.op != "matmul" else "mul"
            if not shape:
                return make((), opname, [m for m in maps], node.params)
            views = [np.broadcast_to(np.asarray(m, dtype=object), shape) for m in maps]
            result = np.empty(shape, dtype=object)
            for idx in np.ndindex(shape):
                result[idx] = make(idx, opname, [v[idx] for v in views], node.params)
            return result
        return self.components(node, maps, make, shape)

    def components(self, node, maps, make, shape):
        """One node per output element, with edges from the input elements it depends on."""
        values = [self.values[j] for j in node.args]
        deps = _dependencies(node, values)
        result = np.empty(shape, dtype=object) if shape else None
        for idx in (np.ndindex(shape) if shape else [()]):
            slots, args = [], []
            for k, (m, dep) in enumerate(zip(maps, deps)):
                if np.ndim(m) == 0:
                    if bool(dep[idx]):
                        slots.append((k, 0))
                        args.append(m)
                    continue
                for flat in np.flatnonzero(dep[idx]):
                    slots.append((k, int(flat)))
                    args.append(np.ravel(m)[flat])
            params = {"op": node.op, "template": values, "slots": tuple(slots), "position": idx,
                      "params": node.params}
            elem = make(idx, "component", args, params)
            if shape:
                result[idx] = elem
            else:
                return elem
        return result


def _dependencies(node, values):
    """For each output element, which input elements it depends on: the Jacobian's nonzero
    pattern at the point and at a nearby random point (so a zero derivative, e.g. relu'(0),
    still counts as an edge)."""
    op = node.fn
    rng = np.random.default_rng(0)
    points = [values, [np.asarray(v) + rng.uniform(0.1, 0.2, np.shape(v)) for v in values]]
    out_shape = np.shape(op.tensor(*values, **node.params))
    deps = [np.zeros(out_shape + np.shape(v), dtype=bool) for v in values]
    for point in points:
        with np.errstate(all="ignore"):
            out = op.tensor(*point, **node.params)
            for idx in (np.ndindex(out_shape) if out_shape else [()]):
                seed = 1.0
                if out_shape:
                    seed = np.zeros(out_shape)
                    seed[idx] = 1.0
                grads = operand_vjps(op, seed, out, list(point), node.params)
                for k, gk in enumerate(grads):
                    deps[k][idx] |= np.asarray(gk) != 0
    return deps


def scalar_view(g: Graph, at=None) -> Graph:
    """The graph expanded into element nodes, evaluated at ``at`` (see the module docstring)."""
    b = _Builder(g, at)
    maps: list = [None] * len(g.nodes)
    for node in g.nodes[:g._output + 1]:
        if node.is_leaf:
            maps[node.index] = b.leaf(node)
        else:
            maps[node.index] = b.operation(node, [maps[j] for j in node.args])
    out = maps[g._output]
    if isinstance(out, np.ndarray):
        if out.size != 1:
            node = g.nodes[g._output]
            raise InputError(f"the scalar view needs a scalar output; {node.name!r} has shape "
                             f"{'×'.join(map(str, out.shape))}", node.line, node.column, kind="shape")
        out = out.item()
    for name, i in list(g._names.items()):      # aliases (yhat = h3) keep working for scalars
        m = maps[i] if i < len(maps) else None
        if m is not None and np.ndim(m) == 0 and name not in b.names:
            b.names[name] = int(m)
    view = Graph(b.nodes, b.names, int(out), g.text, g.limits)
    view.nodes[int(out)].kind = "output"
    return view
