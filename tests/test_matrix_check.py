"""The checker judges formula claims by numbers at several points, never by syntax (issue 14)."""
from __future__ import annotations

from pathlib import Path

import pytest

import graphviz_bp as gbp
from graphviz_bp.core.errors import InputError
from graphviz_bp.showing.check import check

EXAMPLES = Path(gbp.__file__).parent / "examples"
SEED000 = (EXAMPLES / "l1_least_squares.txt").read_text()


@pytest.mark.parametrize("formula", [
    "2*X^T@(X@W - Y) + lambda*sign(W)",
    "lambda*sign(W) + 2*X^T@(X*W - Y)",            # X*W of a column and a row is X@W
    "2*((X@W - Y)^T@X)^T + lambda*sign(W)",         # a different-looking right answer
    "2*X^T@c + lambda*sign(W)",                      # in node names (c = X*W - Y)
    r"2 X^\top (X W - Y) + \lambda \operatorname{sign}(W)",   # LaTeX
])
def test_right_formulas_of_seed000(formula):
    report = check(gbp.parse(SEED000), f"grad W = {formula}")
    assert report.ok, report.text()


@pytest.mark.parametrize("formula, slip", [
    ("X^T@(X@W - Y) + lambda*sign(W)", "missing factor 2"),
    ("-2*X^T@(X@W - Y) - lambda*sign(W)", "wrong sign"),
    ("2*(X@W - Y)^T@X + lambda*sign(W)^T", "missing transpose"),
    ("2*X^T@(X@W + Y) + lambda*sign(W)", "wrong sign in the term Y"),    # the seed's own slip
    ("X^T@Y + sign(W)", None),                         # wrong, no usual slip: still wrong
])
def test_wrong_formulas_of_seed000_are_named(formula, slip):
    report = check(gbp.parse(SEED000), f"grad W = {formula}")
    assert not report.ok and report.first_wrong == 0
    claim = report.claims[0]
    if slip is None:
        assert claim.slip is None
    else:
        assert slip in claim.slip, claim.slip
    assert formula in report.text()


def test_trace_of_square_missing_transpose_and_elementwise_product():
    g = gbp.parse("X = [[1, 2], [3, 4]]\nf = tr(X@X)")
    assert check(g, "grad X = 2*X^T").ok
    assert "missing transpose" in check(g, "grad X = 2*X").claims[0].slip
    g = gbp.parse("X = [[1, 2], [3, 4]]\nw = [1, 2]\nf = w @ X @ w")
    assert check(g, "grad w = (X + X^T)@w").ok
    assert "symmetric" in check(g, "grad w = 2*X@w").claims[0].slip
    g = gbp.parse("X = [[1, 2], [3, 4]]\nW = [[1, -1], [0, 2]]\nY = [[1, 0], [0, 1]]\nL = ||X@W - Y||_2^2")
    assert check(g, "grad W = 2*X^T@(X@W - Y)").ok
    slip = check(g, "grad W = 2*X^T*(X@W - Y)").claims[0].slip
    assert slip is not None and "elementwise product where the matrix product is meant" in slip


def test_a_formula_right_at_the_point_but_wrong_elsewhere_is_wrong():
    """At x = 1, 2x and 2x² agree; the random points tell them apart."""
    g = gbp.parse("x = [1, 1]\nf = x^T@x")
    assert check(g, "grad x = 2*x").ok
    assert not check(g, "grad x = 2*x^2").ok


def test_formulas_and_numbers_mix():
    g = gbp.parse(SEED000)
    report = check(g, "L = 14\ngrad W = 2*X^T@(X@W - Y) + lambda*sign(W)\ngrad lambda = 2")
    assert [c.ok for c in report.claims] == [True, True, True]
    assert report.to_json()["claims"][1]["given"] == "2*X^T@(X@W - Y) + lambda*sign(W)"


def test_unknown_name_in_a_formula_is_an_input_error():
    with pytest.raises(InputError, match="nope"):
        check(gbp.parse(SEED000), "grad W = 2*nope")
    with pytest.raises(InputError):
        check(gbp.parse(SEED000), "grad W = 2*X^T@(")


def test_formulas_judged_at_random_points_of_declared_shapes():
    """No values at all: 'X: m x n' declarations give the shapes the formulas are judged at."""
    g = gbp.parse("X: m x n\nW: n x p\nY: m x p\nL = ||X@W - Y||_2^2")
    assert check(g, "grad W = 2*X^T@(X@W - Y)").ok
    assert "missing factor 2" in check(g, "grad W = X^T@(X@W - Y)").claims[0].slip
    assert "transpose" in check(g, "grad W = 2*(X@W - Y)^T@X").claims[0].slip
    assert "shapes do not fit" in check(g, "grad W = 2*X@(X@W - Y)").claims[0].slip
    g = gbp.parse(r"$$X \in \mathbb{R}^{D \times D}$$ $$f(X) = \operatorname{tr}(X^2)$$")
    assert check(g, r"grad X = 2 X^\top").ok
    assert not check(g, "grad X = 2*X").ok
