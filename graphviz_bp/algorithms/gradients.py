"""∂output/∂leaf by any of the three methods; they agree (and the tests say so)."""
from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..core.graph import wrt_names
from ..core.evaluate import run

METHODS = ("reverse", "forward", "paths")


def gradients(g, at=None, wrt=None, method: str = "reverse") -> dict:
    """``{leaf: ∂output/∂leaf}``, each shaped like its leaf (floats for scalars)."""
    names = wrt_names(g, wrt)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; use one of {', '.join(METHODS)}", kind="usage")
    ev = run(g, at)
    values = ev.values
    if method == "reverse":
        from .reverse import reverse
        adj = reverse(g, ev, wrt=names if wrt is not None else None).adjoints
        out = {}
        for name in names:
            a = adj.get(name)
            shape = np.shape(values[g.index(name)])
            out[name] = (0.0 if shape == () else np.zeros(shape)) if a is None else _shaped(a, shape)
        return out
    if method == "forward":
        from .forward import forward_gradient
        return {name: forward_gradient(g, name, at) for name in names}
    from .paths import path_sum
    from .reverse import output_seed
    output_seed(g, values[g._output])
    return {name: _shaped(path_sum(g, name, None, at), np.shape(values[g.index(name)])) for name in names}


def _shaped(a, shape):
    if shape == ():
        return float(np.ravel(a)[0]) if np.ndim(a) else float(a)
    return np.asarray(a, dtype=float).reshape(shape)
