"""The checker on answers written like the sheets: LaTeX formulas read with the program's shapes and
functions, ∇ and ∂ on the left, LaTeX names and matrices; what an error is inherited from, and
which wrong step comes first.  Every expected value is worked out here with NumPy."""
from __future__ import annotations

import numpy as np
import pytest

import graphviz_bp as gbp
from conftest import EXAMPLES as EXAMPLES_DIR, load_example
from graphviz_bp import InputError
from graphviz_bp.showing.check import check


def central_gradient(f, x, h=1e-6):
    """∂f/∂x by central differences, entry by entry (f a scalar function of an array)."""
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (f(up) - f(down)) / (2 * h)
    return grad


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- 1. a lower-case vector of the program: its products in an answer are the program's -------------

ROW_TIMES_COLUMN = (r"$x = \begin{pmatrix}1&2\end{pmatrix}, W = \begin{pmatrix}3\\1\end{pmatrix}$ "
                    r"$$L = \frac{1}{2}(xW)^2$$")


def test_latex_answer_with_a_lower_case_vector_is_read_with_the_program_shapes():
    x, W = np.array([[1.0, 2.0]]), np.array([[3.0], [1.0]])
    want = central_gradient(lambda W_: 0.5 * (x @ W_).item() ** 2, W)
    assert np.allclose(want, x.T @ x @ W) and np.allclose(want, [[5], [10]])   # xᵀxW is the gradient
    g = gbp.parse(ROW_TIMES_COLUMN)
    report = check(g, r"grad W = x^\top x W")
    assert report.ok, report.text()
    wrong = check(g, r"grad W = 2 x^\top x W")
    assert not wrong.ok and "extra factor 2" in wrong.claims[0].slip


NET = r"""$$\hat{y} = f(f(x \cdot W_1) \cdot W_2) \cdot W_3.$$
$$L(W_1, W_2, W_3) = \frac{1}{2} \cdot (y - \hat{y})^2$$
$x = \begin{pmatrix} 5 & 2 \end{pmatrix}, y = 1, W_1 = \begin{pmatrix} 0.1 & -0.2 \\ 0.3 & 0.4 \end{pmatrix}, W_2 = \begin{pmatrix} 0.5 & -0.1 \\ 0.2 & 0.3 \end{pmatrix}, W_3 = \begin{pmatrix} 0.7 \\ -0.4 \end{pmatrix}$
"""


def _net_gradient_W3():
    x, y = np.array([[5.0, 2.0]]), 1.0
    W1 = np.array([[0.1, -0.2], [0.3, 0.4]])
    W2 = np.array([[0.5, -0.1], [0.2, 0.3]])
    W3 = np.array([[0.7], [-0.4]])
    h2 = sigmoid(sigmoid(x @ W1) @ W2)
    return central_gradient(lambda W: 0.5 * (y - (h2 @ W).item()) ** 2, W3), h2, (h2 @ W3).item()


@pytest.mark.parametrize("formula, right", [
    (r"(\hat{y} - y) \cdot \sigma(\sigma(x \cdot W_1) \cdot W_2)^T", True),
    (r"(\hat{y} - y) \cdot f(f(x \cdot W_1) \cdot W_2)^T", True),       # f is sigmoid (--define)
    (r"(y - \hat{y}) \cdot \sigma(\sigma(x \cdot W_1) \cdot W_2)^T", False),
    ("(yhat - y) * sigmoid(sigmoid(x @ W_1) @ W_2)^T", True),
])
def test_network_sheet_answers_in_latex_agree_with_the_plain_notation(formula, right):
    want, h2, yhat = _net_gradient_W3()
    assert np.allclose(want, (yhat - 1.0) * h2.T)
    g = gbp.parse(NET, define={"f": "sigmoid"})
    report = check(g, f"grad W_3 = {formula}")
    assert report.ok is right, report.text()
    assert np.allclose(report.claims[0].expected, want)


def test_a_slip_is_named_only_when_undoing_it_gives_the_gradient():
    # (y − ŷ)·h₂ is a 1×2 row: both the sign and the transpose are off, so it is not "a wrong sign"
    g = gbp.parse(NET, define={"f": "sigmoid"})
    report = check(g, "grad W_3 = (y - yhat) * sigmoid(sigmoid(x @ W_1) @ W_2)")
    assert not report.ok and (report.claims[0].slip is None or "sign" not in report.claims[0].slip)
    report = check(g, "grad W_3 = (y - yhat) * sigmoid(sigmoid(x @ W_1) @ W_2)^T")
    assert not report.ok and "wrong sign" in report.claims[0].slip


def test_an_activation_chosen_with_define_is_not_asked_for_again():
    g = gbp.parse(NET, define={"f": "sigmoid"})
    report = check(g, r"grad W_3 = (y - \hat{y}) \cdot f(f(x \cdot W_1) \cdot W_2)")
    assert not report.ok and "--define" not in report.text()


# --- 2. an unknown with only a declared shape: a vector is a column ----------------------------------

DECLARED = r"$y = \begin{pmatrix}1\\2\end{pmatrix}$, $w \in \mathbb{R}^{2}$, $L = (w - y)^T(w - y)$"
RIDGE = (r"$X = \begin{pmatrix} 1 & 2 \\ 3 & 1 \\ 0 & 1 \end{pmatrix}, \quad y = \begin{pmatrix} 1 \\ 2 \\ 3 "
         r"\end{pmatrix}, \quad \lambda = 0.5$, $w \in \mathbb{R}^{2}$" "\n"
         r"$$L = (y - Xw)^T(y - Xw) + \lambda w^T w$$")


def test_formula_for_a_declared_vector_is_judged_with_a_column():
    y = np.array([[1.0], [2.0]])
    w = np.array([[0.3], [-1.2]])
    want = central_gradient(lambda w_: ((w_ - y).T @ (w_ - y)).item(), w)
    assert np.allclose(want, 2 * (w - y))
    g = gbp.parse(DECLARED)
    assert check(g, "grad w = 2*(w - y)").ok
    assert check(g, r"grad w = 2(w - y)").ok
    assert not check(g, "grad w = w - y").ok


def test_ridge_sheet_formula_with_a_declared_vector():
    X = np.array([[1.0, 2.0], [3.0, 1.0], [0.0, 1.0]])
    y = np.array([[1.0], [2.0], [3.0]])
    lam, w = 0.5, np.array([[0.7], [-0.2]])
    loss = lambda w_: ((y - X @ w_).T @ (y - X @ w_) + lam * w_.T @ w_).item()
    assert np.allclose(central_gradient(loss, w), 2 * X.T @ (X @ w - y) + 2 * lam * w, atol=1e-6)
    g = gbp.parse(RIDGE)
    assert check(g, "grad w = 2*X^T@(X@w - y) + 2*lambda*w").ok
    assert check(g, r"grad w = 2 X^\top (X w - y) + 2 \lambda w").ok
    report = check(g, "grad w = X^T@(X@w - y) + lambda*w")
    assert not report.ok and "missing factor 2" in report.claims[0].slip


# --- 3. a gradient does not inherit an error in the output's own value --------------------------------

E2 = "l1_least_squares.txt"       # L = 14, ∂L/∂W = [[11, 3]]


def test_wrong_loss_is_not_inherited_by_the_gradient():
    report = check(load_example(E2), "L = 30\ngrad W = [[5, 5]]")
    loss, grad = report.claims
    assert not loss.ok and not grad.ok and not grad.inherited
    assert np.allclose(grad.expected, [[11, 3]])
    assert "inherited" not in report.text() and "would be" not in report.text()


def test_wrong_intermediate_on_the_paths_is_still_inherited():
    report = check(load_example(E2), "X*W - Y = [[-1, -3], [1, -1], [-2, -4]]\ngrad W = [[11, 19]]")
    assert report.first_wrong == 0 and report.claims[1].inherited and report.claims[1].follows


def test_value_off_the_paths_of_a_gradient_is_not_inherited():
    # ∂L/∂X = 2(XW − Y)Wᵀ does not use λ‖W‖₁ (a term added to L), nor L
    report = check(load_example(E2), "lambda*||W||_1 = 7\ngrad X = [[1], [1], [1]]")
    assert not report.claims[1].ok and not report.claims[1].inherited


# --- 4. the first wrong step, in the student's order --------------------------------------------------

SEED000_SHEET = (r"$$L = \|X * W - Y\|_2^2 + \lambda * \|W\|_1$$" "\n"
                 r"$$X = \begin{bmatrix} -1 \\ 1 \\ -2 \end{bmatrix}; \quad Y = \begin{bmatrix} 0 & -2 \\ 0 & -2 "
                 r"\\ 0 & -2 \end{bmatrix}; \quad W = \begin{bmatrix} 1 & 1 \end{bmatrix}; \quad \lambda = -1$$")


def test_first_wrong_step_is_the_students_first_wrong_line():
    answers = "X*W = [[-1, -1], [1, 1], [-2, -2]]\n||W||_1 = 2\ngrad W = [[5, 5]]\nL = 30\n"
    report = check(gbp.parse(SEED000_SHEET), answers)
    assert [c.ok for c in report.claims] == [True, True, False, False]
    assert report.claims[report.first_wrong].line == 3
    assert "the first wrong step is line 3" in report.text()


def test_a_later_line_is_first_only_when_an_earlier_one_is_computed_from_it():
    answers = "grad W = [[11, 19]]\nX*W - Y = [[-1, -3], [1, -1], [-2, -4]]\n"
    report = check(gbp.parse(SEED000_SHEET), answers)
    assert report.claims[report.first_wrong].line == 2 and report.claims[0].inherited
    summary = [t for t in report.text().splitlines() if "first wrong step is line 2" in t][0]
    assert "line 1" in summary            # it says why a later line comes first


# --- 5. the sheet's spellings in an answers file -------------------------------------------------------

def test_latex_matrix_as_a_value():
    g = load_example(E2)
    for right_side in (r"\begin{bmatrix} 11 & 19 \end{bmatrix}", r"$\begin{bmatrix} 11 & 19 \end{bmatrix}$",
                       r"\begin{pmatrix} 11 & 19 \end{pmatrix}"):
        report = check(g, f"grad W = {right_side}")
        claim = report.claims[0]
        assert not claim.ok and np.allclose(claim.given, [[11, 19]]), report.text()
        assert np.allclose(claim.expected, [[11, 3]])
    assert check(g, r"grad W = \begin{bmatrix} 11 & 3 \end{bmatrix}").ok
    assert check(g, r"L = \frac{28}{2}").ok


@pytest.mark.parametrize("lhs", [r"\nabla_W L", r"\nabla_{W} L", r"\nabla_W", "∇_W L",
                                 r"\frac{\partial L}{\partial W}", r"$\frac{\partial L}{\partial W}$"])
def test_nabla_and_partial_on_the_left_are_read_as_grad(lhs):
    g = load_example(E2)
    report = check(g, f"{lhs} = 2X^T(XW - Y) + \\lambda \\operatorname{{sign}}(W)")
    assert report.ok and report.claims[0].kind == "grad", report.text()
    assert check(g, f"{lhs} = [[11, 3]]").ok


def test_nabla_of_something_else_than_the_output_is_refused_in_one_line():
    with pytest.raises(InputError) as err:
        check(load_example(E2), r"\nabla_W J = [[11, 3]]")
    assert err.value.line == 1 and "grad W" in err.value.message and "\n" not in err.value.message


# seed 004's network as pasted (the gallery's E13b)
SEED004_SHEET = (EXAMPLES_DIR / "sheet_relu_network.tex").read_text(encoding="utf-8")


def test_sheet_spelling_of_names_on_the_left():
    # forward: h1 = relu([3, -3]) = [3, 0], h2 = relu([[-3], [3]]) = [0, 3], h3 = 3; J = (6 - 3)² = 9
    # ∂J/∂h3 = -2(6 - 3) = -6, ∂J/∂W3 = -6 h2ᵀ = [[0, -18]]; one SGD step with η = 0.1: [[-1, 2.8]]
    g = gbp.parse(SEED004_SHEET)
    report = check(g, "grad h^{(3)} = -6\nnew W^{(3)} = [[-1, 2.8]]\ngrad W^{(3)} = [[0, -18]]\n"
                      r"\frac{\partial J}{\partial h^{(3)}} = -6", sgd_lr=0.1)
    assert report.ok, report.text()


def test_claims_pasted_whole_in_latex():
    g = gbp.parse(SEED004_SHEET)
    answers = ("$$J(w) = 9$$\n"
               r"$$\frac{\partial J(w)}{\partial W^{(3)}} = \begin{pmatrix} 0 & -18 \end{pmatrix}$$" "\n"
               r"$$\frac{\partial J(w)}{\partial a^{(2)}} = \begin{pmatrix} 0 \\ -6 \end{pmatrix}$$" "\n")
    report = check(g, answers)
    assert report.ok and [c.kind for c in report.claims] == ["value", "grad", "grad"], report.text()


def test_sheet_notation_without_a_backslash():
    # 2 X^T (X W - Y) + lambda sign(W) is the sheets' juxtaposition, not the plain notation
    assert check(load_example(E2), "grad W = 2 X^T (X W - Y) + lambda sign(W)").ok
