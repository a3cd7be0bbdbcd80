"""The shortest of equivalent forms: expanded, factored (common left/right matrix factor, common
scalar or elementwise factor) and, for elementwise islands, SymPy's rewrites — the one with the
fewest operations is kept (ties: the form as derived).

An *elementwise island* is a sub-expression built only from +, −, ⊙, /, powers and elementwise
functions over atoms (anything else, e.g. ``X@w``); SymPy sees the atoms as plain symbols, which is
exact for elementwise arithmetic.  It turns the bipolar sigmoid's adjoint from 42 operations into 24.
"""
from __future__ import annotations

from . import expr as X
from .expr import SCALAR, E, split_coef
from .traverse import count_ops, rebuild, walk

_MAX_TERMS = 64            # an expansion with more terms is not tried
_EXPAND_MAX_OPS = 120      # nor one of a bigger expression (a deep net's adjoint: costly, never shorter)
_EXPAND_BUDGET = 400       # steps of one expansion
_SYMPY_MIN_OPS = 8         # smaller islands are left to our own rules (SymPy costs milliseconds)
_SYMPY_MAX_OPS = 80        # larger ones: simplify is super-linear


def tidy(e: E, sympy_islands: bool = True, memo: dict | None = None) -> E:
    """The form of ``e`` with the fewest operations among those tried.  ``memo`` (a dict) may be
    shared by the formulas of one derivation: they share most of their sub-expressions."""
    memo = {} if memo is None else memo
    e = _tidy(e, memo)
    if sympy_islands:
        islands = memo.setdefault("islands", {})
        e = _islands(e, islands)
    return e


def _islands(e: E, memo: dict) -> E:
    """SymPy's forms for each maximal elementwise island (top down: an island inside an island is
    its parent's business), then the whole again through our rules if anything changed."""
    got = memo.get(e)
    if got is not None:
        return got
    if e.kind in ("add", "mul") and _is_island(e) and _SYMPY_MIN_OPS <= count_ops(e) <= _SYMPY_MAX_OPS:
        best = min([e] + _sympy_forms(e), key=count_ops)
    elif e.args:
        args = [_islands(a, memo) for a in e.args]
        best = e if all(a is b for a, b in zip(args, e.args)) else rebuild(e, args)
    else:
        best = e
    memo[e] = best
    return best


def _tidy(e: E, memo: dict) -> E:
    got = memo.get(e)
    if got is not None:
        return got
    memo[e] = e                 # in progress: factoring and expanding can lead back here
    if e.args:
        args = [_tidy(a, memo) for a in e.args]
        x = e if all(a is b for a, b in zip(args, e.args)) else rebuild(e, args)
    else:
        x = e
    cands = [x]
    if x.kind == "add":
        f = _factor(x)
        if f is not x:
            cands.append(_tidy(f, memo))
        ex = _expand(x)
        if ex is not None and ex is not x:
            cands.append(ex)
            if ex.kind == "add":
                fx = _factor(ex)
                if fx is not ex:
                    cands.append(_tidy(fx, memo))
    if x.kind in ("mul", "mm") and any(a.kind == "add" for a in x.args):
        ex = _expand(x)                  # f⊙p⊙(c/f + b/p) = c⊙p + b⊙f
        if ex is not None and ex is not x:
            cands.append(ex)
    if x.kind in ("add", "mm") and x.shape != SCALAR and count_ops(x) <= _EXPAND_MAX_OPS:
        t = X.T(x)                      # the transposed form kept whole: (XB + BX)ᵀ, 3(XX)ᵀ
        if t.kind != "T":
            cands.append(X._make("T", (t,), None, x.shape))    # (not tidied again: it doubled the work)
    best = min(cands, key=count_ops)
    memo[e] = best
    return best


# --- factoring -----------------------------------------------------------------------------------------

def _parts(t: E):
    """A term as (scalar factors, matrix-product factors): 2λ·XᵀA → ([2, λ], [Xᵀ, A])."""
    if t.kind == "mm":
        return [], list(t.args)
    if t.kind == "mul":
        s = [f for f in t.args if f.shape == SCALAR]
        m = [f for f in t.args if f.shape != SCALAR]
        if len(m) == 1 and m[0].shape == t.shape:
            return s, list(m[0].args) if m[0].kind == "mm" else [m[0]]
        if not m:
            return s, []
    return [], [t]


def _factor(e: E) -> E:
    """One factoring step of a sum, the best of: common scalar, common elementwise factor,
    common right or left matrix factor (of at least two terms)."""
    terms = list(e.args)
    cands = []
    # a common scalar or elementwise factor of every term: λa + λb = λ(a + b)
    fsets = [list(t.args) if t.kind == "mul" else [t] for t in terms]
    common = [f for f in fsets[0] if f.kind != "num" and all(f in fs for fs in fsets[1:])]
    if common:
        rest = []
        for fs in fsets:
            left = list(fs)
            for c in common:
                left.remove(c)
            rest.append(X.mul(*left) if left else X.ONE)
        try:
            cands.append(X.mul(*common, X.add(*rest)))
        except X.ShapeError:
            pass
    coefs = [split_coef(t)[0] for t in terms]
    if len(set(abs(c) for c in coefs)) == 1 and abs(coefs[0]) != 1:
        c = abs(coefs[0])
        cands.append(X.mul(X.num(c), X.add(*[X.scale(1 / c, t) for t in terms])))
    parts = [_parts(t) for t in terms]
    for side in (-1, 0):
        seen = {}
        for k, (s, m) in enumerate(parts):
            if len(m) >= 1 and m[side].shape != SCALAR:
                seen.setdefault(m[side], []).append(k)
        for f, ks in seen.items():
            if len(ks) < 2:
                continue
            inner = []
            for k in ks:
                s, m = parts[k]
                rest = m[:-1] if side == -1 else m[1:]
                core = X.mm(*rest) if rest else X.eye(f.shape[0] if side == -1 else f.shape[1])
                inner.append(X.mul(*s, core) if s else core)
            try:
                grouped = X.add(*inner)
                new = X.mm(grouped, f) if side == -1 else X.mm(f, grouped)
                others = [terms[k] for k in range(len(terms)) if k not in ks]
                cands.append(X.add(new, *others) if others else new)
            except X.ShapeError:
                continue
    if not cands:
        return e
    return min(cands, key=count_ops)


# --- expanding ----------------------------------------------------------------------------------------

def _expand(e: E):
    """Products distributed over sums (matrix and elementwise), like terms merged; None if too big."""
    if count_ops(e) > _EXPAND_MAX_OPS:
        return None
    try:
        terms = _terms(e, [_EXPAND_BUDGET])
    except _TooBig:
        return None
    return X.add(*terms) if terms else X.num(0, e.shape)


class _TooBig(Exception):
    pass


def _terms(e: E, budget: list) -> list:
    budget[0] -= 1
    if budget[0] < 0:                 # nested sums distribute exponentially: give up, keep the form
        raise _TooBig
    if e.kind == "add":
        out = []
        for t in e.args:
            out.extend(_terms(t, budget))
        if len(out) > _MAX_TERMS:
            raise _TooBig
        return out
    if e.kind in ("mul", "mm"):
        # distribute one sum at a time and let the constructor cancel what meets (s·(a/s) = a):
        # a sum that is also a denominator elsewhere is distributed last, so it can still cancel
        # a sum that broadcasts (x + yᵀ) does not distribute over a matrix product
        sums = [k for k, f in enumerate(e.args) if f.kind == "add"
                and (e.kind == "mul" or all(t.shape == f.shape for t in f.args))]
        if not sums:
            inner = [k for k, f in enumerate(e.args) if f.kind in ("mul", "mm")]
            if not inner:
                return [e]
            sums = inner
        k = sums[0]
        if len(sums) > 1:                    # which one first matters only when there is a choice
            denominators = {x.args[0] for x in walk(e) if x.kind == "pow" and x.args[1].kind == "num"
                            and x.args[1].data < 0}
            k = next((k for k in sums if e.args[k] not in denominators), sums[0])
        build = X.mul if e.kind == "mul" else X.mm
        parts = _terms(e.args[k], budget) if e.args[k].kind != "add" else list(e.args[k].args)
        if len(parts) == 1 and parts[0] is e.args[k]:
            return [e]
        out = []
        for t in parts:
            x = build(*e.args[:k], t, *e.args[k + 1:])
            out.extend(_terms(x, budget) if x is not e else [x])
            if len(out) > _MAX_TERMS:
                raise _TooBig
        return out
    return [e]


# --- elementwise islands through SymPy -----------------------------------------------------------------

_ISLAND = ("add", "mul", "pow", "fn", "num", "sym")


def _is_island(e: E) -> bool:
    """Whether ``e`` is elementwise arithmetic of exponentials worth handing to SymPy (σ, tanh,
    the bipolar sigmoid: rational functions of e^z that our rules do not cancel)."""
    if count_ops(e) > _SYMPY_MAX_OPS:        # checked first: walking a big expression costs
        return False
    return any(x.kind == "fn" and x.data in ("exp", "sigmoid", "tanh") for x in walk(e))


def _sympy_forms(e: E) -> list:
    import sympy as sp
    atoms: dict = {}
    back: dict = {}

    def to(x):
        k = x.kind
        if k == "num" and x.shape == SCALAR:
            v = x.data
            return sp.Integer(int(v)) if float(v).is_integer() else sp.Float(v)
        if k == "add":
            return sp.Add(*[to(a) for a in x.args])
        if k == "mul":
            return sp.Mul(*[to(a) for a in x.args])
        if k == "pow":
            return sp.Pow(to(x.args[0]), to(x.args[1]))
        if k == "fn" and x.data in ("exp", "log", "sqrt", "sin", "cos", "tanh"):
            return getattr(sp, x.data)(to(x.args[0]))
        if k == "fn" and x.data == "sigmoid":
            return 1 / (1 + sp.exp(-to(x.args[0])))
        if x not in atoms:
            s = sp.Symbol(f"_a{len(atoms)}", real=True)
            atoms[x], back[s] = s, x
        return atoms[x]

    def fro(s):
        if s.is_Symbol:
            return back[s]
        if s.is_Number:
            return X.num(float(s))
        if s.is_Add:
            return X.add(*[fro(a) for a in s.args])
        if s.is_Mul:
            return X.mul(*[fro(a) for a in s.args])
        if s.is_Pow:
            return X.pow_(fro(s.base), fro(s.exp))
        if isinstance(s, sp.exp):
            return X.fn("exp", fro(s.args[0]))
        name = type(s).__name__
        if name in ("log", "sin", "cos", "tanh"):
            return X.fn(name, fro(s.args[0]))
        raise ValueError(name)

    try:
        se = to(e)
        forms = {sp.together(se)}      # one common denominator: the bipolar sigmoid's 17 → 11 (factor
        # and cancel found nothing shorter on the identities and cost twice as much)
        out = []
        for f in forms:
            try:
                x = fro(f)
                if x.shape == e.shape:
                    out.append(x)
            except (ValueError, KeyError, X.ShapeError):
                continue
        return out
    except Exception:                    # SymPy is an optional shortcut: our form stands
        return []
