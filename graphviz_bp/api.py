"""The public graph: :class:`graphviz_bp.core.graph.Graph` with thin methods for notebooks and scripts.

Each method is one call to the function that does the work, in its own module; code inside the
package calls those functions directly on a plain ``Graph``.  This module sits above every layer,
so the graph itself stays plain data that imports nothing above it.

>>> g = parse("f = x^2 + x*y + (x + y)^2")
>>> g.evaluate(at={"x": 1, "y": 2})["f"]
12.0
>>> g.gradients(at={"x": 1, "y": 2})
{'x': 10.0, 'y': 7.0}
"""
from __future__ import annotations

from .algorithms import gradients as _gradients
from .algorithms import reverse as _reverse
from .algorithms import scalar_view as _scalar_view
from .algorithms import symbolic as _symbolic
from .core import evaluate as _evaluate
from .core.graph import Graph
from .core.limits import Limits
from .reading import program as _program


class ComputationGraph(Graph):
    """A program as a graph of operations; see :class:`graphviz_bp.core.graph.Graph` for the fields.

    >>> g = parse("X = [[-1], [1], [-2]]; Y = [[0, -2], [0, -2], [0, -2]]; W = [[1, 1]]; lambda = -1\\n"
    ...           "L = ||X*W - Y||_2^2 + lambda*||W||_1")
    >>> g.evaluate()["L"], g.gradients(wrt=["W"])["W"].tolist()
    (14.0, [[11.0, 3.0]])
    """

    def evaluate(self, at=None) -> dict:
        """Every node's value: ``{name: float | ndarray}`` (:func:`graphviz_bp.core.evaluate.evaluate`)."""
        return _evaluate.evaluate(self, at)

    def reverse(self, at=None, record: bool = False):
        """Reverse accumulation (:func:`graphviz_bp.algorithms.reverse.reverse`)."""
        return _reverse.reverse(self, at, record=record)

    def gradients(self, at=None, wrt=None, method: str = "reverse") -> dict:
        """∂output/∂leaf for each leaf in ``wrt`` (default: all named leaves), shaped like the leaf;
        ``method`` is ``"reverse"``, ``"forward"`` or ``"paths"`` (:func:`graphviz_bp.algorithms.gradients.gradients`)."""
        return _gradients.gradients(self, at, wrt, method)

    def local_numeric(self, u: str, v: str, at=None):
        """Numeric local derivative ∂v/∂u on edge u→v, elementwise, or ``None`` for an op with only a
        vector–Jacobian rule (:func:`graphviz_bp.core.evaluate.local_partial`)."""
        return _evaluate.local_partial(self, self.index(u), self.index(v), at)

    def local_symbolic(self, u: str, v: str):
        """Symbolic local derivative ∂v/∂u as a SymPy expression in the graph's names, or None."""
        return _symbolic.local_symbolic(self, self.index(u), self.index(v))

    def local_rule(self, u: str, v: str) -> str:
        """The local derivative as text: the SymPy expression when there is one, else the VJP rule."""
        return _symbolic.local_text(self, self.index(u), self.index(v))

    def _repr_svg_(self):
        from .showing.render import render_svg      # Jupyter only: Graphviz is loaded when drawn
        return render_svg(self)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self._repr_svg_(), "text/plain": repr(self)}


def parse(text: str, limits: Limits | None = None, output: str | None = None,
          syntax: str = "auto", define: dict | None = None, given: dict | None = None) -> ComputationGraph:
    """Parse a program (the plain notation, or LaTeX pasted from a sheet) into a graph.

    See :func:`graphviz_bp.reading.program.parse` for the reading rules.

    >>> parse(r"$$f(x, y) = x^2 + xy + (x + y)^2.$$").variables
    ['x', 'y']
    """
    return _program.parse(text, limits, output, syntax, cls=ComputationGraph, define=define, given=given)


def scalar_view(g: Graph, at=None) -> ComputationGraph:
    """Tensor operations expanded into element nodes (:func:`graphviz_bp.algorithms.scalar_view.scalar_view`)."""
    view = _scalar_view.scalar_view(g, at)
    public = ComputationGraph(view.nodes, view._names, view._output, view.text, view.limits)
    public.syntax, public.tex_names = view.syntax, view.tex_names
    return public
