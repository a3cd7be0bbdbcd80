"""graphviz_bp.showing.explain: a worked solution in Markdown and LaTeX (issue #6, part 1).

The numbers below are EXERCISES.md's; they are formatted with the module's own
``tex_value`` so the tests check values, not spacing.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from conftest import load_example as graph
from graphviz_bp import InputError
from graphviz_bp.showing.explain import explain, tex_name, tex_value

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "graphviz_bp" / "examples"
E1 = EX / "chain_rule_paths.txt"
E2 = EX / "l1_least_squares.txt"
E3 = EX / "relu_network_sgd.txt"


def tv(v):
    return tex_value(np.array(v, dtype=float) if isinstance(v, list) else float(v))


def assert_step(text, name, value):
    """``name = … = value`` somewhere in the solution (the last link of an equation chain)."""
    lhs = tex_name(name)
    pattern = re.escape(lhs) + r" &?= (?:(?!\$\$).)*?= " + re.escape(tv(value)) + r"(?:\n|$| \\\\)"
    direct = f"{lhs} = {tv(value)}"
    assert re.search(pattern, text, re.S) or direct in text, f"{name} = {value} not in the solution"


def assert_gradient(text, output, var, value):
    assert re.search(re.escape(f"\\frac{{\\partial {tex_name(output)}}}{{\\partial {tex_name(var)}}}")
                     + r"(?: \\\\\n&| )= " + re.escape(tv(value)), text), f"∂{output}/∂{var} = {value} missing"


# --- E1, E2, E3: every intermediate value and the final gradients -------------------------------

def test_e1_values_paths_and_gradients():
    text = explain(graph(E1))
    for name, value in {"a": 1, "b": 2, "c": 3, "d": 3, "e": 9, "f": 12}.items():
        assert_step(text, name, value)
    assert "$x$: 3 paths." in text and "$y$: 2 paths." in text
    assert_gradient(text, "f", "x", 10)
    assert_gradient(text, "f", "y", 7)
    assert "2 x" in text and "2 c" in text                       # symbolic local derivatives


def test_e2_values_paths_and_gradient():
    text = explain(graph(E2))
    assert_step(text, "a", [[-1, -1], [1, 1], [-2, -2]])         # X*W
    assert_step(text, "c", [[-1, 1], [1, 3], [-2, 0]])           # X*W - Y
    assert_step(text, "e", 16)
    assert_step(text, "b", 2)
    assert_step(text, "d", -2)
    assert_step(text, "L", 14)
    assert "$W$: 2 paths." in text
    assert tv([[-1, -1]]) in text and tv([[12, 4]]) in text      # the two paths' values
    assert_gradient(text, "L", "W", [[11, 3]])
    assert "\\lambda" in text
    assert not any(re.search(r"(?<!\\)lambda", block) for block in text.split("$$")[1::2])


def test_e3_values_gradients_and_sgd_ending():
    text = explain(graph(E3), sgd_lr=0.1)
    for name, value in {"a1": [[3], [-3]], "h1": [[3], [0]], "a2": [[-3], [3]], "h2": [[0], [3]],
                        "yhat": 3, "J": 9}.items():
        assert_step(text, name, value)
    for var, value in {"W3": [[0, -18]], "W2": [[0, 0], [-18, 0]], "W1": [[-18], [0]], "x": -6}.items():
        assert_gradient(text, "J", var, value)
    tail = text[text.index("One SGD step"):]
    last = tail.strip().split("$$")[-2]                            # the final display: the updated weights
    for name, value in {"W3": [[-1, 2.8]], "W2": [[-1, 1], [2.8, -1]], "W1": [[2.8], [-1]]}.items():
        assert f"{tex_name(name)} = {tv(value)}" in last
    assert "x =" not in last and "y =" not in last                # data is not updated


def test_reverse_steps_in_reverse_topological_order():
    g = graph(E3)
    text = explain(g, method="reverse")
    order = [m.group(1) for m in re.finditer(r"\*\*Step \d+:\*\* \$(.+?)\$", text)]
    assert order[0] == "\\bar{J}" and order[:3] == ["\\bar{J}", "\\bar{a}", "\\bar{\\hat{y}}"]
    assert "Path method" not in text
    assert "\\bar{\\hat{y}} W_{3}^\\top" in text                    # h2's adjoint through the matrix product


def _reverse_step(text, name):
    """The display equation of section 4's step for ``name``'s adjoint."""
    start = text.index(f"$\\bar{{{tex_name(name)}}}$\n")
    return text[start:text.index("\n$$\n", text.index("$$", start) + 3)]


def test_tensor_reverse_steps_are_written_with_shapes_that_match():
    """QA: E2's step 8 wrote W̄ = ā·X + b̄·sign(W) (ā 3×2, X 3×1: the sum over the broadcast axis
    hidden) and step 10 X̄ = ā·W; in a tensor program each term is the edge's checked matrix rule, in
    the order of the numbers after it, as section 5 writes them (XᵀĀ, ĀWᵀ)."""
    text = explain(graph(E2), method="reverse")
    w, x = _reverse_step(text, "W"), _reverse_step(text, "X")
    assert "&= X^\\top \\bar{a} + \\bar{b} \\operatorname{sign}(W) \\\\" in w, w
    assert f"{tv([[12, 4]])} + {tv([[-1, -1]])}" in w and tv([[11, 3]]) in w       # the numbers stay
    assert "&= \\bar{a} W^\\top \\\\" in x, x
    assert tv([[0], [8], [-4]]) in x
    for step in (w, x):
        assert "\\bar{a} \\cdot" not in step
    assert "&= -\\bar{c} \\\\" in _reverse_step(text, "Y")


def test_scalar_reverse_steps_keep_the_local_derivatives():
    text = explain(graph(E1), method="reverse")
    assert "\\cdot" in text.split("## ")[-2]              # v̄ · ∂v/∂u with the numbers, as before


def test_sum_over_out_edges():
    text = explain(graph(E2), method="reverse", wrt="W")
    step = text[text.index("$\\bar{W}$"):]
    assert "\\bar{a}\\,\\frac{\\partial a}{\\partial W} + \\bar{b}\\,\\frac{\\partial b}{\\partial W}" in step
    assert f"{tv([[12, 4]])} + {tv([[-1, -1]])}" in step


def test_local_derivatives_symbolic_and_numeric():
    text = explain(graph(E2), method="paths")
    assert "\\frac{\\partial e}{\\partial c} &= 2 c \\\\\n&= " + tv([[-2, 2], [2, 6], [-4, 0]]) in text
    assert "\\operatorname{sign}" in text
    assert "\\frac{\\partial d}{\\partial b} = \\lambda = -1" in text
    assert "Reverse accumulation" not in text


def test_wrt_selects_variables():
    text = explain(graph(E2), wrt="W")
    assert "\\nabla_{W} L" in text and "\\nabla_{X} L" not in text and "\\nabla_{\\lambda}" not in text
    with pytest.raises(InputError):
        explain(graph(E2), wrt="nope")


def test_sgd_with_explicit_wrt():
    text = explain(graph(E2), wrt=["W"], sgd_lr=0.5)
    assert f"W = {tv([[-4.5, -0.5]])}" in text.split("$$")[-2]


def test_many_paths_are_counted_not_listed():
    lines = ["x = 0.3", "a0 = 2*x"] + [f"a{i} = sin(a{i-1}) + cos(a{i-1})" for i in range(1, 11)]
    g = gbp.parse("\n".join(lines))
    text = explain(g, method="paths")
    assert f"{2 ** 10} paths" in text and "first 20" in text
    assert len(re.findall(r"^\*\*Path \d+:\*\*", text, re.M)) == 20
    grad = g.gradients(wrt=["x"])["x"]
    assert f"\\frac{{\\partial a_{{10}}}}{{\\partial x}} = {tv(grad)}" in text


def test_markdown_math_is_balanced():
    for path in (E1, E2, E3):
        text = explain(graph(path), sgd_lr=0.1)
        assert text.count("$$") % 2 == 0
        outside = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
        outside = re.sub(r"```.*?```", "", outside, flags=re.S)
        assert outside.count("$") % 2 == 0
        assert text.count("\\begin{aligned}") == text.count("\\end{aligned}")
        assert text.count("\\begin{bmatrix}") == text.count("\\end{bmatrix}")


def test_bad_arguments():
    with pytest.raises(InputError):
        explain(graph(E1), fmt="html")
    with pytest.raises(InputError):
        explain(graph(E1), method="forward")
    with pytest.raises(InputError):          # inputs without values
        explain(gbp.parse("f = x*y"))


# --- LaTeX --------------------------------------------------------------------------------------------

def tex_programs():
    extra = gbp.parse("o = [1, -2, 0]\nlambda = 0.5\nL = -log(softmax(o)[0]) + lambda*||o||_2^2")
    return [graph(E1), graph(E2), graph(E3), extra]


def test_tex_is_a_standalone_ascii_document():
    for g in tex_programs():
        doc = explain(g, fmt="tex", sgd_lr=0.1)
        assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
        assert doc.isascii()
        assert "\\[" in doc and "\\frac{\\partial" in doc
        assert "$$" not in doc


def test_tex_greek():
    assert "\\lambda" in explain(graph(E2), fmt="tex")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_tex_compiles_with_pdflatex(tmp_path):
    for k, g in enumerate(tex_programs()):
        src = tmp_path / f"solution{k}.tex"
        src.write_text(explain(g, fmt="tex", sgd_lr=0.1), encoding="ascii")
        r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", src.name],
                           cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stdout[-2000:]
        assert (tmp_path / f"solution{k}.pdf").stat().st_size > 1000


# --- the command line ---------------------------------------------------------------------------------

def run(*args):
    return subprocess.run([sys.executable, "-m", "graphviz_bp", "explain", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_cli_e3_sgd_md_ends_with_updated_weights():
    r = run(E3, "--sgd-lr", "0.1", "--format", "md")
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().split("$$")[-2]
    assert r.stdout.rstrip().endswith("$$")
    for name, value in {"W3": [[-1, 2.8]], "W2": [[-1, 1], [2.8, -1]], "W1": [[2.8], [-1]]}.items():
        assert f"{tex_name(name)} = {tv(value)}" in last


@pytest.mark.slow
def test_cli_tex_and_json():
    r = run(E2, "--format", "tex", "--method", "paths", "--wrt", "W")
    assert r.returncode == 0 and r.stdout.startswith("\\documentclass")
    r = run(E1, "--json", "--method", "reverse")
    doc = json.loads(r.stdout)
    assert doc["format"] == "md" and "Reverse accumulation" in doc["text"]


@pytest.mark.slow
def test_cli_bad_input_exit_2():
    r = run("-e", "f = x*y")
    assert r.returncode == 2 and "no value for input" in r.stderr and "Traceback" not in r.stderr
    r = run(E2, "--wrt", "nope")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_backticks_in_the_program_cannot_break_out_of_code():
    """A comment with ` and ``` stays inside the program's code block (issue 19: user text as text)."""
    md = explain(gbp.parse("f = x^2  # a ` tick and ``` fence ![img](http://example.com/x.png)\n"), at={"x": 1})
    fence = md.split("\n")[2]
    assert set(fence) == {"`"} and len(fence) > 3
    body = md.split(fence)[1]
    assert "``` fence ![img]" in body


def test_a_scalar_times_ones_keeps_its_ones():
    """A matrix adjoint that is a scalar broadcast (sum(W)'s W̄ = ā𝟏) is written with its 𝟏: 'λ' alone
    would read as a number where the gradient is a matrix."""
    text = explain(gbp.parse("W = [[1, 2], [3, 4]]\nlam = 2\nL = lam*sum(W)"))
    assert "&= \\bar{a} \\mathbf{1} \\\\" in _reverse_step(text, "W")
    assert "\\nabla_{W} L = \\lambda \\mathbf{1}\n" in text
