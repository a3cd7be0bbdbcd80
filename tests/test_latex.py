"""LaTeX pasted from the sheets → notation (graphviz_bp.reading.latex), E13 of EXERCISES.md."""
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from graphviz_bp.reading.convert import to_plain
from graphviz_bp.core.errors import InputError
from graphviz_bp.reading.latex import latex_to_program, looks_like_latex
from graphviz_bp.reading.parser import parse_program
from graph_equality import assert_same_graph

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


EXAMPLES = Path(__file__).resolve().parent.parent / "graphviz_bp" / "examples"
E2 = (EXAMPLES / "l1_least_squares.txt").read_text()
E3 = (EXAMPLES / "relu_network_sgd.txt").read_text()


def lines(text):
    return latex_to_program(text).splitlines()


def canon(program: str) -> list[str]:
    """A plain program as the translator prints it (so tests don't depend on spacing)."""
    return to_plain(parse_program(program)).splitlines()


# --- E13: pasted from the sheets, the answers of the plain exercises --------------------------

def test_e13a_is_e2():
    g, plain = gbp.parse(E13A), gbp.parse(E2)
    assert_same_graph(g, plain)
    assert g.evaluate()["L"] == 14
    assert g.gradients(wrt=["W"])["W"].tolist() == [[11, 3]]


def test_e13b_is_e3_with_the_sheets_names():
    g = gbp.parse(E13B)
    rename = {f"{p}{k}": f"{p}_{k}" for p in "Wah" for k in "123"}
    # E3 writes yhat = W3 @ h2 directly; the sheet names it h^{(3)} first
    e3 = gbp.parse(E3.replace("yhat = W3 @ h2", "h3 = W3 @ h2\nyhat = h3"))
    assert_same_graph(e3, g, rename)
    assert g.output == "J" and g.evaluate()["J"] == 9
    grads = g.gradients(wrt=["W_3", "W_2", "W_1"])
    assert grads["W_3"].tolist() == [[0, -18]]
    assert grads["W_2"].tolist() == [[0, 0], [-18, 0]]
    assert grads["W_1"].tolist() == [[-18], [0]]
    assert g.tex_names["W_1"] == "W^{(1)}" and g.tex_names["h_3"] == "h^{(3)}"
    assert g.variables == []                    # J(w): no node named w, so every input is a variable


def test_e13c_is_e1_same_graph():
    g, e1 = gbp.parse(E13C), gbp.parse("f = x^2 + x*y + (x + y)^2")
    assert_same_graph(g, e1)
    assert sorted((n.name, g.notation.formula(n)) for n in g.nodes if n.args) == \
        sorted((n.name, e1.notation.formula(n)) for n in e1.nodes if n.args)
    assert g.variables == ["x", "y"]
    assert g.gradients(at={"x": 1, "y": 2}) == {"x": 10.0, "y": 7.0}
    assert g.evaluate(at={"x": 1, "y": 2})["f"] == 12


def test_e13d():
    g = gbp.parse(E13D)
    at = {"w": np.array([0.5, -0.25]), "x": np.array([1.0, 2.0])}
    assert g.evaluate(at=at)["f"] == 0
    assert g.variables == ["x", "w"]
    assert np.allclose(g.gradients(at=at, wrt=["w"])["w"], [0.5, 1])
    assert [n.op for n in g.nodes if n.op in ("matmul", "mul")] == ["matmul", "matmul"]   # w^T x, twice


def test_looks_like_latex():
    for text in [E13A, E13B, E13C, E13D, r"\frac{1}{2}", r"\|x\|", r"a \cdot b", r"\mathbf{x}",
                 r"\lambda = 1", r"\begin{bmatrix} 1 \end{bmatrix}"]:
        assert looks_like_latex(text)
    for text in ["f = x^2 + x*y + (x + y)^2", "L = ||X*W - Y||_2^2 + lambda*||W||_1", "x = 3\ny = x"]:
        assert not looks_like_latex(text)


# --- one rule at a time -------------------------------------------------------------------------

@pytest.mark.parametrize("latex, expected", [
    # spans, separators, trailing punctuation, text outside math
    (r"Find $a = 1$ and then $$b = a + 1.$$", "a = 1; b = a + 1"),
    (r"$a = 1; b = 2 \qquad c = a + b,$", "a = 1; b = 2; c = a + b"),
    (r"\[ c = a + b \]", "c = a + b"),
    ("x = \\frac{1}{2}\ny = \\lambda x", "x = 1 / 2; y = lambda*x"),  # no $: line by line
    (r"where $x$ is the input: $$y = 2x$$", "y = 2*x"),                  # $x$ is a mention
    (r"$$L = a + b = 3 + 4 = 7$$", "L = a + b"),                        # worked result dropped
    (r"$\beta_1 = \beta_2 = 0.9, \eta = 0.1$", "beta_1 = 0.9; beta_2 = 0.9; eta = 0.1"),
    # matrices
    (r"$v = \begin{bmatrix} 1 \\ 2 \\ \end{bmatrix}$", "v = [[1], [2]]"),
    (r"$M = \begin{matrix} 1 & 2 \\ 3 & 4 \end{matrix}$", "M = [[1, 2], [3, 4]]"),
    (r"$r = \begin{pmatrix} \frac{1}{2} & -0.5 \end{pmatrix}$", "r = [[0.5, -0.5]]"),
    # norms and absolute values
    (r"$n = \left\| x \right\|_2^2 + \lVert y \rVert_1 + \|z\| + |u| + \left| v \right|$",
     "n = ||x||_2^2 + ||y||_1 + ||z|| + |u| + |v|"),
    (r"$n = 2\|x\|_3$", "n = 2*||x||_3"),
    # names: Greek, accents, layer indices, subscripts, bold
    (r"$y = \alpha + \eta \beta + \varepsilon$", "y = alpha + eta*beta + epsilon"),
    (r"$y = \hat{y} + \bar{x} + \tilde z$", "y = yhat + xbar + ztilde"),
    (r"$y = W^{(1)} + h^{(2)} + x_1 + b_{21} + x_i + \lambda_{1} + w_0$",
     "y = W_1 + h_2 + x_1 + b_21 + x_i + lambda_1 + w_0"),
    (r"$y = \mathbf{x} + \boldsymbol{w} + \vec{v} + \mathcal{L}$", "y = x + w + v + L"),
    # functions
    (r"$y = \text{ReLU}(a) + \operatorname{relu}(b) + \mathrm{softmax}(o)$",
     "y = relu(a) + relu(b) + softmax(o)"),
    (r"$y = \exp(a) + \log(b) + \ln(c) + \sin(d) + \tanh(e) + \max(a, b)$",
     "y = exp(a) + log(b) + ln(c) + sin(d) + tanh(e) + max(a, b)"),
    (r"$y = \sigma(z) + \sigma$", "y = sigmoid(z) + sigma"),
    (r"$y = \sum(x) + \operatorname{tr}(X) + \mathrm{tr}(Y) + \sqrt{x + 1} + \det(Z)$",
     "y = sum(x) + tr(X) + tr(Y) + sqrt(x + 1) + det(Z)"),
    (r"$y = \log x + \log \left( x + 1 \right)$", "y = log(x) + log(x + 1)"),
    (r"$y = relu(x) + ReLU(z)$", "y = relu(x) + relu(z)"),
    # \sum of a whole vector: the index only subscripts names
    (r"$J = \alpha \sum_i w_i^p$", "J = alpha*sum(w^p)"),
    (r"$$L = \frac{1}{2} \sum_{i=1}^{N} (f_i - y_i)^2 + \lambda \sum_j |w_j|$$",
     "L = 1 / 2 * sum((f - y)^2) + lambda*sum(|w|)"),
    # fractions, powers, transpose, e^
    (r"$y = \frac{a}{b} + \frac{1}{a + b}$", "y = a / b + 1 / (a + b)"),
    (r"$y = a / \frac{b}{c}$", "y = a / (b / c)"),
    (r"$y = x^2 + x^{2} + x^{-1} + x^{a + b} + x^n$", "y = x^2 + x^2 + x^(-1) + x^(a + b) + x^n"),
    (r"$y = A^T + B^{T} + C^\top + (A + B)^{\top}$", "y = A^T + B^T + C^T + (A + B)^T"),
    (r"$y = e^{-x} + e^x + 2e^{x^2}$", "y = exp(-x) + exp(x) + 2*exp(x^2)"),
    (r"$e = 2, \quad y = e^{x}$", "e = 2; y = e^x"),                  # e defined: a power
    # products: \cdot, \times and juxtaposition by shapes; * and \odot elementwise
    (r"$y = a \cdot b + a \times b + a \odot b + a * b + 2 \cdot a$",
     "y = a*b + a*b + a*b + a*b + 2*a"),
    (r"$f = xyz + 2(x + y)(x - y) + x(y)$", "f = x*y*z + 2*(x + y)*(x - y) + x*y"),
    (r"$xy = 3, \quad y = xy + 1$", "xy = 3; y = xy + 1"),           # a defined run is kept
    (r"$y = \mathbf{x}^T A \mathbf{x} + W \mathbf{x} + \lambda W$", "y = x^T @ A @ x + W @ x + lambda*W"),
    (r"$A = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}, \quad v = \begin{bmatrix} 1 \\ 1 \end{bmatrix}, \quad"
     r" s = 3, \quad y = \mathbf{1}^T (A \times v) + s A \cdot v + A * A$",
     "A = [[1, 2], [3, 4]]; v = [[1], [1]]; s = 3; y = 1^T*(A @ v) + s*A @ v + A*A"),
    # powers of a square matrix are matrix powers; of a vector (or 1×1) elementwise
    (r"$X = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}, \quad f = \operatorname{tr}(X^3) + \det(X^{-1})"
     r" + \sum(X^{\circ 2})$", "X = [[1, 2], [3, 4]]; f = tr(X @ X @ X) + det(inv(X)) + sum(X^2)"),
    (r"$v = \begin{bmatrix} 1 \\ 2 \end{bmatrix}, \quad f = \sum(v^2) + (v^T v)^2$",
     "v = [[1], [2]]; f = sum(v^2) + (v^T @ v)^2"),
    # declarations are not formulas, but they tell vectors and square matrices
    (r"$$X \in \mathbb{R}^{D \times D}$$ $$f(\mathbf{X}) = \operatorname{tr}(X^{3}) \tag{1}$$", "f = tr(X @ X @ X)"),
    (r"$$f = \operatorname{tr}(X^{\circ 2} W x), \quad W \in \mathbb{R}^{m \times n}, x \in \mathbb{R}$$",
     "f = tr(X^2 @ W*x)"),
    # prose inside math ends the formula; \tag and \label are dropped
    (r"$$H = 2X^T X + 2\lambda \text{ is positive definite} \label{eq:h}$$", "H = 2*X^T @ X + 2*lambda"),
    (r"$$n_{\theta} = d_h \times d + d_h$$", "n_theta = d_h*d + d_h"),
    # the notation's own forms pass through: vectors, indices, @, stride
    (r"$$v = [1, -2.5], \quad f = v[1] + \operatorname{softmax}(v)[0] + A[0, 1]$$",
     "v = [1, -2.5]; f = v[1] + softmax(v)[0] + A[0, 1]"),
    (r"$$f = a \mathbin{@} b + \operatorname{sum}(\operatorname{conv2d}(I, K, \mathrm{stride}=2))$$",
     "f = a @ b + sum(conv2d(I, K, stride=2))"),
    (r"$$h = x$$ $$f = 1 + 2$$", "h = x; f = 1 + 2"),                # a formula of numbers stays last
    # function headers
    (r"$$L(\theta) = \theta^2$$", "L = theta^2"),
    (r"$$f(\mathbf{x}; \mathbf{w}) = \mathbf{w}^T \mathbf{x}$$", "f = w^T @ x"),
    # a bare expression is the output when it comes last
    (r"$a = 2$ $$a^2 + 1$$", "a = 2; a^2 + 1"),
])
def test_rule(latex, expected):
    assert lines(latex) == canon(expected.replace("; ", "\n"))


def test_order_literals_first_then_dependencies_final_last():
    text = r"$$L = c + d$$ $$c = a^2$$ $$d = 2c$$ $$a = 3$$ $$z = a + 1$$"
    # z is also unused, but L comes first in the text: the final statement is the last sink (z)
    assert lines(text) == canon("a = 3\nc = a^2\nd = 2*c\nL = c + d\nz = a + 1")
    text = r"$$z = a + 1$$ $$L = c + d$$ $$c = a^2$$ $$d = 2c$$ $$a = 3$$"
    assert lines(text) == canon("a = 3\nz = a + 1\nc = a^2\nd = 2*c\nL = c + d")


def test_output_ends_with_newline_and_has_one_statement_per_line():
    out = latex_to_program(E13B)
    assert out.endswith("\n") and len(out.splitlines()) == 12


def test_sheet_names_are_drawn_as_on_the_sheet():
    g = gbp.parse(E13B)
    svg = gbp.render(g).source
    assert "W⁽¹⁾" in svg and "h⁽²⁾" in svg and "W₁" not in svg
    assert "ŷ" in svg
    assert "W^{(1)}" in gbp.explain(g, fmt="md")


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
    ("$$y = \\sum_i$$", 1, 7, "something to sum"),
    ("$$L = \\frac{1}{2} \\sum_i (f(x_i; w) - y_i)^2$$", 1, 27, "--define f=sigmoid"),
    ("$$\\frac{\\partial L}{\\partial W} = 2$$", 1, 9, "paste the function itself"),
    ("$M = \\begin{bmatrix} 1 & a \\end{bmatrix}$", 1, 26, "a matrix entry must be a number"),
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
    ("$y = ?$", 1, 1, "no formulas"),                                  # a question, not a formula
    ("$y = x ?$", 1, 8, "cannot translate '?'"),
    ("$y = \\sqrt[3]{x}$", 1, 6, "sqrt[n]"),
    ("$y = \\left. x \\right|_0$", 1, 6, "\\left"),
    ("no formulas here", 1, 1, "no formulas"),
    ("$$ $$", 1, 1, "no formulas"),
])
def test_errors(latex, line, column, words):
    with pytest.raises(InputError) as info:
        gbp.parse(latex, syntax="latex").evaluate()
    err = info.value
    assert (err.line, err.column, err.kind) == (line, column, "syntax"), str(err)
    assert words in err.message


@pytest.mark.parametrize("latex, line, column, words", [
    # a matrix power needs a whole exponent; the message says how to write the elementwise one
    ("$X = \\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix},$\n$$f = X^{1/2}$$", 2, 3, "X^{\\circ 1 / 2}"),
    # \cdot of two row vectors is a matrix product: a shape error at the statement of the sheet
    ("$X = \\begin{bmatrix} 1 & 2 \\end{bmatrix}$\n\n  $f = X \\cdot X$", 3, 4, "1×2 and 1×2"),
    # X^2 of a matrix nobody gave a shape: a matrix power or not? The sheet must say
    ("$$f = \\operatorname{tr}(X^2)$$", 1, 3, "declare X \\in \\mathbb{R}^{n \\times n}"),
])
def test_shape_errors_point_into_the_pasted_text(latex, line, column, words):
    with pytest.raises(InputError) as info:
        gbp.parse(latex).evaluate()
    err = info.value
    assert (err.line, err.column, err.kind) == (line, column, "shape"), str(err)
    assert words in err.message


def test_cli_bad_latex_is_one_line_and_exit_2(tmp_path, capsys):
    from graphviz_bp.app.cli import main
    for bad in ("$$\\frac{1}{2$$", "$y = \\nabla x$", "$$\\begin{bmatrix} 1 & 2$$", "$y = (x$"):
        path = tmp_path / "sheet.tex"
        path.write_text("% pasted\n" + bad + "\n")
        assert main(["grad", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("graphviz-bp: error: line 2, column ") and "Traceback" not in err


def test_cli_pasted_seed_000_lines(tmp_path, capsys):
    """The seed's two lines as they stand, formula first: L = 14, ∇W = [[11, 3]]."""
    import json
    from graphviz_bp.app.cli import main
    seed = (Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_9b6579242660973a.txt")
    pasted = E13A.splitlines()[1] + "\n" + E13A.splitlines()[0] + "\n"
    if seed.exists():
        sheet = seed.read_text().splitlines()
        assert sheet[5] == E13A.splitlines()[1] and sheet[17] == E13A.splitlines()[0]
    (tmp_path / "seed000.tex").write_text(pasted)
    assert main(["grad", str(tmp_path / "seed000.tex"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["value"] == 14 and doc["gradients"]["W"] == [[11, 3]]
    assert main(["grad", str(tmp_path / "seed000.tex"), "--syntax", "plain"]) == 2


def test_never_evaluates_python():
    with pytest.raises(InputError):
        latex_to_program(r'$y = \text{__import__("os")}$')


def test_deep_nesting_is_a_limit_not_a_crash():
    with pytest.raises(InputError):
        latex_to_program("$y = " + "{" * 5000 + "x" + "}" * 5000 + "$")




# --- properties: the sheet's products and powers against NumPy ---------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

_PAIRS = [((), ()), ((), (2, 2)), ((2, 3), ()), ((2, 2), (2, 1)), ((1, 2), (2, 3)), ((3, 1), (1, 2)),
          ((1, 1), (1, 3)), ((2, 2), (2, 2))]


def _bmatrix(a) -> str:
    a = np.atleast_2d(a)
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(str(int(x)) for x in row) for row in a) + r" \end{bmatrix}"


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_PAIRS), st.sampled_from([r"\cdot", r"\times", " "]), st.data())
def test_sheet_product_is_the_matrix_product_of_tensors_and_multiplication_with_a_scalar(pair, op, data):
    values = [np.array(data.draw(st.lists(st.integers(-3, 3), min_size=int(np.prod(s)), max_size=int(np.prod(s)))),
                       dtype=float).reshape(s) for s in pair]
    tex = [str(int(v)) if v.ndim == 0 else _bmatrix(v) for v in values]
    g = gbp.parse(f"$A = {tex[0]}, \\quad B = {tex[1]}, \\quad f = \\sum(A {op} B)$")
    scalar = [v.size == 1 for v in values]
    expected = values[0] * values[1] if any(scalar) else values[0] @ values[1]
    assert g.evaluate()["f"] == pytest.approx(float(np.sum(expected)))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([-2, -1, 1, 2, 3, 4]), st.lists(st.integers(-3, 3), min_size=4, max_size=4))
def test_power_of_a_square_matrix_is_the_matrix_power(k, entries):
    X = np.array(entries, dtype=float).reshape(2, 2) + 4 * np.eye(2)
    if abs(np.linalg.det(X)) < 0.5:
        X += 3 * np.eye(2)
    g = gbp.parse(f"$X = {_bmatrix(X)}, \\quad f = \\operatorname{{tr}}(X^{{{k}}}) + \\sum(X^{{\\circ 2}})$")
    expected = np.trace(np.linalg.matrix_power(X, k)) + np.sum(X ** 2)
    assert g.evaluate()["f"] == pytest.approx(expected)
    grad = g.gradients(wrt=["X"])["X"]               # against central differences
    h, fd = 1e-6, np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            E = np.zeros((2, 2))
            E[i, j] = h
            f = lambda M: np.trace(np.linalg.matrix_power(M, k)) + np.sum(M ** 2)   # noqa: E731
            fd[i, j] = (f(X + E) - f(X - E)) / (2 * h)
    assert np.allclose(grad, fd, rtol=1e-5, atol=1e-6)


def _latex_expressions():
    atoms = st.sampled_from(["x", "y", "W", r"\lambda", r"\mathbf{w}", r"\hat{y}", "W^{(1)}", "x_1", "2", "0.5",
                             r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}", r"\begin{pmatrix} 1 \\ -1 \end{pmatrix}",
                             "[1, 2]", "e", "X"])
    return st.recursive(atoms, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" + ", " - ", " * ", r" \cdot ", r" \times ", " ", r" \odot ", "/"]),
                  inner).map("".join),
        st.tuples(st.sampled_from([r"\frac{%s}{%s}", r"%s^{%s}", r"\left(%s\right)^{T} %s", r"\sqrt{%s}%s",
                                   r"\exp(%s) %s", r"\|%s\|_2^2 %s", r"\sum_i %s_i %s", r"|%s|%s",
                                   r"\max(%s, %s)", r"\sigma(%s)%s", r"\text{ReLU}(%s) %s", r"%s^{\circ 2} %s",
                                   r"\operatorname{tr}(%s) %s", r"%s^{-1} %s", r"{%s}_{%s}"]), inner, inner)
        .map(lambda t: t[0] % (t[1], t[2]))), max_leaves=6)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(_latex_expressions(), min_size=1, max_size=3), st.sampled_from(["$$", "$", ""]))
def test_random_sheets_give_a_graph_or_one_clear_error(rhs, delim):
    """Grammar-shaped LaTeX: every outcome is a graph (evaluated where it has all its values) or an
    InputError with a line and column; never another exception."""
    text = "\n".join(f"{delim}{name} = {r}{delim}" for name, r in zip(("a", "b", "f"), rhs))
    try:
        g = gbp.parse(text, syntax="latex")
        g.evaluate(at={n: 0.5 for n in g.leaves if g.node(n).default is None})
    except InputError as e:
        assert e.message and "Traceback" not in e.message


def test_seed_003_problem_statement_pasted_as_it_stands():
    """Prose and all: 'with respect to $\\mathbf{X} \\in \\mathbb{R}^{D \\times D}$' declares X square,
    so tr(X^2) is tr(X @ X) even before X has a value (E8: ∂f/∂X = 2Xᵀ)."""
    sheet = (EXAMPLES / "sheet_trace_of_square.tex").read_text().splitlines()
    seed = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "003_5d4080f58c88f1d9.txt"
    if seed.exists():
        lines_of_seed = seed.read_text().splitlines()
        assert sheet[1] == lines_of_seed[2] and sheet[3] == lines_of_seed[4]
    g = gbp.parse("\n".join(sheet[:4]))              # without the line that gives X its value
    assert [n.op for n in g.nodes if n.args] == ["matmul", "trace"]
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert g.evaluate(at={"X": X})["f"] == 29
    assert g.gradients(at={"X": X})["X"].tolist() == [[2, 6], [4, 8]]


# --- a function the sheet defines next to its data only is the sheet's objective --------------------

RIDGE_SHEET = r"""$$L(w) = (y - Xw)^T(y - Xw) + \lambda w^T w,$$
$X = \begin{pmatrix} 1 & 2 \\ 3 & 1 \\ 0 & 1 \end{pmatrix}, \quad y = \begin{pmatrix} 1 \\ 2 \\ 3 \end{pmatrix}, \quad \lambda = 0.5$"""


def test_a_function_next_to_data_only_is_the_objective_not_a_helper():
    # before: L(w) was dropped as "a function the sheet defines but does not call", and the output
    # became the data line y = 2 (grad printed ∂y/∂y = 1 with exit status 0)
    g = gbp.parse(r"$$L(w) = (y - w)^2$$ $$y = 2$$")
    assert g.output == "L" and "w" in g.leaves
    assert not any("does not call" in n for n in g.reading_notes)
    w = 0.25
    assert g.gradients(at={"w": w})["w"] == pytest.approx(-2 * (2 - w))
    g = gbp.parse(RIDGE_SHEET, given={"w": np.zeros((2, 1))})
    assert g.output == "L"
    X, y = np.array([[1, 2], [3, 1], [0, 1]]), np.array([[1], [2], [3]])
    w = np.array([[0.3], [-0.7]])
    grad = g.gradients(at={"w": w})["w"]
    assert np.allclose(grad, -2 * X.T @ (y - X @ w) + 2 * 0.5 * w)


def test_a_function_a_sheet_only_names_is_still_not_read_beside_a_formula():
    # the rule above does not reach a helper next to a real formula: f(t) is not the output here
    g = gbp.parse(r"$f(t) = \frac{e^t}{1+e^t}$ and $$L = (y - 2 w)^2$$ with $y = 1$, $w = 3$")
    assert g.output == "L"


def test_no_assumed_number_note_for_a_name_the_sheet_gives_a_number():
    # before: "read as: lambda is a number in lambda ⋅ w^T (nothing on the sheet says it is a vector…)"
    # although the sheet says λ = 0.5; the note stays for w, which nothing on the sheet sizes
    g = gbp.parse(RIDGE_SHEET.replace("(y - Xw)^T(y - Xw)", "(y - X w)^T (y - X w)"), given={"w": 0.5})
    assert not any("lambda is a number" in n for n in g.reading_notes)
    g = gbp.parse(RIDGE_SHEET)
    assert any(n.startswith("read as: w is a number") for n in g.reading_notes)
    assert not any("lambda is a number" in n for n in g.reading_notes)


@pytest.mark.parametrize("sheet", [
    r"$$f = tr(\mathbf{A}^{\top} \mathbf{B})$$ for $\mathbf{A}, \mathbf{B} \in \mathbb{R}^{N \times N}$",
    r"$$f = \langle \mathbf{A}, \mathbf{B} \rangle$$ where $\mathbf{A}, \mathbf{B} \in \mathbb{R}^{N \times N}$",
    r"$$f = tr(A^T B)$$ with $A,B,C \in \mathbb{R}^{3 \times 3}$",
])
def test_a_declaration_of_several_names_declares_each(sheet):
    # before: only the last name was declared; A became a scalar and ∂f/∂A = sum(B*I) (exit status 0)
    from graphviz_bp.algorithms.matrix_form.formulas import matrix_form
    g = gbp.parse(sheet)
    assert {"A", "B"} <= set(g.declared_shapes) and all(len(g.declared_shapes[n]) == 2 for n in "AB")
    assert matrix_form(g, wrt=["A"]).gradients["A"].plain == "B"        # d tr(AᵀB)/dA = B
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    assert np.allclose(g.gradients(at={"A": A, "B": B}, wrt=["A"])["A"], B)


def test_frac_with_one_character_arguments_as_in_tex():
    # \frac12 is ½ in TeX; before: "unclosed '('" (12 read as the numerator, '(' as the denominator)
    g = gbp.parse(r"$$L = \frac12 (f - t)^2$$")
    f, t = 3.0, 0.5
    assert g.evaluate(at={"f": f, "t": t})["L"] == pytest.approx(0.5 * (f - t) ** 2)
    assert g.gradients(at={"f": f, "t": t})["f"] == pytest.approx(f - t)
    g = gbp.parse(r"$$y = \frac12^2 + 1/\frac34$$")
    assert g.evaluate()[g.output] == pytest.approx(0.25 + 4 / 3)
    with pytest.raises(InputError, match=r"braces say which"):
        gbp.parse(r"$$y = \frac123 x$$")
