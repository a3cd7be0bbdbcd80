"""Notation → statements: a tokenizer and a Pratt parser (DESIGN §1).

Nothing here hands user text to Python: the grammar below is all there is.

Precedence, loosest first::

    + -            left
    * / @ · ×      left        (a number right before a name or "(" multiplies: 2x)
    unary -        prefix      (-x^2 is -(x^2))
    ^ **           right       (x^T and x.T transpose)
    f(...) a[i] .T postfix
    atoms: 3  -1.5  2e-3  name  (e)  [1, 2]  [[1, 2], [3, 4]]  |e|  ||e||_p  ||e||_2^2

``||e||_2^2`` is one operation (the squared 2-norm), as the sheets draw it.
Lines that are plain ``name = a op b`` or ``name = f(a)`` take a fast path
(one regular expression) that builds exactly what the full parser builds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError, LimitError
from ..core.limits import Limits, check_deadline, current as current_limits
from ..core.ops import FUNCTIONS


# --- syntax tree -------------------------------------------------------------------

class Num:
    __slots__ = ("value", "line", "col", "src")

    def __init__(self, value, line, col, src):
        self.value, self.line, self.col, self.src = value, line, col, src


class Name:
    __slots__ = ("id", "line", "col", "src")

    def __init__(self, id, line, col):
        self.id, self.line, self.col, self.src = id, line, col, id


class Literal:
    """A vector or matrix literal (a float ndarray)."""
    __slots__ = ("value", "line", "col", "src")

    def __init__(self, value, line, col, src):
        self.value, self.line, self.col, self.src = value, line, col, src


class Apply:
    """An operation of the op table applied to operand expressions."""
    __slots__ = ("op", "args", "params", "line", "col", "src")

    def __init__(self, op, args, params, line, col, src):
        self.op, self.args, self.params, self.line, self.col, self.src = op, args, params, line, col, src


@dataclass
class Statement:
    target: str | None          # None for a bare expression
    expr: object
    line: int
    col: int


# --- tokens ---------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\f]+|\\\r?\n)
  | (?P<comment>\#[^\n]*)
  | (?P<nl>\n)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|\|\||[-+*/@^()\[\],=;|.·×−⋅])
""", re.VERBOSE)

_ALIASES = {"·": "*", "×": "*", "⋅": "*", "−": "-"}


@dataclass
class Token:
    kind: str   # "num" "name" "op" "nl" "eof"
    text: str
    line: int
    col: int
    start: int  # offset in the text
    end: int


def tokenize(text: str, first_line: int = 1) -> list[Token]:
    """Tokens of ``text`` with 1-based line and column; an unknown character is an InputError."""
    tokens, pos, line, line_start, n, brackets = [], 0, first_line, 0, len(text), 0
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            raise InputError(f"unexpected character {text[pos]!r}", line, pos - line_start + 1)
        kind = m.lastgroup
        end = m.end()
        if kind == "nl" or (kind == "ws" and "\n" in m.group()):
            if kind == "nl" and brackets <= 0:   # inside ( ) or [ ] a statement goes on
                tokens.append(Token("nl", "\n", line, pos - line_start + 1, pos, end))
            line += 1
            line_start = end
        elif kind != "ws" and kind != "comment":
            t = m.group()
            if t in "([":
                brackets += 1
            elif t in ")]":
                brackets -= 1
            tokens.append(Token(kind, _ALIASES.get(t, t), line, pos - line_start + 1, pos, end))
        pos = end
    tokens.append(Token("eof", "", line, pos - line_start + 1, pos, pos))
    return tokens


# --- the Pratt parser -----------------------------------------------------------------------

_BINARY = {"+": (10, "add"), "-": (10, "sub"), "*": (20, "mul"), "/": (20, "div"), "@": (20, "matmul"),
           "^": (30, "pow"), "**": (30, "pow")}
_UNARY_BP = 25
_POSTFIX_BP = 40
_SRC_MAX = 240      # characters of source text kept per node (longer ones are elided in the middle)


class _Parser:
    def __init__(self, text: str, tokens: list[Token], limits: Limits):
        self.text, self.tokens, self.i, self.limits, self.depth = text, tokens, 0, limits, 0

    # helpers
    def peek(self, k=0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def error(self, message, tok: Token | None = None):
        tok = tok or self.peek()
        return InputError(message, tok.line, tok.col)

    def expect(self, text: str, what: str) -> Token:
        t = self.peek()
        if t.text != text or t.kind not in ("op",):
            found = "end of line" if t.kind in ("nl", "eof") else repr(t.text)
            raise self.error(f"expected {text!r} {what}, found {found}", t)
        return self.take()

    def src(self, start_tok: Token) -> str:
        start, end = start_tok.start, self.tokens[self.i - 1].end
        if end - start > _SRC_MAX:   # a 100,000-term sum: every partial sum would copy its prefix
            return self.text[start:start + _SRC_MAX // 2] + " … " + self.text[end - _SRC_MAX // 4:end]
        return self.text[start:end]

    # statements
    def program(self) -> list[Statement]:
        out = []
        while True:
            while self.peek().kind == "nl" or self.peek().text == ";":
                self.take()
            if self.peek().kind == "eof":
                return out
            out.append(self.statement())
            t = self.peek()
            if t.kind not in ("nl", "eof") and t.text != ";":
                raise self.error(f"unexpected {t.text!r}: expected an operator or the end of the statement", t)

    def statement(self) -> Statement:
        t = self.peek()
        if t.kind == "name" and self.peek(1).text == "=" and self.peek(1).kind == "op":
            self.i += 2
            if t.text in FUNCTIONS or t.text == "T":
                raise self.error(f"cannot assign to {t.text!r}: it is a function name", t)
            return Statement(t.text, self.expr(0), t.line, t.col)
        return Statement(None, self.expr(0), t.line, t.col)

    # expressions
    def expr(self, min_bp: int):
        self.depth += 1
        if self.depth > self.limits.max_depth:
            self.limits.refuse("max_depth", "expression nesting", self.peek().line, self.peek().col)
        first = self.peek()
        left = self.prefix()
        while True:
            t = self.peek()
            if t.kind == "op" and t.text in _BINARY:
                bp, op = _BINARY[t.text]
                if bp <= min_bp:
                    break
                self.take()
                if op == "pow" and self.peek().kind == "name" and self.peek().text == "T":
                    self.take()
                    left = Apply("transpose", (left,), {}, t.line, t.col, self.src(first))
                    continue
                right = self.expr(bp - 1 if op == "pow" else bp)
                left = Apply(op, (left, right), {}, t.line, t.col, self.src(first))
            elif t.kind == "op" and t.text in ("[", ".") and _POSTFIX_BP > min_bp:
                left = self.postfix(left, first)
            elif (first.kind == "num" and left.__class__ is Num and t.start == first.end
                  and (t.kind == "name" or t.text == "(") and (20 > min_bp or min_bp == _UNARY_BP)):
                # "2x", "0.5(y - yhat)": a number written right against a factor multiplies it;
                # also under a unary minus: "-2x", "exp(-2x)" (x*2y, x/2x, x^2x stay errors: ambiguous)
                right = self.expr(20)
                left = Apply("mul", (left, right), {}, t.line, t.col, self.src(first))
            else:
                break
        self.depth -= 1
        return left

    def postfix(self, left, first):
        t = self.take()
        if t.text == ".":
            name = self.peek()
            if name.kind != "name" or name.text != "T":
                raise self.error("expected T after '.' (transpose is written .T)", name)
            self.take()
            return Apply("transpose", (left,), {}, t.line, t.col, self.src(first))
        index = []
        while True:
            sign, tok = 1, self.peek()
            if tok.text == "-":
                self.take()
                sign, tok = -1, self.peek()
            if tok.kind != "num" or not tok.text.isdigit():
                raise self.error("an index must be an integer literal, e.g. p[1] or A[0, 1]", tok)
            self.take()
            index.append(sign * int(tok.text))
            if self.peek().text == ",":
                self.take()
                continue
            self.expect("]", "to close the index")
            break
        idx = index[0] if len(index) == 1 else tuple(index)
        return Apply("index", (left,), {"index": idx}, t.line, t.col, self.src(first))

    def prefix(self):
        t = self.peek()
        if t.kind == "num":
            self.take()
            return Num(float(t.text), t.line, t.col, t.text)
        if t.kind == "name":
            self.take()
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(t)
            if t.text in FUNCTIONS:
                raise self.error(f"function {t.text!r} needs parentheses: {t.text}(...)", t)
            return Name(t.text, t.line, t.col)
        if t.kind == "op":
            if t.text == "-":
                self.take()
                operand = self.expr(_UNARY_BP)
                if operand.__class__ is Num:
                    return Num(-operand.value, t.line, t.col, self.src(t))
                if operand.__class__ is Literal:
                    return Literal(-operand.value, t.line, t.col, self.src(t))
                return Apply("neg", (operand,), {}, t.line, t.col, self.src(t))
            if t.text == "+":
                self.take()
                return self.expr(_UNARY_BP)
            if t.text == "(":
                self.take()
                inner = self.expr(0)
                self.expect(")", f"to close the '(' at line {t.line}, column {t.col}")
                return inner
            if t.text == "[":
                return self.literal()
            if t.text == "||":
                return self.norm()
            if t.text == "|":
                self.take()
                inner = self.expr(0)
                self.expect("|", f"to close the '|' at line {t.line}, column {t.col}")
                return Apply("abs", (inner,), {}, t.line, t.col, self.src(t))
        found = "the end of the line" if t.kind in ("nl", "eof") else repr(t.text)
        raise self.error(f"expected a number, a name or '(', found {found}", t)

    def call(self, name_tok: Token):
        fname = name_tok.text
        if fname not in FUNCTIONS:
            raise InputError(f"unknown function {fname!r} (known: {', '.join(sorted(set(FUNCTIONS)))})",
                             name_tok.line, name_tok.col, kind="name")
        op = FUNCTIONS[fname]
        self.take()  # (
        args, params = [], {}
        if self.peek().text != ")":
            while True:
                k = self.peek()
                if k.kind == "name" and self.peek(1).text == "=":
                    self.i += 2
                    value = self.peek()
                    if value.kind != "num" or not value.text.isdigit() or int(value.text) < 1:
                        raise self.error(f"{k.text}= needs a positive integer", value)
                    self.take()
                    if op != "conv2d" or k.text != "stride":
                        raise self.error(f"{fname}() has no parameter {k.text!r}", k)
                    params[k.text] = int(value.text)
                else:
                    args.append(self.expr(0))
                if self.peek().text == ",":
                    self.take()
                    continue
                break
        self.expect(")", f"to close the call of {fname}")
        arity = 2 if op in ("maximum", "minimum", "conv2d") else 1
        if len(args) != arity:
            raise InputError(f"{fname}() takes {arity} argument{'s' if arity > 1 else ''}, given {len(args)}",
                             name_tok.line, name_tok.col)
        return Apply(op, tuple(args), params, name_tok.line, name_tok.col, self.src(name_tok))

    def norm(self):
        t = self.take()
        inner = self.expr(0)
        self.expect("||", f"to close the norm opened at line {t.line}, column {t.col}")
        p = 2.0
        sub = self.peek()
        if sub.kind == "name" and sub.text.startswith("_") and sub.start == self.tokens[self.i - 1].end:
            self.take()
            spec = sub.text[1:]
            if spec == "":
                num = self.peek()
                if num.kind != "num":
                    raise self.error("expected the norm's p after '_', e.g. ||e||_1", num)
                self.take()
                spec = num.text
            try:
                p = float("inf") if spec in ("inf", "infty", "∞") else float(spec)
            except ValueError:
                raise self.error(f"the norm's p must be a number, e.g. ||e||_1, not _{spec}", sub) from None
            if not p >= 1.0:
                raise self.error(f"the norm's p must be at least 1, not {spec}", sub)
        if p == 2.0 and self.peek().text in ("^", "**") and self.peek(1).text == "2" and self.peek(1).kind == "num":
            self.i += 2
            return Apply("sqnorm2", (inner,), {}, t.line, t.col, self.src(t))
        if p == 1.0:
            return Apply("norm1", (inner,), {}, t.line, t.col, self.src(t))
        if p == 2.0:
            return Apply("norm2", (inner,), {}, t.line, t.col, self.src(t))
        if p == float("inf"):
            raise self.error("the max-norm ||e||_inf is not supported; write max(...) of |e| instead", sub)
        return Apply("normp", (inner,), {"p": p}, t.line, t.col, self.src(t))

    def literal(self):
        start = self.peek()

        def rows(depth=1):
            if depth > self.limits.max_depth:
                self.limits.refuse("max_depth", "literal nesting", self.peek().line, self.peek().col)
            open_tok = self.expect("[", "")
            items = []
            while True:
                while self.peek().kind == "nl":
                    self.take()
                tok = self.peek()
                if tok.text == "[":
                    items.append(rows(depth + 1))
                else:
                    sign = 1.0
                    if tok.text == "-":
                        self.take()
                        sign, tok = -1.0, self.peek()
                    if tok.kind != "num":
                        raise self.error("entries of a vector or matrix literal must be numbers", tok)
                    self.take()
                    items.append(sign * float(tok.text))
                while self.peek().kind == "nl":
                    self.take()
                if self.peek().text == ",":
                    self.take()
                    continue
                self.expect("]", f"to close the '[' at line {open_tok.line}, column {open_tok.col}")
                return items

        nested = rows()
        try:
            value = np.array(nested, dtype=float)
        except ValueError:
            raise InputError("rows of a matrix literal must have the same length", start.line, start.col,
                             kind="shape") from None
        if value.size == 0:
            raise InputError("an empty literal has no value", start.line, start.col, kind="shape")
        if value.size > self.limits.max_tensor_elements:
            self.limits.refuse("max_tensor_elements", f"a literal of {value.size} elements", start.line, start.col)
        return Literal(value, start.line, start.col, self.src(start))


# --- the fast path for plain one-op lines ------------------------------------------------------

_FAST = re.compile(
    r"[ \t]*([^\W\d]\w*)[ \t]*=[ \t]*(?:([^\W\d]\w*)[ \t]*([-+*/@])[ \t]*([^\W\d]\w*)"
    r"|([^\W\d]\w*)\([ \t]*([^\W\d]\w*)[ \t]*\))[ \t]*(?:#.*)?\Z")
_FAST_OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul"}


def _fast_statement(line_text: str, lineno: int):
    m = _FAST.match(line_text)
    if m is None:
        return None
    target, a, sym, b, fname, arg = m.groups()
    if target in FUNCTIONS or target == "T":
        return None
    col = line_text.index(target) + 1
    if a is not None:
        if a in FUNCTIONS or b in FUNCTIONS:
            return None
        ca = line_text.index(a, line_text.index("=") + 1)
        cop = line_text.index(sym, ca + len(a))
        cb = line_text.index(b, cop + 1)
        expr = Apply(_FAST_OPS[sym], (Name(a, lineno, ca + 1), Name(b, lineno, cb + 1)), {},
                     lineno, cop + 1, line_text[ca:cb + len(b)])
    else:
        op = FUNCTIONS.get(fname)
        if op is None or op in ("maximum", "minimum", "conv2d") or arg in FUNCTIONS:
            return None
        cf = line_text.index(fname, line_text.index("=") + 1)
        ca = line_text.index(arg, cf + len(fname))
        end = line_text.index(")", ca) + 1
        expr = Apply(op, (Name(arg, lineno, ca + 1),), {}, lineno, cf + 1, line_text[cf:end])
    return Statement(target, expr, lineno, col)


def parse_program(text: str, limits: Limits | None = None) -> list[Statement]:
    """Parse a program into statements; every error is an :class:`InputError` with line and column.

    >>> [s.target for s in parse_program("x = 1; y = 2\\nf = x*y")]
    ['x', 'y', 'f']
    """
    limits = limits or current_limits()
    if len(text) > limits.max_program_chars:
        limits.refuse("max_program_chars", f"a program of {len(text)} characters")
    statements: list[Statement] = []
    lines = text.split("\n")
    chunk_start, chunk, depth = None, [], 0
    for lineno, line_text in enumerate(lines, 1):
        if not lineno & 4095:
            check_deadline("parsing")
        if chunk_start is None and ";" not in line_text:
            fast = _fast_statement(line_text, lineno)
            if fast is not None:
                statements.append(fast)
                continue
        if chunk_start is None:
            chunk_start = lineno
        chunk.append(line_text)
        code = line_text.split("#", 1)[0]
        depth += code.count("(") + code.count("[") - code.count(")") - code.count("]")
        if depth <= 0 or lineno == len(lines):
            body = "\n".join(chunk)
            try:
                statements.extend(_Parser(body, tokenize(body, chunk_start), limits).program())
            except RecursionError:    # max_depth raised beyond what Python's stack holds
                raise LimitError(f"an expression is nested too deeply for Python's stack; keep max_depth "
                                 f"(now {limits.max_depth}) at most 200-300 (--limit-max-depth or "
                                 f"GRAPHVIZ_BP_MAX_DEPTH)", chunk_start) from None
            chunk_start, chunk, depth = None, [], 0
        if len(statements) > limits.max_statements:
            limits.refuse("max_statements", f"a program of more than {limits.max_statements} statements")
    if len(statements) > limits.max_statements:       # lines that took the fast path
        limits.refuse("max_statements", f"a program of {len(statements)} statements")
    if not statements:
        raise InputError("the program is empty: write at least one expression, e.g. f = x^2", 1, 1)
    return statements
