"""Drawing the computation graph with Graphviz (DOT → SVG, PNG, PDF).

>>> import graphviz_bp as gbp
>>> g = gbp.parse("f = x^2 + x*y + (x + y)^2")
>>> dot = render(g, at={"x": 1, "y": 2}, show="values,locals,numeric,grads", highlight=["x", "c", "e", "f"])
>>> "2c = 6" in dot.source, dot.source.count("class=path")
(True, 3)

:func:`render` builds a ``graphviz.Digraph``; :func:`render_svg` lays it out with the
engine of :mod:`graphviz_bp.showing.layout` under the time budget (a summary on timeout) and
returns SVG text; :func:`to_png` rasterises that SVG; :func:`render_bytes` does any format.
Node labels come from :mod:`graphviz_bp.showing.labels`.
"""
from __future__ import annotations

import json
import re

import numpy as np

from . import labels as L
from ..core.errors import InputError
from ..core.graph import is_parameter
from ..algorithms.reverse import reverse

LAYERS = ("values", "shapes", "locals", "numeric", "grads", "tangents")
DEFAULT_SHOW = frozenset({"values", "locals", "grads"})
FORMULAS = "formulas"     # issue 14: each node's adjoint as a matrix formula in node names (not in "all")
SUMMARY_BOXES = 60        # a summary draws collapsed chains only if that leaves at most this many boxes
REF_FANOUT = 4            # a leaf with more consumers is drawn once per use (small dashed reference nodes)


def parse_show(show) -> frozenset:
    """Layer names from a set/list or a comma-separated string; ``all`` turns every layer on."""
    if show is None:
        return DEFAULT_SHOW
    items = [s.strip() for s in (show.split(",") if isinstance(show, str) else show)]
    items = [{"symbolic": "locals", "grad": "grads", "adjoints": "grads", "shape": "shapes",
              "value": "values", "tangent": "tangents", "local": "locals", "formula": FORMULAS}.get(s, s)
             for s in items if s]
    if "all" in items:
        return frozenset(LAYERS) | ({FORMULAS} if FORMULAS in items else set())
    unknown = [s for s in items if s not in LAYERS and s not in (FORMULAS, "none")]
    if unknown:
        raise InputError(f"unknown layer {unknown[0]!r} in --show (layers: {', '.join(LAYERS)}, {FORMULAS}, "
                         f"or all)",
                         kind="usage")
    return frozenset(s for s in items if s != "none")


def _facts(g, at, layers, step, tangent, highlight) -> L.Facts:
    from ..core.evaluate import run
    f = L.Facts()
    try:
        f.values = run(g, at).values
    except InputError as exc:
        if exc.kind not in ("value", "shape"):     # shape: the structure is drawn, the page says why
            raise
        f.notes.append(f"no values: {exc.message}")
        return f
    if "grads" in layers or step is not None:
        try:
            r = reverse(g, at=at, record=step is not None)
            f.adjoints, f.steps = r.adjoints, r.steps
        except InputError as exc:
            if exc.kind != "shape":
                raise
            f.notes.append(f"no gradients: {exc.message}")
    if FORMULAS in layers:
        from .matrix_solution import node_formulas
        f.formulas = node_formulas(g, at, f.notes)
    if "tangents" in layers:
        from ..algorithms.forward import forward
        src = tangent or (highlight[0] if highlight else None) or (g.leaves[0] if g.leaves else None)
        if src is not None:
            g.index(src)
            f.tangents, f.tangent_src = forward(g, src, at), src
    if highlight:
        _path_facts(g, at, highlight, f)
    return f


def _path_facts(g, at, highlight, f: L.Facts) -> None:
    """The highlighted path's contribution and, for the title's sum, how many paths share its ends."""
    from itertools import islice

    from ..algorithms.paths import Path, count_paths, derivative_paths, path_value
    src, dst = highlight[0], highlight[-1]
    indices = tuple(g.index(x) for x in highlight)
    f.path_value = path_value(g, indices, at)
    if f.path_value is not None:
        # a tensor program's path as a matrix expression (2Xᵀc), checked against the path's value;
        # scalar factors X · 1 · 2c · 1 would hide a product summed over the broadcast axis
        from ..algorithms.matrix_form.formulas import is_tensor_program
        if is_tensor_program(g, at):
            from ..algorithms.matrix_form.paths import path_formula
            formula = path_formula(g, Path(g, indices, at), at)
            f.path_formula = formula.display(g.notation.name) if formula.expr is not None else None
    if dst == g.output and f.adjoints is not None:
        f.path_count = count_paths(g, src, dst)
        if f.path_count <= 6:
            f.path_values = [p.value for p in islice(derivative_paths(g, src, dst, at), f.path_count)]


def role(g, node, params=None) -> str:
    """``input``, ``param``, ``const``, ``intermediate`` or ``output``.

    Parameters are the names in ``params``, or by default leaves named like weights
    (``W``, ``W1``, ``b2``, ``theta``, ``w``); constants are literals in the program.
    """
    if node.kind == "const":
        return "const"
    if node.kind == "input":
        if params is not None:
            return "param" if node.name in params else "input"
        return "param" if is_parameter(node.name) else "input"
    return "output" if node.index == g._output else "intermediate"


def _folded(node) -> bool:
    """Scalar constants are written into their consumers' formulas, not drawn."""
    return node.kind == "const" and not isinstance(node.default, np.ndarray)


# --- assembly -----------------------------------------------------------------------------------

def _node_attrs(r: str, t, theme_name: str) -> dict:
    """Shape language that survives black and white: leaves (given) are square boxes, operations
    (computed) rounded; parameters have a double border, constants a dotted one, the output a thick one."""
    fill, border = t[r]
    attrs = {"shape": "box", "color": border, "penwidth": "1.3", "margin": "0.1,0.06"}
    style = ["rounded"] if r in ("intermediate", "output", "summary") else []
    if theme_name != "print":
        style.append("filled")
        attrs["fillcolor"] = fill
    if r == "param":
        attrs["peripheries"] = "2"
    elif r == "output":
        attrs["penwidth"] = "2.8"
    elif r == "const":
        style.append("dotted")
        attrs["penwidth"] = "1.3"
    elif r == "intermediate":
        attrs["penwidth"] = "1"
    attrs["style"] = ",".join(style) or "solid"
    return attrs


def _check_highlight(g, highlight) -> list | None:
    if not highlight:
        return None
    names = [str(x).strip() for x in highlight]
    for u, v in zip(names, names[1:]):
        if g.index(u) not in g.nodes[g.index(v)].args:
            raise InputError(f"highlight: {u!r} → {v!r} is not an edge of the graph", kind="usage")
    return names


_NOTES = "graphviz-bp notes: "


def _set_notes(dot, notes) -> None:
    """Messages about a drawing (a summary instead of the graph, values left out) travel in the DOT
    file itself, as its one comment line (JSON): nothing is attached to graphviz's objects."""
    dot.comment = _NOTES + json.dumps(list(notes), ensure_ascii=False) if notes else None


def notes_of(dot) -> list[str]:
    """The messages :func:`render` left in a drawing's DOT comment (``[]`` when there are none)."""
    comment = dot.comment or ""
    return json.loads(comment[len(_NOTES):]) if comment.startswith(_NOTES) else []


def render(g, at=None, show=DEFAULT_SHOW, highlight=None, step=None, theme="light", rankdir="auto",
           tangent=None, params=None, title=True):
    """The computation graph as a ``graphviz.Digraph`` (DOT is ``.source``; lay it out with
    :func:`render_svg`, which adds the time budget and the text centring; ``graphviz_bp.showing.layout.layout``
    runs a Graphviz binary on ``.source``).

    ``show`` — the layers to draw (a set, a list, or ``"values,locals"``; ``"all"``):

    * ``values``   each node's value (numbers; tensors up to 4×4 as a grid, larger as shape and summary)
    * ``shapes``   a tensor's shape next to its name (``3×2``)
    * ``locals``   the symbolic local derivative on each edge (``2c``; ``ḡ ↦ ḡ·xᵀ`` for ops that
                   only have a vector–Jacobian rule)
    * ``numeric``  the local derivative at the point (``6``); with ``locals`` both: ``2c = 6``
    * ``grads``    each node's adjoint ∂out/∂node (red)
    * ``tangents`` forward mode: each node's tangent ∂node/∂``tangent`` (default: the path's start,
                   else the first input)
    * ``formulas`` (tensor programs; not part of ``all``) each node's adjoint as a matrix formula in
                   the node names (∂L/∂W = λ·sign(W) + 2Xᵀc), each checked against the numbers

    ``highlight`` — a path as node names (``["x", "c", "e", "f"]``): its edges are drawn thick
    in the accent colour (SVG class ``path``) and the title gives its product and the sum over all paths.
    ``step`` — reverse accumulation has reached step ``K`` (1-based, in the order of
    ``reverse(g, record=True).steps``): earlier nodes show their adjoints, node K is marked
    "reverse step K" with its edges (class ``step-current``), later nodes show ``∂f/∂v = ?``.
    ``theme`` — ``light``, ``dark`` or ``print`` (black on white, no fills).
    ``rankdir`` — ``LR``, ``TB`` or ``auto`` (LR up to six ranks deep, TB beyond).
    ``params`` — names drawn as parameters (default: leaves named like weights, ``W1``, ``b``).
    ``title`` — the program, its value, the path and step lines above the graph.

    Leaves (given) are square boxes, operations (computed) rounded: inputs blue, parameters green
    with a double border, constants plain with a dotted border, intermediates grey, the output
    orange with a thick border — the borders alone tell them apart in ``print``. Scalar constants
    are folded into their consumers' formulas (``a = x²``). A leaf used more than four times is
    drawn once per use as a small dashed reference node. Above ``g.limits.max_render_nodes`` nodes
    the result is a summary (chains collapsed, or counts per op); :func:`notes_of` lists such messages.
    """
    layers = parse_show(show)
    t = L.theme(theme)
    if rankdir not in ("LR", "TB", "auto"):
        raise InputError(f"rankdir must be LR, TB or auto, not {rankdir!r}", kind="usage")
    if rankdir == "auto":
        rankdir = auto_rankdir(g)
    highlight = _check_highlight(g, highlight)
    drawn = [n for n in g.nodes if not _folded(n)]
    if len(drawn) > g.limits.max_render_nodes:
        return summary(g, at, theme, rankdir, reason=f"{len(drawn)} nodes > max_render_nodes = "
                       f"{g.limits.max_render_nodes}")
    facts = _facts(g, at, layers, step, tangent, highlight)
    if step is not None:
        if not facts.steps:
            raise InputError("--step needs values and a scalar output (reverse accumulation)", kind="usage")
        if not 1 <= step <= len(facts.steps):
            raise InputError(f"--step {step}: reverse accumulation has steps 1 to {len(facts.steps)}",
                             kind="usage")
    states, current = {}, None
    if step is not None:
        order = [s.node for s in facts.steps]
        current = order[step - 1]
        states = {n: ("done" if k < step - 1 else "current" if k == step - 1 else "pending")
                  for k, n in enumerate(order)}
    dot = _digraph(g, t, rankdir, ranksep="0.5" if rankdir == "LR" else "0.2", outputorder="edgesfirst")
    _set_notes(dot, facts.notes)
    if title:
        dot.attr(label=L.title(g, at, facts, layers, t, highlight, step))
    path_edges = set(zip(highlight, highlight[1:])) if highlight else set()
    path_nodes = set(highlight or ())
    consumers = g.consumers
    refs = {n.index for n in drawn if n.is_leaf and len(consumers[n.index]) > REF_FANOUT}
    for n in drawn:
        state = states.get(n.name)
        attrs = _node_attrs(role(g, n, params), t, theme)
        if n.name in path_nodes:
            attrs.update(color=t["accent"], penwidth="3")
        if state == "current":
            attrs.update(color=t["current"], penwidth="3.2")
        attrs["id"] = f"node-{n.name}"
        dot.node(_id(n), L.node_label(g, n, facts, layers, t, state, step, horizontal=rankdir == "TB"), **attrs)
    for n in drawn:
        for j in dict.fromkeys(n.args):
            u = g.nodes[j]
            if _folded(u):
                continue
            key = (u.name, n.name)
            text = L.edge_text(g, j, n.index, facts, layers, at) if u.kind != "const" else None
            attrs = {}
            color = t["edge"]
            if key in path_edges:
                color = t["accent"]
                attrs.update(penwidth="3.2", **{"class": "path"})
            if current is not None and u.name == current:
                color = t["current"]
                attrs.update(penwidth="2.6", style="bold", **{"class": "step-current"})
            label = L.edge_label(text, color, t)
            if label:
                # dot lays an edge label out as a node of its own, which roughly doubles the layout
                # time of big graphs: there the label is placed after the layout instead
                attrs["xlabel" if len(drawn) > XLABEL_ABOVE else "label"] = label
            attrs.update(color=color, fontcolor=color)
            tail = _id(u)
            if j in refs and consumers[j].index(n.index) > 0:
                tail = f"{_id(u)}#{n.index}"
                ref_attrs = _node_attrs(role(g, u, params), t, theme)
                ref_style = [x for x in ref_attrs["style"].split(",") if x not in ("solid", "dotted")] + ["dashed"]
                ref_attrs.update(style=",".join(ref_style), peripheries="1", penwidth="1",
                                 fontsize="12", margin="0.05,0.03", tooltip=f"another use of {u.name}")
                dot.node(tail, g.notation.name(u.name), **ref_attrs)
            dot.edge(tail, _id(n), **attrs)
    _index_order(dot, drawn)
    return dot


_ELEMENT = re.compile(r"^(?P<base>.+)\[(?P<index>[\d,]+)\]$")


def _index_order(dot, drawn):
    """Elements of one tensor (the scalar view's W1[0], W1[1], …) on one rank in index order, as
    on paper (dot's crossing reduction drew W₁[1] left of W₁[0]): a ``rank=same`` group with
    invisible edges between neighbours, for elements that are all leaves or all of one op."""
    groups: dict = {}
    for n in drawn:
        m = _ELEMENT.match(n.name)
        if m:
            groups.setdefault(m.group("base"), []).append(n)
    for base, members in groups.items():
        if len(members) < 2 or len({(n.is_leaf, None if n.is_leaf else n.op) for n in members}) > 1:
            continue
        members.sort(key=lambda n: tuple(int(i) for i in _ELEMENT.match(n.name).group("index").split(",")))
        with dot.subgraph() as same:
            same.attr(rank="same")
            for a, b in zip(members, members[1:]):
                same.edge(_id(a), _id(b), style="invis")


XLABEL_ABOVE = 150   # drawn nodes above which edge labels are placed after the layout


def auto_rankdir(g) -> str:
    """``LR`` for graphs up to six ranks deep (they fit a 16:9 slide across), ``TB`` for deeper ones
    and for a chain of four or more steps with one node a rank (across it is a 10:1 strip).

    >>> import graphviz_bp as gbp
    >>> auto_rankdir(gbp.parse("f = x^2 + x*y")), auto_rankdir(gbp.parse("L = -log(exp(sin(x)))"))
    ('LR', 'TB')
    """
    depth = [0] * len(g.nodes)
    for n in g.nodes:
        if n.args:
            depth[n.index] = 1 + max(depth[j] for j in n.args if not _folded(g.nodes[j])) \
                if any(not _folded(g.nodes[j]) for j in n.args) else 0
    ranks = max(depth, default=0) + 1
    drawn = [depth[n.index] for n in g.nodes if not _folded(n)]
    chain = all(drawn.count(d) == 1 for d in set(drawn))
    return "LR" if ranks <= 6 and not (chain and ranks >= 4) else "TB"


def _id(node) -> str:
    return node.name if ":" not in node.name else f"n{node.index}"


# --- big graphs: a summary instead of a layout that runs for minutes ------------------------------

def _chains(g) -> list[list]:
    """Operations grouped into chains: v joins its operand u when u is v's only operation operand
    and v is u's only consumer (a chain of one-input steps draws as one box)."""
    consumers = g.consumers
    group: dict[int, list] = {}
    chains = []
    for n in g.nodes:
        if n.is_leaf:
            continue
        ops = [j for j in dict.fromkeys(n.args) if not g.nodes[j].is_leaf]
        if len(ops) == 1 and len(consumers[ops[0]]) == 1 and ops[0] in group:
            chain = group[ops[0]]
        else:
            chain = []
            chains.append(chain)
        chain.append(n)
        group[n.index] = chain
    return chains


def _digraph(g, t, rankdir, **graph_attr):
    import graphviz
    return graphviz.Digraph(name=g.output, graph_attr={
        "rankdir": rankdir, "bgcolor": t["bg"], "fontname": L.SANS, "fontcolor": t["text"], "pad": "0.25",
        "nodesep": "0.3", "ranksep": "0.5", "labelloc": "t", **graph_attr},
        node_attr={"fontname": L.SANS, "fontcolor": t["text"]},
        edge_attr={"fontname": L.SANS, "color": t["edge"], "fontcolor": t["edge"], "arrowsize": "0.8",
                   "penwidth": "1.2"})


def _card(lines) -> str:
    """The label of a summary box: lines of ``(text, size, color, bold)``."""
    rows = [L.row(L.Line().add(text, size, color, bold=bold).td()) for text, size, color, bold in lines]
    return "<" + L.table(rows, pad=1) + ">"


def _op_counts(nodes) -> str:
    from collections import Counter
    return " · ".join(f"{op} {k}" for op, k in Counter(n.op for n in nodes).most_common())


def summary(g, at=None, theme="light", rankdir="LR", reason=""):
    """A picture of a graph too big to draw node by node: chains of one-input operations
    collapsed into one box each if that leaves at most ``SUMMARY_BOXES`` boxes, else one card
    with the counts per op. :func:`notes_of` says why and how to raise the cap."""
    from ..core.evaluate import run
    t = L.theme(theme)
    leaves = [n for n in g.nodes if n.is_leaf and not _folded(n)]
    chains = _chains(g)
    try:
        values = run(g, at).values
    except InputError:
        values = None
    collapsed = len(chains) + len(leaves) <= min(g.limits.max_render_nodes, SUMMARY_BOXES)
    how = "chains of operations drawn as one box each" if collapsed else "counts per operation"
    note = (f"summary ({reason}; {how}); raise the cap with --limit-max-render-nodes "
            f"or GRAPHVIZ_BP_MAX_RENDER_NODES")
    dot = _digraph(g, t, rankdir)
    _set_notes(dot, [note])
    out = g.nodes[g._output]
    head = L.Line().add(f"{g.notation.name(out.name)} = {g.notation.source(out.src or '')}"[:120], L.SIZE["title"],
                        t["text"], bold=True)
    sub = L.Line().add(note, L.SIZE["subtitle"], t["muted"])
    dot.attr(label="<" + L.table([L.row(head.td()), L.row(sub.td())], pad=2) + ">")

    def value_text(n):
        v = values[n.index]
        return f"{g.notation.name(n.name)} = {L.num(v) if np.ndim(v) == 0 else L.shape_of(v)}"
    if not collapsed:
        names = ", ".join(g.notation.name(n.name) for n in leaves[:12]) + (" …" if len(leaves) > 12 else "")
        lines = [(f"{len(g.nodes)} nodes", L.SIZE["name"], t["text"], True),
                 (_op_counts([n for n in g.nodes if not n.is_leaf]), L.SIZE["value"], t["text"], False),
                 (f"inputs: {names}", L.SIZE["value"], t["text"], False)]
        if values is not None:
            lines.append((value_text(out), L.SIZE["value"], t["text"], False))
        dot.node("summary", _card(lines), **_node_attrs("summary", t, theme))
        return dot
    box = {}
    for k, chain in enumerate(chains):
        first, last = chain[0], chain[-1]
        box.update((n.index, f"chain{k}") for n in chain)
        lines = [(g.notation.name(first.name) if len(chain) == 1 else f"{g.notation.name(first.name)} … {g.notation.name(last.name)}",
                  L.SIZE["name"], t["text"], True),
                 (f"{len(chain)} op{'s' if len(chain) > 1 else ''}: {_op_counts(chain)}", L.SIZE["small"] + 1,
                  t["muted"], False)]
        if values is not None and np.ndim(values[last.index]) == 0:
            lines.append((value_text(last), L.SIZE["value"], t["text"], False))
        r = "output" if last.index == g._output else "intermediate"
        dot.node(f"chain{k}", _card(lines), **_node_attrs(r, t, theme))
    for n in leaves:
        box[n.index] = _id(n)
        dot.node(_id(n), _card([(g.notation.name(n.name), L.SIZE["name"], t["text"], True)]),
                 **_node_attrs(role(g, n), t, theme))
    from collections import Counter
    edges = Counter((box[j], box[n.index]) for n in g.nodes for j in dict.fromkeys(n.args)
                    if j in box and box[j] != box.get(n.index))
    for (a, b), k in edges.items():
        dot.edge(a, b, label=f"×{k}" if k > 1 else None)
    return dot


# --- laying out -----------------------------------------------------------------------------------

FORMATS = ("svg", "png", "pdf", "dot")


def _svg(dot, engine, timeout) -> str:
    from .layout import center_text, layout
    return center_text(layout(dot.source, "svg", engine, timeout).decode("utf-8"))


def _timeout(g, timeout) -> float:
    return g.limits.time_budget_s if timeout is None else timeout


def _fallback(g, kw, exc):
    return summary(g, kw.get("at"), kw.get("theme", "light"), _rankdir(g, kw.get("rankdir", "auto")),
                   reason=f"{exc}")


def _rankdir(g, rankdir):
    return auto_rankdir(g) if rankdir == "auto" else rankdir


def produce(g, fmt="svg", *, engine="auto", timeout=None, **kw) -> tuple[bytes, list]:
    """``(picture bytes, notes)`` in ``svg``, ``png``, ``pdf`` or ``dot``; notes say what was
    left out (a summary instead of the graph, values that could not be computed)."""
    from . import layout as engine_module
    from .layout import LayoutTimeout, choose, layout, system_binary
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (svg, png, pdf or dot)", kind="usage")
    dot = render(g, **kw)
    notes = notes_of(dot)
    if fmt == "dot":
        return dot.source.encode("utf-8"), notes
    timeout = _timeout(g, timeout)
    if fmt == "pdf" and engine != "pure" and system_binary():
        system = choose("system")
        try:
            return layout(dot.source, "pdf", system, timeout), notes
        except LayoutTimeout as exc:
            small = _fallback(g, kw, exc)
            return layout(small.source, "pdf", system, timeout), notes + notes_of(small)
    try:
        svg = _svg(dot, engine, timeout)
    except LayoutTimeout as exc:
        small = _fallback(g, kw, exc)
        svg, notes = _svg(small, engine, timeout), notes + notes_of(small)
    if fmt == "svg":
        return svg.encode("utf-8"), notes
    if fmt == "png" and engine_module.svg_rasteriser() is None:     # no cairosvg: Graphviz's own PNG
        chosen = choose("system") if system_binary() and engine != "pure" else choose(engine)
        note = "PNG drawn by Graphviz itself (pip install cairosvg for one with every glyph)"
        return layout(dot.source, "png", chosen, timeout), notes + [note]
    return (to_png(svg) if fmt == "png" else to_pdf(svg)), notes


def render_svg(g, *, engine="auto", timeout=None, **kw) -> str:
    """SVG text of :func:`render` (same keyword arguments), laid out by ``engine`` (``auto``,
    ``pure``, ``system``) within ``timeout`` seconds (default ``g.limits.time_budget_s``);
    a summary of the graph if the layout runs out of time."""
    return produce(g, "svg", engine=engine, timeout=timeout, **kw)[0].decode("utf-8")


def portable_svg(svg_text: str) -> str:
    """An SVG from :func:`render_svg` as a file to hand on (fonts with fallbacks, runs placed):
    it renders the same in a browser and in cairosvg/Inkscape (see ``layout.portable_svg``)."""
    from .layout import portable_svg as portable
    return portable(svg_text)


def to_png(svg_text: str, scale: float = 2.0) -> bytes:
    """PNG of an SVG from :func:`render_svg`, rasterised by cairosvg with fonts that have every glyph."""
    from .layout import svg_to_png
    return svg_to_png(svg_text, scale)


def to_pdf(svg_text: str) -> bytes:
    """PDF of an SVG from :func:`render_svg` (cairosvg)."""
    from .layout import svg_to_pdf
    return svg_to_pdf(svg_text)


def render_bytes(g, fmt="svg", *, engine="auto", timeout=None, **kw) -> bytes:
    """The picture as ``svg``, ``png``, ``pdf`` or ``dot`` bytes (see :func:`produce`).

    PDF: a system ``dot`` when there is one (and ``engine`` is not ``"pure"``), else the SVG
    through cairosvg, else an :class:`InputError` saying what to install.
    """
    return produce(g, fmt, engine=engine, timeout=timeout, **kw)[0]


# --- the command line -----------------------------------------------------------------------------

_EXTENSIONS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def _write(path, data: bytes):
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}", kind="usage") from None


def file_bytes(g, fmt="svg", *, engine="auto", timeout=None, **kw) -> tuple[bytes, list]:
    """``(bytes, notes)`` of a picture written to a file: as :func:`produce`, with an SVG made
    portable (fonts with fallbacks, each text run placed), so that it looks the same in
    cairosvg, Inkscape or LibreOffice as in a browser."""
    data, notes = produce(g, fmt, engine=engine, timeout=timeout, **kw)
    if fmt == "svg":
        data = portable_svg(data.decode("utf-8")).encode("utf-8")
    return data, notes


def frames(g, directory, fmt="svg", *, paths=False, source=None, engine="auto", **kw) -> list[str]:
    """One picture per reverse-accumulation step (``step_001.svg`` …) and, with ``paths``, one per
    derivative path from ``source`` (``path_001.svg`` …; at most ``max_paths_listed``); returns the files."""
    import os
    from itertools import islice

    from ..algorithms.paths import derivative_paths
    os.makedirs(directory, exist_ok=True)
    at = kw.get("at")
    written = []
    steps = reverse(g, at=at, record=True).steps
    for k in range(1, len(steps) + 1):
        name = os.path.join(directory, f"step_{k:03d}.{fmt}")
        _write(name, file_bytes(g, fmt, engine=engine, **{**kw, "step": k})[0])
        written.append(name)
    if paths:
        src = source or (g.leaves[0] if g.leaves else None)
        if src is not None:
            for k, p in enumerate(islice(derivative_paths(g, src, at=at, values=False),
                                         g.limits.max_paths_listed), 1):
                name = os.path.join(directory, f"path_{k:03d}.{fmt}")
                _write(name, file_bytes(g, fmt, engine=engine, **{**kw, "highlight": p.nodes})[0])
                written.append(name)
    return written
