"""Derivative paths: the seeds' method of the chain rule.

∂dst/∂src is the sum, over every path src → … → dst, of the product of the
local derivatives on the path's edges. Paths are enumerated lazily (a
generator; there can be 2^60 of them) and counted exactly by dynamic
programming in Python integers. For tensors a path's contribution is the
output's seed pulled back along the path's edges only (a chain of
vector–Jacobian products), shaped like ``src``; the contributions of all paths
sum to the reverse-mode gradient. ``x*x`` is one edge (local derivative ``2x``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError
from ..core.evaluate import node_partials, run
from ..core.limits import check_deadline
from ..core.ops import operand_vjps


def _endpoints(g, src, dst):
    s = g.index(src)
    d = g._output if dst is None else g.index(dst)
    return s, d


def _reaching(g, s: int, d: int) -> bytearray:
    """Marks of the nodes between s and d that lie on some path s → d."""
    reach = bytearray(d + 1)
    reach[d] = 1
    nodes = g.nodes
    for i in range(d, s - 1, -1):
        if reach[i]:
            for j in nodes[i].args:
                if j >= s:
                    reach[j] = 1
    return reach


def count_paths(g, src: str, dst: str | None = None) -> int:
    """The exact number of paths from ``src`` to ``dst`` (default: the output).

    >>> from graphviz_bp import parse
    >>> g = parse("f = x^2 + x*y + (x + y)^2")
    >>> count_paths(g, "x"), count_paths(g, "y")
    (3, 2)
    """
    s, d = _endpoints(g, src, dst)
    if d < s:
        return 0
    counts = [0] * (d + 1)
    counts[s] = 1
    nodes = g.nodes
    for i in range(s + 1, d + 1):
        args = nodes[i].args
        if args:
            total = 0
            for j in (dict.fromkeys(args) if len(args) > 1 else args):
                total += counts[j]
            counts[i] = total
    return counts[d]


@dataclass
class Path:
    """One path: its ``nodes`` (names), the symbolic ``factors`` (one string per edge),
    and ``value``, its contribution to ∂dst/∂src (shaped like src; None without values)."""
    graph: object = field(repr=False)
    indices: tuple
    at: object = field(default=None, repr=False)
    with_values: bool = True

    @property
    def nodes(self) -> list[str]:
        return [self.graph.nodes[i].name for i in self.indices]

    @property
    def edges(self) -> list[tuple[str, str]]:
        names = self.nodes
        return list(zip(names, names[1:]))

    @property
    def factors(self) -> list[str]:
        from .symbolic import local_text
        return [local_text(self.graph, u, v) for u, v in zip(self.indices, self.indices[1:])]

    @property
    def value(self):
        if not self.with_values:
            return None
        return path_value(self.graph, self.indices, self.at)


def path_value(g, indices, at=None):
    """The path's contribution: the seed 1 at its end pulled back along its edges only.

    Scalar edge factors are cached with the evaluation, so the paths of one
    enumeration share the work on their common edges."""
    ev = run(g, at)
    values = ev.values
    end = indices[-1]
    if np.size(values[end]) != 1:
        return None
    grad = 1.0 if values[end].__class__ is float else np.ones_like(values[end])
    nodes = g.nodes
    factors = ev.edge_factors
    for k in range(len(indices) - 1, 0, -1):
        u, v = indices[k - 1], indices[k]
        if grad.__class__ is float and ev.scalar[v]:
            d = factors.get((u, v))
            if d is None:
                parts = node_partials(nodes[v], values)
                d = factors[(u, v)] = sum(parts[p] for p, j in enumerate(nodes[v].args) if j == u)
            if d.__class__ is float:
                grad = grad * d
                continue
        node = nodes[v]
        argv = [values[j] for j in node.args]
        grads = operand_vjps(node.fn, grad, values[v], argv, node.params)
        grad = sum(grads[p] for p, j in enumerate(node.args) if j == u)
        if np.ndim(grad) == 0:
            grad = float(grad)
    return grad


def derivative_paths(g, src: str, dst: str | None = None, at=None, values: bool = True):
    """Yield every path from ``src`` to ``dst`` (default: the output) as a :class:`Path`, lazily.

    Depth-first, in topological order of the branches; only nodes that reach
    ``dst`` are visited, so the first path of a graph with 2^1000 paths comes at once.
    With ``values=False`` (or inputs without values) paths carry no numbers.

    >>> from graphviz_bp import parse
    >>> g = parse("f = x^2 + x*y + (x + y)^2")
    >>> [(p.nodes, p.value) for p in derivative_paths(g, "x", at={"x": 1, "y": 2})]
    [(['x', 'a', 'd', 'f'], 2.0), (['x', 'b', 'd', 'f'], 2.0), (['x', 'c', 'e', 'f'], 6.0)]
    """
    s, d = _endpoints(g, src, dst)
    if values:
        run(g, at)            # fail now, with a clear message, if a value is missing
    if d < s:
        return
    if s == d:
        yield Path(g, (s,), at, values)
        return
    reach = _reaching(g, s, d)
    consumers = g.consumers
    successors: list = [None] * (d + 1)    # consumers on some path to d, computed once per node
    path, position = [s], [0]
    steps = 0
    max_length = g.limits.max_path_length
    # nodes are in topological order, so no path from s to d has more than d - s + 1 nodes: the
    # length check (a 50,000-step chain) is needed only when that bound exceeds the limit
    check_length = d - s + 1 > max_length
    while path:
        steps += 1
        if not steps & 4095:
            check_deadline("listing paths")
        u = path[-1]
        nexts = successors[u]
        if nexts is None:
            nexts = successors[u] = [v for v in consumers[u] if v <= d and reach[v]]
        k = position[-1]
        if k == len(nexts):
            path.pop()
            position.pop()
            continue
        position[-1] = k + 1
        v = nexts[k]
        if v == d:
            path.append(v)
            yield Path(g, tuple(path), at, values)
            path.pop()
        else:
            path.append(v)
            position.append(0)
            if check_length and len(path) > max_length:     # a 50,000-step chain: one path, 50,000 factors to write
                g.limits.refuse("max_path_length", f"a path from {src!r} of more than {max_length} nodes "
                                f"(the count of paths stays exact)")


def list_paths(g, src: str, dst: str | None = None, at=None, values: bool = True, limit: int | None = None):
    """The paths a page or the CLI shows: ``(paths, truncated)``, at most ``limit`` (and
    ``max_paths_listed``) paths and at most ``max_path_output_chars`` characters of node names
    and factors in all; ``truncated`` says that more paths exist than are listed.  Each path is a
    dict of ``nodes``, ``factors`` and (with values) ``value``."""
    limits = g.limits
    limit = limits.max_paths_listed if limit is None else min(limit, limits.max_paths_listed)
    budget = limits.max_path_output_chars
    listed, chars, truncated = [], 0, False
    for p in derivative_paths(g, src, dst, at, values=values):
        if len(listed) >= limit:
            truncated = True
            break
        nodes = p.nodes
        chars += sum(len(n) + 3 for n in nodes)
        if chars > budget:                 # 14 diamonds and a long tail: 462 MB of text otherwise
            truncated = True
            break
        factors = p.factors
        chars += sum(len(f) + 3 for f in factors)
        if chars > budget:
            truncated = True
            break
        item = {"nodes": nodes, "factors": factors}
        if values:
            item["value"] = p.value
        listed.append(item)
    return listed, truncated


def path_sum(g, src: str, dst: str | None = None, at=None, limit: int | None = None):
    """∂dst/∂src as the sum of the contributions of all paths (refuses more than ``limit`` paths)."""
    limit = g.limits.max_paths_listed if limit is None else limit
    n = count_paths(g, src, dst)
    if n > limit:
        g.limits.refuse("max_paths_listed", f"summing over {n} paths from {src!r}")
    values = run(g, at).values
    shape = np.shape(values[g.index(src)])
    total = 0.0 if shape == () else np.zeros(shape)
    for p in derivative_paths(g, src, dst, at):
        v = p.value
        if v is None:
            raise InputError(f"path values need a scalar end node, {p.nodes[-1]!r} is not", kind="shape")
        total = total + v
    return total


def running_sums(g, src: str, start: int, count: int, dst: str | None = None, at=None, values: bool = True):
    """Paths ``start`` … ``start + count − 1`` from ``src`` (in :func:`derivative_paths` order), each with
    its contribution and the running sum of the contributions of every path up to it: the last running
    sum of the last page is ∂dst/∂src.  Without values the contributions and sums are None.

    >>> from graphviz_bp import parse
    >>> g = parse("f = x^2 + x*y + (x + y)^2")
    >>> [(p.nodes[1], value, total) for p, value, total in running_sums(g, "x", 1, 2, at={"x": 1, "y": 2})]
    [('b', 2.0, 4.0), ('c', 6.0, 10.0)]
    """
    from itertools import islice
    total = None
    rows = []
    for k, p in enumerate(islice(derivative_paths(g, src, dst, at, values), start + count)):
        value = p.value if values else None
        if value is not None:
            total = value if total is None else total + value
        if k >= start:
            rows.append((p, value, total if value is not None else None))
    return rows
