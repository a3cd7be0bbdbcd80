"""The objective of :mod:`graphviz_bp.algorithms.solve`: L and ∇L of a program as functions of one flat
vector of unknowns, and the test for an affine gradient (∇L(θ) = Hθ + c)."""
from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..core.limits import check_deadline

MAX_PARAMS = 400              # scalar unknowns: the Hessian costs one gradient per unknown


class Problem:
    """L and ∇L as functions of one flat vector of the unknowns."""

    def __init__(self, g, wrt, at):
        self.g, self.wrt, self.at = g, wrt, dict(at)
        self.shapes = {}
        for name in wrt:
            node = g.node(name)
            if node.kind == "const" or not node.is_leaf:
                raise InputError(f"--wrt {name}: {name!r} is computed by the program, not an input", kind="usage")
        self.start = self._start()
        self.n = sum(int(np.prod(s)) if s else 1 for s in self.shapes.values())
        if self.n > MAX_PARAMS:
            raise InputError(f"{self.n} unknowns: solve handles at most {MAX_PARAMS}", kind="limit")

    def _start(self):
        """The unknowns' values (given, or zeros of a shape that makes L a scalar)."""
        vals = {}
        missing = []
        for name in self.wrt:
            v = self.at.get(name, self.g.node(name).default)
            if v is None:
                missing.append(name)
            else:
                vals[name] = np.asarray(v, dtype=float)
        if missing:
            vals.update(self._guess_shapes(missing, vals))
        for name, v in vals.items():
            self.shapes[name] = v.shape
        return np.concatenate([vals[n].ravel() for n in self.wrt])

    def _guess_shapes(self, missing, known):
        """Zeros for unknowns without a value: scalars, else columns as long as a matrix is wide."""
        from ..core.evaluate import run
        widths = set()
        for node in self.g.nodes:
            v = self.at.get(node.name, node.default) if node.is_leaf else None
            if v is not None and np.ndim(v) == 2:
                widths.update([(np.shape(v)[1], 1), (1, np.shape(v)[1]), (np.shape(v)[0], 1),
                               (np.shape(v)[1], np.shape(v)[1])])
        # a matrix product wants a column first, an elementwise op with a matrix a row (μ of X − μ)
        uses = {self.g.nodes[c].op for n in missing for c in self.g.consumers[self.g.index(n)]}
        cols = sorted(s for s in widths if s[1] == 1)
        rows = sorted(s for s in widths if s[0] == 1)
        rest = sorted(widths - set(cols) - set(rows))
        if "matmul" in uses:
            candidates = cols + rows + rest + [()]
        elif uses & {"sub", "add", "mul", "div"} and rows:
            candidates = rows + cols + [()] + rest
        else:
            candidates = [()] + cols + rows + rest
        for shape in candidates:
            trial = {n: np.zeros(shape) if shape else np.array(0.0) for n in missing}
            try:
                at = {**self.at, **{k: as_value(v) for k, v in {**known, **trial}.items()}}
                out = run(self.g, at).values[self.g._output]
            except InputError:
                continue
            if np.size(out) == 1:
                return trial
        raise InputError(f"no value for {', '.join(missing)} and no shape of it makes {self.g.output!r} a "
                         f"number: give a starting value, e.g. --at {missing[0]}=[[0], [0]]", kind="value")

    def split(self, theta):
        out, k = {}, 0
        for name in self.wrt:
            s = self.shapes[name]
            m = int(np.prod(s)) if s else 1
            out[name] = float(theta[k]) if not s else np.asarray(theta[k:k + m], dtype=float).reshape(s)
            k += m
        return out

    def value(self, theta) -> float:
        check_deadline("solve")
        from ..core.evaluate import run
        v = run(self.g, {**self.at, **self.split(theta)}).values[self.g._output]
        if np.size(v) != 1:
            raise InputError(f"{self.g.output!r} is not a number (shape {np.shape(v)}): solve needs a scalar loss",
                             kind="shape")
        return float(np.ravel(v)[0])

    def grad(self, theta) -> np.ndarray:
        check_deadline("solve")
        gr = self.g.gradients(at={**self.at, **self.split(theta)}, wrt=list(self.wrt))
        return np.concatenate([np.ravel(np.asarray(gr[n], dtype=float)) for n in self.wrt])


def as_value(v):
    a = np.asarray(v, dtype=float)
    return float(a) if a.ndim == 0 else a


def flat(point, wrt):
    return np.concatenate([np.ravel(np.asarray(point[n], dtype=float)) for n in wrt])


def affine_gradient(prob, theta0):
    """``(H, c, True)`` when ∇L(θ) = Hθ + c (checked at three random points), else (None, None, False)."""
    n = prob.n
    g0 = prob.grad(theta0)
    if not np.all(np.isfinite(g0)):
        return None, None, False
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        H[:, i] = prob.grad(theta0 + e) - g0
    c = g0 - H @ theta0
    rng = np.random.default_rng(0)
    for _ in range(3):
        t = theta0 + rng.normal(scale=3.0, size=n)
        gt = prob.grad(t)
        expect = H @ t + c
        if not np.allclose(gt, expect, rtol=1e-7, atol=1e-7 * (1 + np.abs(expect).max())):
            return None, None, False
    return H, c, True
