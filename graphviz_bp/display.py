"""Names and numbers written as on paper: ``lambda`` → λ, ``W1`` → W₁, ``yhat`` → ŷ, ``-0.2946``."""
from __future__ import annotations

import functools
import math
import re
import unicodedata

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


@functools.lru_cache(maxsize=1 << 16)
def pretty_name(name: str) -> str:
    """How a graph name is written on paper.

    >>> pretty_name("lambda"), pretty_name("W1"), pretty_name("eta_0"), pretty_name("yhat"), pretty_name("x")
    ('λ', 'W₁', 'η₀', 'ŷ', 'x')
    """
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
