"""Symbolic reverse accumulation in matrix form: the op table's matrix templates run backwards.

For every node the adjoint ∂L/∂node (shaped like the node: the *gradient layout*) at three levels:

* ``rule``: in the adjoints of its consumers, as a sheet's rule line (W̄ = Xᵀā + λ·sign(W));
* ``named``: in the node names, consumers' adjoints substituted (∂L/∂W = 2Xᵀc + λ·sign(W));
* ``inputs``: everything expanded into the inputs (2Xᵀ(XW − Y) + λ·sign(W)).

An op with no matrix template (conv2d, max/min, indexing of a matrix, a row-wise softmax) makes
its operands' adjoints *opaque*: a name (``dL_dz``) whose value is the numeric adjoint, so the
formulas above it are still right and still checked, and a note says why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from . import expr as X
from .expr import E, SCALAR, ShapeError
from .traverse import substitute


def _as_expr(v) -> E:
    return v if isinstance(v, E) else X.num(v)


def _unbroadcast(x: E, like: E) -> E:
    """``x`` summed over the axes broadcasting added, so it has ``like``'s shape."""
    x, like_shape = _as_expr(x), like.shape
    if x.shape == like_shape:
        return x
    if like_shape == SCALAR:
        return X.red("sum", x)
    m, p = x.shape
    if like_shape == (m, 1):                       # a column broadcast along the rows: x·𝟏
        if x.kind == "mul":
            rows = [f for f in x.args if f.shape == (1, p)]
            if len(rows) == 1:
                rest = X.mul(*[f for f in x.args if f is not rows[0]])
                return X.mm(rest, X.T(rows[0]))
        return X.mm(x, X.num(1, (p, 1)))
    if like_shape == (1, p):                       # a row broadcast down the columns: 𝟏ᵀx
        if x.kind == "mul":
            cols = [f for f in x.args if f.shape == (m, 1)]
            if len(cols) == 1:
                rest = X.mul(*[f for f in x.args if f is not cols[0]])
                return X.mm(X.T(cols[0]), rest)
        return X.mm(X.num(1, (1, m)), x)
    raise ShapeError(f"cannot reduce shape {x.shape} to {like_shape}")


def _binary(f):
    return lambda *a: f(*[_as_expr(x) for x in a])


#: The namespace the op table's ``matrix`` templates are written against (as ``value`` is
#: written against math/NumPy): our canonicalising constructors.
M = SimpleNamespace(
    add=_binary(X.add), sub=_binary(X.sub), neg=X.neg, mul=_binary(X.mul), div=_binary(X.div),
    pow=lambda a, p: X.pow_(a, _as_expr(p)), mm=X.mm, T=X.T, inv=X.inv, softmax=X.softmax,
    fn=X.fn, log=lambda a: X.fn("log", a), sum=lambda a: X.red("sum", a),
    unbroadcast=_unbroadcast, is_scalar=lambda a: a.shape == SCALAR,
    is_vector=lambda a: a.shape != SCALAR and 1 in a.shape,
    ones_like=lambda a: X.num(1, a.shape), zeros_like=lambda a: X.num(0, a.shape),
    ones=lambda r, c: X.num(1, (r, c)),
    eye_like=lambda a: X.eye(*a.shape), size=lambda a: X.size(a.shape),
    basis_like=lambda a, i: X.basis(i if not isinstance(i, tuple) else (i[0] if len(i) == 1 else None),
                                    a.shape) if _vector_index(a, i) is not None else None,
)


def _vector_index(a, i):
    if isinstance(i, tuple):
        if len(i) != 1:
            return None
        i = i[0]
    if not isinstance(i, int):
        return None
    n = max(d for d in a.shape if isinstance(d, int)) if all(isinstance(d, int) for d in a.shape) else None
    if n is not None and i < 0:
        return None
    return i


def _row_on_left(op: str, args) -> bool:
    """A 1-D vector on the left of ``@`` is a row in NumPy (``w @ X @ w`` is wᵀXw): our column w
    is used transposed there.  (A true n×1 column there would not have evaluated at all.)"""
    if op != "matmul":
        return False
    a, b = args
    return a.shape[1] == 1 and a.shape[0] != 1 and b.shape != SCALAR and b.shape[0] == a.shape[0] != 1


_BROADCASTING = ("add", "sub", "mul", "div", "pow", "maximum", "minimum")


def _orientation(e: E):
    r, c = e.shape
    return "col" if c == 1 and r != 1 else "row" if r == 1 and c != 1 else None


def _flips(op: str, args, flat) -> tuple:
    """Which operands to use transposed so that the formula means what NumPy computed: a 1-D vector
    on the left of ``@`` is a row; in an elementwise op a 1-D vector broadcasts as a row against a
    2-D array (``y - A``), and two 1-D vectors are alike (``x^T - x`` is 0, not an outer difference).
    ``flat``: whether each operand's value is 1-D."""
    if op == "matmul":
        return (_row_on_left(op, args), False)
    if op not in _BROADCASTING or not any(flat):
        return (False,) * len(args)
    target = "row" if any(not f and a.shape != SCALAR for a, f in zip(args, flat)) else "col"
    return tuple(bool(f) and _orientation(a) not in (None, target) for a, f in zip(args, flat))


def _apply(template, gbar, out, args, params, flips):
    """The template on the operands as the op uses them (see :func:`_flips`), each flipped
    operand's adjoint transposed back to its own shape."""
    args = [X.T(a) if f else a for a, f in zip(args, flips)]
    r = template(M, gbar, out, *args, **params)
    if r is not None and any(flips):
        r = tuple(X.T(_as_expr(x)) if f and x is not None else x for x, f in zip(r, flips))
    return r


def pull_back(node, gbar: E, out: E, args: list, flips=None) -> tuple | None:
    """One node's matrix VJP: its op's template on ``gbar`` (the node's adjoint), ``out`` (the
    node's value as an expression) and ``args`` (its operands' expressions); one adjoint term per
    operand, or None when the op has no matrix rule for these shapes.  ``flips``: see :func:`_flips`."""
    template = node.fn.matrix if node.fn is not None else None
    if template is None:
        return None
    try:
        r = _apply(template, gbar, out, args, node.params, flips or (False,) * len(args))
    except (ShapeError, TypeError, ValueError, KeyError):
        return None
    if r is None or any(x is None for x in r):
        return None
    return tuple(_as_expr(x) for x in r)


def _flat_nodes(g, at, shapes) -> set:
    """Indices of the nodes whose value is 1-D (none when the shapes are declared, not given)."""
    try:
        values = g.evaluate(at)
    except Exception:              # values missing: declared shapes, vectors are columns
        return set()
    return {n.index for n in g.nodes if np.ndim(values[n.name]) == 1}


def _forward(op: str, args: list, params: dict, flips=None):
    """The node's value as an expression of its operands' expressions, or None (opaque)."""
    if flips:
        args = [X.T(a) if f else a for a, f in zip(args, flips)]
    if op in ("add", "sub", "mul", "div"):
        return getattr(M, op)(*args)
    if op == "pow":
        return X.pow_(*args)
    if op == "neg":
        return X.neg(args[0])
    if op in X.ELEMENTWISE:
        return X.fn(op, args[0])
    red = {"sum": "sum", "mean": "mean", "norm1": "norm1", "sqnorm2": "sqnorm", "norm2": "norm2",
           "trace": "tr", "det": "det", "logsumexp": "logsumexp"}
    if op in red:
        if op == "logsumexp" and not M.is_vector(args[0]) and args[0].shape != SCALAR:
            return None
        return X.red(red[op], args[0])
    if op == "matmul":
        a, b = args
        return X.mul(a, b) if SCALAR in (a.shape, b.shape) else X.mm(a, b)
    if op == "transpose":
        return X.T(args[0])
    if op == "inv":
        return X.inv(args[0])
    if op == "softmax":
        return X.softmax(args[0]) if args[0].shape != SCALAR else None
    if op == "index":
        i = _vector_index(args[0], params["index"]) if M.is_vector(args[0]) else None
        return X.index(args[0], i) if i is not None else None
    return None


def shape_of(v) -> tuple:
    """A value's shape with vectors as columns: float → 1×1, (n,) → n×1; None for 3-D and up."""
    if isinstance(v, float) or np.ndim(v) == 0:
        return SCALAR
    s = np.shape(v)
    if len(s) == 1:
        return (s[0], 1)
    if len(s) == 2:
        return tuple(s)
    return None


@dataclass
class Derivation:
    """Every node's adjoint at three levels (None where there is none); see the module doc."""
    graph: object
    shapes: dict                                   # node name -> (rows, cols)
    rule: dict = field(default_factory=dict)       # name -> E (in consumers' ḡ symbols)
    named: dict = field(default_factory=dict)      # name -> E (in node names)
    inputs: dict = field(default_factory=dict)     # name -> E (in the inputs)
    values: dict = field(default_factory=dict)     # name -> E: the node's value in the inputs
    syms: dict = field(default_factory=dict)       # name -> E: the node's own symbol
    opaque: dict = field(default_factory=dict)     # name -> why its adjoint is numbers only
    notes: list = field(default_factory=list)
    flips: dict = field(default_factory=dict)      # node index -> operands used transposed (_flips)
    defs: dict = field(default_factory=dict)       # a node's formula in node names -> its name


def leaf_shapes(g, at=None, declared=None) -> dict:
    """Input shapes: from values when there are some (``at``, the program's), else declared
    (``{"X": ("n", "n"), "w": ("n",)}``; sizes may be letters), else scalar."""
    out = {}
    for node in g.nodes:
        if not node.is_leaf:
            continue
        if node.kind == "const":
            out[node.name] = shape_of(node.default)
            continue
        v = (at or {}).get(node.name, node.default)
        d = (declared or {}).get(node.name)
        if v is not None:
            out[node.name] = shape_of(v)
        elif d is not None:
            d = tuple(d)
            out[node.name] = SCALAR if len(d) == 0 else (d[0], 1) if len(d) == 1 else d
        else:            # no value and no declared shape: a scalar, as in the scalar notation
            out[node.name] = SCALAR
    return out


def derive(g, at=None, shapes: dict | None = None, adjoints: bool = True) -> Derivation:
    """Run the matrix templates backwards over ``g`` (output must be scalar).

    ``shapes``: declared input shapes (symbolic sizes allowed); the rest come from values at ``at``.
    Raises :class:`ShapeError` when a shape is not a matrix (3-D values) or the output is not scalar.
    With ``adjoints=False`` only ``values``/``syms``/``shapes`` are filled (any output shape).
    """
    ls = leaf_shapes(g, at, shapes)
    flat = _flat_nodes(g, at, shapes)
    d = Derivation(g, {})
    out = g._output
    named, value, flips = {}, {}, {}
    for node in g.nodes[:out + 1]:
        i, name = node.index, node.name
        if node.is_leaf:
            shape = ls[name]
            if shape is None:
                raise ShapeError(f"{name!r} has more than two axes; matrix formulas need matrices")
            if node.kind == "const" and isinstance(node.default, float):
                e = X.num(node.default)
            else:
                e = X.sym(name, shape, "in")
            named[i] = value[i] = e
        else:
            args_v = [value[j] for j in node.args]
            flips[i] = _flips(node.op, args_v, [j in flat for j in node.args])
            try:
                v = _forward(node.op, args_v, node.params, flips[i])
            except ShapeError as exc:
                shapes = " and ".join("×".join(map(str, a.shape)) for a in args_v)
                raise ShapeError(f"{node.src!r}: operands of shapes {shapes} do not fit ({exc})") from None
            if v is None:
                shape = _numeric_shape(g, at, name)
                v = X.sym(name, shape, "node")
            named[i] = X.sym(name, v.shape, "node")
            value[i] = v
        d.shapes[name] = named[i].shape
        d.syms[name], d.values[name] = named[i], value[i]
    d.flips = flips
    # definitions in node names, so that p = s[1] is written p wherever s[1] turns up
    defs = d.defs
    for node in g.nodes[:out + 1]:
        if node.args:
            try:
                f = _forward(node.op, [named[j] for j in node.args], node.params, flips.get(node.index))
            except ShapeError:
                f = None
            if f is not None and f.kind not in ("sym", "num"):
                defs[f] = named[node.index]
    if not adjoints:                    # the values only (the checker reads a student's formula)
        return d
    if d.shapes[g.output] != SCALAR:
        raise ShapeError(f"the output {g.output!r} is not a scalar")

    defs_memo: dict = {}
    contrib = {"rule": {}, "named": {}, "inputs": {}}
    contrib["rule"][out] = contrib["named"][out] = contrib["inputs"][out] = [X.ONE]
    opaque = set()
    for node in reversed(g.nodes[:out + 1]):
        i = node.index
        if i not in contrib["named"] or node.kind == "const":
            continue
        name = node.name
        if i in opaque:
            gbar = X.sym(name, named[i].shape, "opaque")
            total = {"rule": gbar, "named": gbar, "inputs": gbar}
        else:
            total = {lvl: X.add(*contrib[lvl][i]) if len(contrib[lvl][i]) > 1 else contrib[lvl][i][0]
                     for lvl in contrib}
            if i == out:
                total["rule"] = X.ONE
        d.rule[name], d.named[name], d.inputs[name] = total["rule"], total["named"], total["inputs"]
        if node.is_leaf:
            continue
        gbar_rule = X.sym(name, named[i].shape, "bar") if i != out else X.ONE
        names, inputs = [named[j] for j in node.args], [value[j] for j in node.args]
        results = {"rule": pull_back(node, gbar_rule, named[i], names, flips.get(i)),
                   "named": pull_back(node, total["named"], named[i], names, flips.get(i)),
                   "inputs": pull_back(node, total["inputs"], value[i], inputs, flips.get(i))}
        if any(r is None for r in results.values()):
            results = None
        for k, j in enumerate(node.args):
            if g.nodes[j].kind == "const":
                continue
            if results is None:
                if j not in opaque:
                    opaque.add(j)
                    d.opaque[g.nodes[j].name] = f"{node.op} has no matrix rule here"
                    d.notes.append(f"∂L/∂{g.nodes[j].name}: {node.src!r} ({node.op}) has no matrix-form rule "
                                   f"for these shapes; its adjoint is shown as numbers")
                for lvl in contrib:
                    contrib[lvl].setdefault(j, [])
                continue
            for lvl in contrib:
                c = results[lvl][k]
                if lvl == "named":
                    c = substitute(c, defs, defs_memo)
                contrib[lvl].setdefault(j, []).append(c)
    return d


def _numeric_shape(g, at, name):
    s = shape_of(g.evaluate(at)[name])
    if s is None:
        raise ShapeError(f"{name!r} has more than two axes; matrix formulas need matrices")
    return s
