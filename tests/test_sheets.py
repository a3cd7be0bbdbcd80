"""The corpus: formulas pasted from the seed sheets and from textbooks, each with what it must mean.

Each case in ``tests/sheets/*.txt`` is a block::

    ### <id>  <where it comes from>
    sheet:
    <the LaTeX as pasted, any number of lines>
    at: x = 1; w = [[1], [2]]          (values given outside the sheet, as with --at; optional)
    define: f=sigmoid                  (optional: --define)
    means:
    <the same computation in the plain notation, read by the plain reader>
    value: 11                          (optional: the output worked out by hand)
    grad: b = -2                       (optional: a gradient worked out by hand)

or, instead of ``means:``, ``refuse: <words the one-line refusal must contain>``.

What is checked (never against the LaTeX reader's own output): the value of the pasted sheet's
output equals the plain program's and the hand value; its gradient (reverse mode) with respect to
every input equals the plain program's and central finite differences of the plain program.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from graphviz_bp.core.errors import InputError
from graphviz_bp.reading.latex import translate

HERE = Path(__file__).resolve().parent / "sheets"
KEYS = ("sheet", "at", "define", "means", "refuse", "value", "grad")


def load(path: Path) -> list[dict]:
    cases, case, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            case = {"id": line[4:].split()[0], "title": line[4:], "file": path.name}
            cases.append(case)
            key = None
            continue
        m = re.match(r"^(%s):\s?(.*)$" % "|".join(KEYS), line)
        if case is not None and m:
            key = m.group(1)
            case[key] = m.group(2)
        elif case is not None and key:
            case[key] = (case[key] + "\n" + line) if case[key] else line
    for c in cases:
        for k in KEYS:
            if k in c:
                c[k] = c[k].strip()
    return cases


CASES = [c for path in sorted(HERE.glob("*.txt")) for c in load(path)]


def _values(text: str) -> dict:
    """``x = 1; w = [[1], [2]]`` -> values (read by the plain reader, not by hand)."""
    if not text:
        return {}
    g = gbp.parse(text.replace(";", "\n"), syntax="plain")
    return {n.name: n.default for n in g.nodes if n.kind in ("input", "output") and n.default is not None}


def _define(text: str) -> dict:
    return dict(part.split("=", 1) for part in text.replace(" ", "").split(",") if part) if text else {}


def read_sheet(case):
    given = {k: np.shape(v) for k, v in _values(case.get("at", "")).items()}    # --at informs the reading
    t = translate(case["sheet"], define=_define(case.get("define", "")), given=given)
    return gbp.parse(t.program, syntax="plain"), t


def _inputs(g, at):
    return [n.name for n in g.nodes if n.kind == "input" and n.name]


def _fd(g, at, name, out, h=1e-6):
    """Central differences of the plain program's output with respect to one input."""
    base = {k: np.array(v, dtype=float) for k, v in at.items()}
    x = base[name]
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        for sign in (1, -1):
            y = x.copy()
            y[idx] += sign * h
            val = g.evaluate(at={**base, name: y})[out]
            grad[idx] += sign * float(np.sum(val)) / (2 * h)
    return grad if x.shape else float(grad)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file'][:-4]}:{c['id']}" for c in CASES])
def test_sheet(case):
    if "refuse" in case:
        with pytest.raises(InputError) as info:
            g, _ = read_sheet(case)
            g.evaluate(at=_values(case.get("at", "")))
        assert case["refuse"] in info.value.message, info.value.message
        assert "\n" not in info.value.message
        return
    g, t = read_sheet(case)
    plain = gbp.parse(case["means"], syntax="plain")
    at = _values(case.get("at", ""))
    for n in plain.nodes:               # every input gets a value: given, or from the program
        if n.kind == "input" and n.name not in at and n.default is not None:
            at[n.name] = n.default
    missing = [n for n in _inputs(plain, at) if n not in at]
    assert not missing, f"the case gives no value for {missing}"
    assert sorted(_inputs(g, at)) == sorted(_inputs(plain, at)), t.program
    got, want = g.evaluate(at=at)[g.output], plain.evaluate(at=at)[plain.output]
    np.testing.assert_allclose(np.squeeze(got), np.squeeze(want), rtol=1e-9, atol=1e-12, err_msg=t.program)
    if "value" in case:
        np.testing.assert_allclose(np.squeeze(got), float(case["value"]), rtol=1e-6, atol=1e-9)
    names = [n for n in _inputs(plain, at)]
    if not names or np.size(want) != 1:              # gradients are of a scalar output
        return
    gg = g.gradients(at=at, wrt=names)
    gp = plain.gradients(at=at, wrt=names)
    for name in names:
        np.testing.assert_allclose(np.squeeze(gg[name]), np.squeeze(gp[name]), rtol=1e-7, atol=1e-9,
                                   err_msg=f"d/d{name}\n{t.program}")
        fd = _fd(plain, at, name, plain.output)
        np.testing.assert_allclose(np.squeeze(gg[name]), np.squeeze(fd), rtol=1e-4, atol=1e-5,
                                   err_msg=f"d/d{name} (central differences)\n{t.program}")
    for pair in filter(None, case.get("grad", "").split(";")):
        name, value = (s.strip() for s in pair.split("="))
        np.testing.assert_allclose(np.squeeze(gg[name]), float(value), rtol=1e-6, atol=1e-9)


# --- random grammar-shaped sheets: read as the same program in the plain notation, or refused ----

from hypothesis import given, settings, strategies as st  # noqa: E402


def _paren(tex, plain, atom):
    return (tex, plain) if atom else (r"\left(" + tex + r"\right)", "(" + plain + ")")


@st.composite
def _sheet_expr(draw, depth=0):
    """(LaTeX as a sheet writes it, the same in the plain notation, atomic?)"""
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        leaf = draw(st.sampled_from(["x", "y", "z", "2", "0.5", r"\alpha"]))
        return leaf, {r"\alpha": "alpha"}.get(leaf, leaf), True
    kind = draw(st.sampled_from(["add", "sub", "cdot", "juxt", "frac", "pow", "exp", "logfrac", "tanh2",
                                 "sigma", "sqrt", "sum", "sumi", "e"]))
    a_tex, a_pl, a_atom = draw(_sheet_expr(depth + 1))
    b_tex, b_pl, b_atom = draw(_sheet_expr(depth + 1))
    A, B = _paren(a_tex, a_pl, a_atom), _paren(b_tex, b_pl, b_atom)
    if kind == "add":
        return f"{a_tex} + {B[0]}", f"{a_pl} + {B[1]}", False
    if kind == "sub":
        return f"{a_tex} - {B[0]}", f"{a_pl} - {B[1]}", False
    if kind == "cdot":
        return f"{A[0]} \\cdot {B[0]}", f"{A[1]} * {B[1]}", False
    if kind == "juxt":                                   # 2x, x y, 0.5(…): products by juxtaposition
        return f"{A[0]} {B[0]}", f"{A[1]} * {B[1]}", False
    if kind == "frac":
        return f"\\frac{{{a_tex}}}{{{b_tex}}}", f"(({a_pl}) / ({b_pl}))", True
    if kind == "pow":
        return f"{A[0]}^{{2}}", f"{A[1]}^2", True
    if kind == "exp":
        return f"\\exp\\left({a_tex}\\right)", f"exp({a_pl})", True
    if kind == "e":
        return f"e^{{{a_tex}}}", f"exp({a_pl})", True
    if kind == "logfrac":                                # \log\frac{…}{…}: the log of the fraction
        return (f"\\log\\frac{{1 + e^{{{a_tex}}}}}{{2 + {B[0]}^{{2}}}}",
                f"log((1 + exp({a_pl})) / (2 + {B[1]}^2))", True)
    if kind == "tanh2":                                  # \tanh^2(…): the square of tanh
        return f"\\tanh^2({a_tex})", f"tanh({a_pl})^2", True
    if kind == "sigma":
        return f"\\sigma({a_tex})", f"sigmoid({a_pl})", True
    if kind == "sqrt":
        return f"\\sqrt{{1 + {A[0]}^{{2}}}}", f"sqrt(1 + {A[1]}^2)", True
    if kind == "sum":                                    # \sum (v - …)^2: a sum of squares
        return f"\\sum (\\mathbf{{v}} - {A[0]})^2", f"sum((v - {A[1]})^2)", False
    return f"\\sum_{{i=1}}^{{n}} (v_i - {A[0]})^2", f"sum((v - {A[1]})^2)", False   # per entry


@settings(max_examples=300, deadline=None)
@given(_sheet_expr(), st.sampled_from(["$$f = {}$$", "$f = {}$", "f = {}", "Then $$f = {}.$$"]),
       # no tiny non-zero values: (x z)(x / (z α)) at z = 4e-75 differentiates to 0 one way and to
       # -2e59 the other (two terms of 8.6e74 cancelling); the readings agree, the floats cannot
       st.lists(st.floats(-1.5, 1.5).filter(lambda v: v == 0 or abs(v) > 1e-3), min_size=6, max_size=6))
@pytest.mark.slow
def test_random_sheets_are_read_as_the_plain_program_or_refused(expr, frame, values):
    tex, plain, _ = expr
    at = {"x": values[0], "y": values[1], "z": values[2], "alpha": 0.7, "v": np.array(values[3:])}
    try:
        g = gbp.parse(frame.format(tex), syntax="latex")
    except InputError as e:                          # refused: one line, never a crash
        assert e.message and "\n" not in e.message
        return
    p = gbp.parse("f = " + plain, syntax="plain")
    names = [n for n in ("x", "y", "z", "alpha", "v") if n in p._names and p.node(n).kind == "input"]
    inputs = lambda h: sorted(n.name for n in h.nodes if n.kind == "input")     # noqa: E731
    assert inputs(g) == inputs(p), (tex, g.text)
    at = {k: at[k] for k in names}
    with np.errstate(all="ignore"):
        want, got = p.evaluate(at=at)[p.output], g.evaluate(at=at)[g.output]
        np.testing.assert_allclose(np.squeeze(got), np.squeeze(want), rtol=1e-9, atol=1e-12, err_msg=g.text)
        if names and np.all(np.isfinite(want)):
            gp, gg = p.gradients(at=at, wrt=names), g.gradients(at=at, wrt=names)
            for n in names:
                np.testing.assert_allclose(np.squeeze(gg[n]), np.squeeze(gp[n]), rtol=1e-7, atol=1e-9,
                                           err_msg=f"d/d{n}: {g.text}")
