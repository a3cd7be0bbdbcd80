r"""Functions on a pasted sheet: applied without parentheses (``\log\frac{a}{b}``, ``\log\det X``,
``\tanh^2(x)``), defined on the sheet and called (``f(\mathbf{x}; \mathbf{w}) = …`` then
``f(\mathbf{x}_i; \mathbf{w})``: the formula with the arguments put in), and ``\langle A, B\rangle``.

A mixin of the converter (:class:`graphviz_bp.reading.latex_convert.Converter`): ``self.t`` are the
span's tokens, ``self.convert`` reads a token range into items.
"""
from __future__ import annotations

import copy
import re

from .latex_tokens import _FUNC_CMDS, _ACCENTS, _STYLES, FUNCS, GREEK, _Fail, _Item


class FunctionReading:
    """Operands of functions, calls of the sheet's functions, inner products."""

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
