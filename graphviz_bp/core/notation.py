"""Names and numbers written as on paper: ``lambda`` → λ, ``W1`` → W₁, ``yhat`` → ŷ, ``-0.2946``."""
from __future__ import annotations

import functools
import math
import re
import unicodedata

import numpy as np

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "upsilon": "υ", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
GREEK_LETTERS = frozenset(GREEK) - {"eps", "lam"}
"""The names of Greek letters as LaTeX commands (``lambda`` is ``\\lambda``)."""
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_NAME = re.compile(r"^(.*?)(_?)(\d+)$")


_SUP = str.maketrans("0123456789()+-−=abcdefghijklmnoprstuvwxyz", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁺⁻⁻⁼ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ")
_TEXT_POWER = re.compile(r"\^\{([^{}]*)\}|\^([A-Za-z0-9])(?![A-Za-z0-9])")
_TEX_STYLE = re.compile(r"\\(?:mathbf|boldsymbol|bm|pmb|vec)\{((?:[^{}]|\{[^{}]*\})*)\}")
_TEX_PART = re.compile(r"\\hat\{\\?(\w+)\}|\\(\w+)|\^\{([^{}]*)\}|_\{([^{}]*)\}|(\w)")


def unicode_of_tex(tex: str) -> str:
    r"""A sheet's LaTeX name in plain text: ``W^{(1)}`` → ``W⁽¹⁾``, ``\hat{y}^{(2)}`` → ``ŷ⁽²⁾``.

    >>> unicode_of_tex("W^{(1)}"), unicode_of_tex("\\beta^{(2)}_{1}"), unicode_of_tex("\\hat{y}^{(3)}")
    ('W⁽¹⁾', 'β⁽²⁾₁', 'ŷ⁽³⁾')
    >>> unicode_of_tex("\\mathbf{w}"), unicode_of_tex("\\mathbf{\\hat{y}}_{1}")
    ('w', 'ŷ₁')
    """
    out = []
    tex = _TEX_STYLE.sub(r"\1", tex)       # bold and vector arrows: the plain letter
    for m in _TEX_PART.finditer(tex):
        hat, cmd, sup, sub, ch = m.groups()
        if hat:
            out.append(GREEK.get(hat, hat) + "\u0302")
        elif cmd:
            out.append(GREEK.get(cmd, cmd))
        elif sup is not None:
            out.append(_superscript_text(sup))
        elif sub is not None:
            out.append(sub.translate(_SUB) if sub.isdigit() else f"_{sub}")
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _superscript_text(sup: str) -> str:
    """``(1)`` → ``⁽¹⁾``, ``−u`` → ``⁻ᵘ``; a power with no superscript form keeps brackets: ``^(x/2)``."""
    up = sup.translate(_SUP)
    return up if all(c not in sup for c in up if c.isascii()) else f"^({sup})"


def powers_as_superscripts(text: str) -> str:
    r"""Powers in a line of text as on paper: ``σ(u) = 1/(1 + e^{−u})`` → ``σ(u) = 1/(1 + e⁻ᵘ)``,
    ``e^a·e^b`` → ``eᵃ·eᵇ``, ``1 - tanh(t)^2`` → ``1 - tanh(t)²``.

    >>> powers_as_superscripts("let u = e^{x/2}; e^a·e^b = e^{a+b}")
    'let u = e^(x/2); eᵃ·eᵇ = eᵃ⁺ᵇ'
    """
    return _TEXT_POWER.sub(lambda m: _superscript_text(m.group(1) if m.group(1) is not None else m.group(2)),
                           text)


def tex_bar(tex: str) -> str:
    r"""A bar over a name's LaTeX: ``\bar{x}`` over one letter, ``\overline{W_{1}}`` over more (a
    ``\bar`` is as wide as one letter and would sit over the W alone)."""
    simple = len(tex) == 1 or (tex.startswith("\\") and tex[1:].isalpha()) or tex.startswith("\\hat{")
    return ("\\bar{" if simple else "\\overline{") + tex + "}"


def pretty_name(name: str) -> str:
    """How a graph name is written on paper (no sheet: see :class:`Notation` for a pasted one).

    >>> pretty_name("lambda"), pretty_name("W1"), pretty_name("eta_0"), pretty_name("yhat"), pretty_name("x")
    ('λ', 'W₁', 'η₀', 'ŷ', 'x')
    """
    return _pretty_name(name)


@functools.lru_cache(maxsize=1 << 16)
def _pretty_name(name: str) -> str:
    m = _NAME.match(name)
    base, digits = (m.group(1), m.group(3)) if m and m.group(1) else (name, "")
    if base.endswith("hat") and len(base) > 3:
        base = base[:-3] + "\u0302"
    base = GREEK.get(base, base)
    return unicodedata.normalize("NFC", base + digits.translate(_SUB))


def fmt_number(x: float, digits: int = 4) -> str:
    """A compact number: integers without a decimal point, others to ``digits`` significant digits.

    >>> fmt_number(14.0), fmt_number(-0.29461519), fmt_number(2.8000000001), fmt_number(1e-9), fmt_number(float('nan'))
    ('14', '-0.2946', '2.8', '1e-09', 'nan')
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if abs(x - round(x)) <= 1e-9 * abs(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.{digits}g}"


def fmt_value(v, digits: int = 4) -> str:
    """A value on one line: ``14``, ``[11, 3]``, ``[[0, -18]]``."""
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return fmt_number(float(v), digits)
        return "[" + ", ".join(fmt_value(r, digits) for r in v) + "]"
    return fmt_number(v, digits)


def shape_text(v) -> str:
    """``3×2`` for a matrix, ``3`` for a vector, ``scalar`` for a number."""
    shape = np.shape(v)
    return "×".join(map(str, shape)) if shape else "scalar"


def to_json(v):
    """Numbers as JSON numbers, arrays as nested lists, NaN/inf as "nan"/"inf"/"-inf"."""
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, np.ndarray):
        return to_json(v.tolist())
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return int(v) if v.is_integer() and abs(v) < 2 ** 53 else v
    if isinstance(v, np.integer):
        return int(v)
    return v


# --- one graph's notation: names as its sheet writes them, formulas over its nodes ---------------

_ELEMENT = re.compile(r"^(.*?)\[([\d, ]+)\]$")
_POWER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_IDENT = re.compile(r"[A-Za-z_\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*(?:\[[\d, ]+\])?")
_SRC_NORM = re.compile(r"\|\|(.+?)\|\|(?:_(\d+|p))?(?:\^(\d+))?")
_GREEK_TEX = {k: "\\" + k for k in GREEK}
_GREEK_TEX.update(eps="\\epsilon", lam="\\lambda")
UNICODE_TEX = {GREEK[k]: _GREEK_TEX[k] for k in GREEK if k not in ("eps", "lam")}
"""Greek letters typed in Unicode → their LaTeX commands (λ → \\lambda)."""
_TEX_NAME = re.compile(r"^(.*?)_?(\d+)$")
_SAFE_TEX = re.compile(r"[A-Za-z0-9_^{}()\\ ,'+-]{1,60}")


def superscript(k: float) -> str | None:
    """``²`` for 2, ``⁻¹`` for −1; None unless ``k`` is a small integer."""
    if float(k).is_integer() and abs(k) < 100:
        return str(int(k)).translate(_POWER)
    return None


def _match_paren(s: str, i: int) -> int:
    depth = 0
    for k in range(i, len(s)):
        depth += {"(": 1, ")": -1}.get(s[k], 0)
        if depth == 0:
            return k
    return len(s) - 1


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in tex.replace("\\{", "").replace("\\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


class Notation:
    """How one graph's names, numbers and formulas are written, everywhere it is shown.

    Made from the graph (``g.notation``): a pasted sheet's names are written as the sheet wrote
    them (``W_1`` → ``W⁽¹⁾`` in Unicode, ``W^{(1)}`` in LaTeX), other names as on paper
    (``lambda`` → ``λ``, ``W1`` → ``W₁`` / ``W_{1}``, ``yhat`` → ``ŷ``).  The graph, the tables,
    the worked solution and the checker all ask this one object, so they spell names alike.

    >>> import graphviz_bp as gbp
    >>> g = gbp.parse(r"$W^{(1)} = 2, \\quad f = 3 W^{(1)}$")
    >>> g.notation.name("W_1"), g.notation.tex("W_1"), Notation().name("W_1"), Notation().tex("W1")
    ('W⁽¹⁾', 'W^{(1)}', 'W₁', 'W_{1}')
    """

    def __init__(self, graph=None, tex_names: dict | None = None):
        self.graph = graph
        sheet = tex_names if tex_names is not None else getattr(graph, "tex_names", None) or {}
        self.sheet_tex = {k: v for k, v in sheet.items() if _SAFE_TEX.fullmatch(v) and _balanced(v)}
        self.sheet_unicode = {k: unicode_of_tex(v) for k, v in sheet.items()}

    # --- names ---------------------------------------------------------------------------
    def name(self, name: str) -> str:
        """A node name in Unicode; element names of the scalar view keep their index: ``W₂[0,1]``."""
        m = _ELEMENT.match(name)
        if m:
            return self.name(m.group(1)) + "[" + m.group(2).replace(" ", "") + "]"
        return self.sheet_unicode.get(name) or _pretty_name(name)

    def tex(self, name: str) -> str:
        r"""A node name in LaTeX: the sheet's own spelling when it is plain enough to typeset.

        >>> [Notation().tex(n) for n in ("W1", "lambda", "yhat", "eta_0", "a_1", "x", "logloss", "λ")]
        ['W_{1}', '\\lambda', '\\hat{y}', '\\eta_{0}', 'a_{1}', 'x', '\\mathit{logloss}', '\\lambda']
        """
        if name in self.sheet_tex:
            return self.sheet_tex[name]
        m = _ELEMENT.match(name)
        if m:
            return self.tex(m.group(1)) + "[" + m.group(2).replace(" ", "") + "]"
        return _tex_name(name)

    def tex_bar(self, name: str) -> str:
        r"""The adjoint ū = ∂out/∂u of a node in LaTeX: ``\bar{x}``, ``\overline{W_{1}}``."""
        return tex_bar(self.tex(name))

    # --- numbers -------------------------------------------------------------------------
    number = staticmethod(fmt_number)
    value = staticmethod(fmt_value)

    @staticmethod
    def tex_number(x, digits: int = 6) -> str:
        r"""``14``, ``-0.294615``, ``1 \cdot 10^{-9}``, ``\infty``."""
        s = fmt_number(x, digits)
        if s == "nan":
            return "\\mathrm{NaN}"
        if s in ("inf", "-inf"):
            return s.replace("inf", "\\infty")
        if "e" in s:
            mant, exp = s.split("e")
            return f"{mant} \\cdot 10^{{{int(exp)}}}"
        return s

    # --- formulas ------------------------------------------------------------------------
    def operand(self, j: int) -> str:
        """An operand as written inside a formula: a name, or a folded scalar constant's number."""
        node = self.graph.nodes[j]
        if node.kind == "const" and isinstance(node.default, float):
            text = fmt_number(node.default).replace("-", "−")
            return f"({text})" if node.default < 0 else text
        return self.name(node.name)

    def formula(self, node) -> str:
        """The node's operation over its operands, as on paper: ``x²``, ``X·W``, ``‖c‖₂²``, ``0.5·a``.

        >>> import graphviz_bp as gbp
        >>> g = gbp.parse("f = x^2 + x*y + (x + y)^2")
        >>> [g.notation.formula(name) for name in "abcdef"]
        ['x²', 'x·y', 'x + y', 'a + b', 'c²', 'd + e']
        """
        from .ops import OPS
        g = self.graph
        if isinstance(node, str):
            node = g.node(node)
        if node.is_leaf:
            return self.name(node.name) if node.kind != "const" or np.ndim(node.default) else fmt_number(node.default)
        ops = [self.operand(j) for j in node.args]
        if node.op == "pow":
            exp_node = g.nodes[node.args[1]]
            sup = superscript(exp_node.default) if exp_node.kind == "const" and \
                isinstance(exp_node.default, float) else None
            return ops[0] + sup if sup else f"{ops[0]}^{ops[1]}"
        if node.op == "dot":                       # one neuron of the scalar view
            n = len(ops) // 2
            terms = [f"{ops[k]}·{ops[n + k]}" for k in range(n)]
            return " + ".join(terms) if n <= 3 else f"{terms[0]} + … + {terms[-1]}"
        if node.op == "component":                 # one output entry of a tensor op (scalar view)
            inner = OPS[node.params["op"]]
            bases = list(dict.fromkeys(_ELEMENT.sub(r"\1", g.nodes[j].name) for j in node.args))
            try:
                text = inner.formula.format(*map(self.name, bases), **_shown_params(node.params.get("params", {})))
            except (IndexError, KeyError):
                text = f"{inner.name}(…)"
            pos = node.params.get("position", ())
            return text + (f"[{','.join(map(str, pos))}]" if pos else "")
        text = node.fn.formula.format(*ops, **_shown_params(node.params))
        if node.params.get("stride", 1) != 1:
            text += f" (stride {node.params['stride']})"
        return text

    def expr(self, text: str) -> str:
        """A SymPy expression string as on paper: ``2*c`` → ``2c``, ``x**2`` → ``x²``,
        ``step(a1)`` → ``1{a₁ > 0}``, ``Abs(x)`` → ``|x|``, ``lambda`` → ``λ``, ``0.500000`` → ``0.5``.

        >>> nt = Notation()
        >>> nt.expr("2*c"), nt.expr("(1 - sigmoid(a))*sigmoid(a)"), nt.expr("step(a1)"), nt.expr("0.500000000000000*x")
        ('2c', '(1 − σ(a))·σ(a)', '1{a₁ > 0}', '0.5x')
        """
        s = text.replace("**", "^")
        for fn, (left, right) in (("step(", ("1{", " > 0}")), ("Abs(", ("|", "|"))):
            while fn in s:
                i = s.index(fn)
                j = _match_paren(s, i + len(fn) - 1)
                s = s[:i] + left + s[i + len(fn):j] + right + s[j + 1:]
        s = re.sub(r"(?<![\w.])\d+\.\d+(?:e[+-]?\d+)?", lambda m: fmt_number(float(m.group(0)), 6), s)
        s = re.sub(r"\^(-?\d+)(?![\d.])", lambda m: m.group(1).translate(_POWER), s)
        s = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)\*(?=[A-Za-z_(\u0370-\u03ff])", r"\1", s)   # 2*c -> 2c
        s = s.replace("*", "·").replace(" - ", " − ")
        s = re.sub(r"^-", "−", s)
        s = re.sub(r"(?<=[(\s·])-", "−", s)
        shown = _shown_functions()
        return _IDENT.sub(lambda m: shown.get(m.group(0)) or self.name(m.group(0)), s)

    def source(self, src: str) -> str:
        """A statement's source text as on paper: ``||X*W - Y||_2^2 + lambda*||W||_1`` → ``‖X·W − Y‖₂² + λ·‖W‖₁``.

        >>> Notation().source("x^2 + x*y + (x + y)^2")
        'x² + x·y + (x + y)²'
        """
        sub = str.maketrans("0123456789p", "₀₁₂₃₄₅₆₇₈₉ₚ")

        def norm(m):
            inner, p, k = m.group(1), m.group(2), m.group(3)
            return "‖" + inner + "‖" + (p.translate(sub) if p else "") + (k.translate(_POWER) if k else "")
        s = _SRC_NORM.sub(norm, src)
        s = re.sub(r"\^\s*(\d+)(?![\d.])", lambda m: m.group(1).translate(_POWER), s)
        s = re.sub(r"\s*\*\*?\s*", "·", s).replace(" - ", " − ").replace("@", " @ ")
        s = re.sub(r"\s+@\s+", " @ ", s)
        s = re.sub(r"(?<=[(\s·=])-(?=[\w(])", "−", s)
        s = re.sub(r"^-", "−", s)
        functions, shown = _function_spellings(), _shown_functions()
        return _IDENT.sub(lambda m: m.group(0) if m.group(0) in functions and m.group(0) not in shown
                          or m.group(0) in ("T", "stride") else shown.get(m.group(0)) or self.name(m.group(0)), s)


def _shown_params(params: dict) -> dict:
    out = dict(params)
    if "index" in out:
        idx = out["index"]
        out["index"] = ", ".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)
    if "p" in out:
        out["p"] = fmt_number(out["p"])
    return out


@functools.lru_cache(maxsize=1)
def _shown_functions() -> dict:
    """Function names in SymPy/notation text → as drawn (``sigmoid`` → ``σ``), from the op table."""
    from .ops import OPS
    shown = {op.spellings[0]: op.shown for op in OPS.values() if op.shown and op.spellings}
    shown.update(Max="max", Min="min", Heaviside="H", sqrt="√")   # SymPy's own names
    return shown


@functools.lru_cache(maxsize=1)
def _function_spellings() -> frozenset:
    from .ops import FUNCTIONS
    return frozenset(FUNCTIONS)


def _tex_name(name: str) -> str:
    m = _TEX_NAME.match(name)
    if m and m.group(1):
        base, sub = m.group(1), m.group(2)
    elif "_" in name[1:]:
        base, sub = name.split("_", 1) if not name.startswith("_") else (name, "")
    else:
        base, sub = name, ""
    hat = base.endswith("hat") and len(base) > 3
    if hat:
        base = base[:-3]
    if base in _GREEK_TEX:
        out = _GREEK_TEX[base]
    elif len(base) == 1:
        out = UNICODE_TEX.get(base, base)
    else:
        out = "\\mathit{" + "".join(UNICODE_TEX.get(ch, ch) for ch in base).replace("_", "\\_") + "}"
    if hat:
        out = "\\hat{" + out + "}"
    if sub:
        out += "_{" + (sub if sub.isdigit() or len(sub) == 1 else "\\mathrm{" + sub.replace("_", "\\_") + "}") + "}"
    return out
