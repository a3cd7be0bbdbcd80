"""graphviz-bp: computation graphs of backpropagation, as students solve it by hand.

>>> import graphviz_bp as gbp
>>> g = gbp.parse("f = x^2 + x*y + (x + y)^2")
>>> g.gradients(at={"x": 1, "y": 2})
{'x': 10.0, 'y': 7.0}
>>> gbp.count_paths(g, "x")
3

Heavy parts (SymPy, Graphviz, Streamlit) are imported only when used.
"""
from .errors import InputError, LimitError, NumericWarning
from .graph import ComputationGraph, parse
from .limits import Limits
from .paths import Path, count_paths, derivative_paths

__version__ = "0.1.0"

__all__ = ["parse", "ComputationGraph", "InputError", "LimitError", "NumericWarning", "Limits",
           "derivative_paths", "count_paths", "Path", "render", "explain", "check", "scalar_view",
           "symbolic_gradients"]


def __getattr__(name):
    # lazy: keeps `import graphviz_bp` (and the CLI's cold start) free of SymPy and Graphviz
    if name == "render":
        from .render import render
        return render
    if name == "explain":
        from .explain import explain
        return explain
    if name == "check":
        from .check import check
        return check
    if name == "scalar_view":
        from .scalar_view import scalar_view
        return scalar_view
    if name == "symbolic_gradients":
        from .symbolic import symbolic_gradients
        return symbolic_gradients
    raise AttributeError(f"module 'graphviz_bp' has no attribute {name!r}")
