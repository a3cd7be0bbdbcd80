"""Verdicts, rewrite chains, function facts, stationary points and counts as text, Markdown or LaTeX.

Three formats: ``text`` (the terminal: one rewrite a line, the rule on the right), ``md``
(Markdown with ``$…$`` math, for the dashboard and ``explain``) and ``tex`` (an ``align*``
block to paste into a sheet).  Expressions print as a sheet writes them: σ, e^x in LaTeX,
``d/dx(…)`` for a derivative, ``x^2`` not ``x**2``.
"""
from __future__ import annotations

import numpy as np

from ..core.notation import fmt_value, powers_as_superscripts

FORMATS = ("text", "md", "tex")


# --- expressions -------------------------------------------------------------------------------

def _printers():
    from sympy import S
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.str import StrPrinter

    class Plain(StrPrinter):
        def _print_Pow(self, expr, rational=False):
            return super()._print_Pow(expr, rational).replace("**", "^")

        def _print_Mul(self, expr):
            return super()._print_Mul(expr).replace("*", "·")

        def _print_Abs(self, expr):
            return f"|{self._print(expr.args[0])}|"

        def _print_Function(self, expr):
            name = {"sigma": "σ", "relu": "ReLU"}.get(expr.func.__name__, expr.func.__name__)
            return f"{name}({', '.join(self._print(a) for a in expr.args)})"

        def _print_Derivative(self, expr):
            (v, n), = expr.variable_count
            order = "" if n == 1 else f"^{n}"
            return f"d{order}/d{self._print(v)}{order}({self._print(expr.expr)})"

        def _print_Subs(self, expr):
            pts = ", ".join(f"{self._print(v)} = {self._print(p)}" for v, p in zip(expr.variables, expr.point))
            return f"[{self._print(expr.expr)}] at {pts}"

        def _print_Dummy(self, expr):
            return expr.name

        def _print_Piecewise(self, expr):
            if len(expr.args) == 2 and expr.args[1].cond == True and expr.args[0].expr == 1 \
                    and expr.args[1].expr == 0:                         # noqa: E712 (SymPy's true)
                return f"1{{{self._print(expr.args[0].cond)}}}"
            # StrPrinter has no Piecewise of its own: ReLU′ is written as on paper, case by case
            return "(" + "; ".join(f"{self._print(e)} if {self._print(c)}" if c is not S.true else
                                   f"{self._print(e)} otherwise" for e, c in expr.args) + ")"

        def _print_Exp1(self, expr):
            return "e"

    class Tex(LatexPrinter):
        def _print_Function(self, expr, exp=None):
            names = {"sigma": r"\sigma", "softplus": r"\operatorname{softplus}", "relu": r"\operatorname{ReLU}"}
            if expr.func.__name__ in names:
                base = rf"{names[expr.func.__name__]}\left({', '.join(self._print(a) for a in expr.args)}\right)"
                return base if exp is None else rf"{base}^{{{exp}}}"
            return super()._print_Function(expr, exp)

        def _print_Dummy(self, expr):
            return expr.name

        def _print_Piecewise(self, expr):
            if len(expr.args) == 2 and expr.args[1].cond == True and expr.args[0].expr == 1 \
                    and expr.args[1].expr == 0:                         # noqa: E712
                return rf"\mathbb{{1}}_{{\{{{self._print(expr.args[0].cond)}\}}}}"
            return super()._print_Piecewise(expr)
    return Plain(), Tex()


def _bound_renamed(e):
    """``f'(−t)`` is Subs(d/dt f(t), t, −t): print its bound variable as u (s if u is taken), so the
    text reads ``[d/du(…)] at u = −t`` and not ``at t = −t``."""
    import sympy as sp
    if not isinstance(e, sp.Basic) or not e.has(sp.Subs):
        return e
    names = {x.name for x in e.free_symbols}
    fresh = sp.Symbol("u" if "u" not in names else "s", real=True)

    def walk(x):                 # by hand: Basic.replace leaves a Subs' bound variable alone
        if isinstance(x, sp.Subs) and len(x.variables) == 1:
            return sp.Subs(x.expr.xreplace({x.variables[0]: fresh}), fresh, walk(x.point[0]))
        if not x.args or not x.has(sp.Subs):
            return x
        return x.func(*[walk(a) for a in x.args])
    return walk(e)


def plain(e) -> str:
    """A SymPy expression as a sheet writes it in text: ``σ(x)·(1 − σ(x))``."""
    if isinstance(e, str):
        return e
    return _printers()[0].doprint(_bound_renamed(e))


def tex(e) -> str:
    if isinstance(e, str):
        return e
    return _printers()[1].doprint(_bound_renamed(e))


def _math(e, fmt):
    return f"${tex(e)}$" if fmt == "md" else tex(e) if fmt == "tex" else plain(e)


# --- prove -------------------------------------------------------------------------------------

def _note(step, powers=True):
    note = powers_as_superscripts(step.note) if powers else step.note       # LaTeX documents keep e^{−u} (pdflatex)
    return note + (" (right side, read backwards)" if step.side == "right" else "")


def verdict_text(v, fmt: str = "text") -> str:
    """The verdict, the chain of rewrites (when proved), the numeric check or the counterexample."""
    rel = {"<=": "≤", ">=": "≥"}.get(v.relation, v.relation)
    head = {"proved": "proved", "holds numerically": "holds numerically (no proof found)",
            "false": "false"}[v.status]
    claim = f"{plain(v.lhs)} {rel} {plain(v.rhs)}"
    lines = []
    if fmt == "tex":
        lines.append(rf"% {head}: {claim}")
        if v.chain:
            lines.append(r"\begin{align*}")
            lines.append(f"  & {tex(v.lhs)} \\\\")
            for s in v.chain:
                lines.append(f"  &= {tex(s.expr)} && \\text{{{_tex_text(_note(s, powers=False))}}} \\\\")
            lines.append(r"\end{align*}")
    else:
        bold = "**" if fmt == "md" else ""
        lines.append(f"{bold}{head}{bold}: {_math(v.lhs, fmt)} {rel} {_math(v.rhs, fmt)}")
        if v.chain:
            width = max(len(plain(s.expr)) for s in v.chain) + 2 if fmt == "text" else 0
            lines.append("" if fmt == "md" else "")
            lines.append(f"    {plain(v.lhs)}" if fmt == "text" else f"- {_math(v.lhs, fmt)}")
            for s in v.chain:
                if fmt == "text":
                    lines.append(f"  = {plain(s.expr):<{width}} [{_note(s)}]")
                else:
                    lines.append(f"- $= {tex(s.expr)}$ — {_note(s)}")
    if v.counterexample:
        at = ", ".join(f"{k} = {fmt_value(x, 6)}" for k, x in v.counterexample["at"].items())
        at = f"at {at} " if at else ""              # e = 3 has no variable to name
        lines.append(f"counterexample: {at}the left side is {fmt_value(v.counterexample['lhs'], 8)} "
                     f"and the right side {fmt_value(v.counterexample['rhs'], 8)}")
    if fmt == "md" and (v.chain or v.note):
        lines.append("")              # a paragraph of its own, not a continuation of the last step
    if v.note:
        lines.append(v.note)
    where = "±1" if "0 is not among the test points" in (v.note or "") else "0, ±1"     # a kink at 0
    check = f"checked numerically at {v.points} points ({where}, ±30, ±100 and random ones, 60 digits)" \
        if v.status != "false" else "found among the numeric test points (0, ±1, ±30, ±100 and random ones)"
    if v.relation == "=" and v.status != "false":
        check += f"; largest relative difference {v.max_difference:.1e}"
    lines.append(("% " if fmt == "tex" else "") + check)
    return "\n".join(lines)


def _tex_text(s):
    return s.replace("{", r"\{").replace("}", r"\}").replace("_", r"\_").replace("^", r"\^{}")


# --- facts -------------------------------------------------------------------------------------

def facts_text(ff, fmt: str = "text") -> str:
    lines = []
    title = f"{ff.name}({ff.var}) = {_math(ff.explicit, fmt)}"
    lines.append(f"**{title}**" if fmt == "md" else title)
    for f in ff.facts:
        value = powers_as_superscripts(f.value) if isinstance(f.value, str) else _math(f.value, fmt)   # 1 - tanh(t)²
        where = f" at {ff.var} = {_math(f.where, fmt)}" if f.where is not None else ""
        mark = "" if f.ok else " — not confirmed"
        item = f"{f.what}: {value}{where}{mark}  ({f.check})" if not (isinstance(f.value, str) and "=" in f.value) \
            else f"{value}{mark}  ({f.check})"
        lines.append(("- " if fmt == "md" else "  ") + item)
    return "\n".join(lines)


# --- solve -------------------------------------------------------------------------------------

def solution_text(sol, fmt: str = "text") -> str:
    lines = []
    md = fmt == "md"
    point = ", ".join(f"{k} = {fmt_value(v, 6)}" for k, v in sol.point.items())
    lines.append(("**stationary point**: " if md else "stationary point: ") + point)
    if sol.gradient_formula:
        (w,) = sol.wrt
        wt = sol.names_tex.get(w, w)
        shown = f"$\\nabla_{{{wt}}} L = {sol.gradient_tex} = 0$" if md else f"∇_{w} L = {sol.gradient_formula} = 0"
        lines.append(f"stationary: {shown}  (matrix form, checked against the reverse pass)")
    if sol.formula:
        shown = f"${sol.formula_tex}$" if md else sol.formula
        lines.append(f"closed form: {shown}  (equals the numeric solution here and on 3 random data sets)")
    lines.append(f"method: {sol.method}" + (f", {sol.iterations} iterations" if sol.iterations is not None else ""))
    lines.append(f"value there: {fmt_value(sol.value, 6)}, |∇| = {sol.gradient_norm:.1e}")
    if sol.hessian is not None:
        hf = ""
        if sol.hessian_formula:
            hf = f" = ${sol.hessian_tex}$" if md else f" = {sol.hessian_formula}"
        lines.append(f"Hessian d²L{hf} = {fmt_value(np.round(sol.hessian, 10), 6)}"
                     + ("" if sol.affine else " (central differences of the gradient)"))
        eig = ", ".join(f"{e:.6g}" for e in sol.eigenvalues)
        verdict = {"minimum": "positive definite: a minimum", "maximum": "negative definite: a maximum",
                   "saddle point": "indefinite: a saddle point",
                   "degenerate": "semidefinite: the second-order test does not decide"}[sol.kind]
        lines.append(f"eigenvalues {eig}: {verdict}")
    for n in sol.notes:
        lines.append(n)
    if fmt == "tex":
        out = [r"\begin{align*}"]
        if sol.gradient_tex:
            out.append(f"  \\nabla L &= {sol.gradient_tex} = 0 \\\\")
        if sol.formula_tex:
            out.append("  " + sol.formula_tex.replace(" = ", " &= ", 1) + r" \\")
        if sol.hessian_tex:
            d = "d" + sol.names_tex.get(sol.wrt[0], sol.wrt[0])
            out.append(rf"  d^2L &= {d}^\top ({sol.hessian_tex})\, {d} \\")
        out.append(r"\end{align*}")
        return "\n".join(out + ["% " + line for line in lines])
    return "\n".join(("- " + line) if md and k else line for k, line in enumerate(lines))


def loo_text(r, fmt: str = "text") -> str:
    """The λ leave-one-out chose, then the solution refitted with it."""
    head = (f"leave-one-out over the {r.n} observations: {r.name} = {r.best:.6g} "
            f"(sum of the held-out losses {r.score:.6g}; scanned 0 and 60 values up to {r.table[-1][0]:g}, "
            f"then refined); refitted on all the data:")
    return (f"**{head}**" if fmt == "md" else head) + "\n" + solution_text(r.solution, fmt)


# --- counts ------------------------------------------------------------------------------------

def counts_text(c, fmt: str = "text") -> str:
    from ..algorithms.counts import shape_text
    if fmt == "md":
        head = f"**{c.total:,} scalar parameters**" if c.parameters else "**no parameters**"
        parts = ", ".join(f"{n} ({shape_text(s)}): {k:,}" for n, s, k in c.parameters)
        shapes = ", ".join(f"{n}: {shape_text(s)}" for n, s in c.shapes.items())
        return f"{head}" + (f" — {parts}" if parts else "") + f"\n\nShapes: {shapes}"
    return c.text()
