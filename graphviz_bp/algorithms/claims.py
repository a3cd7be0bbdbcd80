"""Reading a claim for :mod:`graphviz_bp.algorithms.prove`: text → two SymPy sides.

The sides go through the project's readers (:func:`graphviz_bp.reading.parser.parse_program` for the
plain notation, :func:`graphviz_bp.reading.latex.translate` for LaTeX); only what the readers do not
take is read here, and replaced by a placeholder name before they see the side:

* ``f'(x)``, ``\\sigma'(x)``, ``\\frac{d}{dx} …``, ``\\frac{d \\ln f(t)}{dt}``, ``d/dx(…)`` (derivatives);
* ``f(-t)`` for a function ``f(t) = …`` defined earlier in the same text;
* indicators ``1[x > 0]``, ``\\mathbb{1}_{\\{x > 0\\}}(x)``; ``\\tanh^2(x)``; ``\\ln \\sigma(x)``.

σ, softplus and ReLU stay opaque SymPy functions until the proof expands their definitions
(:data:`DEFINITIONS`), so the chain can show that step.
"""
from __future__ import annotations

import re
import threading

from ..core.errors import InputError, LimitError
from ..core.limits import check_deadline, current as current_limits

_MAX_OPS = 400              # SymPy operations in one side before the rewriting gives up
_PH = "zq"                  # placeholder names for the constructs read here (f'(x), 1[x>0], …)

# --- SymPy vocabulary --------------------------------------------------------------------------

def _sp():
    import sympy
    return sympy


_FN = {}


def fn(name):
    """Opaque SymPy functions σ, softplus, ReLU and the indicator: kept as written until the
    definitions are expanded (SymPy's own would rewrite them at once)."""
    if not _FN:
        sp = _sp()
        for n in ("sigma", "softplus", "relu"):
            _FN[n] = sp.Function(n, real=True)
    return _FN[name]


def indicator(cond):
    """1{cond} as a Piecewise."""
    sp = _sp()
    return sp.Piecewise((sp.Integer(1), cond), (sp.Integer(0), True))


def builtin(name):
    """The SymPy form (before definitions) of a function the notation knows, or None."""
    sp = _sp()
    table = {"sigmoid": fn("sigma"), "σ": fn("sigma"), "sigma": fn("sigma"), "softplus": fn("softplus"),
             "relu": fn("relu"), "ReLU": fn("relu"), "rect": fn("relu"), "tanh": sp.tanh, "exp": sp.exp,
             "log": sp.log, "ln": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "abs": sp.Abs,
             "sign": sp.sign}
    return table.get(name)


DEFINITIONS = {
    "sigma": ("σ(u) = 1/(1 + e^{−u})", lambda sp, u: 1 / (1 + sp.exp(-u))),
    "softplus": ("softplus(u) = ln(1 + e^u)", lambda sp, u: sp.log(1 + sp.exp(u))),
    "tanh": ("tanh(u) = (e^u − e^{−u})/(e^u + e^{−u})",
             lambda sp, u: (sp.exp(u) - sp.exp(-u)) / (sp.exp(u) + sp.exp(-u))),
    "relu": ("ReLU(u) = u·1{u > 0}", lambda sp, u: sp.Piecewise((u, u > 0), (0, True))),
    "sign": ("sign(u) = 1{u > 0} − 1{u < 0}", lambda sp, u: indicator(u > 0) - indicator(u < 0)),
}


def expand_definitions(e, with_sign=False):
    """``(expr, [definitions used])`` with σ, softplus, tanh, ReLU (and sign) written out."""
    sp = _sp()
    used = []
    reps = {}
    for f in sorted(e.atoms(sp.Function), key=sp.count_ops):
        key = f.func.__name__ if f.func.__name__ in DEFINITIONS else None
        if key == "sign" and not with_sign:
            key = None
        if key:
            text, rule = DEFINITIONS[key]
            reps[f] = rule(sp, f.args[0])
            if text not in used:
                used.append(text)
    if not reps:
        return e, used
    out = e
    for _ in range(4):                  # nested: σ(tanh(x)) needs two passes
        out = out.xreplace(reps)
        more = {f: DEFINITIONS[f.func.__name__][1](sp, f.args[0]) for f in out.atoms(sp.Function)
                if f.func.__name__ in DEFINITIONS and (with_sign or f.func.__name__ != "sign")}
        if not more:
            break
        reps = more
    return out, used


# --- reading a claim -------------------------------------------------------------------------

_REL = re.compile(r"\\(?:geq|leq|ge|le|gt|lt|neq|ne)(?![A-Za-z])|>=|<=|≥|≤|=|<|>")
_REL_NAME = {"\\geq": ">=", "\\ge": ">=", "\\leq": "<=", "\\le": "<=", "\\gt": ">", "\\lt": "<",
             "≥": ">=", "≤": "<=", "\\neq": "!=", "\\ne": "!="}
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_PROSE = re.compile(r"^\s*(?:(?:\d+|[a-zа-яё])[.)]\s+)?(?:(?:show|prove|verify|check|montrer|montrez|démontrer|"
                    r"démontrez|докажите|покажите)\b[^=]*?\b(?:that|que|что)\b|[^=:$\\]+:)?\s*", re.I)
_HEADER = re.compile(r"^\s*(\\?[A-Za-zσ][A-Za-z0-9_]*)\s*(?:\\left)?\(\s*([A-Za-z](?:\s*,\s*[A-Za-z])*)\s*"
                     r"(?:\\right)?\)\s*$")


def _top_level(text, pattern):
    """Matches of ``pattern`` outside (), [], {}."""
    depth, out = 0, []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            m = pattern.match(text, i)
            if m:
                out.append(m)
                i = m.end()
                continue
        i += 1
    return out


def split_equations(text: str):
    """The text's equations as (left, relation, right) strings, in order, and whether it is LaTeX.

    Line by line: the math spans of a line (``$…$``, ``$$…$$``, ``\\[…\\]``) when one holds a
    relation, else the whole line with its ``$`` signs dropped (``Montrer que sigmoid(x) = $\\frac…$``);
    leading prose up to "show that" / "montrer que" / "докажите, что" is dropped."""
    from ..reading.latex import looks_like_latex
    latex = looks_like_latex(text)
    pieces = []
    for block in _split_display(text):
        spans = [next(g for g in m.groups() if g is not None) for m in _MATH.finditer(block)]
        if spans and any(_top_level(sp_, _REL) for sp_ in spans):
            pieces += [p for piece in spans for p in re.split(r"\\\\|;|\\quad|\\qquad|\n", piece)]
        else:
            pieces += re.split(r"[\n;]", _MATH.sub(lambda m: next(g for g in m.groups() if g is not None), block))
    eqs = []
    for raw in pieces:
        piece = _PROSE.sub("", _PROSE.sub("", raw.strip()).strip()).strip().rstrip(".,").strip()
        if not piece:
            continue
        rels = _top_level(piece, _REL)
        if not rels:
            continue
        gaps = [piece[a.end():b.start()] for a, b in zip(rels, rels[1:])]
        if any(not g_.strip() for g_ in gaps):
            raise InputError(f"{_clip(piece)!r}: nothing between two relation signs", kind="syntax")
        if len(rels) > 1 and all(m.group() == "=" for m in rels):   # a = b = c: the claim is a = c
            left, right = piece[:rels[0].start()], piece[rels[-1].end():]
        else:
            m = rels[0]
            left, right = piece[:m.start()], piece[m.end():]
            if len(rels) > 1:
                right = piece[m.end():rels[1].start()]
        rel = _REL_NAME.get(rels[0].group(), rels[0].group())
        eqs.append((left.strip(), rel, right.strip()))
    return eqs, latex


def _split_display(text):
    """Lines, except that a ``$$…$$`` or ``\\[…\\]`` display spanning lines stays one block."""
    out, buf, open_ = [], [], False
    for line in text.split("\n"):
        buf.append(line)
        open_ ^= (line.count("$$") + line.count("\\[") + line.count("\\]")) % 2 == 1
        if not open_:
            out.append("\n".join(buf))
            buf = []
    if buf:
        out.append("\n".join(buf))
    return out


def read_claim(text: str, syntax: str = "auto"):
    """``(lhs, relation, rhs, definitions, latex, e_variable)``.

    ``f(t) = …`` lines define functions (a name the notation does not know, with its variables);
    the claim is the first other equation (what follows it, e.g. a pasted worked solution, is not
    read), or the last line when every line is a definition.  ``e_variable`` says why the claim's
    ``e`` is a variable (``f(e) = …`` above, ``d/de``), or is None: then ``e`` is Euler's number."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("no claim: write it as LHS = RHS, e.g. sigmoid(-t) = 1 - sigmoid(t)", kind="usage")
    if len(text) > 5000:
        raise InputError("a claim of more than 5000 characters is not read", kind="limit")
    eqs, latex = split_equations(text)
    if syntax == "latex":
        latex = True
    elif syntax == "plain":
        latex = False
    if not eqs:
        raise InputError(f"not an equation: {_clip(text)!r}; write the claim as LHS = RHS", kind="usage")
    definitions = {}
    claim = eqs[-1]
    for k, (left, rel, right) in enumerate(eqs):
        m = _HEADER.match(left)
        defines = m and rel == "=" and right and builtin(_fname(m.group(1))) is None
        if not defines or k == len(eqs) - 1:
            claim = (left, rel, right)
            break
        params = [p.strip() for p in m.group(2).split(",")]
        own = e_as_variable([eqs[k]])               # f(e) = e^2: e is f's variable in its body
        definitions[_fname(m.group(1))] = (params, _side(right, latex, definitions, own))
    left, rel, right = claim
    e_variable = e_as_variable(eqs[:eqs.index(claim) + 1])     # the lines read: definitions and claim
    if not left or not right:
        raise InputError(f"the claim {_clip(left + ' ' + rel + ' ' + right)!r} has an empty side", kind="usage")
    if rel == "!=":
        raise InputError("a claim with ≠ is not read; write LHS = RHS", kind="usage")
    return left, rel, right, definitions, latex, e_variable


def _fname(head: str) -> str:
    head = head.lstrip("\\")
    return "sigmoid" if head in ("sigma", "σ") else head


def _clip(text, n=70):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


# the constructs read here before the readers see a side
_FUNC_HEAD = re.compile(r"(?:\\(?:operatorname|mathrm|text)\s*\{\s*([A-Za-z]+)\s*\}|\\([A-Za-z]+)|"
                        r"(?<![A-Za-z\\])([A-Za-zσ][A-Za-z0-9]*))"
                        r"(\s*(?:'+|\^\s*\{?\s*\\prime\s*\}?))?"
                        r"(\s*\^\s*(?:\{\s*\d+\s*\}|\d))?"
                        r"\s*(?=\\left\s*\(|\()")
_DFRAC = re.compile(r"\\(?:d|t)?frac\s*\{\s*(?:d|\\partial|\\mathrm\{d\})\s*(?P<num>(?:[^{}]|\{[^{}]*\})*?)\s*\}"
                    r"\s*\{\s*(?:d|\\partial|\\mathrm\{d\})\s*(?P<var>[A-Za-z])\s*\}")
_PLAIN_D = re.compile(r"(?<![A-Za-z])d\s*/\s*d\s*(?P<var>[A-Za-z])\b")
_IND = re.compile(r"(?:\\mathbb\s*\{\s*1\s*\}|\\mathbf\s*\{\s*1\s*\}|𝟙|(?<![\w.])1)\s*"
                  r"(?:_\s*\{\s*(?:\\\{)?(?P<c1>[^{}]*?)(?:\\\})?\s*\}|\[(?P<c2>[^\[\]]*?)\]|"
                  r"\\?\{(?P<c3>[^{}]*?)\\?\})(?P<call>\s*\(\s*[A-Za-z]\s*\))?")
_POWER = re.compile(r"\^\s*(?:\{\s*(\d+)\s*\}|(\d))")


def _group_end(text, i):
    """Index just after the balanced group opening at text[i] ('(' or '\\left(')."""
    depth = 0
    while i < len(text):
        if text.startswith("\\left", i):
            i += 5
            continue
        if text.startswith("\\right", i):
            i += 6
            continue
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise InputError(f"unbalanced parentheses in {_clip(text)!r}", kind="syntax")


def _inner(group: str) -> str:
    g = group.strip()
    if g.startswith("\\left"):
        g = g[5:].strip()
    g = g[1:-1]
    if g.rstrip().endswith("\\right"):
        g = g.rstrip()[:-6]
    return g


class _Side:
    """Reads one side: special constructs become placeholders, the rest goes to the readers."""

    def __init__(self, latex, definitions, e_variable=None):
        self.latex, self.definitions, self.values = latex, definitions, {}
        self.e_variable = e_variable        # why e is a variable here (f(e) = …), or None: Euler's number

    def placeholder(self, value) -> str:
        name = f"{_PH}{len(self.values) + 1}"
        self.values[name] = value
        return f"\\mathrm{{{name}}}" if self.latex else name

    def function(self, name: str, deriv: int):
        """``u -> SymPy`` for a function the text names: defined above, or one the notation knows."""
        sp = _sp()
        name = _fname(name)
        if name in self.definitions:
            params, body = self.definitions[name]
            if len(params) != 1 and deriv:
                raise InputError(f"{name}' of a function of {len(params)} variables: write the partial "
                                 f"derivative instead", kind="usage")
            var = sp.Symbol(params[0], real=True)
            target = body
        else:
            f = builtin(name)
            if f is None:
                return None
            var = sp.Dummy("u", real=True)
            target = f(var)
        if deriv:
            target = sp.Derivative(target, (var, deriv))

        def apply(*args):
            if name in self.definitions and len(args) != len(self.definitions[name][0]):
                raise InputError(f"{name} takes {len(self.definitions[name][0])} argument(s), "
                                 f"got {len(args)}", kind="usage")
            if name in self.definitions and len(args) > 1:
                syms = [sp.Symbol(p, real=True) for p in self.definitions[name][0]]
                return target.xreplace(dict(zip(syms, args)))
            if len(args) != 1:
                raise InputError(f"{name} takes 1 argument, got {len(args)}", kind="usage")
            (a,) = args
            if deriv:       # f'(x): the derivative in x itself; f'(-t): at -t (a Subs)
                return target.xreplace({var: a}) if a.is_Symbol else sp.Subs(target, var, a)
            return target.xreplace({var: a})
        return apply

    def rewrite(self, text: str) -> str:
        sp = _sp()
        text = text.strip()
        # d/dx … and \frac{d …}{dx}: the operand is the numerator, or what follows
        m = _DFRAC.search(text) if self.latex else _PLAIN_D.search(text)
        if m:
            var = sp.Symbol(m.group("var"), real=True)
            num = re.sub(r"\\[ ,;:!]", " ", m.group("num") or "").strip() if self.latex else ""
            rest = text[m.end():]
            head = re.match(r"^\\?([A-Za-zσ]+)$", num) or re.match(r"^\\(?:operatorname|mathrm|text)\{(\w+)\}$",
                                                                    num)
            if head and rest.lstrip().startswith(("(", "\\left")):   # \frac{d σ}{dx}(x): σ'(x)
                f = self.function(head.group(1), 1)
                if f is not None:
                    start = len(rest) - len(rest.lstrip())
                    end = _group_end(rest, start)
                    arg = self.expr(_inner(rest[start:end]))
                    return text[:m.start()] + self.placeholder(f(arg)) + self.rewrite(rest[end:])
            operand = num if num else rest
            tail = "" if not num else rest
            if not operand.strip():
                raise InputError(f"nothing to differentiate after {m.group()!r}", kind="syntax")
            value = sp.Derivative(self.expr(operand), var)
            return self.rewrite(text[:m.start()]) + self.placeholder(value) + self.rewrite(tail)
        # indicators 1[x > 0], \mathbb{1}_{\{x > 0\}}(x)
        m = _IND.search(text)
        if m and any(m.group(k) and _REL.search(m.group(k)) for k in ("c1", "c2", "c3")):
            cond = next(m.group(k) for k in ("c1", "c2", "c3") if m.group(k))
            (left, rel, right), = [(a, r, b) for a, r, b in [self._relation(cond)]]
            value = indicator(_relational(sp, rel, self.expr(left), self.expr(right)))
            return self.rewrite(text[:m.start()]) + self.placeholder(value) + self.rewrite(text[m.end():])
        # function calls that need reading here: defined above, primed, powered, or after \ln
        for m in _FUNC_HEAD.finditer(text):
            name = m.group(1) or m.group(2) or m.group(3)
            primes = m.group(4) or ""
            deriv = primes.count("'") + primes.count("prime")
            power = m.group(5)
            known = _fname(name) in self.definitions
            if not (known or deriv or power):
                continue
            f = self.function(name, deriv)
            if f is None:
                if name in ("left", "right", "frac", "mathrm", "operatorname", "text"):
                    continue
                raise InputError(f"{name!r} is not a function defined above nor one the notation knows; "
                                 f"define it first, e.g. {name}(t) = …", kind="name")
            start = m.end()
            end = _group_end(text, start)
            args = [self.expr(a) for a in _split_args(_inner(text[start:end]))]
            value = f(*args)
            if power:
                pm = _POWER.match(power.strip())
                value = value ** int(pm.group(1) or pm.group(2))
            return text[:m.start()] + self.placeholder(value) + self.rewrite(text[end:])
        # \ln \sigma(x): the readers want \ln(\sigma(x))
        m = re.search(r"\\(ln|log|exp)\s*(?=(?:\\[A-Za-z]+|[A-Za-z]{2,})\s*\(|\\operatorname|\\mathrm)", text) \
            if self.latex else None
        if m:
            rest = text[m.end():]
            call = _FUNC_HEAD.match(rest)
            if call:
                end = _group_end(rest, call.end())
                return text[:m.end()] + "(" + rest[:end] + ")" + self.rewrite(rest[end:])
        return text

    def _relation(self, cond):
        rels = _top_level(cond, _REL)
        if len(rels) != 1:
            raise InputError(f"an indicator needs one comparison, e.g. 1[x > 0]: {_clip(cond)!r}", kind="syntax")
        r = rels[0]
        return cond[:r.start()], _REL_NAME.get(r.group(), r.group()), cond[r.end():]

    def expr(self, text: str):
        """The SymPy expression of ``text`` (one side or part of one)."""
        check_deadline("reading the claim")
        sp = _sp()
        if self.e_variable is None:         # e^t/(1 + e^t): Euler's number, said in a note
            text = _sub_lone_e(text, self.latex, lambda: self.placeholder(sp.E))
        rewritten = self.rewrite(text)
        if self.e_variable is not None and self.latex:
            # the LaTeX reader takes e^{…} as exp(…); here e is a variable, so it gets a name of
            # its own (after the rewriting, which has read \frac{d}{de} by then)
            if _TEX_GLUED_E_POWER.search(_TEX_SKIP.sub(" ", rewritten)):
                raise InputError(f"in {_clip(text)!r}, e is a variable ({self.e_variable}) but e^… glued to "
                                 f"other letters reads as Euler's number: put a space or \\cdot before e",
                                 kind="usage")
            rewritten = _sub_lone_e(rewritten, True, lambda: self.placeholder(sp.Symbol("e", real=True)))
        value = _to_sympy(rewritten, self.latex, self.values)
        if self.e_variable is None and getattr(value, "free_symbols", set()) & {sp.Symbol("e", real=True)}:
            # the LaTeX reader splits xe into x·e with e a variable, while a lone e is Euler's number
            raise InputError(f"in {_clip(text)!r}, an e glued to other letters could be Euler's number or "
                             f"a variable: write x e or x \\cdot e for Euler's number, a variable with "
                             f"another letter", kind="usage")
        return value


# Euler's number in a claim: a lone e, e.g. e^t, 2e^x, e*x, (in LaTeX also \mathrm{e}); never a name
# like exp or e1, the e of 1e-3, a call e(…) or a primed e'(…) in plain text, a subscript x_e.
_EULER = re.compile(r"(?<=[0-9])()e(?![A-Za-z0-9_('′+-])"         # 2e^x (group 1: after a digit; not 1e-3)
                    r"|(?<![A-Za-z0-9_.])e(?![A-Za-z0-9_('′])")
_TEX_SKIP = re.compile(r"\\(?:mathrm|operatorname|text|textrm|mathit|mbox)\s*\{[^{}]*\}"   # a name in braces
                       r"|\\[A-Za-z]+|_\s*(?:\{[^{}]*\}|[A-Za-z0-9])"                # a command, a subscript
                       r"|[0-9.]+e[+-]?[0-9]+")                                            # 1e-3
_TEX_E = re.compile(r"(?P<upright>\\(?:mathrm|operatorname|text|textrm)\s*\{\s*e\s*\})|" + _TEX_SKIP.pattern
                    + r"|(?P<run>[A-Za-z]+)")
_TEX_GLUED_E_POWER = re.compile(r"[A-Za-z]e\s*\^")
_E_DERIVATIVE = re.compile(r"(?<![A-Za-z])d\s*/\s*d\s*e(?![A-Za-z0-9_])"                      # d/de
                           r"|\{\s*(?:d|\\partial|\\mathrm\{d\})\s*e\s*\}")              # \frac{d}{de}


def _sub_lone_e(text: str, latex: bool, name) -> str:
    """``text`` with each lone e replaced by ``name()`` (a placeholder)."""
    if not latex:
        return _EULER.sub(lambda m: ("*" if m.group(1) is not None else "") + name(), text)
    return _TEX_E.sub(lambda m: name() if m.group("upright") or m.group("run") == "e" else m.group(), text)


def uses_euler(text: str, latex: bool = False) -> bool:
    """Whether a claim writes Euler's number as ``e`` (``e^t``, ``2e^x``): a student means
    e = 2.718…, so a claim reads it so (with a note) rather than as a variable that can be anything.
    In LaTeX the reader also takes an ``e^…`` glued to other letters (``xe^x``) as Euler's number."""
    if not latex:
        return _EULER.search(text) is not None
    return any(m.group("upright") or m.group("run") == "e" for m in _TEX_E.finditer(text)) or \
        _TEX_GLUED_E_POWER.search(_TEX_SKIP.sub(" ", text)) is not None


def e_as_variable(eqs):
    """Why ``e`` is a variable in a claim, or None (then a lone e is Euler's number): a function
    defined with a variable e (``f(e) = e^2``) or a derivative in e (``d/de``, ``\\frac{d}{de}``)."""
    for left, rel, right in eqs:
        m = _HEADER.match(left)
        if m and rel == "=" and "e" in [p.strip() for p in m.group(2).split(",")]:
            return f"{m.group(1)}({m.group(2)}) = … names it"
        if any(_E_DERIVATIVE.search(part) for part in (left, right)):
            return "the derivative in e names it"
    return None


def e_note(text: str, latex: bool, e_variable) -> str | None:
    """The one-line note on how a claim's e was read, or None when it has no e."""
    if e_variable is not None:
        return f"read as: e is a variable ({e_variable}), not Euler's number"
    if uses_euler(text, latex):
        return "read as: e is Euler's number 2.71828… (a variable needs another letter)"
    return None


def _split_args(text):
    cuts = [m.start() for m in _top_level(text, re.compile(","))]
    out, last = [], 0
    for c in cuts:
        out.append(text[last:c])
        last = c + 1
    out.append(text[last:])
    return out


def _relational(sp, rel, a, b):
    return {"=": sp.Eq, "<": sp.Lt, ">": sp.Gt, "<=": sp.Le, ">=": sp.Ge}[rel](a, b)


def _side(text, latex, definitions, e_variable=None):
    return _Side(latex, definitions, e_variable).expr(text)


def _to_sympy(text: str, latex: bool, values: dict):
    """One expression through the project's readers, then to SymPy (placeholders put back)."""
    from ..core.graph import build
    from ..reading.parser import parse_program
    target = "zqresult"
    limits = current_limits()
    try:
        # a placeholder stands for a value, never a function: zq1(1 - …) and f(t)(1 - f(t)) are products
        if latex:
            from ..reading.latex import translate
            text = re.sub(rf"(\\mathrm\{{{_PH}\d+\}})\s*(?=\(|\\left)", r"\1 \\cdot ", text)
            program = translate(f"\\( {target} = {text} \\)").program
        else:
            text = re.sub(rf"\b({_PH}\d+)\s*\(", r"\1*(", text)
            text = re.sub(r"\)\s*\(", ")*(", text)
            program = f"{target} = {text}"
        g = build(parse_program(program, limits), program, limits, output=target)
    except LimitError:
        raise
    except InputError as exc:     # the position is in the reader's copy of one side: name the side instead
        shown = re.sub(rf"\\mathrm\{{({_PH}\d+)\}}|({_PH}\d+)", lambda m: _shown(values.get(m.group(1) or m.group(2))),
                       text)
        hint = ""
        m = re.search(r"unknown function '(\w+)'", exc.message)
        if m:
            hint = f"; define it first, e.g. {m.group(1)}(t) = …"
        raise InputError(f"in {_clip(shown)!r}: {exc.message}{hint}", kind=exc.kind) from None
    return graph_to_sympy(g, values, vector_size=getattr(_VEC, "n", None))


def _shown(value) -> str:
    """A placeholder in a message: e as e, anything else as … (never the internal name)."""
    sp = _sp()
    return "e" if value in (sp.E, sp.Symbol("e", real=True)) else "…"


def graph_to_sympy(g, values=None, vector_size=None):
    """The output of ``g`` as SymPy, σ/softplus/ReLU kept as opaque functions.

    Inputs are real symbols (``values`` replaces placeholders).  A tensor op (softmax,
    logsumexp, sum, index, norms) makes its input a vector of ``vector_size`` symbols."""
    sp = _sp()
    values = values or {}
    vals = {}
    vectors = _vector_inputs(g) | getattr(_VEC, "names", set())   # a vector on one side is one on both
    for node in g.nodes[:g._output + 1]:
        i = node.index
        if node.kind == "const":
            v = node.default
            if isinstance(v, float):
                vals[i] = sp.Integer(int(v)) if v.is_integer() else sp.nsimplify(repr(v), rational=True)
            else:
                vals[i] = sp.Matrix(v.tolist()) if getattr(v, "ndim", 0) == 2 else \
                    sp.Matrix([sp.nsimplify(repr(float(t)), rational=True) for t in v.ravel()])
            continue
        if node.is_leaf:
            if node.name in values:
                vals[i] = values[node.name]
            elif node.name in vectors:
                if vector_size is None:
                    raise _Vector(node.name)
                vals[i] = sp.Matrix([sp.Symbol(f"{node.name}_{k}", real=True) for k in range(vector_size)])
            elif isinstance(node.default, float):
                vals[i] = sp.nsimplify(repr(node.default), rational=True)
            else:
                vals[i] = sp.Symbol(node.name, real=True)
            continue
        vals[i] = _apply(sp, node, [vals[j] for j in node.args])
        if not isinstance(vals[i], sp.MatrixBase) and sp.count_ops(vals[i]) > _MAX_OPS:
            raise LimitError(f"the claim's expression grows past {_MAX_OPS} operations")
    return vals[g._output]


class _Vector(Exception):
    """The claim has vector inputs: read it again with explicit components."""


_TENSOR_OPS = {"softmax", "logsumexp", "sum", "mean", "index", "sqnorm2", "norm1", "norm2", "dot"}


def _vector_inputs(g):
    return {g.nodes[j].name for n in g.nodes if n.op in _TENSOR_OPS for j in n.args
            if g.nodes[j].kind == "input" and g.nodes[j].default is None}


def _apply(sp, node, a):
    op = node.op
    if any(isinstance(x, sp.MatrixBase) for x in a):
        return _apply_tensor(sp, node, a)
    binary = {"add": lambda p, q: p + q, "sub": lambda p, q: p - q, "mul": lambda p, q: p * q,
              "div": lambda p, q: p / q, "pow": lambda p, q: p ** q,
              "maximum": sp.Max, "minimum": sp.Min}
    if op in binary:
        return binary[op](*a)
    if op == "neg":
        return -a[0]
    f = builtin(op)
    if f is not None:
        return f(a[0])
    if op == "sigmoid":
        return fn("sigma")(a[0])
    if op in ("sum", "mean"):
        return a[0]
    raise InputError(f"{node.src!r}: {op} is not read in a claim (scalar functions and softmax, "
                     f"logsumexp, sum, indexing of vectors are)", kind="usage")


def _apply_tensor(sp, node, a):
    op = node.op
    M = [x if isinstance(x, sp.MatrixBase) else None for x in a]
    if node.fn is not None and node.fn.kind == "elementwise":
        shape = next(m.shape for m in M if m is not None)
        full = [x if isinstance(x, sp.MatrixBase) else sp.Matrix(*shape, lambda i, j: x) for x in a]
        if any(f.shape != shape for f in full):
            raise InputError(f"{node.src!r}: vectors of different lengths", kind="shape")
        scalar = node.__class__(node.index, node.name, op, node.args, node.params, node.kind, node.default,
                                node.src, node.line, node.column)
        return sp.Matrix(*shape, lambda i, j: _apply(sp, scalar, [f[i, j] for f in full]))
    x = a[0]
    if op == "sum":
        return sum(x, sp.Integer(0))
    if op == "mean":
        return sum(x, sp.Integer(0)) / len(x)
    if op == "softmax":
        e = x.applyfunc(sp.exp)
        return e / sum(e, sp.Integer(0))
    if op == "logsumexp":
        return sp.log(sum(x.applyfunc(sp.exp), sp.Integer(0)))
    if op == "sqnorm2":
        return sum((t ** 2 for t in x), sp.Integer(0))
    if op == "norm1":
        return sum((sp.Abs(t) for t in x), sp.Integer(0))
    if op == "index":
        idx = node.params["index"]
        idx = idx if isinstance(idx, tuple) else (idx,)
        return x[idx[0]] if len(idx) == 1 else x[idx]
    raise InputError(f"{node.src!r}: {op} is not read in a claim", kind="usage")


_VEC = threading.local()       # the vector length while a vector claim is read
