"""grad --symbolic on tensor programs (issue 14) and the symbolic conventions, judged by numbers."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from graphviz_bp.algorithms.matrix_form import check as C

EXAMPLES = Path(gbp.__file__).parent / "examples"


def run(*args):
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True,
                          timeout=120)


def read_back(formula: str, values: dict) -> np.ndarray:
    """The printed formula evaluated by graphviz_bp, vectors as n×1 columns."""
    g = gbp.parse("G = " + formula)
    at = {k: C.column(v) for k, v in values.items() if k in g.leaves}
    return np.asarray(g.evaluate(at=at)[g.output], dtype=float)


@pytest.mark.slow
def test_seed000_gradient_is_the_1x2_matrix():
    """Seed 000: ∂L/∂W = 2Xᵀ(XW − Y) + λ·sign(W) = [[11, 3]] (the old elementwise answer was 3×2)."""
    r = run("grad", "--symbolic", str(EXAMPLES / "l1_least_squares.txt"), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    g = gbp.parse((EXAMPLES / "l1_least_squares.txt").read_text())
    values = {n.name: n.default for n in g.nodes if n.kind == "input"}
    for var, text in doc["gradients"].items():
        got = read_back(text, values)
        want = g.gradients(wrt=[var])[var]
        assert C.agrees(got, want), (var, text, got, want)
    np.testing.assert_allclose(read_back(doc["gradients"]["W"], values), [[11, 3]])
    assert set(doc["gradients_latex"]) == set(doc["gradients"])
    assert "shape of its variable" in doc["layout"]


@pytest.mark.slow
def test_text_output_says_the_layout_once():
    r = run("grad", "--symbolic", "-e", "f = tr(X@X)", "--shape", "X=n,n")
    assert r.returncode == 0, r.stderr
    assert "∂f/∂X = 2*X^T" in r.stdout
    assert r.stdout.count("shape of its variable") == 1


@pytest.mark.parametrize("a_shape", ["a=3,1", "a=3"])
def test_shape_flags_size_a_lower_case_name_of_a_pasted_sheet(a_shape):
    # seed 002 §8 ex. 1: f(X) = aᵀXAXa. Before, --shape a=3,1 was not seen by the LaTeX reader:
    # "a is a number", then "the output 'f' is not a scalar", exit 2
    r = run("grad", "--symbolic", "-e", "$f(X) = a^T X A X a$", "--shape", a_shape, "--shape", "X=3,3",
            "--shape", "A=3,3", "--wrt", "X", "--json")
    assert r.returncode == 0, r.stderr
    assert "a is a number" not in r.stderr
    rng = np.random.default_rng(5)
    values = {"a": rng.standard_normal((3, 1)), "X": rng.standard_normal((3, 3)), "A": rng.standard_normal((3, 3))}
    a, X, A = values["a"], values["X"], values["A"]
    want = a @ a.T @ X.T @ A.T + A.T @ X.T @ a @ a.T           # the textbook's d(aᵀXAXa)/dX
    assert C.agrees(read_back(json.loads(r.stdout)["gradients"]["X"], values), want)


@pytest.mark.slow
def test_declared_shapes_read_back_at_random_values():
    r = run("grad", "--symbolic", "-e", "L = ||X@w - y||_2^2 + lambda*w^T@w", "--shape", "X=m,n",
            "--shape", "w=n", "--shape", "y=m", "--json")
    doc = json.loads(r.stdout)
    rng = np.random.default_rng(4)
    values = {"X": rng.standard_normal((4, 3)), "w": rng.standard_normal(3), "y": rng.standard_normal(4),
              "lambda": 0.7}
    g = gbp.parse("L = ||X@w - y||_2^2 + lambda*w^T@w")
    want = g.gradients(at=values)
    for var, text in doc["gradients"].items():
        assert C.agrees(read_back(text, values), want[var]), (var, text)


def test_alpha_times_sum_keeps_the_sum():
    """∂J/∂α of J = α·Σw^p is Σw^p (it was printed w^p), with values and without."""
    sym = gbp.symbolic_gradients(gbp.parse("J = alpha*sum(w^p)"))
    assert str(sym["alpha"]) == "sum(w**p)"
    g = gbp.parse("w = [1, 2, 3]\nJ = alpha*sum(w^p)")
    at = {"alpha": 0.5, "p": 1.7}
    formulas = gbp.symbolic_gradients(g, at=at)
    want = g.gradients(at=at)
    for var in ("alpha", "p", "w"):
        got = read_back(str(formulas[var]), {"w": [1, 2, 3], **at})
        assert C.agrees(got, want[var]), (var, str(formulas[var]))


@pytest.mark.parametrize("x, y", [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5), (0.0, 0.0), (-1.0, -1.0)])
def test_sign_and_max_follow_the_documented_conventions(x, y):
    """sign' = 0 and a tie of max goes to the first argument, in formulas as in numbers."""
    import sympy as sp
    g = gbp.parse("f = sign(x) + max(x, y)")
    sym = gbp.symbolic_gradients(g)
    assert not any(e.has(sp.DiracDelta) for e in sym.values())
    num = g.gradients(at={"x": x, "y": y})
    for var in ("x", "y"):
        value = float(sym[var].subs({sp.Symbol("x", real=True): x, sp.Symbol("y", real=True): y}))
        assert value == num[var], (var, sym[var], value, num[var])


@pytest.mark.parametrize("x, y", [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)])
def test_min_ties_go_to_the_first_argument(x, y):
    import sympy as sp
    g = gbp.parse("f = min(x, y)")
    sym = gbp.symbolic_gradients(g)
    num = g.gradients(at={"x": x, "y": y})
    for var in ("x", "y"):
        value = float(sym[var].subs({sp.Symbol("x", real=True): x, sp.Symbol("y", real=True): y}))
        assert value == num[var]


@pytest.mark.slow
def test_conv2d_falls_back_to_numbers_with_a_note():
    r = run("grad", "--symbolic", str(EXAMPLES / "convolution.txt"), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert all(v is None for v in doc["gradients"].values())
    assert any("conv2d" in n for n in doc["notes"])
    assert run("grad", str(EXAMPLES / "convolution.txt")).returncode == 0      # numbers unaffected


@pytest.mark.slow
def test_mlp_gradients_read_back_with_the_one_hot_constant():
    """Seed 001: ∂L/∂b2 = softmax(oa) − e1 and ∂L/∂W2 = (softmax(oa) − e1)·hsᵀ; e1 is given in 'constants'."""
    r = run("grad", "--symbolic", str(EXAMPLES / "mlp_relu_softmax.txt"), "--json")
    doc = json.loads(r.stdout)
    g = gbp.parse((EXAMPLES / "mlp_relu_softmax.txt").read_text())
    values = {n.name: n.default for n in g.nodes if n.kind == "input"}
    values.update({k: np.asarray(v) for k, v in doc["constants"].items()})
    want = g.gradients()
    np.testing.assert_allclose(want["b2"], [0.435364, -0.435364], atol=1e-6)
    for var in ("W2", "W1", "b1", "x", "b2"):
        assert C.agrees(read_back(doc["gradients"][var], values), want[var]), var


@pytest.mark.slow
def test_bad_shape_declarations_are_usage_errors():
    for bad in ("X", "X=", "=n", "X=n,n,n", "X=n;n"):
        r = run("grad", "--symbolic", "-e", "f = tr(X)", "--shape", bad)
        assert r.returncode == 2, (bad, r.stdout)
        assert "Traceback" not in r.stderr
    r = run("grad", "--symbolic", "-e", "f = tr(X@X)")
    assert r.returncode == 2 and "shape" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_latex_declarations_give_the_shapes():
    """X ∈ R^{n×m}, w ∈ R^m, y ∈ R^n on a pasted sheet: matrix formulas without any values."""
    r = run("grad", "--symbolic", "-e", r"$$X \in \mathbb{R}^{n \times m}, w \in \mathbb{R}^{m}, "
            r"y \in \mathbb{R}^n$$ $$L = \|X w - y\|_2^2$$", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    rng = np.random.default_rng(8)
    values = {"X": rng.standard_normal((4, 3)), "w": rng.standard_normal(3), "y": rng.standard_normal(4)}
    g = gbp.parse("L = ||X@w - y||_2^2")
    want = g.gradients(at=values)
    for var, text in doc["gradients"].items():
        assert C.agrees(read_back(text, values), want[var]), (var, text)


@pytest.mark.slow
def test_plain_notation_shape_declarations():
    """'X: n x m', 'w: m', 'A: 3x2' lines declare shapes; they are not statements."""
    from graphviz_bp.reading.parser import shape_declarations
    text, found = shape_declarations("X: n x m\nw: m  # a column\nA: 3x2\nB: n × n\nL = ||X@w||_2^2")
    assert found == {"X": ("n", "m"), "w": ("m",), "A": (3, 2), "B": ("n", "n")}
    assert text.split("\n")[4] == "L = ||X@w||_2^2"          # line numbers kept
    g = gbp.parse("X: n x m\nw: m\nL = ||X@w||_2^2")
    assert g.declared_shapes == {"X": ("n", "m"), "w": ("m",)}
    assert g.node("L").line == 3
    r = run("grad", "--symbolic", "-e", "X: n x m\nw: m\nL = ||X@w||_2^2")
    assert r.returncode == 0 and "∂L/∂w = 2*X^T@X@w" in r.stdout, r.stdout + r.stderr
    # a declaration between ';' on one line, as in -e (before: "unexpected character ':'")
    g = gbp.parse("y = [[1], [2]]; w: 2 x 1; L = (w - y)^T @ (w - y)")
    assert g.declared_shapes == {"w": (2, 1)} and g.output == "L"
    r = run("grad", "--symbolic", "-e", "y = [[1], [2]]; w: 2 x 1; L = (w - y)^T @ (w - y)", "--wrt", "w")
    assert r.returncode == 0 and "∂L/∂w = 2*(w - y)" in r.stdout, r.stdout + r.stderr


@pytest.mark.slow
def test_numerator_layout_is_the_transpose():
    r = run("grad", "--symbolic", str(EXAMPLES / "l1_least_squares.txt"), "--json")
    doc = json.loads(r.stdout)
    g = gbp.parse((EXAMPLES / "l1_least_squares.txt").read_text())
    values = {n.name: n.default for n in g.nodes if n.kind == "input"}
    for var, text in doc["gradients_numerator_layout"].items():
        assert C.agrees(read_back(text, values).T, g.gradients(wrt=[var])[var]), (var, text)
