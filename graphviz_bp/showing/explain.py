"""A worked solution, in the order a hand solution takes (seeds 000 and 004).

1. the forward pass, one named step a line: formula, the values put in, the value;
2. the local derivative on every edge, symbolically and at the point;
3. the path method: every path from a variable to the output, its product of
   local derivatives and its value, then their sum;
4. reverse accumulation: the adjoints ``ū = ∂out/∂u`` in reverse topological
   order, each as the sum over the node's out-edges (seed 004's "Part 1…6");
5. the gradient of each requested variable, shaped like the variable;
6. with ``sgd_lr``: one SGD step ``w ← w − η·∇w``.

Two formats from one list of blocks: Markdown with ``$…$``/``$$…$$`` math (renders in
Streamlit and on GitHub) and a standalone LaTeX document that ``pdflatex`` compiles.
Every number comes from the engine; this module only writes.

>>> import graphviz_bp as gbp
>>> text = explain(gbp.parse("f = x^2 + x*y + (x + y)^2"), at={"x": 1, "y": 2})
>>> "f = d + e = 3 + 9 = 12" in text, r"\\frac{\\partial f}{\\partial x} = 10" in text
(True, True)
"""
from __future__ import annotations

import re
from itertools import islice

import numpy as np

from ..core.graph import is_parameter, updated_parameters
from ..core.notation import Notation
from ..algorithms.reverse import reverse
from ..algorithms.gradients import gradients
from ..algorithms.symbolic import local_symbolic, local_text
from ..core.evaluate import local_partial
from .document import (Document, _is_scalar, _operand, b, c, chain, m, op_tex,
                       tex_number, tex_value, to_markdown, to_tex)

MAX_PATHS_SHOWN = 20  # paths written out per variable; beyond that: the count and the DP sum
MAX_SUBSTITUTED = 16  # operands with more elements are not written out inside a formula
FORMATS = ("md", "tex")
METHODS = ("reverse", "paths", "both")



# --- LaTeX: names, numbers, values -------------------------------------------------------------

def tex_name(name: str) -> str:
    r"""A graph name in LaTeX with no sheet (a graph's own names: ``g.notation.tex``).

    >>> [tex_name(n) for n in ("W1", "lambda", "yhat", "eta_0", "a_1", "x", "logloss", "λ")]
    ['W_{1}', '\\lambda', '\\hat{y}', '\\eta_{0}', 'a_{1}', 'x', '\\mathit{logloss}', '\\lambda']
    """
    return _PLAIN.tex(name)


_PLAIN = Notation()


class _Context:
    def __init__(self, g, at, wrt, sgd_lr):
        from ..core.graph import wrt_names
        from ..core.evaluate import run
        self.g = g
        self.at = at or {}
        evaluation = run(g, self.at)
        self.values, self.warnings = evaluation.values, evaluation.warnings      # by node index
        self.wrt = wrt_names(g, wrt)
        self.wrt_given = wrt is not None
        self.sgd_lr = sgd_lr
        self.out = g.nodes[g._output]
        self.reverse = reverse(g, at=self.at, record=True)
        self.targets = self._statement_targets()
        # order of the variables: weights and biases first, in the order backpropagation completes
        # them (seed 004: W3, W2, W1), then the other inputs in program order
        done = [s.node for s in self.reverse.steps]
        leaves = g.leaves
        self.wrt.sort(key=lambda n: (0, done.index(n) if n in done else len(done)) if is_parameter(n)
                      else (1, leaves.index(n) if n in leaves else len(leaves)))

    def _statement_targets(self) -> set:
        from ..reading.parser import parse_program
        try:
            return {s.target for s in parse_program(self.g.text, self.g.limits) if s.target}
        except Exception:   # the graph was built from this text; be safe anyway
            return set()

    def value(self, name: str):
        return self.values[self.g.index(name)]

    def operand(self, i: int) -> str:
        """A node used as an operand: its name, or the value of a constant."""
        node = self.g.nodes[i]
        if node.kind == "const":
            return _operand(tex_value(self.values[i]))
        return self.g.notation.tex(node.name)

    def is_rule(self, u: str, v: str) -> bool:
        """Whether edge u → v has only a vector–Jacobian rule (no elementwise local derivative)."""
        node = self.g.node(v)
        return node.fn.kind == "tensor" and self.matmul_position(u, v) is None

    def matmul_position(self, u: str, v: str):
        """For a matrix product with u as one factor: which one (0 or 1); else None."""
        node = self.g.node(v)
        if node.op != "matmul":
            return None
        positions = [k for k, j in enumerate(node.args) if j == self.g.index(u)]
        if len(positions) != 1 or any(np.ndim(self.values[j]) == 0 for j in node.args):
            return None
        return positions[0]

    def local_tex(self, u: str, v: str) -> str:
        """∂v/∂u symbolically: SymPy's derivative, the Jacobian of a matrix product, or the op's rule
        (for a tensor op, the vector–Jacobian rule ``ū += …``; see :meth:`is_rule`)."""
        g = self.g
        node = g.node(v)
        pos = self.matmul_position(u, v)
        if pos is not None:
            a, b = (self.operand(j) for j in node.args)
            return f"{b}^\\top" if pos == 0 else a
        expr = None if node.fn.kind == "tensor" else local_symbolic(g, g.index(u), g.index(v))
        if expr is not None:
            return sympy_tex(g, expr)
        rule = local_text(g, g.index(u), g.index(v))
        if node.fn.kind != "tensor":          # a reduction's rule is its local derivative times ḡ
            rule = rule.replace("ḡ·", "", 1) if rule.startswith("ḡ·") else rule.replace("ḡ/", "1/")
        return rule_tex(rule, node.op, [self.operand(j) for j in node.args], self.g.notation.tex_bar(v), self.g.notation.tex(v))

    def local_value(self, u: str, v: str):
        """∂v/∂u at the point (elementwise); for a matrix product the matrix it multiplies by."""
        g = self.g
        node = g.node(v)
        ui = g.index(u)
        if node.op == "matmul":
            positions = [k for k, j in enumerate(node.args) if j == ui]
            vals = [self.values[j] for j in node.args]
            if len(positions) == 1 and not any(np.ndim(x) == 0 for x in vals):
                other = vals[1 - positions[0]]
                return np.swapaxes(other, -1, -2) if positions[0] == 0 and np.ndim(other) >= 2 else other
        return local_partial(g, g.index(u), g.index(v), self.at)


def sympy_tex(g, expr) -> str:
    """A SymPy local derivative in LaTeX, with the graph's names and 1{a > 0} for ReLU's step."""
    import sympy as sp
    from sympy.printing.latex import LatexPrinter

    class Printer(LatexPrinter):
        def _print_Function(self, e, exp=None):
            fname = type(e).__name__
            arg = self._print(e.args[0]) if e.args else ""
            if fname == "step":
                text = f"\\mathbf{{1}}[{arg} > 0]"
            elif fname == "sigmoid":
                text = f"\\sigma\\left({arg}\\right)"
            elif fname == "relu":
                text = f"\\operatorname{{ReLU}}\\left({arg}\\right)"
            else:
                return super()._print_Function(e, exp)
            return f"\\left({text}\\right)^{{{exp}}}" if exp else text

    names = {s: g.notation.tex(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    return Printer({"symbol_names": names}).doprint(expr)


_RULE_TEX = [("⁻¹", "^{-1}"), ("⁻ᵀ", "^{-\\top}"), ("ḡ", "\\bar{g}"), ("·", " \\cdot "), ("ᵀ", "^\\top "),
             ("⊙", " \\odot "), ("⟨", "\\langle "), ("⟩", "\\rangle "), ("−", " - "), ("‖", "\\|"),
             ("ₚ", "_p"), ("₂", "_2"), ("Σ", "\\sum "), ("√", "\\sqrt")]


def rule_tex(rule: str, op: str, operands: list[str], bar: str, out: str) -> str:
    """A rule of the op table (``ḡ·Bᵀ``, ``ḡ at [1], 0 elsewhere``) in LaTeX, over the edge's names:
    the op's operand letters become the operands, ``ḡ`` the consumer's adjoint, words ``\\text``."""
    letters = {"I": 0, "K": 1} if op == "conv2d" else {"A": 0, "a": 0, "B": 1}

    def word(mo):
        w = mo.group(0)
        if w in letters and letters[w] < len(operands):
            return "{" + operands[letters[w]] + "}"
        if w == "s" and op == "softmax":
            return "{" + out + "}"
        if len(w) == 1:
            return w
        return "\\text{ " + w + " }"

    text = re.sub(r"[A-Za-z]+", word, rule)
    for sign, tex in _RULE_TEX:
        text = text.replace(sign, tex)
    text = re.sub(r"\^\(([^()]*)\)", r"^{(\1)}", text)
    return text.replace("\\bar{g}", bar)


def _paren(latex: str) -> str:
    """Parentheses around a factor of a product unless it is one name, number or function value."""
    flat = latex
    while True:                     # drop {…} groups and \left…\right pairs, innermost first
        reduced = re.sub(r"\{[^{}]*\}|\[[^\[\]]*\]", "", flat)
        reduced = re.sub(r"\\left(.)(?:(?!\\left|\\right).)*\\right(.)", "", reduced)
        if reduced == flat:
            break
        flat = reduced
    compound = re.search(r"[ +\-]|\\cdot|\\odot|\\,", flat.strip())
    return f"\\left({latex}\\right)" if compound else latex


def _sum_tex(texts: list[str]) -> str:
    """``a + b + (-c)``: a negative term after the first in parentheses."""
    return " + ".join(t if k == 0 else _operand(t) for k, t in enumerate(texts))


def _partial(nt, v: str, u: str) -> str:
    return f"\\frac{{\\partial {nt.tex(v)}}}{{\\partial {nt.tex(u)}}}"


# --- the sections ------------------------------------------------------------------------------------

def _intro(doc: Document, ctx: _Context):
    g = ctx.g
    doc.heading("Worked solution", 1)
    doc.code(g.text.strip("\n"))
    names = _join([m(ctx.g.notation.tex(n)) for n in ctx.wrt]) if ctx.wrt else ["nothing"]
    doc.para("Output ", m(ctx.g.notation.tex(g.output)), "; gradients with respect to ", *names, ".")
    _counts(doc, ctx)        # issue 16: scalar parameters and node shapes


# --- issue 16: counts (algorithms/counts.py) -------------------------------------------------------
def _counts(doc: Document, ctx: _Context):
    """How many scalar parameters (inputs an SGD step updates: core.graph.parameters) and each node's shape."""
    from ..algorithms.counts import counts, shape_text
    c = counts(ctx.g, ctx.at)
    tex = ctx.g.notation.tex

    def dims(s):
        return shape_text(s).replace("×", r" \times ") if s else r"\text{scalar}"
    if c.parameters:
        items = _join([m(tex(n) + r" \in \mathbb{R}^{" + dims(s) + "}") if s else m(tex(n))
                       for n, s, _ in c.parameters])
        doc.para("Parameters (what an SGD step updates): ", *items,
                 f": {c.total:,} scalar parameter{'s' if c.total != 1 else ''}.")
    else:
        doc.para("No parameters: no input is named like a weight, bias or kernel (W, w, b, K, θ…).")
    if all(not s for s in c.shapes.values()):
        doc.para("Every node is a scalar.")
    else:
        doc.para("Shapes: ", *_join([m(tex(n) + ": " + dims(s)) for n, s in c.shapes.items()]), ".")
# --- end issue 16 -----------------------------------------------------------------------------------


def _join(items, sep=", "):
    out = []
    for k, item in enumerate(items):
        if k:
            out.append(sep)
        out.append(item)
    return out


def _given(doc: Document, ctx: _Context):
    g = ctx.g
    doc.section("Forward pass")
    inputs = [n for n in g.nodes if n.kind == "input"]
    if inputs:
        doc.para("Given:")
        doc.eq(";\\quad ".join(f"{ctx.g.notation.tex(n.name)} = {tex_value(ctx.values[n.index])}" for n in inputs))


def _forward(doc: Document, ctx: _Context):
    g = ctx.g
    step = 0
    for node in g.nodes:
        if node.is_leaf:
            continue
        step += 1
        label = f"{node.name} = {node.src}" if node.name in ctx.targets else node.src
        if node.name in ctx.targets:
            doc.para(b(f"{step})"), " ", c(label), ":")
        else:
            doc.para(b(f"{step})"), " ", c(label), " — node ", m(ctx.g.notation.tex(node.name)), ":")
        vals = [ctx.values[j] for j in node.args]
        parts = [op_tex(node, [ctx.operand(j) for j in node.args], vals)]
        if all(np.size(v) <= MAX_SUBSTITUTED for v in vals) and any(g.nodes[j].kind != "const" for j in node.args):
            parts.append(op_tex(node, [_operand(tex_value(v)) for v in vals], vals))
        parts.append(tex_value(ctx.values[node.index]))
        doc.eq(chain(ctx.g.notation.tex(node.name), parts))
    for w in ctx.warnings:
        doc.para("Warning: " + w)


def _locals(doc: Document, ctx: _Context):
    g = ctx.g
    doc.section("Local derivatives on the edges")
    doc.para("Each edge ", m("u \\to v"), " carries ", m("\\partial v / \\partial u"),
             ", symbolically and at the point (elementwise; for a matrix product, the matrix it multiplies by).")
    for node in g.nodes:
        for j in dict.fromkeys(node.args):
            u = g.nodes[j]
            if u.kind == "const":
                continue
            sym = ctx.local_tex(u.name, node.name)
            if ctx.is_rule(u.name, node.name):
                doc.para(m(_partial(ctx.g.notation, node.name, u.name)), " has no elementwise form; the backward pass adds "
                         "the vector–Jacobian product to ", m(ctx.g.notation.tex_bar(u.name)), ":")
                doc.eq(f"{ctx.g.notation.tex_bar(u.name)} \\mathrel{{+}}= {sym}")
                continue
            val = ctx.local_value(u.name, node.name)
            parts = [sym] + ([tex_value(val)] if val is not None else [])
            doc.eq(chain(_partial(ctx.g.notation, node.name, u.name), parts))


def _paths(doc: Document, ctx: _Context):
    from ..algorithms.matrix_form.formulas import is_tensor_program
    from ..algorithms.matrix_form.paths import path_formulas
    from ..algorithms.paths import count_paths, derivative_paths
    from .matrix_solution import _constants, _tex_names
    g = ctx.g
    doc.section("Path method")
    out_tex = ctx.g.notation.tex(g.output)
    tensor = is_tensor_program(g, ctx.at)         # issue 14: a path's product as a matrix expression
    tex_names = _tex_names(g) if tensor else {}
    said = set()                                  # e_1, I: their values said where first written
    if tensor:
        doc.para("For each path from the variable to ", m(out_tex), ", pull ", m(out_tex), "'s adjoint 1 back "
                 "along the path's edges only: at each edge, output end first, the consumer's matrix rule for "
                 "that operand (the other adjoints along the way are not added). Where every op on the path has "
                 "a matrix rule, the result is a matrix expression in node names, shaped like the variable and "
                 "checked against the path's value; the derivative is the sum over paths.")
    else:
        doc.para("For each path from the variable to ", m(out_tex),
                 ", multiply the local derivatives along it (output end first); the derivative is the sum over paths.")
    for var in ctx.wrt:
        n = count_paths(g, var)
        total_tex = _partial(ctx.g.notation, g.output, var)
        if n == 0:
            doc.para("No path from ", m(ctx.g.notation.tex(var)), " to ", m(ctx.g.notation.tex(g.output)), ":")
            doc.eq(f"{total_tex} = 0")
            continue
        doc.para(m(ctx.g.notation.tex(var)), f": {n} path{'s' if n != 1 else ''}"
                 + (f"; the first {MAX_PATHS_SHOWN} are written out" if n > MAX_PATHS_SHOWN else "") + ".")
        values = []
        paths = list(islice(derivative_paths(g, var, at=ctx.at), MAX_PATHS_SHOWN))
        formulas = path_formulas(g, paths, ctx.at) if tensor else [None] * len(paths)
        for k, (p, f) in enumerate(zip(paths, formulas), 1):
            route = " \\to ".join(ctx.g.notation.tex(x) for x in p.nodes)
            doc.para(b(f"Path {k}:"), " ", m(route))
            values.append(p.value)
            if f is not None and f.expr is not None:
                doc.eq(chain(f"\\pi_{{{k}}}", [f.latex(tex_names), tex_value(p.value)]))
                for name, v in _constants([f]).items():
                    if name not in said:
                        said.add(name)
                        doc.para("Here ", m(f"{_tex_constant(name)} = {tex_value(np.asarray(v))}"),
                                 ": the one-hot vector of the index taken." if name != "I" else ".")
                continue
            edges = list(reversed(p.edges))
            symbolic = " \\cdot ".join(_partial(ctx.g.notation, v, u) if ctx.is_rule(u, v) else _paren(ctx.local_tex(u, v))
                                        for u, v in edges)
            factors = [ctx.local_value(u, v) for u, v in edges]
            parts = [" ".join(_partial(ctx.g.notation, v, u) for u, v in edges), symbolic]
            if all(x is not None and _is_scalar(x) for x in factors) and _is_scalar(p.value):
                parts.append(" \\cdot ".join(_operand(tex_value(x)) for x in factors))
            parts.append(tex_value(p.value))
            doc.eq(chain(f"\\pi_{{{k}}}", parts))
            if f is not None:
                doc.para(f"No matrix formula for this path ({f.note}): the local derivatives are listed, "
                         "and the value is the path's contribution.")
        grad = gradients(g, at=ctx.at, wrt=[var])[var]
        if n > MAX_PATHS_SHOWN:
            doc.para(f"There are {n} paths in all, too many to write out; counted by dynamic programming, and "
                     "their sum, computed in one backward pass (reverse accumulation adds up every path's "
                     "product exactly once), is")
            doc.eq(f"{total_tex} = {tex_value(grad)}")
        else:
            doc.para("Sum over the paths:")
            doc.eq(chain(total_tex, [" + ".join(f"\\pi_{{{k}}}" for k in range(1, len(values) + 1)),
                                     _sum_tex([tex_value(v) for v in values]), tex_value(grad)]))


def _tex_constant(name: str) -> str:
    return "I" if name == "I" else f"e_{{{name[1:]}}}"


def _reverse(doc: Document, ctx: _Context):
    import networkx as nx
    g = ctx.g
    doc.section("Reverse accumulation")
    doc.para("Write ", m(f"\\bar{{u}} = \\partial {ctx.g.notation.tex(g.output)} / \\partial u"),
             " (the adjoint). Start with ", m(f"{ctx.g.notation.tex_bar(g.output)} = 1"),
             " and go through the nodes in reverse topological order; each adjoint is the sum over the "
             "node's out-edges of the consumer's adjoint times the local derivative.")
    terms = _MatrixTerms(ctx)
    if terms.tensor:
        doc.para("In matrix form each term is the consumer's matrix rule for that operand, shaped like "
                 "the operand (a sum over the axes a broadcast added is a product with a transpose or "
                 "with ones), and checked against the numbers after it.")
    relevant = set(ctx.wrt)
    for var in ctx.wrt:
        relevant |= nx.descendants(g.dag, var)
    k = 0
    for s in ctx.reverse.steps:
        if s.node not in relevant and s.node != g.output:
            continue
        k += 1
        doc.para(b(f"Step {k}:"), " ", m(ctx.g.notation.tex_bar(s.node)))
        if not s.terms:
            doc.eq(f"{ctx.g.notation.tex_bar(s.node)} = {tex_value(s.adjoint)}")
            continue
        schematic = " + ".join(f"{ctx.g.notation.tex_bar(v)}\\,{_partial(ctx.g.notation, v, s.node)}" for v, _ in s.terms)
        written = [terms.tex(s.node, v) for v, _ in s.terms]
        rules = " + ".join(written) if None not in written else None
        numbers = []
        for v, contribution in s.terms:
            adj, loc = ctx.reverse.adjoints.get(v), ctx.local_value(s.node, v)
            if adj is not None and loc is not None and _is_scalar(adj) and _is_scalar(loc) and _is_scalar(contribution):
                numbers.append(f"{_operand(tex_value(adj))} \\cdot {_operand(tex_value(loc))}")
            else:
                numbers.append(tex_value(contribution))
        parts = [schematic] + ([rules] if rules else []) + [_sum_tex(numbers)]
        if len(s.terms) > 1:
            parts.append(_sum_tex([tex_value(c_) for _, c_ in s.terms]))
        parts.append(tex_value(s.adjoint))
        doc.eq(chain(ctx.g.notation.tex_bar(s.node), parts))
        if rules:
            for name, v in terms.new_constants(s.node, [v for v, _ in s.terms]):
                doc.para("Here ", m(f"{_tex_constant(name)} = {tex_value(np.asarray(v))}"),
                         ": the one-hot vector of the index taken." if name != "I" else ".")


class _MatrixTerms:
    """How section 4 writes the term ``v̄ ∂v/∂u`` of a step.  In a scalar program: the consumer's
    adjoint times the local derivative.  In a tensor program that product is right only where the
    shapes agree (``ā·X`` for ``a = X*W`` with X 3×1, W 1×2 hides the sum over the broadcast
    axis), so each term is the edge's checked matrix rule (``Xᵀā``,
    :func:`graphviz_bp.algorithms.matrix_form.edges.edge_formulas`), as section 5 writes the sums."""

    def __init__(self, ctx: _Context):
        from ..algorithms.matrix_form.formulas import is_tensor_program
        self.ctx = ctx
        self.tensor = is_tensor_program(ctx.g, ctx.at)
        self.edges, self.names = {}, {}
        if self.tensor:
            from ..algorithms.matrix_form.edges import edge_formulas
            from .matrix_solution import _tex_names
            self.edges = edge_formulas(ctx.g, ctx.reverse.steps, ctx.at)
            self.names = _tex_names(ctx.g)
        self.said: set = set()                  # e₀, I: their values said where first written

    def tex(self, u: str, v: str) -> str | None:
        """The term in LaTeX; None where no form with the right shapes is at hand (a tensor op with
        no matrix rule that broadcasts): the step then shows the schematic and the numbers."""
        ctx = self.ctx
        scalars = _is_scalar(ctx.value(u)) and _is_scalar(ctx.value(v))
        e = self.edges.get((u, v))
        if e is not None and not scalars:      # between scalars v̄·∂v/∂u is right, and reads as its numbers
            from ..algorithms.matrix_form.printing import latex
            return latex(e, self.names)
        if self.tensor and not ctx.is_rule(u, v) and ctx.matmul_position(u, v) is None \
                and np.shape(ctx.reverse.adjoints.get(v)) != np.shape(ctx.value(u)):
            return None
        return _vjp_tex(ctx, u, v)

    def new_constants(self, u: str, consumers) -> list:
        """``[(name, value)]`` of the one-hot eᵢ and I the step's terms hold, not said before."""
        from types import SimpleNamespace

        from .matrix_solution import _constants
        held = [SimpleNamespace(expr=self.edges[(u, v)]) for v in consumers if (u, v) in self.edges]
        out = [(name, v) for name, v in _constants(held).items() if name not in self.said]
        self.said.update(name for name, _ in out)
        return out


def _vjp_tex(ctx: _Context, u: str, v: str) -> str:
    """The term ``v̄·∂v/∂u`` with the local derivative written out (``Aᵀ v̄`` for a matrix product)."""
    node = ctx.g.node(v)
    pos = ctx.matmul_position(u, v)
    if pos is not None:
        a, b = (ctx.operand(j) for j in node.args)
        return f"{a}^\\top {ctx.g.notation.tex_bar(v)}" if pos == 1 else f"{ctx.g.notation.tex_bar(v)}\\, {b}^\\top"
    local = ctx.local_tex(u, v)
    if ctx.is_rule(u, v):
        return local
    return f"{ctx.g.notation.tex_bar(v)} \\cdot {_paren(local)}"


def _gradients(doc: Document, ctx: _Context):
    g = ctx.g
    doc.section("Gradients")
    grads = gradients(g, at=ctx.at, wrt=ctx.wrt)
    doc.para("Each gradient has the shape of its variable.")
    for var in ctx.wrt:
        doc.eq(chain(f"\\nabla_{{{ctx.g.notation.tex(var)}}} {ctx.g.notation.tex(g.output)}",
                     [_partial(ctx.g.notation, g.output, var), tex_value(grads[var])]))
    return grads


def _sgd(doc: Document, ctx: _Context, grads: dict):
    g = ctx.g
    eta = ctx.sgd_lr
    params = updated_parameters(ctx.wrt, ctx.wrt_given)
    doc.section("One SGD step")
    doc.para("With ", m(f"\\eta = {tex_number(eta)}"), ", each parameter moves against its gradient: ",
             m("w \\leftarrow w - \\eta\\,\\nabla_w " + ctx.g.notation.tex(g.output)), ".")
    if not ctx.wrt_given and params != ctx.wrt:
        doc.para("Parameters (weights and biases, by name; choose others with --wrt): ",
                 *_join([m(ctx.g.notation.tex(p)) for p in params]), ".")
    for p in params:
        w, grad = ctx.value(p), grads[p]
        new = w - eta * grad
        doc.eq(chain(f"{ctx.g.notation.tex(p)} \\leftarrow {ctx.g.notation.tex(p)} - \\eta\\,\\nabla_{{{ctx.g.notation.tex(p)}}} {ctx.g.notation.tex(g.output)}",
                     [f"{tex_value(w)} - {tex_number(eta)} \\cdot {_operand(tex_value(grad))}", tex_value(new)]))
    doc.para("Updated parameters:")
    doc.eq(";\\quad ".join(f"{ctx.g.notation.tex(p)} = {tex_value(ctx.value(p) - eta * grads[p])}" for p in params))


# --- the entry point ---------------------------------------------------------------------------------

def explain(g, at=None, fmt: str = "md", method: str = "both", wrt=None, sgd_lr: float | None = None) -> str:
    """A worked solution of ``g`` at ``at``, as Markdown (``fmt="md"``) or a LaTeX document (``"tex"``).

    ``method`` chooses the derivative sections (``"reverse"``, ``"paths"`` or ``"both"``); ``wrt``
    the variables (names, or a comma-separated string; default every input); ``sgd_lr`` adds one
    SGD step ``w ← w − η·∇w`` for the weights and biases (or for ``wrt`` when given).
    """
    from ..core.errors import InputError
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", kind="usage")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; use one of {', '.join(METHODS)}", kind="usage")
    if sgd_lr is not None and not np.isfinite(sgd_lr):
        raise InputError(f"--sgd-lr {sgd_lr}: the learning rate must be a finite number", kind="usage")
    if len(g.nodes) > g.limits.max_render_nodes:
        g.limits.refuse("max_render_nodes", f"a worked solution of {len(g.nodes)} nodes")
    ctx = _Context(g, at, wrt, sgd_lr)
    doc = Document()
    _intro(doc, ctx)
    _given(doc, ctx)
    _forward(doc, ctx)
    _locals(doc, ctx)
    if method in ("paths", "both"):
        _paths(doc, ctx)
    if method in ("reverse", "both"):
        _reverse(doc, ctx)
        from .matrix_solution import section as matrix_section     # issue 14: tensor programs only
        matrix_section(doc, ctx)
    grads = _gradients(doc, ctx)
    if sgd_lr is not None:
        _sgd(doc, ctx, grads)
    return to_markdown(doc) if fmt == "md" else to_tex(doc)
