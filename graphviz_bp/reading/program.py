"""Text → graph: the plain notation or a pasted sheet, read and built into a :class:`Graph`.

This is the front door of the pipeline; ``graphviz_bp.parse`` is this function with the public
graph class (:mod:`graphviz_bp.api`).
"""
from __future__ import annotations

import gc

import numpy as np

from ..core.errors import InputError
from ..core.evaluate import as_value
from ..core.syntax import Literal, Num
from ..core.graph import Graph, build
from ..core.limits import Limits, current as current_limits
from .convert import TARGETS, to_latex, to_plain
from .parser import parse_program


SYNTAXES = ("auto", "plain", "latex")


def read_program(text: str, syntax: str = "auto", define: dict | None = None, given: dict | None = None):
    """``(program in the plain notation, Translation or None)``: LaTeX is translated first.

    ``syntax="auto"`` reads the text as LaTeX when it holds ``$…$`` or a backslash command.
    """
    if not isinstance(text, str):
        raise InputError(f"a program is text, not {type(text).__name__}", kind="usage")
    if syntax not in SYNTAXES:
        raise InputError(f"unknown syntax {syntax!r} (choose one of {', '.join(SYNTAXES)})", kind="usage")
    if syntax == "latex" or syntax == "auto" and ("\\" in text or "$" in text):
        from ..reading.latex import looks_like_latex, translate
        if syntax == "latex" or looks_like_latex(text):
            translation = translate(text, define=define, given=given)   # issue 15: --define, --at shapes
            return translation.program, translation
    return text, None


def parse(text: str, limits: Limits | None = None, output: str | None = None,
          syntax: str = "auto", cls: type | None = None, define: dict | None = None,
          given: dict | None = None) -> Graph:
    """Parse a program into a graph: the notation of DESIGN §1, or LaTeX pasted from a sheet.

    ``syntax="auto"`` reads the text as LaTeX when it holds ``$…$`` or a backslash command
    (``\\frac``, ``\\|``, ``\\lambda``), else as the plain notation; ``"plain"`` and ``"latex"``
    force one.  A LaTeX program is translated to the notation first (:mod:`graphviz_bp.reading.latex`);
    ``g.text`` is then the translation, ``g.tex_names`` maps names to the sheet's LaTeX and
    ``g.variables`` holds the arguments of a left side ``f(x, y) = …`` (the default ``wrt``).

    >>> g = parse("X = [[-1], [1], [-2]]; Y = [[0, -2], [0, -2], [0, -2]]; W = [[1, 1]]; lambda = -1\\n"
    ...           "L = ||X*W - Y||_2^2 + lambda*||W||_1")
    >>> from graphviz_bp.core.evaluate import evaluate
    >>> evaluate(g)["L"]
    14.0
    >>> g = parse(r"$$f(x, y) = x^2 + xy + (x + y)^2.$$")
    >>> g.syntax, g.variables, g.text
    ('latex', ['x', 'y'], 'f = x^2 + x * y + (x + y)^2\\n')
    """
    limits = limits or current_limits()
    source, translation = read_program(text, syntax, define, given)
    # a long program allocates ~10 objects per term and none of them form cycles: the cyclic GC's
    # full passes over the growing heap would make parsing a 100,000-line chain about twice slower
    collect = len(source) > 100_000 and gc.isenabled()
    if collect:
        gc.disable()
    try:
        g = build(parse_program(source, limits), source, limits, output, cls)
    except InputError as e:
        if translation:                 # a name or shape error: where it stands in the pasted text
            from ..reading.latex import at_origin
            raise at_origin(e, translation.origins) from None
        raise
    finally:
        if collect:
            gc.enable()
    if translation:
        for n in g.nodes:               # errors found later (shapes, values) point into the pasted text
            if n.line is not None and 0 < n.line <= len(translation.origins):
                n.line, n.column = translation.origins[n.line - 1]
        g.syntax = "latex"
        g.tex_names = {k: v for k, v in translation.tex_names.items() if k in g._names}
        g.variables = [v for v in translation.variables if v in g._names and g.node(v).kind == "input"]
        # --- issue 15: what the reader chose, and the shapes the sheet declares ---
        g.reading_notes = list(translation.reading_notes)
        g.declared_shapes = dict(translation.declared_shapes)
        # a hand solution's formulas name the same functions (f(…) of an answer is the sheet's f)
        g.functions = dict(define or {})
        # --- end issue 15 ---
    else:                               # issue 14: "X: n x n" in the plain notation
        from .parser import shape_declarations
        g.declared_shapes = shape_declarations(source)[1]
        g.reading_notes = _elementwise_power_notes(g, given) if "^" in source else []
    return g


def _elementwise_power_notes(g, given=None) -> list[str]:
    """``X^2`` of a square matrix in the plain notation is X∘X, as ``^`` always is there; a sheet's
    tr(X²) means the matrix power, so say which was read (issue 15: never another way in silence)."""
    notes = []
    for n in g.nodes:
        if n.op != "pow":
            continue
        base, exponent = (g.nodes[i] for i in n.args)
        shape = np.shape(base.default) if base.default is not None else tuple((given or {}).get(base.name, ()))
        if base.kind == "input" and len(shape) == 2 and shape[0] == shape[1] > 1 and exponent.kind == "const":
            x, k = base.name, exponent.src or "k"
            times = int(k) if k in ("2", "3") else None
            hadamard = "∘".join([x] * times) if times else f"{x}∘…∘{x}"
            matrix = " @ ".join([x] * times) if times else f"{x} @ … @ {x}"
            notes.append(f"read as: {x}^{k} is the elementwise power {hadamard}, as ^ is in the plain notation; "
                         f"the matrix power is {matrix} (in pasted LaTeX, {x}^{k} is the matrix power)")
    return list(dict.fromkeys(notes))


def read_value(text: str, name: str = "value"):
    """A number or a bracket literal, as an input field or ``--at NAME=VALUE`` gives it, read by the
    notation's own parser (never by Python): ``read_value("[[1, 2]]")`` is a 1×2 float array.
    Anything else is an :class:`~graphviz_bp.core.errors.InputError` (kind ``value``)."""
    clipped = text.replace("\r", "\\r").replace("\n", "\\n")
    clipped = clipped if len(clipped) <= 80 else clipped[:79] + "…"
    bad = InputError(f"{name} = {clipped}: expected a number or a literal like [[1, 2], [3, 4]]", kind="value")
    try:
        (st,) = parse_program(f"{name} = {text}")
    except (InputError, ValueError):
        raise bad from None
    if st.expr.__class__ not in (Num, Literal):
        raise bad
    return as_value(st.expr.value, name)


def convert(text: str, to: str, syntax: str = "auto", limits=None) -> str:
    r"""A program (plain notation or LaTeX from a sheet) printed in the notation ``to``.

    LaTeX is translated first (:func:`graphviz_bp.reading.latex.translate`); ``to="plain"`` then gives
    the translation itself.  The program must build a graph (names defined once, before use):
    bad input is an :class:`InputError`.

    >>> print(convert("f = x*(y + 1)", "latex"), end="")
    $$f = x \cdot \left(y + 1\right)$$
    """
    if to not in TARGETS:
        raise InputError(f"unknown target {to!r} (choose one of {', '.join(TARGETS)})", kind="usage")
    limits = limits or current_limits()
    source, translation = read_program(text, syntax)
    statements = parse_program(source, limits)
    build(statements, source, limits)                 # names assigned twice, used before defined, …
    if to == "plain":
        return source if translation else to_plain(statements)
    return to_latex(statements, translation.tex_names if translation else None) + "\n"
