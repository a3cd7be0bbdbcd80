"""Every cap in one place.

A web dashboard runs whatever a visitor types, so each resource has a limit.
Defaults suit teaching-sized programs and the benchmark workloads; raise one
with an environment variable ``GRAPHVIZ_BP_<FIELD>`` (e.g.
``GRAPHVIZ_BP_MAX_NODES=500000``), a CLI flag ``--limit-<field>`` or by passing
``Limits(max_nodes=...)`` to :func:`graphviz_bp.parse`.

Counting paths is never capped (it is exact, by dynamic programming);
*listing* them is (by count, by total characters and by the length of one path).

Two layers enforce these: cooperative checks in the engine give a clean early message
(``check_deadline``, the size checks before the work), and in the dashboard every computation
also runs in a worker process (:mod:`graphviz_bp.app.worker`) whose CPU time
(``time_budget_s`` plus a grace) and memory (``max_worker_memory_mib``) are hard operating-system
limits, at most ``max_workers`` at a time.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time

from .errors import LimitError


@dataclasses.dataclass(frozen=True)
class Limits:
    max_program_chars: int = 10_000_000   #: characters in a program
    max_statements: int = 200_000         #: statements in a program
    max_depth: int = 200                  #: nesting depth of one expression
    max_nodes: int = 400_000              #: nodes in the computation graph
    max_tensor_elements: int = 1_000_000  #: elements in any one tensor value
    max_total_elements: int = 10_000_000  #: tensor elements of all the values of one evaluation together
    max_paths_listed: int = 10_000        #: paths enumerated by one request
    max_render_nodes: int = 300           #: nodes drawn before a summary is drawn instead
    max_scalar_view_nodes: int = 5_000    #: element nodes in the scalar view
    max_symbolic_ops: int = 400           #: SymPy operations in one symbolic expression
    max_jacobian_elements: int = 1_000_000  #: entries of one edge Jacobian (forward mode)
    max_claims: int = 2_000               #: claims in one answers file (the checker)
    max_path_output_chars: int = 1_000_000  #: characters of all the paths listed by one request
    max_path_length: int = 1_000          #: nodes on one listed path (counting stays exact)
    max_frames: int = 500                 #: pictures written by one ``render --frames``
    max_train_steps: int = 10_000         #: steps of one training run (the training helper)
    max_worker_memory_mib: int = 1_024    #: memory of one dashboard worker process (address space)
    max_workers: int = 8                  #: dashboard worker processes running at once
    time_budget_s: float = 10.0           #: seconds per dashboard request / render layout

    @classmethod
    def from_env(cls, environ=os.environ, **overrides) -> "Limits":
        """Defaults, overridden by ``GRAPHVIZ_BP_<FIELD>`` variables, then by ``overrides``."""
        values = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(f"GRAPHVIZ_BP_{field.name.upper()}")
            if raw is not None:
                try:
                    values[field.name] = float(raw) if field.type == "float" else int(raw)
                except ValueError:
                    raise LimitError(f"environment variable GRAPHVIZ_BP_{field.name.upper()}={raw!r} "
                                     f"is not a number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def refuse(self, field: str, what: str, line: int | None = None, column: int | None = None):
        """Raise the :class:`LimitError` for ``field``, saying its value and how to raise it."""
        value = getattr(self, field)
        flag = field.replace("_", "-")
        raise LimitError(f"{what} exceeds the limit {field}={value} "
                         f"(raise it with --limit-{flag} or GRAPHVIZ_BP_{field.upper()})",
                         line, column)




def describe() -> dict[str, str]:
    """Each limit's one-line description (the ``#:`` comment of its field), for --help and the README."""
    import inspect
    out = {}
    for line in inspect.getsource(Limits).splitlines():
        name, sep, rest = line.strip().partition(":")
        if sep and "#:" in rest and name.isidentifier():
            out[name] = rest.split("#:", 1)[1].strip()
    return out


def current() -> Limits:
    """The limits in force: defaults overridden by the environment."""
    return Limits.from_env()


# --- the time budget of one request -------------------------------------------------------
# Streamlit runs each session in a thread it cannot kill, so long loops check a deadline
# themselves (every 4096 nodes: the check costs nothing measurable).

_local = threading.local()


@contextlib.contextmanager
def time_budget(seconds: float | None, clock=time.monotonic):
    """Within this block, engine loops raise :class:`LimitError` once ``seconds`` have passed.

    >>> with time_budget(10.0):
    ...     check_deadline("evaluation")      # well within the budget: nothing happens
    """
    previous = getattr(_local, "deadline", None)
    if seconds is not None:
        deadline = clock() + seconds
        same_clock = previous is not None and previous[2] is clock
        _local.deadline = previous if same_clock and previous[0] <= deadline else (deadline, seconds, clock)
    try:
        yield
    finally:
        _local.deadline = previous


@contextlib.contextmanager
def no_time_budget():
    """Within this block no time budget applies (the dashboard, for work a worker process has
    already finished under the hard limits: a busy server must not refuse it a second time)."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = None
    try:
        yield
    finally:
        _local.deadline = previous


def start_time_budget(seconds: float | None) -> None:
    """Start a budget of ``seconds`` from now for the current thread, replacing any earlier one.

    For code that cannot wrap its work in :func:`time_budget`, such as a Streamlit script,
    which calls this at the top of every run.
    """
    _local.deadline = None if seconds is None else (time.monotonic() + seconds, seconds, time.monotonic)


def check_deadline(what: str) -> None:
    """Raise :class:`LimitError` if the current time budget is spent."""
    d = getattr(_local, "deadline", None)
    if d is not None and d[2]() > d[0]:
        raise LimitError(f"{what} ran past the time budget time_budget_s={d[1]:g} s "
                         f"(raise it with --limit-time-budget-s or GRAPHVIZ_BP_TIME_BUDGET_S)")
