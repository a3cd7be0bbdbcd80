"""What the dashboard sends to its workers (:mod:`graphviz_bp.app.worker`), and its size-bounded cache.

A worker gets plain data (the program's text, its notation, the inputs' texts, the view's options)
and gives plain data back (numbers, SVG text, Markdown), so nothing of the server's memory travels
and a result is small: each job reads the program again, which costs milliseconds for a class's
programs and is what makes the hard limits apply to the whole computation.

* :func:`read` (read and build) and :func:`probe` (also evaluate and differentiate): the gates every
  program passes in a worker before the page touches it in the server's own process;
* :func:`svg`, :func:`dot`, :func:`explanation`, :func:`check_report`: the heavy outputs, made in
  the worker and returned as text.

:class:`SizeCache` keeps results by *size* (bytes, or nodes and tensor entries of a graph) instead of
by number of entries: Streamlit's ``max_entries=64`` let 64 graphs of 400,000 nodes fill 11 GiB.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..core.errors import InputError


# --- the jobs (module-level: they travel to the worker by name) -------------------------------------------

def inputs(key: tuple) -> dict:
    """The inputs' values from their texts ``((name, text), …)``; an empty text is no value."""
    from ..reading.program import read_value
    at = {}
    for name, text in key:
        if text:
            try:
                at[name] = read_value(text, name)
            except InputError:
                raise InputError(f"input {name} = {text}: expected a number or a literal like "
                                 f"[[1, 2], [3, 4]]", kind="value") from None
    return at


def _graph_and_point(prog: tuple, key: tuple, scalar: bool = False):
    from .dashboard import parse_prog
    g = parse_prog(prog)
    at = inputs(key)
    missing = [n for n in g.leaves if n not in at and g.node(n).default is None]
    if missing:
        return g, None
    if scalar:
        from ..algorithms.scalar_view import scalar_view
        return scalar_view(g, at=at), None
    return g, at


def read(prog: tuple) -> int:
    """Read and build the program (no values yet): its number of nodes."""
    from .dashboard import parse_prog
    return len(parse_prog(prog).nodes)


def probe(prog: tuple, key: tuple) -> dict:
    """Read, build, evaluate and differentiate as the page will; a few numbers about the result."""
    g, at = _graph_and_point(prog, key)
    out = {"nodes": len(g.nodes), "values": at is not None}
    if at is not None:
        from ..core.evaluate import run
        ev = run(g, at)
        out["elements"] = sum(np.size(v) for v in ev.values if v.__class__ is not float)
        try:
            g.gradients(at=at)
        except InputError as exc:      # a non-scalar output: the page says so, it is not a failure
            if exc.kind == "limit":
                raise
    else:
        from ..algorithms.symbolic import symbolic_gradients
        try:
            symbolic_gradients(g)
        except InputError as exc:
            if exc.kind == "limit":
                raise
    return out


def _render(prog, key, scalar, opts):
    g, at = _graph_and_point(prog, key, scalar)
    kwargs = dict(opts)
    kwargs["show"] = set(kwargs["show"])
    if kwargs.get("highlight") is not None:
        kwargs["highlight"] = list(kwargs["highlight"])
    return g, at, kwargs


def svg(prog: tuple, key: tuple, scalar: bool, opts: tuple) -> str:
    from ..showing.render import render_svg
    g, at, kwargs = _render(prog, key, scalar, opts)
    return render_svg(g, at=at, **kwargs)


def dot(prog: tuple, key: tuple, scalar: bool, opts: tuple) -> str:
    from ..showing.render import render
    g, at, kwargs = _render(prog, key, scalar, opts)
    return render(g, at=at, **kwargs).source


def explanation(prog: tuple, key: tuple, sgd_lr: float | None) -> str:
    from ..showing.explain import explain
    g, at = _graph_and_point(prog, key)
    return explain(g, at=at, fmt="md", sgd_lr=sgd_lr)


def check_report(prog: tuple, key: tuple, answers: str, sgd_lr: float | None) -> tuple:
    from ..showing.check import check
    g, at = _graph_and_point(prog, key)
    report = check(g, answers, at=at, sgd_lr=sgd_lr)
    return report.ok, report.text()


# --- the size-bounded cache ---------------------------------------------------------------------------------

def size_of(value) -> int:
    """Bytes a cached value holds, roughly: text and arrays by their length, a graph by its nodes
    (about 1 KB each with labels and the networkx view) and its cached evaluation's tensor entries."""
    if isinstance(value, (str, bytes)):
        return len(value) + 64
    if isinstance(value, np.ndarray):
        return value.nbytes + 128
    if isinstance(value, (tuple, list)):
        return 64 + sum(size_of(v) for v in value)
    if isinstance(value, dict):
        return 64 + sum(size_of(v) for v in value.values())
    nodes = getattr(value, "nodes", None)
    if isinstance(nodes, list):
        total = 1024 * len(nodes)
        cache = getattr(value, "_eval_cache", None)
        if cache:
            total += sum(size_of(v) for v in cache[1].values if v.__class__ is not float)
        return total
    g = getattr(value, "g", None)          # the page's Model: its graph and the values it keeps
    if g is not None and g is not value:
        return size_of(g) + size_of(getattr(value, "values", None) or {}) + \
            size_of(getattr(value, "gradients", None) or {})
    return 256


class SizeCache:
    """A thread-safe least-recently-used cache that holds at most ``max_bytes`` (by :func:`size_of`);
    a value bigger than a quarter of that is computed but not kept."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key, make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        value = make()
        size = size_of(value)
        if size > self.max_bytes // 4:
            return value
        with self._lock:
            if key not in self._items:
                self._items[key] = (value, size)
                self.bytes += size
                while self.bytes > self.max_bytes and self._items:
                    _, (_, old) = self._items.popitem(last=False)
                    self.bytes -= old
        return value

    def clear(self):
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def __len__(self):
        return len(self._items)


def cached(cache: SizeCache):
    """Decorator: ``f(*args)`` kept in ``cache`` under ``(f's name, args)`` (args must be hashable)."""
    def wrap(f):
        def call(*args):
            return cache.get_or_make((f.__name__, args), lambda: f(*args))
        call.__name__, call.__doc__, call.cache = f.__name__, f.__doc__, cache
        return call
    return wrap


def finite(value) -> bool:
    """Every entry of a value is a finite number (a field of the page is never filled with inf)."""
    return value is None or bool(np.all(np.isfinite(np.asarray(value, dtype=float))))


_shared: SizeCache | None = None
_shared_lock = threading.Lock()


def shared_cache() -> SizeCache:
    """The server's one cache of graphs and models (a Streamlit page runs as a fresh script on every
    interaction, so its own globals would not last): ``GRAPHVIZ_BP_CACHE_MIB`` MiB (default 256)."""
    global _shared
    import os
    with _shared_lock:
        if _shared is None:
            _shared = SizeCache(int(os.environ.get("GRAPHVIZ_BP_CACHE_MIB", "256")) << 20)
        return _shared
