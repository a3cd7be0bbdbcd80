"""Formula claims in a hand solution: ``grad W = 2*X^T@(X@W - Y)`` (or LaTeX), judged by numbers.

A formula is never judged by its syntax: it is evaluated at the program's point and at random
points of the same shapes (the inputs' own shapes; each input drawn around its value), and
compared with the numeric gradient there.  Names in the formula are the program's (inputs, and
intermediate nodes such as ``c``, whose values are recomputed at each point).  Vectors may be read
as given (1-D) or as n×1 columns (``a@b^T`` is then an outer product); the formula is right if it
agrees at every point in one of the two readings.

A wrong formula is named with the usual slip when changing the formula in one place makes it right:
a missing transpose (of the whole, or of one name), a missing or extra factor 2, a wrong sign, an
elementwise product where a matrix product is meant or the other way round.
"""
from __future__ import annotations

import re

import numpy as np

from ..core.errors import InputError

N_RANDOM = 3
_WORD = re.compile(r"[A-Za-z_\u0370-\u03ff\\]")
_NUMBERS_ONLY = re.compile(r"^[\s\d.eE+\-\[\],;]*$|^\s*-?(nan|inf)\s*$", re.I)


class FormulaGiven(str):
    """A claim's right side that is a formula (a str, so reports print it as written)."""
    graph = None
    line = column = 0


def looks_like_formula(text: str) -> bool:
    """Whether a claim's right side names anything (a formula) rather than being numbers."""
    text = text.strip()
    return bool(text) and not _NUMBERS_ONLY.match(text) and bool(_WORD.search(text))


def read_formula(text: str, line: int, column: int, written: str | None = None) -> FormulaGiven:
    """The formula (plain notation; LaTeX is translated first, see :mod:`.answers_latex`) parsed now,
    so a syntax error points at the answers file.  ``written`` is the formula as the student wrote it."""
    from ..reading.program import parse
    written = (written or text).strip()
    try:
        fg = parse("G = " + text.strip(), syntax="plain")
    except InputError as exc:
        raise InputError(f"the formula {written!r} cannot be read: {exc.message}", line, column,
                         kind=exc.kind) from None
    f = FormulaGiven(written)
    f.graph, f.line, f.column = fg, line, column
    return f


def is_formula(claim) -> bool:
    return isinstance(claim.given, FormulaGiven)


# --- points ------------------------------------------------------------------------------------------

def first_point(g, at, rng=None) -> dict:
    """The program's point; an input without a value is drawn in its declared shape (``X: n x m``;
    each letter a different small size), or as a number.  A declared vector is a column, as the
    sheets write vectors (with y = [[1], [2]], (w − y)ᵀ(w − y) is a number only for a column w);
    a 1-D vector where only that makes the program's output a number."""
    rng = rng if rng is not None else np.random.default_rng(0)
    base = {n.name: (at or {}).get(n.name, n.default) for n in g.nodes if n.kind == "input"}
    missing = [k for k, v in base.items() if v is None]
    if not missing:
        return base
    declared = getattr(g, "declared_shapes", None) or {}
    letters = sorted({d for k in missing for d in declared.get(k, ()) if isinstance(d, str)})
    sizes = {x: 2 + k for k, x in enumerate(letters)}
    draws = {}
    for k in missing:
        shape = tuple(sizes.get(d, d) for d in declared.get(k, ()))
        draws[k] = rng.standard_normal(shape) if shape else float(rng.standard_normal())
    columns = {k: (v.reshape(-1, 1) if np.ndim(v) == 1 else v) for k, v in draws.items()}
    vectors = any(np.ndim(v) == 1 for v in draws.values())
    if vectors and not _scalar_output(g, {**base, **columns}) and _scalar_output(g, {**base, **draws}):
        return {**base, **draws}
    return {**base, **columns}


def _scalar_output(g, point) -> bool:
    from ..core.evaluate import run
    try:
        return np.size(run(g, point).values[g._output]) == 1
    except (InputError, ValueError):
        return False


def _points(g, at, rng):
    """The program's point, then random ones: each input drawn around its own value, same shape.
    When inputs lack values, every point is random (around a first one of the declared shapes)."""
    given = all((at or {}).get(n.name, n.default) is not None for n in g.nodes if n.kind == "input")
    base = first_point(g, at, rng)
    if given:
        yield base
    for _ in range(N_RANDOM):
        point = {}
        for name, v in base.items():
            v = np.asarray(v, dtype=float)
            point[name] = v + rng.normal(0.0, 0.5, v.shape) * (np.abs(v) + 0.5)
            if v.ndim == 0:
                point[name] = float(point[name])
        yield point


def _truth(g, point, target):
    """Node values and the numeric gradient of ``target`` at ``point`` (None if not finite)."""
    from ..algorithms.reverse import reverse
    from ..core.evaluate import run
    ev = run(g, point)
    values = {n.name: ev.values[n.index] for n in g.nodes}
    adj = reverse(g, ev).adjoints.get(g.nodes[target].name)
    if adj is None:
        adj = np.zeros(np.shape(values[g.nodes[target].name]))
    if not np.all(np.isfinite(adj)):
        return values, None
    return values, adj


def _as_columns(values):
    return {k: (np.asarray(v).reshape(-1, 1) if np.ndim(v) == 1 else v) for k, v in values.items()}


def _evaluate(fg, values):
    """The formula's graph at these values (None when it cannot be evaluated there)."""
    from ..core.evaluate import run
    names = {n.name for n in fg.nodes if n.kind == "input"}
    missing = names - set(values)
    if missing:
        raise InputError(f"the formula uses {', '.join(sorted(missing))}, which the program does not define",
                         kind="name")
    try:
        ev = run(fg, {k: v for k, v in values.items() if k in names})
    except InputError:
        return None
    return ev.values[fg._output]


def _agrees(got, want, rtol):
    if got is None:
        return False
    a, b = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if a.shape != b.shape:
        if a.size == b.size and (a.ndim < 2 or b.ndim < 2) and (a.ndim < 2 or 1 in a.shape) \
                and (b.ndim < 2 or 1 in b.shape):
            a = a.reshape(b.shape)        # a 1-D vector and a column/row alike (never a 1×p and a p×1)
        elif a.size == 1 and np.all(b == b.flat[0]):
            a = np.broadcast_to(a.reshape(()), b.shape)
        else:
            return False
    return bool(np.all(np.abs(a - b) <= 1e-9 + rtol * np.abs(b)))


# --- judging ----------------------------------------------------------------------------------------

def judge(g, claim, at=None, rtol: float = 1e-6) -> bool:
    """Whether the formula claim agrees with ∂output/∂target at every point; sets ``claim.slip``
    when a usual slip explains a wrong one.  ``claim.expected`` stays the numbers at the program's point."""
    rng = np.random.default_rng(0)
    fg = claim.given.graph
    samples = []                               # (values, truth) at points where the gradient is finite
    for point in _points(g, at, rng):
        try:
            values, want = _truth(g, point, claim.node)
        except InputError:
            continue
        if want is not None:
            samples.append((values, want))
    if not samples:
        return False

    def right(formula_graph_eval):
        for reading in (lambda v: v, _as_columns):
            if all(_agrees(formula_graph_eval(reading(values)), want, rtol) for values, want in samples):
                return True
        return False

    if right(lambda values: _evaluate(fg, values)):
        return True
    claim.slip = _slip(fg, samples, rtol)
    if claim.slip is None:
        try:
            from ..core.evaluate import run
            inputs = {n.name for n in fg.nodes if n.kind == "input"}
            run(fg, {k: v for k, v in samples[0][0].items() if k in inputs})
        except InputError as exc:             # it cannot even be computed: say where it breaks
            claim.slip = f"a formula whose shapes do not fit ({exc.message})"
    return False


def _slip(fg, samples, rtol):
    """The usual slip that, undone, makes the formula right (or None)."""
    from ..algorithms.matrix_form import check as C
    from ..algorithms.matrix_form import expr as X
    from ..algorithms.matrix_form import traverse as W
    from ..algorithms.matrix_form.derive import ShapeError, derive
    from ..algorithms.matrix_form.printing import plain
    values0 = samples[0][0]
    try:
        d = derive(fg, at={n.name: values0[n.name] for n in fg.nodes if n.kind == "input"}, adjoints=False)
    except (ShapeError, ValueError, TypeError, KeyError, InputError):
        return None
    e = d.values[fg.output]
    variants = [(X.T(e), "a missing transpose: the formula gives the transpose of the gradient "
                         "(the gradient has the variable's shape)"),
                (X.scale(2.0, e), "a missing factor 2"), (X.scale(0.5, e), "an extra factor 2"),
                (X.neg(e), "a wrong sign")]
    for x in W.walk(e):
        if x.kind == "add":                   # a slip in one term: 2·Xᵀ(XW − Y) + λ·sign(W) without its 2
            for t in x.args:
                for c, why in ((2.0, "a missing factor 2 in the term {}"), (0.5, "an extra factor 2 in the term {}"),
                               (-1.0, "a wrong sign in the term {}")):
                    variants.append((lambda x=x, t=t, c=c: W.substitute(e, {t: X.scale(c, t)}),
                                     lambda t=t, why=why: why.format(plain(t))))
        if x.kind == "sym" and x.shape[0] == x.shape[1] != 1:
            variants.append((lambda x=x: W.substitute(e, {x: X.scale(0.5, X.add(x, X.T(x)))}),
                             f"{x.data[0]} taken as symmetric (right only when {x.data[0]} = {x.data[0]}ᵀ; "
                             f"in general both {x.data[0]} and {x.data[0]}ᵀ appear)"))
        if x.kind == "sym" and x.shape[0] != 1 and x.shape[1] != 1:
            variants.append((lambda x=x: W.substitute(e, {x: X.T(x)}),
                             f"a missing transpose: {x.data[0]} where {x.data[0]}ᵀ is meant"))
        if x.kind == "mm" and len(x.args) == 2:
            variants.append((lambda x=x: W.substitute(e, {x: X.mul(*x.args)}),
                             lambda x=x: f"a matrix product where the elementwise product is meant "
                                         f"({plain(x)} → {plain(X.mul(*x.args))})"))
        mats = [f for f in x.args if f.shape != X.SCALAR] if x.kind == "mul" else []
        if len(mats) == 2:
            scalars = [f for f in x.args if f.shape == X.SCALAR]
            variants.append((lambda x=x, m=mats, s=scalars: W.substitute(e, {x: X.mul(*s, X.mm(*m))}),
                             lambda m=mats: f"an elementwise product where the matrix product is meant "
                                            f"({plain(X.mul(*m))} → {plain(X.mm(*m))})"))
    for make, why in variants:
        try:
            v = make() if callable(make) else make
            # judged as the formula itself is (_agrees): a 1×p where a p×1 is meant is not this slip
            if all(_agrees(C.evaluate(v, C_env(values)), want, rtol) for values, want in samples):
                return why() if callable(why) else why
        except (ShapeError, ValueError, KeyError, IndexError, np.linalg.LinAlgError):
            continue
    return None


def C_env(values):
    from ..algorithms.matrix_form.check import column
    return {k: column(v) for k, v in values.items()}


def without_values(g, claims, at, rtol):
    """``(claims, first_wrong, ok)`` when every claim is a formula and the program lacks values (then
    only random points of the declared shapes judge them); None otherwise (the usual check runs)."""
    if not claims or not all(is_formula(c) for c in claims):
        return None
    if all((at or {}).get(n.name, n.default) is not None for n in g.nodes if n.kind == "input"):
        return None
    for c in claims:
        c.node = g.index(c.target.strip())
        c.expected = "(the gradient at random points of the declared shapes)"
        c.ok = judge(g, c, at, rtol)
    wrong = [k for k, c in enumerate(claims) if not c.ok]
    return claims, (wrong[0] if wrong else None), not wrong


__all__ = ["FormulaGiven", "without_values", "looks_like_formula", "read_formula", "is_formula", "judge"]
