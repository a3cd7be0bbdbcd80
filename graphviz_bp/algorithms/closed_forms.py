"""Closed forms for :func:`graphviz_bp.algorithms.solve.solve`, named from templates.

When the gradient is affine, the stationary point is known numerically and exactly; this module
names it: w = (XᵀX)⁻¹Xᵀy, (XᵀX + λI)⁻¹Xᵀy, Σxᵢyᵢ/Σxᵢ², Σyᵢ/(n + λ), the mean of the rows x̄,
½(A + Aᵀ), and the Hessian as a·XᵀX + b·λI (a, b small fractions).  A template is matched against
the inputs by shape; it is shown only when it equals the numeric solution at the given numbers *and*
at three random data sets of the same shapes (each solved again, exactly); the Hessian's
coefficients are fitted over all four data sets.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .objective import Problem as _Problem, affine_gradient as _affine, as_value as _value, flat as _flat


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


def name_closed_form(g, prob, sol, H):
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
