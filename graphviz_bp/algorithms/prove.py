r""""Show that LHS = RHS": a verdict with the chain of rewrites a student would write.

:func:`prove` reads a claim (plain notation or LaTeX), turns both sides into SymPy
expressions through the project's readers, and rewrites both sides by the same
stages until they meet:

1. the definitions expanded: σ(u) = 1/(1 + e^{−u}), softplus(u) = ln(1 + e^u),
   tanh(u) = (e^u − e^{−u})/(e^u + e^{−u}), ReLU and, when the claim uses indicators,
   sign(u) = 1{u > 0} − 1{u < 0};
2. the derivatives taken (d|u|/du = sign(u), with abs'(0) = 0 as the sheets write it);
3. the log rules (ln(ab) = ln a + ln b, ln(1/a) = −ln a, ln e^a = a);
4. the exp rules (e^a·e^b = e^{a+b});
5. "let u = e^{x/k}" when every exponential is e^{c·x} of one variable: the sides become
   rational in u;
6. a common denominator and the common factor cancelled;
7. SymPy's ``simplify`` of the difference, or a proof by cases (x > 0, x = 0, x < 0) for
   piecewise sides.

The verdict is ``proved`` (with that chain), ``holds numerically`` (no chain found, but both
sides agree at every test point) or ``false`` (a counterexample).  Every verdict is guarded by
numbers: both sides *as read* (derivatives by mpmath's numerical differentiation, not by
SymPy) are compared at 60-digit precision at ~50 points, including 0, ±1 and large |x|
(±30, ±100).  A chain the numbers contradict is reported as ``false``, never as proved.

Accepted: ``f'(x)``, ``\sigma'(x)``, ``\frac{d}{dx} f(x)``, ``\frac{d \ln f(t)}{dt}``,
``d/dx(…)``, ``f(-t)`` for a function ``f(t) = …`` defined earlier in the same text,
indicators ``1[x > 0]`` / ``\mathbb{1}_{\{x > 0\}}``, ``\tanh^2(x)``, ``\ln \sigma(x)``, and
the relations ``<``, ``>``, ``\le``, ``\ge`` (checked numerically only).  Vector claims
(``sum(softmax(o)) = 1``) are checked numerically with vectors of 2 to 6 entries.
"""
from __future__ import annotations

import contextlib
import random
import signal
import threading
from dataclasses import dataclass, field

from ..core.errors import InputError, LimitError
from ..core.limits import check_deadline, current as current_limits
from .claims import (_VEC, DEFINITIONS, _clip, _fname, _HEADER, _Side, _side, _sp, _Vector, builtin,  # noqa: F401
                     expand_definitions, fn, graph_to_sympy, indicator, e_note, read_claim,
                     split_equations)

DPS = 60                    # digits of the numeric check: 1 − σ(100) keeps 16 digits
_TOL = 1e-20                # |L − R| ≤ tol·(1 + |L| + |R|) at 60 digits
_MAX_OPS = 400              # SymPy operations in one side before the rewriting gives up

STATUSES = ("proved", "holds numerically", "false")


# --- results ---------------------------------------------------------------------------------

@dataclass
class Step:
    """One link of the chain: ``= expr`` with the rule used (``note``) to get there; ``side`` says
    whether the rule rewrote the left side forwards or the right side (read backwards)."""
    expr: object
    note: str
    side: str = "left"


@dataclass
class Verdict:
    """The answer to "show that LHS = RHS"."""
    status: str                          # proved | holds numerically | false
    claim: str                           # the claim as read, in the plain notation
    lhs: object                          # SymPy expressions as read
    rhs: object
    relation: str = "="
    chain: list = field(default_factory=list)     # Step list from LHS to RHS (proved only)
    variables: list = field(default_factory=list)
    points: int = 0                      # test points where both sides were defined
    counterexample: dict | None = None   # {"at": {x: value}, "lhs": v, "rhs": v}
    max_difference: float = 0.0
    definitions: dict = field(default_factory=dict)  # f -> (vars, expr) read from the text
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "false"

    def to_json(self) -> dict:
        return {"status": self.status, "claim": self.claim, "relation": self.relation,
                "lhs": str(self.lhs), "rhs": str(self.rhs),
                "chain": [{"expr": str(s.expr), "note": s.note, "side": s.side} for s in self.chain],
                "variables": self.variables, "points": self.points,
                "counterexample": self.counterexample, "max_difference": self.max_difference,
                "note": self.note}


# --- the numeric guard ---------------------------------------------------------------------------

def _outermost(e, types):
    found, stack = [], [e]
    while stack:
        x = stack.pop()
        if isinstance(x, types):
            found.append(x)
        else:
            stack.extend(x.args)
    return found


def numeric(e, env: dict):
    """``e`` at ``env`` ({Symbol: number}) to 60 digits, an mpmath number, or None when undefined.

    Derivatives are taken by mpmath's numerical differentiation of the expression as read (not
    by SymPy's ``diff``), so the check does not share the rewriting's algebra."""
    sp = _sp()
    import mpmath
    # mpmath.diff raises the precision for its steps: evaluate at that precision, never below DPS
    with mpmath.workdps(max(DPS, mpmath.mp.dps)):
        dps = mpmath.mp.dps
        reps = {}
        for d in _outermost(e, (sp.Derivative, sp.Subs)):
            if isinstance(d, sp.Subs):
                inner_env = dict(env)
                for var, point in zip(d.variables, d.point):
                    p = numeric(point, env)
                    if p is None:
                        return None
                    inner_env[var] = p
                v = numeric(d.expr, inner_env)
            else:
                (var, n), = d.variable_count
                at = env.get(var)
                if at is None:
                    return None

                def f(t, d=d, var=var):
                    r = numeric(d.expr, {**env, var: t})
                    if r is None:
                        raise ValueError
                    return r
                try:
                    v = mpmath.diff(f, mpmath.mpf(at), int(n))
                except (ValueError, ZeroDivisionError):
                    return None
            if v is None:
                return None
            reps[d] = sp.Float(v, dps)
        e = e.xreplace(reps) if reps else e
        e, _ = expand_definitions(e, with_sign=False)
        e = e.xreplace({s: sp.Float(v, dps) for s, v in env.items()})
        try:
            v = sp.N(e, dps)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        if v.is_Boolean or not v.is_number:
            return None
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not v.is_real:
            if v.is_real is None:
                try:
                    c = complex(v)
                except TypeError:
                    return None
                if abs(c.imag) > 1e-30 * (1 + abs(c.real)):
                    return None
                return mpmath.mpf(c.real)
            return None
        return mpmath.mpf(v)


def sample_points(variables, n=48, seed=0, kinks=False):
    """Points for the numeric check: 0, ±1, ±½ and large |x| (±30, ±100), then random ones
    (normal, in (0, 1), positive), so a function defined on (0, 1) or (0, ∞) is tested too."""
    rng = random.Random(seed)
    special = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 30.0, -30.0, 100.0, -100.0]
    if kinks:
        special = [s for s in special if s != 0.0]
    pts = []
    if len(variables) == 1:
        pts = [{variables[0]: s} for s in special]
    for _ in range(n):
        kind = rng.random()
        point = {}
        for v in variables:
            if kind < 0.5:
                point[v] = rng.gauss(0, 3)
            elif kind < 0.75:
                point[v] = rng.random()
            elif kind < 0.9:
                point[v] = rng.expovariate(0.3)
            else:
                point[v] = rng.choice([-1, 1]) * rng.uniform(10, 60)
        pts.append(point)
    return pts


def check_numerically(lhs, rhs, relation="=", seed=0):
    """``(points where both sides are defined, counterexample or None, max |L − R|)``."""
    syms = sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)
    names = [s.name for s in syms]
    kinks = _has_kink_derivative(lhs) or _has_kink_derivative(rhs)
    good, worst = 0, 0.0
    for k, point in enumerate(sample_points(names, seed=seed, kinks=kinks)):
        if not k % 8:
            check_deadline("the numeric check of the claim")
        env = {s: point[s.name] for s in syms}
        lv, rv = numeric(lhs, env), numeric(rhs, env)
        if lv is None or rv is None:
            continue
        good += 1
        diff = abs(lv - rv)
        scale = 1 + abs(lv) + abs(rv)
        holds = {"=": diff <= _TOL * scale, "<": lv < rv, ">": lv > rv,
                 "<=": lv <= rv + _TOL * scale, ">=": lv + _TOL * scale >= rv}[relation]
        if relation == "=":
            worst = max(worst, float(diff / scale))
        if not holds:
            return good, {"at": {n: float(point[n]) for n in names}, "lhs": float(lv), "rhs": float(rv)}, worst
    return good, None, worst


def _has_kink_derivative(e):
    sp = _sp()
    for d in _outermost(e, (sp.Derivative,)):
        if d.expr.has(sp.Abs, sp.sign, sp.Piecewise, sp.Max, sp.Min, fn("relu")):
            return True
    return False


# --- the rewriting -----------------------------------------------------------------------------

@contextlib.contextmanager
def hard_timeout(seconds: float | None):
    """Interrupt SymPy after ``seconds`` (SIGALRM; only in the main thread, elsewhere a no-op:
    there the expression-size caps and the dashboard's worker process bound the work).

    Nests: an inner timeout never outlives an outer one, and the outer one is re-armed with
    what is left of it when the inner block ends."""
    if not seconds or threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "setitimer"):
        yield
        return
    import time
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    start = time.monotonic()
    fire = min(seconds, outer_left) if outer_left > 0 else seconds
    inner_fires = not outer_left or seconds <= outer_left

    def on_alarm(signum, frame):
        raise LimitError(f"the symbolic rewriting ran past {seconds:g} s" if inner_fires else
                         "the computation ran past its time limit")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, fire)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer_left > 0:
            left = outer_left - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


def _exp_variable(sp, exprs):
    """``(x, k)`` when every e^a in ``exprs`` has a = c·x with one variable x and rational c (k the
    lcm of the denominators of c), else None."""
    args = [a.exp for e in exprs for a in e.atoms(sp.exp)]
    if not args:
        return None
    syms = set().union(*(a.free_symbols for a in args))
    if len(syms) != 1:
        return None
    (x,) = syms
    dens = []
    for a in args:
        c = sp.simplify(a / x)
        if not c.is_Rational:
            return None
        dens.append(c.q)
    return x, sp.ilcm(*dens) if len(dens) > 1 else dens[0]


def _exp_to_u(sp, e, x, k, u):
    return e.replace(lambda t: isinstance(t, sp.exp), lambda t: u ** int(sp.simplify(t.exp / x * k)))


def _stages(sp, lhs, rhs, with_sign):
    """Both sides through the rewriting stages: [(note, L, R)], stopping when they meet."""
    out = [("", lhs, rhs)]

    def add(note, f):
        L, R = out[-1][1], out[-1][2]
        L2, R2 = f(L), f(R)
        for side in (L2, R2):
            if sp.count_ops(side) > _MAX_OPS:
                raise LimitError("the rewriting grew past the size a proof can show")
        if L2 != L or R2 != R:
            out.append((note, L2, R2))
        check_deadline("the symbolic rewriting")
        return L2 == R2

    used = []

    def defs(e):
        d, u = expand_definitions(e, with_sign)
        used.extend(t for t in u if t not in used)
        return d
    lhs_d, rhs_d = defs(lhs), defs(rhs)
    if (lhs_d, rhs_d) != (lhs, rhs):
        out.append(("definitions: " + "; ".join(used), lhs_d, rhs_d))
        if lhs_d == rhs_d:
            return out, None
    rule = "differentiate"
    if lhs.has(sp.Abs) and (lhs.has(sp.Derivative) or rhs.has(sp.Derivative)):
        rule += " (d|u|/du = sign(u), abs'(0) = 0 as the sheets write it)"
    if add(rule, lambda e: defs(e.doit()) if e.has(sp.Derivative, sp.Subs) else e):
        return out, None
    if add("log rules: ln(ab) = ln a + ln b, ln(1/a) = −ln a, ln e^a = a",
           lambda e: sp.expand_log(e, force=True)):
        return out, None
    if add("exp rules: e^a·e^b = e^{a+b}", lambda e: sp.powsimp(sp.expand_power_exp(e))):
        return out, None
    L, R = out[-1][1], out[-1][2]
    sub = _exp_variable(sp, [L, R])
    u = None
    if sub:
        x, k = sub
        u = sp.Symbol("u", positive=True)
        shown = f"e^{{{x}}}" if k == 1 else f"e^{{{x}/{k}}}"
        if add(f"let u = {shown}", lambda e: _exp_to_u(sp, e, x, k, u)):
            return out, (u, x, k)
    L, R = out[-1][1], out[-1][2]
    if all(sp.denom(sp.together(e)) == 1 for e in (L, R)) and not (L.has(sp.Piecewise) or R.has(sp.Piecewise)):
        if add("expand the brackets", sp.expand):
            return out, (u, *sub) if sub else None
    if add("common denominator, cancel the common factor", lambda e: sp.factor(sp.cancel(sp.together(e)))):
        return out, (u, *sub) if sub else None
    L, R = out[-1][1], out[-1][2]
    if L.has(sp.Piecewise) or R.has(sp.Piecewise):
        return out, None
    if sp.count_ops(L - R) <= 120 and sp.simplify(L - R) == 0:
        out.append(("simplify", R, R))
    return out, (u, *sub) if sub else None


def _cases(sp, lhs, rhs):
    """Piecewise sides of one variable, compared on x > c, x = c, x < c for each boundary c."""
    syms = lhs.free_symbols | rhs.free_symbols
    if len(syms) != 1:
        return None
    (x,) = syms
    bounds = set()
    for pw in (lhs.atoms(sp.Piecewise) | rhs.atoms(sp.Piecewise)):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.Rel):
                sol = sp.solve(rel.lhs - rel.rhs, x)
                if len(sol) != 1 or not sol[0].is_number:
                    return None
                bounds.add(sol[0])
    if len(bounds) != 1:
        return None
    (c,) = bounds
    p = sp.Symbol("p", positive=True)
    cases = []
    for label, value in ((f"{x} > {c}", c + p), (f"{x} = {c}", c), (f"{x} < {c}", c - p)):
        L = sp.simplify(sp.piecewise_fold(lhs.subs(x, value)))
        R = sp.simplify(sp.piecewise_fold(rhs.subs(x, value)))
        if sp.simplify(L - R) != 0:
            return None
        cases.append((label, L.subs(p, x - c), R.subs(p, x - c)))
    return cases


def prove_exprs(lhs, rhs, relation="=", claim="", definitions=None, timeout=None, seed=0) -> Verdict:
    """The verdict on ``lhs relation rhs`` for SymPy expressions (see :func:`prove`)."""
    sp = _sp()
    claim = claim or f"{lhs} {relation} {rhs}"
    variables = sorted(s.name for s in (lhs.free_symbols | rhs.free_symbols))
    verdict = Verdict("holds numerically", claim, lhs, rhs, relation, variables=variables,
                      definitions=definitions or {})
    chain, note = [], ""
    if relation == "=":
        with_sign = lhs.has(sp.Piecewise) or rhs.has(sp.Piecewise)
        try:
            with hard_timeout(timeout):
                stages, subst = _stages(sp, lhs, rhs, with_sign)
                last_note, L, R = stages[-1]
                if L == R and len(stages) == 1:          # equal as read, once SymPy evaluated the numbers
                    chain = [Step(rhs, "evaluate" if lhs != rhs else "the two sides are the same expression")]
                elif L == R:
                    chain = [Step(s[1], s[0]) for s in stages[1:]]
                    chain += [Step(stages[k][2], stages[k + 1][0], "right")
                              for k in range(len(stages) - 2, -1, -1)]
                    if last_note == "simplify":
                        chain = [Step(s[1], s[0]) for s in stages[1:-1]] + [Step(R, "simplify")]
                        chain += [Step(stages[k][2], stages[k + 1][0], "right")
                                  for k in range(len(stages) - 3, -1, -1)]
                    chain = _dedup(chain, lhs)
                elif L.has(sp.Piecewise) or R.has(sp.Piecewise):
                    cases = _cases(sp, L, R)
                    if cases:
                        chain = [Step(s[1], s[0]) for s in stages[1:]]
                        chain += [Step(sp.Eq(cl, cr), f"case {label}") for label, cl, cr in cases]
                        chain.append(Step(rhs, "in every case both sides agree"))
                        chain = _dedup(chain, lhs)
                if not chain:
                    note = "no chain of rewrites found"
            bad = _first_wrong_step(chain, lhs, subst, seed)
            if bad is not None:       # never show a step the numbers contradict
                note = f"a rewriting step ({chain[bad].note}) failed its numeric check; no proof shown"
                chain = []
        except LimitError as exc:
            note = f"no proof: {exc.message}"
        except (TypeError, ValueError, NotImplementedError, RecursionError, AttributeError) as exc:
            note = f"no proof: SymPy could not rewrite it ({type(exc).__name__})"
    else:
        note = "inequalities are checked numerically"
    points, counter, worst = check_numerically(lhs, rhs, relation, seed)
    verdict.points, verdict.max_difference = points, worst
    if points == 0:
        raise InputError(f"the two sides of {_clip(claim)!r} are not both defined at any test point "
                         f"(tried 0, ±1, ±30, ±100 and random points)", kind="value")
    if counter is not None:
        verdict.status, verdict.counterexample = "false", counter
        verdict.note = "the rewriting claimed equality but the numbers disagree" if chain else ""
        return verdict
    if chain:
        verdict.status, verdict.chain = "proved", chain
    else:
        verdict.note = note
    if _has_kink_derivative(lhs) or _has_kink_derivative(rhs):     # said, not left to be guessed
        kink = ("0 is not among the test points: the derivative has a kink there, where only a convention "
                "(relu′(0) = 0, abs′(0) = sign(0) = 0) gives it a value")
        verdict.note = f"{verdict.note}; {kink}" if verdict.note else kink
    return verdict


def _first_wrong_step(chain, lhs, subst, seed, n=6):
    """Index of the first step of ``chain`` that differs from ``lhs`` at one of ``n`` test points
    (steps in u = e^{x/k} are compared with u put back), or None: each shown step is checked."""
    sp = _sp()
    if not chain:
        return None
    back = {}
    if subst:
        u, x, k = subst
        back = {u: sp.exp(x / k)}
    syms = sorted(lhs.free_symbols, key=lambda s: s.name)
    pts = [p for p in sample_points([s.name for s in syms], n=n, seed=seed + 1, kinks=True)
           if all(abs(v) < 50 for v in p.values())][:n + 4]
    for point in pts:
        env = {s: point[s.name] for s in syms}
        want = numeric(lhs, env)
        if want is None:
            continue
        for i, step in enumerate(chain):
            if isinstance(step.expr, sp.Equality):
                continue
            got = numeric(step.expr.xreplace(back) if back else step.expr, env)
            if got is None or abs(got - want) > 1e-15 * (1 + abs(got) + abs(want)):
                return i
    return None


def _dedup(chain, start):
    out, prev = [], start
    for s in chain:
        if s.expr != prev:
            out.append(s)
            prev = s.expr
    return out


def prove(claim_text: str, syntax: str = "auto", timeout: float | None = None, seed: int = 0) -> Verdict:
    r"""Read ``claim_text`` and decide: ``proved`` (with the chain), ``holds numerically`` or ``false``.

    ``timeout`` (seconds) interrupts SymPy (main thread only); by default the limits'
    time budget.  Vector claims (``sum(softmax(o)) = 1``) are rewritten with o of 3 symbolic
    components and checked numerically for 2 to 6 components.

    >>> prove(r"$\sigma(-t) = 1 - \sigma(t)$").status
    'proved'
    >>> v = prove("sigmoid(x) = tanh(x)"); v.status, sorted(v.counterexample["at"])
    ('false', ['x'])
    """
    left, relation, right, definitions, latex, e_variable = read_claim(claim_text, syntax)
    claim = f"{left} {relation} {right}"
    timeout = current_limits().time_budget_s if timeout is None else timeout
    names = set()
    for _ in range(20):               # the names used as vectors on either side
        _VEC.names = names
        try:
            lhs = _side(left, latex, definitions, e_variable)
            rhs = _side(right, latex, definitions, e_variable)
            break
        except _Vector as exc:
            names.add(exc.args[0])
        finally:
            _VEC.names = set()
    if names:
        _VEC.names = names
        try:
            verdict = _prove_vector(left, relation, right, definitions, latex, e_variable, claim, timeout, seed)
        finally:
            _VEC.names = set()
    else:
        verdict = prove_exprs(lhs, rhs, relation, claim, definitions, timeout, seed)
    said = e_note(claim_text, latex, e_variable)       # how e was read, never in silence (issue 15)
    if said:
        verdict.note = f"{said}; {verdict.note}" if verdict.note else said
    return verdict


def _prove_vector(left, relation, right, definitions, latex, e_variable, claim, timeout, seed):
    """A claim on vectors: symbolic with 3 components, numeric with 2 to 6."""
    sp = _sp()
    verdicts = []
    for n in (3, 2, 4, 5, 6):
        _VEC.n = n
        try:
            lhs, rhs = _side(left, latex, definitions, e_variable), _side(right, latex, definitions, e_variable)
        finally:
            _VEC.n = None
        L, R = [sp.Matrix([x]) if not isinstance(x, sp.MatrixBase) else x for x in (lhs, rhs)]
        if L.shape != R.shape and 1 not in (L.shape[0] * L.shape[1], R.shape[0] * R.shape[1]):
            raise InputError(f"the sides of {_clip(claim)!r} have different lengths", kind="shape")
        pairs = _pairs(sp, L, R)
        for k, (a, b) in enumerate(pairs):
            v = prove_exprs(a, b, relation, claim, definitions, timeout if n == 3 else 0, seed + k) \
                if n == 3 else _numeric_only(a, b, relation, claim, seed + k)
            verdicts.append((n, v))
            if v.status == "false":
                v.note = f"with {n} components: entry {k + 1}"
                return v
    first = verdicts[0][1]
    proved3 = all(v.status == "proved" for n, v in verdicts if n == 3)
    out = Verdict("holds numerically", claim, first.lhs, first.rhs, relation,
                  variables=sorted({x for _, v in verdicts for x in v.variables}),
                  points=sum(v.points for _, v in verdicts), definitions=definitions)
    out.chain = first.chain if proved3 and len(verdicts) and first.status == "proved" else []
    out.note = ("proved symbolically for vectors of 3 entries (the rewrites shown), "
                if proved3 else "") + "checked numerically for vectors of 2 to 6 entries"
    return out


def _pairs(sp, L, R):
    flat_l, flat_r = list(L), list(R)
    if len(flat_l) == 1:
        flat_l = flat_l * len(flat_r)
    if len(flat_r) == 1:
        flat_r = flat_r * len(flat_l)
    return list(zip(flat_l, flat_r))


def _numeric_only(a, b, relation, claim, seed):
    points, counter, worst = check_numerically(a, b, relation, seed)
    v = Verdict("false" if counter else "holds numerically", claim, a, b, relation,
                variables=sorted(s.name for s in a.free_symbols | b.free_symbols), points=points,
                counterexample=counter, max_difference=worst)
    return v
