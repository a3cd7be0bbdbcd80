"""Counts: how many scalar parameters, the shape of every node, a convolution's output size.

*Parameters* are the inputs an SGD step updates, by the project's one rule
(:func:`graphviz_bp.core.graph.parameters`: ``W1``, ``b_2``, ``K``, ``theta``…); their number
of *scalar* parameters is the sum of their sizes.  Shapes come from evaluating the program:
an input without a value can be given a shape only (``shapes={"W1": (300, 12)}``), which
evaluates it as zeros — enough for shapes and counts, never shown as a value.

>>> c = counts(dense_graph([12, 300, 200, 100, 1]), shapes=dense_shapes([12, 300, 200, 100, 1]))
>>> c.total
84301
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError
from ..core.graph import is_parameter, parameters


@dataclass
class Counts:
    parameters: list = field(default_factory=list)   # (name, shape, size) in program order
    total: int = 0                                    # scalar parameters
    shapes: dict = field(default_factory=dict)        # every node name -> shape tuple (() for a scalar)
    output: str = ""

    def to_json(self) -> dict:
        return {"scalar_parameters": self.total,
                "parameters": [{"name": n, "shape": list(s), "size": k} for n, s, k in self.parameters],
                "shapes": {k: list(v) for k, v in self.shapes.items()}}

    def text(self) -> str:
        """``8 scalar parameters: W (2×3) 6, b (2×1) 2`` and one line of shapes."""
        if self.parameters:
            parts = ", ".join(f"{n} ({shape_text(s)}) {k:,}" for n, s, k in self.parameters)
            head = f"{self.total:,} scalar parameter{'s' if self.total != 1 else ''}: {parts}"
        else:
            head = "no parameters (no input is named like a weight, bias or kernel: W, w, b, K, theta…)"
        return head + "\nshapes: " + ", ".join(f"{n} {shape_text(s)}" for n, s in self.shapes.items())


def shape_text(shape) -> str:
    return "×".join(map(str, shape)) or "scalar"


def counts(g, at=None, shapes=None) -> Counts:
    """Parameters and node shapes of ``g`` at ``at``; ``shapes`` gives inputs without values a
    shape (evaluated as zeros)."""
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
    if isinstance(sizes, str):
        try:
            sizes = [int(s) for s in sizes.replace(",", "-").replace("x", "-").split("-") if s.strip()]
        except ValueError:
            raise InputError(f"layer sizes {sizes!r}: expected numbers like 12-300-200-100-1", kind="usage") from None
    sizes = list(sizes)
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise InputError(f"layer sizes {sizes}: expected at least two positive sizes", kind="usage")
    if sum(int(a) * int(b) for a, b in zip(sizes, sizes[1:])) > 10_000_000:
        raise InputError("a net of more than 10,000,000 weights is not built", kind="limit")
    return [int(s) for s in sizes]


def parse_shape(text: str) -> tuple:
    """``300x12`` / ``300×12`` / ``4`` / ``scalar`` → a shape tuple."""
    t = text.strip().lower()
    if t in ("", "scalar", "()"):
        return ()
    try:
        shape = tuple(int(p) for p in t.replace("×", "x").replace(",", "x").split("x"))
    except ValueError:
        raise InputError(f"shape {text!r}: expected sizes like 300x12", kind="usage") from None
    if any(s < 1 for s in shape) or len(shape) > 4:
        raise InputError(f"shape {text!r}: sizes must be positive, at most 4 of them", kind="usage")
    return shape


__all__ = ["Counts", "counts", "dense_program", "dense_graph", "dense_shapes", "parse_shape", "is_parameter"]
