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
