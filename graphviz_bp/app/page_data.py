"""What the dashboard computes: each a cached function of (program, inputs, view), run first in a
worker process under hard limits (issue 19), then kept in a size-bounded cache.

``prog`` is ``(program text, notation, defines)`` and ``key`` the inputs' texts
(``dashboard.values_key``). The page (``page.py``) lays these out; nothing here draws.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import streamlit as st

import graphviz_bp as gbp
from graphviz_bp import InputError
from graphviz_bp.app import dashboard as dash
from graphviz_bp.app import jobs, worker
from graphviz_bp.core.limits import Limits, no_time_budget


def renderer_module():
    """``graphviz_bp.showing.render`` if installed, else None (the app says the drawing is coming)."""
    try:
        return importlib.import_module("graphviz_bp.showing.render")
    except ModuleNotFoundError as exc:
        if exc.name == "graphviz_bp.showing.render":
            return None
        raise


_MODULES = {"explain": "graphviz_bp.showing.explain", "check": "graphviz_bp.showing.check",
            "scalar_view": "graphviz_bp.api"}   # the api view: local_numeric, …


def optional(name: str):
    """The function ``graphviz_bp.<name>.<name>`` (explain, check, scalar_view) if that part is
    installed, else None. (Imported from its module: once ``graphviz_bp.<name>`` is imported,
    the package attribute of that name is the module, not the function.)"""
    try:
        module = importlib.import_module(_MODULES[name])
    except ModuleNotFoundError as exc:
        if exc.name == _MODULES[name]:
            return None
        raise
    return getattr(module, name, None)


@st.cache_data(show_spinner=False)
def gallery():
    return dash.gallery()


# --- issue 19: every computation first runs in a worker process under hard limits (CPU time,
# memory: graphviz_bp.app.worker); the server's own copy is made only once a worker has finished
# it. Graphs and models are cached by size (jobs.SizeCache), not by number of entries.
_LIMITS = Limits.from_env()
_CACHE = jobs.shared_cache()


def _session():
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _in_worker(fn, *args):
    return worker.run(fn, *args, limits=_LIMITS, key=_session())


@jobs.cached(_CACHE)
def graph(prog: tuple):
    """The graph of ``prog = (text, syntax)``; syntax is the notation switch (auto, plain, latex)."""
    _in_worker(jobs.read, prog)
    with no_time_budget():                    # a worker has just read it under the hard limits
        return dash.parse_prog(prog)


@dataclass
class Model:
    """Everything the panels show for one program and one set of input values."""
    prog: tuple                # (program text, notation), see _graph
    key: tuple                 # the inputs' texts, see dash.values_key
    g: object                  # ComputationGraph
    at: dict
    missing: list              # inputs without a value (then the graph is symbolic)
    values: dict | None = None
    gradients: dict | None = None
    gradient_error: str | None = None
    symbolic: dict | None = None
    warnings: list = field(default_factory=list)

    @property
    def has_values(self) -> bool:
        return self.values is not None

    @property
    def has_gradients(self) -> bool:
        return self.gradients is not None


STRUCTURE_ONLY = (("", ""),)   # the inputs' key of "the program's graph without values" (no input has no name)


@jobs.cached(_CACHE)
def model(prog: tuple, key: tuple) -> Model:
    if key != STRUCTURE_ONLY:
        _in_worker(jobs.probe, prog, key)     # the program at these inputs, under the hard limits
    with no_time_budget():                    # ... so the server's own copy needs no second budget
        return _model_here(prog, key)


def _model_here(prog: tuple, key: tuple) -> Model:
    g = graph(prog)
    if key == STRUCTURE_ONLY:          # after an evaluation error: the program's graph without values
        return Model(prog, key, g, {}, [])
    at = jobs.inputs(key)
    missing = [n for n in g.leaves if n not in at and g.node(n).default is None]
    m = Model(prog, key, g, at, missing)
    if missing:
        try:
            from graphviz_bp.algorithms.symbolic import symbolic_gradients
            m.symbolic = symbolic_gradients(g)
        except InputError as exc:
            m.gradient_error = str(exc)
        return m
    from graphviz_bp.core.evaluate import run
    m.warnings = list(run(g, at).warnings)
    values = g.evaluate(at)                  # the page shows inputs and output; intermediates of
    m.values = {n: values[n] for n in [*g.leaves, g.output]}   # 10⁶ entries stay out of the cache
    try:
        m.gradients = g.gradients(at=at)
    except InputError as exc:          # e.g. a non-scalar output
        m.gradient_error = str(exc)
    return m


@jobs.cached(_CACHE)
def scalar_graph(prog: tuple, key: tuple):
    m = model(prog, key)
    return optional("scalar_view")(m.g, at=m.at if m.has_values else None)


@jobs.cached(_CACHE)
def steps(prog: tuple, key: tuple, scalar: bool):
    g, at = active(prog, key, scalar)
    return g.reverse(at=at, record=True).steps


@jobs.cached(_CACHE)
def tangents(prog: tuple, key: tuple, scalar: bool, src: str):
    from graphviz_bp.algorithms.forward import forward
    g, at = active(prog, key, scalar)
    return forward(g, src, at)


def active(prog: tuple, key: tuple, scalar: bool):
    """The graph the panels work on (the program's, or its scalar view) and its inputs."""
    m = model(prog, key)
    if scalar:
        return scalar_graph(prog, key), None
    return m.g, (m.at if m.has_values else None)


@st.cache_data(max_entries=128, show_spinner=False)
def path_counts(prog: tuple, key: tuple, scalar: bool) -> dict:
    g, _ = active(prog, key, scalar)
    return {name: gbp.count_paths(g, name) for name in g.leaves}


@jobs.cached(_CACHE)
def path_page(prog: tuple, key: tuple, scalar: bool, src: str, page: int):
    """The paths of one page, their contributions and running sums (algorithms.paths.running_sums),
    and in a tensor program each contribution as a checked matrix formula: ``(LaTeX, None)``, or
    ``(None, why not)`` (issue 14; None for every path of a scalar program)."""
    from graphviz_bp.algorithms.matrix_form.formulas import is_tensor_program
    from graphviz_bp.algorithms.matrix_form.paths import path_formulas
    from graphviz_bp.algorithms.paths import running_sums
    from graphviz_bp.showing.matrix_solution import _tex_names
    g, at = active(prog, key, scalar)
    with_values = model(prog, key).has_values
    rows = running_sums(g, src, page * dash.PAGE_SIZE, dash.PAGE_SIZE, at=at, values=with_values)
    paths = [p for p, _, _ in rows]
    contributions = [value for _, value, _ in rows]
    running = [total for _, _, total in rows] if with_values and all(v is not None for v in contributions) else []
    formulas = [None] * len(paths)
    if with_values and not scalar and is_tensor_program(g, at):
        tex = _tex_names(g)
        formulas = [(f.latex(tex), None) if f.expr is not None else (None, f.note)
                    for f in path_formulas(g, paths, at)]
    return paths, contributions, running, formulas


@st.cache_data(max_entries=256, show_spinner=False)
def svg(prog: tuple, key: tuple, scalar: bool, opts: tuple) -> str:
    """Server-side SVG of one view (Graphviz's own layout and font metrics, under the time budget)."""
    return _in_worker(jobs.svg, prog, key, scalar, opts)


@st.cache_data(max_entries=256, show_spinner=False)
def dot(prog: tuple, key: tuple, scalar: bool, opts: tuple) -> str:
    """DOT source of one view (for st.graphviz_chart and the DOT download)."""
    return _in_worker(jobs.dot, prog, key, scalar, opts)


@st.cache_data(max_entries=64, show_spinner=False)
def explanation(prog: tuple, key: tuple, sgd_lr: float | None) -> str:
    return _in_worker(jobs.explanation, prog, key, sgd_lr)


@st.cache_data(max_entries=64, show_spinner=False)
def check_report(prog: tuple, key: tuple, answers: str, sgd_lr: float | None) -> tuple:
    return _in_worker(jobs.check_report, prog, key, answers, sgd_lr)


@st.cache_data(max_entries=32, show_spinner=False)
def png(svg: str) -> bytes:
    return renderer_module().to_png(svg)
