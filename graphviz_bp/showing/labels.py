"""Label text for the renderer: themes, fonts, values as grids, HTML-like labels (names and formulas come from ``g.notation``).

Everything here returns strings; :mod:`graphviz_bp.showing.render` assembles the graph.
Text uses Helvetica and matrices Courier, the faces graphviz-pure has metrics for;
cells holding non-ASCII text get an explicit ``WIDTH`` (graphviz-pure counts ``∂`` as
three spaces' worth of a byte each, real glyphs are wider or narrower).
"""
from __future__ import annotations

import html
import math
import re

from dataclasses import dataclass, field

import numpy as np

from ..core.notation import fmt_number
from .layout import ink_width, text_width
from ..algorithms.symbolic import local_symbolic
from ..core.evaluate import local_partial

SANS, MONO = "Helvetica", "Courier"
SIZE = {"name": 14, "value": 14, "matrix": 13, "small": 10.5, "edge": 12, "title": 17, "subtitle": 13}
MAX_GRID = (4, 4)          # tensors up to this many rows × columns show their entries
MAX_JACOBIAN_GRID = (8, 4)  # a tangent (∂node/∂input, one column per input entry) is read entry by entry
MAX_VECTOR = 6             # 1-D tensors up to this many entries show them
MAX_EDGE_ENTRIES = 4       # numeric local derivatives with more entries are left off edge labels

# --- themes ----------------------------------------------------------------------------------
# role -> (fill, border); "print" has no fills and tells roles apart by border alone
# (input: solid; parameter: double; constant: thin square; output: thick; reference: dashed).
THEMES = {
    "light": dict(
        bg="white", text="#1F2328", muted="#6E7781", edge="#57606A", grad="#B42318", tangent="#0E7C86",
        accent="#D0540F", current="#7C3AED", pending="#A0A7B0", label_bg="white", rule="#C5CAD0",
        input=("#E3EEFB", "#2F6DB5"), param=("#E3F4E6", "#2E7D32"), const=("#FFFFFF", "#9AA1A9"),
        intermediate=("#F3F4F6", "#7D848C"), output=("#FFF1DC", "#D9822B"), summary=("#F8F8F8", "#7D848C")),
    "dark": dict(
        bg="#15181D", text="#E6E8EB", muted="#9AA4AF", edge="#9AA4AF", grad="#FF8A80", tangent="#5FD7E0",
        accent="#FFB454", current="#C4A7FF", pending="#5C6570", label_bg="#15181D", rule="#4A525C",
        input=("#1B3552", "#6FA8E8"), param=("#1C3B25", "#70C47A"), const=("#15181D", "#6B7480"),
        intermediate=("#242A31", "#8C96A1"), output=("#4A3212", "#F0A040"), summary=("#242A31", "#8C96A1")),
    "print": dict(
        bg="white", text="black", muted="#444444", edge="black", grad="black", tangent="black",
        accent="black", current="black", pending="#777777", label_bg="white", rule="#999999",
        input=("none", "black"), param=("none", "black"), const=("none", "black"),
        intermediate=("none", "black"), output=("none", "black"), summary=("none", "black")),
}


def theme(name: str) -> dict:
    from ..core.errors import InputError
    try:
        return THEMES[name]
    except KeyError:
        raise InputError(f"unknown theme {name!r} (choose one of {', '.join(THEMES)})", kind="usage") from None


# --- names, numbers, formulas ----------------------------------------------------------------

def shape_of(v) -> str:
    return "×".join(map(str, np.shape(v))) or "scalar"


def is_small(v, grid=MAX_GRID) -> bool:
    """Whether a tensor is small enough to show its entries (``grid``: the most rows × columns)."""
    shape = np.shape(v)
    if len(shape) == 1:
        return shape[0] <= MAX_VECTOR
    return len(shape) == 2 and shape[0] <= grid[0] and shape[1] <= grid[1]


def matrix_lines(v, digits: int = 4) -> list[str]:
    """Entries as the exercises write them, columns right-aligned: ``['[[-1, 1],', ' [ 1, 3]]']``."""
    a = np.asarray(v, dtype=float)
    if a.ndim == 1:
        return ["[" + ", ".join(fmt_number(x, digits) for x in a) + "]"]
    cells = [[fmt_number(x, digits) for x in row] for row in a]
    widths = [max(len(r[k]) for r in cells) for k in range(a.shape[1])]
    rows = [", ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    n = len(rows)
    # every line equally long ("]," and "]]"), so the centred lines stay aligned
    return [("[[" if i == 0 else " [") + r + ("]]" if i == n - 1 else "],") for i, r in enumerate(rows)]


def summary_lines(v) -> list[str]:
    a = np.asarray(v, dtype=float)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return [f"{shape_of(v)}, no finite entries"]
    # scaled by the largest entry: entries near 1e308 have a mean and a norm, not an overflow
    top = float(np.max(np.abs(finite))) or 1.0
    scaled = finite / top
    mean, norm = float(np.mean(scaled)) * top, float(np.sqrt(np.sum(scaled ** 2))) * top
    return [f"{shape_of(v)} · min {fmt_number(finite.min())} · max {fmt_number(finite.max())}",
            f"mean {fmt_number(mean)} · ‖·‖ {fmt_number(norm)}"]


def inline_value(v, digits: int = 4) -> str:
    """A value on one line (for edge labels and titles): ``6``, ``[[1, 1]]``."""
    from ..core.notation import fmt_value
    return fmt_value(v, digits) if np.ndim(v) else fmt_number(v, digits)


# --- HTML-like labels ------------------------------------------------------------------------

def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def font(text: str, size: float | None = None, color: str | None = None, face: str | None = None,
         bold: bool = False) -> str:
    """One run of text (escaped) in the given font."""
    body = f"<B>{esc(text)}</B>" if bold else esc(text)
    attrs = "".join(f' {k}="{v}"' for k, v in (("POINT-SIZE", size and f"{size:g}"), ("COLOR", color),
                                                  ("FACE", face)) if v)
    return f"<FONT{attrs}>{body}</FONT>" if attrs else body


def runs_width(runs) -> tuple[float, float]:
    """(graphviz estimate, ink estimate) of a line made of runs ``(text, size, face, bold)``."""
    est = sum(text_width(t, s, f, b) for t, s, f, b in runs)
    ink = sum(ink_width(t, s, f, b) for t, s, f, b in runs)
    return est, ink


class Line:
    """A line of text runs that knows how wide it really is."""

    def __init__(self):
        self.parts: list[str] = []
        self.runs: list[tuple] = []

    def add(self, text: str, size: float, color: str | None = None, face: str = SANS, bold: bool = False):
        if text:
            if self.runs and self.runs[-1][1:] == (size, face, bold, color):    # same style: one run
                text = self.runs.pop()[0] + text
                self.parts.pop()
            self.parts.append(font(text, size, color, face if face != SANS else None, bold))
            self.runs.append((text, size, face, bold, color))
        return self

    def td(self, pad: int = 1, attrs: str = "") -> str:
        est, ink = runs_width([r[:4] for r in self.runs])
        width = f' WIDTH="{math.ceil(ink + 2 * pad + 1)}"' if ink > est + 1 else ""
        return f"<TD{width}{attrs}>{''.join(self.parts)}</TD>"


def row(cell: str) -> str:
    return f"<TR>{cell}</TR>"


def table(rows: list[str], pad: int = 1, spacing: int = 0, attrs: str = "") -> str:
    return (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="{spacing}" CELLPADDING="{pad}"{attrs}>'
            + "".join(rows) + "</TABLE>")


def block(lines: list[str], size: float, color: str | None, face: str = MONO) -> str:
    """Lines left-aligned among themselves, the block centred: a nested one-cell table."""
    return table([row(Line().add(line, size, color, face).td(pad=0)) for line in lines], pad=0)


def value_cells(v, size: float, color: str | None, prefix: str | None = None, grid=MAX_GRID) -> list[str]:
    """A value as table cells: a number, a grid of entries (up to ``grid`` rows × columns), or a
    summary, after ``prefix`` (``∂L/∂W =``). One cell, or two (prefix, grid) for a grid of several lines."""
    if v is None:
        return [Line().add((prefix + " ?") if prefix else "?", size, color).td()]
    if np.ndim(v) == 0:
        line = Line()
        if prefix:
            line.add(prefix + " ", size, color)
        return [line.add(fmt_number(float(v)).replace("-", "−"), size + (0 if prefix else 1), color).td()]
    if is_small(v, grid):
        lines = matrix_lines(v)
        if len(lines) == 1:
            line = Line()
            if prefix:
                line.add(prefix + " ", size, color)
            return [line.add(lines[0], SIZE["matrix"], color, MONO).td()]
        grid = f"<TD>{block(lines, SIZE['matrix'], color)}</TD>"
        return [Line().add(prefix, size, color).td(), grid] if prefix else [grid]
    lines = summary_lines(v)
    if prefix:
        lines = [f"{prefix} {lines[0]}"] + lines[1:]
    return ["<TD>" + table([row(Line().add(t, SIZE["small"] + 1, color).td()) for t in lines], pad=0) + "</TD>"]


def stack(head: str, groups: list[list[str]], horizontal: bool, rule_color: str) -> str:
    """A node's table: the ``head`` cell over the groups of cells (each group one value).

    Stacked, a group of two cells (prefix, grid) takes both columns of a two-column table and
    single cells span them, so prefixes and grids line up like aligned equations; side by side
    (``horizontal``), the groups are separated by thin vertical rules.
    """
    if horizontal and len(groups) > 1:
        body = table([row("<VR/>".join("".join(g) for g in groups))], pad=3, attrs=f' COLOR="{rule_color}"')
        return table([row(head), row(f"<TD>{body}</TD>")], pad=1)
    columns = max((len(g) for g in groups), default=1)

    def spanned(cell: str) -> str:
        return cell.replace("<TD", f'<TD COLSPAN="{columns}"', 1) if columns > 1 else cell
    rows = [row(spanned(head))] + [row("".join(g) if len(g) == columns else spanned(g[0])) for g in groups]
    return table(rows, pad=1)


# --- what the picture shows --------------------------------------------------------------------

@dataclass
class Facts:
    """What the picture shows, computed once: values, adjoints, steps, tangents, notes."""
    values: list | None = None
    adjoints: dict | None = None
    steps: list = field(default_factory=list)
    tangents: dict | None = None
    tangent_src: str | None = None
    notes: list = field(default_factory=list)
    path_count: int | None = None          # paths from the highlighted path's start to its end
    path_values: list | None = None        # their contributions, when there are at most six
    path_value: object = None              # the highlighted path's own contribution
    formulas: dict | None = None           # node -> its adjoint as a formula in node names (issue 14)
    path_formula: str | None = None        # a tensor program's highlighted path in matrix form (checked)


# --- node and edge labels ---------------------------------------------------------------------

def num(x) -> str:
    return inline_value(x).replace("-", "−")


def node_label(g, node, facts: Facts, layers, t, state=None, step_no=None, horizontal=False) -> str:
    """The HTML-like label of one node: ``name = formula`` over its value, adjoint and tangent
    (stacked; side by side when ``horizontal``, which keeps top-to-bottom layouts short)."""
    out_name = g.notation.name(g.output)
    head_line = Line().add(g.notation.name(node.name), SIZE["name"], t["text"], bold=True)
    if not node.is_leaf:
        head_line.add(" = " + g.notation.formula(node), SIZE["name"], t["text"])
    value = facts.values[node.index] if facts.values is not None else None
    if "shapes" in layers and value is not None and np.ndim(value):
        head_line.add("  " + shape_of(value), SIZE["small"], t["muted"])
    groups = []
    if "values" in layers and value is not None:
        groups.append(value_cells(value, SIZE["value"], t["text"]))
    if facts.adjoints is not None and ("grads" in layers or state) and node.kind != "const":
        prefix = f"∂{out_name}/∂{g.notation.name(node.name)} ="
        adj = facts.adjoints.get(node.name)
        if state == "pending":
            groups.append([Line().add(prefix + " ?", SIZE["value"], t["pending"]).td()])
        elif adj is not None:
            groups.append(value_cells(adj, SIZE["value"], t["grad"] if state != "current" else t["current"],
                                      prefix=prefix))
    if facts.formulas and node.name in facts.formulas:           # issue 14: show="formulas"
        groups.append([Line().add(f"∂{out_name}/∂{g.notation.name(node.name)} = {facts.formulas[node.name]}",
                                  SIZE["value"], t["grad"]).td()])
    if facts.tangents is not None and node.name in facts.tangents and node.name != facts.tangent_src:
        tan = facts.tangents[node.name]
        src_value = facts.values[g.index(facts.tangent_src)]
        if value is not None and np.ndim(src_value) == 0 and np.size(tan) == np.size(value):
            tan = np.reshape(tan, np.shape(value)) if np.ndim(value) else float(np.ravel(tan)[0])
        groups.append(value_cells(tan, SIZE["value"], t["tangent"], grid=MAX_JACOBIAN_GRID,
                                  prefix=f"∂{g.notation.name(node.name)}/∂{g.notation.name(facts.tangent_src)} ="))
    if state == "current":
        tag = Line().add(f"reverse step {step_no}", SIZE["small"], t["current"], bold=True)
        head_cell = f"<TD>{table([row(tag.td()), row(head_line.td())], pad=0)}</TD>"
    else:
        head_cell = head_line.td()
    return "<" + stack(head_cell, groups, horizontal, t["rule"]) + ">"


_RULE_SUBS = {"matmul": {"A": 0, "B": 1}, "inv": {"A": 0}, "det": {"A": 0}, "conv2d": {"I": 0, "K": 1},
              "norm2": {"a": 0}, "normp": {"a": 0}, "logsumexp": {"a": 0}}


def _rule(g, u: int, v: int) -> str:
    """The vector–Jacobian rule of an edge in the graph's names: ``ḡ ↦ ḡ·h₁ᵀ``."""
    from ..algorithms.symbolic import local_text
    node = g.nodes[v]
    text = local_text(g, u, v)
    for letter, k in _RULE_SUBS.get(node.op, {}).items():
        text = re.sub(rf"(?<![A-Za-z]){letter}(?![A-Za-z])", g.notation.operand(node.args[k]), text)
    if node.op == "softmax":
        text = re.sub(r"(?<![A-Za-z])s(?![A-Za-z])", g.notation.name(node.name), text)
    return f"ḡ ↦ {text}" if "ḡ" in text else text


def edge_text(g, u: int, v: int, facts: Facts, layers, at) -> str | None:
    """The edge's local derivative: symbolic (``2c``), numeric (``6``), or both (``2c = 6``)."""
    node = g.nodes[v]
    symbolic = numeric = None
    if "locals" in layers:
        try:
            if node.op == "component":
                symbolic = f"∂{g.notation.name(node.name)}/∂{g.notation.name(g.nodes[u].name)}"
            elif node.fn.sym is not None:
                symbolic = g.notation.expr(str(local_symbolic(g, u, node.index)))
            else:
                symbolic = _rule(g, u, v)
        except Exception:          # a SymPy failure must not cost the picture
            symbolic = None
    # an element of a reduction in the scalar view has no formula of its own (∂e/∂c[0,0]): its
    # number says what the edge carries
    component = node.op == "component" and symbolic is not None
    if ("numeric" in layers or component) and facts.values is not None:
        d = local_partial(g, u, node.index, at)
        if d is not None and np.size(d) <= MAX_EDGE_ENTRIES:
            numeric = num(d)
    if symbolic and numeric:
        return symbolic if symbolic == numeric else f"{symbolic} = {numeric}"
    return symbolic or numeric


def edge_label(text: str | None, color: str, t) -> str | None:
    if not text:
        return None
    # the cell's background hides edges that cross the label; the spacing around it keeps
    # the label's own edge (which runs along the table's border) clear of the text
    cell = Line().add(text, SIZE["edge"], color).td(pad=1, attrs=f' BGCOLOR="{t["label_bg"]}"')
    return "<" + table([row(cell)], pad=1, spacing=2) + ">"


# --- title --------------------------------------------------------------------------------------

def title(g, at, facts: Facts, layers, t, highlight, step) -> str | None:
    lines = []
    out = g.nodes[g._output]
    first = Line().add(f"{g.notation.name(out.name)} = {g.notation.source(out.src or g.notation.formula(out))}",
                         SIZE["title"], t["text"], bold=True)
    if facts.values is not None and "values" in layers:
        scalars = [n for n in g.nodes if n.kind == "input" and np.ndim(facts.values[n.index]) == 0]
        value = facts.values[out.index]
        shown = num(value) if np.ndim(value) == 0 or np.size(value) <= MAX_EDGE_ENTRIES else shape_of(value)
        if 0 < len(scalars) <= 4:
            where = ", ".join(f"{g.notation.name(n.name)} = {num(facts.values[n.index])}" for n in scalars)
            first.add(f"    at {where}:  {g.notation.name(out.name)} = {shown}", SIZE["title"] - 2, t["text"])
        else:
            first.add(f" = {shown}", SIZE["title"], t["text"], bold=True)
    lines.append(first)
    if highlight:
        lines.extend(_path_lines(g, at, facts, highlight, t))
    if step is not None and facts.steps:
        s = facts.steps[step - 1]
        lines.append(Line().add(f"reverse accumulation, step {step} of {len(facts.steps)}:  "
                                  + _equation(g, s), SIZE["subtitle"], t["current"]))
    for note in facts.notes:
        lines.append(Line().add(note, SIZE["subtitle"] - 1, t["muted"]))
    return "<" + table([row(line.td()) for line in lines], pad=2) + ">"


def _equation(g, s) -> str:
    """``∂f/∂c = ∂f/∂e·∂e/∂c = 6`` for one reverse step."""
    o, n = g.notation.name(g.output), g.notation.name(s.node)
    if not s.terms:
        return f"∂{o}/∂{n} = {num(s.adjoint)} (the seed)"
    parts = " + ".join(f"∂{o}/∂{g.notation.name(v)}·∂{g.notation.name(v)}/∂{n}" for v, _ in s.terms)
    if len(s.terms) > 1:
        parts += " = " + " + ".join(num(c) for _, c in s.terms)
    return f"∂{o}/∂{n} = {parts} = {num(s.adjoint)}"


def _path_lines(g, at, facts: Facts, highlight, t) -> list:
    names = list(highlight)
    src, dst = names[0], names[-1]
    lines = []
    o, s = g.notation.name(dst), g.notation.name(src)
    if facts.path_count is not None and facts.adjoints is not None and src in facts.adjoints:
        n, total = facts.path_count, num(facts.adjoints[src])
        if facts.path_values is not None and n > 1:
            text = f"∂{o}/∂{s} = {' + '.join(num(v) for v in facts.path_values)} = {total}"
        else:
            text = f"∂{o}/∂{s} = {total}"
        lines.append(Line().add(f"{text}  ({n} path{'s' if n != 1 else ''})", SIZE["subtitle"], t["text"]))
    route = f"path {' → '.join(g.notation.name(x) for x in names)}:  "
    if facts.path_formula is not None:          # tensor program: the path's matrix expression
        text = route + facts.path_formula
    else:
        idx = [g.index(x) for x in names]
        factors = [edge_text(g, u, v, Facts(), {"locals"}, at) or "?" for u, v in zip(idx, idx[1:])]
        text = route + " · ".join(f"({f})" if " " in f else f for f in factors)
    if facts.path_value is not None:
        text += f" = {num(facts.path_value)}"
    lines.append(Line().add(text, SIZE["subtitle"], t["accent"], bold=True))
    return lines


