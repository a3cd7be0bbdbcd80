"""Numbers for formulas: evaluate an expression, and check every formula against the numeric
reverse pass before it is shown ("never a wrong formula").

Vectors are n×1 columns here, as in the formulas; the engine's 1-D values are turned into columns
and its gradients compared entry by entry.
"""
from __future__ import annotations

import numpy as np

from ...core.ops import OPS, _softmax
from .expr import SCALAR, E
from .traverse import walk

_FN = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
       "abs": np.abs, "sign": np.sign, "sigmoid": OPS["sigmoid"].tensor, "relu": OPS["relu"].tensor,
       "softplus": OPS["softplus"].tensor, "step": lambda a: (np.asarray(a) > 0).astype(float)}


def column(v) -> np.ndarray:
    """A value as a 2-D array: scalar → 1×1, (n,) → n×1."""
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    return a


def evaluate(e: E, env: dict, dims: dict | None = None) -> np.ndarray:
    """``e`` at the values in ``env`` (name → array; adjoint symbols under ``("bar", name)``).

    ``dims`` gives declared sizes (``{"n": 3}``) for I, 𝟏 and sizes in formulas."""
    dims = dims or {}

    def d(x):
        return x if isinstance(x, int) else dims[x]

    memo = {}
    with np.errstate(all="ignore"):
        for x in walk(e):
            k = x.kind
            a = [memo[id(y)] for y in x.args]
            if k == "sym":
                name, role = x.data
                v = column(env[(role, name)] if role in ("bar", "opaque") else env[name])
            elif k == "num":
                v = np.full((d(x.shape[0]), d(x.shape[1])), x.data)
            elif k == "eye":
                v = np.eye(d(x.shape[0]), d(x.shape[1]))
            elif k == "basis":
                v = np.zeros((d(x.shape[0]), d(x.shape[1])))
                v.flat[x.data] = 1.0
            elif k == "add":
                v = sum(a[1:], a[0])
            elif k == "mul":
                v = a[0]
                for y in a[1:]:
                    v = v * y
            elif k == "pow":
                v = np.power(a[0], a[1])
            elif k == "mm":
                v = a[0]
                for y in a[1:]:
                    v = v @ y
            elif k == "T":
                v = a[0].T
            elif k == "fn":
                v = _FN[x.data](a[0])
            elif k == "red":
                v = _reduce(x.data, a[0])
            elif k == "inv":
                v = np.linalg.inv(a[0])
            elif k == "softmax":       # a vector: all its entries; a matrix: row by row
                v = _softmax(a[0].ravel()).reshape(a[0].shape) if 1 in a[0].shape else _softmax(a[0])
            elif k == "index":
                v = np.asarray(a[0]).ravel()[x.data]
            else:
                raise ValueError(k)
            memo[id(x)] = column(v)
    return memo[id(e)]


def _reduce(name, a):
    if name == "tr":
        return np.trace(a)
    if name == "sum":
        return np.sum(a)
    if name == "mean":
        return np.mean(a)
    if name == "det":
        return np.linalg.det(a)
    if name == "norm1":
        return np.sum(np.abs(a))
    if name == "norm2":
        return np.sqrt(np.sum(a * a))
    if name == "sqnorm":
        return np.sum(a * a)
    if name == "logsumexp":
        m = np.max(a)
        return m + np.log(np.sum(np.exp(a - m)))
    raise ValueError(name)


def agrees(formula, numeric, rtol=1e-6, atol=1e-8) -> bool:
    """Whether a formula's value equals a numeric gradient (shapes: n×1 vs (n,), 1×1 vs float)."""
    f = column(formula)
    n = column(numeric)
    if f.shape != n.shape and f.size == n.size and 1 in f.shape and 1 in n.shape:
        f = f.reshape(n.shape)          # a vector: 1-D, column or row alike (never a matrix's transpose)
    if f.shape != n.shape:
        if f.size == 1 and np.all(np.isfinite(n)):          # a number for a constant matrix (0, …)
            f = np.broadcast_to(f.reshape(1, 1), n.shape)
        else:
            return False
    both_nan = np.isnan(f) & np.isnan(n)
    return bool(np.all(both_nan | np.isclose(f, n, rtol=rtol, atol=atol)))


def _shaped(shapes, name, v):
    """A value as the formulas hold it: a column, and a 1-D value of a row node (yᵀ) a 1×n row."""
    v = column(v)
    s = shapes.get(name)
    if s is not None and all(isinstance(k, int) for k in s) and v.shape != s and v.size == s[0] * s[1]:
        v = v.reshape(s)
    return v


def node_values(g, derivation, at=None) -> dict:
    """Values of the node names a formula may hold (no adjoints): every node, and the constants."""
    shapes = derivation.shapes
    env = {name: _shaped(shapes, name, v) for name, v in g.evaluate(at).items()}
    for node in g.nodes:
        if node.kind == "const" and not isinstance(node.default, float):
            env[node.name] = _shaped(shapes, node.name, node.default)
    return env


def environment(g, derivation, at=None):
    """Values for every symbol a formula may hold: node values and numeric adjoints (columns)."""
    env = node_values(g, derivation, at)
    r = g.reverse(at)
    numeric = {name: _shaped(derivation.shapes, name, a) for name, a in r.adjoints.items()}
    for name, adj in numeric.items():
        env[("bar", name)] = env[("opaque", name)] = adj
    return env, numeric


def verify(g, derivation, at=None) -> dict:
    """``{(level, node): bool}``: each formula of the derivation against the numeric reverse pass at
    ``at``.  Nodes the output does not depend on have adjoint 0."""
    env, numeric = environment(g, derivation, at)
    out = {}
    for level in ("rule", "named", "inputs"):
        table = getattr(derivation, level)
        for name, e in table.items():
            if e is None:
                continue
            want = numeric.get(name, np.zeros(derivation.shapes[name] if
                                                all(isinstance(s, int) for s in derivation.shapes[name])
                                                else (1, 1)))
            try:
                out[(level, name)] = agrees(evaluate(e, env), want)
            except (KeyError, ValueError, np.linalg.LinAlgError, IndexError):
                out[(level, name)] = False
    return out


__all__ = ["evaluate", "agrees", "verify", "column", "environment", "node_values", "SCALAR"]
