"""Evaluation: every node's value, in topological order.

Scalar values are Python floats and go through the ``math`` fast path of the
op table; anything with a tensor goes through NumPy. A domain error (``log``
of a negative number, division by zero, ``exp`` overflow) does not stop the
evaluation: the value becomes NaN or ±inf, as NumPy defines it, and a warning
names the node where it first appeared (``Evaluation.warnings``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .limits import check_deadline

_SCALAR_ERRORS = (ValueError, OverflowError, ZeroDivisionError)


@dataclass
class Evaluation:
    values: list            # by node index
    warnings: list = field(default_factory=list)
    scalar: bytearray = field(default_factory=bytearray)   # 1 where a node ran on the float fast path
    edge_factors: dict = field(default_factory=dict)       # (u, v) -> ∂v/∂u, filled by path enumeration


def as_value(v, what: str = "value"):
    """A user value as the engine holds it: float for scalars, float64 ndarray otherwise."""
    if isinstance(v, bool):
        raise InputError(f"{what}: expected a number or an array, not a boolean", kind="value")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a number or a rectangular array of numbers", kind="value") from None
    if arr.ndim == 0:
        return float(arr)
    if arr.size == 0:
        raise InputError(f"{what}: an empty array has no value", kind="value")
    return arr


def _at_key(at):
    if not at:
        return ()
    return tuple(sorted((k, (v.shape, v.tobytes()) if isinstance(v, np.ndarray) else repr(v))
                        for k, v in at.items()))


def _shape_error(g, node, args, exc) -> InputError:
    """One line in our words: where, which operation, the operands' shapes (never NumPy's text)."""
    shapes = [shape_text(a) for a in args]
    written = node.fn.formula.format(*shapes, **_plain_params(node.params))
    return InputError(f"shape mismatch in {node.src!r}: {written} is not defined "
                      f"({node.fn.title} of {' and '.join(shapes)})", node.line, node.column, kind="shape")


def shape_text(v) -> str:
    """``3×2`` for a matrix, ``3`` for a 1-D vector, ``scalar`` for a number."""
    return "×".join(map(str, np.shape(v))) or "scalar"


def _plain_params(params: dict) -> dict:
    return {k: ", ".join(map(str, v)) if isinstance(v, tuple) else v for k, v in params.items()}


CACHE_MAX_ELEMENTS = 1_000_000     # an evaluation holding more tensor entries is not cached


def run(g, at=None) -> Evaluation:
    """Evaluate every node (cached for the last ``at`` when it holds at most
    ``CACHE_MAX_ELEMENTS`` tensor entries in all)."""
    at = {} if at is None else at
    key = _at_key(at)
    cache = g._eval_cache
    if cache is not None and cache[0] == key:
        return cache[1]
    for name in at:
        i = g.index(name)
        if not g.nodes[i].is_leaf:
            raise InputError(f"--at {name}: {name!r} is computed by the program, not an input", kind="value")
    nodes = g.nodes
    values: list = [None] * len(nodes)
    scalar = bytearray(len(nodes))
    warnings: list[str] = []
    max_elems = g.limits.max_tensor_elements
    total, max_total = 0, g.limits.max_total_elements     # tensor elements held, all nodes together
    float_ = float
    for node in nodes:
        args = node.args
        if not node.index & 4095:
            check_deadline("evaluation")
        if not args:
            if node.name in at:
                v = as_value(at[node.name], f"value of {node.name!r}")
                if v.__class__ is not float_ and v.size > max_elems:
                    g.limits.refuse("max_tensor_elements", f"the value of {node.name!r} has {v.size} elements")
            elif node.default is not None:
                v = node.default
            else:
                raise InputError(f"no value for input {node.name!r}: give it one in the program "
                                 f"({node.name} = 1) or with --at {node.name}=...", node.line, node.column,
                                 kind="value")
            if not _finite(v):      # 1e999999, --at x=1e309: said once, where it enters (issue 19)
                warnings.append(f"line {node.line}, column {node.column}: the value of {node.name!r} is "
                                f"{_nonfinite_word(v)}" + (" (beyond the largest float, about 1.8e308)"
                                                           if not np.any(np.isnan(v)) else ""))
            if v.__class__ is not float_:
                total += v.size
                if total > max_total:
                    g.limits.refuse("max_total_elements", f"the inputs up to {node.name!r} "
                                    f"({total} tensor elements together)", node.line, node.column)
            values[node.index] = v
            continue
        op = node.fn
        argv = [values[j] for j in args]
        if op.scalar is not None and all(a.__class__ is float_ for a in argv):
            try:
                v = op.scalar(*argv, **node.params) if node.params else op.scalar(*argv)
                if v.__class__ is not float_:
                    v = float_(v)
                if v - v == 0.0:            # finite: the common case, checked cheaply
                    values[node.index] = v
                    scalar[node.index] = op.fast
                    continue
            except _SCALAR_ERRORS:
                pass
        v = _tensor_value(g, node, op, argv)
        if isinstance(v, np.ndarray) and v.size > max_elems:
            g.limits.refuse("max_tensor_elements", f"{node.src!r} has {v.size} elements", node.line, node.column)
        if v.__class__ is not float_:
            total += v.size
            if v.size >= 65536:       # one big tensor op costs like 4096 scalar ones: check the clock
                check_deadline("evaluation")
            if total > max_total:     # 150 nodes of 10⁶ elements: 13 KB of text, 4.6 GB of memory
                g.limits.refuse("max_total_elements", f"the values up to {node.src!r} "
                                f"({total} tensor elements together)", node.line, node.column)
        if not _finite(v) and all(_finite(a) for a in argv):
            warnings.append(f"line {node.line}, column {node.column}: {node.src!r} ({node.fn.title}) "
                            f"is {_nonfinite_word(v)}")
        values[node.index] = v
    result = Evaluation(values, warnings, scalar)
    # kept for the next call at the same point (evaluate, then gradients), unless it is big: the
    # dashboard keeps many graphs, and a few million entries cached in each fill a server's memory
    g._eval_cache = (key, result) if total <= CACHE_MAX_ELEMENTS else None
    return result


def _result_size(op, argv, params):
    """Elements of the result, known from the operands' shapes before NumPy allocates it (None when
    the op cannot make its result larger than its operands, or the shapes do not fit)."""
    shapes = [np.shape(a) for a in argv]
    try:
        if op.kind == "elementwise" and len(shapes) > 1:      # broadcasting: a 10⁵-vector times a 10⁵×1
            return math.prod(np.broadcast_shapes(*shapes))
        if op.name == "matmul" and len(shapes[0]) >= 2 and len(shapes[1]) >= 2:
            batch = np.broadcast_shapes(shapes[0][:-2], shapes[1][:-2])
            return math.prod(batch) * shapes[0][-2] * shapes[1][-1]
        if op.name == "conv2d" and len(shapes[0]) == 2 and len(shapes[1]) in (2, 3):
            kh, kw = shapes[1][-2:]
            stride = params.get("stride", 1)
            channels = shapes[1][0] if len(shapes[1]) == 3 else 1
            return channels * max((shapes[0][0] - kh) // stride + 1, 0) * max((shapes[0][1] - kw) // stride + 1, 0)
    except ValueError:
        return None
    return None


def _tensor_value(g, node, op, argv):
    size = _result_size(op, argv, node.params)
    if size is not None and size > g.limits.max_tensor_elements:
        g.limits.refuse("max_tensor_elements", f"{node.src!r} would have {size} elements", node.line, node.column)
    try:
        with np.errstate(all="ignore"):
            v = op.tensor(*argv, **node.params)
    except InputError:                 # the time budget, from inside a long op (conv2d)
        raise
    except IndexError as exc:
        raise InputError(f"index out of range in {node.src!r}: {exc}; the operand has shape "
                         f"{'×'.join(map(str, np.shape(argv[0]))) or 'scalar'}", node.line, node.column,
                         kind="shape") from None
    except (ValueError, np.linalg.LinAlgError, TypeError) as exc:
        raise _shape_error(g, node, argv, exc) from None
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return float(v)
        return v.astype(float, copy=False)
    return float(v)


def _finite(v) -> bool:
    if v.__class__ is float:
        return math.isfinite(v)
    return bool(np.all(np.isfinite(v)))


def _nonfinite_word(v) -> str:
    arr = np.asarray(v)
    if np.any(np.isnan(arr)):
        return "NaN (not a number)" if arr.ndim == 0 else "NaN in some entries"
    return "infinite" if arr.ndim == 0 else "infinite in some entries"


def gradient_warnings(g, adjoints: dict, values: list) -> list[str]:
    """Where a gradient turns NaN or infinite though the values are finite (∂/∂x sqrt(x²) at 0):
    one warning per edge whose local derivative brought it in, naming the node and its operand
    (issue 19). ``adjoints``: node name → ∂output/∂node, as reverse accumulation gives them."""
    out = []
    nodes = g.nodes
    for v in reversed(nodes):
        a = adjoints.get(v.name)
        if a is None or not _finite(a) or not v.args or not _finite(values[v.index]):
            continue
        parts = None
        if v.fn.kind != "tensor":
            try:
                parts = node_partials(v, values)
            except Exception:       # noqa: BLE001 - a warning must never fail the request
                parts = None
        for k, u in enumerate(v.args):
            if parts is not None and _finite(parts[k]) or k != v.args.index(u):
                continue            # this edge's local derivative is finite: not the culprit
            au = adjoints.get(nodes[u].name)
            if au is not None and not _finite(au) and _finite(values[u]):
                un = nodes[u]
                what = un.name if un.src in (None, "", un.name) else f"{un.name} = {un.src}"
                out.append(f"line {v.line}, column {v.column}: the derivative of {v.src!r} with respect "
                           f"to its operand {what} is {_nonfinite_word(au)} at this point, so "
                           f"∂{g.output}/∂{un.name} is too")
    return out


def evaluate(g, at=None) -> dict:
    """Every node's value by name (floats for scalars, ndarrays for tensors).

    >>> from graphviz_bp import parse
    >>> parse("f = x^2 + x*y + (x + y)^2").evaluate(at={"x": 1, "y": 2})["c"]
    3.0
    """
    ev = run(g, at)
    return {n.name: ev.values[n.index] for n in g.nodes}


def node_partials(node, values) -> tuple:
    """The elementwise local derivatives of a node with respect to each operand (op kinds
    ``elementwise`` and ``reduce``), as floats on the scalar path."""
    op = node.fn
    argv = [values[j] for j in node.args]
    out = values[node.index]
    if op.scalar_ok and out.__class__ is float and all(a.__class__ is float for a in argv):
        try:
            return op.scalar_partials(out, *argv, **node.params)
        except _SCALAR_ERRORS:
            pass
    with np.errstate(all="ignore"):
        parts = op.tensor_partials(out, *argv, **node.params)
    return tuple(float(p) if np.ndim(p) == 0 else np.asarray(p, dtype=float) for p in parts)


def local_partial(g, u: int, v: int, at=None):
    """∂v/∂u on one edge, elementwise (summed over the operand positions u fills), or None
    when the op only has a vector–Jacobian rule."""
    node = g.nodes[v]
    if u not in node.args:
        raise InputError(f"no edge {g.nodes[u].name} → {node.name}", kind="name")
    if node.fn.kind == "tensor":
        return None
    values = run(g, at).values
    parts = node_partials(node, values)
    total = 0.0
    for k, j in enumerate(node.args):
        if j == u:
            total = total + parts[k]
    return total
