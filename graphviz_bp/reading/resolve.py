r"""Products and powers as a sheet means them, decided by the shapes of their operands.

On a course sheet ``W \cdot x``, ``A \times B`` and ``W x`` are the matrix product when both
sides are vectors or matrices and ordinary multiplication when a side is a scalar
(seed 004: ``W^{(2)} \cdot h^{(1)}`` and ``W^{(1)} \cdot x``); ``X^2`` of a square matrix is
``X·X`` and ``X^{-1}`` its inverse, while a power of a scalar or a vector is elementwise.
The plain notation says which it is (``*`` ``@`` ``^``), so the LaTeX translator writes these
*sheet operators* in a draft — a product as ``⋅`` (U+22C5), a power as ``^`` — and
:func:`resolve` turns them into the notation's operators once the shapes are known.
Operators written explicitly are kept: ``*`` is elementwise, ``@`` the matrix product, ``**``
(from ``A^{\circ 2}``) the elementwise power.

Shapes are static: literals give theirs, every operation of the op table passes them on, and an
input without a value is taken to be a scalar unless the sheet marks it as a vector or a matrix
(an upper-case name, or ``\mathbf``/``\boldsymbol``/``\vec``: ``tensor_names``); its shape is then
unknown (``None``).  A 1×1 result counts as a scalar, as everywhere in graphviz-bp.

>>> from graphviz_bp.reading.parser import parse_program
>>> draft = "W = [[1], [-1]]\nx = 3\na = W ⋅ x\nh = V ⋅ a\nf = x ⋅ y"
>>> [(s.target, s.expr.op) for s in resolve(parse_program(draft), draft) if s.target in "ahf"]
[('a', 'mul'), ('h', 'matmul'), ('f', 'mul')]
"""
from __future__ import annotations

import warnings

import numpy as np

from ..core.errors import InputError
from ..core.limits import check_deadline
from ..core.ops import OPS
from .parser import Apply, Literal, Name, Num, Statement

SHEET_PRODUCT = "⋅"            # how the translator writes \cdot, \times and juxtaposition
SQUARE = ("n", "n")            # a square matrix of unknown size (X \in \mathbb{R}^{D \times D})
MAX_MATRIX_POWER = 16          # X^n of a square matrix is drawn as n − 1 products


def is_scalar(shape) -> bool:
    """A number, or a tensor with one entry (a 1×1 result counts as a scalar)."""
    return shape is not None and shape != SQUARE and int(np.prod(shape)) == 1


def is_square_matrix(shape) -> bool:
    """An n×n matrix with n ≥ 2 (its powers are matrix powers), or one declared square."""
    return shape == SQUARE or shape is not None and len(shape) == 2 and shape[0] == shape[1] >= 2


def sheet_power(base, shape) -> str:
    """What ``base^k`` means on a sheet: ``"matrix"`` for a square matrix, ``"unclear"`` for an
    upper-case input whose shape nobody gave (the translator asks), else ``"elementwise"``.

    >>> sheet_power(Name("X", 1, 1), (2, 2)), sheet_power(Name("X", 1, 1), None), sheet_power(Name("x", 1, 1), None)
    ('matrix', 'unclear', 'elementwise')
    """
    if is_square_matrix(shape):
        return "matrix"
    if shape is None and base.__class__ is Name and base.id[:1].isupper():
        return "unclear"
    if shape is None and base.__class__ is Apply and _mentions_matrix(base):
        return "unclear"                    # (X^T X + λI)^{-1}: a matrix of unknown shape, inverted?
    return "elementwise"


def _mentions_matrix(e) -> bool:
    """An expression with a matrix product or an upper-case name (a matrix, on a sheet) in it."""
    stack = [e]
    while stack:
        e = stack.pop()
        if e.__class__ is Name and e.id[:1].isupper() or e.__class__ is Apply and e.op == "matmul":
            return True
        if e.__class__ is Apply:
            stack.extend(e.args)
    return False


def product_op(a, b) -> str:
    """``"mul"`` when a side is a scalar, else ``"matmul"`` (shapes as tuples, None if unknown).

    >>> product_op((), (2, 1)), product_op((2, 2), (2, 1)), product_op(None, (3,)), product_op((1, 1), None)
    ('mul', 'matmul', 'matmul', 'mul')
    """
    return "mul" if is_scalar(a) or is_scalar(b) else "matmul"


def _operator_text(lines: list[str], e: Apply) -> str:
    """The operator a binary node was written with in the draft (its line and column point at it)."""
    line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
    return line[e.col - 1:e.col + 1] if line[e.col - 1:e.col + 1] == "**" else line[e.col - 1:e.col]


def _result_shape(op: str, shapes: list, params: dict):
    """Shape of ``op`` applied to operands of these shapes; None when it cannot be known here."""
    kind = OPS[op].kind
    if kind == "reduce":
        return ()
    if any(s is None or s == SQUARE for s in shapes):
        return None
    if kind == "elementwise":
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            return None                    # the engine reports the mismatch with its shapes
    rng = np.random.default_rng(0)         # random entries: inv and det need a regular matrix
    args = [rng.standard_normal(s) if s else 0.5 for s in shapes]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return np.shape(OPS[op].tensor(*args, **params))
    except Exception:                      # a shape error: left to the engine, which names it
        return None


def _matrix_power(base, exponent, e: Apply, base_shape):
    """``X^n`` of a square matrix: ``X @ X @ …`` (n factors), ``inv(…)`` for n < 0."""
    n = exponent.value if exponent.__class__ is Num else None
    n_text = exponent.src if hasattr(exponent, "src") else "…"
    size = "square" if base_shape == SQUARE else "×".join(map(str, base_shape))
    if n is None or not float(n).is_integer() or n == 0 or abs(n) > MAX_MATRIX_POWER:
        raise InputError(f"{e.src}: a power of the {size} matrix {base.src} is a matrix power, which needs "
                         f"a whole exponent from 1 to {MAX_MATRIX_POWER} or −1 to −{MAX_MATRIX_POWER}, "
                         f"not {n_text}; for the elementwise power write {base.src}^{{\\circ {n_text}}}",
                         e.line, e.col, kind="shape")
    product = base
    for _ in range(int(abs(n)) - 1):
        product = Apply("matmul", (product, base), {}, e.line, e.col, e.src)
    return product if n > 0 else Apply("inv", (product,), {}, e.line, e.col, e.src)


def infer_shapes(statements: list[Statement], tensor_names=()) -> dict:
    """Static shape of every expression node (key ``id(expr)``) and every assigned name (key: name).

    A shape is a tuple (``()`` for a scalar) or None (a vector or matrix of unknown shape).
    Sheet operators are not resolved here: ``⋅`` is taken as the product it resolves to.
    """
    return _walk(statements, None, tensor_names)[1]


def resolve(statements: list[Statement], draft: str, tensor_names=(), notes: list | None = None) -> list[Statement]:
    """The statements with every sheet product and power replaced by the notation's operation.

    ``draft`` is the text the statements were parsed from (it tells ``⋅`` from ``*`` and ``^``
    from ``**``); ``tensor_names`` the inputs the sheet marks as vectors or matrices (a set, or a
    dict name → shape, ``None`` if unknown or :data:`SQUARE`).  A matrix power whose exponent is not a small whole number is an InputError.
    """
    return _walk(statements, draft.split("\n"), tensor_names, notes)[0]


def _walk(statements, lines, tensor_names, notes=None):
    tensors = tensor_names if isinstance(tensor_names, dict) else dict.fromkeys(tensor_names)
    shapes: dict = {}
    assumed: set = set()         # inputs read as numbers only because nothing says otherwise
    out = []
    for k, st in enumerate(statements):
        if not k & 1023:
            check_deadline("reading the sheet's products")
        expr = _resolve_expr(st.expr, shapes, lines, tensors, notes, assumed)
        if st.target is not None:
            shapes[st.target] = shapes[id(expr)]
        out.append(Statement(st.target, expr, st.line, st.col))
    return out, shapes


def _resolve_expr(root, shapes: dict, lines, tensors: dict, notes=None, assumed=None):
    """Post-order without recursion (a 100,000-term sum is a left-deep tree)."""
    done: dict[int, object] = {}
    stack = [(root, False)]
    while stack:
        e, ready = stack.pop()
        cls = e.__class__
        if cls is Num:
            done[id(e)], shapes[id(e)] = e, ()
        elif cls is Literal:
            done[id(e)], shapes[id(e)] = e, np.shape(e.value)
        elif cls is Name:
            if e.id not in shapes:       # an input: a scalar unless the sheet marks it as a tensor
                shapes[e.id] = tensors[e.id] if e.id in tensors else None if e.id[:1].isupper() else ()
                if shapes[e.id] == () and e.id not in tensors and assumed is not None:
                    assumed.add(e.id)
            done[id(e)], shapes[id(e)] = e, shapes[e.id]
        elif not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in reversed(e.args))
        else:
            args = tuple(done[id(a)] for a in e.args)
            arg_shapes = [shapes[id(a)] for a in args]
            op, new = e.op, None
            written = _operator_text(lines, e) if lines is not None and len(args) == 2 else ""
            if op == "mul" and written == SHEET_PRODUCT:
                op = product_op(*arg_shapes)
                if notes is not None and op == "mul":
                    _note_assumed_scalar(args, arg_shapes, assumed or (), notes)
            elif op == "pow" and written == "^" and sheet_power(args[0], arg_shapes[0]) == "matrix":
                new = _matrix_power(args[0], args[1], e, arg_shapes[0])
                _shape_new(new, shapes, arg_shapes[0])
            elif op == "pow" and written == "^" and sheet_power(args[0], arg_shapes[0]) == "unclear" \
                    and not (args[1].__class__ is Num and args[1].value == 1):
                if args[0].__class__ is not Name:
                    raise InputError(f"{e.src}: ({args[0].src}) holds matrices of unknown shape, so it is not clear "
                                     f"whether this is a matrix power; give their values (--at) or declare them "
                                     f"(X \\in \\mathbb{{R}}^{{n \\times n}}), or write (…)^{{\\circ {args[1].src}}} "
                                     f"for the elementwise power", e.line, e.col, kind="shape")
                x = args[0].id
                raise InputError(f"{e.src}: {x} is a matrix of unknown shape, so it is not clear whether this "
                                 f"is a matrix power; give {x} its value, declare {x} \\in \\mathbb{{R}}^{{n "
                                 f"\\times n}}, or write {x}^{{\\circ {args[1].src}}} for the elementwise power",
                                 e.line, e.col, kind="shape")
            if new is None:
                new = Apply(op, args, e.params, e.line, e.col, e.src) if (op, args) != (e.op, e.args) else e
                shapes[id(new)] = _result_shape(op, arg_shapes, e.params)
            done[id(e)] = new
            shapes[id(e)] = shapes[id(new)]
    return done[id(root)]


def _note_assumed_scalar(args, arg_shapes, assumed, notes):
    """``X w`` read as X times the number w because nothing says w is a vector: say so (issue 15).
    Not for a name the sheet gives a number (λ = 0.5): that one is known to be a number."""
    for k, (a, shape) in enumerate(zip(args, arg_shapes)):
        other = arg_shapes[1 - k]
        if a.__class__ is Name and shape == () and a.id in assumed and (other is None or not is_scalar(other)):
            note = (f"read as: {a.id} is a number in {args[0].src} ⋅ {args[1].src} (nothing on the sheet says it is a "
                    f"vector; give its value, e.g. --at {a.id}=[[1], [2]], to read a matrix product)")
            if note not in notes:
                notes.append(note)


def _shape_new(e, shapes, square):
    """Shapes of the nodes a matrix power was expanded into (all n×n)."""
    while e.__class__ is Apply and id(e) not in shapes:
        shapes[id(e)] = square
        e = e.args[0]
