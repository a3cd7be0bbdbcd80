"""The op table: every operation is defined here, once.

An :class:`Op` gives

* ``value``: the result, written once against a math namespace ``xp`` so the
  same definition runs on Python floats (``xp = SCALAR``, the fast path of
  scalar programs) and on NumPy arrays (``xp = TENSOR``);
* the local derivative, numerically, in one of two forms:

  - ``partials`` for *elementwise* ops and *full reductions*: one array (or
    float) per operand, the derivative of the output element with respect to
    the matching operand element (for a reduction: shaped like the operand, e.g.
    ``sign(W)`` for ``‖W‖₁``).  The vector–Jacobian product is then
    ``_reduce_to(ḡ · partial)`` (summed over the axes broadcasting added);
  - ``vjp`` for the other tensor ops (``@``, transpose, indexing, softmax, …):
    ``vjp(ḡ, out, *args) -> one gradient per operand``, with ``rules``, the
    rule as text (``ḡ·Bᵀ``);

* ``sym``: the output as a SymPy expression of its operands' symbols, so the
  symbolic local derivative of an edge is ``diff(sym, operand)`` (``None``
  where only a rule in words fits);
* ``formula``: how the operation is written on paper, over operand names.

Conventions at kinks follow the course sheets: ``relu'(0) = 0``,
``abs'(0) = sign(0) = 0``, ``sign' = 0``; each op states its own in ``doc``.
Scalar values are Python floats; a 0-d NumPy result is turned into a float.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from .limits import check_deadline


# --- the two math namespaces -------------------------------------------------

def _relu_f(a):
    return a if a > 0.0 else 0.0


def _sigmoid_f(a):
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _softplus_f(a):
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))


def _sign_f(a):
    return 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)


def _step_f(a):
    return 1.0 if a > 0.0 else 0.0


class SCALAR:
    """``math`` for Python floats; raises on a domain error so the caller can fall back."""
    exp, log, sqrt, sin, cos, tanh, pow = math.exp, math.log, math.sqrt, math.sin, math.cos, math.tanh, math.pow
    relu, sigmoid, softplus, sign, step, abs = _relu_f, _sigmoid_f, _softplus_f, _sign_f, _step_f, abs

    @staticmethod
    def ge(a, b):
        return 1.0 if a >= b else 0.0

    @staticmethod
    def lt(a, b):
        return 1.0 if a < b else 0.0

    maximum, minimum = max, min


def _np_sigmoid(a):
    a = np.asarray(a, dtype=float)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class TENSOR:
    """NumPy, elementwise."""
    exp, log, sqrt, sin, cos, tanh, pow, abs, sign = np.exp, np.log, np.sqrt, np.sin, np.cos, np.tanh, np.power, np.abs, np.sign
    sigmoid = staticmethod(_np_sigmoid)
    maximum, minimum = np.maximum, np.minimum

    @staticmethod
    def relu(a):
        return np.maximum(a, 0.0)

    @staticmethod
    def softplus(a):
        return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))

    @staticmethod
    def step(a):
        return (np.asarray(a) > 0).astype(float)

    @staticmethod
    def ge(a, b):
        return (np.asarray(a) >= b).astype(float)

    @staticmethod
    def lt(a, b):
        return (np.asarray(a) < b).astype(float)


# --- the Op record ------------------------------------------------------------

def _on_arrays(f, *args, **params):
    """``f(TENSOR, ...)`` with Python floats as NumPy scalars, so that 1/0, log 0 and 0.5/√0 give
    ±inf/NaN under ``np.errstate`` instead of raising ZeroDivisionError (the tensor path is where
    the scalar fast path falls back to; tests/test_hardening.py checks it)."""
    with np.errstate(all="ignore"):       # NaN/inf are reported by evaluate, never as RuntimeWarning
        return f(TENSOR, *[np.float64(a) if a.__class__ is float else a for a in args], **params)


@dataclass
class Op:
    """Everything the package knows about one operation; every other module reads it from here.

    Reading: ``spellings`` (names in the plain notation's ``f(…)`` calls; the first is the one
    printed), ``arity`` (-1: any), ``params`` (keyword parameters, e.g. ``stride``).
    Numbers: ``value`` written against a namespace ``xp`` (``SCALAR``: math on floats, ``TENSOR``:
    NumPy), ``partials`` (elementwise local derivatives) or ``vjp`` (a vector–Jacobian rule).
    Symbols: ``sym`` (SymPy form), ``rules`` (the VJP rule as text), ``matrix`` (the matrix-form
    VJP template).  Showing: ``formula`` (Unicode over operand names), ``shown`` (the function's
    name drawn in SymPy text, e.g. ``σ``), ``tex`` / ``tex_elementwise`` (LaTeX templates),
    ``title`` (in words, for messages).  ``doc`` states the conventions (kinks, ties, NaN).
    """
    name: str
    arity: int
    value: Callable                       # value(xp, *args, **params)
    formula: str                          # "{0} + {1}", "σ({0})"
    kind: str = "elementwise"             # "elementwise" | "reduce" | "tensor"
    partials: Callable | None = None      # partials(xp, out, *args, **params) -> tuple
    vjp: Callable | None = None           # vjp(g, out, *args, **params) -> tuple (kind "tensor")
    sym: Callable | None = None           # sym(sympy, *symbols, **params) -> Expr
    rules: tuple[str, ...] = ()           # vector–Jacobian rule per operand, as text
    doc: str = ""
    scalar_ok: bool = True                # may run on Python floats through SCALAR
    params: tuple[str, ...] = field(default=())
    title: str = ""                       # "matrix product": how messages name the operation
    spellings: tuple[str, ...] = ()       # plain-notation function names: ("log", "ln")
    tex: str | None = None                # r"\log\left({0}\right)"
    tex_elementwise: str | None = None    # mul of two tensors (⊙) / matmul with a scalar side (·)
    shown: str | None = None              # the name drawn for the function: "σ", "ReLU", "√"
    matrix: Callable | None = None        # matrix(M, g, out, *args, **params) -> adjoint expressions

    def __post_init__(self):
        v, p = self.value, self.partials
        self.fast = self.scalar_ok and p is not None   # floats in, floats out, partials by `math`
        # functools.partial binds the namespace without an extra Python frame (hot loops call these)
        self.scalar = partial(v, SCALAR) if self.scalar_ok else None
        self.tensor = partial(_on_arrays, v)
        if p is not None:
            self.scalar_partials = partial(p, SCALAR) if self.scalar_ok else None
            self.tensor_partials = partial(_on_arrays, p)


OPS: dict[str, Op] = {}


def _op(name, arity, value, formula, **kw) -> Op:
    op = Op(name, arity, value, formula, **kw)
    OPS[name] = op
    return op


# --- elementwise binary ---------------------------------------------------------

_op("add", 2, lambda xp, a, b: a + b, "{0} + {1}",
    partials=lambda xp, out, a, b: (1.0, 1.0), sym=lambda sp, a, b: a + b,
    doc="a + b, NumPy broadcasting; the gradient of a broadcast operand is summed over the broadcast axes.",
    title='sum', tex='{0} + {1}')
_op("sub", 2, lambda xp, a, b: a - b, "{0} − {1}",
    partials=lambda xp, out, a, b: (1.0, -1.0), sym=lambda sp, a, b: a - b,
    doc="a − b, NumPy broadcasting.",
    title='difference', tex='{0} - {1}')
_op("mul", 2, lambda xp, a, b: a * b, "{0}·{1}",
    partials=lambda xp, out, a, b: (b, a), sym=lambda sp, a, b: a * b,
    doc="Elementwise product with broadcasting (a 3×1 times a 1×2 is their 3×2 outer product).",
    title='elementwise product', tex=r"{0} \cdot {1}", tex_elementwise=r"{0} \odot {1}")
_op("div", 2, lambda xp, a, b: a / b, "{0}/{1}",
    partials=lambda xp, out, a, b: (1.0 / b, -out / b), sym=lambda sp, a, b: a / b,
    doc="a / b elementwise. Division by zero gives ±inf or NaN with a warning naming the node.",
    title='quotient', tex=r"\frac{{{0}}}{{{1}}}")


def _pow_partials(xp, out, a, b):
    if xp is SCALAR:
        db = out * math.log(a) if a > 0.0 else (0.0 if a == 0.0 and b > 0 else math.nan)
        return (b * math.pow(a, b - 1.0) if b != 0.0 else 0.0, db)
    with np.errstate(all="ignore"):
        a_arr = np.asarray(a, dtype=float)
        da = np.where(np.asarray(b) == 0, 0.0, b * np.power(a_arr, np.asarray(b, dtype=float) - 1.0))
        db = np.where(a_arr > 0, out * np.log(np.where(a_arr > 0, a_arr, 1.0)),
                      np.where((a_arr == 0) & (np.asarray(b) > 0), 0.0, np.nan))
    return da, db


def _pow_sym(sp, a, b):
    """a**b for SymPy, kept small: exact powers only of small numbers (2^2^2^2^2^2 exactly would
    never print) and a big exponent as a float (expand((x + 1)^(10^308)) fills the memory)."""
    if a.is_Number and b.is_Number and not (abs(a) <= 10 ** 6 and abs(b) <= 64):
        try:
            return sp.Float(math.pow(float(a), float(b)))
        except OverflowError:
            return sp.oo
        except ValueError:
            return sp.nan
    if b.is_Number and abs(b) > 64:
        b = sp.Float(b)
    return a ** b


_op("pow", 2, lambda xp, a, b: xp.pow(a, b), "{0}^{1}", partials=_pow_partials,
    sym=lambda sp, a, b: _pow_sym(sp, a, b),
    doc="a^b elementwise (also written **). ∂/∂a = b·a^(b−1); ∂/∂b = a^b·ln a, "
        "defined only for a > 0 (NaN otherwise, 0 at a = 0 with b > 0). A negative base with a "
        "fractional exponent gives NaN with a warning.",
    title='power', tex='{0}^{{{1}}}')
_op("maximum", 2, lambda xp, a, b: xp.maximum(a, b), "max({0}, {1})",
    partials=lambda xp, out, a, b: (xp.ge(a, b), 1.0 - xp.ge(a, b)), sym=lambda sp, a, b: sp.Max(a, b),
    doc="max(a, b) elementwise. At a tie (a = b) the whole derivative goes to the first argument.",
    title='elementwise maximum', spellings=('max',), tex=r"\max\left({0}, {1}\right)")
_op("minimum", 2, lambda xp, a, b: xp.minimum(a, b), "min({0}, {1})",
    partials=lambda xp, out, a, b: (1.0 - xp.lt(b, a), xp.lt(b, a)), sym=lambda sp, a, b: sp.Min(a, b),
    doc="min(a, b) elementwise. At a tie (a = b) the whole derivative goes to the first argument.",
    title='elementwise minimum', spellings=('min',), tex=r"\min\left({0}, {1}\right)")

# --- elementwise unary ------------------------------------------------------------

_op("neg", 1, lambda xp, a: -a, "−{0}", partials=lambda xp, out, a: (-1.0,), sym=lambda sp, a: -a,
    doc="−a.",
    title='negation', tex='-{0}')
_op("exp", 1, lambda xp, a: xp.exp(a), "exp({0})", partials=lambda xp, out, a: (out,),
    sym=lambda sp, a: sp.exp(a), doc="e^a; overflow gives inf with a warning naming the node.",
    title='exponential', spellings=('exp',), tex=r"\exp\left({0}\right)")
_op("log", 1, lambda xp, a: xp.log(a), "log({0})", partials=lambda xp, out, a: (1.0 / a,),
    sym=lambda sp, a: sp.log(a),
    doc="Natural logarithm (also ln). log 0 = −inf and log of a negative number = NaN, each with a warning naming the node.",
    title='logarithm', spellings=('log', 'ln'), tex=r"\log\left({0}\right)")
_op("sqrt", 1, lambda xp, a: xp.sqrt(a), "√{0}", partials=lambda xp, out, a: (0.5 / out,),
    sym=lambda sp, a: sp.sqrt(a), doc="Square root; of a negative number NaN with a warning; sqrt'(0) = inf.",
    title='square root', spellings=('sqrt',), tex=r"\sqrt{{{0}}}", shown='√')
_op("sin", 1, lambda xp, a: xp.sin(a), "sin({0})", partials=lambda xp, out, a: (xp.cos(a),),
    sym=lambda sp, a: sp.sin(a), doc="Sine.",
    title='sine', spellings=('sin',), tex=r"\sin\left({0}\right)")
_op("cos", 1, lambda xp, a: xp.cos(a), "cos({0})", partials=lambda xp, out, a: (-xp.sin(a),),
    sym=lambda sp, a: sp.cos(a), doc="Cosine.",
    title='cosine', spellings=('cos',), tex=r"\cos\left({0}\right)")
_op("tanh", 1, lambda xp, a: xp.tanh(a), "tanh({0})", partials=lambda xp, out, a: (1.0 - out * out,),
    sym=lambda sp, a: sp.tanh(a), doc="Hyperbolic tangent; tanh' = 1 − tanh².",
    title='hyperbolic tangent', spellings=('tanh',), tex=r"\tanh\left({0}\right)")
_op("sigmoid", 1, lambda xp, a: xp.sigmoid(a), "σ({0})", partials=lambda xp, out, a: (out * (1.0 - out),),
    sym=lambda sp, a: _sym_fn("sigmoid")(a), doc="Logistic σ(a) = 1/(1 + e^−a), computed stably; σ' = σ(1 − σ).",
    title='logistic sigmoid', spellings=('sigmoid', 'σ'), tex=r"\sigma\left({0}\right)", shown='σ')
_op("relu", 1, lambda xp, a: xp.relu(a), "ReLU({0})", partials=lambda xp, out, a: (xp.step(a),),
    sym=lambda sp, a: _sym_fn("relu")(a), doc="max(a, 0); relu'(a) = 1{a > 0}, so relu'(0) = 0.",
    title='ReLU', spellings=('relu', 'ReLU', 'rect'), tex=r"\operatorname{{ReLU}}\left({0}\right)", shown='ReLU')
_op("softplus", 1, lambda xp, a: xp.softplus(a), "softplus({0})",
    partials=lambda xp, out, a: (xp.sigmoid(a),), sym=lambda sp, a: sp.log(1 + sp.exp(a)),
    doc="log(1 + e^a), computed stably; softplus' = σ.",
    title='softplus', spellings=('softplus',), tex=r"\operatorname{{softplus}}\left({0}\right)")
_op("leaky_relu", 2, lambda xp, a, s: xp.relu(a) + s * (a - xp.relu(a)), "LeakyReLU({0}, {1})",
    partials=lambda xp, out, a, s: (xp.step(a) + s * (1.0 - xp.step(a)), a - xp.relu(a)),
    sym=lambda sp, a, s: _sym_fn("relu")(a) + s * (a - _sym_fn("relu")(a)),
    doc="x for x > 0, s·x otherwise (s the slope, e.g. 0.01). Like relu'(0) = 0, the kink takes the "
        "left side: ∂/∂x = s at x = 0; ∂/∂s = min(x, 0).",
    title="leaky ReLU", spellings=("leaky_relu", "LeakyReLU"),
    tex=r"\operatorname{{LeakyReLU}}_{{{1}}}\left({0}\right)", shown="LeakyReLU")
_op("elu", 2, lambda xp, a, s: xp.relu(a) + s * (xp.exp(a - xp.relu(a)) - 1.0), "ELU({0}, {1})",
    partials=lambda xp, out, a, s: (xp.step(a) + s * xp.exp(a - xp.relu(a)) * (1.0 - xp.step(a)),
                                    xp.exp(a - xp.relu(a)) - 1.0),
    sym=lambda sp, a, s: _sym_fn("relu")(a) + s * (sp.exp(a - _sym_fn("relu")(a)) - 1),
    doc="x for x > 0, s·(eˣ − 1) otherwise (Clevert et al. 2016; s usually 1). The kink takes the left "
        "side, as relu'(0) = 0: ∂/∂x = s at x = 0; ∂/∂s = e^min(x, 0) − 1.",
    title="ELU", spellings=("elu", "ELU"), tex=r"\operatorname{{ELU}}_{{{1}}}\left({0}\right)", shown="ELU")
_op("abs", 1, lambda xp, a: xp.abs(a), "|{0}|", partials=lambda xp, out, a: (xp.sign(a),),
    sym=lambda sp, a: sp.Abs(a), doc="|a| elementwise; abs'(a) = sign(a), so abs'(0) = 0.",
    title='absolute value', spellings=('abs',), tex=r"\left|{0}\right|")
_op("sign", 1, lambda xp, a: xp.sign(a), "sign({0})", partials=lambda xp, out, a: (0.0 * a,),
    sym=lambda sp, a: sp.sign(a), doc="sign(a) ∈ {−1, 0, 1}; sign'(a) = 0 everywhere (also at 0).",
    title='sign', spellings=('sign',), tex=r"\operatorname{{sign}}\left({0}\right)")

# --- full reductions: partials shaped like the operand ---------------------------


def _ones_like(a):
    return np.ones_like(a, dtype=float) if isinstance(a, np.ndarray) else 1.0


def _size(a):
    return a.size if isinstance(a, np.ndarray) else 1


_op("sum", 1, lambda xp, a: a if xp is SCALAR else np.sum(a), "Σ{0}", kind="reduce",
    partials=lambda xp, out, a: (_ones_like(a),), sym=lambda sp, a: a,
    doc="Sum of all entries. Symbolically shown elementwise: ∂Σa/∂aᵢ = 1.",
    title='sum of entries', spellings=('sum',), tex=r"\textstyle\sum {0}", shown='Σ')
_op("mean", 1, lambda xp, a: a if xp is SCALAR else np.mean(a), "mean({0})", kind="reduce",
    partials=lambda xp, out, a: (_ones_like(a) / _size(a),), rules=("ḡ/n",),
    doc="Mean of all entries; ∂/∂aᵢ = 1/n.",
    title='mean of entries', spellings=('mean',), tex=r"\operatorname{{mean}}\left({0}\right)")
_op("norm1", 1, lambda xp, a: xp.abs(a) if xp is SCALAR else np.sum(np.abs(a)), "‖{0}‖₁", kind="reduce",
    partials=lambda xp, out, a: (xp.sign(a),), sym=lambda sp, a: sp.Abs(a),
    doc="Entrywise 1-norm Σ|aᵢ|; derivative sign(a), so 0 at aᵢ = 0 (as the seeds define abs'(0)).",
    title='1-norm', tex=r"\left\|{0}\right\|_1")
_op("sqnorm2", 1, lambda xp, a: a * a if xp is SCALAR else np.sum(a * a), "‖{0}‖₂²", kind="reduce",
    partials=lambda xp, out, a: (2.0 * a,), sym=lambda sp, a: a ** 2,
    doc="Squared entrywise 2-norm Σaᵢ² (what ‖e‖_2^2 parses to: one node, as the sheets draw it); derivative 2a.",
    title='squared 2-norm', tex=r"\left\|{0}\right\|_2^2")


def _norm2_partials(xp, out, a):
    if out == 0.0:
        return (0.0 * a,)
    return (a / out,)


_op("norm2", 1, lambda xp, a: abs(a) if xp is SCALAR else float(np.sqrt(np.sum(a * a))), "‖{0}‖₂", kind="reduce",
    partials=_norm2_partials, rules=("a/‖a‖₂",),
    doc="Entrywise 2-norm √Σaᵢ² (also ‖e‖); derivative a/‖a‖₂, taken as 0 at a = 0.",
    title='2-norm', tex=r"\left\|{0}\right\|_2")


def _normp_value(xp, a, p):
    return float(np.sum(np.abs(a) ** p) ** (1.0 / p))


def _normp_partials(xp, out, a, p):
    if out == 0.0:
        return (0.0 * a,)
    return (np.sign(a) * np.abs(a) ** (p - 1.0) / out ** (p - 1.0),)


_op("normp", 1, _normp_value, "‖{0}‖_{p}", kind="reduce", partials=_normp_partials, scalar_ok=False,
    rules=("sign(a)·|a|^(p−1)/‖a‖ₚ^(p−1)",), params=("p",),
    doc="Entrywise p-norm (Σ|aᵢ|^p)^(1/p), p a number; derivative sign(a)|a|^(p−1)/‖a‖ₚ^(p−1), 0 at a = 0.",
    title='p-norm', tex=r"\left\|{0}\right\|_{{{p}}}")


_op("trace", 1, lambda xp, a: float(np.trace(a)), "tr({0})", kind="reduce", scalar_ok=False,
    partials=lambda xp, out, a: (np.eye(*np.shape(a)),), rules=("ḡ·I",),
    doc="Trace of a matrix; ∂tr(A)/∂A = I.",
    title='trace', spellings=('tr', 'trace'), tex=r"\operatorname{{tr}}\left({0}\right)", shown='tr')
_op("det", 1, lambda xp, a: float(np.linalg.det(a)), "det({0})", kind="reduce", scalar_ok=False,
    partials=lambda xp, out, a: (_det_grad(a, out),), rules=("ḡ·det(A)·A⁻ᵀ",),
    doc="Determinant; ∂det(A)/∂A = det(A)·A⁻ᵀ (the cofactor matrix, so it is exact for a singular A too).",
    title='determinant', spellings=('det',), tex=r"\det\left({0}\right)")


def _det_grad(a, det):
    a = np.asarray(a, dtype=float)
    n = a.shape[0]
    if n > 8:                  # n² minors cost O(n⁵): a 160×160 matrix took 25 s
        return _cofactors_svd(a)
    cof = np.empty_like(a)
    for i in range(n):     # cofactors: defined for singular matrices, where det·A⁻ᵀ is not
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            cof[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return cof


def _cofactors_svd(a):
    """The cofactor matrix adj(A)ᵀ in O(n³), exact for singular A too: for A = U·Σ·Vᵀ,
    adj(A) = det(U)·det(V)·V·diag(∏_{j≠i} σⱼ)·Uᵀ."""
    if not np.all(np.isfinite(a)):
        return np.full(a.shape, np.nan)
    u, s, vt = np.linalg.svd(a)
    others = np.array([np.prod(np.delete(s, i)) for i in range(len(s))])
    adj = np.linalg.det(u) * np.linalg.det(vt) * (vt.T * others) @ u.T
    return adj.T


# --- tensor ops with a vector–Jacobian rule -------------------------------------------


def _matmul_value(xp, a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    return a @ b


def _matmul_vjp(g, out, a, b, need=(True, True)):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return (_reduce_to(g * b, a), _reduce_to(g * a, b))
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim > 2 or b.ndim > 2:       # batched (a 3-D literal @ W): the leading axes broadcast
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = np.asarray(g)
        g2 = np.expand_dims(g2, -2) if a.ndim == 1 else g2
        g2 = np.expand_dims(g2, -1) if b.ndim == 1 else g2
        return (_reduce_to(g2 @ np.swapaxes(b2, -1, -2), a2).reshape(a.shape),
                _reduce_to(np.swapaxes(a2, -1, -2) @ g2, b2).reshape(b.shape))
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    if a.ndim == 1:
        return (b @ g if need[0] else None), (np.outer(a, g) if need[1] else None)
    if b.ndim == 1:
        return (np.outer(g, b) if need[0] else None), (a.T @ g if need[1] else None)
    # the products are the costly part of a layer's backward pass: skip the ones nobody needs
    return (g @ b.T if need[0] else None), (a.T @ g if need[1] else None)


_op("matmul", 2, _matmul_value, "{0} @ {1}", kind="tensor", vjp=_matmul_vjp, rules=("ḡ·Bᵀ", "Aᵀ·ḡ"),
    doc="Matrix product A @ B (NumPy rules for 1-D vectors). A scalar side makes it plain "
        "multiplication, as sheets write W·x for a scalar x.",
    title='matrix product', tex=r"{0}\,{1}", tex_elementwise=r"{0} \cdot {1}")
_op("transpose", 1, lambda xp, a: a if np.ndim(a) < 2 else np.swapaxes(a, -1, -2), "{0}ᵀ", kind="tensor",
    vjp=lambda g, out, a: (g if np.ndim(g) < 2 else np.swapaxes(g, -1, -2),), rules=("ḡᵀ",),
    doc="Transpose (.T or ^T); a vector or a scalar is left as it is.",
    title='transpose', tex=r"{0}^\top")


def _index_value(xp, a, index):
    return a[index]


def _index_vjp(g, out, a, index):
    grad = np.zeros(np.shape(a))
    grad[index] += g
    return (grad,)


_op("index", 1, _index_value, "{0}[{index}]", kind="tensor", vjp=_index_vjp, scalar_ok=False,
    rules=("ḡ at [{index}], 0 elsewhere",), params=("index",),
    doc="Integer indexing, 0-based as in NumPy: p[1], A[0, 1]; negative indices count from the end.",
    title='indexing', tex='{0}[{index}]')


def _axis(a) -> int:
    """Softmax's axis: the last (each row of a matrix), but the n entries of an n×1 column — a vector
    written as a column, as in every formula — are one distribution."""
    return -2 if np.ndim(a) == 2 and np.shape(a)[1] == 1 and np.shape(a)[0] > 1 else -1


def _softmax(a):
    a = np.asarray(a, dtype=float)
    axis = _axis(a)
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, out, a):
    return (out * (g - np.sum(g * out, axis=_axis(a), keepdims=True)),)


_op("softmax", 1, lambda xp, a: _softmax(a), "softmax({0})", kind="tensor", vjp=_softmax_vjp, scalar_ok=False,
    rules=("s ⊙ (ḡ − ⟨ḡ, s⟩)",),
    doc="Softmax along the last axis (each row of a matrix; an n×1 column is one distribution of n "
        "entries), computed stably; Jacobian diag(s) − s sᵀ.",
    title='softmax', spellings=('softmax',), tex=r"\operatorname{{softmax}}\left({0}\right)")


def _logsumexp(a):
    a = np.asarray(a, dtype=float)
    axis = _axis(a)
    m = np.max(a, axis=axis, keepdims=True)
    r = np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))
    return float(r.ravel()[0]) if np.size(r) == 1 else r


def _logsumexp_vjp(g, out, a):
    g = np.asarray(g)
    return ((g if np.ndim(g) == 0 else np.expand_dims(g, _axis(a))) * _softmax(a),)


_op("logsumexp", 1, lambda xp, a: _logsumexp(a), "logsumexp({0})", kind="tensor", scalar_ok=False,
    vjp=_logsumexp_vjp, rules=("ḡ·softmax(a)",),
    doc="log Σ exp along softmax's axis (a vector or an n×1 column gives a scalar), computed stably; "
        "derivative softmax(a).",
    title='log-sum-exp', spellings=('logsumexp',), tex=r"\operatorname{{logsumexp}}\left({0}\right)")


def _inv_value(xp, a):
    a = np.asarray(a, dtype=float)
    if np.ndim(a) == 0:
        return 1.0 / a
    if a.ndim != 2 or a.shape[0] != a.shape[1]:     # a vector or a non-square matrix: no inverse
        raise ValueError("the inverse needs a square matrix")
    with np.errstate(all="ignore"):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            return np.full(a.shape, np.nan)


def _inv_vjp(g, out, a):
    if np.ndim(out) == 0:          # inv of a scalar is 1/a
        return (-g * out * out,)
    return (-(out.T @ g @ out.T),)


_op("inv", 1, _inv_value, "{0}⁻¹", kind="tensor", vjp=_inv_vjp, scalar_ok=False, rules=("−A⁻ᵀ·ḡ·A⁻ᵀ",),
    doc="Matrix inverse of a square matrix (a scalar: 1/a; a vector or a non-square matrix is a "
        "shape error). A singular matrix gives a matrix of NaN with a warning naming the node.",
    title='matrix inverse', spellings=('inv',), tex='{0}^{{-1}}')


def _conv2d_value(xp, image, kernel, stride=1):
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    k3 = kernel if kernel.ndim == 3 else kernel[None]
    kh, kw = k3.shape[-2:]
    oh, ow = (image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"the kernel ({kh}×{kw}) is larger than the image ({image.shape[0]}×{image.shape[1]})")
    out = np.zeros((k3.shape[0], oh, ow))
    for i in range(kh):
        for j in range(kw):
            check_deadline("conv2d")    # kh·kw passes over the image: a 100×100 kernel is 10⁴ of them
            patch = image[i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            out += k3[:, i, j, None, None] * patch[None]
    return out if kernel.ndim == 3 else out[0]


def _conv2d_vjp(g, out, image, kernel, stride=1):
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    k3 = kernel if kernel.ndim == 3 else kernel[None]
    g3 = np.asarray(g) if kernel.ndim == 3 else np.asarray(g)[None]
    kh, kw = k3.shape[-2:]
    oh, ow = g3.shape[-2:]
    g_image, g_kernel = np.zeros_like(image), np.zeros_like(k3)
    for i in range(kh):
        for j in range(kw):
            check_deadline("conv2d")
            rows = slice(i, i + stride * (oh - 1) + 1, stride)
            cols = slice(j, j + stride * (ow - 1) + 1, stride)
            g_kernel[:, i, j] = np.sum(g3 * image[rows, cols][None], axis=(1, 2))
            g_image[rows, cols] += np.sum(g3 * k3[:, i, j, None, None], axis=0)
    return g_image, (g_kernel if kernel.ndim == 3 else g_kernel[0])


_op("conv2d", 2, _conv2d_value, "{0} ⋆ {1}", kind="tensor", vjp=_conv2d_vjp, scalar_ok=False,
    params=("stride",), rules=("Σ ḡ·K over windows", "Σ ḡ·I-window"),
    doc="Deep-learning 2-D convolution: cross-correlation (no kernel flip), 'valid' padding, "
        "stride 1 unless stride= is given. A 3-D kernel (C×kh×kw) gives C output maps.",
    title='2-D convolution', spellings=('conv2d',), tex=r"{0} \star {1}")


# --- element-level ops of the scalar view (graphviz_bp.scalar_view) -------------------------------------------


def _dot_value(xp, *args):
    n = len(args) // 2
    total = 0.0
    for k in range(n):
        total += args[k] * args[n + k]
    return total


def _dot_partials(xp, out, *args):
    n = len(args) // 2
    return tuple(args[n:]) + tuple(args[:n])


def _dot_sym(sp, *args):
    n = len(args) // 2
    return sp.Add(*[args[k] * args[n + k] for k in range(n)])


_op("dot", -1, _dot_value, "Σ", partials=_dot_partials, sym=_dot_sym,
    doc="One neuron of a matrix product: Σₖ aₖ·bₖ over its 2n operands (a₁…aₙ, b₁…bₙ).",
    title='neuron sum')


def _component_full(args, template, slots):
    operands = [np.array(t, dtype=float, copy=True) if np.ndim(t) else t for t in template]
    for value, (k, flat) in zip(args, slots):
        if np.ndim(operands[k]):
            operands[k].flat[flat] = value
        else:
            operands[k] = value
    return operands


def _component_value(xp, *args, op, template, slots, position, params):
    inner = OPS[op]
    full = _component_full(args, template, slots)
    with np.errstate(all="ignore"):
        out = inner.tensor(*full, **params)
    return float(np.asarray(out)[position]) if np.ndim(out) else float(out)


def _component_partials(xp, out, *args, op, template, slots, position, params):
    inner = OPS[op]
    full = _component_full(args, template, slots)
    with np.errstate(all="ignore"):
        value = inner.tensor(*full, **params)
        seed = 1.0
        if np.ndim(value):
            seed = np.zeros(np.shape(value))
            seed[position] = 1.0
        grads = operand_vjps(inner, seed, value, full, params)
    return tuple(float(np.ravel(grads[k])[flat]) if np.ndim(grads[k]) else float(grads[k])
                 for k, flat in slots)


_op("component", -1, _component_value, "{op}[{position}]", partials=_component_partials,
    rules=("Jacobian entry",),
    doc="One output element of a tensor op, as a function of the input elements it depends on.",
    title='Jacobian component')


# --- helpers shared by the algorithms ---------------------------------------------------


def _reduce_to(grad, like):
    """Sum ``grad`` over the axes NumPy broadcasting added, so it takes the shape of ``like``."""
    shape = np.shape(like)
    if np.shape(grad) == shape:
        return grad
    if shape == ():
        return float(np.sum(grad))
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return np.broadcast_to(grad, shape).astype(float, copy=True) if grad.shape != shape else grad




def operand_vjps(op: Op, g, out, args, params, need=None):
    """ḡ times the local derivative, one gradient per operand, each shaped like its operand.

    ``need`` (one bool per operand) lets the caller skip operands whose gradient nobody
    asked for; such entries may come back as None."""
    if op.kind == "tensor":
        if need is not None and op.name == "matmul":
            return op.vjp(g, out, *args, need=need)
        return op.vjp(g, out, *args, **params)
    with np.errstate(all="ignore"):
        parts = op.tensor_partials(out, *args, **params)
        if need is None:
            return tuple(_reduce_to(g * d, a) for d, a in zip(parts, args))
        return tuple(_reduce_to(g * d, a) if n else None for d, a, n in zip(parts, args, need))


_SYM_FUNCTIONS: dict = {}


def _sym_fn(name):
    """SymPy functions for σ, ReLU and its step with the derivatives of this table (built on first use).

    On a real number each one is a number (``Max(x, relu(0))`` needs comparable arguments), and
    each is real on reals. SymPy simplifies a Function on numbers through a classmethod that must
    be called ``eval`` (SymPy's hook, not Python's evaluator), so the classes are built with ``type``.
    """
    if name not in _SYM_FUNCTIONS:
        import sympy as sp

        def numeric(rule):
            def on_number(cls, a):
                if a.is_number and a.is_extended_real:
                    return rule(a)
            return classmethod(on_number)

        def real_on_reals(self):
            return self.args[0].is_extended_real

        def function(fname, rule, derivative, doc):
            hooks = {"eval": numeric(rule), "_eval_is_extended_real": real_on_reals,
                     "fdiff": lambda self, argindex=1: derivative(self.args[0]), "__doc__": doc}
            return type(fname, (sp.Function,), hooks)

        step = function("step", lambda a: sp.S.One if a > 0 else sp.S.Zero, lambda a: sp.S.Zero,
                        "1{x > 0}: the derivative of ReLU (so relu'(0) = 0).")
        relu = function("relu", lambda a: sp.Max(a, 0), lambda a: step(a), "max(x, 0).")
        sigmoid = function("sigmoid", lambda a: 1 / (1 + sp.exp(-a)),
                           lambda a: sigmoid(a) * (1 - sigmoid(a)), "1/(1 + e^-x).")
        _SYM_FUNCTIONS.update(sigmoid=sigmoid, relu=relu, step=step)
    return _SYM_FUNCTIONS[name]


# --- the notation's function names -> op names ----------------------------------------------

FUNCTIONS: dict[str, str] = {s: op.name for op in OPS.values() for s in op.spellings}
"""The plain notation's function names → op names (``ln`` → ``log``), read off the table."""


# --- matrix-form VJP templates (issue 14; graphviz_bp/algorithms/matrix_form) ---------------------
# Ḡ = g is the adjoint of the result ``out``; each template returns one adjoint expression per
# operand (None: no matrix rule for these shapes).  They are written against a namespace ``M`` of
# canonicalising expression constructors passed in at run time, as ``value`` is written against
# math/NumPy.  Ops without one (maximum, minimum, conv2d, dot, component) fall back to numbers.

def _matrix(name, rule):
    OPS[name].matrix = rule


def _mm_rule(M, g, out, a, b):
    if M.is_scalar(a) or M.is_scalar(b):                 # a scalar side: plain multiplication
        return M.unbroadcast(M.mul(g, b), a), M.unbroadcast(M.mul(g, a), b)
    return M.mm(g, M.T(b)), M.mm(M.T(a), g)             # Ā = ḠBᵀ, B̄ = AᵀḠ


_matrix("add", lambda M, g, out, a, b: (M.unbroadcast(g, a), M.unbroadcast(g, b)))
_matrix("sub", lambda M, g, out, a, b: (M.unbroadcast(g, a), M.unbroadcast(M.neg(g), b)))
_matrix("mul", lambda M, g, out, a, b: (M.unbroadcast(M.mul(g, b), a), M.unbroadcast(M.mul(g, a), b)))
_matrix("div", lambda M, g, out, a, b: (M.unbroadcast(M.div(g, b), a),
                                        M.unbroadcast(M.neg(M.div(M.mul(g, a), M.pow(b, 2))), b)))
_matrix("pow", lambda M, g, out, a, b: (M.unbroadcast(M.mul(g, b, M.pow(a, M.sub(b, 1))), a),
                                        M.unbroadcast(M.mul(g, out, M.log(a)), b)))
_matrix("neg", lambda M, g, out, a: (M.neg(g),))
_matrix("exp", lambda M, g, out, a: (M.mul(g, out),))
_matrix("log", lambda M, g, out, a: (M.div(g, a),))
_matrix("sqrt", lambda M, g, out, a: (M.div(g, M.mul(2, out)),))
_matrix("sin", lambda M, g, out, a: (M.mul(g, M.fn("cos", a)),))
_matrix("cos", lambda M, g, out, a: (M.neg(M.mul(g, M.fn("sin", a))),))
_matrix("tanh", lambda M, g, out, a: (M.mul(g, M.sub(1, M.pow(out, 2))),))
_matrix("sigmoid", lambda M, g, out, a: (M.mul(g, out, M.sub(1, out)),))
_matrix("relu", lambda M, g, out, a: (M.mul(g, M.fn("step", a)),))          # relu'(0) = 0
_matrix("softplus", lambda M, g, out, a: (M.mul(g, M.fn("sigmoid", a)),))
_matrix("abs", lambda M, g, out, a: (M.mul(g, M.fn("sign", a)),))            # abs'(0) = 0
_matrix("sign", lambda M, g, out, a: (M.zeros_like(a),))                     # sign' = 0
_matrix("sum", lambda M, g, out, a: (M.mul(g, M.ones_like(a)),))
_matrix("mean", lambda M, g, out, a: (M.div(M.mul(g, M.ones_like(a)), M.size(a)),))
_matrix("norm1", lambda M, g, out, a: (M.mul(g, M.fn("sign", a)),))
_matrix("sqnorm2", lambda M, g, out, a: (M.mul(2, g, a),))
_matrix("norm2", lambda M, g, out, a: (M.div(M.mul(g, a), out),))
_matrix("trace", lambda M, g, out, a: (M.mul(g, M.eye_like(a)),))             # Ā = ḡI
_matrix("det", lambda M, g, out, a: (M.mul(g, out, M.T(M.inv(a))),))         # Ā = ḡ·det(A)·A⁻ᵀ
_matrix("matmul", _mm_rule)
_matrix("transpose", lambda M, g, out, a: (M.T(g),))
_matrix("inv", lambda M, g, out, a: (M.neg(M.mm(M.T(out), g, M.T(out))),))    # Ā = −CᵀḠCᵀ
_matrix("softmax", lambda M, g, out, a: (M.sub(M.mul(out, g), M.mul(out, M.sum(M.mul(out, g)))),)
        if M.is_vector(a) else                                                 # s⊙Ḡ − s·(sᵀḠ)
        (M.sub(M.mul(out, g), M.mul(out, M.mm(M.mul(out, g), M.ones(a.shape[1], 1)))),))   # row by row
_matrix("logsumexp", lambda M, g, out, a: (M.mul(g, M.softmax(a)),) if M.is_vector(a) else None)
_matrix("index", lambda M, g, out, a, index: (M.mul(g, M.basis_like(a, index)),)
        if M.is_vector(a) and M.basis_like(a, index) is not None else None)    # ḡ·eᵢ
