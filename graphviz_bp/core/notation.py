"""Names and numbers written as on paper: ``lambda`` → λ, ``W1`` → W₁, ``yhat`` → ŷ, ``-0.2946``."""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ",
    "Omega": "Ω",
}
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_NAME = re.compile(r"^(.*?)(_?)(\d+)$")


# Names as the pasted sheet writes them (W_1 -> W⁽¹⁾), for the graph being shown.  A context
# variable, not an argument: names are written in some 50 places deep in the renderer and the
# worked solution, and each Streamlit session runs in its own thread (its own context).
_SHEET_NAMES: ContextVar[tuple[dict, dict]] = ContextVar("sheet_names", default=({}, {}))
_SUP = str.maketrans("0123456789()+-=inkl", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁺⁻⁼ⁱⁿᵏˡ")
_TEX_STYLE = re.compile(r"\\(?:mathbf|boldsymbol|bm|pmb|vec)\{((?:[^{}]|\{[^{}]*\})*)\}")
_TEX_PART = re.compile(r"\\hat\{\\?(\w+)\}|\\(\w+)|\^\{([^{}]*)\}|_\{([^{}]*)\}|(\w)")


def unicode_of_tex(tex: str) -> str:
    r"""A sheet's LaTeX name in plain text: ``W^{(1)}`` → ``W⁽¹⁾``, ``\hat{y}^{(2)}`` → ``ŷ⁽²⁾``.

    >>> unicode_of_tex("W^{(1)}"), unicode_of_tex("\\beta^{(2)}_{1}"), unicode_of_tex("\\hat{y}^{(3)}")
    ('W⁽¹⁾', 'β⁽²⁾₁', 'ŷ⁽³⁾')
    >>> unicode_of_tex("\\mathbf{w}"), unicode_of_tex("\\mathbf{\\hat{y}}_{1}")
    ('w', 'ŷ₁')
    """
    out = []
    tex = _TEX_STYLE.sub(r"\1", tex)       # bold and vector arrows: the plain letter
    for m in _TEX_PART.finditer(tex):
        hat, cmd, sup, sub, ch = m.groups()
        if hat:
            out.append(GREEK.get(hat, hat) + "\u0302")
        elif cmd:
            out.append(GREEK.get(cmd, cmd))
        elif sup is not None:
            up = sup.translate(_SUP)
            out.append(up if all(c not in sup for c in up if c.isascii()) else f"^({sup})")
        elif sub is not None:
            out.append(sub.translate(_SUB) if sub.isdigit() else f"_{sub}")
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@contextmanager
def sheet_names(g):
    """Within this block, names of ``g`` are written as its pasted sheet wrote them (``W⁽¹⁾``).

    >>> import graphviz_bp as gbp
    >>> g = gbp.parse(r"$W^{(1)} = 2, \\quad f = 3 W^{(1)}$")
    >>> pretty_name("W_1"), g.tex_names
    ('W₁', {'W_1': 'W^{(1)}'})
    >>> with sheet_names(g):
    ...     pretty_name("W_1")
    'W⁽¹⁾'
    """
    token = _SHEET_NAMES.set(_sheet_state(g))
    try:
        yield
    finally:
        _SHEET_NAMES.reset(token)


def use_sheet_names(g) -> None:
    """Write the names of ``g`` as its sheet does from now on in this thread (``None``: plainly).

    For script-style code (the Streamlit page) that cannot wrap itself in :func:`sheet_names`;
    call it at the start of every run."""
    _SHEET_NAMES.set(_sheet_state(g))


def _sheet_state(g) -> tuple[dict, dict]:
    """(name → plain-text form, name → LaTeX) of a graph's sheet names; empty for None or plain."""
    tex = getattr(g, "tex_names", None) or {}
    return {k: unicode_of_tex(v) for k, v in tex.items()}, tex


def shows_sheet_names(fn):
    """Decorator: ``fn(g, …)`` writes the names of ``g`` as its sheet does (see :func:`sheet_names`)."""
    @functools.wraps(fn)
    def wrapper(g, *args, **kwargs):
        with sheet_names(g):
            return fn(g, *args, **kwargs)
    return wrapper


def sheet_tex(name: str) -> str | None:
    """The LaTeX the pasted sheet wrote for ``name`` (inside :func:`sheet_names`), else None."""
    return _SHEET_NAMES.get()[1].get(name)


def pretty_name(name: str) -> str:
    """How a graph name is written on paper.

    >>> pretty_name("lambda"), pretty_name("W1"), pretty_name("eta_0"), pretty_name("yhat"), pretty_name("x")
    ('λ', 'W₁', 'η₀', 'ŷ', 'x')
    """
    sheet = _SHEET_NAMES.get()[0]
    return sheet[name] if name in sheet else _pretty_name(name)


@functools.lru_cache(maxsize=1 << 16)
def _pretty_name(name: str) -> str:
    m = _NAME.match(name)
    base, digits = (m.group(1), m.group(3)) if m and m.group(1) else (name, "")
    if base.endswith("hat") and len(base) > 3:
        base = base[:-3] + "\u0302"
    base = GREEK.get(base, base)
    return unicodedata.normalize("NFC", base + digits.translate(_SUB))


def fmt_number(x: float, digits: int = 4) -> str:
    """A compact number: integers without a decimal point, others to ``digits`` significant digits.

    >>> fmt_number(14.0), fmt_number(-0.29461519), fmt_number(2.8000000001), fmt_number(1e-9), fmt_number(float('nan'))
    ('14', '-0.2946', '2.8', '1e-09', 'nan')
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if abs(x - round(x)) <= 1e-9 * abs(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.{digits}g}"


def fmt_value(v, digits: int = 4) -> str:
    """A value on one line: ``14``, ``[11, 3]``, ``[[0, -18]]``."""
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return fmt_number(float(v), digits)
        return "[" + ", ".join(fmt_value(r, digits) for r in v) + "]"
    return fmt_number(v, digits)


def shape_text(v) -> str:
    """``3×2`` for a matrix, ``3`` for a vector, ``scalar`` for a number."""
    shape = np.shape(v)
    return "×".join(map(str, shape)) if shape else "scalar"


def to_json(v):
    """Numbers as JSON numbers, arrays as nested lists, NaN/inf as "nan"/"inf"/"-inf"."""
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, np.ndarray):
        return to_json(v.tolist())
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return int(v) if v.is_integer() and abs(v) < 2 ** 53 else v
    if isinstance(v, np.integer):
        return int(v)
    return v


def read_value(text: str, name: str = "value"):
    """A number or a bracket literal, as an input field or ``--at NAME=VALUE`` gives it, read by the
    notation's own parser (never by Python): ``read_value("[[1, 2]]")`` is a 1×2 float array.
    Anything else is an :class:`~graphviz_bp.core.errors.InputError` (kind ``value``)."""
    from ..core.errors import InputError
    from ..core.evaluate import as_value
    from ..reading.parser import Literal, Num, parse_program
    clipped = text.replace("\r", "\\r").replace("\n", "\\n")
    clipped = clipped if len(clipped) <= 80 else clipped[:79] + "…"
    bad = InputError(f"{name} = {clipped}: expected a number or a literal like [[1, 2], [3, 4]]", kind="value")
    try:
        (st,) = parse_program(f"{name} = {text}")
    except (InputError, ValueError):
        raise bad from None
    if st.expr.__class__ not in (Num, Literal):
        raise bad
    return as_value(st.expr.value, name)
