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
from .scalar_view import scalar_view
from .symbolic import symbolic_gradients

__version__ = "0.1.0"

__all__ = ["parse", "ComputationGraph", "InputError", "LimitError", "NumericWarning", "Limits",
           "derivative_paths", "count_paths", "Path", "render", "explain", "check", "scalar_view",
           "symbolic_gradients"]


def __getattr__(name):
    # render, explain and check load Graphviz/SymPy only when first used; importing them here
    # also makes `graphviz_bp.render` the function, not the submodule of the same name
    if name in ("render", "explain", "check"):
        import importlib
        module = importlib.import_module(f".{name}", __name__)
        function = getattr(module, name)
        globals()[name] = function
        return function
    raise AttributeError(f"module 'graphviz_bp' has no attribute {name!r}")
