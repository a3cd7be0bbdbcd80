"""Counts: how many scalar parameters, the shape of every node, a convolution's output size.

*Parameters* are the inputs an SGD step updates, by the project's one rule
(:func:`graphviz_bp.core.graph.parameters`: ``W1``, ``b_2``, ``K``, ``theta``…); their number
of *scalar* parameters is the sum of their sizes.  Shapes come from evaluating the program:
an input without a value can be given a shape only (``shapes={"W1": (300, 12)}``), which
evaluates it as zeros — enough for shapes and counts, never shown as a value.

Sizes may be letters, as a sheet writes them (``W1: d_h × d``): the count is then a formula in
them.  It is found by evaluating the program at two sets of distinct sizes for the letters; a
node's size that follows neither a letter nor a number at both is shown as ``?``, and the
formula is checked against both numeric counts before it is given.

>>> c = counts(dense_graph([12, 300, 200, 100, 1]), shapes=dense_shapes([12, 300, 200, 100, 1]))
>>> c.total
84301
>>> counts(dense_graph(["d", "d_h", "m"]), shapes=dense_shapes(["d", "d_h", "m"])).total_text
'd·d_h + d_h·m + d_h + m'
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError
from ..core.graph import is_parameter, parameters


@dataclass
class Counts:
    parameters: list = field(default_factory=list)   # (name, shape, size) in program order
    total: object = 0                                 # scalar parameters (an int, or a SymPy formula in letter sizes)
    shapes: dict = field(default_factory=dict)        # every node name -> shape tuple (() for a scalar)
    output: str = ""

    @property
    def total_text(self) -> str:
        return _size_text(self.total)

    def to_json(self) -> dict:
        def size(k):
            return k if isinstance(k, int) else _size_text(k)
        return {"scalar_parameters": size(self.total),
                "parameters": [{"name": n, "shape": list(s), "size": size(k)} for n, s, k in self.parameters],
                "shapes": {k: list(v) for k, v in self.shapes.items()}}

    def text(self) -> str:
        """``8 scalar parameters: W (2×3) 6, b (2×1) 2`` and one line of shapes."""
        if self.parameters:
            parts = ", ".join(f"{n} ({shape_text(s)}) {_size_text(k)}" for n, s, k in self.parameters)
            one = isinstance(self.total, int) and self.total == 1
            head = f"{self.total_text} scalar parameter{'' if one else 's'}: {parts}"
        else:
            head = "no parameters (no input is named like a weight, bias or kernel: W, w, b, K, theta…)"
        text = head + "\nshapes: " + ", ".join(f"{n} {shape_text(s)}" for n, s in self.shapes.items())
        if any("?" in s for s in self.shapes.values()):
            text += "\n?: a size that is not one of the letters (e.g. n − k + 1 of a convolution): give numbers to see it"
        return text


def shape_text(shape) -> str:
    return "×".join(map(str, shape)) or "scalar"


def _size_text(k) -> str:
    """``84,301`` for a number; ``d·d_h + d_h`` for a formula in letter sizes."""
    return f"{k:,}" if isinstance(k, int) else str(k).replace("*", "·")


# distinct sizes for the letters, two sets (primes: a product of two never equals a third)
_TRIAL_SIZES = ([11, 13, 17, 19, 23, 29, 31, 37], [41, 43, 47, 53, 59, 61, 67, 71])


def counts(g, at=None, shapes=None) -> Counts:
    """Parameters and node shapes of ``g`` at ``at``; ``shapes`` gives inputs without values a
    shape (evaluated as zeros), whose sizes may be letters (``("d_h", "d")``)."""
    letters = sorted({d for shape in (shapes or {}).values() for d in shape if isinstance(d, str)})
    if not letters:
        return _numeric_counts(g, at, shapes)
    if len(letters) > len(_TRIAL_SIZES[0]):
        raise InputError(f"at most {len(_TRIAL_SIZES[0])} letter sizes (given {', '.join(letters)})", kind="usage")
    import sympy
    trials = []
    for sizes in _TRIAL_SIZES:
        value = dict(zip(letters, sizes))
        numeric = {n: tuple(value.get(d, d) for d in shape) for n, shape in shapes.items()}
        trials.append((value, _numeric_counts(g, at, numeric)))
    (v1, c1), (v2, c2) = trials

    def dim(a, b):
        if a == b:
            return a
        return next((name for name in letters if v1[name] == a and v2[name] == b), "?")
    out = Counts(output=g.output)
    out.shapes = {n: tuple(dim(a, b) for a, b in zip(c1.shapes[n], c2.shapes[n])) for n in c1.shapes}
    symbols = {name: sympy.Symbol(name, positive=True, integer=True) for name in letters}
    for name, _, _ in c1.parameters:
        shape = out.shapes[name]
        if "?" in shape:
            raise InputError(f"the size of parameter {name!r} is no letter or number of the --shape sizes", kind="usage")
        size = sympy.Mul(*[symbols[d] if isinstance(d, str) else d for d in shape])
        out.parameters.append((name, shape, int(size) if size.is_Integer else size))
    out.total = sympy.expand(sum((k for _, _, k in out.parameters), sympy.Integer(0)))
    for value, c in trials:                  # the formula gives both numeric counts
        if int(out.total.subs({symbols[n]: v for n, v in value.items()})) != c.total:
            raise InputError("the count in letter sizes could not be checked; give the sizes as numbers", kind="usage")
    out.total = int(out.total) if out.total.is_Integer else out.total
    return out


def _numeric_counts(g, at=None, shapes=None) -> Counts:
    from ..core.evaluate import run
    at = dict(at or {})
    for name, shape in (shapes or {}).items():
        node = g.node(name)
        if not node.is_leaf or node.kind == "const":
            raise InputError(f"--shape {name}: {name!r} is computed by the program, not an input", kind="usage")
        if name not in at and node.default is None:
            at[name] = np.zeros(tuple(shape)) if tuple(shape) else 0.0
    ev = run(g, at)
    out = Counts(output=g.output)
    for node in g.nodes:
        if node.kind == "const" and isinstance(node.default, float):
            continue
        out.shapes[node.name] = tuple(np.shape(ev.values[node.index]))
    for name in parameters(g):
        s = out.shapes[name]
        size = int(np.prod(s)) if s else 1
        out.parameters.append((name, s, size))
        out.total += size
    return out


def dense_shapes(sizes) -> dict:
    """Shapes of x, W1, b1, … of a fully connected net with layer sizes ``sizes`` (column vectors)."""
    sizes = _sizes(sizes)
    shapes = {"x": (sizes[0], 1)}
    for k in range(1, len(sizes)):
        shapes[f"W{k}"] = (sizes[k], sizes[k - 1])
        shapes[f"b{k}"] = (sizes[k], 1)
    return shapes


def dense_program(sizes, activation: str = "relu") -> str:
    """The program of a fully connected net: ``h1 = relu(W1 @ x + b1)`` …, the last layer linear."""
    sizes = _sizes(sizes)
    lines, prev = [], "x"
    n = len(sizes) - 1
    for k in range(1, n + 1):
        z = f"W{k} @ {prev} + b{k}"
        name = f"h{k}" if k < n else "yhat"
        lines.append(f"{name} = {activation}({z})" if k < n else f"{name} = {z}")
        prev = name
    return "\n".join(lines) + "\n"


def dense_graph(sizes, activation: str = "relu"):
    from ..core.graph import build
    from ..reading.parser import parse_program
    text = dense_program(sizes, activation)
    return build(parse_program(text), text)


def _sizes(sizes):
    """Layer sizes: numbers, or letters as a sheet writes them (``d-d_h-m``)."""
    if isinstance(sizes, str):
        sizes = [_size(s, sizes) for s in sizes.replace(",", "-").split("-") if s.strip()]
    sizes = [s if isinstance(s, str) else int(s) for s in sizes]
    if len(sizes) < 2 or any(isinstance(s, int) and s < 1 for s in sizes):
        raise InputError(f"layer sizes {sizes}: expected at least two positive sizes", kind="usage")
    numbers = [s if isinstance(s, int) else 1 for s in sizes]
    if sum(a * b for a, b in zip(numbers, numbers[1:])) > 10_000_000:
        raise InputError("a net of more than 10,000,000 weights is not built", kind="limit")
    return sizes


_LETTER_SIZE = re.compile(r"[^\W\d]\w*\Z")


def _size(token: str, whole: str):
    t = token.strip()
    if t.isdigit():
        return int(t)
    if _LETTER_SIZE.match(t):
        return t
    raise InputError(f"sizes {whole!r}: expected numbers or letters like 12-300-1, d-d_h-m or 300x12, d_h x d",
                     kind="usage")


def parse_shape(text: str) -> tuple:
    """``300x12`` / ``300×12`` / ``4`` / ``scalar`` → a shape tuple; sizes may be letters, written
    ``d_h x d``, ``d_h×d`` or ``d_h,d`` (``dhxd`` is refused: one letter name or three?)."""
    t = text.strip()
    if t.lower() in ("", "scalar", "()"):
        return ()
    parts = re.split(r"\s*[×,]\s*|\s+x\s+|(?<=\d)x(?=\d)", t)
    if len(parts) == 1 and "x" in t and not t.isdigit() and re.fullmatch(r"[\w]+x[\w]+", t):
        raise InputError(f"shape {text!r}: with letters, write the sizes as 'd_h x d' or 'd_h,d'", kind="usage")
    shape = tuple(_size(p, text) for p in parts)
    if any(isinstance(s, int) and s < 1 for s in shape) or len(shape) > 4:
        raise InputError(f"shape {text!r}: sizes must be positive, at most 4 of them", kind="usage")
    return shape


__all__ = ["Counts", "counts", "dense_program", "dense_graph", "dense_shapes", "parse_shape", "is_parameter"]
