"""Fuzzing (issue #8, item 5): every outcome of parse → evaluate → gradients → render → explain is a
result or a clean InputError, never another exception; and on random smooth scalar programs,
reverse = forward = path sum = central finite differences.

The default run draws a modest number of examples; ``pytest -m fuzz`` runs the same bodies for
``--fuzz-examples`` examples each (see conftest.py). Failures found this way are kept as
regressions in tests/test_hardening.py::test_inputs_that_crashed_once.
"""
from __future__ import annotations

import math
import warnings
from itertools import islice

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import graphviz_bp as gbp
from graphviz_bp import InputError, Limits
from graphviz_bp.core.ops import FUNCTIONS

from conftest import FUZZ_NOTES, FUZZ_STATS

# small limits: the fuzzers should reach every refusal too, and stay fast
LIMITS = Limits(max_nodes=400, max_tensor_elements=400, max_paths_listed=50, max_depth=40,
                max_symbolic_ops=120, max_scalar_view_nodes=300, max_jacobian_elements=4000,
                max_render_nodes=80)
DEFAULT_BUDGET = dict(deadline=None, suppress_health_check=list(HealthCheck))


# --- (a) random bytes and text ------------------------------------------------------------------------

ALPHABET = st.sampled_from(list("xyzWvf_λσ0123456789.eE+-*/@^()[],=;|#T \n\t_'\"{}:\\$&<>!%`~")
                           + ["||", "**", "·", "×", "−", "⋅", "\\frac{", "\\sqrt{", "\\cdot", "$$", "^T", ".T",
                              "_2^2", "_1", "sum(", "exp(", "conv2d(", "stride=", "max(", "det(", "inv(",
                              "softmax(", "__import__", "lambda", "\r\n", "\x00", "\u200b", "ℝ", "∂"])


def texts():
    return st.one_of(st.text(max_size=80), st.lists(ALPHABET, max_size=40).map("".join),
                     st.binary(max_size=60).map(lambda b: b.decode("utf-8", errors="replace")))


# --- (b) programs from the grammar (DESIGN §1) ------------------------------------------------------------

NAMES = ["x", "y", "z", "W", "v", "b", "lambda", "η", "W1", "h_2", "x", "y"]
NUMBERS = st.one_of(st.integers(-3, 9).map(str), st.sampled_from(["0", "0.5", "1.", ".5", "2e-3", "1e3", "3.25",
                                                                    "1e308", "1e-320", "0.0"]))


@st.composite
def literals(draw):
    kind = draw(st.sampled_from(["vec", "mat", "mat", "ragged", "col", "3d"]))
    num = st.integers(-3, 3).map(str)
    if kind == "vec":
        return "[" + ", ".join(draw(st.lists(num, min_size=1, max_size=4))) + "]"
    if kind == "col":
        return "[" + ", ".join(f"[{n}]" for n in draw(st.lists(num, min_size=1, max_size=3))) + "]"
    if kind == "3d":
        return "[[[1, 2], [3, 4]], [[0, 1], [1, 0]]]"
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    body = []
    for _ in range(rows):
        n = cols if kind == "mat" else draw(st.integers(1, 3))
        body.append("[" + ", ".join(draw(num) for _ in range(n)) + "]")
    return "[" + ", ".join(body) + "]"


def expressions(max_leaves=12):
    atoms = st.one_of(st.sampled_from(NAMES), NUMBERS, literals())

    def extend(inner):
        unary_fn = sorted(f for f, op in FUNCTIONS.items() if op not in ("maximum", "minimum", "conv2d"))
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "@", "^", "**", "·", "×", " - "]), inner)
              .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(st.sampled_from(["-", "+", "−"]), inner).map(lambda t: f"{t[0]}{t[1]}"),
            inner.map(lambda e: f"({e})"),
            st.tuples(st.sampled_from(unary_fn), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["max", "min"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, inner, st.sampled_from(["", ", stride=1", ", stride=2"]))
              .map(lambda t: f"conv2d({t[0]}, {t[1]}{t[2]})"),
            st.tuples(inner, st.sampled_from(["||_1", "||_2", "||", "||_2^2", "||_3", "||_1.5"]))
              .map(lambda t: f"||{t[0]}{t[1]}"),
            inner.map(lambda e: f"|{e}|"),
            st.tuples(inner, st.sampled_from([".T", "^T", "[0]", "[1]", "[-1]", "[0, 1]", "[1, 0]", "[5]"]))
              .map(lambda t: f"({t[0]}){t[1]}" if t[1][0] != "[" else f"{t[0]}{t[1]}"),
            st.tuples(st.sampled_from(["2", "0.5", "3"]), st.sampled_from(["x", "(y + 1)", "W"]))
              .map(lambda t: f"{t[0]}{t[1]}"),                           # implicit product: 2x
        )
    return st.recursive(atoms, extend, max_leaves=max_leaves)


@st.composite
def programs(draw):
    n = draw(st.integers(1, 5))
    lines = []
    targets = ["a1", "h", "out", "f", "y", "L", "z2", "s"]
    for k in range(n):
        e = draw(expressions())
        form = draw(st.sampled_from(["assign", "assign", "assign", "bare", "literal", "comment"]))
        if form == "assign":
            lines.append(f"{draw(st.sampled_from(targets))} = {e}")
        elif form == "literal":
            lines.append(f"{draw(st.sampled_from(NAMES))} = {draw(st.one_of(NUMBERS, literals()))}")
        elif form == "comment":
            lines.append(f"{draw(st.sampled_from(targets))} = {e}  # a comment ) ] ||")
        else:
            lines.append(e)
    sep = draw(st.sampled_from(["\n", "\n", "; ", "\n\n", "\r\n"]))
    text = sep.join(lines)
    if draw(st.integers(0, 4)) == 0:                                   # a small mutation
        pos = draw(st.integers(0, max(0, len(text) - 1)))
        text = text[:pos] + draw(st.sampled_from(["", "(", ")", "]", "[", "|", ",", "=", ";", "\n", "@", "^"])) \
            + text[pos + draw(st.integers(0, 2)):]
    return text


VALUES = {
    "x": [0.5, -1.0, 0.0, 2.0, 1e308], "y": [1.5, 0.0, -2.0], "z": [0.25, -0.0],
    "W": [np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[1.0, 2.0]]), 1.0],
    "v": [np.array([1.0, -1.0]), np.array([0.0, 2.0, 3.0]), -1.0],
    "b": [np.array([0.5, 0.5]), 0.0], "lambda": [-1.0], "η": [0.1], "W1": [np.eye(2)], "h_2": [3.0],
}


def values_for(g, pick: int) -> dict:
    at = {}
    for name in g.leaves:
        if g.node(name).default is None:
            options = VALUES.get(name, [1.0])
            at[name] = options[pick % len(options)]
    return at


# --- the pipeline -------------------------------------------------------------------------------------------

def pipeline(text: str, pick: int = 0, deep: bool = True):
    """Run every stage; return the stage reached. Anything but InputError propagates."""
    FUZZ_STATS["programs tried"] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)       # NumPy noise would reach the CLI's stderr
        try:
            g = gbp.parse(text, limits=LIMITS)
        except InputError as exc:
            _check_error(exc)
            FUZZ_STATS["refused by parse"] += 1
            return "parse"
        FUZZ_STATS["parsed"] += 1
        at = values_for(g, pick)
        from graphviz_bp.showing.render import render
        _tolerated("render", text, lambda: render(g).source)     # symbolic picture: no values needed
        try:
            values = g.evaluate(at=at)
        except InputError as exc:
            _check_error(exc)
            return "evaluate"
        assert set(values) == {n.name for n in g.nodes}
        FUZZ_STATS["evaluated"] += 1
        _tolerated("render", text, lambda: render(g, at=at, show="all").source)
        try:
            r = g.reverse(at=at, record=True)
            grads = g.gradients(at=at)
        except InputError as exc:
            _check_error(exc)
            return "reverse"
        FUZZ_STATS["differentiated"] += 1
        for name, grad in grads.items():
            assert np.shape(grad) == np.shape(values[name]), name
        for step in r.steps[:30]:
            step.equation()
        if deep and len(g.nodes) <= 40:
            for method in ("forward", "paths"):
                try:
                    other = g.gradients(at=at, method=method)
                except InputError as exc:
                    _check_error(exc)
                    continue
                for name in grads:
                    a, b = np.asarray(grads[name], float), np.asarray(other[name], float)
                    if np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(np.abs(a) < 1e100):
                        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9 * (1 + np.max(np.abs(a))),
                                                   err_msg=f"{method} ≠ reverse for {name} in {text!r}")
            for leaf in g.leaves[:2]:
                n = gbp.count_paths(g, leaf)
                listed = list(islice(gbp.derivative_paths(g, leaf, at=at), 30))
                assert len(listed) == min(n, 30)
                for p in listed[:5]:
                    p.factors, p.value
            from graphviz_bp.showing.explain import explain
            _tolerated("explain", text, lambda: explain(g, at=at))
            _tolerated("scalar_view", text, lambda: gbp.scalar_view(g, at=at))
            if len(g.nodes) <= 12:
                try:
                    gbp.symbolic_gradients(g)
                except InputError as exc:
                    _check_error(exc)
            _tolerated("render", text, lambda: render(g, at=at, show="all", step=1).source)
        FUZZ_STATS["through every stage"] += 1
        return "done"


def _tolerated(stage, text, call):
    """Run a drawing/writing stage: InputError is fine; a NumPy RuntimeWarning there (it would
    reach the CLI's stderr) is counted and its first example kept for the report, not failed on:
    those modules belong to other people (render/labels, explain, scalar_view)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = _allowed(call)
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            FUZZ_STATS[f"RuntimeWarning in {stage}"] += 1
            FUZZ_NOTES.setdefault(f"{stage}: {w.filename.rsplit('/', 1)[-1]}:{w.lineno}: {w.message}", text)
    return result


def _allowed(call):
    try:
        return call()
    except InputError as exc:
        _check_error(exc)


def _check_error(exc: InputError):
    assert isinstance(exc, InputError)
    assert exc.kind in ("syntax", "name", "shape", "value", "limit", "usage"), exc.kind
    text = str(exc)
    assert text and "Traceback" not in text
    assert exc.line is None or exc.line >= 1


# --- default run: modest budgets ------------------------------------------------------------------------------

@settings(max_examples=100, **DEFAULT_BUDGET)
@given(text=texts())
@example(text="\\frac{1}{0}")
@example(text="x = 0\nf = log(x)")
@example(text="f = f + 1")
def test_random_text_is_a_result_or_an_input_error(text):
    pipeline(text)


@pytest.mark.slow
@settings(max_examples=100, **DEFAULT_BUDGET)
@given(text=programs(), pick=st.integers(0, 4))
@example(text="x = 1\nf = inv(x)", pick=0)
@example(text="x = [[1, 2]]\nf = sum(conv2d(x, [[1, 2, 3]]))", pick=0)
def test_grammar_programs_are_a_result_or_an_input_error(text, pick):
    pipeline(text, pick)


@pytest.mark.fuzz
@settings(**DEFAULT_BUDGET)
@given(text=texts())
def test_fuzz_random_text(text):
    pipeline(text)


@pytest.mark.fuzz
@settings(**DEFAULT_BUDGET)
@given(text=programs(), pick=st.integers(0, 4))
def test_fuzz_grammar_programs(text, pick):
    pipeline(text, pick)


# --- properties: reverse = forward = paths = finite differences ---------------------------------------------------
# smooth operations only, and kinks avoided by construction (no abs/relu/max/sign; positive bases;
# denominators bounded away from 0; log of 1 + e²)

SMOOTH_UNARY = ["sin({})", "cos({})", "tanh({})", "sigmoid({})", "σ({})", "softplus({})", "exp(tanh({}))",
                "log(1 + ({})^2)", "sqrt(2 + sin({}))", "({})^2", "({})^3", "-({})", "(0.5({}))", "(-2({}))",
                "(1.5 + sin({}))^1.5"]
SMOOTH_BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (2 + cos({}))", "{}·{}",
                 "(1.5 + tanh({}))^(sin({}))", "{} / (1 + ({})^2)"]


@st.composite
def smooth_programs(draw):
    """A random expression tree over x, y, z with shared subexpressions (named lines reused)."""
    names = ["x", "y", "z"]

    def tree(depth):
        if depth == 0 or draw(st.integers(0, 3)) == 0:
            return draw(st.sampled_from(names + ["0.5", "2"]))
        if draw(st.booleans()):
            return draw(st.sampled_from(SMOOTH_UNARY)).format(tree(depth - 1))
        t = draw(st.sampled_from(SMOOTH_BINARY))
        return t.format(tree(depth - 1), tree(depth - 1))
    lines = []
    for k in range(draw(st.integers(1, 4))):
        lines.append(f"t{k} = {tree(draw(st.integers(1, 3)))}")
        names.append(f"t{k}")
    lines.append(f"f = {tree(3)} + {names[-1]}")
    return "\n".join(lines)


def central_difference(g, at, name):
    def f(value):
        return g.evaluate(at={**at, name: value})[g.output]
    x = at[name]

    def richardson(h):           # two central differences, extrapolated: O(h⁴)
        d1 = (f(x + h) - f(x - h)) / (2 * h)
        d2 = (f(x + h / 2) - f(x - h / 2)) / h
        return (4 * d2 - d1) / 3
    # the estimate and how far it can be off: a function that turns fast (sin(y + 8y³) near y = 2)
    # has large higher derivatives, and its differences are good to fewer digits; one that oscillates
    # faster than h (sin((2x)⁶) at x = 2: period 5e-4) aliases at h and h/2 alike. So a ladder of
    # steps, and the pair of neighbouring steps that agree best
    s = max(1.0, abs(x))
    ladder = [richardson(h * s) for h in (2e-3, 1e-3, 2e-4, 1e-4, 2e-5, 1e-5)]
    gap, k = min((abs(ladder[k + 1] - ladder[k]), k) for k in range(len(ladder) - 1))
    return ladder[k + 1], gap


def check_agreement(text, x, y, z):
    FUZZ_STATS["smooth programs checked"] += 1
    g = gbp.parse(text)
    at = {k: v for k, v in {"x": x, "y": y, "z": z}.items() if k in g.leaves}
    assume(at)
    value = g.evaluate(at=at)[g.output]
    assume(math.isfinite(value) and abs(value) < 1e6)
    rev = g.gradients(at=at)
    fwd = g.gradients(at=at, method="forward")
    paths = g.gradients(at=at, method="paths")
    for name in at:
        scale = max(1.0, abs(rev[name]), abs(value))
        assert fwd[name] == pytest.approx(rev[name], rel=1e-9, abs=1e-12 * scale), (name, text)
        assert paths[name] == pytest.approx(rev[name], rel=1e-9, abs=1e-12 * scale), (name, text)
        total = math.fsum(p.value for p in gbp.derivative_paths(g, name, at=at))
        assert total == pytest.approx(rev[name], rel=1e-9, abs=1e-12 * scale), (name, text)
        fd, fd_error = central_difference(g, at, name)
        assert abs(fd - rev[name]) <= 1e-5 * scale + 10 * fd_error, (name, fd, fd_error, rev[name], text)


COORD = st.floats(-2, 2, allow_nan=False).filter(lambda t: abs(t) > 1e-3 or t == 0)


@pytest.mark.slow
@settings(max_examples=80, **DEFAULT_BUDGET)
@given(text=smooth_programs(), x=COORD, y=COORD, z=COORD)
@example(text="f = x^2 + x*y + (x + y)^2", x=1.0, y=2.0, z=0.0)
def test_reverse_forward_paths_and_finite_differences_agree(text, x, y, z):
    check_agreement(text, x, y, z)


@pytest.mark.fuzz
@settings(**DEFAULT_BUDGET)
@given(text=smooth_programs(), x=COORD, y=COORD, z=COORD)
def test_fuzz_reverse_forward_paths_and_finite_differences_agree(text, x, y, z):
    check_agreement(text, x, y, z)


def test_fuzz_tests_are_skipped_by_default(request):
    from conftest import fuzz_requested
    if not fuzz_requested(request.config):
        marks = [m.name for m in test_fuzz_grammar_programs.pytestmark]
        assert "fuzz" in marks
