r"""LaTeX pasted from a course sheet → the plain notation of DESIGN §1, one statement a line.

Nothing is evaluated: the text is tokenized and rewritten by these rules.  **The rule above them
all: a formula is read as it means, or refused with one line that says what is unclear and how to
write it — never read another way silently.**  Where the reader chooses (label or power, a sum over
samples, ``\sigma`` as the sigmoid, ``\|W\|_F``), it says so in one line of
:attr:`Translation.reading_notes` ("read as: …"; the CLI prints them, ``--json`` and the graph carry them).

* Only math is read: ``$$…$$``, ``$…$``, ``\[…\]``, ``\(…\)`` (text without them is read
  line by line, lines with a ``=`` or ``\``).  Statements split at top-level ``;`` ``,``
  ``\quad`` ``\qquad`` ``\\``; a trailing ``.`` or ``,`` is dropped; ``\begin{aligned}`` is read
  through (a line starting ``&= …`` is a worked step).  ``a = b = 30`` keeps ``a = b`` (the rest is
  the sheet's worked result) but ``x = y = 3`` sets both; ``p = P(y=1) = …`` skips the label;
  ``L(W_1, W_2) = A = B`` takes the first side that uses the header's variables; a left side
  ``f(x, y)`` / ``J(w)`` is a header, naming ``f`` / ``J``.  ``… \rightarrow \min_w`` and a leading
  ``\min_w`` are what is done with the formula, not part of it.
* Prose is prose (:mod:`graphviz_bp.reading.prose`): inside a sentence, math without ``=`` is a
  mention (``Find $f^{-1}(t)$``), ``$L = ?$`` a question, a claim whose left side is not a name is
  not a definition, and a model statement (``$y = w x$``, ``$y_i = \beta + \varepsilon_i$``) does not
  redefine data given on the sheet.  Sizes in words are shapes (``$a$ and $x$ are vectors of size
  $1 \times n$``, ``матрица размера $n \times n$``), like ``X \in \mathbb{R}^{D \times D}``.  A
  statement about each entry (``h_j = …``) is not read.  A sheet that only states an identity
  (``\langle A, B\rangle = tr(A^T B)``) is read by its left side.
* Names: ``\lambda`` → ``lambda``, ``\hat{y}`` → ``yhat``, ``W^{(1)}`` → ``W_1`` (a layer
  index, not a power), ``h^a``/``o^s`` → ``h_a``/``o_s`` (labels, when the sheet uses two letters
  on h or defines h^a; ``x^n``, ``w^p`` stay powers), ``x_1`` → ``x_1``, ``w_{12}`` → ``w_12``,
  ``n_{\text{samples}}``; ``\mathbf``, ``\boldsymbol``, ``\vec`` vanish from the name but mark it a
  vector or matrix; ``\pi`` is the number.  What a name loses is kept in
  :attr:`Translation.tex_names` (``W_1`` → ``W^{(1)}``) for drawing it as the sheet does.
* Functions (names from the op table): ``\exp \log \ln \sin \cos \tanh \max \min \det``,
  ``\text{ReLU}``, ``\operatorname{tr}``, words such as ``tanh``, ``sigmoid``, ``softplus``;
  ``\sigma(`` is the sigmoid; without parentheses a function takes the next operand (``\log x``,
  ``\log\frac{a}{b}`` = log(a/b), ``\log \sigma(z)``, ``\ln\det X``, ``\log\sum_k …``) and
  ``\log x y`` is refused; ``\tanh^2(x)`` = tanh(x)², ``f^{-1}`` (inverse) refused.  A function the
  sheet defines (``f(\mathbf{x}; \mathbf{w}) = …``) is called with its arguments put in; ``f(…)``,
  ``\phi(…)`` the sheet does not define is refused until ``define={"f": "sigmoid"}``
  (``--define f=sigmoid``), never a product.  ``\langle A, B\rangle`` = Σ A∘B.
* Sums (:mod:`graphviz_bp.reading.sums`): ``\sum (y - b)^2`` is the sum of the entries of its
  summand (which runs to the next ``+``/``-``); ``\sum_i``/``\sum_{i=1}^{N}`` over names subscripted
  by i is read per sample — vectorised when every such name is a scalar per sample, else written
  out term by term with the samples the sheet (``y_1 = 2, y_2 = 3``, ``X`` with rows ``x_i``) or
  ``--at`` gives; ``\prod`` likewise; an undefined upper limit ``N`` becomes the number of samples.
* ``\frac{a}{b}`` → ``a / b`` (compound parts in parentheses; ``\frac{d…}{dx}`` refused);
  ``^T``, ``^{T}``, ``^\top`` transpose, ``X^{-T}`` = inv(X)ᵀ; ``e^{z}`` → ``exp(z)`` unless ``e`` is
  defined; ``A^{\circ 2}`` elementwise; ``[ … ]`` of a formula groups like ``( … )``.
* Products and powers as the sheet means them: ``\cdot``, ``\times`` and juxtaposition
  (``xy``, ``2(x+y)``, ``W x``; a run of letters that is not a function, Greek or defined name
  is split) are written as the sheet product ``⋅`` and ``x^2`` as a sheet power in a draft;
  :func:`graphviz_bp.reading.resolve.resolve` then makes them ``*``/``@`` and matrix powers by shape
  (shapes from literals, declarations, prose sizes and the values given with ``--at``).
  ``*`` and ``\odot`` are elementwise, ``\mathbin{@}`` the matrix product; on a sheet that speaks
  of convolution, ``O = I * K`` of two matrices is ``conv2d(I, K)``.
* ``\|e\|_2^2``, ``||e||``, ``\left\| … \right\|``, ``\lVert … \rVert`` → ``||e||_2^2``; ``\|W\|_F``
  (Frobenius) = ``||W||_2``; ``\|w\|_p^p`` with a letter p = Σ|wᵢ|^p; ``|x|``;
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

import re
from dataclasses import dataclass, field

from ..core.errors import InputError
from ..core.limits import current as current_limits
from . import prose
from .latex_convert import Converter as _Converter
from .latex_tokens import FUNCS, GREEK, _Fail, _Sheet, _tokens, looks_like_latex  # noqa: F401 (API)
from .parser import Num, parse_program
from .resolve import SQUARE, resolve
from .statements import (_INDEX_FORM, _Stmt, _declaration, _is_literal, _labels, _name_only, _order,
                         _right_side, _statements, _where)

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
    except InputError as e:          # issue 19: a limit met inside a formula (brace nesting) says where
        if getattr(e, "offset", None) is None or e.line is not None:
            raise
        e.line, e.column = _where(text, e.offset)
        e.args = (str(e),)
        raise
    draft = "".join(f"{s.name} = {s.rhs}\n" if s.name else s.rhs + "\n" for s in stmts)
    origins = [_where(text, s.pos) for s in stmts]
    try:
        statements = resolve(parse_program(draft), draft, tensor_names, sheet.notes)
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
    skipped, claims, aliases = [], [], []
    for lo, hi, inline in prose.spans(text):
        conv = _Converter(_tokens(text, lo, hi), limits, tensor_names, square_names, tex_names, sheet)
        split = _statements(conv.t)
        for i, sides in enumerate(split):
            if _declaration(conv, sides, split[:i]):
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
                alias = _name_only(conv, rhs) if len(sides) == 2 and len(lhs) == 1 else None
                first = defined.get(stmts[-1].name)
                if first is not None and first.span is not None and _same_tokens(first, stmts[-1]):
                    stmts.pop()                                     # the same formula restated in prose
                    continue
                if stmts[-1].name in defined and alias is not None:
                    aliases.append((alias, stmts.pop(), conv))      # h^{(3)} = \hat{y} after h^{(3)} = …
                    continue
                if stmts[-1].name in defined:
                    line, col = _where(text, defined[stmts[-1].name].pos)
                    raise _Fail(f"{stmts[-1].name} is defined twice (first at line {line}, column {col})",
                                head.pos)
                defined[stmts[-1].name] = stmts[-1]
                conv.remember(head, head)
    for alias, st, conv in aliases:           # the alias written the other way round: ŷ = h_3
        name = alias.text + alias.suffix
        if name in defined:
            line, col = _where(text, defined[st.name].pos)
            raise _Fail(f"{st.name} is defined twice (first at line {line}, column {col})", st.pos)
        stmts.append(_Stmt(name, alias.pos, conv, None))
        stmts[-1].rhs, stmts[-1].used = st.name, {st.name}
        defined[name] = stmts[-1]
        conv.remember(alias, alias)
        sheet.note(f"read as: {name} = {st.name} (the sheet writes it the other way round, after defining {st.name})")
    for s in stmts:
        if s.conv is not None:
            s.conv.defined = defined
    later = [s for s in stmts if s.span is not None and any(conv_t[:2] in (("cmd", "sum"), ("cmd", "prod"))
                                                            for conv_t in s.conv.t[s.span[0]:s.span[1]])]
    for s in [s for s in stmts if s not in later and s.span is not None] + later:   # data before sums
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
        sheet.note(f"not read: {len(claims)} {'identity' if len(claims) == 1 else 'identities'} whose left side is not a name")
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
    # a function the sheet defines next to its data only (L(w) = (y - w)^2 with y = 2) is the sheet's
    # objective, not a helper: dropping it would leave a bare data line as the output
    rest = [s for s in stmts if s not in helpers]
    if helpers and any(s.rhs is not None and not _is_literal(s.rhs) for s in rest):
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
    everything_used = set().union(*(s.used for s in stmts)) if stmts else set()
    for name, pos in skipped:            # ŷ_i = w x_i + b, and L uses ŷ: ŷ must not become an input
        base = _INDEX_FORM.sub("", name, count=1)
        if base in everything_used and base not in defined and f"{base}_1" not in defined:
            raise _Fail(f"{name} = … states each entry of {base}, which another formula uses: write {base} "
                        f"for the whole vector ({base} = …)", pos)
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
        if name not in defined:
            tensors[name] = tuple(shape)                 # () too: a number the user gave, not assumed
    return _order(stmts, defined, text), list(dict.fromkeys(variables)), tensors, tex_names


def _same_tokens(a, b) -> bool:
    """Two statements whose formulas are written alike (a definition restated in a sentence)."""
    ta = [t[:2] for t in a.conv.t[a.span[0]:a.span[1]]]
    tb = [t[:2] for t in b.conv.t[b.span[0]:b.span[1]]]
    return ta == tb
