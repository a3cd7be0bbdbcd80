"""graphviz-bp: computation graphs of backpropagation, as students solve it by hand.

>>> import graphviz_bp as gbp
>>> g = gbp.parse("f = x^2 + x*y + (x + y)^2")
>>> g.gradients(at={"x": 1, "y": 2})
{'x': 10.0, 'y': 7.0}
>>> gbp.gradients(g, at={"x": 1, "y": 2}, method="paths")
{'x': 10.0, 'y': 7.0}
>>> gbp.count_paths(g, "x")
3

The package is the pipeline, one folder a stage: ``core`` (op table, graph, evaluation),
``reading`` (text → graph), ``algorithms`` (functions of the graph), ``showing`` (pictures and
documents), ``app`` (CLI and dashboard).  SymPy, the Graphviz binary and Streamlit are loaded only
when used.  The names below are functions; their modules live in those folders, so no exported
name shadows a module.
"""
from .core.errors import InputError, LimitError, NumericWarning
from .core.limits import Limits
from .core.evaluate import evaluate
from .algorithms.reverse import reverse
from .algorithms.gradients import gradients
from .algorithms.paths import Path, count_paths, derivative_paths
from .algorithms.symbolic import symbolic_gradients
from .api import ComputationGraph, parse, scalar_view

__version__ = "0.1.0"

# Pictures and documents are loaded when first used: `graphviz-bp grad` and `import graphviz_bp`
# for numbers do not pay for the renderer, the worked solution and the checker (PEP 562).
_SHOWING = {"render": "render", "explain": "explain", "check": "check"}


def __getattr__(name):
    if name in _SHOWING:
        from importlib import import_module
        value = getattr(import_module(f".showing.{_SHOWING[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SHOWING))

__all__ = ["parse", "ComputationGraph", "InputError", "LimitError", "NumericWarning", "Limits",
           "evaluate", "reverse", "gradients", "derivative_paths", "count_paths", "Path",
           "symbolic_gradients", "scalar_view", "render", "explain", "check"]
