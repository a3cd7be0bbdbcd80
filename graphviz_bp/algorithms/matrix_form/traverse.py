"""Walking :mod:`.expr` expressions: every node once, substitution through the constructors, and
the two sizes the tidy step and the printers go by (operations as printed, size written out)."""
from __future__ import annotations

from .expr import SCALAR, E, fn, index, inv, is_num, mm, mul, pow_, red, softmax, T, add


def walk(e: E):
    """Every node of ``e`` once (post-order)."""
    seen, out, stack = set(), [], [(e, False)]
    while stack:
        x, done = stack.pop()
        if done:
            out.append(x)
            continue
        if id(x) in seen:
            continue
        seen.add(id(x))
        stack.append((x, True))
        stack.extend((a, False) for a in x.args)
    return out


def substitute(e: E, table: dict, memo: dict | None = None) -> E:
    """``e`` with the sub-expressions in ``table`` (E → E) replaced, rebuilt through the constructors
    (a rebuilt node that is itself in the table is replaced too).  ``memo`` (E → E) may be shared
    by calls with the same table: a node done once is not walked again."""
    memo = {} if memo is None else memo
    stack = [(e, False)]
    while stack:
        x, done = stack.pop()
        if x in memo:
            continue
        if x in table:
            memo[x] = table[x]
        elif not x.args:
            memo[x] = x
        elif not done:
            stack.append((x, True))
            stack.extend((a, False) for a in x.args if a not in memo)
        else:
            args = [memo[a] for a in x.args]
            y = x if all(a is b for a, b in zip(args, x.args)) else rebuild(x, args)
            memo[x] = table.get(y, y)
    return memo[e]


def rebuild(x: E, args) -> E:
    """``x``'s operation applied (through the constructors) to new operands."""
    k = x.kind
    if k == "add":
        return add(*args)
    if k == "mul":
        return mul(*args)
    if k == "mm":
        return mm(*args)
    if k == "pow":
        return pow_(*args)
    if k == "T":
        return T(args[0])
    if k == "fn":
        return fn(x.data, args[0])
    if k == "red":
        return red(x.data, args[0])
    if k == "inv":
        return inv(args[0])
    if k == "softmax":
        return softmax(args[0])
    if k == "index":
        return index(args[0], x.data)
    raise ValueError(k)


def count_ops(e: E) -> int:
    """Operations as printed (a − b, a/b and −a count one each; a number matrix counts none; a
    sub-expression printed twice counts twice); kept on the expressions (they are immutable)."""
    if e.ops is None:
        for x in _uncached(e, "ops"):   # operands first, so each node adds its own to theirs
            x.ops = _own_ops(x) + sum(a.ops for a in x.args)
    return e.ops


def _uncached(e: E, attr: str) -> list:
    """The nodes of ``e`` whose ``attr`` is not computed yet, operands first (a cached node's
    operands are cached too, so the walk stops there)."""
    out, seen, stack = [], set(), [(e, False)]
    while stack:
        x, done = stack.pop()
        if done:
            out.append(x)
        elif id(x) not in seen and getattr(x, attr) is None:
            seen.add(id(x))
            stack.append((x, True))
            stack.extend((a, False) for a in x.args)
    return out


def _own_ops(x: E) -> int:
    k = x.kind
    if k == "add":           # a − b: the minus is the sum's own operation, not a negation besides
        negated = sum(1 for t in x.args if t.kind == "mul" and len(t.args) == 2 and is_num(t.args[0], -1.0))
        return len(x.args) - 1 - min(negated, len(x.args) - 1)
    if k == "mm":
        return len(x.args) - 1
    if k == "mul":
        factors = [f for f in x.args if not (f.kind == "num" and f.shape != SCALAR)]
        return max(len(factors) - 1, 0)
    if k == "pow":
        return 0 if is_num(x.args[1], -1.0) else 1
    if k in ("T", "fn", "red", "inv", "softmax", "index"):
        return 1
    return 0


def tree_size(e: E, cap: int = 10 ** 9) -> int:
    """Operations of ``e`` written out in full (shared sub-expressions counted each time they are
    printed), capped: a deep network's expanded adjoint is exponentially long on paper."""
    if e.tree is None:
        for x in _uncached(e, "tree"):
            x.tree = min(cap, (1 if x.args else 0) + sum(a.tree for a in x.args))
    return e.tree
