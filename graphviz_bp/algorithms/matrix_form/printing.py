"""Printers for :mod:`.expr`: the plain notation (reads back with ``graphviz_bp.parse``), LaTeX, Unicode.

Plain notation: ``*`` elementwise or scalar product, ``@`` matrix product, ``^T`` transpose,
``inv(X)``, ``||a||_2^2``.  Two things the notation has no word for are written so that they still
read back: ReLU's derivative 1{a > 0} is ``sign(relu(a))``; the one-hot vector eᵢ is a name
``e<i>`` (0-based, like indexing) whose value the reader supplies, as for I.  An adjoint known
only as numbers (an op without a matrix rule on the way) is the name ``dL_d<node>``.
"""
from __future__ import annotations

import re

from ...core.notation import tex_bar
from .expr import SCALAR, E, is_num, split_coef

ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "nu", "xi", "pi",
          "rho", "sigma", "tau", "phi", "chi", "psi", "omega", "Sigma", "Lambda", "Omega", "Delta", "Gamma"}
_GREEK_U = dict(zip(["alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "nu", "xi",
                     "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega", "Sigma", "Lambda", "Omega",
                     "Delta", "Gamma"], "αβγδεηθλμνξπρστφχψωΣΛΩΔΓ"))
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt_num(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return format(v, ".12g")


def _tex_name(name: str, tex_names: dict) -> str:
    if name in tex_names:
        return tex_names[name]
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+|[A-Za-z]+)?", name)
    if not m:
        return name
    base, sub = m.group(1), m.group(2)
    base = "\\" + base if base in _GREEK else base
    return f"{base}_{{{sub}}}" if sub else base


def _uni_name(name: str) -> str:
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)?", name)
    if not m:
        return name
    base = _GREEK_U.get(m.group(1), m.group(1))
    return base + (m.group(2) or "").translate(_SUB)


class _Printer:
    def __init__(self, style: str, tex_names=None, name_of=None):
        self.style, self.tex_names = style, tex_names or {}
        self.uni_name = name_of or _uni_name        # the graph's notation (W⁽¹⁾ as on the sheet)

    # --- leaves ---
    def name(self, e: E) -> str:
        name, role = e.data
        s = self.style
        if role in ("bar", "opaque"):
            if s == "plain":
                return f"dL_d{name}"
            if s == "latex":
                return tex_bar(_tex_name(name, self.tex_names))     # as the worked solution's steps
            return self.uni_name(name) + "\u0304"
        if s == "latex":
            return _tex_name(name, self.tex_names)
        if s == "unicode":
            return self.uni_name(name)
        return name

    def p(self, e: E) -> tuple[str, int]:
        k, s = e.kind, self.style
        if k == "sym":
            return self.name(e), ATOM
        if k == "num":
            if e.shape != SCALAR and e.data != 0:
                one = {"plain": "ones", "latex": "\\mathbf{1}", "unicode": "𝟏"}[s]
                if e.data == 1:
                    return one, ATOM
                return f"{fmt_num(e.data)}*{one}" if s == "plain" else f"{fmt_num(e.data)}{one}", MUL
            return fmt_num(e.data), (ATOM if e.data >= 0 else NEG)
        if k == "eye":
            return "I", ATOM
        if k == "basis":
            i = e.data if not isinstance(e.data, tuple) else "".join(map(str, e.data))
            return {"plain": f"e{i}", "latex": f"e_{{{i}}}", "unicode": f"e{str(i).translate(_SUB)}"}[s], ATOM
        if k == "add":
            return self.add(e), ADD
        if k == "mul":
            return self.mul(e)
        if k == "mm":
            return self.mm(e), MUL
        if k == "pow":
            return self.pow(e)
        if k == "T":
            return self.transpose(e), POW
        if k == "inv":
            base = self.wrap(e.args[0], ATOM)
            return {"plain": f"inv({self.p(e.args[0])[0]})", "latex": f"{base}^{{-1}}",
                    "unicode": f"{base}⁻¹"}[s], (ATOM if s == "plain" else POW)
        if k == "fn":
            return self.function(e), ATOM
        if k == "red":
            return self.reduction(e), ATOM
        if k == "softmax":
            inner = self.p(e.args[0])[0]
            if s == "plain" and e.shape[1] == 1 and e.shape[0] != 1 and not _COLUMN_SOFTMAX:
                return f"softmax({self.wrap(e.args[0], ATOM)}^T)^T", POW     # see _column_softmax
            return (f"\\operatorname{{softmax}}({inner})" if s == "latex" else f"softmax({inner})"), ATOM
        if k == "index":
            i = e.data if isinstance(e.data, tuple) else (e.data,)
            return f"{self.wrap(e.args[0], ATOM)}[{', '.join(map(str, i))}]", ATOM
        raise ValueError(k)

    def wrap(self, e: E, need: int) -> str:
        text, level = self.p(e)
        if level < need:
            return r"\left(" + text + r"\right)" if self.style == "latex" and len(text) > 40 else f"({text})"
        return text

    # --- sums and products ---
    def add(self, e: E) -> str:
        # as a sheet writes a sum: numbers first (1 + e^z), then the longer terms (the data term of
        # a gradient before its penalty: 2Xᵀ(Xw − y) + 2λw); a positive term leads (y − Xw)
        from .traverse import count_ops
        terms = sorted(e.args, key=lambda t: (t.kind != "num", -count_ops(t)))
        first = next((t for t in terms if split_coef(t)[0] > 0), terms[0])
        terms.remove(first)
        terms.insert(0, first)
        minus = "−" if self.style == "unicode" else "-"
        out = self.wrap(first, ADD + 1) if first.kind == "add" else self.p(first)[0]
        for t in terms[1:]:
            c, core = split_coef(t)
            if c < 0:
                from .expr import scale
                out += f" {minus} " + self.wrap(scale(-c, core), MUL)
            else:
                out += " + " + self.wrap(t, ADD + 1)
        return out

    def mul(self, e: E):
        s = self.style
        c, core = split_coef(e)
        factors = list(core.args) if core.kind == "mul" else [core]
        ones = [f for f in factors if f.kind == "num" and f.shape != SCALAR and f.data == 1]
        factors = [f for f in factors if f not in ones]
        if ones and s != "plain" and all(f.shape == SCALAR for f in factors):
            factors.append(ones[0])     # it alone carries the shape: s̄𝟏 is a matrix, s̄ would read as a number
        numer, denom = [], []
        for f in factors:
            if f.kind == "pow" and f.args[1].kind == "num" and f.args[1].data < 0:
                from .expr import pow_
                denom.append(pow_(f.args[0], -f.args[1].data))
            else:
                numer.append(f)
        sign = ""
        if c == -1:
            sign = "−" if s == "unicode" else "-"
        elif c != 1:
            numer.insert(0, _num(abs(c)))
            sign = ("−" if s == "unicode" else "-") if c < 0 else ""
        top = self.product(numer) if numer else "1"
        if denom:
            bottom = self.product(denom)
            if s == "latex":
                text = f"\\frac{{{top}}}{{{bottom}}}"
            else:
                single = len(denom) == 1 and self.p(denom[0])[1] > MUL
                top = top if len(numer) <= 1 and (not numer or self.p(numer[0])[1] >= MUL) else top
                text = f"{top}/{bottom if single else '(' + bottom + ')'}"
        else:
            text = top
        return sign + text, (NEG if sign else MUL)

    def product(self, fs) -> str:
        s = self.style
        out, all_scalar = "", True
        for k, f in enumerate(fs):
            text, level = self.p(f)
            need = MUL if k == 0 else MUL + 1
            if k and f.kind == "mm" and all_scalar:
                need = MUL                     # (λ·A)@B = λ·(A@B): no parentheses needed
            if level < need:
                text = f"({text})" if not (s == "latex" and len(text) > 40) else r"\left(" + text + r"\right)"
            if k:
                prev = fs[k - 1]
                both = prev.shape != SCALAR and f.shape != SCALAR
                if s == "plain":
                    out += "*"
                elif s == "latex":
                    out += " \\odot " if both else (" \\cdot " if text[:1].isdigit() else " ")
                else:
                    out += "⊙" if both else ("" if prev.kind == "num" and not text[:1].isdigit() else "·")
            out += text
            all_scalar = all_scalar and f.shape == SCALAR
        return out

    def mm(self, e: E) -> str:
        sep = {"plain": "@", "latex": " ", "unicode": ""}[self.style]
        parts = []
        for k, f in enumerate(e.args):
            text, level = self.p(f)
            if level <= MUL or (level == NEG):
                text = f"({text})" if not (self.style == "latex" and len(text) > 40) else \
                    r"\left(" + text + r"\right)"
            parts.append(text)
        return sep.join(parts)

    def pow(self, e: E):
        base, ex = e.args
        s = self.style
        b = self.wrap(base, ATOM)
        elementwise = base.shape != SCALAR
        if ex.kind == "num":
            v = ex.data
            if v == 0.5:
                inner = self.p(base)[0]
                return {"plain": f"sqrt({inner})", "latex": f"\\sqrt{{{inner}}}", "unicode": f"√{b}"}[s], ATOM
            x = fmt_num(v)
            if s == "plain":
                return (f"{b}^{x}" if v >= 0 else f"{b}^({x})"), POW
            if s == "latex":
                return (f"{b}^{{\\circ {x}}}" if elementwise else f"{b}^{{{x}}}"), POW
            sup = x.translate(_SUP) if re.fullmatch(r"-?\d+", x) else f"^{x}"
            return (f"{b}∘{sup}" if elementwise else f"{b}{sup}"), POW
        x, level = self.p(ex)
        if s == "plain":
            return f"{b}^{x if level == ATOM else '(' + x + ')'}", POW
        if s == "latex":
            return f"{b}^{{{x}}}", POW
        return f"{b}^{x if level == ATOM else '(' + x + ')'}", POW

    def transpose(self, e: E) -> str:
        a = e.args[0]
        s = self.style
        if a.kind == "inv" and s != "plain":
            base = self.wrap(a.args[0], ATOM)
            return f"{base}^{{-\\top}}" if s == "latex" else f"{base}⁻ᵀ"
        b = self.wrap(a, ATOM)
        return {"plain": f"{b}^T", "latex": f"{b}^\\top", "unicode": f"{b}ᵀ"}[s]

    def function(self, e: E) -> str:
        name, s = e.data, self.style
        inner = self.p(e.args[0])[0]
        if s == "plain":
            if name == "step":
                return f"sign(relu({inner}))"
            return f"{name}({inner})"
        if name == "abs":
            return f"\\left|{inner}\\right|" if s == "latex" else f"|{inner}|"
        if name == "step":
            return f"\\mathbf{{1}}[{inner} > 0]" if s == "latex" else f"𝟙[{inner} > 0]"
        if name == "sqrt":
            return f"\\sqrt{{{inner}}}" if s == "latex" else f"√({inner})"
        if s == "latex":
            word = {"sigmoid": "\\sigma", "exp": "\\exp", "log": "\\log", "sin": "\\sin", "cos": "\\cos",
                    "tanh": "\\tanh"}.get(name, f"\\operatorname{{{'ReLU' if name == 'relu' else name}}}")
            return f"{word}\\left({inner}\\right)" if len(inner) > 40 else f"{word}({inner})"
        word = {"sigmoid": "σ", "relu": "ReLU"}.get(name, name)
        return f"{word}({inner})"

    def reduction(self, e: E) -> str:
        name, s = e.data, self.style
        inner = self.p(e.args[0])[0]
        if s == "plain" and name == "logsumexp" and e.args[0].shape[1] == 1 and not _COLUMN_SOFTMAX:
            return f"logsumexp({self.wrap(e.args[0], ATOM)}^T)"        # along the column (see softmax)
        if s == "plain":
            return {"norm1": f"||{inner}||_1", "norm2": f"||{inner}||_2", "sqnorm": f"||{inner}||_2^2"}.get(
                name, f"{name}({inner})")
        if s == "latex":
            return {"norm1": f"\\|{inner}\\|_1", "norm2": f"\\|{inner}\\|_2", "sqnorm": f"\\|{inner}\\|_2^2",
                    "tr": f"\\operatorname{{tr}}({inner})", "det": f"\\det({inner})",
                    "sum": f"\\textstyle\\sum({inner})"}.get(name, f"\\operatorname{{{name}}}({inner})")
        return {"norm1": f"‖{inner}‖₁", "norm2": f"‖{inner}‖₂", "sqnorm": f"‖{inner}‖₂²",
                "sum": f"Σ({inner})"}.get(name, f"{name}({inner})")


def _column_softmax() -> bool:
    """Whether the op table's softmax normalises the n entries of an n×1 column (as the formulas
    mean it).  If it runs along the last axis (each entry alone), the plain text of a column's
    softmax is written softmax(vᵀ)ᵀ so that it still reads back to the same numbers."""
    import numpy as np
    from ...core.ops import OPS
    try:
        out = np.asarray(OPS["softmax"].tensor(np.array([[0.0], [1.0]])))
        return bool(abs(out.sum() - 1.0) < 1e-12)
    except Exception:
        return False


_COLUMN_SOFTMAX = _column_softmax()


def _num(v):
    from .expr import num
    return num(v)


def plain(e: E) -> str:
    """The plain notation (reads back with ``graphviz_bp.parse``, vectors as n×1 columns)."""
    return _Printer("plain").p(e)[0]


def latex(e: E, tex_names=None) -> str:
    return _Printer("latex", tex_names).p(e)[0]


def unicode(e: E, name_of=None) -> str:
    """Unicode for pictures and terminals; ``name_of`` spells a name (e.g. ``g.notation.name``, so
    a formula says W⁽¹⁾ where the sheet and the drawing do), else W1 → W₁."""
    return _Printer("unicode", name_of=name_of).p(e)[0]


def readable(e: E) -> bool:
    """Whether the plain text reads back with nothing but the inputs (no I, eᵢ, 𝟏, adjoints)."""
    from .traverse import walk
    for x in walk(e):
        if x.kind in ("eye", "basis") or x.kind == "num" and x.shape != SCALAR and x.data != 0 or \
                x.kind == "sym" and x.data[1] in ("bar", "opaque"):
            return False
    return True


__all__ = ["plain", "latex", "unicode", "readable", "fmt_num", "is_num"]
