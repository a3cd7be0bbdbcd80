r"""The LaTeX of one math span → items of the plain notation (names, values, functions, operators).

Names (``\\hat{y}`` → ``yhat``, ``W^{(1)}`` → ``W_1``, ``h^a`` a label), sub- and superscripts
(``x^2``, ``A^T``, ``X^{-T}``, ``e^{z}``), ``\\frac``, norms, matrices, brackets; sums are read by
:class:`graphviz_bp.reading.sums.SumReading`, functions by
:class:`graphviz_bp.reading.sheet_functions.FunctionReading`.  :meth:`Converter.join` writes the
items as notation text, with the sheet product ``⋅`` where the sheet juxtaposes.
"""
from __future__ import annotations

import math
import re

from .latex_tokens import (_ACCENTS, _BOLD, _FUNC_CMDS, _FUNCTION_LETTERS, _OPS, _STYLES, _VALEND,
                           _VALSTART, _VAR, FUNCS, GREEK, _Fail, _Item, _is_differential, _Sheet, _tex_of,
                           _unknown_function)
from .resolve import SHEET_PRODUCT
from .sheet_functions import FunctionReading
from .sums import SumReading
from ..core.errors import InputError
from . import sums

class Converter(SumReading, FunctionReading):
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
                    try:
                        limits.refuse("max_depth", "brace nesting")
                    except InputError as exc:      # issue 19: translate() says where (line, column)
                        exc.offset = pos
                        raise
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
                elif calls and not self.header and w == "d" and "d" not in self.defined:
                    raise _Fail("d(…) reads as a differential: differentials are not read; paste the function "
                                "itself, graphviz-bp works out its derivatives", pos)
                elif calls and not self.header and w not in self.defined and (
                        w in _FUNCTION_LETTERS or len(w) == 1 and w not in "abcdtwxyz" and self.holds_one_name(i, hi)):
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
            elif (kind, v) in (("sym", "'"), ("cmd", "prime")):
                raise _Fail("f'(…) is a derivative: paste the function itself, graphviz-bp works out its "
                            "derivatives", pos)
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
            elif v in ("frac", "dfrac", "tfrac") and i < hi and self.t[i][0] == "num" and self.t[i][1].isdigit() \
                    and len(self.t[i][1]) > 1:
                # \frac12 is ½ in TeX (each argument one character), not \frac{12}{…}
                digits = self.t[i][1]
                if len(digits) > 2:
                    raise _Fail(f"\\frac{digits}: write \\frac{{{digits[0]}}}{{{digits[1]}}}{digits[2:]} or "
                                f"\\frac{{{digits[:-1]}}}{{{digits[-1]}}} (braces say which)", pos)
                i += 1
                parts = [_Item("val", digits[0], pos), _Item("op", "/", pos), _Item("val", digits[1], pos)]
                wrap = prev and (prev.kind, prev.text) == ("op", "/") or i < hi and self.t[i][1] == "^"
                items += self.paren(parts, pos, True) if wrap else parts
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

    def holds_one_name(self, i, hi) -> bool:
        """``h(x)``: the parentheses at token i hold a single name (a call, not a product like
        ``w_1 (w_{11} + x)``)."""
        j = self.close_of(i, hi)
        inner = [t for t in self.t[i + 1:j - 1] if t[0] != "cmd" or t[1] not in _STYLES]
        inner = [t for t in inner if t[:2] not in (("sym", "{"), ("sym", "}"))]
        return len(inner) == 1 and inner[0][0] == "word" and len(inner[0][1]) == 1

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
        if (prev.kind == "name" and prev.text != "e" and len(core) == 1 and core[0][0] == "word" and vals[0] != "T"
                and nxt < hi and self.t[nxt][:2] == ("open", "(")):
            raise _Fail(f"{prev.render()}^{vals[0]}(…): a power times (…), or a function applied to (…)? Write "
                        f"{prev.render()}^{vals[0]} \\cdot (…) for the product", pos)
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

    def label_after(self, prev, j, hi) -> str:
        """``_a`` when the subscript just read is followed by a label superscript (``o_i^a``)."""
        if j + 1 < hi and self.t[j][:2] == ("sym", "^"):
            lo, h, _ = self.arg(j + 1, hi, "^")
            core = [t for t in self.t[lo:h] if t[:2] not in (("sym", "{"), ("sym", "}"))]
            if len(core) == 1 and core[0][0] == "word" and len(core[0][1]) == 1 \
                    and self.is_label(prev, core[0][1], quiet=True):
                return "_" + core[0][1]
        return ""

    def is_label(self, prev, letter, quiet=False) -> bool:
        """Whether ``h^a`` is a name (a label) rather than a power: the sheet uses two letters on h
        or defines h^a; a power when the letter has a value or is a usual exponent (n, p, k, …)."""
        if (prev.text, letter) in self.sheet.labels and letter != "T":     # A^T: the transpose
            return True
        if not (quiet or letter in self.defined or letter in self.sheet.given or letter in "npkmqrdtxyz"
                or not letter.islower()):
            self.sheet.note(f"read as: {prev.text}^{letter} is a power; a label (like h^a and h^s) is read when "
                            f"the sheet uses two letters on {prev.text} or defines {prev.text}^{letter}")
        return False

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
            self.per_sample(prev, s, pos, self.label_after(prev, nxt, hi))     # \sum_i w_i: entries of w
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
                letters = re.findall(r"[^\W\d_]\d*", it.text)
                if letters[0] == "d" and len(letters) == 2 and "d" not in self.defined:
                    raise _Fail(f"{it.text} reads as a differential: differentials (dx, d(…)) are not read; "
                                "paste the function itself, graphviz-bp works out its derivatives", it.pos)
                if len(letters) >= 4:
                    raise _Fail(f"{it.render()}: a word of {len(letters)} letters would be read as the product "
                                f"{'·'.join(letters)}; write \\text{{{it.text}}} for a name, or put \\cdot "
                                "between the factors", it.pos)
                parts = [_Item("name", p, it.pos) for p in letters]
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


_FRACTION = re.compile(r"(-?)\(?(\d+(?:\.\d+)?)\)? / \(?(\d+(?:\.\d+)?)\)?")


def _entry(cell: str, pos) -> str:
    """A matrix entry: a number, or a fraction of two numbers (``\\frac{1}{2}`` → ``0.5``)."""
    if re.fullmatch(r"-?\d+(?:\.\d+)?", cell):
        return cell
    m = _FRACTION.fullmatch(cell)
    if m and float(m.group(3)) != 0:
        return repr(float(m.group(1) + m.group(2)) / float(m.group(3)))
    raise _Fail(f"a matrix entry must be a number or a fraction of numbers, not {cell!r}", pos)
