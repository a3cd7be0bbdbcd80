r"""A hand solution written like the sheet: LaTeX read as the program reads its sheet.

An answer's LaTeX is translated with the program's own context, so that it means what the same
LaTeX means in the program:

* the shapes of the program's values (``x W`` with x a 1×2 row of the program is the matrix
  product, not x times W elementwise, as a lone formula with a lower-case x would be read);
* the functions chosen with ``--define f=sigmoid``;
* the sheet's spellings of names (``h^{(3)}`` is the program's ``h_3``, ``\hat{y}`` its ``yhat``).

Left sides may be written as on paper: ``\nabla_W L``, ``\frac{\partial L}{\partial W}``,
``\partial L/\partial W``, ``∇_W L`` all mean ``grad W`` (of the output only: anything else is
refused with what to write).  A right side that is only numbers in LaTeX (a ``bmatrix``,
``\frac{28}{2}``) is a value.
"""
from __future__ import annotations

import re

import numpy as np

from ..core.errors import InputError

_MATH = re.compile(r"^\s*(\$\$|\$|\\\[|\\\()(?P<body>.*?)(\$\$|\$|\\\]|\\\))\s*[.,]?\s*$", re.S)


def unwrap(text: str) -> str:
    """The text without the math delimiters around it (``$…$``, ``$$…$$``, ``\\[…\\]``)."""
    m = _MATH.match(text)
    return m.group("body") if m else text


def is_latex(text: str) -> bool:
    """Whether a piece of an answer is LaTeX: a command or a brace, which the notation never uses."""
    return any(c in text for c in "\\${}")


class Reading:
    """How LaTeX in the answers to program ``g`` is read: the program's shapes and functions."""

    def __init__(self, g, at=None):
        self.g, self.at = g, at
        self._shapes = None

    def shapes(self) -> dict:
        """Every name's shape at the first point a formula is judged at (the program's own point, or
        a random one of the declared shapes), computed on first use."""
        if self._shapes is None:
            from ..core.evaluate import run
            from .check_formula import first_point
            try:
                values = run(self.g, first_point(self.g, self.at)).values
            except InputError:            # the check itself reports what is missing
                values = None
            self._shapes = {} if values is None else {
                name: np.shape(values[k]) for name, k in self.g._names.items() if name.isidentifier()}
        return self._shapes

    def translate(self, text: str, line: int, column: int, what: str) -> str:
        """The plain notation for a LaTeX expression, read with the program's shapes and functions."""
        from ..reading.latex import translate
        text = unwrap(text).strip()
        name = self._fresh(text)
        try:
            return self._right_side(translate(f"$${name} = {text}$$", define=self.g.functions,
                                              given=self.shapes()), name)
        except InputError as exc:
            raise InputError(f"{what} {text!r} cannot be read: {exc.message}", line, column,
                             kind=exc.kind) from None

    @staticmethod
    def _right_side(translation, name: str) -> str:
        lines = [t for t in translation.program.split("\n") if t.strip()]
        prefix = f"{name} = "
        if len(lines) != 1 or not lines[0].startswith(prefix):
            raise InputError("write one expression (it was read as several statements)", kind="syntax")
        return lines[0][len(prefix):]

    def _fresh(self, text: str) -> str:
        """A name for the translated statement's left side that neither the program nor the text uses."""
        for name in ("G", "Q", "Z", "G_0", "Q_0", "Z_0"):
            if name not in self.g._names and not re.search(rf"(?<![A-Za-z\\]){name}(?![A-Za-z])", text):
                return name
        return "G_answer"

    # --- left sides --------------------------------------------------------------------------------

    def left_side(self, lhs: str, line: int, column: int):
        """``(kind, target, column of the target)`` for a left side written with ∇ or ∂, else None."""
        parts = _derivative(unwrap(lhs).strip())
        if parts is None:
            return self._output_with_variables(lhs, line, column)
        of, target = parts
        col = column + max(0, lhs.find(target))
        target_plain = self.name(target, line, col)
        if of.strip():
            output = self.name(_strip_arguments(of), line, column)
            if self.g._names.get(output) != self.g._output:
                raise InputError(f"{lhs}: the checker checks derivatives of the program's output "
                                 f"{self.g.output}, not of {of.strip()}: write grad {target_plain} = … "
                                 f"for ∂{self.g.output}/∂{target_plain}", line, column, kind="name")
        return "grad", target_plain, col

    def _output_with_variables(self, lhs: str, line: int, column: int):
        """``J(w) = 9``: the sheet's name of its output with its variables, a value claim about the output."""
        head = _strip_arguments(lhs)
        if head == lhs.strip() or not re.fullmatch(r"\\?[A-Za-z]+(_\{?\w+\}?)?", head):
            return None
        try:
            name = self.name(head, line, column)
        except InputError:
            return None
        return ("value", name, column) if self.g._names.get(name) == self.g._output else None

    def name(self, text: str, line: int, column: int) -> str:
        """A left side's expression in the plain notation (``h^{(3)}`` → ``h_3``)."""
        return self.translate(text, line, column, "the left side") if is_latex(text) else text.strip()


def is_number(plain: str) -> bool:
    """Whether a piece of the plain notation is a number or a bracket literal (a value, not a formula)."""
    from ..reading.parser import Literal, Num, parse_program
    try:
        (st,) = parse_program("value = " + plain)
    except (InputError, ValueError):
        return False
    return st.expr.__class__ in (Num, Literal)


def _group(s: str, i: int) -> tuple[str, int]:
    """The brace group or the single item at ``s[i]`` (a letter, or a ``\\command`` with its
    sub/superscripts): ``(text, end)``."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i < len(s) and s[i] == "{":
        depth, j = 0, i
        while j < len(s):
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            if depth == 0:
                return s[i + 1:j], j + 1
            j += 1
        return s[i + 1:], len(s)
    m = re.compile(r"\\[A-Za-z]+(\s*\{[^{}]*\})?|[^\s{}\\]").match(s, i)
    j = m.end() if m else i + 1
    while j < len(s) and s[j] in "_^":                 # W_1, W^{(1)}, \mathbf{w}_2
        _, j = _group(s, j + 1)
    return s[i:j], j


_NABLA_START = re.compile(r"^(\\nabla|∇)\s*")
_FRAC = re.compile(r"^\\[dt]?frac\s*")
_PARTIAL = re.compile(r"^\s*(\\partial|∂|\\mathrm\{d\}|d(?=[A-Za-z\\]))\s*")
_SLASH = re.compile(r"^(?P<of>.*?)\s*/\s*(\\partial|∂)\s*(?P<t>.+)$")


def _derivative(lhs: str) -> tuple[str, str] | None:
    """``(what is differentiated, with respect to what)`` of ``\\nabla_W L``, ``∇_W``,
    ``\\frac{\\partial L}{\\partial W}``, ``\\partial L / \\partial W``, ``∂L/∂W``; None otherwise."""
    m = _NABLA_START.match(lhs)
    if m:
        rest = lhs[m.end():]
        if not rest.startswith("_"):
            return None
        target, end = _group(rest, 1)
        return rest[end:], target
    m = _FRAC.match(lhs)
    if m:
        top, end = _group(lhs, m.end())
        bottom, end = _group(lhs, end)
        t, b = _PARTIAL.match(top), _PARTIAL.match(bottom)
        if t and b and not lhs[end:].strip():
            return top[t.end():], bottom[b.end():]
        return None
    m = _PARTIAL.match(lhs)
    if m and "/" in lhs:
        s = _SLASH.match(lhs[m.end():])
        if s:
            return s.group("of"), s.group("t")
    return None


def _strip_arguments(of: str) -> str:
    """``J(w)`` → ``J``, ``L(W_1, W_2)`` → ``L``: the sheet's name of its output with its variables."""
    of = of.strip()
    m = re.match(r"^(.*?)\s*(\\left)?\((.*)(\\right)?\)$", of)
    return m.group(1) if m and m.group(1) else of
