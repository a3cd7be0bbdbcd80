"""The package's shape: the pipeline's layers and no import cycles (import-linter, contracts in
pyproject.toml), and every operation defined once, in the op table."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from graphviz_bp.core.ops import FUNCTIONS, OPS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_import_linter_contracts_hold():
    exe = Path(sys.executable).parent / "lint-imports"
    exe = str(exe) if exe.exists() else shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency: pip install -e '.[test]'"
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "2 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize("text, at, value, grads", [
    # leaky ReLU with slope s: x for x > 0, s·x otherwise; ∂/∂s = min(x, 0)
    ("f = leaky_relu(x, s)", {"x": -2.0, "s": 0.1}, -0.2, {"x": 0.1, "s": -2.0}),
    ("f = leaky_relu(x, s)", {"x": 3.0, "s": 0.1}, 3.0, {"x": 1.0, "s": 0.0}),
    ("f = leaky_relu(x, s)", {"x": 0.0, "s": 0.1}, 0.0, {"x": 0.1, "s": 0.0}),     # the kink: left side
    # ELU: s·(eˣ − 1) for x ≤ 0; ∂/∂x = s·eˣ there, ∂/∂s = eˣ − 1
    ("f = elu(x, s)", {"x": -1.0, "s": 2.0}, 2.0 * (np.exp(-1.0) - 1.0), {"x": 2.0 * np.exp(-1.0), "s": np.exp(-1.0) - 1.0}),
    ("f = elu(x, s)", {"x": 0.5, "s": 2.0}, 0.5, {"x": 1.0, "s": 0.0}),
    ("f = elu(x, s)", {"x": 0.0, "s": 2.0}, 0.0, {"x": 2.0, "s": 0.0}),             # the kink: left side
])
def test_new_activations_by_every_method(text, at, value, grads):
    g = gbp.parse(text)
    assert g.evaluate(at=at)["f"] == pytest.approx(value)
    for method in ("reverse", "forward", "paths"):
        assert g.gradients(at=at, method=method) == pytest.approx(grads), method
    sym = gbp.symbolic_gradients(g)
    import sympy
    for name, expr in sym.items():
        number = float(expr.subs({sympy.Symbol(k, real=True): v for k, v in at.items()}))
        assert number == pytest.approx(grads[name]), (name, expr)


def test_new_activations_on_tensors_and_in_every_output():
    g = gbp.parse("W = [[1, -2], [0.5, -1]]\nx = [1, 1]\nL = sum(leaky_relu(W @ x, 0.01)) + sum(elu(W @ x, 1))")
    h = 1e-6
    w = np.array([[1, -2], [0.5, -1]])
    f = lambda w: float(np.sum(np.where(w @ [1, 1] > 0, w @ [1, 1], 0.01 * (w @ [1, 1]))) +
                        np.sum(np.where(w @ [1, 1] > 0, w @ [1, 1], np.exp(w @ [1, 1]) - 1)))
    assert g.evaluate()["L"] == pytest.approx(f(w))       # W @ x = [-1, -0.5]: both on the left side
    fd = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        d = np.zeros_like(w)
        d[idx] = h
        fd[idx] = (f(w + d) - f(w - d)) / (2 * h)
    np.testing.assert_allclose(g.gradients(wrt=["W"])["W"], fd, rtol=1e-6, atol=1e-8)
    # drawn, explained and converted from the table's formula and TeX
    assert "LeakyReLU" in g.notation.formula(g.nodes[[n.op for n in g.nodes].index("leaky_relu")])
    assert "\\operatorname{LeakyReLU}" in gbp.explain(g, fmt="md")
    assert "ELU" in gbp.render(g).source


def test_function_names_come_from_the_table():
    assert FUNCTIONS == {s: op.name for op in OPS.values() for s in op.spellings}
    for op in OPS.values():
        assert op.title, f"{op.name}: a title for messages"
        if op.spellings:
            assert op.tex, f"{op.name}: how it is written in LaTeX"
