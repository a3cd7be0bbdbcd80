"""A derivative path's contribution as a matrix formula (issue 14, graphviz_bp.algorithms.matrix_form.paths):
every path's formula of every tensor example and every identity of ../shared/matrix-identities.json
evaluates to the path's numeric contribution (and reads back through graphviz_bp.parse where its
plain text needs only node names); the formulas of all paths sum to the gradient and to central finite
differences; a path through an op with no matrix rule falls back to the numbers with a note."""
from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from test_matrix_form import IDENTITIES, random_inputs

import graphviz_bp as gbp
from graphviz_bp.algorithms.matrix_form import check as C
from graphviz_bp.algorithms.matrix_form.derive import derive
from graphviz_bp.algorithms.matrix_form.formulas import is_tensor_program
from graphviz_bp.algorithms.matrix_form.paths import path_formula, path_formulas
from graphviz_bp.algorithms.paths import Path as GraphPath
from graphviz_bp.algorithms.paths import derivative_paths, path_value

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "graphviz_bp" / "examples").glob("*.txt"))
E2 = ROOT / "graphviz_bp" / "examples" / "l1_least_squares.txt"


def _tensor_examples():
    out = []
    for path in EXAMPLES:
        g = gbp.parse(path.read_text())
        try:
            g.evaluate()
        except gbp.InputError:             # an example that needs --at values: not a fixed point
            continue
        if is_tensor_program(g):
            out.append(path.name)
    return out


TENSOR_EXAMPLES = _tensor_examples()


def inputs_of(g) -> list[str]:
    return [n.name for n in g.nodes if n.kind == "input"]


def read_back(text: str, env: dict) -> np.ndarray:
    """The plain formula evaluated by graphviz_bp itself, at the node values (vectors as columns)."""
    h = gbp.parse("G = " + text)
    return np.asarray(h.evaluate(at={k: env[k] for k in h.leaves if k in env})[h.output], dtype=float)


def central_differences(g, at: dict, name: str, h: float = 1e-6) -> np.ndarray:
    x = np.asarray(at[name], dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        for sign in (1, -1):
            y = x.copy()
            y[i] += sign * h
            out[i] += sign * np.asarray(g.evaluate(at={**at, name: y if y.shape else float(y)})[g.output]).item()
    return out / (2 * h)


def check_paths(g, at: dict) -> int:
    """Every path from every input: its formula's value is the path's value; the sum over paths is the
    gradient and central differences.  Returns the number of formulas read back through the parser."""
    d = derive(g, at=at, adjoints=False)
    env = C.node_values(g, d, at)
    grads = g.gradients(at=at)
    read = 0
    for name in inputs_of(g):
        paths = list(derivative_paths(g, name, at=at))
        formulas = path_formulas(g, paths, at)
        total = 0.0
        for p, f in zip(paths, formulas):
            if f.expr is None and any(g.node(v).op == "conv2d" for v in p.nodes[1:]):
                assert "(conv2d) has no matrix rule" in f.note and not f.verified
                total = total + p.value             # the numbers stand
                continue
            assert f.expr is not None and f.verified, (name, p.nodes, f.note)
            value = C.evaluate(f.expr, env)
            assert C.agrees(value, p.value), (name, p.nodes, f.plain)
            if f.reads_back:
                assert C.agrees(read_back(f.plain, env), p.value), (p.nodes, f.plain)
                read += 1
            total = total + value
        if not paths:
            continue
        assert C.agrees(total, grads[name]), name
        full = {k: at.get(k, v) for k, v in g.evaluate(at=at).items() if k in inputs_of(g)}
        assert C.agrees(total, central_differences(g, full, name), rtol=1e-4, atol=1e-5), name
    return read


@pytest.mark.parametrize("example", TENSOR_EXAMPLES)
def test_every_path_of_every_tensor_example(example):
    check_paths(gbp.parse((ROOT / "graphviz_bp" / "examples" / example).read_text()), {})


def test_tensor_examples_found():
    assert {"l1_least_squares.txt", "mlp_relu_softmax.txt", "trace_of_cube.txt", "convolution.txt"} <= \
        set(TENSOR_EXAMPLES)


@pytest.mark.parametrize("identity", IDENTITIES, ids=[i["name"] for i in IDENTITIES])
def test_every_path_of_every_identity(identity):
    g = gbp.parse("L = " + identity["expression"])
    at = random_inputs(identity, np.random.default_rng(zlib.crc32(identity["name"].encode())))
    check_paths(g, at)


def test_l1_least_squares_paths_are_matrix_products():
    g = gbp.parse(E2.read_text())
    formulas = {tuple(p.nodes): path_formula(g, p) for p in derivative_paths(g, "W")}
    assert {k: f.plain for k, f in formulas.items()} == {
        ("W", "a", "c", "e", "L"): "2*X^T@c", ("W", "b", "d", "L"): "lambda*sign(W)"}
    assert formulas[("W", "a", "c", "e", "L")].unicode == "2Xᵀc"
    # by node names too, and the same through the parser
    f = path_formula(g, GraphPath(g, tuple(map(g.index, ["X", "a", "c", "e", "L"]))))
    env = C.node_values(g, derive(g, adjoints=False))
    assert f.plain == "2*c@W^T" and C.agrees(read_back(f.plain, env), [[0], [8], [-4]])


def test_repeated_operand_is_one_edge():
    g = gbp.parse("X = [[1, 2], [3, 4]]\na = X@X\nf = tr(a)")
    (p,) = derivative_paths(g, "X")
    f = path_formula(g, p)
    assert f.expr is not None and C.agrees(C.evaluate(f.expr, C.node_values(g, derive(g, adjoints=False))),
                                           path_value(g, p.indices))


def test_no_rule_falls_back_with_a_note():
    g = gbp.parse((ROOT / "graphviz_bp" / "examples" / "convolution.txt").read_text())
    for p in derivative_paths(g, "K"):
        f = path_formula(g, p)
        assert f.expr is None and not f.verified and "conv2d" in f.note and "no matrix rule" in f.note
        assert str(f).startswith("(numbers only:")
    # indexing a matrix entry has no matrix template either
    g = gbp.parse("A = [[1, 2], [3, 4]]\nL = A[0,1] + sum(A)")
    formulas = [(p.nodes, path_formula(g, p)) for p in derivative_paths(g, "A")]
    assert [(nodes, f.plain) for nodes, f in formulas] == [(["A", "a", "L"], None), (["A", "b", "L"], "ones")]
    assert "'A[0,1]' (index) has no matrix rule" in formulas[0][1].note
    # a path without values is not checked, so not shown as a formula
    p = list(derivative_paths(g, "A", values=False))[1]
    assert p.nodes == ["A", "b", "L"] and "no values" in path_formula(g, p).note


def test_wrong_formula_is_withheld(monkeypatch):
    from graphviz_bp.algorithms.matrix_form import paths as mp
    g = gbp.parse(E2.read_text())
    monkeypatch.setattr(mp.C, "agrees", lambda *a, **k: False)
    f = path_formula(g, next(derivative_paths(g, "W")))
    assert f.expr is None and "disagrees" in f.note


def cli(*args):
    return subprocess.run([sys.executable, "-m", "graphviz_bp", "paths", *map(str, args)], check=False,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_paths_shows_matrix_formula():
    r = cli(E2, "--from", "W")
    assert r.returncode == 0, r.stderr
    assert "1. W → a → c → e → L: 2*X^T@c = [[12, 4]]" in r.stdout
    assert "2. W → b → d → L: lambda*sign(W) = [[-1, -1]]" in r.stdout
    assert "1·(2c)·1·X" not in r.stdout and "X · 1 · 2*c · 1" not in r.stdout
    doc = json.loads(cli(E2, "--from", "W", "--json").stdout)
    assert [p["formula"] for p in doc["paths"]] == ["2*X^T@c", "lambda*sign(W)"]
    assert doc["paths"][0]["formula_latex"] == "2 X^\\top c" and doc["paths"][0]["factors"] == ["X", "1", "2*c", "1"]


def test_cli_paths_conv2d_note_and_scalar_program_unchanged():
    conv = ROOT / "graphviz_bp" / "examples" / "convolution.txt"
    (p,) = json.loads(cli(conv, "--from", "K", "--json").stdout)["paths"]
    assert "formula" not in p and "conv2d" in p["formula_note"] and p["value"] == [[12, 16], [15, 19]]
    r = cli("-e", "f = x^2 + x*y", "--at", "x=1", "--at", "y=2", "--from", "x", "--json")
    assert all("formula" not in p and "formula_note" not in p for p in json.loads(r.stdout)["paths"])


def test_explain_writes_each_path_as_a_matrix_expression():
    g = gbp.parse(E2.read_text())
    text = gbp.explain(g, method="paths")
    assert "\\pi_{1} &= 2 X^\\top c \\\\\n&= \\begin{bmatrix} 12 & 4 \\end{bmatrix}" in text
    assert "\\pi_{2} &= \\lambda \\operatorname{sign}(W)" in text
    assert "1 \\cdot \\left(2 c\\right) \\cdot 1 \\cdot X" not in text
    conv = gbp.explain(gbp.parse((ROOT / "graphviz_bp" / "examples" / "convolution.txt").read_text()), method="paths")
    assert "No matrix formula for this path ('conv2d(I, K)' (conv2d) has no matrix rule" in conv
    mlp = gbp.explain(gbp.parse((ROOT / "graphviz_bp" / "examples" / "mlp_relu_softmax.txt").read_text()),
                      method="paths")
    assert "\\pi_{1} = c - e_{1} = " in mlp and mlp.count("the one-hot vector of the index taken") == 1
    scalar = gbp.explain(gbp.parse("f = x^2 + x*y"), at={"x": 1, "y": 2}, method="paths")
    assert "multiply the local derivatives along it" in scalar and "No matrix formula" not in scalar


@pytest.mark.slow
def test_dashboard_paths_tab_shows_the_matrix_formula():
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "graphviz_bp" / "app" / "page.py"), default_timeout=60)
    at.run()
    at.text_area(key="program").set_value(E2.read_text())
    at.session_state["view"] = "Paths"
    at.run()
    assert not at.exception
    text = "\n".join(e.value for e in [*at.markdown, *at.caption])
    assert "In matrix form: $\\pi_{1} = 2 X^\\top c$" in text and "checked against the value" in text
    assert "| # | path | matrix formula | contribution | running sum |" in text
    assert "| 2 | W → b → d → L | $\\lambda \\operatorname{sign}(W)$ |" in text
    at.text_area(key="program").set_value((ROOT / "graphviz_bp" / "examples" / "convolution.txt").read_text())
    at.run()
    assert any("No matrix formula for this path" in c.value and "conv2d" in c.value for c in at.caption)


def test_drawing_title_writes_the_highlighted_path_in_matrix_form():
    """The graph's title for a highlighted path: 2Xᵀc (checked), not the scalar-looking X · 1 · 2c · 1."""
    from graphviz_bp.showing.render import render
    g = gbp.parse(E2.read_text())
    dot = render(g, highlight=["W", "a", "c", "e", "L"]).source
    assert "2Xᵀc = [[12, 4]]" in dot and "X · 1 · 2c" not in dot
    # a scalar program keeps its factors
    g1 = gbp.parse("x = 1; y = 2\nf = x^2 + x*y + (x + y)^2")
    assert "2x · 1 · 1" in render(g1, highlight=["x", "a", "d", "f"]).source
