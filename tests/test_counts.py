"""Counts: scalar parameters (the project's parameter rule), node shapes, convolution output sizes.

Independent computations: the parameter count of a dense net by the sheet's formula
Σ (n_in + 1)·n_out (seed 002 §1 ex. 10, seed 001 q2 item 5) written here; conv output sizes
by (n − k)//s + 1 written here (seed 004 task 2.2).
"""
from __future__ import annotations

import numpy as np
import pytest

from graphviz_bp import parse
from graphviz_bp.algorithms.counts import counts, dense_graph, dense_shapes, parse_shape
from graphviz_bp.core.errors import InputError


def sheet_formula(sizes):
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def test_seed_002_net_has_84301_parameters():
    sizes = [12, 300, 200, 100, 1]
    c = counts(dense_graph(sizes), shapes=dense_shapes(sizes))
    assert c.total == sheet_formula(sizes) == (12 + 1) * 300 + (300 + 1) * 200 + (200 + 1) * 100 + (100 + 1) * 1
    assert c.total == 84301
    assert c.shapes["yhat"] == (1, 1) and c.shapes["h1"] == (300, 1)
    assert [n for n, *_ in c.parameters] == ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"]
    assert "84,301 scalar parameters" in c.text()


@pytest.mark.parametrize("sizes", [[3, 2], [4, 5, 3], [2, 7, 7, 1]])
def test_dense_counts_match_the_formula(sizes):
    assert counts(dense_graph(sizes), shapes=dense_shapes(sizes)).total == sheet_formula(sizes)


def test_seed_001_two_layer_net_count():
    """n_θ = d_h·d + d_h + m·d_h + m for d = 4, d_h = 5, m = 3 (softmax output)."""
    d, dh, m = 4, 5, 3
    g = parse("ha = W1 @ x + b1\nhs = relu(ha)\noa = W2 @ hs + b2\nos = softmax(oa)")
    c = counts(g, shapes={"x": (d, 1), "W1": (dh, d), "b1": (dh, 1), "W2": (m, dh), "b2": (m, 1)})
    assert c.total == dh * d + dh + m * dh + m == 43
    assert c.shapes["os"] == (m, 1)


def conv_out(n, k, s):
    return (n - k) // s + 1


@pytest.mark.parametrize("stride, expected", [(1, (2, 3, 3)), (2, (2, 2, 2))])
def test_seed_004_conv_output_sizes(stride, expected):
    g = parse(f"O = conv2d(I, K, stride={stride})" if stride != 1 else "O = conv2d(I, K)")
    c = counts(g, shapes={"I": (4, 4), "K": (2, 2, 2)})
    assert c.shapes["O"] == (2, conv_out(4, 2, stride), conv_out(4, 2, stride)) == expected
    assert c.total == 8                      # the kernels are the parameters: 2·2·2


def test_counts_with_values_and_the_seed_000_example():
    g = parse("X = [[-1], [1], [-2]]; Y = [[0, -2], [0, -2], [0, -2]]; W = [[1, 1]]; lambda = -1\n"
              "L = ||X*W - Y||_2^2 + lambda*||W||_1")
    c = counts(g)
    assert c.total == 2 and c.parameters == [("W", (1, 2), 2)]
    assert c.shapes["X"] == (3, 1) and c.shapes["L"] == ()


def test_no_value_and_no_shape_is_one_clear_error():
    with pytest.raises(InputError) as exc:
        counts(parse("y = W @ x"))
    assert "no value for input" in str(exc.value)


@pytest.mark.parametrize("text, shape", [("300x12", (300, 12)), ("4", (4,)), ("scalar", ()), ("2×3×3", (2, 3, 3))])
def test_parse_shape(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["3xa", "0x2", "-1"])
def test_bad_shapes(text):
    with pytest.raises(InputError):
        parse_shape(text)


def test_shapes_agree_with_numpy():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    g = parse("h = tanh(W @ x)\ns = sum(h)")
    c = counts(g, at={"W": W, "x": x})
    assert c.shapes["h"] == np.tanh(W @ x).shape and c.shapes["s"] == ()


def _cli(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_cli_count_dense_and_conv():
    import json
    r = _cli("count", "--dense", "12-300-200-100-1")
    assert r.returncode == 0 and r.stdout.startswith(f"{sheet_formula([12, 300, 200, 100, 1]):,} scalar parameters")
    r = _cli("count", "-e", "O = conv2d(I, K, stride=2)", "--shape", "I=4x4", "--shape", "K=2x2x2", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["shapes"]["O"] == [2, conv_out(4, 2, 2), conv_out(4, 2, 2)]
    r = _cli("count", "-e", "y = W @ x")
    assert r.returncode == 2 and "no value for input" in r.stderr


@pytest.mark.slow
def test_cli_grad_json_has_counts():
    import json
    r = _cli("grad", "-e", "W = [[1, 2], [3, 4]]; b = [[1], [1]]; x = [[1], [2]]; L = sum(W @ x + b)", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["scalar_parameters"] == 4 + 2
    assert doc["shapes"]["W"] == [2, 2] and doc["shapes"]["L"] == []


def test_explain_states_the_counts():
    from graphviz_bp import explain
    g = parse("X = [[-1], [1], [-2]]; Y = [[0, -2], [0, -2], [0, -2]]; W = [[1, 1]]; lambda = -1\n"
              "L = ||X*W - Y||_2^2 + lambda*||W||_1")
    md = explain(g)
    assert "2 scalar parameters" in md and r"W \in \mathbb{R}^{1 \times 2}" in md and r"X: 3 \times 1" in md
    assert "Every node is a scalar." in explain(parse("f = x^2 + x*y\nx = 1\ny = 2"))


# --- sizes in letters, as seed 001 question 2 item 5 asks: n_θ = d_h·d + d_h + m·d_h + m ----------

SEED_001_NET = "ha = W1 @ x + b1; hs = relu(ha); oa = W2 @ hs + b2; L = logsumexp(oa) - oa[1]"
LETTER_SHAPES = {"W1": ("d_h", "d"), "x": ("d", 1), "b1": ("d_h", 1), "W2": ("m", "d_h"), "b2": ("m", 1)}


@pytest.mark.parametrize("d, d_h, m", [(2, 3, 2), (784, 128, 10), (1, 1, 2), (5, 9, 4)])
def test_letter_sizes_give_the_sheets_formula(d, d_h, m):
    import sympy
    c = counts(parse(SEED_001_NET), shapes=LETTER_SHAPES)
    at = {sympy.Symbol(k, positive=True, integer=True): v for k, v in {"d": d, "d_h": d_h, "m": m}.items()}
    # the formula, at these numbers, is the count of the same net with numeric shapes ...
    numeric = {n: tuple({"d": d, "d_h": d_h, "m": m}.get(s, s) for s in shape) for n, shape in LETTER_SHAPES.items()}
    assert int(c.total.subs(at)) == counts(parse(SEED_001_NET), shapes=numeric).total
    # ... and the sheet's own n_θ written here
    assert int(c.total.subs(at)) == d_h * d + d_h + m * d_h + m
    assert c.shapes["oa"] == ("m", 1) and c.shapes["hs"] == ("d_h", 1)
    assert c.total_text == "d·d_h + d_h·m + d_h + m"


def test_dense_net_in_letters_and_sizes_that_follow_no_letter():
    c = counts(dense_graph(["d", "d_h", "m"]), shapes=dense_shapes(["d", "d_h", "m"]))
    assert c.total_text == "d·d_h + d_h·m + d_h + m"
    conv = counts(parse("O = conv2d(I, K)"), shapes={"I": ("n", "n"), "K": (2, 2, 2)})
    assert conv.shapes["O"] == (2, "?", "?") and "? : " not in conv.text() and "n − k + 1" in conv.text()


@pytest.mark.parametrize("text, shape", [("d_h x d", ("d_h", "d")), ("d_h×d", ("d_h", "d")), ("m,1", ("m", 1))])
def test_parse_shape_with_letters(text, shape):
    assert parse_shape(text) == shape


def test_letters_glued_with_x_are_asked_about():
    with pytest.raises(InputError, match="d_h x d"):
        parse_shape("dhxd")


def test_cli_count_in_letters():
    from conftest import run_cli
    r = run_cli("count", "--dense", "d-d_h-m")
    assert r.returncode == 0 and r.stdout.startswith("d·d_h + d_h·m + d_h + m scalar parameters"), r.stdout + r.stderr
