r"""Sums and products over an index on a pasted sheet: per sample, vectorised or term by term.

``\sum_{i=1}^{N} (y_i - \mathbf{w}^\top\mathbf{x}_i)^2`` is read *per sample*: a name subscripted
by the index (``y_i``, ``\mathbf{x}_i``, ``x^{(i)}``) is sample i of the sheet's data.  Two ways
to build it, chosen by what the sheet gives:

* **vectorised** — every name the index runs over is a scalar per sample (not bold) and their
  data, where given, have one shape: the sum of the entries of the summand, products and powers
  elementwise (``\sum_i x_i y_i`` → ``sum(x * y)``).  This is also the reading when the number of
  samples is not known (data given later, or a vector computed on the sheet such as ``o^a``).
* **term by term** — when the samples are known (a number as upper limit, or the data on the
  sheet) and some name is a vector per sample (``\mathbf{x}_i``: row i of ``X``), the data are
  given one by one (``y_1 = 2, y_2 = 3``), their shapes differ, or it is a ``\prod``: the sum
  written out, ``(… sample 1 …) + (… sample 2 …) + …`` (at most :data:`MAX_UNROLL` terms).

Anything else is refused with the reason.  The reading chosen is one line of the sheet's notes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .latex_tokens import _SEPARATORS, _Fail, _Item

MAX_UNROLL = 32          # a sum over more samples than this is vectorised or refused
# functions that reduce a vector to a number (or mix its entries): inside a summand they act per sample
REDUCERS = {"sum", "mean", "tr", "trace", "det", "softmax", "logsumexp", "inv"}


def index_letters(toks) -> tuple:
    r"""The index letters of ``\sum_{i=1}`` / ``\sum_i`` / ``\sum_{i,j}`` (before ``=`` or ``\in``)."""
    out = []
    for kind, v, _ in toks:
        if (kind, v) in (("sym", "="), ("cmd", "in")):
            break
        if kind == "word":
            out += list(v) if len(v) <= 3 else [v]
    return tuple(out)


def implicit_index(toks) -> tuple:
    r"""``\sum (y_i - b)^2``: the one letter among i j k n that the summand uses as a subscript."""
    found = set()
    for k in range(len(toks) - 1):
        if toks[k][:2] == ("sym", "_"):
            nxt = toks[k + 1] if toks[k + 1][:2] != ("sym", "{") or k + 3 >= len(toks) else toks[k + 2]
            closed = toks[k + 1][:2] != ("sym", "{") or k + 3 < len(toks) and toks[k + 3][:2] == ("sym", "}")
            if nxt[0] == "word" and nxt[1] in ("i", "j", "k", "n") and closed:
                found.add(nxt[1])
    return tuple(found) if len(found) == 1 else ()


def entry_subscripts(index: tuple) -> set:
    """Subscripts that name an entry over all the indices: ``i``; ``ij`` / ``i,j`` for two."""
    return {"".join(index), ",".join(index)} if len(index) > 1 else {index[0]}


def mixes_index(sub: str, index: tuple) -> bool:
    """``w_{ji}`` inside ``\\sum_i``: the summation index with another one (index notation)."""
    letters = sub.replace(",", "")
    return 1 < len(letters) <= 3 and letters.isalpha() and any(k in letters for k in index)


@dataclass
class Plan:
    terms: list | None = None            # sample numbers to write out, or None (vectorised)
    how: dict = field(default_factory=dict)   # name -> named / entry / row / column / upper
    note: str = ""
    fail: str = ""
    implied: tuple = ()                  # (N, count): the upper limit the data give


def _count(base, bold, sheet, defined):
    """(how, number of samples) that the sheet or the user gives for ``base``, or (None, None)."""
    named = 0
    while f"{base}_{named + 1}" in defined or f"{base}_{named + 1}" in sheet.given:
        named += 1
    if named:
        return "named", named
    shape = sheet.data.get(base, sheet.given.get(base))
    if shape is None and bold and base[:1].islower():
        upper = base[:1].upper() + base[1:]
        shape = sheet.data.get(upper, sheet.given.get(upper))
        if shape is not None and len(shape) == 2:
            return "upper", shape[0]
        return (None, None)
    if shape is None:
        return (None, None)
    if len(shape) == 1:
        return "entry", shape[0]
    if len(shape) == 2 and shape[1] == 1:
        return "row", shape[0]
    if len(shape) == 2 and shape[0] == 1 and not bold:
        return "column", shape[1]
    if len(shape) == 2:
        return "entry", shape[0]          # a matrix: sample i is row i
    return (None, None)


def plan(kind, index, upper, bases: dict, sheet, defined, at, reduces=False) -> Plan:
    """How to read a sum or product over ``index`` whose summand subscripts ``bases`` (name -> bold)."""
    sign = "Σ" if kind == "sum" else "∏"
    if not index or not bases:
        if kind == "prod":
            return Plan(fail="\\prod needs an index that runs over samples given on the sheet (\\prod_{i=1}^{N} p_i)")
        return Plan(note="read as: Σ(…) without an index is the sum of the entries of its summand" if not index
                    else f"read as: {sign}_{index[0]} of a formula without {index[0]}: the sum of its entries")
    if len(index) > 1:
        if kind == "prod" or any(bases.values()):
            return Plan(fail=f"{sign} over two indices is read only over the entries of a matrix")
        return Plan(note=f"read as: {sign}_{{{','.join(index)}}} over all the entries of "
                    + ", ".join(sorted(bases)))
    letter = index[0]
    limit = None
    if upper and len(upper) == 1 and upper[0][0] == "num" and upper[0][1].isdigit():
        limit = int(upper[0][1])
    elif upper and len(upper) == 1 and upper[0][0] == "word":
        symbol = upper[0][1]
        value = sheet.numbers.get(symbol)
        if value is not None and float(value).is_integer() and value > 0:
            limit = int(value)
    counts = {b: _count(b, bold, sheet, defined) for b, bold in bases.items()}
    known = {n for how, n in counts.values() if n is not None}
    if len(known) > 1:
        return Plan(fail=f"{sign}_{letter} runs over samples given in different numbers: "
                    + ", ".join(f"{b} has {n}" for b, (_, n) in sorted(counts.items()) if n is not None))
    n = limit if limit is not None else (known.pop() if known else None)
    if limit is not None and known and known != {limit}:
        return Plan(fail=f"{sign}_{{{letter}=1}}^{{{limit}}} but the data give {known.pop()} samples")
    implied = ()
    if upper and len(upper) == 1 and upper[0][0] == "word" and limit is None and n is not None:
        implied = (upper[0][1], n)
    shapes = [sheet.data.get(b, sheet.given.get(b)) for b in bases]
    vectors = any(bases.values())
    by_name = any(how == "named" for how, _ in counts.values())
    same = None not in shapes and len(set(shapes)) == 1
    if not vectors and not by_name and not reduces and kind == "sum" and (n is None or same):
        who = ", ".join(f"{b}_{letter}" for b in sorted(bases))
        return Plan(implied=implied, note=f"read as: Σ_{letter} over the samples, vectorised ({who} the "
                    f"entries of {', '.join(sorted(bases))}; products and powers elementwise)")
    if n is None:
        missing = sorted(b for b, (how, _) in counts.items() if how is None)
        return Plan(fail=f"{sign}_{letter} over samples of {', '.join(missing)}: give the samples on the sheet "
                    f"({missing[0]}_1 = …, {missing[0]}_2 = …, or "
                    f"{missing[0][:1].upper() + missing[0][1:] if bases[missing[0]] else missing[0]} = "
                    "\\begin{bmatrix}…\\end{bmatrix}) or the number of samples as the upper limit")
    if n > MAX_UNROLL:
        return Plan(fail=f"{sign}_{letter} over {n} samples is written out term by term here, and at most "
                    f"{MAX_UNROLL} are: give the data as vectors (y, X) with scalar samples")
    how = {}
    for b, (h, _) in counts.items():
        if h is None and b in defined:
            h = "entry"                   # a vector computed on the sheet: its entry k
        if h is None:
            if bases[b]:
                return Plan(fail=f"{sign}_{letter}: {b}_{letter} is a vector per sample but no samples of it are "
                            f"given (write {b}_1 = …, or {b[:1].upper() + b[1:]} with the samples as rows)")
            h = "named"                   # y_1 … y_N: inputs the user gives
        how[b] = h
    what = "; ".join(f"{b}_{letter} = " + {"named": f"the given {b}_1 … {b}_{n}", "upper": f"row {letter} of "
                                             f"{b[:1].upper() + b[1:]}", "entry": f"entry {letter} of {b}",
                                             "row": f"entry {letter} of {b}", "column": f"entry {letter} of {b}"}[h]
                     for b, h in sorted(how.items()))
    return Plan(terms=list(range(1, n + 1)), how=how, implied=implied,
                note=f"read as: {sign}_{letter} over {n} samples, written out term by term ({what})")


def elementwise(items, item_cls):
    """A vectorised summand: products and powers of per-sample scalars are elementwise."""
    out, prev = [], None
    for it in items:
        if prev is not None and prev.kind in ("name", "val", "close") and it.kind in ("name", "val", "open", "func"):
            out.append(item_cls("op", "*", it.pos))
        if it.kind == "op" and it.text == "⋅":
            it = item_cls("op", "*", it.pos)
        if it.kind in ("name", "val", "close") and "^" in it.post:
            it.post = re.sub(r"\^(?!T\b|T$)", "**", it.post)
        out.append(it)
        prev = it
    return out


class SumReading:
    """The converter's reading of ``\\sum`` and ``\\prod`` (a mixin of the LaTeX converter)."""

    def indexed_sum(self, i, hi, pos, items, kind="sum"):
        r"""``\sum_{i=1}^{N} (y_i - \hat{y}_i)^2``, ``\sum (y - b)^2``, ``\prod_i p_i``.

        The summand runs to the next ``+`` or ``-`` outside brackets.  Without an index it is the
        sum of the entries of the summand.  With one, names subscripted by the index are read per
        sample (:mod:`graphviz_bp.reading.sums`): vectorised over the entries of data vectors,
        or written out term by term when the samples are known (N at most MAX_UNROLL)."""
        index, upper = (), None
        if i < hi and self.t[i][:2] == ("sym", "_"):
            lo, h, i = self.arg(i + 1, hi, f"\\{kind}_")
            index = index_letters(self.t[lo:h])
        if i < hi and self.t[i][:2] == ("sym", "^"):
            lo, h, i = self.arg(i + 1, hi, f"\\{kind}^")
            upper = [t[:2] for t in self.t[lo:h]]
        end = self.summand_end(i, hi)
        if not index:                                     # \sum (y_i - \beta)^2: the index the summand uses
            index = implicit_index(self.t[i:end])
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
        reduces = any(it.kind == "func" and it.text in REDUCERS or (it.kind, it.text) == ("open", "||")
                      or it.kind == "name" and it.text + it.suffix not in bases
                      and self.is_tensor(it) for it in inner)
        # Σ_i ‖x_i‖ y_i, Σ_i W x_i: a reduction or a matrix inside acts per sample, not entrywise
        how = plan(kind, index, upper, bases, self.sheet, self.defined, self.t[i][2], reduces)
        if how.fail:
            raise _Fail(how.fail, pos)
        if how.note:
            self.sheet.note(how.note)
        if how.implied:
            self.sheet.implied.setdefault(how.implied[0], (how.implied[1], pos))
        if how.terms is None:                            # the entries of a vector expression
            if index and bases:                           # per-sample scalars: elementwise
                self.index = index
                try:
                    inner = elementwise(self.expand(self.convert(i, end)), _Item)
                finally:
                    self.index = outer
            items += [_Item("func", "sum", pos), _Item("open", "(", pos), *inner, _Item("close", ")", pos)]
            return end
        parts = [_Item("open", "(", pos)]
        for k in how.terms:
            self.sample, outer_sample, self.index = (index[0], k, how.how), self.sample, index
            try:
                term = self.convert(i, end)
            finally:
                self.sample, self.index = outer_sample, outer
            if len(parts) > 1:
                parts.append(_Item("op", "+" if kind == "sum" else "*", pos))
            parts += [_Item("open", "(", pos), *term, _Item("close", ")", pos)]
        items += parts + [_Item("close", ")", pos)]
        return end

    def is_tensor(self, item) -> bool:
        """A name that holds a vector or a matrix: bold, upper-case, or given such a value."""
        name = item.text + item.suffix
        shape = self.sheet.data.get(name, self.sheet.given.get(name))
        if shape is not None:
            return any(d != 1 for d in shape)
        return item.bold or name[:1].isupper()           # as resolve reads an input of unknown shape

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

    def per_sample(self, prev, s, pos, label=""):
        """A name subscripted by the index of the sum being read: sample k when the sum is written
        out term by term, else the whole vector (its entries are summed).  ``label``: the label
        superscript that follows (``o_i^a`` is sample i of ``o_a``)."""
        base = prev.text + prev.suffix + label
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
