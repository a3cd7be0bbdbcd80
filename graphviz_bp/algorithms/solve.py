"""Stationary points of a program's scalar output: closed forms, a numeric minimiser, the Hessian.

:func:`solve` looks for θ with ∇L(θ) = 0 in the inputs ``wrt`` (the other inputs keep their values):

* **affine gradient** (least squares, ridge, a penalised mean, the Gaussian mean): ∇L(θ) = Hθ + c
  is detected numerically (the gradient's differences are exact for a quadratic; checked at three
  random points), the stationary point solves Hθ = −c exactly (``numpy.linalg.solve``), and the
  Hessian is H.  The closed form is then named from a small set of templates
  (w = (XᵀX)⁻¹Xᵀy, (XᵀX + λI)⁻¹Xᵀy, Σxᵢyᵢ/Σxᵢ², Σyᵢ/(n + λ), x̄ …): a template is shown only
  when it equals the numeric solution at the given numbers *and* at three random data sets of the
  same shapes (each solved again numerically);
* **otherwise** ``scipy.optimize.minimize`` with BFGS and the program's exact reverse-mode
  gradient, from the inputs' values (or zeros); the Hessian by central differences of the gradient.

Definiteness from the Hessian's eigenvalues: all > 0 a minimum, all < 0 a maximum, both signs a
saddle, a zero eigenvalue "degenerate" (the second-order test says nothing).  No stationary
point (an affine gradient with an inconsistent system, a loss that keeps decreasing as the
parameters grow, as for separable logistic regression) is an :class:`InputError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..core.errors import InputError
from ..core.graph import parameters
from ..core.limits import check_deadline

MAX_PARAMS = 400              # scalar unknowns: the Hessian costs one gradient per unknown


@dataclass
class Solution:
    wrt: list
    point: dict                       # name -> value at the stationary point
    value: float                      # L there
    method: str
    iterations: int | None = None
    gradient_norm: float = 0.0
    hessian: np.ndarray | None = None
    eigenvalues: np.ndarray | None = None
    kind: str = ""                    # minimum | maximum | saddle point | degenerate
    formula: str | None = None        # w = (XᵀX + λI)⁻¹Xᵀy
    formula_tex: str | None = None
    hessian_formula: str | None = None
    hessian_tex: str | None = None
    affine: bool = False
    notes: list = field(default_factory=list)
    gradient_formula: str | None = None   # ∇L in matrix form (matrix_form, checked against the reverse pass)
    gradient_tex: str | None = None
    names_tex: dict = field(default_factory=dict)   # unknown -> its LaTeX (beta -> \beta)

    def to_json(self) -> dict:
        return {"wrt": self.wrt, "point": self.point, "value": self.value, "method": self.method,
                "iterations": self.iterations, "gradient_norm": self.gradient_norm,
                "hessian": None if self.hessian is None else self.hessian.tolist(),
                "eigenvalues": None if self.eigenvalues is None else self.eigenvalues.tolist(),
                "kind": self.kind, "formula": self.formula, "hessian_formula": self.hessian_formula,
                "affine": self.affine, "notes": self.notes, "gradient_formula": self.gradient_formula}


class _Problem:
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
                at = {**self.at, **{k: _value(v) for k, v in {**known, **trial}.items()}}
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


def _value(v):
    a = np.asarray(v, dtype=float)
    return float(a) if a.ndim == 0 else a


def solve(g, wrt=None, at=None, maximize: bool = False) -> Solution:
    """The stationary point of ``g``'s output in ``wrt`` (default: the parameters, else the
    declared variables); see the module docstring."""
    wrt = _wrt(g, wrt)
    prob = _Problem(g, wrt, at or {})
    sign = -1.0 if maximize else 1.0
    theta0 = prob.start
    value0 = prob.value(theta0)
    if not np.isfinite(value0):
        raise InputError(f"{g.output!r} is not finite at the start point; give other starting values", kind="value")
    H, c, affine = _affine(prob, theta0)
    if affine:
        sol = _solve_affine(prob, H, c, theta0)
    else:
        sol = _minimise(prob, theta0, sign)
        H = _numeric_hessian(prob, np.array([*_flat(sol.point, wrt)]))
    _classify(sol, H)
    _symmetric_directions(prob, sol, H)
    if affine:
        _name_closed_form(g, prob, sol, H)
    _gradient_formula(g, prob, sol)
    notation = getattr(g, "notation", None)
    sol.names_tex = {w: notation.tex(w) if notation is not None else w for w in wrt}
    return sol


def _gradient_formula(g, prob, sol):
    """∇L as the matrix-form derivation writes it (issue 14's formulas: each checked against the
    numeric reverse pass before it is returned), for one unknown; nothing when it has none."""
    if len(prob.wrt) != 1:
        return
    try:
        from .matrix_form.formulas import matrix_form
        (w,) = prob.wrt
        f = matrix_form(g, at={**prob.at, **sol.point}, wrt=[w]).gradients[w]
    except (InputError, ImportError, ValueError, TypeError, KeyError, IndexError, ArithmeticError):
        return
    if f.verified and f.expr is not None:
        sol.gradient_formula, sol.gradient_tex = f.unicode, f.latex(getattr(g, "tex_names", None))


def _wrt(g, wrt):
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    if not wrt:
        wrt = parameters(g) or list(g.variables)
    if not wrt:
        raise InputError("which unknowns? give --wrt (e.g. --wrt w); no input is named like a parameter",
                         kind="usage")
    return list(dict.fromkeys(wrt))


def _flat(point, wrt):
    return np.concatenate([np.ravel(np.asarray(point[n], dtype=float)) for n in wrt])


def _affine(prob, theta0):
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


def _solve_affine(prob, H, c, theta0):
    Hs = (H + H.T) / 2
    rank = np.linalg.matrix_rank(Hs)
    if rank == prob.n:
        theta = np.linalg.solve(Hs, -c)
        notes = []
    else:
        theta, *_ = np.linalg.lstsq(Hs, -c, rcond=None)
        if not np.allclose(Hs @ theta, -c, atol=1e-8 * (1 + np.abs(c).max())):
            raise InputError(f"no stationary point: ∇{prob.g.output} = Hθ + c with a singular H (rank {rank} of "
                             f"{prob.n}) and c outside its range, so the gradient is never 0", kind="value")
        notes = [f"H is singular (rank {rank} of {prob.n}): a whole set of stationary points; "
                 f"this is the one of least norm"]
    grad = prob.grad(theta)
    if np.linalg.norm(grad) > 1e-6 * (1 + np.linalg.norm(c)):
        raise InputError(f"the linear solve did not give ∇{prob.g.output} = 0 (|∇| = {np.linalg.norm(grad):.3g})",
                         kind="value")
    return Solution(list(prob.wrt), _jsonable(prob.split(theta)), prob.value(theta),
                    "closed form: the gradient is affine in " + ", ".join(prob.wrt) + " (solve Hθ = −c)",
                    gradient_norm=float(np.linalg.norm(grad)), affine=True, notes=notes)


def _jsonable(point):
    return {k: (v if isinstance(v, float) else np.asarray(v)) for k, v in point.items()}


def _minimise(prob, theta0, sign):
    from scipy.optimize import minimize

    def f(t):
        v = sign * prob.value(t)
        return v if np.isfinite(v) else 1e300

    def jac(t):
        gr = sign * prob.grad(t)
        return np.where(np.isfinite(gr), gr, 0.0)
    res = minimize(f, theta0, jac=jac, method="BFGS", options={"maxiter": 5000, "gtol": 1e-9})
    theta = res.x
    grad = prob.grad(theta)
    L = prob.value(theta)
    norm = float(np.linalg.norm(theta))
    if norm > 1e-12:                       # still going down along θ: no minimum is attained
        d = theta / norm
        far = [sign * prob.value(theta + t * d) for t in (10.0, 100.0, 1000.0)]
        finite = [v for v in far if np.isfinite(v)]     # log(1 − σ) of a sheet's loss overflows far out
        going_down = bool(finite) and finite[0] < sign * L - 1e-12 * (1 + abs(L)) and \
            all(b <= a for a, b in zip(finite, finite[1:]))   # e.g. separable data: L → 0 at ∞
        if going_down:
            word = "maximum" if sign < 0 else "minimum"
            raise InputError(f"no {word}: {prob.g.output} keeps {'increasing' if sign < 0 else 'decreasing'} as "
                             f"{', '.join(prob.wrt)} grow along {np.round(d, 3).tolist()} "
                             f"({prob.g.output} = {L:.4g} at |θ| = {norm:.3g}, {sign * finite[0]:.4g} at "
                             f"|θ| + 10): the infimum is not attained", kind="value")
    if not np.all(np.isfinite(grad)) or np.linalg.norm(grad) > 1e-5 * (1 + abs(L)):
        raise InputError(f"no stationary point found: BFGS stopped after {res.nit} iterations with "
                         f"|∇{prob.g.output}| = {np.linalg.norm(grad):.3g} ({res.message})", kind="value")
    return Solution(list(prob.wrt), _jsonable(prob.split(theta)), L,
                    "numeric: scipy.optimize.minimize, BFGS with the reverse-mode gradient",
                    iterations=int(res.nit), gradient_norm=float(np.linalg.norm(grad)))


def _numeric_hessian(prob, theta):
    n = prob.n
    H = np.empty((n, n))
    for i in range(n):
        h = 1e-5 * (1 + abs(theta[i]))
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (prob.grad(theta + e) - prob.grad(theta - e)) / (2 * h)
    return H


def _classify(sol, H):
    Hs = (H + H.T) / 2
    eig = np.linalg.eigvalsh(Hs)
    tol = 1e-8 * max(1.0, np.abs(eig).max()) if sol.affine else 1e-5 * max(1.0, np.abs(eig).max())
    sol.hessian, sol.eigenvalues = Hs, eig
    if np.all(eig > tol):
        sol.kind = "minimum"
    elif np.all(eig < -tol):
        sol.kind = "maximum"
    elif eig.min() < -tol and eig.max() > tol:
        sol.kind = "saddle point"
    else:
        sol.kind = "degenerate"
        sol.notes.append("a zero eigenvalue: the second-order test does not decide")


def _symmetric_directions(prob, sol, H):
    """A square matrix unknown that comes out symmetric (a covariance Σ̂): classify on symmetric
    directions, where det and the inverse are usually meant (in all n² entries S₁₂ and S₂₁
    pull apart and the point looks like a saddle)."""
    if len(prob.wrt) != 1:
        return
    S = np.asarray(sol.point[prob.wrt[0]])
    if S.ndim != 2 or S.shape[0] != S.shape[1] or S.shape[0] < 2 or not np.allclose(S, S.T, atol=1e-6):
        return
    m = S.shape[0]
    basis = []
    for i in range(m):
        for j in range(i, m):
            E = np.zeros((m, m))
            E[i, j] = E[j, i] = 1.0 if i == j else 2 ** -0.5
            basis.append(E.ravel())
    B = np.array(basis).T
    eig = np.linalg.eigvalsh(B.T @ ((H + H.T) / 2) @ B)
    tol = 1e-5 * max(1.0, np.abs(eig).max())
    kind = "minimum" if np.all(eig > tol) else "maximum" if np.all(eig < -tol) else \
        "saddle point" if eig.min() < -tol and eig.max() > tol else "degenerate"
    if kind != sol.kind:
        sol.notes.append(f"over all {m * m} entries the Hessian says {sol.kind}; over symmetric {prob.wrt[0]} "
                         f"(eigenvalues {', '.join(f'{e:.4g}' for e in eig)}) it is a {kind}")
        sol.kind, sol.eigenvalues = kind, eig
        sol.notes = [n for n in sol.notes if not n.startswith("a zero eigenvalue")]


# --- closed forms by template ----------------------------------------------------------------------

def _data_inputs(g, prob):
    out = {}
    for node in g.nodes:
        if node.kind != "input" or node.name in prob.wrt:
            continue
        v = prob.at.get(node.name, node.default)
        if v is not None:
            out[node.name] = np.asarray(v, dtype=float)
    return out


_SYMBOL = {"lambda": ("λ", r"\lambda"), "alpha": ("α", r"\alpha"), "mu": ("μ", r"\mu"), "beta": ("β", r"\beta")}


def _sym(name):
    return _SYMBOL.get(name, (name, name))


def _templates(prob, data):
    """Candidate closed forms ``(text, tex, value(data) -> point, hessian text, tex, H(data))``."""
    (w,) = prob.wrt if len(prob.wrt) == 1 else (None,)
    if w is None:
        return
    shape = prob.shapes[w]
    W, Wt = _sym(w)
    mats = [k for k, v in data.items() if v.ndim == 2 and min(v.shape) > 1 or v.ndim == 2 and v.shape[1] > 1]
    vecs = [k for k, v in data.items() if v.ndim == 1 or v.ndim == 2 and (v.shape[1] == 1 or v.shape[0] == 1)
            and v.size > 1]
    scalars = [k for k, v in data.items() if v.size == 1]
    if shape == ():
        for y in vecs:
            for lam in [None] + scalars:
                L, Lt = _sym(lam) if lam else ("", "")
                yield (f"{W} = Σyᵢ/(n + {L})".replace("y", _sym(y)[0]) if lam else f"{W} = Σ{_sym(y)[0]}ᵢ/n",
                       (rf"{Wt} = \frac{{\sum_i {y}_i}}{{n + {Lt}}}" if lam else rf"{Wt} = \frac{{1}}{{n}}\sum_i {y}_i"),
                       lambda d, y=y, lam=lam: np.sum(d[y]) / (d[y].size + (float(d[lam]) if lam else 0.0)),
                       lambda d, y=y, lam=lam: [d[y].size, float(d[lam]) if lam else 0.0],
                       ("n", L), ("n", Lt))
            for x in vecs:
                if x == y:
                    continue
                for lam in [None] + scalars:
                    L, Lt = _sym(lam) if lam else ("", "")
                    xs, ys = _sym(x)[0], _sym(y)[0]
                    yield (f"{W} = Σ{xs}ᵢ{ys}ᵢ/(Σ{xs}ᵢ² + {L})" if lam else f"{W} = Σ{xs}ᵢ{ys}ᵢ/Σ{xs}ᵢ²",
                           (rf"{Wt} = \frac{{\sum_i {x}_i {y}_i}}{{\sum_i {x}_i^2 + {Lt}}}" if lam else
                            rf"{Wt} = \frac{{\sum_i {x}_i {y}_i}}{{\sum_i {x}_i^2}}"),
                           lambda d, x=x, y=y, lam=lam: np.sum(np.ravel(d[x]) * np.ravel(d[y])) /
                           (np.sum(d[x] ** 2) + (float(d[lam]) if lam else 0.0)),
                           lambda d, x=x, lam=lam: [np.sum(d[x] ** 2), float(d[lam]) if lam else 0.0],
                           (f"Σ{xs}ᵢ²", L), (rf"\sum_i {x}_i^2", Lt))
        return
    if len(shape) == 2 and shape[0] == shape[1] > 1:      # the nearest symmetric matrix (seed 002 §8 ex. 8)
        for A in mats:
            if data[A].shape == shape:
                As = _sym(A)[0]
                yield (f"{W} = ½({As} + {As}ᵀ)", rf"{Wt} = \tfrac{{1}}{{2}}({A} + {A}^\top)",
                       lambda d, A=A: (d[A] + d[A].T) / 2, lambda d: [np.eye(prob.n), 0 * np.eye(prob.n)],
                       ("I", ""), ("I", ""))
    for X in mats:
        for y in vecs + [m for m in mats if m != X]:
            for lam in [None] + scalars:
                Xs, ys = _sym(X)[0], _sym(y)[0]
                L, Lt = _sym(lam) if lam else ("", "")

                def value(d, X=X, y=y, lam=lam):
                    A = d[X].T @ d[X] + (float(d[lam]) if lam else 0.0) * np.eye(d[X].shape[1])
                    rhs = d[X].T @ (d[y].reshape(d[X].shape[0], -1))
                    return np.linalg.solve(A, rhs)
                yield (f"{W} = ({Xs}ᵀ{Xs} + {L}I)⁻¹{Xs}ᵀ{ys}" if lam else f"{W} = ({Xs}ᵀ{Xs})⁻¹{Xs}ᵀ{ys}",
                       (rf"{Wt} = ({X}^\top {X} + {Lt} I)^{{-1}} {X}^\top {y}" if lam else
                        rf"{Wt} = ({X}^\top {X})^{{-1}} {X}^\top {y}"),
                       value,
                       lambda d, X=X, lam=lam: [np.kron(np.eye(_cols(prob, w, d[X])), d[X].T @ d[X]),
                                                (float(d[lam]) if lam else 0.0) * np.eye(prob.n)],
                       (f"{Xs}ᵀ{Xs}", f"{L}I" if lam else ""), (rf"{X}^\top {X}", rf"{Lt} I" if lam else ""))
        # the mean of the rows (a Gaussian's μ̂ = x̄)
        yield (f"{W} = x̄ (the mean of the rows of {_sym(X)[0]})", rf"{Wt} = \bar x = \frac{{1}}{{n}}\sum_i x_i",
               lambda d, X=X: d[X].mean(axis=0), lambda d, X=X: [d[X].shape[0] * np.eye(prob.n), 0 * np.eye(prob.n)],
               ("n I", ""), ("n I", ""))


def _cols(prob, w, X):
    s = prob.shapes[w]
    return 1 if len(s) < 2 else s[1]


def _nice(c):
    f = Fraction(c).limit_denominator(12)
    if abs(float(f) - c) > 1e-9 * (1 + abs(c)):
        return None
    return f


def _coef_text(f, tex=False):
    if f == 1:
        return ""
    if f.denominator == 1:
        return str(f.numerator)
    return rf"\frac{{{f.numerator}}}{{{f.denominator}}}" if tex else f"({f.numerator}/{f.denominator})"


def _name_closed_form(g, prob, sol, H):
    """The first template that matches the numeric solution here and on three random data sets."""
    data = _data_inputs(g, prob)
    theta = _flat(sol.point, prob.wrt)
    Hs = (H + H.T) / 2
    for text, tex, value, hparts, htext, htex in _templates(prob, data) or ():
        try:
            if not _matches(value(data), theta, prob):
                continue
            draws = _random_data_solutions(g, prob, data, value)
            if draws is None:
                continue
            a, b = _hessian_coefs([(hparts(data), Hs)] + [(hparts(d), h) for d, h in draws])
        except (ValueError, np.linalg.LinAlgError, KeyError, IndexError, TypeError):
            continue
        sol.formula, sol.formula_tex = text, tex
        if a is None:             # e.g. −XᵀX/σ²: the Hessian is not a fixed multiple of the template's parts
            return
        A, B = htext
        At, Bt = htex
        parts = [f"{_coef_text(a)}{A}"] + ([f"{_coef_text(b)}{B}"] if B and b else [])
        tparts = [f"{_coef_text(a, True)}{At}"] + ([f"{_coef_text(b, True)}{Bt}"] if Bt and b else [])
        sol.hessian_formula, sol.hessian_tex = " + ".join(parts), " + ".join(tparts)
        return


def _matches(candidate, theta, prob):
    c = np.ravel(np.asarray(candidate, dtype=float))
    return c.size == theta.size and np.allclose(c, theta, rtol=1e-8, atol=1e-10)


def _hessian_coefs(cases):
    """H = a·A + b·B for every (parts, H) case, with small rational a, b, else (None, None)."""
    rows, target = [], []
    for parts, H in cases:
        A, B = (np.asarray(p, dtype=float).reshape(H.shape) for p in parts)
        rows.append(np.stack([A.ravel(), B.ravel()], axis=1))
        target.append(H.ravel())
    M, h = np.concatenate(rows), np.concatenate(target)
    if not np.any(M[:, 1]):
        M = M[:, :1]
    coef, *_ = np.linalg.lstsq(M, h, rcond=None)
    if not np.allclose(M @ coef, h, rtol=1e-8, atol=1e-9 * (1 + np.abs(h).max())):
        return None, None
    a = _nice(coef[0])
    b = _nice(coef[1]) if len(coef) > 1 else Fraction(0)
    return (a, b) if a is not None and b is not None else (None, None)


def _random_data_solutions(g, prob, data, value, draws=3):
    """``[(data, Hessian)]`` for random data of the same shapes where the template equals the
    numeric stationary point, or None if it does not for one of them."""
    rng = np.random.default_rng(7)
    out = []
    for _ in range(draws):
        fake = {}
        for k, v in data.items():
            fake[k] = rng.uniform(0.5, 2.0, size=v.shape) if v.size == 1 else rng.normal(size=v.shape)
            if v.size == 1:
                fake[k] = float(fake[k].ravel()[0]) if v.ndim == 0 else fake[k]
        trial = _Problem(g, prob.wrt, {**prob.at, **{k: _value(v) for k, v in fake.items()}})
        H, c, affine = _affine(trial, trial.start)
        if not affine:
            return None
        theta = np.linalg.lstsq((H + H.T) / 2, -c, rcond=None)[0]     # least norm, as _solve_affine
        d = {k: np.asarray(v, dtype=float) for k, v in fake.items()}
        if not _matches(value(d), theta, trial):
            return None
        out.append((d, (H + H.T) / 2))
    return out


# --- leave-one-out choice of a penalty (seed 002 §5.2 ex. 5в) ------------------------------------------

@dataclass
class LeaveOneOut:
    """λ chosen by leave-one-out cross-validation, and the solution refitted with it."""
    name: str                       # the penalty's input (lambda)
    best: float                     # λ_CV
    score: float                    # CV(λ_CV): the sum of the held-out losses
    n: int                          # observations
    table: list                     # [(λ, CV(λ))] on the scan grid
    solution: Solution              # the unknowns at λ_CV (on all the data)

    def to_json(self) -> dict:
        return {"name": self.name, "best": self.best, "score": self.score, "n": self.n,
                "table": self.table, "solution": self.solution.to_json()}


def leave_one_out(g, wrt, penalty: str, at=None, upper: float = 100.0) -> LeaveOneOut:
    """Choose ``penalty`` ≥ 0 by leave-one-out: for each observation i (row i of every data input
    with n rows) solve on the others, then score the program on row i alone with the penalty set
    to 0 (the data term); CV(λ) is the sum over i.  A scan of [0, ``upper``] then a bounded
    scalar minimisation (scipy) around the best grid point.  The unknowns' gradient must be
    affine (each refit is exact)."""
    from scipy.optimize import minimize_scalar
    wrt = _wrt(g, wrt)
    at = dict(at or {})
    node = g.node(penalty)
    if node.kind != "input" or penalty in wrt:
        raise InputError(f"--loo {penalty}: expected an input that is not an unknown", kind="usage")
    data = {n.name: np.asarray(at.get(n.name, n.default), dtype=float) for n in g.nodes
            if n.kind == "input" and n.name not in wrt and n.name != penalty and at.get(n.name, n.default) is not None}
    sizes = [v.shape[0] for v in data.values() if v.ndim >= 1 and v.shape[0] > 1]
    if not sizes:
        raise InputError("leave-one-out needs data: an input with one row per observation", kind="value")
    n = max(set(sizes), key=sizes.count)
    rows = [k for k, v in data.items() if v.ndim >= 1 and v.shape[0] == n]

    def fitted(lam, keep):
        trial_at = {**at, penalty: float(lam), **{k: _value(data[k][keep]) for k in rows}}
        prob = _Problem(g, wrt, trial_at)
        H, c, affine = _affine(prob, prob.start)
        if not affine:
            raise InputError("leave-one-out here needs a gradient affine in the unknowns "
                             "(least squares, ridge, a penalised mean)", kind="value")
        theta = np.linalg.lstsq((H + H.T) / 2, -c, rcond=None)[0]
        return prob, theta

    def cv(lam):
        total = 0.0
        for i in range(n):
            keep = np.arange(n) != i
            prob, theta = fitted(lam, keep)
            held = {**at, penalty: 0.0, **{k: _value(data[k][i:i + 1]) for k in rows}, **prob.split(theta)}
            test = _Problem(g, wrt, held)
            total += test.value(theta)
        return total

    grid = np.concatenate([[0.0], np.geomspace(1e-3, upper, 60)])
    table = [(float(lam), cv(lam)) for lam in grid]
    k = int(np.argmin([v for _, v in table]))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    best, score = table[k]
    if hi > lo:
        res = minimize_scalar(cv, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
        if res.fun <= score:
            best, score = float(res.x), float(res.fun)
    sol = solve(g, wrt, at={**at, penalty: best})
    return LeaveOneOut(penalty, best, score, n, table, sol)
