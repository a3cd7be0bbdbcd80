"""LaTeX pasted from the sheets → notation (graphviz_bp.latex), E13 of EXERCISES.md."""
import numpy as np
import pytest

from graphviz_bp.errors import InputError
from graphviz_bp.latex import latex_to_program, looks_like_latex

# --- E13, pasted verbatim from EXERCISES.md -------------------------------------------------

E13A = r"""$$X = \begin{bmatrix} -1 \\ 1 \\ -2 \end{bmatrix}; \quad Y = \begin{bmatrix} 0 & -2 \\ 0 & -2 \\ 0 & -2 \end{bmatrix}; \quad W = \begin{bmatrix} 1 & 1 \end{bmatrix}; \quad \lambda = -1$$
$$L = \|X * W - Y\|_2^2 + \lambda * \|W\|_1$$
"""

E13B = r"""$$h^{(1)} = \text{ReLU}(a^{(1)}), \quad a^{(1)} = W^{(1)} \cdot x$$
$h^{(2)} = \text{ReLU}(a^{(2)}), \quad a^{(2)} = W^{(2)} \cdot h^{(1)}$
$h^{(3)} = W^{(3)} \cdot h^{(2)}$
$$W^{(1)} = \begin{pmatrix} 1 \\ -1 \end{pmatrix}$$
$$W^{(2)} = \begin{pmatrix} -1 & 1 \\ 1 & -1 \end{pmatrix}$$
$$W^{(3)} = \begin{pmatrix} -1 & 1 \end{pmatrix}$$
$x = 3, \quad y = 6, \quad \hat{y} = h^{(3)}$
$$J(w) = (y-\hat{y})^2$$
"""

E13C = r"""$$f(x, y) = x^2 + xy + (x + y)^2.$$
"""

E13D = r"""$$f(\mathbf{x}; \mathbf{w}) = \frac{1 - \exp(-\mathbf{w}^T \mathbf{x})}{1 + \exp(-\mathbf{w}^T \mathbf{x})},$$
"""


def lines(text):
    return latex_to_program(text).splitlines()


def nospace(s):
    return "".join(s.split())


def test_e13a_exact():
    assert lines(E13A) == [
        "X = [[-1], [1], [-2]]",
        "Y = [[0, -2], [0, -2], [0, -2]]",
        "W = [[1, 1]]",
        "lambda = -1",
        "L = ||X * W - Y||_2^2 + lambda * ||W||_1",
    ]


def test_e13a_statements_modulo_spaces():
    got = {nospace(s) for s in lines(E13A)}
    for want in ["X = [[-1], [1], [-2]]", "Y = [[0, -2], [0, -2], [0, -2]]", "W = [[1, 1]]",
                 "lambda = -1", "L = ||X * W - Y||_2^2 + lambda * ||W||_1"]:
        assert nospace(want) in got
    assert nospace(lines(E13A)[-1]).startswith("L=")


def test_e13b_exact_reordered_top_down_definitions():
    assert lines(E13B) == [
        "W1 = [[1], [-1]]",
        "W2 = [[-1, 1], [1, -1]]",
        "W3 = [[-1, 1]]",
        "x = 3",
        "y = 6",
        "a1 = W1 @ x",
        "h1 = relu(a1)",
        "a2 = W2 @ h1",
        "h2 = relu(a2)",
        "h3 = W3 @ h2",
        "yhat = h3",
        "J = (y - yhat)^2",
    ]


def test_e13c_exact():
    assert lines(E13C) == ["f = x^2 + x*y + (x + y)^2"]


def test_e13d_exact():
    assert lines(E13D) == ["f = (1 - exp(-w^T @ x)) / (1 + exp(-w^T @ x))"]


def test_looks_like_latex():
    for text in [E13A, E13B, E13C, E13D, r"\frac{1}{2}", r"\|x\|", r"a \cdot b", r"\mathbf{x}",
                 r"\lambda = 1", r"\begin{bmatrix} 1 \end{bmatrix}"]:
        assert looks_like_latex(text)
    for text in ["f = x^2 + x*y + (x + y)^2", "L = ||X*W - Y||_2^2 + lambda*||W||_1", "x = 3\ny = x"]:
        assert not looks_like_latex(text)


# --- one rule at a time -------------------------------------------------------------------------

@pytest.mark.parametrize("latex, expected", [
    # spans, separators, trailing punctuation, text outside math
    (r"Find $a = 1$ and then $$b = a + 1.$$", ["a = 1", "b = a + 1"]),
    (r"$a = 1; b = 2 \qquad c = a + b,$", ["a = 1", "b = 2", "c = a + b"]),
    (r"\[ c = a + b \]", ["c = a + b"]),
    ("x = \\frac{1}{2}\ny = \\lambda x", ["x = 1 / 2", "y = lambda*x"]),  # no $: line by line
    (r"where $x$ is the input: $$y = 2x$$", ["y = 2*x"]),                  # $x$ is a mention
    (r"$$L = a + b = 3 + 4 = 7$$", ["L = a + b"]),                        # worked result dropped
    (r"$\beta_1 = \beta_2 = 0.9, \eta = 0.1$", ["beta1 = 0.9", "beta2 = 0.9", "eta = 0.1"]),
    # matrices
    (r"$v = \begin{bmatrix} 1 \\ 2 \\ \end{bmatrix}$", ["v = [[1], [2]]"]),
    (r"$M = \begin{matrix} 1 & 2 \\ 3 & 4 \end{matrix}$", ["M = [[1, 2], [3, 4]]"]),
    (r"$r = \begin{pmatrix} \frac{1}{2} & -0.5 \end{pmatrix}$", ["r = [[1 / 2, -0.5]]"]),
    # norms and absolute values
    (r"$n = \left\| x \right\|_2^2 + \lVert y \rVert_1 + \|z\| + |u| + \left| v \right|$",
     ["n = ||x||_2^2 + ||y||_1 + ||z|| + |u| + |v|"]),
    (r"$n = 2\|x\|_\infty$", ["n = 2*||x||_inf"]),
    # names
    (r"$y = \alpha + \eta \beta + \varepsilon$", ["y = alpha + eta*beta + epsilon"]),
    (r"$y = \hat{y} + \bar{x} + \tilde z$", ["y = yhat + xbar + ztilde"]),
    (r"$y = W^{(1)} + h^{(2)} + x_1 + b_{21} + x_i + \lambda_{1}$",
     ["y = W1 + h2 + x1 + b21 + x_i + lambda1"]),
    (r"$y = \mathbf{x} + \boldsymbol{w} + \vec{v} + \mathcal{L}$", ["y = x + w + v + L"]),
    # functions
    (r"$y = \text{ReLU}(a) + \operatorname{relu}(b) + \mathrm{softmax}(o)$",
     ["y = relu(a) + relu(b) + softmax(o)"]),
    (r"$y = \exp(a) + \log(b) + \ln(c) + \sin(d) + \tanh(e) + \max(a, b)$",
     ["y = exp(a) + log(b) + ln(c) + sin(d) + tanh(e) + max(a, b)"]),
    (r"$y = \sigma(z) + \sigma$", ["y = sigmoid(z) + sigma"]),
    (r"$y = \sum(x) + \operatorname{tr}(X) + \text{tr}(Y) + \sqrt{x + 1}$",
     ["y = sum(x) + tr(X) + tr(Y) + sqrt(x + 1)"]),
    (r"$y = \log x + \log \left( x + 1 \right)$", ["y = log(x) + log(x + 1)"]),
    (r"$y = relu(x) + ReLU(z)$", ["y = relu(x) + relu(z)"]),
    # fractions, powers, transpose, e^
    (r"$y = \frac{a}{b} + \frac{1}{a + b}$", ["y = a / b + 1 / (a + b)"]),
    (r"$y = a / \frac{b}{c}$", ["y = a / (b / c)"]),
    (r"$y = x^2 + x^{2} + x^{-1} + x^{a + b} + x^n$", ["y = x^2 + x^2 + x^(-1) + x^(a + b) + x^n"]),
    (r"$y = A^T + B^{T} + C^\top + (A + B)^T$", ["y = A^T + B^T + C^T + (A + B)^T"]),
    (r"$y = e^{-x} + e^x + 2e^{x^2}$", ["y = exp(-x) + exp(x) + 2*exp(x^2)"]),
    (r"$e = 2, \quad y = e^{x}$", ["e = 2", "y = e^x"]),                  # e defined: a power
    # operators and implicit multiplication
    (r"$y = a \cdot b + a \times b + a \odot b + a * b + 2 \cdot a$",
     ["y = a @ b + a * b + a * b + a * b + 2 * a"]),
    (r"$f = xyz + 2(x + y)(x - y) + x(y)$", ["f = x*y*z + 2*(x + y)*(x - y) + x*(y)"]),
    (r"$xy = 3, \quad y = xy + 1$", ["xy = 3", "y = xy + 1"]),           # a defined run is kept
    (r"$y = \mathbf{x}^T A \mathbf{x} + W x + \lambda W$", ["y = x^T @ A @ x + W @ x + lambda*W"]),
    # function headers
    (r"$$L(\theta) = \theta^2$$", ["L = theta^2"]),
    (r"$$f(\mathbf{x}; \mathbf{w}) = \mathbf{w}^T \mathbf{x}$$", ["f = w^T @ x"]),
    # a bare expression is the output when it comes last
    (r"$a = 2$ $$a^2 + 1$$", ["a = 2", "a^2 + 1"]),
])
def test_rule(latex, expected):
    assert lines(latex) == expected


def test_order_literals_first_then_dependencies_final_last():
    text = r"$$L = c + d$$ $$c = a^2$$ $$d = 2c$$ $$a = 3$$ $$z = a + 1$$"
    # z is also unused, but L comes first in the text: the final statement is the last sink (z)
    assert lines(text) == ["a = 3", "c = a^2", "d = 2*c", "L = c + d", "z = a + 1"]
    text = r"$$z = a + 1$$ $$L = c + d$$ $$c = a^2$$ $$d = 2c$$ $$a = 3$$"
    assert lines(text) == ["a = 3", "z = a + 1", "c = a^2", "d = 2*c", "L = c + d"]


def test_output_ends_with_newline_and_has_one_statement_per_line():
    out = latex_to_program(E13B)
    assert out.endswith("\n") and len(out.splitlines()) == 12


# --- errors: InputError at the line and column of the pasted text --------------------------------

@pytest.mark.parametrize("latex, line, column, words", [
    ("$$\\begin{bmatrix} 1 & 2$$", 1, 3, "unterminated"),
    ("text\n$$x = 1 +\n\\begin{bmatrix} 1 & 2$$", 3, 1, "unterminated \\begin{bmatrix}"),
    ("$$x = 1", 1, 1, "unterminated $$"),
    ("$x = 1\ny = 2$", 1, 1, "unterminated $"),
    ("$$x = \\frac{1}{2$$", 1, 15, "unterminated {"),
    ("$y = (x$", 1, 6, "unclosed"),
    ("$y = x)$", 1, 7, "unmatched"),
    ("$y = \\|x$", 1, 6, "unclosed"),
    ("$y = \\nabla_W L$", 1, 6, "\\nabla"),
    ("$$\n  y = \\sum_i x_i$$", 2, 7, "\\sum"),
    ("$y = x^23$", 1, 7, "ambiguous exponent"),
    ("$y = \\begin{vmatrix} 1 \\end{vmatrix}$", 1, 6, "vmatrix"),
    ("$y = \\begin{bmatrix} 1 & 2 \\\\ 3 \\end{bmatrix}$", 1, 6, "different lengths"),
    ("$y = \\begin{bmatrix} 1 & & 2 \\end{bmatrix}$", 1, 26, "empty matrix entry"),
    ("$a = 1$ $a = 2$", 1, 10, "defined twice"),
    ("$a = b + 1$\n$b = 2a$", 1, 2, "circular"),
    ("$x = x + 1$", 1, 2, "itself"),
    ("$2x = 2$", 1, 2, "left side"),
    ("$x = $", 1, 4, "nothing after ="),
    ("$a + b$ $c = 1$ $d = c$", 1, 2, "without a name"),
    ("$y = ?$", 1, 6, "cannot translate '?'"),
    ("$y = \\sqrt[3]{x}$", 1, 6, "sqrt[n]"),
    ("$y = \\left. x \\right|_0$", 1, 6, "\\left"),
    ("no formulas here", 1, 1, "no formulas"),
    ("$$ $$", 1, 1, "no formulas"),
])
def test_errors(latex, line, column, words):
    with pytest.raises(InputError) as info:
        latex_to_program(latex)
    err = info.value
    assert (err.line, err.column, err.kind) == (line, column, "syntax"), str(err)
    assert words in err.message


def test_never_evaluates_python():
    with pytest.raises(InputError):
        latex_to_program(r'$y = \text{__import__("os")}$')


def test_deep_nesting_is_a_limit_not_a_crash():
    with pytest.raises(InputError):
        latex_to_program("$y = " + "{" * 5000 + "x" + "}" * 5000 + "$")


# --- end to end: the parser reads what the translator writes --------------------------------------

gbp = pytest.importorskip("graphviz_bp")
needs_parser = pytest.mark.skipif(not hasattr(gbp, "parse"), reason="graphviz_bp.parse not written yet")


@needs_parser
def test_e13a_end_to_end():
    g = gbp.parse(latex_to_program(E13A))
    assert np.allclose(g.evaluate()[g.output], 14)
    assert np.allclose(g.gradients(wrt=["W"])["W"], [[11, 3]])


@needs_parser
def test_e13b_end_to_end():
    g = gbp.parse(latex_to_program(E13B))
    assert g.output == "J"
    assert np.allclose(g.evaluate()["J"], 9)
    grads = g.gradients(wrt=["W3", "W2", "W1"])
    assert np.allclose(grads["W3"], [[0, -18]])
    assert np.allclose(grads["W2"], [[0, 0], [-18, 0]])
    assert np.allclose(grads["W1"], [[-18], [0]])


@needs_parser
def test_e13c_end_to_end():
    g = gbp.parse(latex_to_program(E13C))
    at = {"x": 1.0, "y": 2.0}
    assert np.allclose(g.evaluate(at=at)["f"], 12)
    grads = g.gradients(at=at, wrt=["x", "y"])
    assert np.allclose(grads["x"], 10) and np.allclose(grads["y"], 7)


@needs_parser
def test_e13d_end_to_end():
    g = gbp.parse(latex_to_program(E13D))
    at = {"w": np.array([0.5, -0.25]), "x": np.array([1.0, 2.0])}
    assert np.allclose(g.evaluate(at=at)["f"], 0)
    assert np.allclose(g.gradients(at=at, wrt=["w"])["w"], [0.5, 1])
