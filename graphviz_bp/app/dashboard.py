"""Helpers of the Streamlit dashboard (``graphviz_bp/app/page.py``) that need no Streamlit.

State and formatting only: every number shown comes from the library
(evaluation, reverse accumulation, paths, forward mode); this module lists the
examples, turns values into text (input fields, LaTeX matrices, JSON) and
prepares server-side SVG for the page.

>>> value_literal(14.0), value_literal([[1.0, -0.5]])
('14', '[[1, -0.5]]')
>>> latex_value([[11.0, 3.0]])
'\\\\begin{bmatrix}11 & 3\\\\end{bmatrix}'
"""
from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from ..core.notation import Notation, shape_text, to_json

EXAMPLES_DIR: Traversable = files("graphviz_bp") / "examples"   # package data: works from a wheel too
DEFAULT_EXAMPLE = "l1_least_squares.txt"        # E2, what the dashboard opens on
PAGE_SIZE = 10                                   # paths listed per page
MAX_ENTRIES_SHOWN = 64                           # larger tensors are not written out in the tables

_TITLE = re.compile(r"^\s*(?:#|%)\s*(?P<title>.+?)\s*$")
_ENUM = re.compile(r"^E(\d+)[a-z]?\b")            # E2, E13a

NOTATIONS = {"auto": "Auto", "plain": "Plain", "latex": "LaTeX"}   # the notation switch: parse(syntax=…)


@dataclass(frozen=True)
class Example:
    file: str       # file name in graphviz_bp/examples/, e.g. "l1_least_squares.txt"
    title: str      # its first comment line, e.g. "E2 · L1-regularised least squares with matrices (seed 000)"
    text: str       # the program


def example_title(file: str, text: str) -> str:
    """The gallery name of an example: its first comment line, else the file name.

    >>> example_title("x.txt", "# E1 · path sum\\nf = x")
    'E1 · path sum'
    >>> example_title("my_net.tex", "$$f = x$$")
    'my net (LaTeX)'
    """
    first = text.splitlines()[0] if text.strip() else ""
    m = _TITLE.match(first)
    tex = file.endswith(".tex")
    if m and m.group("title"):
        title = m.group("title")
        return title if not tex or "latex" in title.lower() else f"{title} (LaTeX)"
    stem = Path(file).stem.replace("_", " ")
    return f"{stem} (LaTeX)" if tex else stem


def _order(ex: Example):
    """E1, E2, …, E13a, E13b, … by number (then title), the untitled after them."""
    m = _ENUM.match(ex.title)
    return (0, int(m.group(1)), ex.title) if m else (1, 0, ex.title)


def _dir(directory) -> Traversable:
    return Path(directory) if isinstance(directory, str) else directory


def gallery(directory: Traversable | Path | str = EXAMPLES_DIR) -> list[Example]:
    """Every ``*.txt`` and ``*.tex`` program of the examples (``graphviz_bp/examples``, package data),
    ordered E1, E2, … then the rest."""
    out = []
    for path in sorted((p for p in _dir(directory).iterdir() if p.name.endswith((".txt", ".tex"))),
                       key=lambda p: p.name):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.append(Example(path.name, example_title(path.name, text), text))
    return _lettered(sorted(out, key=_order))


def _lettered(examples: list[Example]) -> list[Example]:
    """Examples that share an exercise number get letters in the gallery (E8a, E8b, … instead of
    five "E8"), in gallery order; an example whose title already has a letter keeps it.

    >>> [e.title for e in _lettered([Example("a", "E8 · x", ""), Example("b", "E8 · y", ""),
    ...                              Example("c", "E9 · z", "")])]
    ['E8a · x', 'E8b · y', 'E9 · z']
    """
    numbers = [m.group(0) for e in examples if (m := _ENUM.match(e.title)) and m.group(0)[-1].isdigit()]
    shared = {n for n in numbers if numbers.count(n) > 1}
    seen: dict = {}
    out = []
    for e in examples:
        m = _ENUM.match(e.title)
        n = m.group(0) if m else None
        if n in shared:
            letter = "abcdefghijklmnopqrstuvwxyz"[seen.setdefault(n, 0)]
            seen[n] += 1
            e = Example(e.file, n + letter + e.title[len(n):], e.text)
        out.append(e)
    return out


def editor_height(text: str, chars_per_line: int = 46, line_px: int = 24) -> int:
    """Height in px of the program editor: the whole program when it fits (wrapped lines counted),
    between 250 and 620 px.

    >>> editor_height("f = x"), editor_height("x = 1\\n" * 40)
    (250, 620)
    """
    rows = sum(max(1, -(-len(line) // chars_per_line)) for line in text.splitlines() or [""])
    return max(250, min(620, rows * line_px + 30))


def answer_files(examples: list[Example], text: str,
                 directory: Traversable | Path | str = EXAMPLES_DIR) -> list[str]:
    """Hand solutions (``<stem>*.answers`` in examples/) of the example whose program is ``text``.

    >>> answer_files([Example("e.txt", "E", "f = x")], "f = y")
    []
    """
    for ex in examples:
        if ex.text == text:
            stem = Path(ex.file).stem
            return sorted(p.name for p in _dir(directory).iterdir()
                          if p.name.startswith(stem) and p.name.endswith(".answers"))
    return []


# --- values as text --------------------------------------------------------------------------

def value_literal(v) -> str:
    """A value as the literal an input field shows (read back by ``reading.program.read_value``).

    >>> value_literal(None), value_literal(-1.0), value_literal(np.array([0.1, 2.0]))
    ('', '-1', '[0.1, 2]')
    """
    if v is None:
        return ""
    return json.dumps(to_json(v), ensure_ascii=False)


def values_key(texts: dict) -> tuple:
    """A hashable key for the inputs' texts (for caches and the last good state)."""
    return tuple(sorted((k, (v or "").strip()) for k, v in texts.items()))


def latex_number(x, digits: int = 4) -> str:
    """A number in KaTeX, spelled as the worked solution spells it (:meth:`Notation.tex_number`)."""
    return Notation.tex_number(x, digits)


def latex_value(v, digits: int = 4) -> str:
    r"""A number, or a vector/matrix as a LaTeX ``bmatrix`` (a vector as a column, as on paper).

    >>> print(latex_value([1.0, 2.0]), latex_value(np.zeros((10, 10))))
    \begin{bmatrix}1 \\ 2\end{bmatrix} \text{10×10 entries (see the JSON download)}
    """
    if v is None:
        return r"\text{—}"
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return latex_number(float(a), digits)
    if a.size > MAX_ENTRIES_SHOWN:
        return r"\text{" + shape_text(a) + r" entries (see the JSON download)}"
    if a.ndim == 1:
        rows = [[x] for x in a]
    elif a.ndim == 2:
        rows = a.tolist()
    else:
        return r"\text{" + shape_text(a) + " tensor}"
    body = r" \\ ".join(" & ".join(latex_number(x, digits) for x in row) for row in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def notation_note(syntax_read: str, chosen: str) -> str | None:
    """The one line under the editor saying how the program was read (None for the plain notation).

    >>> notation_note("latex", "auto"), notation_note("latex", "latex"), notation_note("plain", "auto")
    ('Read as LaTeX (auto-detected)', 'Read as LaTeX (as chosen)', None)
    """
    if syntax_read != "latex":
        return None
    return "Read as LaTeX (auto-detected)" if chosen == "auto" else "Read as LaTeX (as chosen)"


def notation_hint(text: str, chosen: str) -> str | None:
    """After an error: a hint when the notation switch, not the program, is the likely cause.

    >>> notation_hint("$$f = x$$", "plain")
    'The program looks like LaTeX but Notation is Plain: choose Auto or LaTeX to read it.'
    >>> notation_hint("f = ||W||_1", "latex")
    'Notation is LaTeX: choose Auto or Plain to read the plain notation.'
    >>> notation_hint("f = x +", "auto") is None
    True
    """
    from ..reading.latex import looks_like_latex
    if chosen == "plain" and looks_like_latex(text):
        return "The program looks like LaTeX but Notation is Plain: choose Auto or LaTeX to read it."
    if chosen == "latex" and not looks_like_latex(text):
        return "Notation is LaTeX: choose Auto or Plain to read the plain notation."
    return None


def symbolic_text(expr) -> str:
    """A SymPy expression as the notation writes it (``**`` → ``^``)."""
    return str(expr).replace("**", "^")


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell or sentence (no stray emphasis, pipes or math)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|$~])", r"\\\1", str(text))


# --- SVG on the page ---------------------------------------------------------------------------

_PROLOGUE = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*", re.S)
_SIZE = re.compile(r'<svg([^>]*?)\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"', re.S)
_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)">(.*?)</g>', re.S)
_FONT = re.compile(r'font-size="([\d.]+)"')

# Readable from the back of a classroom on a 1080p projector (issue 18): on screen, node text at
# least 12 px and edge labels at least 11 px. "fit" never draws a graph smaller than that (a graph
# too big for the column then scrolls: pan by scrolling), and never larger than FIT_MAX_ZOOM times
# its natural size (a three-node graph does not fill the screen with 40 px letters).
MIN_NODE_PX, MIN_EDGE_PX = 12.0, 11.0
FIT_MAX_ZOOM = 1.75
PT = 4 / 3                      # CSS px per Graphviz point


def text_sizes(svg: str) -> dict:
    """The smallest font size of node texts and of edge labels of a Graphviz SVG, in points
    (None when there is none).

    >>> text_sizes('<g id="n" class="node"><text font-size="14.00">x</text></g>'
    ...            '<g id="e" class="edge"><text font-size="12.00">2x</text></g>')
    {'node': 14.0, 'edge': 12.0}
    """
    out: dict = {"node": None, "edge": None}
    for kind, body in _GROUP.findall(svg):
        sizes = [float(x) for x in _FONT.findall(body)]
        if sizes:
            out[kind] = min(sizes + ([out[kind]] if out[kind] else []))
    return out


def readable_zoom(svg: str) -> float:
    """The smallest zoom (1 = natural size) at which node text is MIN_NODE_PX and edge labels
    MIN_EDGE_PX on screen.

    >>> round(readable_zoom('<g id="e" class="edge"><text font-size="12.00">2x</text></g>'), 4)  # 11/16 px
    0.7013
    """
    sizes = text_sizes(svg)
    need = [MIN_NODE_PX / (sizes["node"] * PT) if sizes["node"] else 0.0,
            MIN_EDGE_PX / (sizes["edge"] * PT) if sizes["edge"] else 0.0]
    return max(need) * 1.02     # 2 %: the browser rounds sizes and widths to device pixels


def svg_for_page(svg: str, zoom: float | None = None, *, height_css: str = "100vh - 280px",
                 state: str = "") -> str:
    """Inline SVG for the page, in a block that scrolls (pan by scrolling).

    ``zoom=None`` ("fit") draws the graph as wide as the column and as tall as ``height_css``
    allows (aspect kept), but never below :func:`readable_zoom` (then the block scrolls) and never
    above FIT_MAX_ZOOM times its natural size. A number draws it at that multiple of its natural
    size (1.0 = Graphviz's points at 96 dpi).

    ``state`` names what the block shows (program, view, options) in its ``data-state``: a test
    driving the page waits for it to change, since two views can draw the same picture.

    >>> svg = '<?xml version="1.0"?>\\n<svg width="300pt" height="150pt" viewBox="0 0 300 150"></svg>'
    >>> 'width="400px" height="200px"' in svg_for_page(svg), 'width="600px"' in svg_for_page(svg, zoom=1.5)
    (True, True)
    >>> "clamp(0px, min(100%, calc((100vh - 280px) * 2.0000)), 700px)" in svg_for_page(svg)
    True
    """
    svg = _PROLOGUE.sub("", svg, count=1)
    m = _SIZE.search(svg)
    if m:
        w_px, h_px = float(m.group(2)) * PT, float(m.group(3)) * PT
        if zoom is None:
            low = w_px * readable_zoom(svg)
            high = max(low, w_px * FIT_MAX_ZOOM)
            style = (f"width:clamp({low:.0f}px, min(100%, calc(({height_css}) * {w_px / h_px:.4f})), "
                     f"{high:.0f}px);height:auto;max-width:none;")
        else:
            w_px, h_px = w_px * zoom, h_px * zoom
            style = "max-width:none;"
        svg = (svg[:m.start()] + f'<svg{m.group(1)} width="{w_px:.0f}px" height="{h_px:.0f}px" '
               f'style="{style}"' + svg[m.end():])
    svg = "\n".join(line for line in svg.splitlines() if line.strip())   # a blank line would end the HTML block
    block = "max-height:calc(100vh - 120px);" if zoom is not None else ""
    return (f'<div class="gbp-graph" data-state="{html.escape(state)}" '
            f'style="overflow:auto;text-align:center;{block}">{svg}</div>')


def gradients_json(output: str, value, gradients: dict) -> str:
    """The document ``graphviz-bp grad --json`` writes: output, value, gradients, method."""
    doc = {"output": output, "value": value, "gradients": gradients, "method": "reverse"}
    return json.dumps(to_json(doc), ensure_ascii=False, indent=2)


def count_note(count: int) -> str:
    """For a count too long to read, its size as a power of two.

    >>> count_note(3), count_note(2 ** 60), count_note(3 * 2 ** 40)
    ('', ' (= 2⁶⁰)', ' (≈ 2⁴²)')
    """
    if count < 10 ** 6:
        return ""
    sup = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
    k = count.bit_length() - 1
    if count == 1 << k:
        return f" (= 2{str(k).translate(sup)})"
    return f" (≈ 2{str(round(math.log2(count))).translate(sup)})"


def same_value(a, b) -> bool:
    """Whether two library results agree (to rounding): the path sum and the reverse-mode gradient.

    >>> same_value(np.array([[11.0, 3.0]]), np.array([[11.0, 3.0 + 1e-13]])), same_value(1.0, 2.0)
    (True, False)
    """
    if a is None or b is None or np.shape(a) != np.shape(b):
        return False
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


def page_count(count: int, cap: int, size: int = PAGE_SIZE) -> int:
    """Pages of ``size`` paths needed to list ``min(count, cap)`` paths (at least 1).

    >>> page_count(2, 10_000), page_count(2 ** 60, 10_000), page_count(0, 10)
    (1, 1000, 1)
    """
    listed = min(count, cap)
    return max(1, -(-listed // size))


# --- activations a sheet only names (issue 15: read as meant, or asked) ---------------------------

_UNDEFINED = re.compile(r"--define (\w+)=")


def undefined_function(message: str) -> str | None:
    """The letter a reading error asks to define (``f`` of "… --define f=sigmoid …"), or None.

    >>> undefined_function("line 1, column 5: f(…) is not defined on the sheet: … --define f=sigmoid (relu, …)")
    'f'
    """
    m = _UNDEFINED.search(message)
    return m.group(1) if m else None


def activation_choices() -> list[str]:
    """The elementwise one-argument functions of the op table, by their plain names."""
    from ..core.ops import OPS
    return [op.spellings[0] for op in OPS.values()
            if op.spellings and op.arity == 1 and op.kind == "elementwise"]


def parse_prog(prog: tuple):
    """The graph of the page's program ``(text, syntax[, defines])``; ``defines`` are the activations
    chosen for letters the sheet only names (``(("f", "sigmoid"),)``)."""
    from ..api import parse
    text, syntax, *rest = prog
    defines = dict(rest[0]) if rest and rest[0] else None
    return parse(text, syntax=syntax, define=defines)
