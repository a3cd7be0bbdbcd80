"""The gradient in matrix form, step by step: the worked-solution section for tensor programs, and the
CLI's ``grad --symbolic`` report of matrix formulas.

Order as on a sheet: the layout convention once; reverse accumulation in matrix form, one line per
node from the output down (the rule in the consumers' adjoints, then in node names); each
gradient expanded into the inputs; the differential ``dL = tr(Ḡᵀ dX)`` for a matrix variable;
with a learning rate, the update rule as a formula (``w ← w − η(…)``) before any numbers.
Every formula shown was checked against the numeric reverse pass at this point
(:mod:`graphviz_bp.algorithms.matrix_form.formulas`); one that was not is replaced by a note.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.matrix_form.traverse import count_ops, walk
from ..algorithms.matrix_form.formulas import LAYOUT, is_tensor_program, matrix_form

SHORT = 40       # operations: a node's formula in node names longer than this is shown as its rule
LAYOUT_TEX = ("Layout: each gradient has the shape of its variable "
              "(the numerator layout is its transpose); vectors are columns.")


def _tex_names(g) -> dict:
    notation = getattr(g, "notation", None)
    if notation is None:
        return dict(getattr(g, "tex_names", {}) or {})
    out = {}
    for n in g.nodes:
        if n.name and n.kind != "const":
            try:
                out[n.name] = notation.tex(n.name)
            except Exception:            # a name the notation does not know: our own spelling
                pass
    return out


def _constants(formulas) -> dict:
    """Values of the extra names a formula may hold (eᵢ, I), so that its plain text reads back."""
    out = {}
    for f in formulas:
        if f.expr is None:
            continue
        for x in walk(f.expr):
            if x.kind == "basis" and all(isinstance(d, int) for d in x.shape):
                v = np.zeros(x.shape)
                v.flat[x.data] = 1.0
                out[f"e{x.data}"] = v.ravel().tolist()
            elif x.kind == "eye" and isinstance(x.shape[0], int):
                out["I"] = np.eye(x.shape[0]).tolist()
    return out


def gradient_report(g, formulas: dict) -> tuple[dict, str]:
    """``(json document, text)`` for ``grad --symbolic`` on a tensor program."""
    tex = _tex_names(g)
    grads = {k: f.plain for k, f in formulas.items()}
    doc = {"output": g.output, "method": "symbolic", "form": "matrix", "layout": LAYOUT,
           "gradients": grads, "gradients_latex": {k: f.latex(tex) for k, f in formulas.items()},
           "gradients_unicode": {k: f.unicode for k, f in formulas.items()}}
    doc["gradients_numerator_layout"] = {k: _numerator(f) for k, f in formulas.items()}
    constants = _constants(formulas.values())
    # whether each plain text reads back with the program's inputs alone (else it also needs the
    # "constants" e_i / I, or it has a broadcast 𝟏 the notation cannot write)
    doc["gradients_read_back"] = {k: f.reads_back for k, f in formulas.items()}
    notes = [f"∂{g.output}/∂{k}: {f.note}" for k, f in formulas.items() if f.expr is None]
    notes += [n for n in getattr(formulas, "notes", []) if not n.startswith("∂")]
    if constants:
        doc["constants"] = constants
    if notes:
        doc["notes"] = notes
    lines = [f"∂{g.output}/∂{k} = {f.plain if f.expr is not None else '(numbers only)'}"
             for k, f in formulas.items()]
    lines.append(f"({LAYOUT}; each formula checked against the numeric gradient)")
    for name, value in constants.items():
        lines.append(f"({name} = {value}" + (": the one-hot vector of the index taken)" if name != "I" else ")"))
    lines += [f"note: {n}" for n in notes]
    return doc, "\n".join(lines)


def _numerator(f) -> str | None:
    """The transpose of a gradient formula (the numerator layout some courses use), plain text."""
    if f.expr is None:
        return None
    from ..algorithms.matrix_form.expr import T
    from ..algorithms.matrix_form.printing import plain
    from ..algorithms.matrix_form.tidy import tidy
    try:
        return plain(tidy(T(f.expr), sympy_islands=False))
    except (ValueError, TypeError, KeyError, ArithmeticError, RecursionError):
        return None


def _bar(name: str, tex: dict) -> str:
    from ..algorithms.matrix_form.printing import _tex_name
    from ..core.notation import tex_bar
    return tex_bar(_tex_name(name, tex))


def section(doc, ctx) -> None:
    """Append "Gradient in matrix form, step by step" to an ``explain`` document (``_Doc``) for the
    context's graph; nothing for a scalar program."""
    from .document import m                      # the worked solution's segment helpers
    g = ctx.g
    if not is_tensor_program(g, ctx.at):
        return
    try:
        mf = matrix_form(g, at=ctx.at, wrt=ctx.wrt, levels=("rule", "named"))
    except Exception as exc:                    # the numbers stand; say why there is no formula
        doc.section("Gradient in matrix form")
        doc.para(f"No matrix formula for this program ({exc}); the numbers below stand.")
        return
    tex = _tex_names(g)
    doc.section("Gradient in matrix form, step by step")
    doc.para(LAYOUT_TEX + " Each formula below was checked against the numeric reverse pass at "
             "this point. Reverse accumulation in matrix form, from the output down: each node's "
             "adjoint is the sum over its consumers of the matrix rule, then written in node names.")
    out = g.output
    for node in reversed(g.nodes[:g._output + 1]):
        if node.kind == "const" or node.name not in mf.nodes:
            continue
        levels = mf.nodes[node.name]
        rule, named = levels.get("rule"), levels.get("named")
        lhs = _bar(node.name, tex)
        if node.name == out:
            doc.eq(f"{lhs} = \\frac{{\\partial {_tex(out, tex)}}}{{\\partial {_tex(out, tex)}}} = 1")
            continue
        has_rule = rule is not None and rule.expr is not None
        if (named is None or named.expr is None) and not has_rule:
            note = named.note if named is not None else "no matrix rule"
            doc.para(m(lhs), f": numbers only ({note}).")
            continue
        parts = [rule.latex(tex)] if has_rule else []
        if named is not None and named.expr is not None and count_ops(named.expr) <= SHORT \
                and named.latex(tex) not in parts:
            parts.append(named.latex(tex))        # in node names, unless it has grown long (deep nets)
        doc.eq(f"{lhs} = " + " = ".join(parts))
    doc.para("Each gradient, expanded into the inputs:")
    for var in ctx.wrt:
        f = mf.gradients.get(var)
        lhs = f"\\nabla_{{{_tex(var, tex)}}} {_tex(out, tex)}"
        if f is None or f.expr is None:
            doc.para(m(lhs), f": numbers only ({f.note if f is not None else 'no formula'}).")
            continue
        named = mf.nodes.get(var, {}).get("named")
        parts = [named.latex(tex)] if named is not None and named.expr is not None else []
        if f.latex(tex) not in parts:
            parts.append(f.latex(tex))
        doc.eq(f"{lhs} = " + " = ".join(parts))
    mats = [v for v in ctx.wrt if v in mf.gradients and mf.gradients[v].expr is not None
            and all(d != 1 for d in mf.derivation.shapes.get(v, (1, 1)))]
    if mats:
        v = mats[0]
        doc.para("As a differential (for a matrix variable): ",
                 m(f"d{_tex(out, tex)} = \\operatorname{{tr}}\\big((\\nabla_{{{_tex(v, tex)}}} "
                   f"{_tex(out, tex)})^\\top\\, d{_tex(v, tex)}\\big)"), ".")
    if mf.notes:
        for note in dict.fromkeys(mf.notes):
            doc.para("Note: " + note + ".")
    if getattr(ctx, "sgd_lr", None) is not None:
        from ..core.graph import updated_parameters      # the one rule explain's SGD step uses too
        params = updated_parameters(ctx.wrt, ctx.wrt_given)
        doc.para("The update rule as a formula, before the numbers (learning rate ", m("\\eta"), "):")
        for p in params:
            f = mf.gradients.get(p)
            if f is None or f.expr is None:
                continue
            doc.eq(f"{_tex(p, tex)} \\leftarrow {_tex(p, tex)} - \\eta\\left({f.latex(tex)}\\right)")


def _tex(name, tex):
    from ..algorithms.matrix_form.printing import _tex_name
    return _tex_name(name, tex)


class _Blocks:
    """The part of explain's document the section writes to (heading, paragraph, display math)."""

    def __init__(self):
        self.out, self.n = [], 0

    def section(self, text):
        self.n += 1
        self.out.append(f"## {self.n}. {text}")

    def para(self, *segments):
        self.out.append("".join(s if isinstance(s, str) else f"${s[1]}$" for s in segments))

    def eq(self, latex):
        self.out.append("$$\n" + latex + "\n$$")


def markdown(g, at=None, wrt=None, sgd_lr=None) -> str:
    """The section alone as Markdown (``$…$`` math), e.g. for the dashboard's "matrix form" toggle."""
    from types import SimpleNamespace

    from ..core.graph import wrt_names
    ctx = SimpleNamespace(g=g, at=at or {}, wrt=wrt_names(g, wrt), wrt_given=wrt is not None, sgd_lr=sgd_lr)
    doc = _Blocks()
    section(doc, ctx)
    return "\n\n".join(doc.out) + "\n"


def node_formulas(g, at=None, notes=None) -> dict | None:
    """``{node: its adjoint in node names, Unicode}`` for the graph's formulas layer (None for a
    scalar program); a node whose formula is withheld reads "numbers only"; why goes to ``notes``."""
    if not is_tensor_program(g, at):
        return None
    try:
        mf = matrix_form(g, at=at, levels=("rule", "named"))
    except Exception as exc:                    # the picture is drawn anyway, with the reason
        if notes is not None:
            notes.append(f"no matrix formulas: {exc}")
        return None
    if notes is not None:
        notes.extend(n for n in dict.fromkeys(mf.notes) if not n.startswith("∂"))
    out = {}
    for name, levels in mf.nodes.items():
        f, rule = levels.get("named"), levels.get("rule")
        if g.node(name).kind == "const":
            continue
        if f is not None and f.expr is not None and count_ops(f.expr) <= SHORT:
            out[name] = f.display(g.notation.name)
        elif rule is not None and rule.expr is not None:      # a deep net: the rule stays short
            out[name] = rule.display(g.notation.name)
        else:
            out[name] = "numbers only"
    return out
