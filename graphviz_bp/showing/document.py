"""A worked solution as a document: paragraphs, display equations and code, written as Markdown
(``$…$`` math, for the dashboard and notes) or as a standalone LaTeX file; numbers, values and
operations in LaTeX.

>>> doc = Document()
>>> doc.para("The value is ", m(tex_value(14.0)), "."); doc.eq(chain("L", ["2 + 12", "14"]))
>>> print(to_markdown(doc), end="")
The value is $14$.
<BLANKLINE>
$$
L = 2 + 12 = 14
$$
"""
from __future__ import annotations

import re

import numpy as np

from ..core.notation import Notation, UNICODE_TEX, fmt_number

DIGITS = 6            # significant digits of the numbers shown
MAX_SHOWN_DIM = 10    # rows/columns of a matrix written out (amsmath's default column cap)


def tex_number(x) -> str:
    r"""``14``, ``-0.294615``, ``1 \cdot 10^{-9}``, ``\infty`` (:meth:`Notation.tex_number`, 6 digits)."""
    return Notation.tex_number(x, DIGITS)


def _is_scalar(v) -> bool:
    return not isinstance(v, np.ndarray) or v.size == 1


def _scalar(v) -> float:
    return float(np.ravel(v)[0]) if isinstance(v, np.ndarray) else float(v)


def _matrix(m) -> str:
    rows, cols = m.shape
    ri = list(range(rows)) if rows <= MAX_SHOWN_DIM else list(range(MAX_SHOWN_DIM - 2)) + [None, rows - 1]
    ci = list(range(cols)) if cols <= MAX_SHOWN_DIM else list(range(MAX_SHOWN_DIM - 2)) + [None, cols - 1]
    lines = []
    for r in ri:
        if r is None:
            lines.append(" & ".join("\\vdots" if c is not None else "\\ddots" for c in ci))
        else:
            lines.append(" & ".join(tex_number(m[r, c]) if c is not None else "\\cdots" for c in ci))
    return "\\begin{bmatrix} " + " \\\\ ".join(lines) + " \\end{bmatrix}"


def tex_value(v) -> str:
    r"""A value in LaTeX: a number (also for a 1×1 matrix), ``(1, -2)`` for a vector, a bmatrix.

    >>> tex_value(14.0), tex_value(np.array([[11.0, 3.0]])), tex_value(np.array([[9.0]]))
    ('14', '\\begin{bmatrix} 11 & 3 \\end{bmatrix}', '9')
    """
    if _is_scalar(v):
        return tex_number(_scalar(v))
    v = np.asarray(v)
    if v.ndim == 1:
        shown = [tex_number(x) for x in v[:MAX_SHOWN_DIM]] + (["\\dots"] if v.size > MAX_SHOWN_DIM else [])
        return "\\left(" + ", ".join(shown) + "\\right)"
    if v.ndim == 2:
        return _matrix(v)
    return "\\left[" + ", ".join(tex_value(x) for x in v) + "\\right]"


def _operand(text: str) -> str:
    """Parentheses around a negative number used as an operand."""
    return f"({text})" if text.startswith("-") else text


# --- formulas of the operations ------------------------------------------------------------------

def op_tex(node, operands: list[str], values: list) -> str:
    """The node's operation over operand texts (names or values) in LaTeX, from the op table's
    ``tex`` (``tex_elementwise`` for ``⊙`` of two tensors and for a matrix product with a scalar side)."""
    op = node.fn
    if op.tex is None:
        return f"\\operatorname{{{node.op}}}\\left({', '.join(operands)}\\right)"
    elementwise = all(not _is_scalar(v) for v in values) if node.op == "mul" else \
        any(np.ndim(v) == 0 for v in values)
    template = op.tex_elementwise if elementwise and op.tex_elementwise else op.tex
    params = dict(node.params)
    if "index" in params:
        params["index"] = ", ".join(map(str, params["index"])) if isinstance(params["index"], tuple) else params["index"]
    if "p" in params:
        params["p"] = fmt_number(params["p"])
    text = template.format(*operands, **params)
    if params.get("stride", 1) != 1:
        text += f"\\ (\\text{{stride }} {params['stride']})"
    return text


# --- the solution as a list of blocks, written in two formats -------------------------------------

class Document:
    """Blocks: ``("h", text)``, ``("p", [segments])``, ``("eq", latex)``, ``("code", text)``.
    A segment is plain text, ``("m", latex)`` inline math or ``("c", text)`` code."""

    def __init__(self):
        self.blocks: list = []

    def heading(self, text: str, level: int = 2):
        self.blocks.append(("h", level, text))

    def section(self, text: str):
        """A numbered section heading: ``1. Forward pass``."""
        self.sections = getattr(self, "sections", 0) + 1
        self.heading(f"{self.sections}. {text}")

    def para(self, *segments):
        self.blocks.append(("p", segments))

    def eq(self, latex: str):
        self.blocks.append(("eq", latex))

    def code(self, text: str):
        self.blocks.append(("code", text))


def m(latex: str):
    return ("m", latex)


def c(text: str):
    return ("c", text)


def b(text: str):
    return ("b", text)


def _md_segment(s) -> str:
    if isinstance(s, str):
        return re.sub(r"([*_\\<>\[\]`|])", r"\\\1", s)
    kind, text = s
    return f"${text}$" if kind == "m" else f"**{_md_segment(text)}**" if kind == "b" else _code_span(text)


def _code_span(text: str) -> str:
    """Inline code that holds any text: delimited by more backticks than any run inside it (CommonMark),
    so a backtick in a user's comment cannot end the span.

    >>> _code_span("x*y"), _code_span("a ` b"), _code_span("`")
    ('`x*y`', '`` a ` b ``', '`` ` ``')
    """
    run = max((len(r) for r in re.findall("`+", text)), default=0)
    if not run:
        return f"`{text}`"
    tick = "`" * (run + 1)
    return f"{tick} {text} {tick}"


def to_markdown(doc: Document) -> str:
    out = []
    for b in doc.blocks:
        if b[0] == "h":
            out.append("#" * b[1] + " " + b[2])
        elif b[0] == "p":
            out.append("".join(_md_segment(s) for s in b[1]))
        elif b[0] == "eq":
            out.append("$$\n" + b[1] + "\n$$")
        else:                           # a fence longer than any run of backticks in the text
            fence = "`" * max(3, 1 + max((len(r) for r in re.findall("`+", b[1])), default=0))
            out.append(fence + "\n" + b[1].rstrip("\n") + "\n" + fence)
    return "\n\n".join(out) + "\n"


_TEX_TEXT = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&", "#": "\\#",
             "%": "\\%", "_": "\\_", "^": "\\^{}", "~": "\\textasciitilde{}", "<": "\\textless{}",
             ">": "\\textgreater{}", "|": "\\textbar{}"}
_TEX_UNICODE = {"·": "\\ensuremath{\\cdot}", "×": "\\ensuremath{\\times}", "⋅": "\\ensuremath{\\cdot}",
                "−": "-", "–": "--", "—": "---", "→": "\\ensuremath{\\to}", "←": "\\ensuremath{\\leftarrow}",
                "∂": "\\ensuremath{\\partial}", "∇": "\\ensuremath{\\nabla}", "‖": "\\ensuremath{\\|}",
                "…": "\\dots{}", "’": "'", "η": "\\ensuremath{\\eta}"}
_TEX_UNICODE.update({ch: "\\ensuremath{" + cmd + "}" for ch, cmd in UNICODE_TEX.items()})


def tex_text(s: str) -> str:
    """Plain text for LaTeX: special characters escaped, non-ASCII characters spelled in ASCII."""
    out = []
    for ch in s:
        if ch in _TEX_TEXT:
            out.append(_TEX_TEXT[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(_TEX_UNICODE.get(ch, "?"))
    return "".join(out)


def _ascii_math(latex: str) -> str:
    """pdflatex reads ASCII: any non-ASCII character left in math is spelled as a command."""
    return "".join(ch if ord(ch) < 128 else UNICODE_TEX.get(ch, _TEX_UNICODE.get(ch, "?"))
                   .replace("\\ensuremath{", "{") for ch in latex)


def _tex_segment(s) -> str:
    if isinstance(s, str):
        return tex_text(s)
    kind, text = s
    if kind == "b":
        return "\\textbf{" + tex_text(text) + "}"
    return f"${_ascii_math(text)}$" if kind == "m" else "\\texttt{" + tex_text(text) + "}"


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath}
\setcounter{MaxMatrixCols}{20}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em}
\addtolength{\textwidth}{3cm}
\addtolength{\oddsidemargin}{-1.5cm}
\begin{document}
"""


def to_tex(doc: Document) -> str:
    out = [_PREAMBLE]
    for b in doc.blocks:
        if b[0] == "h":
            cmd = {1: "section*", 2: "subsection*"}.get(b[1], "subsubsection*")
            out.append(f"\\{cmd}{{{tex_text(b[2])}}}")
        elif b[0] == "p":
            out.append("".join(_tex_segment(s) for s in b[1]))
        elif b[0] == "eq":
            out.append("\\[\n" + _ascii_math(b[1]) + "\n\\]")
        else:
            lines = b[1].rstrip("\n").split("\n")
            out.append("\\begin{flushleft}\\ttfamily\n" + " \\\\\n".join(tex_text(x) or "~" for x in lines)
                       + "\n\\end{flushleft}")
    out.append("\\end{document}")
    return "\n\n".join(out) + "\n"


def chain(lhs: str, parts: list[str]) -> str:
    """``lhs = p1 = p2 = …``, consecutive repeats dropped; on several aligned lines when long."""
    shown = []
    for p in parts:
        if p and (not shown or shown[-1] != p) and p != lhs:
            shown.append(p)
    if not shown:
        return lhs
    if len(shown) == 1 or (sum(map(len, shown)) < 90 and "begin{bmatrix}" not in "".join(shown)):
        return lhs + " = " + " = ".join(shown)
    return "\\begin{aligned}\n" + lhs + " &= " + " \\\\\n&= ".join(shown) + "\n\\end{aligned}"


# --- what the sections share ----------------------------------------------------------------------
