"""A small matrix expression type whose constructors keep expressions canonical.

Conventions (the same in every formula we print):

* every value is a matrix; a vector is a **column** (n×1), a 1×1 result is a scalar and is
  treated as one (it commutes, multiplies elementwise, and ``tr``/transpose leave it alone);
* a dimension is an ``int`` (known from values) or a ``str`` (a declared size such as ``"n"``);
* ``*`` is the elementwise (Hadamard) product, also scalar·matrix; ``@`` the matrix product.

Expressions are hash-consed (two equal expressions are one object), so equality is ``is`` and
merging like terms is a dictionary lookup.  The constructors (:func:`add`, :func:`mul`,
:func:`mm`, :func:`T`, …) apply the rules a sheet applies by hand: merge like terms
(Xᵀ + Xᵀ = 2Xᵀ), pull scalars out of products, push transposes to the leaves
((AB)ᵀ = BᵀAᵀ, (Xᵀ)ᵀ = X), drop I and 1, A·A⁻¹ = I, tr of a scalar is itself,
exp(z)/(1 + exp(z)) = σ(z).  Printing is in :mod:`.printing`.
"""
from __future__ import annotations

import math
import weakref

SCALAR = (1, 1)
ELEMENTWISE = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "softplus", "abs", "sign",
               "step")
REDUCTIONS = ("tr", "sum", "mean", "det", "norm1", "norm2", "sqnorm", "logsumexp")


class E:
    """One expression node.  ``kind``: sym num eye basis add mul pow mm T fn red inv softmax index."""
    __slots__ = ("kind", "args", "data", "shape", "key", "ops", "tree", "__weakref__")

    def __repr__(self):                 # printing.plain(e) gives the formula
        return f"E({self.kind}, {self.data!r}, {self.shape}, {len(self.args)} operands)"

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR


_TABLE: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()


def _make(kind, args=(), data=None, shape=SCALAR) -> E:
    key = (kind, data, shape) + tuple(id(a) for a in args)
    e = _TABLE.get(key)
    if e is None:
        e = E()
        e.kind, e.args, e.data, e.shape, e.key, e.ops, e.tree = kind, tuple(args), data, shape, None, None, None
        _TABLE[key] = e
    return e


# --- leaves -------------------------------------------------------------------------------------

def sym(name: str, shape=SCALAR, role: str = "in") -> E:
    """A named value: ``role`` is ``in`` (an input), ``node`` (an intermediate named as in the
    graph), ``bar`` (an adjoint ḡ, in rules) or ``opaque`` (an adjoint known only as numbers)."""
    return _make("sym", (), (name, role), tuple(shape))


def num(v: float, shape=SCALAR) -> E:
    """A number; with a matrix shape, the matrix of that number (``num(1, (n, 1))`` is 𝟏)."""
    v = float(v)
    return _make("num", (), 0.0 if v == 0 else v, tuple(shape))


def eye(n, m=None) -> E:
    """I (n×n); with ``m``, the n×m matrix with ones on its diagonal (tr of a non-square matrix)."""
    return _make("eye", (), None, (n, n if m is None else m))


def basis(i: int, shape) -> E:
    """e_i: the one-hot vector with a 1 at (0-based) index ``i``."""
    return _make("basis", (), i, tuple(shape))


ZERO, ONE = num(0), num(1)


def is_num(e: E, v=None) -> bool:
    return e.kind == "num" and (v is None or e.data == v)


def is_zero(e: E) -> bool:
    return e.kind == "num" and e.data == 0.0


# --- shapes ---------------------------------------------------------------------------------------

class ShapeError(ValueError):
    pass


def _broadcast(shapes):
    out = SCALAR
    for s in shapes:
        if s == SCALAR:
            continue
        if out == SCALAR:
            out = s
            continue
        dims = []
        for a, b in zip(out, s):
            if a == b or b == 1:
                dims.append(a)
            elif a == 1:
                dims.append(b)
            else:
                raise ShapeError(f"shapes {out} and {s} do not broadcast")
        out = tuple(dims)
    return out


def size(shape) -> E:
    """The number of entries as an expression (a number, or a declared size like ``n``)."""
    total, names = 1, []
    for d in shape:
        if isinstance(d, int):
            total *= d
        else:
            names.append(sym(d))
    return mul(num(total), *names) if names else num(total)


# --- sums -----------------------------------------------------------------------------------------

def split_coef(e: E) -> tuple[float, E]:
    """``(c, core)`` with ``e = c·core`` and c a number."""
    if e.kind == "num" and e.shape == SCALAR:
        return e.data, ONE
    if e.kind == "mul" and e.args[0].kind == "num" and e.args[0].shape == SCALAR:
        rest = e.args[1:]
        return e.args[0].data, rest[0] if len(rest) == 1 else _make("mul", rest, None, e.shape)
    return 1.0, e


def scale(c: float, e: E) -> E:
    return mul(num(c), e)


def add(*terms: E) -> E:
    """Sum with like terms merged (Xᵀ + Xᵀ = 2Xᵀ) and zeros dropped; shapes broadcast."""
    shape = _broadcast([t.shape for t in terms])
    coefs: dict = {}
    for t in terms:
        for u in (t.args if t.kind == "add" else (t,)):
            if is_zero(u):
                continue
            c, core = split_coef(u)
            if core.kind == "num" and core.shape != SCALAR:      # c·(matrix of d)
                c, core = c * core.data, num(1, core.shape)
            coefs[core] = coefs.get(core, 0.0) + c
    parts = [scale(c, core) for core, c in coefs.items() if c != 0.0]
    if not parts:
        return num(0, shape)
    if len(parts) == 1:
        return parts[0] if parts[0].shape == shape else mul(parts[0], num(1, shape))
    return _make("add", parts, None, shape)


def neg(e: E) -> E:
    return scale(-1.0, e)


def sub(a: E, b: E) -> E:
    return add(a, neg(b))


# --- elementwise products and powers --------------------------------------------------------------

def _base_exp(e: E):
    if e.kind == "pow":
        return e.args[0], e.args[1]
    return e, ONE


def mul(*factors: E) -> E:
    """Elementwise (or scalar) product: numbers multiplied out front, powers of one base merged
    (s·s⁻¹ = 1), 𝟏 dropped, a column times a row made their outer product ``a @ b``."""
    flat = []
    for f in factors:
        flat.extend(f.args if f.kind == "mul" else (f,))
    shape = _broadcast([f.shape for f in flat])
    coef = 1.0
    powers: dict = {}
    order = []
    for f in flat:
        if f.kind == "num":
            coef *= f.data
            continue
        base, ex = _base_exp(f)
        if base not in powers:
            order.append(base)
            powers[base] = ex
        else:
            powers[base] = add(powers[base], ex)
    if coef == 0.0:
        return num(0, shape)
    rest = []
    for base in order:
        p = pow_(base, powers[base])
        if p.kind == "num":
            coef *= p.data
        elif p.kind == "mul":
            c, core = split_coef(p)
            coef *= c
            rest.extend(core.args if core.kind == "mul" else (core,))
        else:
            rest.append(p)
    rest = _sigmoid_products(rest)
    rest = _basis_products(rest)
    # a column times a row (seed 000's X*W with X m×1, W 1×p) is their outer product
    mats = [f for f in rest if f.shape != SCALAR]
    if len(mats) == 2 and mats[0].shape[1] == 1 and mats[1].shape[0] == 1 and \
            mats[0].shape[0] != 1 and mats[1].shape[1] != 1:
        rest = [f for f in rest if f.shape == SCALAR] + [mm(*mats)]
    rest.sort(key=_factor_order)       # one order for equal products; scalars first: 2·λ·w
    if not rest:
        return num(coef, shape)
    if coef != 1.0:
        rest.insert(0, num(coef))
    if len(rest) == 1:
        only = rest[0]
        # a factor smaller than the product (𝟏·yᵀ broadcast to 3×3) keeps the 𝟏 that gives the shape
        return only if only.shape == shape else _make("mul", (num(1, shape), only), None, shape)
    if all(f.shape != shape for f in rest):      # scalars only, broadcast to a matrix: keep 𝟏
        rest.append(num(1, shape))
    return _make("mul", rest, None, shape)


_RANK = {"num": 0, "sym": 1, "basis": 1, "eye": 1, "T": 2, "index": 2, "red": 3, "fn": 4, "inv": 4,
         "softmax": 4, "pow": 5, "mm": 6, "add": 7, "mul": 8}


def _factor_order(f: E):
    return (f.shape != SCALAR, _RANK[f.kind], _order_key(f))


def _basis_products(fs):
    """x ⊙ eᵢ = x[i]·eᵢ (the one entry of x that survives)."""
    b = next((f for f in fs if f.kind == "basis"), None)
    if b is None:
        return fs
    out = []
    for f in fs:
        if f is not b and f.shape == b.shape:
            out.append(index(f, b.data))
        else:
            out.append(f)
    return out


def _sigmoid_products(fs):
    """exp(z)·σ(−z) = σ(z) (the sheets' e^z/(1 + e^z))."""
    for k, f in enumerate(fs):
        if f.kind == "fn" and f.data == "exp":
            target = fn("sigmoid", neg(f.args[0]))
            if target in fs:
                rest = [x for j, x in enumerate(fs) if j != k and x is not target]
                return rest + [fn("sigmoid", f.args[0])]
    return fs


def pow_(a: E, p) -> E:
    """a^p elementwise; p a number or an expression (w^p)."""
    p = p if isinstance(p, E) else num(p)
    if is_num(p, 0.0):
        return num(1, a.shape)
    if is_num(p, 1.0):
        return a
    if a.kind == "num" and p.kind == "num":
        try:
            return num(math.pow(a.data, p.data), a.shape)
        except (ValueError, OverflowError, ZeroDivisionError):
            pass
    if a.kind == "pow" and p.kind == "num" and a.args[1].kind == "num" and float(p.data).is_integer():
        return pow_(a.args[0], mul(a.args[1], p))
    if a.kind == "mul" and p.kind == "num" and float(p.data).is_integer():
        return mul(*[pow_(f, p) for f in a.args])
    if is_num(p, -1.0) and a.kind == "add" and len(a.args) == 2:   # 1/(1 + exp(-z)) = σ(z)
        x, y = a.args
        for one, e in ((x, y), (y, x)):
            if is_num(one, 1.0) and e.kind == "fn" and e.data == "exp":
                return fn("sigmoid", neg(e.args[0]))
    if a.kind == "fn" and a.data == "sqrt" and is_num(p, 2.0):
        return a.args[0]
    return _make("pow", (a, p), None, _broadcast([a.shape, p.shape]))


def div(a: E, b: E) -> E:
    return mul(a, pow_(b, -1))


# --- matrix products and transposes ------------------------------------------------------------------

def mm(*factors: E) -> E:
    """Matrix product: scalars and numbers pulled out front, I dropped, A·A⁻¹ = I."""
    flat, scalars = [], []
    queue = list(factors)
    while queue:
        f = queue.pop(0)
        parts = f.args if f.kind == "mm" else (f,)
        for p in parts:
            if p.shape == SCALAR:
                scalars.append(p)
                continue
            c, core = split_coef(p)
            if c != 1.0:
                scalars.append(num(c))
                p = core
            if p.kind == "mul" and p.args[0].shape == SCALAR and any(x.shape != SCALAR for x in p.args):
                s = [x for x in p.args if x.shape == SCALAR]
                m = [x for x in p.args if x.shape != SCALAR]
                if len(m) == 1 and m[0].shape == p.shape:   # λ·A inside a product: (λA)B = λ(AB)
                    scalars.extend(s)
                    p = m[0]
            if p.kind == "mm":
                queue[:0] = list(p.args)       # a product uncovered above: flatten it in place
                continue
            flat.append(p)
    for a, b in zip(flat, flat[1:]):
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"matrix product of shapes {a.shape} and {b.shape}")
    if any(is_zero(f) for f in flat + scalars):
        shape = (flat[0].shape[0], flat[-1].shape[1]) if flat else SCALAR
        return num(0, shape)
    out = []
    for f in flat:
        if f.kind == "eye" and f.shape[0] == f.shape[1]:
            continue
        if out and _inverse_pair(out[-1], f):
            out.pop()
            continue
        out.append(f)
    if not flat:
        return mul(*scalars) if scalars else ONE
    shape = (flat[0].shape[0], flat[-1].shape[1])
    if not out:
        core = eye(shape[0])
    elif len(out) == 1:
        core = out[0]
    else:
        core = _make("mm", out, None, shape)
    if core.shape == SCALAR and core.kind == "mm":
        core = _scalar_product(core)
    return mul(*scalars, core) if scalars else core


def _inverse_pair(a: E, b: E) -> bool:
    return (b.kind == "inv" and b.args[0] is a) or (a.kind == "inv" and a.args[0] is b) or \
        (a.kind == "T" and b.kind == "T" and _inverse_pair(a.args[0], b.args[0]))


def _scalar_product(e: E) -> E:
    """A 1×1 product is its own transpose: keep the one of the two with fewer transposes
    (aᵀb rather than bᵀa written twice), so equal scalars merge."""
    t = _make("mm", [T(f) for f in reversed(e.args)], None, SCALAR)
    return min((e, t), key=lambda x: (sum(f.kind == "T" for f in x.args), _order_key(x)))


def _order_key(e: E) -> str:
    """A canonical text of ``e`` (names as such, anything else by its structure's digest, so it stays
    short however deep ``e`` is), so equal products sort alike."""
    if e.key is None:
        if e.kind == "sym":
            e.key = e.data[0]
        elif e.kind == "num":
            e.key = f"{e.data:g}"
        else:
            import hashlib
            inner = ",".join(_order_key(a) for a in e.args)
            digest = hashlib.blake2b(f"{e.kind}{e.data}{e.shape}({inner})".encode(), digest_size=8).hexdigest()
            e.key = f"{e.kind}:{e.data if e.data is not None else ''}:{digest}"
    return e.key


def T(a: E) -> E:
    """Transpose, pushed to the leaves: (AB)ᵀ = BᵀAᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, (Xᵀ)ᵀ = X; a scalar,
    I and a number matrix of a symmetric shape are their own transposes.  Kept outside a function
    (σ(Xw)ᵀ) and an inverse (X⁻ᵀ), as the textbooks write them."""
    r, c = a.shape
    if a.shape == SCALAR:
        return a
    k = a.kind
    if k == "T":
        return a.args[0]
    if k == "num":
        return num(a.data, (c, r))
    if k == "eye":
        return eye(c, r)
    if k == "add":
        return add(*[T(t) for t in a.args])
    if k == "mul":
        return mul(*[T(f) for f in a.args])
    if k == "mm":
        return mm(*[T(f) for f in reversed(a.args)])
    if k == "pow":
        return pow_(T(a.args[0]), a.args[1])
    if k == "basis":
        return basis(a.data, (c, r))
    return _make("T", (a,), None, (c, r))


# --- functions ---------------------------------------------------------------------------------------

_NUMERIC = {"exp": math.exp, "log": lambda v: math.log(v) if v > 0 else math.nan, "sqrt": math.sqrt,
            "sin": math.sin, "cos": math.cos, "tanh": math.tanh, "abs": abs,
            "sigmoid": lambda v: 1 / (1 + math.exp(-v)), "relu": lambda v: max(v, 0.0),
            "sign": lambda v: float((v > 0) - (v < 0)), "step": lambda v: float(v > 0),
            "softplus": lambda v: math.log1p(math.exp(v))}


def fn(name: str, a: E) -> E:
    """An elementwise function: log(exp z) = z, exp(log z) = z, values of numbers computed."""
    if a.kind == "num":
        try:
            return num(_NUMERIC[name](a.data), a.shape)
        except (ValueError, OverflowError):
            pass
    if name == "log" and a.kind == "fn" and a.args[0].shape == a.shape and a.data == "exp":
        return a.args[0]
    if name == "exp" and a.kind == "fn" and a.data == "log":
        return a.args[0]
    if name in ("sign", "step") and a.kind == "fn" and a.data in ("sign", "step"):
        return a if name == "sign" else fn("step", a.args[0]) if a.data == "step" else _make("fn", (a,), name, a.shape)
    return _make("fn", (a,), name, a.shape)


def red(name: str, a: E) -> E:
    """A reduction to a scalar: tr, sum, mean, det, ‖·‖₁, ‖·‖₂, ‖·‖₂², logsumexp."""
    if a.shape == SCALAR and name in ("tr", "sum", "mean", "det", "logsumexp"):
        return a
    if name == "tr" and a.kind == "eye" and a.shape[0] == a.shape[1]:
        return size((a.shape[0],))
    if name in ("tr", "sum", "mean") and a.kind == "mul":
        s = [f for f in a.args if f.shape == SCALAR]
        if s and len(s) < len(a.args):                  # tr(λA) = λ tr(A)
            rest = [f for f in a.args if f.shape != SCALAR]
            return mul(*s, red(name, rest[0] if len(rest) == 1 else _make("mul", rest, None, a.shape)))
    if name in ("tr", "sum") and a.kind == "add":       # tr(A + B) stays (it is shorter)
        pass
    if name == "sum" and a.kind == "num":
        return mul(num(a.data), size(a.shape))
    if name == "sum" and a.kind == "basis":
        return ONE
    if name == "tr" and a.kind == "T":
        return red("tr", a.args[0])
    if name == "det" and a.kind == "T":
        return red("det", a.args[0])
    if name == "sum" and a.kind == "mul" and len(a.args) == 2 and all(f.shape == a.shape for f in a.args) \
            and 1 in a.shape:                           # sum(a*b) of vectors = aᵀb
        x, y = a.args
        return mm(T(x), y) if a.shape[1] == 1 else mm(x, T(y))
    if name == "sum" and a.kind == "pow" and is_num(a.args[1], 2.0) and 1 in a.shape:   # sum(x²) = xᵀx
        x = a.args[0]
        return mm(T(x), x) if a.shape[1] == 1 else mm(x, T(x))
    return _make("red", (a,), name, SCALAR)


def inv(a: E) -> E:
    """A⁻¹; (ABC)⁻¹ = C⁻¹B⁻¹A⁻¹ when every factor is square, (Aᵀ)⁻¹ = (A⁻¹)ᵀ, (cA)⁻¹ = A⁻¹/c."""
    if a.shape == SCALAR:
        return pow_(a, -1)
    if a.shape[0] != a.shape[1]:
        raise ShapeError(f"the inverse of a non-square matrix ({a.shape[0]}×{a.shape[1]})")
    if a.kind == "inv":
        return a.args[0]
    if a.kind == "eye":
        return a
    if a.kind == "T":
        return T(inv(a.args[0]))
    if a.kind == "mm" and all(f.shape[0] == f.shape[1] for f in a.args):
        return mm(*[inv(f) for f in reversed(a.args)])
    c, core = split_coef(a)
    if c != 1.0:
        return scale(1.0 / c, inv(core))
    return _make("inv", (a,), None, a.shape)


def softmax(a: E) -> E:
    """Softmax of a vector (all its entries, a row or a column) or of a matrix row by row (as the
    op table computes it for a batch)."""
    return _make("softmax", (a,), None, a.shape)


def index(a: E, i) -> E:
    if a.kind == "basis":
        return ONE if a.data == i else ZERO
    if a.kind == "mul":                      # (λ·x)[i] = λ·x[i]
        return mul(*[f if f.shape == SCALAR else index(f, i) for f in a.args])
    return _make("index", (a,), i, SCALAR)
