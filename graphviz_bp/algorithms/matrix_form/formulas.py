"""Gradients and every node's adjoint as checked matrix formulas: what the CLI, ``explain``, the
checker and the graph show.

Layout: **the gradient has the variable's shape** (∂L/∂X is m×n for an m×n X, as The Matrix
Cookbook and seed 003 write it; the numerator layout is its transpose).  Vectors are columns.

Never a wrong formula: each formula is evaluated at the current point (the program's values and
``at``) and compared with the numeric reverse pass before it is returned; one that disagrees is
withheld (``expr`` None) with a note, and the numbers stand.  With sizes declared as letters and no
values, the check runs at random values with each size a different small number.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.errors import InputError
from . import check as C
from .derive import ShapeError, derive, shape_of
from .expr import E
from .traverse import tree_size
from .printing import latex, plain, readable, unicode
from .tidy import tidy

TENSOR_OPS = {"matmul", "transpose", "trace", "det", "inv", "softmax", "logsumexp", "index", "conv2d"}
LAYOUT = ("layout: each gradient has the shape of its variable (∂L/∂X is shaped like X; the "
          "numerator layout is its transpose); vectors are columns")


@dataclass
class Formula:
    """One adjoint as a formula; ``str()`` is the plain notation (reads back with ``parse``)."""
    node: str
    expr: E | None
    verified: bool = False
    note: str = ""

    def __str__(self):
        return plain(self.expr) if self.expr is not None else f"(numbers only: {self.note})"

    @property
    def plain(self) -> str | None:
        return plain(self.expr) if self.expr is not None else None

    def latex(self, tex_names=None) -> str | None:
        return latex(self.expr, tex_names) if self.expr is not None else None

    @property
    def unicode(self) -> str | None:
        return unicode(self.expr) if self.expr is not None else None

    def display(self, name_of) -> str | None:
        """Unicode with the names spelled by ``name_of`` (the graph's notation: W⁽¹⁾, ŷ, λ)."""
        return unicode(self.expr, name_of) if self.expr is not None else None

    @property
    def reads_back(self) -> bool:
        """Whether the plain text needs nothing but the inputs (no I, eᵢ, 𝟏, adjoint names)."""
        return self.expr is not None and readable(self.expr)


class FormulaDict(dict):
    """``{variable: Formula}`` with the derivation's ``notes`` (assumed shapes, missing rules)."""
    notes: list = []


@dataclass
class MatrixForm:
    """Formulas of one program: ``gradients`` (variable → Formula, in the inputs) and
    ``nodes`` (node → {"rule", "named", "inputs"} → Formula)."""
    derivation: object
    gradients: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def is_tensor_program(g, at=None, shapes=None) -> bool:
    """A program with a vector or matrix value (given, declared) or a matrix operation."""
    shapes = {**(getattr(g, "declared_shapes", None) or {}), **(shapes or {})}
    if any(n.op in TENSOR_OPS for n in g.nodes):
        return True
    if shapes and any(len(tuple(s)) > 0 for s in shapes.values()):
        return True
    for n in g.nodes:
        if n.is_leaf:
            v = (at or {}).get(n.name, n.default)
            if v is not None and np.ndim(v) > 0 and np.size(v) > 1:
                return True
    return False


def _point(g, d, at, shapes):
    """Values to check at: the program's own (with ``at``); else random ones of the declared sizes."""
    missing = [n.name for n in g.nodes if n.is_leaf and n.kind == "input"
               and n.default is None and n.name not in (at or {})]
    if not missing:
        return dict(at or {}), {}
    rng = np.random.default_rng(0)
    letters = sorted({x for s in d.shapes.values() for x in s if isinstance(x, str)})
    dims = {x: 2 + k for k, x in enumerate(letters)}
    point = dict(at or {})
    for name in missing:
        s = tuple(dims.get(x, x) for x in d.shapes.get(name, (1, 1)))   # not reached by the derivation: any value
        point[name] = float(rng.uniform(0.5, 1.5)) if s == (1, 1) else \
            rng.standard_normal(s) + (s[0] * np.eye(s[0]) if s[0] == s[1] else 0)
    return point, dims


def matrix_form(g, at=None, shapes=None, wrt=None, levels=("inputs",)) -> MatrixForm:
    """Derive, tidy and check.  ``levels`` of node adjoints to return besides the gradients
    (``"rule"``, ``"named"``, ``"inputs"``); raises InputError when no matrix formula can be had."""
    from ...core.graph import wrt_names
    names = wrt_names(g, wrt)
    shapes = {**(getattr(g, "declared_shapes", None) or {}), **(shapes or {})} or None   # X ∈ R^{D×D}
    unknown = [n.name for n in g.nodes if n.kind == "input" and n.default is None
               and n.name not in (at or {}) and n.name not in (shapes or {})]
    known = any(n.kind == "input" and (n.default is not None or n.name in (at or {}) or n.name in (shapes or {}))
                for n in g.nodes)
    if unknown and not known and any(n.op in TENSOR_OPS for n in g.nodes):
        raise InputError(f"no matrix formula: the shape of {', '.join(unknown)} is not known; give "
                         f"{'it a value' if len(unknown) == 1 else 'them values'} or declare the shape "
                         f"(--shape {unknown[0]}=n,n)", kind="shape")
    try:
        d = derive(g, at=at, shapes=shapes)
    except ShapeError as exc:
        raise InputError(f"no matrix formula: {exc}", kind="shape") from None
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError, RecursionError) as exc:
        # a shape or a value our constructors cannot take: the numbers still stand
        raise InputError(f"no matrix formula for this program ({type(exc).__name__}: {exc})",
                         kind="value") from None
    mf = MatrixForm(d, notes=list(d.notes))
    if unknown:
        mf.notes.append(f"no value and no declared shape, taken as scalars: {', '.join(unknown)}")
    point, dims = _point(g, d, at, shapes)
    try:
        env, numeric = C.environment(g, d, point)
    except InputError as exc:
        raise InputError(f"no matrix formula: the formulas cannot be checked ({exc})", kind="value") from None

    memo: dict = {}                 # one tidy memo for all the formulas: they share sub-expressions
    cap = g.limits.max_symbolic_ops

    def checked(name, e, level):
        if e is None:
            return Formula(name, None, note="no matrix rule on the way")
        if e.kind == "sym" and e.data[1] == "opaque":
            return Formula(name, None, note=d.opaque.get(name, "no matrix rule on the way"))
        if tree_size(e) > cap:           # written out in the inputs, a deep net's adjoint explodes
            return Formula(name, None, note=f"too long to write out (more than {cap} operations; "
                                            f"raise --limit-max-symbolic-ops); see it in the node names")
        # SymPy's rewrites of elementwise islands (ms each) for the gradients a sheet asks for only
        try:
            e = tidy(e, sympy_islands=level == "gradient", memo=memo)
        except (ValueError, TypeError, KeyError, ArithmeticError, RecursionError):
            pass                    # a rewrite our constructors refuse: the form as derived stands
        want = numeric.get(name)
        if want is None:
            want = np.zeros((1, 1))
        try:
            ok = C.agrees(C.evaluate(e, env, dims), want)
        except (KeyError, ValueError, IndexError, np.linalg.LinAlgError):
            ok = False
        if not ok:
            note = f"the formula for ∂{g.output}/∂{name} disagrees with the numeric gradient here; numbers shown"
            mf.notes.append(note)
            return Formula(name, None, note=note)
        return Formula(name, e, verified=True)

    for name in names:
        if name not in d.inputs:          # the output does not depend on it
            from .expr import num
            mf.gradients[name] = Formula(name, num(0, d.shapes.get(name, (1, 1))), verified=True)
            continue
        mf.gradients[name] = checked(name, d.inputs.get(name), "gradient")
    mf.gradients = FormulaDict(mf.gradients)
    mf.gradients.notes = mf.notes
    for level in levels:
        table = getattr(d, level)
        for name, e in table.items():
            mf.nodes.setdefault(name, {})[level] = checked(name, e, level)
    return mf


def parse_shapes(items) -> dict | None:
    """``["X=n,n", "w=n", "A=3x2"]`` → ``{"X": ("n", "n"), "w": ("n",), "A": (3, 2)}`` (a shape declared
    in the plain notation's CLI; sizes are numbers or letters, a vector is a column)."""
    if not items:
        return None
    import re
    out = {}
    for item in items:
        name, sep, dims = item.partition("=")
        parts = [p for p in re.split(r"[,x×* ]+", dims.strip()) if p] if sep else []
        if not name.strip() or not parts or len(parts) > 2 or \
                not all(re.fullmatch(r"\d+|[A-Za-z]\w*", p) for p in parts):
            raise InputError(f"--shape {item}: expected NAME=DIMS such as X=n,n, w=n or A=3,2", kind="usage")
        out[name.strip()] = tuple(int(p) if p.isdigit() else p for p in parts)
    return out


__all__ = ["parse_shapes", "matrix_form", "is_tensor_program", "Formula", "MatrixForm", "LAYOUT", "shape_of"]
