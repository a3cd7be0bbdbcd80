"""graphviz-bp: computation graphs of backpropagation, as students solve it by hand.

>>> import graphviz_bp as gbp
>>> g = gbp.parse("f = x^2 + x*y + (x + y)^2")
>>> g.gradients(at={"x": 1, "y": 2})
{'x': 10.0, 'y': 7.0}
>>> gbp.count_paths(g, "x")
3

SymPy, the Graphviz binary and Streamlit are loaded only when used; the functions ``render``,
``explain`` and ``check`` are imported here so that ``graphviz_bp.render`` is always the function.
"""
from .core.errors import InputError, LimitError, NumericWarning
from .core.graph import ComputationGraph, parse
from .core.limits import Limits
from .algorithms.paths import Path, count_paths, derivative_paths
from .algorithms.scalar_view import scalar_view
from .showing.render import render
from .showing.explain import explain
from .showing.check import check
from .algorithms.symbolic import symbolic_gradients

__version__ = "0.1.0"

__all__ = ["parse", "ComputationGraph", "InputError", "LimitError", "NumericWarning", "Limits",
           "derivative_paths", "count_paths", "Path", "render", "explain", "check", "scalar_view",
           "symbolic_gradients"]
