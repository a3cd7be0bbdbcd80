"""Every cap in one place.

A web dashboard runs whatever a visitor types, so each resource has a limit.
Defaults suit teaching-sized programs and the benchmark workloads; raise one
with an environment variable ``GRAPHVIZ_BP_<FIELD>`` (e.g.
``GRAPHVIZ_BP_MAX_NODES=500000``), a CLI flag ``--limit-<field>`` or by passing
``Limits(max_nodes=...)`` to :func:`graphviz_bp.parse`.

Counting paths is never capped (it is exact, by dynamic programming);
*listing* them is.
"""
from __future__ import annotations

import dataclasses
import os

from .errors import LimitError


@dataclasses.dataclass(frozen=True)
class Limits:
    max_program_chars: int = 10_000_000   #: characters in a program
    max_statements: int = 200_000         #: statements in a program
    max_depth: int = 200                  #: nesting depth of one expression
    max_nodes: int = 400_000              #: nodes in the computation graph
    max_tensor_elements: int = 1_000_000  #: elements in any one tensor value
    max_paths_listed: int = 10_000        #: paths enumerated by one request
    max_render_nodes: int = 300           #: nodes drawn before a summary is drawn instead
    max_scalar_view_nodes: int = 5_000    #: element nodes in the scalar view
    max_symbolic_ops: int = 400           #: SymPy operations in one symbolic expression
    max_jacobian_elements: int = 1_000_000  #: entries of one edge Jacobian (forward mode)
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


DEFAULT = Limits()


def current() -> Limits:
    """The limits in force: defaults overridden by the environment."""
    return Limits.from_env()
