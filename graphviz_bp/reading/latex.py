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

import heapq
import re
from dataclasses import dataclass, field

from ..core.errors import InputError
from ..core.limits import current as current_limits
from .parser import Literal, Num, parse_program
from .resolve import SHEET_PRODUCT, SQUARE, resolve

FUNCS = set("exp log ln sqrt sin cos tanh sigmoid relu rect softplus abs sign max min sum mean "
            "tr trace det inv softmax logsumexp conv2d".split())
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
_CLOSERS = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
_OPENER = re.compile(r"(?<!\\)(\$\$|\$|\\\[|\\\()")
_TOKEN = re.compile(r"""(?P<ws>\s+|%[^\n]*|~|\\(?:tag|label)\*?\s*\{[^{}]*\})
  | \\(?P<env>begin|end)\s*\{\s*(?P<envname>[a-zA-Z]+\*?)\s*\}
  | (?:\\(?P<lr>left|right)\s*)?(?P<delim>[()\[\]|]|\\[{}|]|\\[lr]?[vV]ert(?![a-zA-Z]))
  | \\(?:text|operatorname\*?|mathrm|textrm|mbox)\s*\{(?P<text>[^{}]*)\}
  | \\(?P<cmd>[a-zA-Z]+|.)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<word>[^\W\d_][^\W_]*)
  | (?P<sym>.)""", re.VERBOSE | re.DOTALL)
_VALEND, _VALSTART = {"name", "val", "close"}, {"name", "val", "open", "func"}


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
            out.append((side, "||" if v == "\\|" or "V" in v else "|", start))
        elif kind != "ws" and not (kind == "cmd" and v in _SKIP):
            out.append((kind, v, start))
    return out


class _Converter:
    """Rewrites the tokens of one math span; ``defined`` names are never split into letters."""

    def __init__(self, toks, limits, tensor_names: set, square_names: set, tex_names: dict):
        self.t, self.defined, self.used, self.match = toks, {}, set(), {}
        # shared by every span of the sheet:
        self.tensor_names = tensor_names         # names the sheet writes bold: vectors and matrices
        self.square_names = square_names         # X \in \mathbb{R}^{D \times D}: square matrices
        self.tex_names = tex_names               # W_1 -> W^{(1)}: what the notation's name loses
        self.index: str | None = None            # the index of the \sum being read (w_i -> w)
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
                if w.lower() in FUNCS and (calls or kind == "text"):
                    items.append(_Item("func", w.lower(), pos))
                elif re.fullmatch(r"[^\W\d]\w*", w):
                    items.append(_Item("name", w, pos, atomic=kind == "text"))
                else:
                    raise _Fail(f"cannot translate the text {v!r}", pos)
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
            elif kind == "sym" and v in "+-*/":
                items.append(_Item("op", v, pos))
            elif kind == "sym" and v in ",;":
                if stack and not stack[-1][2]:
                    raise _Fail("a list (a, b) is read only as the arguments of a known function such as "
                                "\\max(a, b); a function defined on the sheet, like f(x; w), must be "
                                "written out", stack[-1][1])
                items.append(_Item("sep", ", ", pos))
            elif (kind, v) == ("sym", "&"):
                pass                                            # an alignment point
            elif kind == "sym" and v in "^_":
                if prev is None or prev.kind not in _VALEND:
                    raise _Fail(f"{v} needs something before it", pos)
                i = (self.sup if v == "^" else self.sub)(prev, i, hi, pos)
            elif kind != "cmd":
                raise _Fail(f"cannot translate {v!r}", pos)
            elif v in GREEK or v in _VAR:
                items.append(_Item("func", "sigmoid", pos) if v == "sigma" and calls
                             else _Item("name", _VAR.get(v, v), pos))
            elif v in _FUNC_CMDS or v == "sum" and calls:
                items.append(_Item("func", v, pos))
            elif v in _OPS:
                items.append(_Item("op", _OPS[v], pos))
            elif v in ("frac", "dfrac", "tfrac"):
                a_lo, a_hi, i = self.arg(i, hi, "\\frac")
                b_lo, b_hi, i = self.arg(i, hi, "\\frac")
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
            elif v == "sum":
                i = self.indexed_sum(i, hi, pos, items)
            elif v in ("partial", "nabla"):
                raise _Fail(f"cannot translate \\{v}: paste the function itself, graphviz-bp works out "
                            "its derivatives", pos)
            else:
                raise _Fail(f"cannot translate \\{v}", pos)
        if stack:
            raise _Fail(f"unclosed {stack[-1][0]!r}", stack[-1][1])
        return items

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

    def indexed_sum(self, i, hi, pos, items):
        r"""``\sum_i w_i^p``, ``\sum_{i=1}^{N} (y_i - \hat{y}_i)^2``: the sum of the entries.

        The index only subscripts names (``w_i`` is an entry of ``w``); the limits are dropped
        (the whole vector is summed); the summand runs to the next ``+`` or ``-`` outside brackets."""
        index = None
        if i < hi and self.t[i][:2] == ("sym", "_"):
            lo, h, i = self.arg(i + 1, hi, "\\sum_")
            words = [t[1] for t in self.t[lo:h] if t[0] == "word"]
            index = words[0] if words else None
        if index is None:
            raise _Fail("\\sum needs an index (\\sum_i w_i) or parentheses (\\sum(w))", pos)
        if i < hi and self.t[i][:2] == ("sym", "^"):
            i = self.arg(i + 1, hi, "\\sum^")[2]
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
                elif depth == 0 and not bars and end > i and self.t[end - 1][0] in ("word", "num", "close", "text"):
                    break                                  # closes a |…| opened before the sum
                else:
                    bars.append(v)
            elif depth == 0 and not bars and end > i and (
                    kind == "sym" and v in "+-=,;" or (kind, v) in _SEPARATORS):
                break
            end += 1
        if end == i:
            raise _Fail("\\sum needs something to sum", pos)
        outer, self.index = self.index, index
        try:
            inner = self.convert(i, end)
        finally:
            self.index = outer
        items += [_Item("func", "sum", pos), _Item("open", "(", pos), *inner, _Item("close", ")", pos)]
        return end

    @staticmethod
    def paren(items, pos, force=False):
        one = len(items) == 1 and (items[0].kind == "val" or items[0].atomic or len(items[0].text) == 1)
        return items if one and not force else [_Item("open", "(", pos), *items, _Item("close", ")", pos)]

    def sup(self, prev, i, hi, pos):
        """x^2, x^{a+b}, W^{(1)} (a label: W1), A^T (transpose), e^{z} (exp)."""
        lo, h, nxt = self.arg(i, hi, "^")
        core = [t for t in self.t[lo:h] if not (t[0] == "cmd" and t[1] in _STYLES
                                                  or t[:2] in (("sym", "{"), ("sym", "}")))]
        vals = [t[1] for t in core]
        if vals in (["T"], ["top"], ["intercal"], ["⊤"]):
            prev.post, prev.transposed = prev.post + "^T", True
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
                prev.kind, prev.text = "val", f"exp({text})"
            else:
                prev.post += "^" + (text if re.fullmatch(r"[\w.]+", text) else f"({text})")
        return nxt

    def sub(self, prev, i, hi, pos):
        """x_1 → x1, x_i → x_i, ||e||_2, ||e||_\\infty → ||e||_inf."""
        lo, h, nxt = self.arg(i, hi, "_")
        toks = self.t[lo:h]
        s = "".join("inf" if t[1] == "infty" else t[1] for t in toks)
        if not (toks and all(t[0] in ("num", "word") or t[1] == "infty" or t[0] == "cmd" and t[1] in GREEK
                             for t in toks) and not prev.post
                and (prev.kind == "name" or (prev.kind, prev.text) == ("close", "||"))):
            raise _Fail("cannot translate this subscript", pos)
        if prev.kind == "name" and s == self.index:
            pass                                          # \sum_i w_i: the entries of w
        elif prev.kind == "name":
            prev.suffix += "_" + s
            if prev.tex:
                prev.tex += f"_{{{s}}}"
        else:
            prev.post = "_" + s
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


def _spans(text):
    """(start, end) of each math span; with no delimiters at all, each line with a = or a \\."""
    if not _OPENER.search(text):
        return [(m.start(), m.end()) for m in re.finditer(r"[^\n]*[=\\][^\n]*", text)]
    spans, i = [], 0
    while m := _OPENER.search(text, i):
        end = re.compile(r"(?<!\\)" + re.escape(_CLOSERS[m.group()])).search(text, m.end())
        if end is None or (m.group() == "$" and "\n" in text[m.end():end.start()]):
            raise _Fail(f"unterminated {m.group()}", m.start())
        spans.append((m.end(), end.start()))
        i = end.end()
    return spans


def _statements(toks):
    """Split a span's tokens at top-level separators; a statement is its list of (lo, hi) sides."""
    if toks and toks[-1][:2] == ("sym", "."):
        toks.pop()
    out, sides, lo, depth = [], [], 0, 0
    for k, (kind, v, pos) in enumerate(toks + [("sym", ";", None)]):
        depth += kind in ("open", "lbar", "begin") or (kind, v) == ("sym", "{")
        depth -= kind in ("close", "rbar", "end") or (kind, v) == ("sym", "}")
        prose = kind == "text" and not re.fullmatch(r"[^\W\d]\w*", v)   # \text{ for all } ends a formula
        if pos is None or depth <= 0 and ((kind, v) in _SEPARATORS or prose):
            if k > lo or sides:
                out.append(sides + [(lo, k)])
            sides, lo = [], k + 1
        elif depth <= 0 and (kind, v) == ("sym", "="):
            sides, lo = sides + [(lo, k)], k + 1
    return out


class _Stmt:
    __slots__ = ("name", "rhs", "used", "pos", "conv", "span")

    def __init__(self, name, pos, conv, span):
        self.name, self.pos, self.conv, self.span, self.rhs, self.used = name, pos, conv, span, "", set()


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


def translate(text: str) -> Translation:
    """Translate pasted LaTeX (see the module doc); bad LaTeX is an InputError at its line and column.

    >>> t = translate(r"$$f(x, y) = x^2 + xy + (x + y)^2.$$")
    >>> t.program, t.variables
    ('f = x^2 + x * y + (x + y)^2\\n', ['x', 'y'])
    """
    try:
        stmts, variables, tensor_names, tex_names = _translate(text)
    except _Fail as e:
        raise InputError(e.args[0], *_where(text, e.args[1]), kind="syntax") from None
    draft = "".join(f"{s.name} = {s.rhs}\n" if s.name else s.rhs + "\n" for s in stmts)
    origins = [_where(text, s.pos) for s in stmts]
    try:
        statements = resolve(parse_program(draft), draft, tensor_names)
    except InputError as e:
        raise at_origin(e, origins) from None
    from .convert import to_plain
    return Translation(to_plain(statements), tex_names, variables, origins)


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
        try:
            names = [it.text + it.suffix for it in conv.convert(lo, at) if it.kind == "name"]
            dims_lo, dims_hi, _ = conv.arg(sup + 1, hi, "^")
        except _Fail:
            return True
        dims, dim = [], []
        for t in conv.t[dims_lo:dims_hi] + [("cmd", "times", None)]:
            if t[:2] == ("cmd", "times"):
                dims, dim = dims + [tuple(x[:2] for x in dim)], []
            else:
                dim.append(t)
        conv.tensor_names.update(names)
        if len(dims) == 2 and dims[0] == dims[1] and dims[0]:
            conv.square_names.update(names)                # R^{D \times D}: X^2 is a matrix power
    return True


def _name_only(conv, side):
    """The name item when a side of ``a = b = c`` is just a name (then all are set to c), else None."""
    try:
        items = conv.convert(*side)
    except _Fail:
        return None
    return items[0] if len(items) == 1 and items[0].kind == "name" and not items[0].post else None


def _translate(text):
    """The sheet's statements in order, its variables, its bold names and its names' LaTeX."""
    stmts, defined, variables, tensor_names, tex_names, square_names = [], {}, [], set(), {}, set()
    limits = current_limits()                  # once: reading the environment costs a span's work
    for lo, hi in _spans(text):
        conv = _Converter(_tokens(text, lo, hi), limits, tensor_names, square_names, tex_names)
        for sides in _statements(conv.t):
            if _declaration(conv, sides):
                continue
            if len(sides) == 1:
                stmts.append(_Stmt(None, conv.t[sides[0][0]][2], conv, sides[0]))
                continue
            conv.header = True
            try:
                lhs = conv.convert(*sides[0])
            finally:
                conv.header = False
            middle = [_name_only(conv, side) for side in sides[1:-1]]
            head, rhs = (lhs[0] if lhs else None), sides[-1] if middle and all(middle) else sides[1]
            at = conv.t[rhs[0] - 1][2]                                       # the "=" before rhs
            if head is None or head.kind != "name" or head.post or len(lhs) > 1 and not (
                    lhs[1].kind == "open" and lhs[-1].kind == "close"):
                raise _Fail("the left side of = must be a name, e.g. L or f(x, y)", head.pos if head else at)
            if rhs[1] <= rhs[0]:
                raise _Fail("nothing after =", at)
            variables += [it.text + it.suffix for it in lhs[1:] if it.kind == "name"]
            for head in [head] + (middle if rhs is sides[-1] else []):     # x = y = 3 sets both
                stmts.append(_Stmt(head.text + head.suffix, head.pos, conv, rhs))
                if stmts[-1].name in defined:
                    line, col = _where(text, defined[stmts[-1].name].pos)
                    raise _Fail(f"{stmts[-1].name} is defined twice (first at line {line}, column {col})",
                                head.pos)
                defined[stmts[-1].name] = stmts[-1]
                conv.remember(head, head)
    for s in stmts:
        s.conv.defined, s.conv.used = defined, s.used
        s.rhs = s.conv.join(s.conv.convert(*s.span))
        if s.name in s.used:
            raise _Fail(f"{s.name} is defined in terms of itself", s.pos)
    stmts = [s for s in stmts if s.name or not re.fullmatch(r"[\w.]+", s.rhs)]     # drop mentions
    if not stmts:
        raise _Fail("no formulas found", 0)
    tensors = {name: SQUARE if name in square_names else None for name in tensor_names | square_names}
    return _order(stmts, defined, text), list(dict.fromkeys(variables)), tensors, tex_names


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
