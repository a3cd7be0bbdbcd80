r"""What the sheets ask about a scalar function f(t), each answer checked numerically.

:func:`function_facts` gives, for ``sigmoid(t)``, ``tanh(t)`` or ``f(t) = \frac{e^t}{1+e^t}``:

* f(0), f′(0) and ln f(0);
* the limits t → +∞ and t → −∞ (SymPy's ``limit``; checked at t = ±40 and ±80: the values
  approach it, or grow past 10⁶ for an infinite limit);
* symmetry: f(−t) = f(t), f(−t) = −f(t) or f(−t) = 2f(0) − f(t) (σ(−t) = 1 − σ(t)), and the
  same for f′ — each a :func:`graphviz_bp.algorithms.prove.prove_exprs` verdict;
* f′ in terms of f: the polynomial a + b·f + c·f² fitted at random points, its coefficients
  made exact, then proved (σ′ = σ(1 − σ), tanh′ = 1 − tanh²); d ln f/dt = f(−t) when it holds;
* the maximum of f′ and where (zeros of f″, compared with a grid of 20,001 points on [−50, 50]);
* the inverse f⁻¹ where SymPy's ``solve`` finds one, checked by f(f⁻¹(y)) = y at points of the range;
* the range: (lim −∞, lim +∞) when f′ has one sign on the grid, else the grid's min and max.

A fact whose numeric check fails is kept with ``ok=False`` (shown as *not confirmed*), never
shown as true.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..core.errors import InputError, LimitError
from ..core.limits import check_deadline, current as current_limits
from .claims import _clip, _fname, _HEADER, _Side, _sp, expand_definitions, split_equations
from .prove import hard_timeout, numeric, prove_exprs


@dataclass
class Fact:
    """One answer: ``what`` (e.g. ``lim t→+∞ f(t)``), its ``value`` (SymPy or text), how it was
    checked, and whether the check passed."""
    what: str
    value: object
    check: str
    ok: bool = True
    where: object = None          # for a maximum: the point


@dataclass
class FunctionFacts:
    name: str                     # f, or the function's name (sigmoid)
    var: str
    expr: object                  # as read (σ kept)
    explicit: object              # definitions expanded
    facts: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"function": f"{self.name}({self.var})", "expression": str(self.explicit),
                "facts": [{"what": f.what, "value": str(f.value), "check": f.check, "ok": f.ok,
                           **({"where": str(f.where)} if f.where is not None else {})} for f in self.facts]}


def read_function(text: str, syntax: str = "auto"):
    """``(name, variable, SymPy expression)`` of ``sigmoid(t)`` or ``f(t) = …``."""
    eqs, latex = split_equations(text) if "=" in text else ([], None)
    if latex is None:
        from ..reading.latex import looks_like_latex
        latex = looks_like_latex(text)
    latex = True if syntax == "latex" else False if syntax == "plain" else latex
    sp = _sp()
    if eqs:
        left, rel, right = eqs[-1]
        m = _HEADER.match(left)
        if rel != "=" or not m or "," in m.group(2):
            raise InputError(f"expected a function of one variable, e.g. f(t) = e^t/(1 + e^t): {_clip(text)!r}",
                             kind="usage")
        name, var = _fname(m.group(1)), m.group(2).strip()
        expr = _Side(latex, {}).expr(right)
    else:
        body = text.strip().strip("$").strip()
        expr = _Side(latex, {}).expr(body)
        syms = sorted(expr.free_symbols, key=lambda s: s.name)
        if len(syms) != 1:
            raise InputError(f"expected a function of one variable, e.g. sigmoid(t); "
                             f"{_clip(body)!r} has {len(syms)}", kind="usage")
        var = syms[0].name
        fns = [f for f in expr.atoms(sp.Function)]
        name = _fname(fns[0].func.__name__) if len(fns) == 1 and fns[0].args[0] == syms[0] else "f"
    if expr.free_symbols != {sp.Symbol(var, real=True)}:
        raise InputError(f"{name}({var}) must depend on {var} alone", kind="usage")
    return name, var, expr


def _num(e, t, value):
    v = numeric(e, {t: value})
    return None if v is None else float(v)


def function_facts(text: str, syntax: str = "auto", timeout: float | None = None) -> FunctionFacts:
    """The facts of the one-variable function in ``text`` (see the module docstring)."""
    sp = _sp()
    name, var, expr = read_function(text, syntax)
    t = sp.Symbol(var, real=True)
    explicit, _ = expand_definitions(expr)
    timeout = current_limits().time_budget_s if timeout is None else timeout
    out = FunctionFacts(name, var, expr, explicit)
    f = f"{name}"
    d1 = sp.diff(explicit, t)
    d2 = sp.diff(d1, t)

    def guarded(label, work):
        try:
            with hard_timeout(timeout):            # per part; the CLI bounds the whole command
                work()
        except LimitError as exc:
            out.facts.append(Fact(label, "—", f"not found: {exc.message}", ok=False))
        except (TypeError, ValueError, NotImplementedError, ZeroDivisionError) as exc:
            out.facts.append(Fact(label, "—", f"SymPy could not find it ({type(exc).__name__})", ok=False))
        check_deadline("the facts of the function")

    guarded("values at 0", lambda: _at_zero(sp, out, f, var, t, explicit, d1))
    limits = {}
    guarded("limits", lambda: _limits(sp, out, f, var, t, explicit, limits))
    guarded("symmetry", lambda: _symmetry(sp, out, f, var, t, explicit, d1))
    guarded(f"{f}′ in terms of {f}", lambda: _self_derivative(sp, out, f, var, t, explicit, d1))
    guarded(f"maximum of {f}′", lambda: _max_derivative(sp, out, f, var, t, d1, d2))
    guarded(f"inverse {f}⁻¹", lambda: _inverse(sp, out, f, var, t, explicit, limits))
    guarded("range", lambda: _range(sp, out, f, var, t, explicit, d1, limits))
    return out


def _close(a, b, tol=1e-9):
    return a is not None and b is not None and abs(a - b) <= tol * (1 + abs(a) + abs(b))


def _at_zero(sp, out, f, var, t, e, d1):
    for label, ex in ((f"{f}(0)", e), (f"{f}′(0)", d1)):
        v = sp.simplify(ex.subs(t, 0))
        direct = _num(ex, t, 0.0)
        out.facts.append(Fact(label, v, "the expression evaluated at 0 to 60 digits",
                              ok=_close(float(v), direct) if v.is_real and v.is_finite else False))
    v0 = sp.simplify(e.subs(t, 0))
    if v0.is_positive:
        lv = sp.simplify(sp.log(v0))
        out.facts.append(Fact(f"ln {f}(0)", lv, f"ln of {f}(0) = {v0}", ok=_close(float(lv), math.log(float(v0)))))


def _limits(sp, out, f, var, t, e, limits):
    for sign, label in ((1, "+∞"), (-1, "−∞")):
        L = sp.limit(e, t, sign * sp.oo)
        limits[sign] = L
        near, far = _num(e, t, sign * 40.0), _num(e, t, sign * 80.0)
        if L.is_finite:
            ok = far is not None and abs(far - float(L)) <= max(abs(near - float(L)), 1e-12) and \
                abs(far - float(L)) < 1e-6
            check = f"{f}({sign * 40}) = {near:.6g}, {f}({sign * 80}) = {far:.6g}"
        elif L in (sp.oo, -sp.oo):
            s = 1 if L == sp.oo else -1
            ok = far is not None and near is not None and s * far > s * near > 10
            check = f"{f}({sign * 40}) = {near:.3g}, {f}({sign * 80}) = {far:.3g}"
        else:
            ok, check = False, "no limit"
        out.facts.append(Fact(f"lim {var}→{label} {f}({var})", L, check, ok))


def _symmetry(sp, out, f, var, t, e, d1):
    """Even, odd, or symmetric about (0, f(0)): the first that holds, for f and for f′."""
    for ex, fl in ((e, ""), (d1, "′")):
        c0 = sp.simplify(ex.subs(t, 0))
        g = f"{f}{fl}"
        candidates = [(f"{g}(−{var}) = {g}({var})", ex)]
        if c0 == 0:
            candidates.append((f"{g}(−{var}) = −{g}({var})", -ex))
        else:
            candidates.append((f"{g}(−{var}) = {sp.sstr(2 * c0)} − {g}({var})", 2 * c0 - ex))
        for rel, rhs in candidates:
            v = prove_exprs(ex.subs(t, -t), rhs, claim=rel)
            if v.status != "false":
                out.facts.append(Fact(f"symmetry of {g}", rel, f"{v.status}; checked at {v.points} points"))
                break


def _fit(sp, t, d1, e):
    """Exact a, b, c with f′ = a + b·f + c·f² at 12 points (least squares), or None."""
    import numpy as np
    pts = [-2.3, -1.1, -0.7, -0.2, 0.3, 0.9, 1.4, 2.2, 0.05, -1.7, 1.9, 0.6]
    rows, rhs = [], []
    for p in pts:
        fv, dv = _num(e, t, p), _num(d1, t, p)
        if fv is None or dv is None:
            continue
        rows.append([1.0, fv, fv * fv])
        rhs.append(dv)
    if len(rows) < 6:
        return None
    coef, res, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    if np.max(np.abs(np.array(rows) @ coef - np.array(rhs))) > 1e-8:
        return None
    exact = [sp.nsimplify(round(c, 9), rational=True) for c in coef]
    if any(q.q > 100 for q in exact):
        return None
    return exact


def _self_derivative(sp, out, f, var, t, e, d1):
    coef = _fit(sp, t, d1, e)
    if coef is not None:
        F = sp.Symbol(f"{f}", real=True)
        a, b, c = coef
        # as the sheets write it: σ(1 − σ), 1 − tanh², f
        poly = sp.Mul(F, b + c * F, evaluate=False) if a == 0 and b != 0 and c != 0 else a + b * F + c * F ** 2
        v = prove_exprs(d1, poly.subs(F, e), claim=f"{f}′ = {poly}")
        if v.status != "false":
            out.facts.append(Fact(f"{f}′ in terms of {f}", f"{f}′({var}) = " + sp.sstr(poly).replace("**", "^").replace("*", "·").replace(f, f"{f}({var})"),
                                  f"{v.status}; checked at {v.points} points"))
    if e.subs(t, 0).is_positive and all((_num(e, t, p) or -1) > 0 for p in (-30.0, -3.0, 0.0, 3.0, 30.0)):
        dlog = sp.diff(sp.log(e), t)
        for rel, rhs in ((f"d ln {f}({var})/d{var} = {f}(−{var})", e.subs(t, -t)),
                         (f"d ln {f}({var})/d{var} = 1 − {f}({var})", 1 - e)):
            v = prove_exprs(dlog, rhs, claim=rel)
            if v.status != "false":
                out.facts.append(Fact(f"d ln {f}/d{var}", rel, f"{v.status}; checked at {v.points} points"))
                break


def _grid(e, t, lo=-50.0, hi=50.0, n=20001):
    """Values of e on a grid (float64 through SymPy's lambdify of the expanded expression)."""
    import numpy as np
    sp = _sp()
    xs = np.linspace(lo, hi, n)
    with np.errstate(all="ignore"):
        f = sp.lambdify(t, e, modules="numpy")
        ys = np.broadcast_to(np.asarray(f(xs), dtype=float), xs.shape)
    return xs, ys


def _max_derivative(sp, out, f, var, t, d1, d2):
    import numpy as np
    crit = [c for c in sp.solve(sp.Eq(d2, 0), t) if c.is_real]
    if not crit:
        return
    vals = [(sp.simplify(d1.subs(t, c)), c) for c in crit]
    best, where = max(vals, key=lambda p: float(p[0]))
    xs, ys = _grid(d1, t)
    ok_ys = ys[np.isfinite(ys)]
    ok = ok_ys.size > 0 and float(np.max(ok_ys)) <= float(best) + 1e-12 and \
        _close(_num(d1, t, float(where)), float(best))
    out.facts.append(Fact(f"max {f}′", best, f"grid of {xs.size} points on [−50, 50]: max {float(np.max(ok_ys)):.6g}",
                          ok, where=where))


def _inverse(sp, out, f, var, t, e, limits):
    y = sp.Symbol("y", real=True)
    sols = sp.solve(sp.Eq(y, e), t)
    lo, hi = limits.get(-1), limits.get(1)
    if lo is None or hi is None or not (lo.is_finite or lo == -sp.oo):
        return
    a, b = sorted([lo, hi], key=lambda v: float(v) if v.is_finite else (-1e300 if v == -sp.oo else 1e300))
    pa = float(a) if a.is_finite else (float(b) - 10 if b.is_finite else -5.0)
    pb = float(b) if b.is_finite else pa + 10
    probes = [pa + (pb - pa) * k / 10 for k in (1, 3, 5, 7, 9)]
    for s in sols:
        s = _tidy_log(sp, s)
        good = 0
        for p in probes:
            tv = _num(s, y, p)
            if tv is not None and _close(_num(e, t, tv), p, 1e-12):
                good += 1
        if good == len(probes):
            shown = s.subs(y, t)
            out.facts.append(Fact(f"{f}⁻¹({var})", shown,
                                  f"{f}({f}⁻¹(y)) = y at y = " + ", ".join(f"{p:.3g}" for p in probes)))
            return


def _tidy_log(sp, s):
    """ln(−y/(y − 1)) → ln(y/(1 − y)), as a sheet writes it."""
    def fix(arg):
        num, den = sp.fraction(sp.together(arg))
        if num.could_extract_minus_sign():
            return sp.Mul(-num, sp.Pow(-den, -1))
        return arg
    s = s.replace(lambda x: isinstance(x, sp.log) and isinstance(x.args[0], sp.Pow) and x.args[0].exp == sp.S.Half,
                  lambda x: sp.Mul(sp.S.Half, sp.log(x.args[0].base), evaluate=False))
    return s.replace(lambda x: isinstance(x, sp.log), lambda x: sp.log(fix(x.args[0])))


def _range(sp, out, f, var, t, e, d1, limits):
    import numpy as np
    xs, dys = _grid(d1, t, -12.0, 12.0)      # beyond |t| ≈ 15 f′ of tanh cancels to 0 in float64
    _, ys = _grid(e, t, -12.0, 12.0)
    finite = np.isfinite(dys)
    if finite.all() and (np.all(dys > 0) or np.all(dys < 0)) and -1 in limits and 1 in limits:
        lo, hi = sorted([limits[-1], limits[1]], key=lambda v: float(v) if v.is_finite else
                        (-1e300 if v == -sp.oo else 1e300))
        word = "increasing" if dys[0] > 0 else "decreasing"
        ok = bool(np.all(ys[np.isfinite(ys)] >= (float(lo) if lo.is_finite else -np.inf)) and
                  np.all(ys[np.isfinite(ys)] <= (float(hi) if hi.is_finite else np.inf)))
        out.facts.append(Fact(f"range of {f}", f"({lo}, {hi})",
                              f"{f}′ {'>' if word == 'increasing' else '<'} 0 on a grid of {xs.size} points of [−12, 12] "
                              f"({word}): the range is between the limits", ok))
    else:
        ok_ys = ys[np.isfinite(ys)]
        if ok_ys.size:
            out.facts.append(Fact(f"range of {f} (numeric)", f"[{ok_ys.min():.6g}, {ok_ys.max():.6g}] on [−12, 12]",
                                  f"grid of {xs.size} points", True))
