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
from .errors import InputError, LimitError, NumericWarning
from .graph import ComputationGraph, parse
from .limits import Limits
from .paths import Path, count_paths, derivative_paths
from .scalar_view import scalar_view
from .render import render
from .explain import explain
from .check import check
from .symbolic import symbolic_gradients

__version__ = "0.1.0"

__all__ = ["parse", "ComputationGraph", "InputError", "LimitError", "NumericWarning", "Limits",
           "derivative_paths", "count_paths", "Path", "render", "explain", "check", "scalar_view",
           "symbolic_gradients"]
