"""Every number of EXERCISES.md E1–E12, from the shipped examples, by every method."""
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import graphviz_bp as gbp
from conftest import load_example as load

EXAMPLES = Path(__file__).resolve().parent.parent / "graphviz_bp" / "examples"
METHODS = ("reverse", "forward", "paths")


def close(a, b, tol=1e-6):
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol, atol=tol)


@pytest.mark.parametrize("method", METHODS)
def test_e1_path_sum_scalar(method):
    g = load("chain_rule_paths.txt")
    names = {n.name: g.notation.formula(n) for n in g.nodes if n.kind != "const"}
    assert names == {"x": "x", "y": "y", "a": "x²", "b": "x·y", "c": "x + y", "d": "a + b",
                     "e": "c²", "f": "d + e"}
    assert g.evaluate()["f"] == 12
    assert g.gradients(method=method) == {"x": 10.0, "y": 7.0}
    assert gbp.count_paths(g, "x") == 3 and gbp.count_paths(g, "y") == 2


def test_e1_symbolic():
    g = load("chain_rule_paths.txt")
    x, y = sp.symbols("x y", real=True)
    grads = gbp.symbolic_gradients(g)
    assert sp.simplify(grads["x"] - (2 * x + y + 2 * (x + y))) == 0
    assert sp.simplify(grads["y"] - (x + 2 * (x + y))) == 0
    # local derivatives as the sheet writes them
    assert str(g.local_symbolic("c", "e")) == "2*c"
    assert str(g.local_symbolic("x", "b")) == "y"
    assert str(g.local_symbolic("x", "a")) == "2*x"


def test_e1_paths_products():
    g = load("chain_rule_paths.txt")
    paths = list(gbp.derivative_paths(g, "x"))
    assert [p.nodes for p in paths] == [["x", "a", "d", "f"], ["x", "b", "d", "f"], ["x", "c", "e", "f"]]
    assert [p.value for p in paths] == [2.0, 2.0, 6.0]
    assert [p.factors for p in paths] == [["2*x", "1", "1"], ["y", "1", "1"], ["1", "2*c", "1"]]


@pytest.mark.parametrize("method", METHODS)
def test_e2_l1_least_squares(method):
    g = load("l1_least_squares.txt")
    v = g.evaluate()
    assert v["L"] == 14
    diff = [n.name for n in g.nodes if n.src.replace(" ", "") == "X*W-Y"]
    assert close(v[diff[0]], [[-1, 1], [1, 3], [-2, 0]])
    assert close(g.gradients(wrt=["W"], method=method)["W"], [[11, 3]])


def test_e2_two_paths_from_w():
    g = load("l1_least_squares.txt")
    paths = list(gbp.derivative_paths(g, "W"))
    assert gbp.count_paths(g, "W") == 2 and len(paths) == 2
    values = sorted((p.value.tolist() for p in paths))
    assert values == [[[-1.0, -1.0]], [[12.0, 4.0]]]
    # each path goes through its own term: one through the L1 norm, the other through the squared norm
    terms = sorted(tuple(sorted({g.node(n).op for n in p.nodes} & {"norm1", "sqnorm2"})) for p in paths)
    assert terms == [("norm1",), ("sqnorm2",)]


E3_GRADS = {"W3": [[0, -18]], "W2": [[0, 0], [-18, 0]], "W1": [[-18], [0]], "x": -6}


@pytest.mark.parametrize("method", METHODS)
def test_e3_relu_network(method):
    g = load("relu_network_sgd.txt")
    v = g.evaluate()
    expected = {"a1": [[3], [-3]], "h1": [[3], [0]], "a2": [[-3], [3]], "h2": [[0], [3]], "yhat": 3, "J": 9}
    for name, value in expected.items():
        assert close(v[name], np.full(np.shape(v[name]), value) if np.ndim(value) == 0 else value), name
    grads = g.gradients(method=method)
    for name, value in E3_GRADS.items():
        assert close(grads[name], value), name
    assert np.shape(grads["W2"]) == (2, 2)


def test_e3_sgd_step():
    g = load("relu_network_sgd.txt")
    grads = g.gradients()
    eta = 0.1
    new = {k: g.node(k).default - eta * grads[k] for k in ("W1", "W2", "W3")}
    assert close(new["W3"], [[-1, 2.8]])
    assert close(new["W2"], [[-1, 1], [2.8, -1]])
    assert close(new["W1"], [[2.8], [-1]])


def test_e4_two_sgd_steps():
    g = load("sigmoid_network_from_zeros.txt")
    params = {k: g.node(k).default.copy() for k in ("W1", "W2", "W3")}
    grads1 = g.gradients(at={**params, "x": [[5, 2]], "y": 0}, wrt=list(params))
    assert all(np.all(gr == 0) for gr in grads1.values())          # step 1 changes nothing
    params = {k: params[k] - 1.0 * grads1[k] for k in params}
    at2 = {**params, "x": np.array([[1.0, 1.0]]), "y": 1.0}
    assert close(g.evaluate(at=at2)["yhat"], [[0]])
    for method in METHODS:
        grads2 = g.gradients(at=at2, wrt=list(params), method=method)
        assert close(grads2["W3"], [[-0.5], [-0.5]])
        assert close(grads2["W2"], np.zeros((2, 2))) and close(grads2["W1"], np.zeros((2, 2)))
    assert close(params["W3"] - grads2["W3"], [[0.5], [0.5]])


def test_e5_logistic_regression():
    g = load("logistic_regression.txt")
    for method in METHODS:
        d = g.gradients(wrt=["w"], method=method)["w"]
        assert d == pytest.approx(4.96654, abs=1e-5)
    assert 1 - 0.01 * d == pytest.approx(0.950335, abs=1e-6)
    p = g.evaluate()["p"]
    assert d == pytest.approx((p - 1) * -5, rel=1e-12)


def test_e6_softmax_cross_entropy():
    g = load("softmax_cross_entropy.txt")
    assert g.evaluate()["L"] == pytest.approx(0.349012, abs=1e-6)
    for method in METHODS:
        assert close(g.gradients(method=method)["o"], [-0.294615, 0.035119, 0.259496])
    g2 = gbp.parse("o = [0.5, -1, 0]\nL = -log(softmax(o)[2])")
    assert g2.evaluate()["L"] == pytest.approx(1.104131, abs=1e-6)
    assert close(g2.gradients()["o"], [0.546549, 0.121952, -0.668501])


@pytest.mark.parametrize("method", METHODS)
def test_e7_mlp(method):
    g = load("mlp_relu_softmax.txt")
    v = g.evaluate()
    assert close(v["ha"], [-0.3, 1.2, 0.6])
    assert v["L"] == pytest.approx(0.571573, abs=1e-6)
    grads = g.gradients(method=method)
    assert close(grads["b2"], [0.435364, -0.435364])
    assert close(grads["W2"], [[0, 0.522436, 0.261218], [0, -0.522436, -0.261218]])
    assert close(grads["b1"], [0, -0.174145, 0.087073])
    assert close(grads["W1"], [[0, 0], [-0.174145, -0.348291], [0.087073, 0.174145]])


@pytest.mark.parametrize("name, var, expected", [
    ("trace_of_square.txt", "X", [[2, 6], [4, 8]]),
    ("trace_of_cube.txt", "X", [[21, 45], [30, 66]]),
    ("quadratic_form.txt", "w", [12, 21]),
    ("trace_of_product.txt", "A", [[5, -1], [0, 2]]),
])
@pytest.mark.parametrize("method", METHODS)
def test_e8_trace_derivatives(name, var, expected, method):
    g = load(name)
    assert close(g.gradients(wrt=[var], method=method)[var], expected)


def test_e8_values():
    assert load("quadratic_form.txt").evaluate()["f"] == 27
    g = load("trace_of_product.txt")
    assert close(g.gradients(wrt=["A"])["A"], g.node("B").default)


@pytest.mark.parametrize("method", METHODS)
def test_e9_logistic_l2(method):
    g = load("logistic_regression_l2.txt")
    assert g.evaluate()["L"] == pytest.approx(2.615509, abs=1e-6)
    assert close(g.gradients(wrt=["w"], method=method)["w"], [0.822933, -2.697407])


@pytest.mark.parametrize("method", METHODS)
def test_e10_bipolar_unit(method):
    g = load("bipolar_sigmoid_unit.txt")
    v = g.evaluate()
    assert close(v["f"], [0, -0.302710])
    assert v["L"] == pytest.approx(0.743107, abs=1e-6)
    assert close(g.gradients(wrt=["w"], method=method)["w"], [-0.816698, -0.841651])


@pytest.mark.parametrize("method", METHODS)
def test_e11_convolution(method):
    g = load("convolution.txt")
    v = g.evaluate()
    assert close(v["O"], [[6, 8], [9, 8]]) and v["s"] == 31
    grads = g.gradients(method=method)
    assert close(grads["K"], [[12, 16], [15, 19]])
    assert close(grads["I"], [[1, 1, 0], [1, 2, 1], [0, 1, 1]])


@pytest.mark.parametrize("stride, shape", [(1, (2, 3, 3)), (2, (2, 2, 2))])
def test_e11_output_sizes(stride, shape):
    g = gbp.parse(f"O = conv2d(I, K, stride={stride})")
    at = {"I": np.arange(16.0).reshape(4, 4), "K": np.ones((2, 2, 2))}
    assert np.shape(g.evaluate(at=at)["O"]) == shape


def test_e12_lp_penalty_symbolic_and_numeric():
    g = load("lp_penalty.txt")
    alpha, p, w = sp.symbols("alpha p w", real=True)
    grads = gbp.symbolic_gradients(g, wrt=["w"])
    assert sp.simplify(grads["w"] - alpha * p * w ** (p - 1)) == 0
    at = {"w": [1, 2], "alpha": 0.5, "p": 3}
    assert g.evaluate(at=at)["J"] == 4.5
    for method in METHODS:
        assert close(g.gradients(at=at, wrt=["w"], method=method)["w"], [1.5, 6])


@pytest.mark.parametrize("tex, txt, at", [
    ("sheet_l1_least_squares.tex", "l1_least_squares.txt", {}),
    ("sheet_relu_network.tex", "relu_network_sgd.txt", {}),
    ("sheet_chain_rule.tex", "chain_rule_paths.txt", {"x": 1, "y": 2}),
    ("sheet_trace_of_square.tex", "trace_of_square.txt", {}),
])
def test_e13_latex_sheets_equal_plain_notation(tex, txt, at):
    sheet, plain = load(tex), load(txt)
    assert sheet.evaluate(at=at)[sheet.output] == pytest.approx(np.ravel(plain.evaluate()[plain.output])[0])
    plain_grads = plain.gradients()
    for name, grad in sheet.gradients(at=at).items():       # the sheet's W^{(1)} is W_1, the file's W1
        assert close(grad, plain_grads[name.replace("_", "")]), name
    # the same graph: the same operations (the sheet's W^{(1)} \cdot x is W1*x: x is a scalar)
    assert sorted(n.op for n in sheet.nodes if n.args) == sorted(n.op for n in plain.nodes if n.args)


def test_e13d_bipolar_unit_latex():
    g = load("sheet_bipolar_unit.tex")
    at = {"w": [0.5, -0.25], "x": [1, 2]}
    assert g.evaluate(at=at)["f"] == pytest.approx(0, abs=1e-12)
    for method in METHODS:
        assert close(g.gradients(at=at, wrt=["w"], method=method)["w"], [0.5, 1])
