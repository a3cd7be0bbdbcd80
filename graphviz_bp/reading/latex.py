r"""LaTeX pasted from a course sheet → the plain notation of DESIGN §1, one statement a line.

Nothing is evaluated: the text is tokenized and rewritten by these rules.

* Only math is read: ``$$…$$``, ``$…$``, ``\[…\]``, ``\(…\)`` (text without them is read
  line by line, lines with a ``=`` or ``\``).  Statements split at top-level ``;`` ``,``
  ``\quad`` ``\qquad`` ``\\``; a trailing ``.`` or ``,`` is dropped.  ``a = b = 30`` keeps
  ``a = b`` (the rest is the sheet's worked result) but ``x = y = 3`` sets both; a left side
  ``f(x, y)`` / ``J(w)`` is a header, naming ``f`` / ``J``.  A bare name or number
  (``where $x$ is``) is skipped; another bare expression must come last (the output).
* Names: ``\lambda`` → ``lambda``, ``\hat{y}`` → ``yhat``, ``W^{(1)}`` → ``W_1`` (a layer
  index, not a power), ``x_1`` → ``x_1``, ``w_{12}`` → ``w_12``; ``\mathbf``, ``\boldsymbol``,
  ``\vec`` vanish from the name but mark it a vector or matrix.  What the name loses is kept
  in :attr:`Translation.tex_names` (``W_1`` → ``W^{(1)}``) for drawing it as the sheet does.
* Functions: ``\exp \log \ln \sin \cos \tanh \max \min \det``, ``\text{ReLU}``,
  ``\operatorname{tr}``, ``\mathrm{softmax}`` (known names, lower-cased), ``\sigma(`` →
  ``sigmoid(``, ``\sum(`` → ``sum(``, ``\sum_i w_i^p`` → ``sum(w^p)`` (the index only
  subscripts names), ``\sqrt{x}`` → ``sqrt(x)``, ``\log x`` → ``log(x)``.
* ``\frac{a}{b}`` → ``a / b`` (compound parts in parentheses); ``^T``, ``^{T}``, ``^\top``
  transpose; ``e^{z}`` → ``exp(z)`` unless ``e`` is defined; ``A^{\circ 2}`` elementwise.
* Products and powers as the sheet means them: ``\cdot``, ``\times`` and juxtaposition
  (``xy``, ``2(x+y)``, ``W x``; a run of letters that is not a function, Greek or defined name
  is split) are written as the sheet product ``⋅`` and ``x^2`` as a sheet power in a draft;
  :func:`graphviz_bp.reading.resolve.resolve` then makes them ``*``/``@`` and matrix powers by shape.
  ``*`` and ``\odot`` are elementwise, ``\mathbin{@}`` the matrix product.
* ``X \in \mathbb{R}^{D \times D}`` declares X a (square) matrix; prose (``\text{ for all }``)
  ends a formula; ``\tag``/``\label`` are dropped.
* ``\|e\|_2^2``, ``\left\| … \right\|``, ``\lVert … \rVert`` → ``||e||_2^2``; ``|x|``;
  ``bmatrix``/``pmatrix``/``matrix`` → ``[[…], …]`` (a row stays 1×n, a column n×1); the
  notation's ``[1, 2]`` (a vector) and ``p[1]`` (an index) pass through.
* Order: literals first (as written), the rest topologically (stable), the sheet's final
  statement (the last one nothing uses) last.  A name defined twice, a cycle, or anything
  untranslatable raises :class:`InputError` at its line and column in the pasted text.

Example::

    >>> print(latex_to_program(r"$$f(x, y) = x^2 + xy + (x + y)^2.$$"), end="")
    f = x^2 + x * y + (x + y)^2
"""
from __future__ import annotations

import copy
import heapq
import math
import re
from dataclasses import dataclass, field

from ..core.errors import InputError
from ..core.limits import current as current_limits
from ..core.ops import FUNCTIONS
from . import prose, sums
from .parser import Literal, Num, parse_program
from .resolve import SHEET_PRODUCT, SQUARE, resolve

# the function names a sheet may write as words (``tanh``, ``softmax``, ``\\text{ReLU}``): the op table's
FUNCS = {name.lower() for name in FUNCTIONS if name.isascii()}
GREEK = set("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
            "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())
_VAR = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho", "varsigma": "sigma"}
_FUNC_CMDS = set("exp log ln sin cos tanh max min det".split())
_STYLES = set("mathbf boldsymbol bm vec mathit mathcal mathsf mathbb pmb".split())
_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
            "widetilde": "tilde"}
_OPS = {"cdot": SHEET_PRODUCT, "times": SHEET_PRODUCT, "odot": "*", "ast": "*", "div": "/"}
_BOLD = {"mathbf", "boldsymbol", "bm", "vec", "pmb"}           # a vector or a matrix, on a sheet
_SKIP = set(",;:! ") | set("displaystyle textstyle limits nonumber notag big Big bigg Bigg bigl bigr "
                           "Bigl Bigr biggl biggr".split())
_TRANSPARENT = set("align aligned gather gathered equation split".split())   # environments read through
_SEPARATORS = {("sym", ";"), ("sym", ","), ("cmd", "quad"), ("cmd", "qquad"), ("cmd", "\\")}
_TOKEN = re.compile(r"""(?P<ws>\s+|%[^\n]*|~|\\(?:tag|label)\*?\s*\{[^{}]*\})
  | \\(?P<env>begin|end)\s*\{\s*(?P<envname>[a-zA-Z]+\*?)\s*\}
  | (?:\\(?P<lr>left|right)\s*)?(?P<delim>\|\||[()\[\]|]|\\[{}|]|\\[lr]?[vV]ert(?![a-zA-Z]))
  | \\(?:text|operatorname\*?|mathrm|textrm|mbox)\s*\{(?P<text>[^{}]*)\}
  | \\(?P<cmd>[a-zA-Z]+|.)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<word>[^\W\d_][^\W_]*)
  | (?P<sym>.)""", re.VERBOSE | re.DOTALL)
_VALEND, _VALSTART = {"name", "val", "close"}, {"name", "val", "open", "func"}


# single letters a sheet uses for a function it names but may not define: f(…) is never a product
_FUNCTION_LETTERS = set("f g F G L J R P E phi psi Phi Psi".split())


def _is_differential(toks) -> bool:
    """``d``, ``dx``, ``d \\ sigmoid``, ``\\mathrm{d}x``: the parts of a derivative d…/dx."""
    words = [v for k, v, _ in toks if k in ("word", "text")]
    return bool(words) and (words[0] == "d" or re.fullmatch(r"d[a-zA-Z]", words[0]) is not None)


def _unknown_function(written, name=None):
    name = name or written
    return (f"{written}(…) calls a function the sheet does not define: define it on the sheet "
            f"({written}(x) = …) or choose one with --define {name}=sigmoid (relu, tanh, exp, …); "
            f"for a product write {written} \\cdot (…)")


class _Sheet:
    """What every span of one sheet shares while it is read."""

    def __init__(self, define=None, given=None):
        self.notes: list[str] = []           # "read as: …" where the reader chose a meaning
        self.functions: dict = {}            # f -> (converter, params, rhs span): f(x; w) = …
        self.called: set = set()             # functions called somewhere (not statements then)
        self.calling: list = []              # the calls being expanded (recursion guard)
        self.define = dict(define or {})     # f -> function name chosen by the user
        self.labels: set = set()             # (base, letter): h^a, o^s are names, not powers
        self.data: dict = {}                 # name -> shape of a value the sheet or the user gives
        self.numbers: dict = {}              # name -> a number the sheet gives (N = 3)
        self.given = dict(given or {})       # name -> shape of a value given with --at
        self.implied: dict = {}              # N -> (count, offset): a sum's limit that the data give
        self.declared: dict = {}             # name -> shape declared on the sheet (ints or symbols)
        self.convolution = False             # the sheet speaks of a convolution: O = I * K
        self.entries: dict = {}              # o -> (o_y, offset): a name with a letter subscript
        self.summed: dict = {}               # o -> offset: a vector whose entries a sum runs over

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)


class _Fail(Exception):
    """Untranslatable input at an offset of the pasted text (becomes an InputError)."""


class _Item:
    """A piece of output: kind is name, val, func, open, close, op or sep."""
    __slots__ = ("kind", "text", "pos", "atomic", "suffix", "post", "transposed", "bold", "tex")

    def __init__(self, kind, text, pos, atomic=True):
        self.kind, self.text, self.pos, self.atomic = kind, text, pos, atomic
        self.suffix, self.post, self.transposed = "", "", False   # W^{(1)} → "_1"; x^2 → "^2"
        self.bold, self.tex = False, None          # \mathbf{w}; the sheet's LaTeX of a name, W^{(1)}

    def render(self):
        return self.text + self.suffix + self.post


def looks_like_latex(text: str) -> bool:
    """True when ``text`` has a ``$`` or a backslash command (``\\frac``, ``\\|``, ``\\lambda``…)."""
    return "$" in text or re.search(r"\\(?:[a-zA-Z]+|\|)", text) is not None


def _tokens(text, lo, hi):
    """(kind, value, offset) triples; delimiters become open/close (value ( [ {) or bar/lbar/rbar (| ||)."""
    out, pos = [], lo
    while pos < hi:
        m = _TOKEN.match(text, pos, hi)
        kind, v, start, pos = m.lastgroup, m.group(m.lastgroup), m.start(), m.end()
        if kind == "envname":
            if v.rstrip("*") not in _TRANSPARENT:
                out.append((m["env"], v, start))
        elif kind == "delim" and v[-1] in "([{)]}":
            out.append(("open" if v[-1] in "([{" else "close", v[-1], start))
        elif kind == "delim":
            side = {"l": "lbar", "r": "rbar"}.get((m["lr"] or v.lstrip("\\"))[0], "bar")
            out.append((side, "||" if v in ("\\|", "||") or "V" in v else "|", start))
        elif kind != "ws" and not (kind == "cmd" and v in _SKIP):
            out.append((kind, v, start))
    return out


class _Converter:
    """Rewrites the tokens of one math span; ``defined`` names are never split into letters."""

    def __init__(self, toks, limits, tensor_names: set, square_names: set, tex_names: dict, sheet=None):
        self.t, self.defined, self.used, self.match = toks, {}, set(), {}
        self.sheet = sheet if sheet is not None else _Sheet()
        self.sample = None                       # (index, k, {name: how}) while a sum is unrolled
        self.cur_items: list = []                # the items sup() may extend (e^{z} -> exp(z))
        self.bases = None                        # names subscripted by the sum's index (a probe)
        # shared by every span of the sheet:
        self.tensor_names = tensor_names         # names the sheet writes bold: vectors and matrices
        self.square_names = square_names         # X \in \mathbb{R}^{D \times D}: square matrices
        self.tex_names = tex_names               # W_1 -> W^{(1)}: what the notation's name loses
        self.index: tuple = ()                   # the indices of the \sum being read (w_i -> w)
        self.header = False                      # reading f(x, y) of "f(x, y) = …"
        stack = []
        for k, (kind, v, pos) in enumerate(toks):
            if (kind, v) == ("sym", "{") or kind == "begin":
                stack.append(k)
                if len(stack) > limits.max_depth:
                    limits.refuse("max_depth", "brace nesting")
            elif (kind, v) == ("sym", "}") or kind == "end":
                if not stack or toks[stack[-1]][0] != ("begin" if kind == "end" else "sym"):
                    raise _Fail("unmatched " + ("\\end{%s}" % v if kind == "end" else "}"), pos)
                self.match[stack.pop()] = k
        if stack:
            kind, v, pos = toks[stack[-1]]
            raise _Fail("unterminated " + ("\\begin{%s}" % v if kind == "begin" else "{"), pos)

    def arg(self, i, hi, what):
        """Token range of the argument at i, a {group} or one token: (lo, hi, next i)."""
        if i >= hi:
            raise _Fail(f"{what} needs an argument", self.t[hi - 1][2])
        if self.t[i][:2] == ("sym", "{"):
            return i + 1, self.match[i], self.match[i] + 1
        return i, i + 1, i + 1

    def convert(self, i, hi) -> list[_Item]:
        """Items for tokens i..hi; names are split and products inserted later, by join()."""
        items, stack = [], []            # stack: open ( or bars, with their offsets
        while i < hi:
            kind, v, pos = self.t[i]
            i += 1
            calls = i < hi and self.t[i][:2] == ("open", "(")
            prev = items[-1] if items else None
            if kind == "num":
                items.append(_Item("val", v, pos))
            elif kind in ("word", "text"):
                w = v.strip()
                if not calls and not self.header and i < hi and self.t[i][:2] == ("sym", "^") \
                        and (w in self.sheet.functions or w in _FUNCTION_LETTERS and w not in self.defined) \
                        and self.arg(i + 1, hi, "^")[2] < hi \
                        and self.t[self.arg(i + 1, hi, "^")[2]][:2] == ("open", "("):
                    lo, h, _ = self.arg(i + 1, hi, "^")
                    power = "".join(t[1] for t in self.t[lo:h])
                    raise _Fail(f"{w}^{{{power}}}(…) is the inverse function, which graphviz-bp does not read"
                                if power == "-1" else f"{w}^{{{power}}}(…): write ({w}(…))^{{{power}}}", pos)
                elif calls and not self.header and w in self.sheet.functions:
                    i = self.call(w, i, hi, pos, items)
                elif calls and not self.header and w in self.sheet.define:
                    items.append(_Item("func", self.sheet.define[w], pos))
                    self.sheet.note(f"read as: {w}(…) = {self.sheet.define[w]}(…) (--define {w}={self.sheet.define[w]})")
                elif w.lower() in FUNCS and (calls or kind == "text"):
                    items.append(_Item("func", w.lower(), pos))
                    i = self.apply_power(i, hi, items)
                elif calls and not self.header and w in _FUNCTION_LETTERS and w not in self.defined:
                    raise _Fail(_unknown_function(w), pos)
                elif re.fullmatch(r"[^\W\d]\w*", w):
                    items.append(_Item("name", w, pos, atomic=kind == "text"))
                else:
                    raise _Fail(f"cannot translate the text {v!r}", pos)
            elif (kind, v) == ("open", "[") and not self.numeric_brackets(i, hi):
                stack.append(("(", pos, False))                   # -[y \ln p + …]: brackets group
                items.append(_Item("open", "(", pos))
            elif (kind, v) == ("open", "["):
                i = self.brackets(i, hi, pos, prev, items)
            elif (kind, v) == ("cmd", "mathbin"):                 # \mathbin{@}: the notation's @
                lo, h, i = self.arg(i, hi, "\\mathbin")
                if [t[1] for t in self.t[lo:h]] != ["@"]:
                    raise _Fail("\\mathbin is translated only as \\mathbin{@}, the matrix product", pos)
                items.append(_Item("op", "@", pos))
            elif (kind, v) == ("sym", "=") and stack and prev and prev.kind == "name":
                items.append(_Item("op", "=", pos))                # conv2d(I, K, stride=2)
            elif kind in ("open", "lbar") or kind == "bar" and not (
                    stack and stack[-1][0] == v and prev and prev.kind in _VALEND):
                calls_known = prev is not None and prev.kind == "func" or self.header
                stack.append((v if "bar" in kind else "(", pos, calls_known))
                items.append(_Item("open", stack[-1][0], pos))
            elif kind in ("close", "rbar", "bar"):
                if not stack or stack[-1][0] != (v if "bar" in kind else "("):
                    raise _Fail(f"unmatched {v!r}", pos)
                items.append(_Item("close", v if stack.pop()[0] != "(" else ")", pos))
            elif kind == "begin":
                items.append(self.matrix(i - 1))
                i = self.match[i - 1] + 1
            elif (kind, v) == ("sym", "{"):
                items += self.convert(i, self.match[i - 1])
                i = self.match[i - 1] + 1
            elif (kind, v) == ("sym", "*") and self.sheet.convolution and prev is not None and prev.kind == "name" \
                    and prev.text[:1].isupper() and i < hi and self.t[i][0] == "word" and self.t[i][1][:1].isupper():
                other = _Item("name", self.t[i][1], self.t[i][2])       # O = I * K on a sheet about convolution
                items[-1:] = [_Item("func", "conv2d", pos), _Item("open", "(", pos), prev, _Item("sep", ", ", pos),
                              other, _Item("close", ")", pos)]
                self.sheet.note(f"read as: {prev.render()} * {other.text} is the convolution conv2d({prev.render()}, "
                                f"{other.text}) (the sheet says convolution; * is elementwise elsewhere)")
                i += 1
            elif kind == "sym" and v in "+-*/":
                items.append(_Item("op", v, pos))
            elif kind == "sym" and v in ",;":
                if stack and not stack[-1][2]:
                    raise _Fail("a list (a, b) is read only as the arguments of a function: a known one such as "
                                "\\max(a, b), or one the sheet defines (f(x; w) = …)", stack[-1][1])
                items.append(_Item("sep", ", ", pos))
            elif (kind, v) == ("sym", "&"):
                pass                                            # an alignment point
            elif kind == "sym" and v in "^_":
                if prev is None or prev.kind not in _VALEND:
                    raise _Fail(f"{v} needs something before it", pos)
                if v == "_" and (prev.kind, prev.text) == ("close", "||"):
                    i = self.norm_sub(prev, i, hi, pos, items)
                else:
                    self.cur_items = items
                    i = (self.sup if v == "^" else self.sub)(prev, i, hi, pos)
            elif kind != "cmd":
                raise _Fail(f"cannot translate {v!r}", pos)
            elif v == "pi":
                items.append(_Item("val", repr(math.pi), pos))
                self.sheet.note("read as: π = 3.14159…")
            elif v in ("min", "max", "argmin", "argmax") and i < hi and self.t[i][:2] == ("sym", "_") \
                    and not items:
                lo, h, i = self.arg(i + 1, hi, "\\" + v)               # \min_w: what is minimised
                self.sheet.note(f"read as: the objective (\\{v} over {self.join(self.convert(lo, h))} is "
                                "what you do with it)")
            elif (v in GREEK or v in _VAR) and calls and not self.header and _VAR.get(v, v) in self.sheet.define:
                items.append(_Item("func", self.sheet.define[_VAR.get(v, v)], pos))
            elif v == "sigma" and calls and not self.header:
                self.sheet.note("read as: σ(…) is the logistic sigmoid 1/(1 + e^−x)")
                items.append(_Item("func", "sigmoid", pos))
            elif v in GREEK or v in _VAR:
                if calls and not self.header and _VAR.get(v, v) in _FUNCTION_LETTERS \
                        and _VAR.get(v, v) not in self.defined:
                    raise _Fail(_unknown_function("\\" + v, _VAR.get(v, v)), pos)
                items.append(_Item("name", _VAR.get(v, v), pos))
            elif v in _FUNC_CMDS:
                items.append(_Item("func", v, pos))
                i = self.apply_power(i, hi, items)
                if i < hi and self.t[i][:2] != ("open", "("):
                    i = self.operand(i, hi, items)
            elif v in ("langle",):
                i = self.inner_product(i, hi, pos, items)
            elif v in ("leftarrow", "gets"):
                raise _Fail("an update w \\leftarrow w - \\eta g is a step of gradient descent, not a formula: "
                            "paste the loss and ask for its gradient", pos)
            elif v in _OPS:
                items.append(_Item("op", _OPS[v], pos))
            elif v in ("frac", "dfrac", "tfrac"):
                a_lo, a_hi, i = self.arg(i, hi, "\\frac")
                b_lo, b_hi, i = self.arg(i, hi, "\\frac")
                if _is_differential(self.t[a_lo:a_hi]) and _is_differential(self.t[b_lo:b_hi]):
                    raise _Fail("cannot translate a derivative d…/dx: paste the function itself, graphviz-bp "
                                "works out its derivatives", pos)
                parts = [*self.paren(self.convert(a_lo, a_hi), pos), _Item("op", "/", pos),
                         *self.paren(self.convert(b_lo, b_hi), pos)]
                wrap = prev and (prev.kind, prev.text) == ("op", "/") or i < hi and self.t[i][1] == "^"
                items += self.paren(parts, pos, True) if wrap else parts
            elif v == "sqrt":
                if i < hi and self.t[i][:2] == ("open", "["):
                    raise _Fail("\\sqrt[n] is not supported: write (x)^(1/n)", pos)
                lo, h, i = self.arg(i, hi, "\\sqrt")
                items += [_Item("func", "sqrt", pos), *self.paren(self.convert(lo, h), pos, True)]
            elif v in _STYLES or v in _ACCENTS:
                lo, h, i = self.arg(i, hi, "\\" + v)
                inner = self.convert(lo, h)
                for it in inner:
                    it.bold = it.bold or v in _BOLD
                if v in _ACCENTS:
                    if len(inner) != 1 or inner[0].kind != "name" or inner[0].post:
                        raise _Fail(f"\\{v} is translated only on a name", pos)
                    inner[0].text, inner[0].suffix = inner[0].render() + _ACCENTS[v], ""
                    inner[0].atomic = True
                items += inner
            elif v in ("sum", "prod"):
                i = self.indexed_sum(i, hi, pos, items, v)
            elif v in ("partial", "nabla"):
                raise _Fail(f"cannot translate \\{v}: paste the function itself, graphviz-bp works out "
                            "its derivatives", pos)
            else:
                raise _Fail(f"cannot translate \\{v}", pos)
        if stack:
            raise _Fail(f"unclosed {stack[-1][0]!r}", stack[-1][1])
        return items

    def numeric_brackets(self, i, hi):
        """Whether the [ before token i holds only numbers (a vector literal or an index)."""
        depth = 1
        for j in range(i, hi):
            kind, v, _ = self.t[j]
            if (kind, v) in (("open", "["), ("close", "]")):
                depth += 1 if v == "[" else -1
                if not depth:
                    return True
            elif not (kind == "num" or kind == "sym" and v in ",-+"):
                return False
        return True

    def brackets(self, i, hi, pos, prev, items):
        """``[1, -2]`` a vector literal (``[[1, 2], [3, 4]]`` a matrix); after a value, ``p[1]``,
        ``A[0, 1]``, ``\\operatorname{softmax}(o)[0]`` an index (0-based, as in the notation)."""
        depth, j, parts = 1, i, []
        while j < hi and depth:
            kind, v, at = self.t[j]
            if (kind, v) in (("open", "["), ("close", "]")):
                depth += 1 if v == "[" else -1
                parts.append(v if depth or v == "[" else "")
            elif kind == "num" or kind == "sym" and v in ",-+":
                parts.append(", " if v == "," else v)
            else:
                raise _Fail("inside [ ] only numbers are translated: a vector [1, 2] or an index p[1]", at)
            j += 1
        if depth:
            raise _Fail("unclosed '['", pos)
        text = "[" + "".join(parts) + "]"
        if prev is not None and prev.kind in _VALEND:
            if not re.fullmatch(r"\[-?\d+(?:, -?\d+)*\]", text):
                raise _Fail(f"an index must be whole numbers, e.g. p[1] or A[0, 1], not {text}", pos)
            prev.post += text
        else:
            items.append(_Item("val", text, pos))
        return j

    def indexed_sum(self, i, hi, pos, items, kind="sum"):
        r"""``\sum_{i=1}^{N} (y_i - \hat{y}_i)^2``, ``\sum (y - b)^2``, ``\prod_i p_i``.

        The summand runs to the next ``+`` or ``-`` outside brackets.  Without an index it is the
        sum of the entries of the summand.  With one, names subscripted by the index are read per
        sample (:mod:`graphviz_bp.reading.sums`): vectorised over the entries of data vectors,
        or written out term by term when the samples are known (N at most MAX_UNROLL)."""
        index, upper = (), None
        if i < hi and self.t[i][:2] == ("sym", "_"):
            lo, h, i = self.arg(i + 1, hi, f"\\{kind}_")
            index = sums.index_letters(self.t[lo:h])
        if i < hi and self.t[i][:2] == ("sym", "^"):
            lo, h, i = self.arg(i + 1, hi, f"\\{kind}^")
            upper = [t[:2] for t in self.t[lo:h]]
        end = self.summand_end(i, hi)
        if not index:                                     # \sum (y_i - \beta)^2: the index the summand uses
            index = sums.implicit_index(self.t[i:end])
            if index:
                self.sheet.note(f"read as: \\{kind} without an index runs over {index[0]} (the summand's subscript)")
        if end == i:
            raise _Fail(f"\\{kind} needs something to {'sum' if kind == 'sum' else 'multiply'}", pos)
        outer, outer_bases, self.index, self.bases = self.index, self.bases, index, {}
        try:
            inner = self.convert(i, end)                   # a probe: which names the index runs over
            bases = self.bases
            for it in inner:                               # x_i^T w: x_i is a vector per sample
                if it.kind == "name" and it.transposed and it.text + it.suffix in bases:
                    bases[it.text + it.suffix] = True
        finally:
            self.index, self.bases = outer, outer_bases
        plan = sums.plan(kind, index, upper, bases, self.sheet, self.defined, self.t[i][2])
        if plan.fail:
            raise _Fail(plan.fail, pos)
        if plan.note:
            self.sheet.note(plan.note)
        if plan.implied:
            self.sheet.implied.setdefault(plan.implied[0], (plan.implied[1], pos))
        if plan.terms is None:                            # the entries of a vector expression
            if index and bases:                           # per-sample scalars: elementwise
                self.index = index
                try:
                    inner = sums.elementwise(self.expand(self.convert(i, end)), _Item)
                finally:
                    self.index = outer
            items += [_Item("func", "sum", pos), _Item("open", "(", pos), *inner, _Item("close", ")", pos)]
            return end
        parts = [_Item("open", "(", pos)]
        for k in plan.terms:
            self.sample, outer_sample, self.index = (index[0], k, plan.how), self.sample, index
            try:
                term = self.convert(i, end)
            finally:
                self.sample, self.index = outer_sample, outer
            if len(parts) > 1:
                parts.append(_Item("op", "+" if kind == "sum" else "*", pos))
            parts += [_Item("open", "(", pos), *term, _Item("close", ")", pos)]
        items += parts + [_Item("close", ")", pos)]
        return end

    def summand_end(self, i, hi):
        """Where a summand that starts at token i ends: the next + - = , ; outside brackets."""
        end, depth, bars = i, 0, []
        while end < hi:
            kind, v, _ = self.t[end]
            if kind == "begin" or (kind, v) == ("sym", "{"):
                end = self.match[end]
            elif kind in ("open", "lbar"):
                depth += 1
            elif kind in ("close", "rbar"):
                if depth == 0:
                    break
                depth -= 1
            elif kind == "bar":
                if bars and bars[-1] == v:
                    bars.pop()
                elif depth == 0 and not bars and end > i and (self.t[end - 1][0] in ("word", "num", "close", "text")
                                                              or self.t[end - 1][:2] == ("sym", "}")):
                    break                                  # closes a |…| opened before the sum
                else:
                    bars.append(v)
            elif depth == 0 and not bars and end > i and (
                    kind == "sym" and v in "+-=,;" or (kind, v) in _SEPARATORS
                    or (kind, v) == ("cmd", "rangle")):
                break
            end += 1
        return end

    def close_of(self, i, hi):
        """The token after the group opened at i: ( … ) with nesting, or a {…} group."""
        if self.t[i][:2] == ("sym", "{") or self.t[i][0] == "begin":
            return self.match[i] + 1
        depth = 0
        for j in range(i, hi):
            kind = self.t[j][0]
            if kind in ("begin",) or self.t[j][:2] == ("sym", "{"):
                continue
            depth += kind in ("open", "lbar")
            depth -= kind in ("close", "rbar")
            if depth == 0:
                return j + 1
        raise _Fail("unclosed '('", self.t[i][2])

    def operand_end(self, i, hi):
        r"""End of the operand of a function written without parentheses when it is a compound
        one (``\log\frac{a}{b}``, ``\log \sigma(z)``, ``\log\det X``, ``\log\sqrt{x}``); None when it
        is a name or number (then it is the next name, with its sub- and superscripts)."""
        kind, v, _ = self.t[i]
        if (kind, v) in (("cmd", "frac"), ("cmd", "dfrac"), ("cmd", "tfrac")):
            return self.arg(self.arg(i + 1, hi, "\\frac")[2], hi, "\\frac")[2]
        if (kind, v) == ("cmd", "sqrt"):
            return self.arg(i + 1, hi, "\\sqrt")[2]
        if (kind, v) == ("sym", "{"):
            return self.match[i] + 1
        if (kind, v) in (("cmd", "sum"), ("cmd", "prod")):              # \log \sum_k \exp(o_k)
            j = i + 1
            while j < hi and self.t[j][:2] in (("sym", "_"), ("sym", "^")):
                j = self.arg(j + 1, hi, self.t[j][1])[2]
            return self.summand_end(j, hi)
        fn = kind == "cmd" and (v in _FUNC_CMDS or v == "sigma") or kind in ("word", "text") and (
            v.strip().lower() in FUNCS or v.strip() in self.sheet.functions or v.strip() in self.sheet.define)
        if not fn or i + 1 >= hi:
            return None
        j = i + 1
        if self.t[j][:2] == ("sym", "^"):
            j = self.arg(j + 1, hi, "^")[2]
        if j < hi and self.t[j][:2] == ("open", "("):
            return self.close_of(j, hi)
        if j >= hi:
            return None
        end = self.operand_end(j, hi)
        if end is None and (self.t[j][0] in ("word", "num") or self.t[j][0] == "cmd" and (
                self.t[j][1] in GREEK or self.t[j][1] in _STYLES or self.t[j][1] in _ACCENTS)):
            end = self.arg(j + 1, hi, "\\" + self.t[j][1])[2] if self.t[j][1] in _STYLES | set(_ACCENTS) else j + 1
            while end < hi and self.t[end][:2] in (("sym", "_"), ("sym", "^")):
                end = self.arg(end + 1, hi, self.t[end][1])[2]
        return end

    def operand(self, i, hi, items):
        """A compound operand of a function without parentheses, parenthesized (see operand_end)."""
        end = self.operand_end(i, hi)
        if end is None:
            return i
        pos = self.t[i][2]
        items += [_Item("open", "(", pos), *self.convert(i, end), _Item("close", ")", pos)]
        return end

    def apply_power(self, i, hi, items):
        r"""``\tanh^2(x)`` → ``tanh(x)^2``; ``f^{-1}`` (the inverse function) is not read."""
        if not (i < hi and self.t[i][:2] == ("sym", "^")):
            return i
        pos = self.t[i][2]
        lo, h, j = self.arg(i + 1, hi, "^")
        exponent = self.join(self.convert(lo, h))
        if exponent.replace(" ", "") in ("-1", "(-1)"):
            raise _Fail(f"{items[-1].text}^{{-1}} is the inverse function, which graphviz-bp does not read", pos)
        if j >= hi:
            raise _Fail(f"{items[-1].text}^{exponent} needs an argument", pos)
        end = self.close_of(j, hi) if self.t[j][:2] == ("open", "(") else self.operand_end(j, hi) or j + 1
        inner = self.convert(j + 1, end - 1) if self.t[j][:2] == ("open", "(") else self.convert(j, end)
        close = _Item("close", ")", pos)
        close.post = "^" + (exponent if re.fullmatch(r"[\w.]+", exponent) else f"({exponent})")
        items += [_Item("open", "(", pos), *inner, close]
        return end

    def args_of(self, i, hi):
        """The arguments of a call whose ( is at token i: item lists, and the token after )."""
        end = self.close_of(i, hi)
        args, lo, depth = [], i + 1, 0
        for j in range(i + 1, end):
            kind, v, _ = self.t[j]
            if kind == "begin" or (kind, v) == ("sym", "{"):
                depth += 1
            elif kind == "end" or (kind, v) == ("sym", "}"):
                depth -= 1
            elif kind in ("open", "lbar"):
                depth += 1
            elif kind in ("close", "rbar"):
                depth -= 1
            if depth < 0 or depth == 0 and kind == "sym" and v in ",;":
                args.append(self.convert(lo, j))
                lo = j + 1
        return args, end

    def call(self, name, i, hi, pos, items):
        """``f(\\mathbf{x}_i; \\mathbf{w})`` of a function the sheet defines: its formula, arguments put in."""
        conv, params, body = self.sheet.functions[name]
        args, end = self.args_of(i, hi)
        if len(args) != len(params):
            raise _Fail(f"{name} is defined with {len(params)} argument(s) ({', '.join(params)}) but called "
                        f"with {len(args)}", pos)
        if name in self.sheet.calling or len(self.sheet.calling) > 32:
            raise _Fail(f"{name} is defined in terms of itself", pos)
        self.sheet.calling.append(name)
        saved = conv.used, conv.sample, conv.index
        conv.used, conv.sample, conv.index = set(), None, ()
        try:
            formula = conv.expand(conv.convert(*body))
        finally:
            self.sheet.calling.pop()
            inner_used, (conv.used, conv.sample, conv.index) = conv.used, saved
        self.used |= inner_used - set(params)
        self.sheet.called.add(name)
        out = []
        for it in formula:
            if it.kind == "name" and it.text + it.suffix in params and not it.post.startswith("["):
                arg = [copy.copy(a) for a in args[params.index(it.text + it.suffix)]]
                close = _Item("close", ")", it.pos)
                close.post = it.post
                out += [_Item("open", "(", it.pos), *arg, close]
            elif it.kind == "val" and any(re.search(rf"\b{re.escape(p)}\b", it.text) for p in params):
                raise _Fail(f"cannot put the arguments into {name}'s formula here ({it.text}): write "
                            f"{name}'s formula with parentheses, e.g. \\exp(-x)", it.pos)
            else:
                out.append(it)
        items += [_Item("open", "(", pos), *out, _Item("close", ")", pos)]
        return end

    def inner_product(self, i, hi, pos, items):
        r"""``\langle A, B \rangle`` → ``sum(A * B)`` (the Frobenius inner product)."""
        depth, sep = 0, None
        for j in range(i, hi):
            kind, v, _ = self.t[j]
            if (kind, v) == ("cmd", "rangle") and depth == 0:
                break
            depth += kind in ("open", "lbar", "begin") or (kind, v) in (("sym", "{"), ("cmd", "langle"))
            depth -= kind in ("close", "rbar", "end") or (kind, v) in (("sym", "}"), ("cmd", "rangle"))
            if depth == 0 and kind == "sym" and v == "," and sep is None:
                sep = j
        else:
            raise _Fail("\\langle without \\rangle", pos)
        if sep is None:
            raise _Fail("\\langle A, B \\rangle needs two arguments", pos)
        self.sheet.note("read as: ⟨A, B⟩ = Σ A∘B (the sum of the entrywise products)")
        a, b = self.convert(i, sep), self.convert(sep + 1, j)
        items += [_Item("func", "sum", pos), _Item("open", "(", pos), *self.paren(a, pos, True),
                  _Item("op", "*", pos), *self.paren(b, pos, True), _Item("close", ")", pos)]
        return j + 1

    @staticmethod
    def paren(items, pos, force=False):
        one = len(items) == 1 and (items[0].kind == "val" or items[0].atomic or len(items[0].text) == 1)
        return items if one and not force else [_Item("open", "(", pos), *items, _Item("close", ")", pos)]

    def sup(self, prev, i, hi, pos):
        """x^2, x^{a+b}, W^{(1)} (a label: W1), A^T (transpose), e^{z} (exp)."""
        target = self.cur_items                  # the items prev is in (converting the exponent resets it)
        lo, h, nxt = self.arg(i, hi, "^")
        core = [t for t in self.t[lo:h] if not (t[0] == "cmd" and t[1] in _STYLES
                                                  or t[:2] in (("sym", "{"), ("sym", "}")))]
        vals = [t[1] for t in core]
        if vals in (["T"], ["top"], ["intercal"], ["⊤"]):
            prev.post, prev.transposed = prev.post + "^T", True
        elif vals in (["-", "T"], ["-", "top"], ["-", "intercal"]) and prev.kind == "name" and not prev.post:
            if len(prev.text) > 1 and not (prev.atomic or prev.text in GREEK or prev.text in self.defined):
                head = [_Item("name", p, prev.pos) for p in re.findall(r"[^\W\d_]\d*", prev.text)]
                prev.text = head.pop().text                                  # XBX^{-T}: X B inv(X)^T
                target[-1:] = head + [prev]
            self.used.add(prev.text + prev.suffix)                        # X^{-T}: the inverse, transposed
            prev.kind, prev.text, prev.suffix, prev.post = "val", f"inv({prev.render()})", "", "^T"
            prev.transposed = True
        elif (prev.kind == "name" and not prev.post and len(core) == 3 and core[0][:2] == ("open", "(")
              and core[1][0] == "word" and core[1][1] in self.index):
            self.per_sample(prev, core[1][1], pos)                        # x^{(i)}: sample i
        elif (prev.kind == "name" and not prev.post and len(core) == 1 and core[0][0] == "word"
              and len(vals[0]) == 1 and self.is_label(prev, vals[0])):
            prev.tex = f"{prev.tex or _tex_of(prev)}^{{{vals[0]}}}"          # h^a, o^s: a label
            prev.suffix += "_" + vals[0]
        elif (prev.kind == "name" and not prev.post and len(core) == 3 and core[0][:2] == ("open", "(")
              and core[1][0] in ("num", "word") and core[2][0] == "close"):
            prev.tex = f"{prev.tex or _tex_of(prev)}^{{({vals[1]})}}"     # a layer index, not a power
            prev.suffix += "_" + vals[1]
        elif core and core[0][:2] == ("cmd", "circ"):                     # A^{\circ 2}: elementwise
            k = next(k for k in range(lo, h) if self.t[k][:2] == ("cmd", "circ"))
            if k + 1 >= h:
                raise _Fail("^{\\circ …} needs an exponent", pos)
            text = self.join(self.convert(k + 1, h))
            prev.post += "**" + (text if re.fullmatch(r"[\w.]+", text) else f"({text})")
        elif lo == i and self.t[lo][0] == "num" and len(vals[0]) > 1:
            raise _Fail(f"ambiguous exponent: write ^{{{vals[0]}}}", pos)
        else:
            text = self.join(self.convert(lo, h))
            if (prev.kind, prev.render(), prev.atomic) == ("name", "e", False) and "e" not in self.defined:
                target += [_Item("open", "(", pos), *self.convert(lo, h), _Item("close", ")", pos)]
                prev.kind, prev.text = "func", "exp"
            else:
                prev.post += "^" + (text if re.fullmatch(r"[\w.]+", text) else f"({text})")
        return nxt

    def is_label(self, prev, letter) -> bool:
        """Whether ``h^a`` is a name (a label) rather than a power: the sheet uses two letters on h
        or defines h^a; a power when the letter has a value or is a usual exponent (n, p, k, …)."""
        if (prev.text, letter) in self.sheet.labels:
            return True
        if prev.text in ("e",) or letter in self.defined or letter in self.sheet.given or letter in "npkmqrdtxyz":
            return False
        self.sheet.note(f"read as: {prev.text}^{letter} is a name (a label), not a power; give {letter} a value "
                        f"on the sheet to make it a power")
        return True

    def sub(self, prev, i, hi, pos):
        """x_1 → x1, x_i → x_i, ||e||_2, ||e||_\\infty → ||e||_inf."""
        lo, h, nxt = self.arg(i, hi, "_")
        toks = self.t[lo:h]
        toks = [(k, v.strip(), p) if k == "text" and re.fullmatch(r"\s*[^\W\d]\w*\s*", v) else (k, v, p)
                for k, v, p in toks]                                   # n_{\text{samples}}
        s = "".join("inf" if t[1] == "infty" else t[1] for t in toks)
        if not (toks and all(t[0] in ("num", "word") or t[1] == "infty"
                                     or t[0] == "text" and re.fullmatch(r"[^\W\d]\w*", t[1]) or t[0] == "cmd" and t[1] in GREEK
                             for t in toks) and not prev.post
                and (prev.kind == "name" or (prev.kind, prev.text) == ("close", "||"))):
            raise _Fail("cannot translate this subscript", pos)
        if prev.kind == "name" and self.index and s in sums.entry_subscripts(self.index):
            self.per_sample(prev, s, pos)                 # \sum_i w_i: the entries of w
        elif prev.kind == "name" and self.index and sums.mixes_index(s, self.index):
            raise _Fail(f"{prev.render()}_{{{s}}} mixes the summation index {self.index[0]} with another "
                        "index: write this sum in matrix form (W x, W^T y)", pos)
        elif prev.kind == "name":
            if len(s) == 1 and s.isalpha() and not self.header:
                self.sheet.entries.setdefault(prev.text, (prev.text + prev.suffix + "_" + s, pos))
            prev.suffix += "_" + s
            if prev.tex:
                prev.tex += f"_{{{s}}}"
        else:
            prev.post = "_" + s
        return nxt

    def per_sample(self, prev, s, pos):
        """A name subscripted by the index of the sum being read: sample k when the sum is written
        out term by term, else the whole vector (its entries are summed)."""
        base = prev.text + prev.suffix
        if self.bases is not None:
            self.bases.setdefault(base, prev.bold)
        self.sheet.summed.setdefault(prev.text, pos)
        if self.sample and len(s) == 1 and s == self.sample[0]:
            how = self.sample[2].get(base)
            k = self.sample[1]
            if how == "named":                           # y_1, y_2 given one by one
                prev.suffix += f"_{k}"
                if prev.tex:
                    prev.tex += f"_{{{k}}}"
            elif how == "upper":                         # x_i: row i of the data matrix X
                prev.text, prev.suffix, prev.post = prev.text.upper(), "", f"[{k - 1}]" + prev.post
            elif how in ("entry", "row"):
                prev.post = (f"[{k - 1}]" if how == "entry" else f"[{k - 1}, 0]") + prev.post
            elif how == "column":
                prev.post = f"[0, {k - 1}]" + prev.post
            else:
                raise _Fail(f"cannot read {base}_{s} per sample", pos)

    def norm_sub(self, prev, i, hi, pos, items):
        r"""``\|W\|_F`` (Frobenius: the root of the sum of squares), ``\|w\|_p^p`` with a letter p."""
        lo, h, nxt = self.arg(i, hi, "_")
        toks = self.t[lo:h]
        if [t[1] for t in toks] == ["F"]:
            self.sheet.note("read as: ‖W‖_F = √(Σ W²), the Frobenius norm")
            prev.post = "_2"
            return nxt
        if not (len(toks) == 1 and toks[0][0] == "word" and toks[0][1] != "F"):
            return self.sub(prev, i, hi, pos)
        p = toks[0][1]
        power = None
        if nxt < hi and self.t[nxt][:2] == ("sym", "^"):
            elo, eh, after = self.arg(nxt + 1, hi, "^")
            power = [t[1] for t in self.t[elo:eh]]
            nxt = after
        depth, k = 0, len(items) - 1
        while k >= 0:
            it = items[k]
            depth += (it.kind, it.text) == ("close", "||")
            depth -= (it.kind, it.text) == ("open", "||")
            if depth == 0:
                break
            k -= 1
        inner = items[k + 1:-1]
        bar = _Item("close", "|", pos)
        bar.post = f"^{p}"
        total = [_Item("func", "sum", pos), _Item("open", "(", pos), _Item("open", "|", pos), *inner, bar,
                 _Item("close", ")", pos)]
        if power == [p]:
            self.sheet.note(f"read as: ‖w‖_{p}^{p} = Σ|wᵢ|^{p}")
            del items[k:]
            items += total
        else:
            self.sheet.note(f"read as: ‖w‖_{p} = (Σ|wᵢ|^{p})^(1/{p})")
            close = _Item("close", ")", pos)
            close.post = f"^(1 / {p})"
            del items[k:]
            items += [_Item("open", "(", pos), *total, close]
            if power is not None:
                close.post = f"^({' '.join(power)} / {p})" if len(power) == 1 else close.post
                if len(power) != 1:
                    raise _Fail("write the power of a norm with a letter p as ^{2} or ^p", pos)
        return nxt

    def matrix(self, k):
        """\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix} → a [[1, 2], [3, 4]] item."""
        env, pos = self.t[k][1:]
        if env not in ("bmatrix", "pmatrix", "matrix"):
            raise _Fail(f"cannot translate the environment {env!r} (bmatrix, pmatrix, matrix are)", pos)
        rows, row, lo, j, end = [], [], k + 1, k + 1, self.match[k]
        while j <= end:
            t = self.t[j]
            if j < end and (t[0] == "begin" or t[:2] == ("sym", "{")):
                j = self.match[j]                            # skip a nested group
            elif j == end or t[:2] in (("sym", "&"), ("cmd", "\\")):
                cell = self.join(self.convert(lo, j))
                if not cell and not (j == end and not row and rows):     # a trailing \\ is allowed
                    raise _Fail("empty matrix entry", t[2])
                row += [_entry(cell, self.t[lo][2])] if cell else []
                if j == end or t[1] == "\\":
                    rows, row = rows + [row] if row else rows, []
                lo = j + 1
            j += 1
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise _Fail("matrix rows have different lengths", pos)
        return _Item("val", "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]", pos)

    def expand(self, items):
        """Split letter runs into names, record the names used, give ``\\log x`` its parentheses."""
        out = []
        for it in items:
            parts = [it]
            if it.kind == "name" and not (it.atomic or len(it.text) == 1 or it.text in GREEK
                                          or it.text.lower() in FUNCS or it.text in self.defined
                                          or it.text + it.suffix in self.defined):
                parts = [_Item("name", p, it.pos) for p in re.findall(r"[^\W\d_]\d*", it.text)]
                parts[-1].suffix, parts[-1].post, parts[-1].transposed = it.suffix, it.post, it.transposed
            for p in parts:
                if p.kind == "name":
                    self.used.add(p.text + p.suffix)
                    self.remember(p, it)
            for p in parts:
                if out and out[-1].kind == "func" and p.kind != "open":
                    if p.kind not in ("name", "val"):
                        raise _Fail(f"{out[-1].text} needs an argument", out[-1].pos)
                    p = _Item("val", f"{out[-1].text}({p.render()})", out.pop().pos)
                    p.atomic = "bare"
                elif out and getattr(out[-1], "atomic", None) == "bare" and p.kind in ("name", "val"):
                    raise _Fail(f"{out[-1].text} {p.render()}: where does the argument end? Write "
                                f"{out[-1].text.split('(')[0]}(… …) with parentheses", p.pos)
                out.append(p)
        if out and out[-1].kind == "func":
            raise _Fail(f"{out[-1].text} needs an argument", out[-1].pos)
        return out

    def remember(self, part, item):
        """What the notation's name cannot hold: bold (a tensor) and the sheet's LaTeX (W^{(1)})."""
        name = part.text + part.suffix
        if item.bold:
            self.tensor_names.add(name)
        tex = item.tex or (_tex_of(item) if item.bold else None)
        if tex and part is item:
            self.tex_names[name] = tex

    def join(self, items) -> str:
        """The notation text of items, with * (or @) where the sheet juxtaposes."""
        out, prev = [], None
        for it in self.expand(items):
            if prev is not None and prev.kind in _VALEND and it.kind in _VALSTART:
                out.append(f" {SHEET_PRODUCT} ")            # juxtaposition: resolved by shapes
            if it.kind == "op" and (prev is None or prev.kind in ("op", "open", "sep")):
                out.append(it.text.replace("+", ""))          # unary
            elif it.kind == "op":
                out.append(f" {it.text} ")
            else:
                out.append(it.render())
            prev = it
        return "".join(out)


def _statements(toks):
    """Split a span's tokens at top-level separators; a statement is its list of (lo, hi) sides.

    ``… \\rightarrow \\min_w`` (what is done with a loss) ends a formula; an empty last side (a
    line of an aligned derivation ending in ``=``) is dropped; a statement that starts with ``=``
    continues the derivation before it (a worked step) and is returned with an empty first side."""
    if toks and toks[-1][:2] == ("sym", "."):
        toks.pop()
    out, sides, lo, depth, skip = [], [], 0, 0, False
    for k, (kind, v, pos) in enumerate(toks + [("sym", ";", None)]):
        depth += kind in ("open", "lbar", "begin") or (kind, v) in (("sym", "{"), ("cmd", "langle"))
        depth -= kind in ("close", "rbar", "end") or (kind, v) in (("sym", "}"), ("cmd", "rangle"))
        prose = kind == "text" and not re.fullmatch(r"[^\W\d]\w*", v)   # \text{ for all } ends a formula
        arrow = depth <= 0 and kind == "cmd" and v in ("rightarrow", "to", "longrightarrow", "implies",
                                                        "Rightarrow", "iff", "Longrightarrow")
        if pos is None or depth <= 0 and ((kind, v) in _SEPARATORS or prose or arrow):
            if not skip and (k > lo or sides):
                sides = sides + [(lo, k)]
                while len(sides) > 2 and sides[-1][1] <= sides[-1][0]:
                    sides.pop()                                  # "y &= a + b = \\"
                out.append(sides)
            sides, lo, skip = [], k + 1, arrow or (skip and (kind, v) not in _SEPARATORS and pos is not None)
        elif depth <= 0 and (kind, v) == ("sym", "=") and not skip:
            sides, lo = sides + [(lo, k)], k + 1
    return out


class _Stmt:
    __slots__ = ("name", "rhs", "used", "pos", "conv", "span", "inline", "params")

    def __init__(self, name, pos, conv, span, inline=False, params=()):
        self.name, self.pos, self.conv, self.span, self.rhs, self.used = name, pos, conv, span, "", set()
        self.inline, self.params = inline, params


_FRACTION = re.compile(r"(-?)\(?(\d+(?:\.\d+)?)\)? / \(?(\d+(?:\.\d+)?)\)?")


def _entry(cell: str, pos) -> str:
    """A matrix entry: a number, or a fraction of two numbers (``\\frac{1}{2}`` → ``0.5``)."""
    if re.fullmatch(r"-?\d+(?:\.\d+)?", cell):
        return cell
    m = _FRACTION.fullmatch(cell)
    if m and float(m.group(3)) != 0:
        return repr(float(m.group(1) + m.group(2)) / float(m.group(3)))
    raise _Fail(f"a matrix entry must be a number or a fraction of numbers, not {cell!r}", pos)


def _is_literal(rhs: str) -> bool:
    """A number or a bracket literal (a given value), not a formula such as ``1 + 2``."""
    if not re.fullmatch(r"[-+\d.e\[\], ]+", rhs):
        return False
    try:
        (st,) = parse_program("v = " + rhs)
    except (InputError, ValueError):
        return False
    return st.expr.__class__ in (Num, Literal)


def _tex_of(item) -> str:
    """The LaTeX of a name item as read so far: ``W``, ``\\beta``, ``\\hat{y}``, ``\\mathbf{x}_{1}``."""
    base, sub = item.text, item.suffix.lstrip("_")
    hat = base.endswith("hat") and len(base) > 3
    core = base[:-3] if hat else base
    core = "\\" + core if core in GREEK else core
    core = "\\hat{" + core + "}" if hat else core
    core = "\\mathbf{" + core + "}" if item.bold else core
    return core + (f"_{{{sub}}}" if sub else "")


def _where(text, pos):
    pos = len(text) if pos is None else pos
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


@dataclass
class Translation:
    """What a pasted sheet says: the program in the notation, and what the notation cannot hold."""
    program: str                                          # one statement a line
    tex_names: dict[str, str] = field(default_factory=dict)   # name -> LaTeX as on the sheet
    variables: list[str] = field(default_factory=list)    # f(x, y) = …: the variables of interest
    origins: list[tuple[int, int]] = field(default_factory=list)  # (line, column) of each statement
    reading_notes: list[str] = field(default_factory=list)    # "read as: …" where the reader chose
    declared_shapes: dict[str, tuple] = field(default_factory=dict)   # X \in R^{D \times D}: ("D", "D")


def translate(text: str, define: dict | None = None, given: dict | None = None) -> Translation:
    """Translate pasted LaTeX (see the module doc); bad LaTeX is an InputError at its line and column.

    ``define`` names the functions the sheet leaves unspecified (``{"f": "sigmoid"}``: ``f(…)`` is
    then ``sigmoid(…)``); ``given`` the shapes (or values) of inputs given outside the sheet
    (``--at``), which inform the reading of sums over samples.

    >>> t = translate(r"$$f(x, y) = x^2 + xy + (x + y)^2.$$")
    >>> t.program, t.variables
    ('f = x^2 + x * y + (x + y)^2\\n', ['x', 'y'])
    """
    define = {k: _function_choice(k, v) for k, v in (define or {}).items()}
    given = {k: (v if isinstance(v, tuple) else _shape_of(v)) for k, v in (given or {}).items()}
    sheet = _Sheet(define, given)
    try:
        stmts, variables, tensor_names, tex_names = _translate(text, sheet)
    except (_Fail, prose.SpanError) as e:
        raise InputError(e.args[0], *_where(text, e.args[1]), kind="syntax") from None
    draft = "".join(f"{s.name} = {s.rhs}\n" if s.name else s.rhs + "\n" for s in stmts)
    origins = [_where(text, s.pos) for s in stmts]
    try:
        statements = resolve(parse_program(draft), draft, tensor_names)
    except InputError as e:
        raise at_origin(e, origins) from None
    from .convert import to_plain
    return Translation(to_plain(statements), tex_names, variables, origins, sheet.notes, sheet.declared)


def _function_choice(name, choice):
    """``--define f=sigmoid``: the function of the op table that ``f`` stands for."""
    from ..core.ops import FUNCTIONS, OPS
    choice = str(choice).strip()
    op = FUNCTIONS.get(choice) or FUNCTIONS.get(choice.lower())
    if op is None or OPS[op].arity != 1:
        names = sorted(k for k, v in FUNCTIONS.items() if OPS[v].arity == 1 and k.isascii())
        raise InputError(f"--define {name}={choice}: choose a function of one argument: {', '.join(names)}",
                         kind="usage")
    spelled = next(k for k, v in FUNCTIONS.items() if v == op and k.lower() in FUNCS)
    return spelled.lower()


def _shape_of(value):
    import numpy as np
    return np.shape(np.asarray(value, dtype=float))


def at_origin(error: InputError, origins: list[tuple[int, int]]) -> InputError:
    """An error in the translated program, placed at the statement of the pasted text it came from."""
    if error.line is None or not 0 < error.line <= len(origins):
        return error
    error.line, error.column = origins[error.line - 1]
    error.args = (str(error),)
    return error


def latex_to_program(text: str) -> str:
    """Translate pasted LaTeX into notation text, one statement per line (see the module doc)."""
    return translate(text).program


def _declaration(conv, sides) -> bool:
    r"""``W \in \mathbb{R}^{M \times p}``: not a formula, but it says W is a vector or a matrix."""
    if len(sides) != 1:
        return False
    lo, hi = sides[0]
    at = next((k for k in range(lo, hi) if conv.t[k][:2] == ("cmd", "in")), None)
    if at is None:
        return False
    sup = next((k for k in range(at, hi) if conv.t[k][:2] == ("sym", "^")), None)
    if sup is not None:
        conv.header = True                                  # x_i \in R^D names sample i, not an entry
        try:
            names = [it.text + it.suffix for it in conv.convert(lo, at) if it.kind == "name"]
            dims_lo, dims_hi, _ = conv.arg(sup + 1, hi, "^")
        except _Fail:
            return True
        finally:
            conv.header = False
        dims, dim = [], []
        for t in conv.t[dims_lo:dims_hi] + [("cmd", "times", None)]:
            if t[:2] == ("cmd", "times"):
                dims, dim = dims + [tuple(x[:2] for x in dim)], []
            else:
                dim.append(t)
        conv.tensor_names.update(names)
        shape = tuple(_dim_text(d) for d in dims)
        for name in names:
            conv.sheet.declared[name] = shape
        if len(dims) == 2 and dims[0] == dims[1] and dims[0]:
            conv.square_names.update(names)                # R^{D \times D}: X^2 is a matrix power
    return True


def _dim_text(dim):
    """A declared dimension: a whole number, or the symbol as the sheet writes it (``D``, ``d_h``)."""
    text = "".join(v for _, v in dim)
    return int(text) if text.isdigit() else text


def _name_only(conv, side):
    """The name item when a side of ``a = b = c`` is just a name (then all are set to c), else None."""
    try:
        items = conv.convert(*side)
    except _Fail:
        return None
    return items[0] if len(items) == 1 and items[0].kind == "name" and not items[0].post else None


_INDEX_FORM = re.compile(r"_[ijklnm](?:_|$)")


def _translate(text, sheet):
    """The sheet's statements in order, its variables, its bold names and its names' LaTeX."""
    stmts, defined, variables, tensor_names, tex_names, square_names = [], {}, [], set(), {}, set()
    limits = current_limits()                  # once: reading the environment costs a span's work
    for name, shape in prose.size_declarations(text).items():
        tensor_names.add(name)
        sheet.declared[name] = shape
        sheet.note(f"read as: {name} is a {'square matrix' if shape[0] == shape[1] else 'vector or matrix'} "
                   f"(the sheet gives its size in words: {shape[0]}×{shape[1]})")
        if shape[0] == shape[1]:
            square_names.add(name)
    sheet.labels = _labels(text)
    sheet.convolution = prose.mentions_convolution(text)
    skipped, claims = [], []
    for lo, hi, inline in prose.spans(text):
        conv = _Converter(_tokens(text, lo, hi), limits, tensor_names, square_names, tex_names, sheet)
        for sides in _statements(conv.t):
            if _declaration(conv, sides):
                continue
            if all(conv.t[k][:2] == ("sym", "&") for k in range(*sides[0])):
                continue                                       # "&= …": a step of a derivation
            if [conv.t[k][1] for k in range(*sides[-1])] == ["?"]:
                continue                                       # "L = ?": a question
            if len(sides) == 1:
                if not inline:
                    stmts.append(_Stmt(None, conv.t[sides[0][0]][2], conv, sides[0]))
                continue
            conv.header = True
            try:
                lhs = conv.convert(*sides[0])
            except _Fail:
                if inline:
                    continue
                raise
            finally:
                conv.header = False
            head = lhs[0] if lhs else None
            at = conv.t[sides[1][0] - 1][2]
            header_ok = head is not None and head.kind == "name" and not head.post and (
                len(lhs) == 1 or lhs[1].kind == "open" and lhs[-1].kind == "close")
            if not header_ok:
                if inline:
                    continue                  # a claim in a sentence
                if head is not None and (head.kind in ("func", "open") or head.kind == "val" and "(" in head.text):
                    claims.append(_Stmt(None, head.pos, conv, sides[0]))
                    continue                  # \ln \sigma(x) = -softplus(-x), \|x\|_2^2 = \sum_i x_i^2
                raise _Fail("the left side of = must be a name, e.g. L or f(x, y)", head.pos if head else at)
            if _INDEX_FORM.search(head.suffix) and len(lhs) == 1:
                skipped.append((head.text + head.suffix, head.pos))
                continue                       # y_i = β + ε_i: about every entry, not a definition
            params = [it.text + it.suffix for it in lhs[1:] if it.kind == "name"]
            rhs = _right_side(conv, sides, params)
            if rhs[1] <= rhs[0]:
                raise _Fail("nothing after =", at)
            variables += params
            if len(lhs) > 1 and params:
                sheet.functions.setdefault(head.text + head.suffix, (conv, params, rhs))
            middle = [_name_only(conv, side) for side in sides[1:-1]] if rhs is sides[-1] else []
            for head in [head] + [m for m in middle if m is not None and all(middle)]:   # x = y = 3
                stmts.append(_Stmt(head.text + head.suffix, head.pos, conv, rhs, inline, params))
                if stmts[-1].name in defined:
                    line, col = _where(text, defined[stmts[-1].name].pos)
                    raise _Fail(f"{stmts[-1].name} is defined twice (first at line {line}, column {col})",
                                head.pos)
                defined[stmts[-1].name] = stmts[-1]
                conv.remember(head, head)
    for s in stmts:
        s.conv.defined = defined
    later = [s for s in stmts if any(conv_t[:2] in (("cmd", "sum"), ("cmd", "prod"))
                                     for conv_t in s.conv.t[s.span[0]:s.span[1]])]
    for s in [s for s in stmts if s not in later] + later:     # data before the sums that use them
        s.conv.used = s.used
        s.rhs = s.conv.join(s.conv.convert(*s.span))
        if s.name in s.used:
            raise _Fail(f"{s.name} is defined in terms of itself", s.pos)
        if s.name and _is_literal(s.rhs):
            value = parse_program("v = " + s.rhs)[0].expr
            if value.__class__ is Num:
                sheet.numbers[s.name] = value.value
                sheet.data[s.name] = ()
            else:
                sheet.data[s.name] = value.value.shape
    if not stmts and claims:          # a sheet that only states an identity: its left side is asked about
        claim = claims[-1]
        claim.conv.used = claim.used
        claim.rhs = claim.conv.join(claim.conv.convert(*claim.span))
        stmts.append(claim)
        sheet.note(f"read as: the left side, {claim.rhs} (the right side is the sheet's claim about it)")
    elif claims:
        sheet.note(f"not read: {len(claims)} identity(ies) whose left side is not a name")
    for base, (name, pos) in sheet.entries.items():
        if base in sheet.summed:
            raise _Fail(f"{name} reads as entry {name.rsplit('_', 1)[-1]} of the vector {base}, whose entries a sum "
                        f"runs over: write the whole-vector formula (or the entry with an index, {base}[0])", pos)
    stmts = [s for s in stmts if s.name or not re.fullmatch(r"[\w.]+", s.rhs)]     # drop mentions
    stmts = [s for s in stmts if s.name not in sheet.called]      # functions are inlined where called
    model = [s for s in stmts if s.inline and s.name and f"{s.name}_1" in defined]
    if model:                           # "y = w x" in a sentence about the data y_1, y_2: a model
        sheet.note("not read: " + ", ".join(f"{s.name} = {s.rhs}" for s in model)
                   + " (a model statement in prose; the data are given)")
        stmts = [s for s in stmts if s not in model]
    helpers = [s for s in stmts if s.name in sheet.functions and s.params and set(s.params) <= s.used
               and not set(s.params) & set(defined)
               and not any(set(s.params) & t.used for t in stmts if t is not s)]
    if helpers and len(helpers) < len(stmts):
        sheet.note("not read: " + ", ".join(f"{s.name}({', '.join(s.params)}) = …" for s in helpers)
                   + " (a function the sheet defines but does not call)")
        stmts = [s for s in stmts if s not in helpers]
    used = set().union(*(s.used for s in stmts)) if stmts else set()
    for symbol, (count, pos) in sheet.implied.items():
        if symbol in used and symbol not in defined:
            st = _Stmt(symbol, pos, None, None)
            st.rhs = str(count)
            stmts.insert(0, st)
            defined[symbol] = st
            sheet.note(f"read as: {symbol} = {count}, the number of samples given")
    if skipped:
        sheet.note("not read: " + ", ".join(f"{n} = …" for n, _ in skipped)
                   + " (a statement about each entry; graphviz-bp reads the vector formulas)")
    if not stmts:
        if skipped:
            raise _Fail(f"{skipped[0][0]} = … states each entry (index form): write the formula for the "
                        "whole vector, e.g. h = W x + b", skipped[0][1])
        raise _Fail("no formulas found", 0)
    tensors = {name: SQUARE if name in square_names else None for name in tensor_names | square_names}
    for name, shape in sheet.given.items():        # --at values: their shapes decide products and powers
        if name not in defined and shape:
            tensors[name] = tuple(shape)
    return _order(stmts, defined, text), list(dict.fromkeys(variables)), tensors, tex_names


def _right_side(conv, sides, params=()):
    """The formula of ``a = … = …``: the first side after the name that is not a label such as
    ``P(y=1)`` and, for ``L(W_1, W_2) = …``, that uses the header's variables; the last side
    when every side between is a name (``x = y = 3``)."""
    middle = [_name_only(conv, side) for side in sides[1:-1]]
    if middle and all(middle):
        return sides[-1]
    formulas = [side for side in sides[1:] if not any(conv.t[k][:2] == ("sym", "=") for k in range(*side))]
    for side in formulas:
        words = {conv.t[k][1] for k in range(*side) if conv.t[k][0] == "word"}
        if not params or all(p.split("_")[0] in words for p in params):
            return side
    return formulas[0] if formulas else sides[1]


def _labels(text) -> set:
    r"""(base, letter) pairs that are labels, not powers: ``h^a`` and ``h^s`` on one sheet (a base
    with two letter superscripts), or a letter superscript on the left of ``=`` (``o^a = …``)."""
    seen: dict = {}
    out = set()
    for m in re.finditer(r"(?<![\\\w])([A-Za-z])(?:_\{?\w+\}?)?\s*\^\s*(?:\{\s*([a-z])\s*\}|([a-z])(?!\w))"
                         r"(?:_\{?\w+\}?)?(\s*=)?", text):
        base, letter = m.group(1), m.group(2) or m.group(3)
        if base == "e" or letter == "T":
            continue
        seen.setdefault(base, set()).add(letter)
        if m.group(4):
            out.add((base, letter))
    return out | {(b, x) for b, letters in seen.items() if len(letters) > 1 for x in letters}


def _order(stmts, defined, text):
    """Literals first, then definitions before use (stable), the sheet's final statement last."""
    literal = [s for s in stmts if s.name and _is_literal(s.rhs)]
    rest = [s for s in stmts if s not in literal]
    used = set().union(*(s.used for s in stmts))
    final = ([s for s in rest if s.name not in used] or [None])[-1]
    stray = [s for s in stmts if s.name is None and s is not final]
    if stray:
        raise _Fail("an expression without a name must be the last formula", stray[0].pos)
    pending = [s for s in rest if s is not final]
    index = {id(s): k for k, s in enumerate(pending)}
    users, indeg = [[] for _ in pending], [0] * len(pending)
    for k, s in enumerate(pending):
        for d in {index.get(id(defined[n])) for n in s.used if n in defined} - {None}:
            users[d].append(k)
            indeg[k] += 1
    ready, order = [k for k, n in enumerate(indeg) if n == 0], []
    while ready:                               # Kahn's algorithm, taking the earliest ready statement
        k = heapq.heappop(ready)
        order.append(pending[k])
        for u in users[k]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, u)
    if len(order) < len(pending):
        cycle = [s for k, s in enumerate(pending) if indeg[k] > 0]
        places = ", ".join("{} (line {}, column {})".format(s.name, *_where(text, s.pos)) for s in cycle)
        raise _Fail(f"circular definitions: {places} are defined in terms of each other", cycle[0].pos)
    return literal + order + ([final] if final else [])
