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

import numpy as np

from ..core.errors import InputError
from ..core.graph import parameters
from .closed_forms import name_closed_form
from .objective import Problem as _Problem, affine_gradient as _affine, as_value as _value, flat as _flat



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
    if affine and sol.kind in ("minimum", "maximum") and sol.kind != ("maximum" if maximize else "minimum"):
        sol.notes.append(f"asked for a {'maximum' if maximize else 'minimum'}: the only stationary point is a "
                         f"{sol.kind}, so {g.output} has no {'maximum' if maximize else 'minimum'}")
    if affine:
        name_closed_form(g, prob, sol, H)
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
        sol.gradient_formula, sol.gradient_tex = f.display(g.notation.name), f.latex(getattr(g, "tex_names", None))


def _wrt(g, wrt):
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    if not wrt:
        wrt = parameters(g) or list(g.variables)
    if not wrt:
        raise InputError("which unknowns? give --wrt (e.g. --wrt w); no input is named like a parameter",
                         kind="usage")
    return list(dict.fromkeys(wrt))


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
                             f"{', '.join(prob.wrt)} {'grows' if len(prob.wrt) == 1 else 'grow'} along {np.round(d, 3).tolist()} "
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


def _symmetric_use(g, name) -> bool:
    """Whether the program uses ``name`` as a symmetric matrix: under det or an inverse (a covariance),
    or as S + Sᵀ."""
    i = g.index(name)
    seen, stack = set(), [i]
    while stack:
        j = stack.pop()
        for k in g.consumers[j]:
            if k in seen:
                continue
            seen.add(k)
            node = g.nodes[k]
            if node.op in ("det", "inv"):
                return True
            if node.op == "add" and i in node.args and any(
                    g.nodes[a].op == "transpose" and g.nodes[a].args == (i,) for a in node.args):
                return True
            stack.append(k)
    return False


def _symmetric_directions(prob, sol, H):
    """A square matrix unknown that comes out symmetric (a covariance Σ̂): classify on symmetric
    directions, where det and the inverse are usually meant (in all n² entries S₁₂ and S₂₁
    pull apart and the point looks like a saddle)."""
    if len(prob.wrt) != 1 or not _symmetric_use(prob.g, prob.wrt[0]):
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
