"""The worked solution's "gradient in matrix form" section and the never-a-wrong-formula rule (issue 14)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from graphviz_bp.algorithms.matrix_form import check as C
from graphviz_bp.algorithms.matrix_form.formulas import matrix_form
from graphviz_bp.core.ops import OPS
from graphviz_bp.showing import matrix_solution
from graphviz_bp.showing.explain import explain

EXAMPLES = Path(gbp.__file__).parent / "examples"


def program(name):
    return gbp.parse((EXAMPLES / name).read_text())


def test_logistic_l2_section_and_update_rule_before_the_numbers():
    text = explain(program("logistic_regression_l2.txt"), sgd_lr=0.1)
    section = text.index("Gradient in matrix form")
    rule = text.index(r"w \leftarrow w - \eta\left(")
    numbers = text.index("One SGD step")
    assert section < rule < numbers
    assert r"X^\top (\sigma(X w) - y)" in text          # seed 003 problem 2: Xᵀ(σ(Xw) − y) + 2w
    assert "shape of its variable" in text


def test_scalar_programs_have_no_matrix_section():
    assert "matrix form" not in explain(gbp.parse("f = x^2 + x*y"), at={"x": 1, "y": 2})


def test_paths_only_has_no_matrix_section():
    assert "matrix form" not in explain(program("l1_least_squares.txt"), method="paths")


def test_every_node_formula_shown_agrees_with_the_numbers():
    """Each node's adjoint in node names and in the inputs, evaluated, equals the reverse pass."""
    for name in ("l1_least_squares.txt", "mlp_relu_softmax.txt", "logistic_regression_l2.txt",
                 "softmax_cross_entropy.txt", "trace_of_cube.txt", "quadratic_form.txt"):
        g = program(name)
        mf = matrix_form(g, levels=("rule", "named", "inputs"))
        env, numeric = C.environment(g, mf.derivation)
        for node, levels in mf.nodes.items():
            for level, f in levels.items():
                assert f.expr is not None, (name, node, level, f.note)
                want = numeric.get(node, np.zeros((1, 1)))
                assert C.agrees(C.evaluate(f.expr, env), want), (name, node, level, str(f))


def test_a_wrong_rule_is_never_shown(monkeypatch):
    """A matmul template with a wrong factor on its left operand (3ḠBᵀ): the formulas through it
    are withheld with a note, and the numbers still come."""
    right = OPS["matmul"].matrix
    monkeypatch.setattr(OPS["matmul"], "matrix",
                        lambda M, g, out, a, b: (M.mul(3, right(M, g, out, a, b)[0]),
                                                 right(M, g, out, a, b)[1]))
    g = gbp.parse("X = [[1, 2], [3, 4], [5, 6]]\nW = [[1], [2]]\nL = ||X@W||_2^2")
    mf = matrix_form(g)
    assert mf.gradients["W"].expr is not None            # Xᵀ·Ḡ is still right
    assert mf.gradients["X"].expr is None and "numbers" in mf.gradients["X"].note
    text = explain(g)
    assert "numbers only" in text
    np.testing.assert_allclose(g.gradients()["X"], 2 * (np.array([[5.], [11.], [17.]]) @ [[1, 2]]))


def test_markdown_for_the_dashboard():
    md = matrix_solution.markdown(program("l1_least_squares.txt"), sgd_lr=0.5)
    assert md.startswith("## 1. Gradient in matrix form")
    assert r"\bar{W} = \bar{b} \operatorname{sign}(W) + X^\top \bar{a} = 2 X^\top c + \lambda \operatorname{sign}(W)" in md
    assert r"W \leftarrow W - \eta\left(2 X^\top (X W - Y) + \lambda \operatorname{sign}(W)\right)" in md


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_both_formats(fmt):
    out = explain(program("mlp_relu_softmax.txt"), fmt=fmt)
    assert "Gradient in matrix form" in out
