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
import unicodedata

import numpy as np

from ..core.errors import InputError, LimitError
from ..core.limits import Limits, check_deadline, current as current_limits
from ..core.ops import FUNCTIONS, OPS
from ..core.syntax import Apply, Literal, Name, Num, Statement


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


class Token:
    """kind: "num" "name" "op" "nl" "eof"; 1-based line and column; start/end offsets in the text."""
    __slots__ = ("kind", "text", "line", "col", "start", "end")

    def __init__(self, kind, text, line, col, start, end):
        self.kind, self.text, self.line, self.col, self.start, self.end = kind, text, line, col, start, end

    def __repr__(self):
        return f"Token({self.kind!r}, {self.text!r}, {self.line}, {self.col})"


def normalize_name(name: str, line: int | None = None, col: int | None = None) -> str:
    """A name as the graph knows it: NFKC-normalised, so that the mathematical italic 𝑥 (pasted
    from a PDF) and x are one name, and w₁ is w1.  A superscript is not part of a name: ``x²``
    is an error that says to write ``x^2`` (issue 19)."""
    if name.isascii():
        return name
    for k, c in enumerate(name):
        if unicodedata.decomposition(c).startswith("<super>"):
            raise InputError(f"{name!r}: the superscript {c!r} is not part of a name; "
                             f"write a power as {name[:k]}^{unicodedata.normalize('NFKC', name[k:])}",
                             line, None if col is None else col + k)
    out = unicodedata.normalize("NFKC", name)
    if not _NAME.fullmatch(out):
        raise InputError(f"{name!r} is not a name (letters, digits and _, starting with a letter)", line, col)
    return out


_NAME = re.compile(r"[^\W\d]\w*")
_DEADLINE_EVERY = 1023      # tokens between two checks of the time budget (a check costs ~0.1 µs)


def tokenize(text: str, first_line: int = 1):
    """Tokens of ``text`` with 1-based line and column, lazily (a generator, so that a 7 MB line
    costs no list of millions of tokens); an unknown character is an InputError. The last token
    is ``eof``."""
    pos, line, line_start, n, brackets, count = 0, first_line, 0, len(text), 0, 0
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            raise InputError(f"unexpected character {text[pos]!r}", line, pos - line_start + 1)
        kind = m.lastgroup
        end = m.end()
        if kind == "nl" or (kind == "ws" and "\n" in m.group()):
            if kind == "nl" and brackets <= 0:   # inside ( ) or [ ] a statement goes on
                yield Token("nl", "\n", line, pos - line_start + 1, pos, end)
            line += 1
            line_start = end
        elif kind != "ws" and kind != "comment":
            count += 1
            if not count & _DEADLINE_EVERY:
                check_deadline("reading the program")
            t = m.group()
            if t in "([":
                brackets += 1
            elif t in ")]":
                brackets -= 1
            elif kind == "name" and not t.isascii():
                t = normalize_name(t, line, pos - line_start + 1)
            yield Token(kind, _ALIASES.get(t, t), line, pos - line_start + 1, pos, end)
        pos = end
    yield Token("eof", "", line, pos - line_start + 1, pos, pos)


# --- the Pratt parser -----------------------------------------------------------------------

_BINARY = {"+": (10, "add"), "-": (10, "sub"), "*": (20, "mul"), "/": (20, "div"), "@": (20, "matmul"),
           "^": (30, "pow"), "**": (30, "pow")}
_UNARY_BP = 25
_POSTFIX_BP = 40
_SRC_MAX = 240      # characters of source text kept per node (longer ones are elided in the middle)


class _Parser:
    """Reads a token stream with two tokens of lookahead.  ``made`` counts the operations and
    tensor literals built so far (each becomes one graph node), shared across the chunks of one
    program: the parse stops at ``max_nodes`` instead of building the whole tree first."""

    def __init__(self, text: str, tokens, limits: Limits, made: list | None = None, t_is_name: bool = False):
        self.text, self.limits, self.depth = text, limits, 0
        self.t_is_name = t_is_name       # issue 15: the program assigns T (a temperature): x^T is not read
        self._next = iter(tokens).__next__
        self.buf = [self._next()]
        self.last_end = 0
        self.made = [0] if made is None else made

    # helpers
    def peek(self, k=0) -> Token:
        buf = self.buf
        while len(buf) <= k:
            if buf[-1].kind == "eof":
                return buf[-1]
            buf.append(self._next())
        return buf[k]

    def take(self) -> Token:
        buf = self.buf
        t = buf[0]
        if t.kind != "eof":
            del buf[0]
            if not buf:
                buf.append(self._next())
        self.last_end = t.end
        return t

    def apply(self, op, args, params, line, col, src):
        made = self.made
        made[0] += 1
        if made[0] > self.limits.max_nodes:
            self.limits.refuse("max_nodes", f"a graph of more than {self.limits.max_nodes} nodes", line, col)
        return Apply(op, args, params, line, col, src)

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
        start, end = start_tok.start, self.last_end
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
            self.take(), self.take()
            if t.text in FUNCTIONS:
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
                    if self.t_is_name:                                       # issue 15
                        raise self.error("T is a name in this program, so ^T is not clear: write .T for the "
                                         "transpose or ^(T) for the power", self.peek())
                    self.take()
                    left = self.apply("transpose", (left,), {}, t.line, t.col, self.src(first))
                    continue
                right = self.expr(bp - 1 if op == "pow" else bp)
                left = self.apply(op, (left, right), {}, t.line, t.col, self.src(first))
            elif t.kind == "op" and t.text in ("[", ".") and _POSTFIX_BP > min_bp:
                left = self.postfix(left, first)
            elif (first.kind == "num" and left.__class__ is Num and t.start == first.end
                  and (t.kind == "name" or t.text == "(") and (20 > min_bp or min_bp == _UNARY_BP)):
                # "2x", "0.5(y - yhat)": a number written right against a factor multiplies it;
                # also under a unary minus: "-2x", "exp(-2x)" (x*2y, x/2x, x^2x stay errors: ambiguous)
                right = self.expr(20)
                left = self.apply("mul", (left, right), {}, t.line, t.col, self.src(first))
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
            return self.apply("transpose", (left,), {}, t.line, t.col, self.src(first))
        index = []
        while True:
            sign, tok = 1, self.peek()
            if tok.text == "-":
                self.take()
                sign, tok = -1, self.peek()
            if tok.kind != "num" or not tok.text.isdigit():
                raise self.error("an index must be an integer literal, e.g. p[1] or A[0, 1]", tok)
            self.take()
            index.append(sign * _small_int(tok, "an index"))
            if self.peek().text == ",":
                self.take()
                continue
            self.expect("]", "to close the index")
            break
        idx = index[0] if len(index) == 1 else tuple(index)
        return self.apply("index", (left,), {"index": idx}, t.line, t.col, self.src(first))

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
                return self.apply("neg", (operand,), {}, t.line, t.col, self.src(t))
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
                return self.apply("abs", (inner,), {}, t.line, t.col, self.src(t))
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
                    self.take(), self.take()
                    value = self.peek()
                    if value.kind != "num" or not value.text.isdigit() or _small_int(value, k.text) < 1:
                        raise self.error(f"{k.text}= needs a positive integer", value)
                    self.take()
                    if k.text not in OPS[op].params:
                        raise self.error(f"{fname}() has no parameter {k.text!r}", k)
                    params[k.text] = _small_int(value, k.text)
                else:
                    args.append(self.expr(0))
                if self.peek().text == ",":
                    self.take()
                    continue
                break
        self.expect(")", f"to close the call of {fname}")
        arity = OPS[op].arity
        if len(args) != arity:
            raise InputError(f"{fname}() takes {arity} argument{'s' if arity > 1 else ''}, given {len(args)}",
                             name_tok.line, name_tok.col)
        return self.apply(op, tuple(args), params, name_tok.line, name_tok.col, self.src(name_tok))

    def norm(self):
        t = self.take()
        inner = self.expr(0)
        self.expect("||", f"to close the norm opened at line {t.line}, column {t.col}")
        p = 2.0
        sub = self.peek()
        if sub.kind == "name" and sub.text.startswith("_") and sub.start == self.last_end:
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
            self.take(), self.take()
            return self.apply("sqnorm2", (inner,), {}, t.line, t.col, self.src(t))
        if p == 1.0:
            return self.apply("norm1", (inner,), {}, t.line, t.col, self.src(t))
        if p == 2.0:
            return self.apply("norm2", (inner,), {}, t.line, t.col, self.src(t))
        if p == float("inf"):
            raise self.error("the max-norm ||e||_inf is not supported; write max(...) of |e| instead", sub)
        return self.apply("normp", (inner,), {"p": p}, t.line, t.col, self.src(t))

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
        self.made[0] += 1
        if self.made[0] > self.limits.max_nodes:
            self.limits.refuse("max_nodes", f"a graph of more than {self.limits.max_nodes} nodes",
                               start.line, start.col)
        return Literal(value, start.line, start.col, self.src(start))


_INT_DIGITS = 9     # an index or stride beyond 10⁹ fits no tensor under the limits


def _small_int(tok: Token, what: str) -> int:
    """An index or stride as an int; a huge one (5,000 digits: int() refuses more than 4,300;
    2⁶³: NumPy overflows) is a clear error at its column instead."""
    digits = tok.text.lstrip("0")
    if len(digits) > _INT_DIGITS:
        shown = tok.text if len(tok.text) <= 20 else f"{tok.text[:8]}…({len(tok.text)} digits)"
        raise InputError(f"{what} of {shown} is too large: at most {_INT_DIGITS} digits "
                         f"(no tensor under the limits is that long)", tok.line, tok.col)
    return int(tok.text)


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
        if op is None or OPS[op].arity != 1 or arg in FUNCTIONS:
            return None
        cf = line_text.index(fname, line_text.index("=") + 1)
        ca = line_text.index(arg, cf + len(fname))
        end = line_text.index(")", ca) + 1
        expr = Apply(op, (Name(arg, lineno, ca + 1),), {}, lineno, cf + 1, line_text[cf:end])
    return Statement(target, expr, lineno, col)


def read_bounded(stream, limits: Limits | None = None, what: str = "the program") -> str:
    """Text from a binary ``stream`` (a file, standard input, /dev/zero), read in 1 MiB pieces and
    decoded as UTF-8 as it comes: stops with a :class:`LimitError` once it holds more than
    ``max_program_chars`` characters (before reading the rest), and invalid UTF-8 is an
    :class:`InputError` naming the line and column of the first bad byte."""
    import codecs
    limits = limits or current_limits()
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts, chars = [], 0
    while True:
        block = stream.read(1 << 20)
        final = not block
        try:
            piece = block if isinstance(block, str) else decoder.decode(block, final)   # a text stream too
        except UnicodeDecodeError as exc:
            before = block[:exc.start].decode("utf-8", "replace")
            head = "".join(parts) + before
            bad_line = head.count("\n") + 1
            column = len(head) - (head.rfind("\n") + 1) + 1
            raise InputError(f"{what} is not UTF-8 text (byte 0x{block[exc.start]:02x} cannot be read)",
                             bad_line, column, kind="usage") from None
        chars += len(piece)
        if chars > limits.max_program_chars:
            limits.refuse("max_program_chars", f"{what} (more than {limits.max_program_chars} characters)")
        parts.append(piece)
        if final:
            return "".join(parts)
        check_deadline("reading the input")


# --- issue 14: shape declarations, one a line: "X: n x n", "w: n", "A: 3x2" ---------------------------
# a declaration is a statement of its own: on its line, or between ';' as in -e 'y = …; w: 2 x 1; L = …'
_DECLARATION = re.compile(r"(?:^|(?<=;))[ \t]*([^\W\d]\w*)[ \t]*:[ \t]*(\d+|[^\W\d]\w*)"
                          r"(?:[ \t]*[x×,*][ \t]*(\d+|[^\W\d]\w*))?[ \t]*(?=;|#|$)", re.M)


def shape_declarations(text: str) -> tuple[str, dict]:
    """``(text with declaration lines blanked, {name: shape})``.  A declaration ``NAME: DIMS`` gives an
    input's shape without values (for formulas in matrix form): ``X: n x n`` a matrix, ``w: n`` a
    (column) vector, ``A: 3x2`` with sizes as numbers; letters need the spaces around ``x``
    (``n × m`` or ``n, m`` work too).  Blank lines keep the other statements' line numbers."""
    if ":" not in text:
        return text, {}
    found = {}

    def take(mo):
        dims = tuple(int(d) if d.isdigit() else d for d in mo.groups()[1:] if d is not None)
        found[mo.group(1)] = dims
        return ""
    return _DECLARATION.sub(take, text), found
# --- end issue 14 ---


def parse_program(text: str, limits: Limits | None = None) -> list[Statement]:
    """Parse a program into statements; every error is an :class:`InputError` with line and column.

    >>> [s.target for s in parse_program("x = 1; y = 2\\nf = x*y")]
    ['x', 'y', 'f']
    """
    limits = limits or current_limits()
    if len(text) > limits.max_program_chars:
        limits.refuse("max_program_chars", f"a program of {len(text)} characters")
    text = shape_declarations(text)[0]          # issue 14: "X: n x n" lines are not statements
    statements: list[Statement] = []
    lines = text.split("\n")
    t_is_name = "T" in text and re.search(r"(?:^|;)\s*T\s*=(?!=)", text, re.M) is not None  # T = 2 (a temperature)
    chunk_start, chunk, depth = None, [], 0
    made = [0]       # operations and tensor literals so far: one graph node each
    fast = 0         # statements of the fast path so far (one operation each), added to made when needed
    for lineno, line_text in enumerate(lines, 1):
        if not lineno & 4095:
            check_deadline("parsing")
        if chunk_start is None and ";" not in line_text and line_text.isascii():
            one_op = _fast_statement(line_text, lineno)
            if one_op is not None:
                statements.append(one_op)
                fast += 1
                continue
        if chunk_start is None:
            chunk_start = lineno
        chunk.append(line_text)
        code = line_text.split("#", 1)[0]
        depth += code.count("(") + code.count("[") - code.count(")") - code.count("]")
        if depth <= 0 or lineno == len(lines):
            body = "\n".join(chunk)
            made[0] += fast
            fast = 0
            try:
                statements.extend(_Parser(body, tokenize(body, chunk_start), limits, made,
                                          t_is_name).program())
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
