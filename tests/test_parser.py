"""The notation's grammar (DESIGN §1): precedence, literals, norms, positions, the fast path."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphviz_bp as gbp
from graphviz_bp.reading.parser import Apply, Literal, Name, Num, _Parser, parse_program, tokenize
from graphviz_bp.core.limits import Limits
from graphviz_bp.core.ops import FUNCTIONS


def shape_of(e):
    """The tree as nested tuples, for comparing parses."""
    if isinstance(e, Apply):
        return (e.op, tuple(sorted(e.params.items())), *[shape_of(a) for a in e.args])
    if isinstance(e, Name):
        return e.id
    if isinstance(e, Num):
        return e.value
    return ("literal", e.value.tolist())


def tree(text):
    (st_,) = parse_program(text)
    return shape_of(st_.expr)


@pytest.mark.parametrize("text, expected", [
    ("a + b * c", ("add", (), "a", ("mul", (), "b", "c"))),
    ("a - b - c", ("sub", (), ("sub", (), "a", "b"), "c")),
    ("x ^ 2 ^ 3", ("pow", (), "x", ("pow", (), 2.0, 3.0))),
    ("x ** 2", ("pow", (), "x", 2.0)),
    ("-x^2", ("neg", (), ("pow", (), "x", 2.0))),
    ("x^-1", ("pow", (), "x", -1.0)),
    ("A @ B * c", ("mul", (), ("matmul", (), "A", "B"), "c")),
    ("W.T @ v", ("matmul", (), ("transpose", (), "W"), "v")),
    ("W^T @ v", ("matmul", (), ("transpose", (), "W"), "v")),
    ("2x", ("mul", (), 2.0, "x")),
    ("0.5(y - z)^2", ("mul", (), 0.5, ("pow", (), ("sub", (), "y", "z"), 2.0))),
    ("||X*W - Y||_2^2", ("sqnorm2", (), ("sub", (), ("mul", (), "X", "W"), "Y"))),
    ("||W||_1", ("norm1", (), "W")),
    ("||W||", ("norm2", (), "W")),
    ("||W||_3", ("normp", (("p", 3.0),), "W")),
    ("||W||_2^3", ("pow", (), ("norm2", (), "W"), 3.0)),
    ("|x - 1|", ("abs", (), ("sub", (), "x", 1.0))),
    ("softmax(o)[0]", ("index", (("index", 0),), ("softmax", (), "o"))),
    ("A[0, -1]", ("index", (("index", (0, -1)),), "A")),
    ("max(a, b)", ("maximum", (), "a", "b")),
    ("conv2d(I, K, stride=2)", ("conv2d", (("stride", 2),), "I", "K")),
    ("σ(z) · λ", ("mul", (), ("sigmoid", (), "z"), "λ")),
    ("a − b", ("sub", (), "a", "b")),
    ("[[1, 2], [3, 4]]", ("literal", [[1.0, 2.0], [3.0, 4.0]])),
    ("-[1, 2]", ("literal", [-1.0, -2.0])),
    ("ReLU(W1 @ x)", ("relu", (), ("matmul", (), "W1", "x"))),
])
def test_precedence_and_forms(text, expected):
    assert tree(text) == expected


def test_statements_comments_semicolons_and_continuation():
    sts = parse_program("x = 1  # input\ny = 2; z = x*y\n\nW = [[1, 2],\n     [3, 4]]\nf = (x +\n y)")
    assert [s.target for s in sts] == ["x", "y", "z", "W", "f"]
    assert [s.line for s in sts] == [1, 2, 2, 4, 6]
    assert sts[3].expr.value.shape == (2, 2)


@pytest.mark.parametrize("text, line, col, words", [
    ("x = 1\ny = x +", 2, 8, "expected a number"),
    ("f = (x + 1", 1, 11, "')'"),
    ("f = x ? 2", 1, 7, "unexpected character"),
    ("f = foo(x)", 1, 5, "unknown function 'foo'"),
    ("f = [[1, 2], [3]]", 1, 5, "same length"),
    ("f = x[1.5]", 1, 7, "integer"),
    ("f = sin x", 1, 5, "parentheses"),
    ("f = x y", 1, 7, "unexpected 'y'"),
    ("sin = 3", 1, 1, "function name"),
    ("f = ||x||_q", 1, 10, "number"),
    ("f = max(x)", 1, 5, "takes 2 arguments"),
])
def test_errors_have_line_and_column(text, line, col, words):
    with pytest.raises(gbp.InputError) as info:
        gbp.parse(text)
    err = info.value
    assert (err.line, err.column) == (line, col), str(err)
    assert words in str(err)


def test_graph_errors_have_positions():
    with pytest.raises(gbp.InputError, match="assigned twice") as info:
        gbp.parse("x = 1\nx = 2")
    assert info.value.line == 2
    with pytest.raises(gbp.InputError, match="before it is defined"):
        gbp.parse("f = g + 1\ng = x^2")


def test_user_text_is_never_python():
    for text in ["__import__('os').system('true')", "x.__class__", "eval('1')", "f = 'a'.format(x)"]:
        with pytest.raises(gbp.InputError):
            gbp.parse(text).evaluate(at={})


def test_nesting_limit_is_a_clean_error():
    with pytest.raises(gbp.LimitError, match="max_depth"):
        parse_program("f = " + "(" * 500 + "x" + ")" * 500)
    assert tree("(" * 150 + "x" + ")" * 150) == "x"


def test_long_sum_on_one_line_is_iterative():
    g = gbp.parse("f = " + " + ".join(f"x{i}" for i in range(5000)))
    at = {f"x{i}": 1.0 for i in range(5000)}
    assert g.evaluate(at=at)["f"] == 5000.0
    assert g.gradients(at=at, wrt=["x4999"]) == {"x4999": 1.0}


NAMES = st.from_regex(r"[a-zA-Z_λη][a-zA-Z0-9_]{0,3}", fullmatch=True).filter(
    lambda s: s not in {"T"} and s not in FUNCTIONS)


@settings(max_examples=200, deadline=None)
@given(target=NAMES, a=NAMES, b=NAMES, op=st.sampled_from("+-*/@"), fn=st.sampled_from(["sin", "tanh", "exp", "relu"]),
       spaces=st.sampled_from(["", " ", "  "]), unary=st.booleans())
@pytest.mark.slow
def test_fast_path_builds_what_the_full_parser_builds(target, a, b, op, fn, spaces, unary):
    line = f"{target}{spaces}={spaces}{fn}({a})" if unary else f"{target} = {a}{spaces}{op}{spaces}{b}"
    fast = parse_program(line)[0]
    full = _Parser(line, tokenize(line), Limits()).program()[0]
    assert shape_of(fast.expr) == shape_of(full.expr)
    assert (fast.target, fast.line, fast.col) == (full.target, full.line, full.col)
    assert (fast.expr.line, fast.expr.col, fast.expr.src) == (full.expr.line, full.expr.col, full.expr.src)
    assert [(x.line, x.col) for x in fast.expr.args] == [(x.line, x.col) for x in full.expr.args]


def test_dag_structure():
    g = gbp.parse("f = x*x + sin(x)")
    dag = g.dag
    assert dag.edges["x", "a"]["positions"] == (0, 1)       # x*x: one edge, both operands
    assert dag.out_degree("x") == 2 and dag.graph["output"] == "f"
    assert dag.nodes["a"]["op"] == "mul" and dag.nodes["x"]["kind"] == "input"
    assert g.notation.formula("a") == "x·x"
    assert str(g.local_symbolic("x", "a")) == "2*x"
    assert g.gradients(at={"x": 2.0})["x"] == pytest.approx(4 + np.cos(2.0))
    assert gbp.count_paths(g, "x") == 2


def test_a_power_of_a_square_matrix_says_it_is_elementwise():
    # the plain notation's ^ is elementwise; a sheet's tr(X²) is the matrix power: say which was read
    g = gbp.parse("X = [[1, 2], [3, 4]]\nf = tr(X^2)")
    X = np.array([[1.0, 2], [3, 4]])
    assert g.evaluate()["f"] == np.trace(X * X)                  # 17, not tr(X @ X) = 29
    assert g.reading_notes == ["read as: X^2 is the elementwise power X∘X, as ^ is in the plain notation; "
                               "the matrix power is X @ X (in pasted LaTeX, X^2 is the matrix power)"]
    assert gbp.parse(r"$X = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}$, $$f = tr(X^2)$$").evaluate()["f"] == 29
    assert gbp.parse("x = [1, 2]\nf = sum(x^2)").reading_notes == []          # a vector: nothing to choose
    assert gbp.parse("X = [[1, 2], [3, 4]]\nf = tr(X @ X)").reading_notes == []
