r""""Show that LHS = RHS": a verdict with the chain of rewrites a student would write.

:func:`prove` reads a claim (plain notation or LaTeX), turns both sides into SymPy
expressions through the project's readers, and rewrites both sides by the same
stages until they meet:

1. the definitions expanded: σ(u) = 1/(1 + e^{−u}), softplus(u) = ln(1 + e^u),
   tanh(u) = (e^u − e^{−u})/(e^u + e^{−u}), ReLU and, when the claim uses indicators,
   sign(u) = 1{u > 0} − 1{u < 0};
2. the derivatives taken (d|u|/du = sign(u), with abs'(0) = 0 as the sheets write it);
3. the log rules (ln(ab) = ln a + ln b, ln(1/a) = −ln a, ln e^a = a);
4. the exp rules (e^a·e^b = e^{a+b});
5. "let u = e^{x/k}" when every exponential is e^{c·x} of one variable: the sides become
   rational in u;
6. a common denominator and the common factor cancelled;
7. SymPy's ``simplify`` of the difference, or a proof by cases (x > 0, x = 0, x < 0) for
   piecewise sides.

The verdict is ``proved`` (with that chain), ``holds numerically`` (no chain found, but both
sides agree at every test point) or ``false`` (a counterexample).  Every verdict is guarded by
numbers: both sides *as read* (derivatives by mpmath's numerical differentiation, not by
SymPy) are compared at 60-digit precision at ~50 points, including 0, ±1 and large |x|
(±30, ±100).  A chain the numbers contradict is reported as ``false``, never as proved.

Accepted: ``f'(x)``, ``\sigma'(x)``, ``\frac{d}{dx} f(x)``, ``\frac{d \ln f(t)}{dt}``,
``d/dx(…)``, ``f(-t)`` for a function ``f(t) = …`` defined earlier in the same text,
indicators ``1[x > 0]`` / ``\mathbb{1}_{\{x > 0\}}``, ``\tanh^2(x)``, ``\ln \sigma(x)``, and
the relations ``<``, ``>``, ``\le``, ``\ge`` (checked numerically only).  Vector claims
(``sum(softmax(o)) = 1``) are checked numerically with vectors of 2 to 6 entries.
"""
from __future__ import annotations

import contextlib
import random
import re
import signal
import threading
from dataclasses import dataclass, field

from ..core.errors import InputError, LimitError
from ..core.limits import check_deadline, current as current_limits

DPS = 60                    # digits of the numeric check: 1 − σ(100) keeps 16 digits
_TOL = 1e-20                # |L − R| ≤ tol·(1 + |L| + |R|) at 60 digits
_MAX_OPS = 400              # SymPy operations in one side before the rewriting gives up
_PH = "zq"                  # placeholder names for the constructs read here (f'(x), 1[x>0], …)

STATUSES = ("proved", "holds numerically", "false")


# --- results ---------------------------------------------------------------------------------

@dataclass
class Step:
    """One link of the chain: ``= expr`` with the rule used (``note``) to get there; ``side`` says
    whether the rule rewrote the left side forwards or the right side (read backwards)."""
    expr: object
    note: str
    side: str = "left"


@dataclass
class Verdict:
    """The answer to "show that LHS = RHS"."""
    status: str                          # proved | holds numerically | false
    claim: str                           # the claim as read, in the plain notation
    lhs: object                          # SymPy expressions as read
    rhs: object
    relation: str = "="
    chain: list = field(default_factory=list)     # Step list from LHS to RHS (proved only)
    variables: list = field(default_factory=list)
    points: int = 0                      # test points where both sides were defined
    counterexample: dict | None = None   # {"at": {x: value}, "lhs": v, "rhs": v}
    max_difference: float = 0.0
    definitions: dict = field(default_factory=dict)  # f -> (vars, expr) read from the text
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "false"

    def to_json(self) -> dict:
        return {"status": self.status, "claim": self.claim, "relation": self.relation,
                "lhs": str(self.lhs), "rhs": str(self.rhs),
                "chain": [{"expr": str(s.expr), "note": s.note, "side": s.side} for s in self.chain],
                "variables": self.variables, "points": self.points,
                "counterexample": self.counterexample, "max_difference": self.max_difference,
                "note": self.note}


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
    """``(lhs, relation, rhs, definitions, latex)``.

    ``f(t) = …`` lines define functions (a name the notation does not know, with its variables);
    the claim is the first other equation (what follows it, e.g. a pasted worked solution, is not
    read), or the last line when every line is a definition."""
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
        definitions[_fname(m.group(1))] = (params, _side(right, latex, definitions))
    left, rel, right = claim
    if not left or not right:
        raise InputError(f"the claim {_clip(left + ' ' + rel + ' ' + right)!r} has an empty side", kind="usage")
    if rel == "!=":
        raise InputError("a claim with ≠ is not read; write LHS = RHS", kind="usage")
    return left, rel, right, definitions, latex


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

    def __init__(self, latex, definitions):
        self.latex, self.definitions, self.values = latex, definitions, {}

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
        rewritten = self.rewrite(text)
        return _to_sympy(rewritten, self.latex, self.values)


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


def _side(text, latex, definitions):
    return _Side(latex, definitions).expr(text)


def _to_sympy(text: str, latex: bool, values: dict):
    """One expression through the project's readers, then to SymPy (placeholders put back)."""
    from ..core.graph import build
    from ..reading.parser import parse_program
    target = "zqresult"
    limits = current_limits()
    try:
        if latex:
            from ..reading.latex import translate
            program = translate(f"\\( {target} = {text} \\)").program
        else:
            program = f"{target} = {text}"
        g = build(parse_program(program, limits), program, limits, output=target)
    except LimitError:
        raise
    except InputError as exc:     # the position is in the reader's copy of one side: name the side instead
        shown = re.sub(rf"\\mathrm\{{{_PH}\d+\}}|{_PH}\d+", "…", text)
        hint = ""
        m = re.search(r"unknown function '(\w+)'", exc.message)
        if m:
            hint = f"; define it first, e.g. {m.group(1)}(t) = …"
        raise InputError(f"in {_clip(shown)!r}: {exc.message}{hint}", kind=exc.kind) from None
    return graph_to_sympy(g, values, vector_size=getattr(_VEC, "n", None))


def graph_to_sympy(g, values=None, vector_size=None):
    """The output of ``g`` as SymPy, σ/softplus/ReLU kept as opaque functions.

    Inputs are real symbols (``values`` replaces placeholders).  A tensor op (softmax,
    logsumexp, sum, index, norms) makes its input a vector of ``vector_size`` symbols."""
    sp = _sp()
    values = values or {}
    vals = {}
    vectors = _vector_inputs(g)
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
                     f"logsumexp, sum, indexing of vectors are)", node.line, node.column, kind="usage")


def _apply_tensor(sp, node, a):
    op = node.op
    M = [x if isinstance(x, sp.MatrixBase) else None for x in a]
    if node.fn is not None and node.fn.kind == "elementwise":
        shape = next(m.shape for m in M if m is not None)
        full = [x if isinstance(x, sp.MatrixBase) else sp.Matrix(*shape, lambda i, j: x) for x in a]
        if any(f.shape != shape for f in full):
            raise InputError(f"{node.src!r}: vectors of different lengths", node.line, node.column, kind="shape")
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
    raise InputError(f"{node.src!r}: {op} is not read in a claim", node.line, node.column, kind="usage")


# --- the numeric guard ---------------------------------------------------------------------------

def _outermost(e, types):
    found, stack = [], [e]
    while stack:
        x = stack.pop()
        if isinstance(x, types):
            found.append(x)
        else:
            stack.extend(x.args)
    return found


def numeric(e, env: dict):
    """``e`` at ``env`` ({Symbol: number}) to 60 digits, an mpmath number, or None when undefined.

    Derivatives are taken by mpmath's numerical differentiation of the expression as read (not
    by SymPy's ``diff``), so the check does not share the rewriting's algebra."""
    sp = _sp()
    import mpmath
    # mpmath.diff raises the precision for its steps: evaluate at that precision, never below DPS
    with mpmath.workdps(max(DPS, mpmath.mp.dps)):
        dps = mpmath.mp.dps
        reps = {}
        for d in _outermost(e, (sp.Derivative, sp.Subs)):
            if isinstance(d, sp.Subs):
                inner_env = dict(env)
                for var, point in zip(d.variables, d.point):
                    p = numeric(point, env)
                    if p is None:
                        return None
                    inner_env[var] = p
                v = numeric(d.expr, inner_env)
            else:
                (var, n), = d.variable_count
                at = env.get(var)
                if at is None:
                    return None

                def f(t, d=d, var=var):
                    r = numeric(d.expr, {**env, var: t})
                    if r is None:
                        raise ValueError
                    return r
                try:
                    v = mpmath.diff(f, mpmath.mpf(at), int(n))
                except (ValueError, ZeroDivisionError):
                    return None
            if v is None:
                return None
            reps[d] = sp.Float(v, dps)
        e = e.xreplace(reps) if reps else e
        e, _ = expand_definitions(e, with_sign=False)
        e = e.xreplace({s: sp.Float(v, dps) for s, v in env.items()})
        try:
            v = sp.N(e, dps)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        if v.is_Boolean or not v.is_number:
            return None
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not v.is_real:
            if v.is_real is None:
                try:
                    c = complex(v)
                except TypeError:
                    return None
                if abs(c.imag) > 1e-30 * (1 + abs(c.real)):
                    return None
                return mpmath.mpf(c.real)
            return None
        return mpmath.mpf(v)


def sample_points(variables, n=48, seed=0, kinks=False):
    """Points for the numeric check: 0, ±1, ±½ and large |x| (±30, ±100), then random ones
    (normal, in (0, 1), positive), so a function defined on (0, 1) or (0, ∞) is tested too."""
    rng = random.Random(seed)
    special = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 30.0, -30.0, 100.0, -100.0]
    if kinks:
        special = [s for s in special if s != 0.0]
    pts = []
    if len(variables) == 1:
        pts = [{variables[0]: s} for s in special]
    for _ in range(n):
        kind = rng.random()
        point = {}
        for v in variables:
            if kind < 0.5:
                point[v] = rng.gauss(0, 3)
            elif kind < 0.75:
                point[v] = rng.random()
            elif kind < 0.9:
                point[v] = rng.expovariate(0.3)
            else:
                point[v] = rng.choice([-1, 1]) * rng.uniform(10, 60)
        pts.append(point)
    return pts


def check_numerically(lhs, rhs, relation="=", seed=0):
    """``(points where both sides are defined, counterexample or None, max |L − R|)``."""
    sp = _sp()
    syms = sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)
    names = [s.name for s in syms]
    kinks = _has_kink_derivative(lhs) or _has_kink_derivative(rhs)
    good, worst = 0, 0.0
    for k, point in enumerate(sample_points(names, seed=seed, kinks=kinks)):
        if not k % 8:
            check_deadline("the numeric check of the claim")
        env = {s: point[s.name] for s in syms}
        lv, rv = numeric(lhs, env), numeric(rhs, env)
        if lv is None or rv is None:
            continue
        good += 1
        diff = abs(lv - rv)
        scale = 1 + abs(lv) + abs(rv)
        holds = {"=": diff <= _TOL * scale, "<": lv < rv, ">": lv > rv,
                 "<=": lv <= rv + _TOL * scale, ">=": lv + _TOL * scale >= rv}[relation]
        if relation == "=":
            worst = max(worst, float(diff / scale))
        if not holds:
            return good, {"at": {n: float(point[n]) for n in names}, "lhs": float(lv), "rhs": float(rv)}, worst
    return good, None, worst


def _has_kink_derivative(e):
    sp = _sp()
    for d in _outermost(e, (sp.Derivative,)):
        if d.expr.has(sp.Abs, sp.sign, sp.Piecewise, sp.Max, sp.Min, fn("relu")):
            return True
    return False


# --- the rewriting -----------------------------------------------------------------------------

@contextlib.contextmanager
def hard_timeout(seconds: float | None):
    """Interrupt SymPy after ``seconds`` (SIGALRM; only in the main thread, elsewhere a no-op:
    there the expression-size caps and the dashboard's worker process bound the work).

    Nests: an inner timeout never outlives an outer one, and the outer one is re-armed with
    what is left of it when the inner block ends."""
    if not seconds or threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "setitimer"):
        yield
        return
    import time
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    start = time.monotonic()
    fire = min(seconds, outer_left) if outer_left > 0 else seconds
    inner_fires = not outer_left or seconds <= outer_left

    def on_alarm(signum, frame):
        raise LimitError(f"the symbolic rewriting ran past {seconds:g} s" if inner_fires else
                         "the computation ran past its time limit")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, fire)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer_left > 0:
            left = outer_left - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


def _exp_variable(sp, exprs):
    """``(x, k)`` when every e^a in ``exprs`` has a = c·x with one variable x and rational c (k the
    lcm of the denominators of c), else None."""
    args = [a.exp for e in exprs for a in e.atoms(sp.exp)]
    if not args:
        return None
    syms = set().union(*(a.free_symbols for a in args))
    if len(syms) != 1:
        return None
    (x,) = syms
    dens = []
    for a in args:
        c = sp.simplify(a / x)
        if not c.is_Rational:
            return None
        dens.append(c.q)
    return x, sp.ilcm(*dens) if len(dens) > 1 else dens[0]


def _exp_to_u(sp, e, x, k, u):
    return e.replace(lambda t: isinstance(t, sp.exp), lambda t: u ** int(sp.simplify(t.exp / x * k)))


def _stages(sp, lhs, rhs, with_sign):
    """Both sides through the rewriting stages: [(note, L, R)], stopping when they meet."""
    out = [("", lhs, rhs)]

    def add(note, f):
        L, R = out[-1][1], out[-1][2]
        L2, R2 = f(L), f(R)
        for side in (L2, R2):
            if sp.count_ops(side) > _MAX_OPS:
                raise LimitError("the rewriting grew past the size a proof can show")
        if L2 != L or R2 != R:
            out.append((note, L2, R2))
        check_deadline("the symbolic rewriting")
        return L2 == R2

    used = []

    def defs(e):
        d, u = expand_definitions(e, with_sign)
        used.extend(t for t in u if t not in used)
        return d
    lhs_d, rhs_d = defs(lhs), defs(rhs)
    if (lhs_d, rhs_d) != (lhs, rhs):
        out.append(("definitions: " + "; ".join(used), lhs_d, rhs_d))
        if lhs_d == rhs_d:
            return out, None
    rule = "differentiate"
    if lhs.has(sp.Abs) and (lhs.has(sp.Derivative) or rhs.has(sp.Derivative)):
        rule += " (d|u|/du = sign(u), abs'(0) = 0 as the sheets write it)"
    if add(rule, lambda e: defs(e.doit()) if e.has(sp.Derivative, sp.Subs) else e):
        return out, None
    if add("log rules: ln(ab) = ln a + ln b, ln(1/a) = −ln a, ln e^a = a",
           lambda e: sp.expand_log(e, force=True)):
        return out, None
    if add("exp rules: e^a·e^b = e^{a+b}", lambda e: sp.powsimp(sp.expand_power_exp(e))):
        return out, None
    L, R = out[-1][1], out[-1][2]
    sub = _exp_variable(sp, [L, R])
    u = None
    if sub:
        x, k = sub
        u = sp.Symbol("u", positive=True)
        shown = f"e^{{{x}}}" if k == 1 else f"e^{{{x}/{k}}}"
        if add(f"let u = {shown}", lambda e: _exp_to_u(sp, e, x, k, u)):
            return out, (u, x, k)
    L, R = out[-1][1], out[-1][2]
    if all(sp.denom(sp.together(e)) == 1 for e in (L, R)) and not (L.has(sp.Piecewise) or R.has(sp.Piecewise)):
        if add("expand the brackets", sp.expand):
            return out, (u, *sub) if sub else None
    if add("common denominator, cancel the common factor", lambda e: sp.factor(sp.cancel(sp.together(e)))):
        return out, (u, *sub) if sub else None
    L, R = out[-1][1], out[-1][2]
    if L.has(sp.Piecewise) or R.has(sp.Piecewise):
        return out, None
    if sp.count_ops(L - R) <= 120 and sp.simplify(L - R) == 0:
        out.append(("simplify", R, R))
    return out, (u, *sub) if sub else None


def _cases(sp, lhs, rhs):
    """Piecewise sides of one variable, compared on x > c, x = c, x < c for each boundary c."""
    syms = lhs.free_symbols | rhs.free_symbols
    if len(syms) != 1:
        return None
    (x,) = syms
    bounds = set()
    for pw in (lhs.atoms(sp.Piecewise) | rhs.atoms(sp.Piecewise)):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.Rel):
                sol = sp.solve(rel.lhs - rel.rhs, x)
                if len(sol) != 1 or not sol[0].is_number:
                    return None
                bounds.add(sol[0])
    if len(bounds) != 1:
        return None
    (c,) = bounds
    p = sp.Symbol("p", positive=True)
    cases = []
    for label, value in ((f"{x} > {c}", c + p), (f"{x} = {c}", c), (f"{x} < {c}", c - p)):
        L = sp.simplify(sp.piecewise_fold(lhs.subs(x, value)))
        R = sp.simplify(sp.piecewise_fold(rhs.subs(x, value)))
        if sp.simplify(L - R) != 0:
            return None
        cases.append((label, L.subs(p, x - c), R.subs(p, x - c)))
    return cases


def prove_exprs(lhs, rhs, relation="=", claim="", definitions=None, timeout=None, seed=0) -> Verdict:
    """The verdict on ``lhs relation rhs`` for SymPy expressions (see :func:`prove`)."""
    sp = _sp()
    claim = claim or f"{lhs} {relation} {rhs}"
    variables = sorted(s.name for s in (lhs.free_symbols | rhs.free_symbols))
    verdict = Verdict("holds numerically", claim, lhs, rhs, relation, variables=variables,
                      definitions=definitions or {})
    chain, note = [], ""
    if relation == "=":
        with_sign = lhs.has(sp.Piecewise) or rhs.has(sp.Piecewise)
        try:
            with hard_timeout(timeout):
                stages, _ = _stages(sp, lhs, rhs, with_sign)
                last_note, L, R = stages[-1]
                if L == R and len(stages) == 1:          # equal as read, once SymPy evaluated the numbers
                    chain = [Step(rhs, "evaluate" if lhs != rhs else "the two sides are the same expression")]
                elif L == R:
                    chain = [Step(s[1], s[0]) for s in stages[1:]]
                    chain += [Step(stages[k][2], stages[k + 1][0], "right")
                              for k in range(len(stages) - 2, -1, -1)]
                    if last_note == "simplify":
                        chain = [Step(s[1], s[0]) for s in stages[1:-1]] + [Step(R, "simplify")]
                        chain += [Step(stages[k][2], stages[k + 1][0], "right")
                                  for k in range(len(stages) - 3, -1, -1)]
                    chain = _dedup(chain, lhs)
                elif L.has(sp.Piecewise) or R.has(sp.Piecewise):
                    cases = _cases(sp, L, R)
                    if cases:
                        chain = [Step(s[1], s[0]) for s in stages[1:]]
                        chain += [Step(sp.Eq(cl, cr), f"case {label}") for label, cl, cr in cases]
                        chain.append(Step(rhs, "in every case both sides agree"))
                        chain = _dedup(chain, lhs)
                if not chain:
                    note = "no chain of rewrites found"
        except LimitError as exc:
            note = f"no proof: {exc.message}"
        except (TypeError, ValueError, NotImplementedError, RecursionError, AttributeError) as exc:
            note = f"no proof: SymPy could not rewrite it ({type(exc).__name__})"
    else:
        note = "inequalities are checked numerically"
    points, counter, worst = check_numerically(lhs, rhs, relation, seed)
    verdict.points, verdict.max_difference = points, worst
    if points == 0:
        raise InputError(f"the two sides of {_clip(claim)!r} are not both defined at any test point "
                         f"(tried 0, ±1, ±30, ±100 and random points)", kind="value")
    if counter is not None:
        verdict.status, verdict.counterexample = "false", counter
        verdict.note = "the rewriting claimed equality but the numbers disagree" if chain else ""
        return verdict
    if chain:
        verdict.status, verdict.chain = "proved", chain
    else:
        verdict.note = note
    return verdict


def _dedup(chain, start):
    out, prev = [], start
    for s in chain:
        if s.expr != prev:
            out.append(s)
            prev = s.expr
    return out


def prove(claim_text: str, syntax: str = "auto", timeout: float | None = None, seed: int = 0) -> Verdict:
    r"""Read ``claim_text`` and decide: ``proved`` (with the chain), ``holds numerically`` or ``false``.

    ``timeout`` (seconds) interrupts SymPy (main thread only); by default the limits'
    time budget.  Vector claims (``sum(softmax(o)) = 1``) are rewritten with o of 3 symbolic
    components and checked numerically for 2 to 6 components.

    >>> prove(r"$\sigma(-t) = 1 - \sigma(t)$").status
    'proved'
    >>> v = prove("sigmoid(x) = tanh(x)"); v.status, sorted(v.counterexample["at"])
    ('false', ['x'])
    """
    left, relation, right, definitions, latex = read_claim(claim_text, syntax)
    claim = f"{left} {relation} {right}"
    timeout = current_limits().time_budget_s if timeout is None else timeout
    try:
        lhs = _side(left, latex, definitions)
        rhs = _side(right, latex, definitions)
    except _Vector:
        return _prove_vector(left, relation, right, definitions, latex, claim, timeout, seed)
    return prove_exprs(lhs, rhs, relation, claim, definitions, timeout, seed)


def _prove_vector(left, relation, right, definitions, latex, claim, timeout, seed):
    """A claim on vectors: symbolic with 3 components, numeric with 2 to 6."""
    sp = _sp()
    verdicts = []
    for n in (3, 2, 4, 5, 6):
        _VEC.n = n
        try:
            lhs, rhs = _side(left, latex, definitions), _side(right, latex, definitions)
        finally:
            _VEC.n = None
        L, R = [sp.Matrix([x]) if not isinstance(x, sp.MatrixBase) else x for x in (lhs, rhs)]
        if L.shape != R.shape and 1 not in (L.shape[0] * L.shape[1], R.shape[0] * R.shape[1]):
            raise InputError(f"the sides of {_clip(claim)!r} have different lengths", kind="shape")
        pairs = _pairs(sp, L, R)
        for k, (a, b) in enumerate(pairs):
            v = prove_exprs(a, b, relation, claim, definitions, timeout if n == 3 else 0, seed + k) \
                if n == 3 else _numeric_only(a, b, relation, claim, seed + k)
            verdicts.append((n, v))
            if v.status == "false":
                v.note = f"with {n} components: entry {k + 1}"
                return v
    first = verdicts[0][1]
    proved3 = all(v.status == "proved" for n, v in verdicts if n == 3)
    out = Verdict("holds numerically", claim, first.lhs, first.rhs, relation,
                  variables=sorted({x for _, v in verdicts for x in v.variables}),
                  points=sum(v.points for _, v in verdicts), definitions=definitions)
    out.chain = first.chain if proved3 and len(verdicts) and first.status == "proved" else []
    out.note = ("proved symbolically for vectors of 3 entries (the chain below), "
                if proved3 else "") + "checked numerically for vectors of 2 to 6 entries"
    return out


def _pairs(sp, L, R):
    flat_l, flat_r = list(L), list(R)
    if len(flat_l) == 1:
        flat_l = flat_l * len(flat_r)
    if len(flat_r) == 1:
        flat_r = flat_r * len(flat_l)
    return list(zip(flat_l, flat_r))


def _numeric_only(a, b, relation, claim, seed):
    points, counter, worst = check_numerically(a, b, relation, seed)
    v = Verdict("false" if counter else "holds numerically", claim, a, b, relation,
                variables=sorted(s.name for s in a.free_symbols | b.free_symbols), points=points,
                counterexample=counter, max_difference=worst)
    return v


_VEC = threading.local()       # the vector length while a vector claim is read
