"""prove / facts: the seeds' "show that" items, each verdict checked against NumPy/math here.

Independent computation: every claim is evaluated in this file with ``math``/NumPy (derivatives
by central differences), and every link of a proof chain is evaluated with SymPy's ``lambdify``
at random points and compared with the left side computed here.
"""
from __future__ import annotations

import functools
import math
import random

import numpy as np
import pytest

from graphviz_bp.algorithms.facts import function_facts as _facts
from graphviz_bp.algorithms.prove import prove as _prove, prove_exprs

# generous SymPy time-outs: the verdicts below must not depend on how busy the machine is
prove = functools.partial(_prove, timeout=60)
function_facts = functools.partial(_facts, timeout=60)
from graphviz_bp.core.errors import InputError


def sig(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def softplus(x):
    return max(x, 0) + math.log1p(math.exp(-abs(x)))


def sign(x):
    return (x > 0) - (x < 0)


def d(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


POINTS = [-7.3, -2.0, -0.4, 0.3, 1.0, 2.5, 6.1]


def _chain_is_equal(verdict, lhs_numeric, points=POINTS):
    """Every expression of the chain equals the left side (computed here) at every point."""
    import sympy as sp
    from graphviz_bp.algorithms.prove import expand_definitions, numeric
    for step in verdict.chain:
        e = step.expr
        if isinstance(e, sp.Equality):        # a case of a proof by cases
            continue
        syms = sorted(e.free_symbols, key=lambda s: s.name)
        for x in points:
            if "u" in [s.name for s in syms]:  # the substitution u = e^{x/k}: compare in x
                continue
            env = {s: x for s in syms}
            got = numeric(e, env)
            assert got is not None
            assert float(got) == pytest.approx(lhs_numeric(x), rel=1e-7, abs=1e-9), (step.note, str(e), x)


# --- seed 001 question 1 ---------------------------------------------------------------

SEED_001 = [
    (r"$sigmoid(x) = \frac{1}{2}(tanh(\frac{1}{2}x) + 1)$", lambda x: sig(x), lambda x: 0.5 * (math.tanh(x / 2) + 1)),
    (r"$\ln sigmoid(x) = -softplus(-x)$", lambda x: math.log(sig(x)), lambda x: -softplus(-x)),
    (r"$\frac{d \ sigmoid}{dx}(x) = sigmoid(x)(1 - sigmoid(x))$", lambda x: d(sig, x), lambda x: sig(x) * (1 - sig(x))),
    (r"$tanh'(x) = 1 - tanh^2(x)$", lambda x: d(math.tanh, x), lambda x: 1 - math.tanh(x) ** 2),
    (r"$sign(x) = \mathbb{1}_{\{x > 0\}}(x) - \mathbb{1}_{\{x < 0\}}(x)$", sign, lambda x: (x > 0) - (x < 0)),
    ("abs'(x) = sign(x)", lambda x: d(abs, x), sign),
]


@pytest.mark.parametrize("claim, lhs, rhs", SEED_001, ids=["sigma_tanh", "ln_sigma", "sigma_prime", "tanh_prime",
                                                           "sign_indicators", "abs_prime"])
@pytest.mark.slow
def test_seed_001_question_1_is_proved(claim, lhs, rhs):
    v = prove(claim)
    assert v.status == "proved", (v.status, v.note)
    assert v.chain
    for x in POINTS + [0.0, 30.0, -30.0]:
        if x == 0.0 and "abs'" in claim:
            continue                           # the kink: the convention abs'(0) = sign(0) = 0
        assert lhs(x) == pytest.approx(rhs(x), rel=1e-7, abs=1e-9)
    _chain_is_equal(v, lhs if "sign(x) =" not in claim else sign)


# --- seed 002 §2 ex. 1 (f(t) = e^t/(1 + e^t)) and §5.1 -----------------------------------------

F = r"$f(t) = \frac{e^t}{1+e^t}$. "


def f_(t):
    return math.exp(t) / (1 + math.exp(t)) if t < 0 else 1 / (1 + math.exp(-t))


SEED_002 = [
    (F + "Show that $f(-t) = 1 - f(t)$", lambda t: f_(-t), lambda t: 1 - f_(t)),
    (F + "$f'(-t) = f'(t)$", lambda t: d(f_, -t), lambda t: d(f_, t)),
    (F + "$f'(t) = f(t)(1 - f(t))$", lambda t: d(f_, t), lambda t: f_(t) * (1 - f_(t))),
    (F + r"$\frac{d \ln f(t)}{dt} = f(-t)$", lambda t: d(lambda s: math.log(f_(s)), t), lambda t: f_(-t)),
]


@pytest.mark.slow
@pytest.mark.parametrize("claim, lhs, rhs", SEED_002, ids=["symmetry", "prime_even", "prime_self", "dlog"])
def test_seed_002_section_2_relations_are_proved(claim, lhs, rhs):
    v = prove(claim)
    assert v.status == "proved", (v.status, v.note)
    for t in POINTS:
        assert lhs(t) == pytest.approx(rhs(t), rel=1e-7, abs=1e-9)
    _chain_is_equal(v, lhs)


def test_two_neuron_net_is_linear_in_x():
    """Seed 002 §1 ex. 1: w1·h1 + w2·h2 with h_i = w1i + w2i·x is γ1 + γ2·x."""
    claim = "w1*(w11 + w21*x) + w2*(w12 + w22*x) = (w1*w11 + w2*w12) + (w1*w21 + w2*w22)*x"
    v = prove(claim)
    assert v.status == "proved"
    rng = np.random.default_rng(1)
    for _ in range(5):
        w1, w2, w11, w12, w21, w22, x = rng.normal(size=7)
        assert w1 * (w11 + w21 * x) + w2 * (w12 + w22 * x) == pytest.approx(
            (w1 * w11 + w2 * w12) + (w1 * w21 + w2 * w22) * x)


def test_a_nonlinear_net_is_not_linear():
    v = prove("w1*sigmoid(w11 + w21*x) = w1*w11 + w1*w21*x")
    assert v.status == "false"
    at = v.counterexample["at"]
    lhs = at["w1"] * sig(at["w11"] + at["w21"] * at["x"])
    rhs = at["w1"] * at["w11"] + at["w1"] * at["w21"] * at["x"]
    assert lhs != pytest.approx(rhs)
    assert v.counterexample["lhs"] == pytest.approx(lhs, rel=1e-9)


# --- seed 001 question 2 items 3 and 4 (vectors) ------------------------------------------------

def _softmax(o):
    e = np.exp(o - o.max())
    return e / e.sum()


@pytest.mark.slow
def test_softmax_sums_to_one_and_is_positive():
    v = prove("sum(softmax(o)) = 1")
    assert v.status == "holds numerically" and "proved symbolically" in v.note
    assert prove("softmax(o) > 0").status == "holds numerically"
    rng = np.random.default_rng(2)
    for n in (2, 3, 6):
        o = rng.normal(size=n) * 5
        assert _softmax(o).sum() == pytest.approx(1.0) and (_softmax(o) > 0).all()


@pytest.mark.slow
def test_cross_entropy_is_logsumexp_minus_the_true_score():
    v = prove("-log(softmax(o)[1]) = logsumexp(o) - o[1]")
    assert v.status == "holds numerically" and "proved symbolically" in v.note
    o = np.array([0.3, -1.2, 2.0])
    assert -math.log(_softmax(o)[1]) == pytest.approx(math.log(np.exp(o).sum()) - o[1])


# --- false claims and bad input ----------------------------------------------------------

@pytest.mark.parametrize("claim, lhs, rhs", [
    ("sigmoid(x) = tanh(x)", sig, math.tanh),
    ("sigmoid(-x) = sigmoid(x)", lambda x: sig(-x), sig),
    ("tanh'(x) = 1 - tanh(x)", lambda x: d(math.tanh, x), lambda x: 1 - math.tanh(x)),
])
def test_false_claims_give_a_counterexample(claim, lhs, rhs):
    v = prove(claim)
    assert v.status == "false"
    (x,) = v.counterexample["at"].values()
    assert lhs(x) != pytest.approx(rhs(x), abs=1e-6)
    assert v.counterexample["lhs"] == pytest.approx(lhs(x), rel=1e-5, abs=1e-9)


def test_a_claim_that_holds_only_numerically_is_not_called_proved():
    import sympy as sp
    x = sp.Symbol("x", real=True)
    v = prove_exprs(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1), timeout=1e-4)
    assert v.status in ("holds numerically", "proved")
    assert v.points > 40
    for t in POINTS:
        assert math.sin(t) ** 2 + math.cos(t) ** 2 == pytest.approx(1.0)


@pytest.mark.parametrize("text, words", [
    ("sigmoid(x)", "not an equation"),
    ("", "no claim"),
    ("g(t) = 1 - g(-t)", "define it first"),
    ("x = ", "empty side"),
    ("log(x - 1e9) = x", "not both defined"),
    ("x = = 1", "nothing between two relation signs"),
    ("W @ x = x", "matmul is not read in a claim"),
])
def test_bad_claims_are_one_clear_error(text, words):
    with pytest.raises(InputError) as exc:
        prove(text)
    assert words in str(exc.value)
    assert "\n" not in str(exc.value)


# --- facts (seed 002 §2 ex. 1, §5.1) ------------------------------------------------------------

def _fact(ff, start):
    (f,) = [f for f in ff.facts if f.what.startswith(start)]
    assert f.ok
    return f


@pytest.mark.slow
def test_sigmoid_facts_against_math():
    ff = function_facts(r"$f(t) = \frac{e^t}{1+e^t}$")
    assert float(_fact(ff, "f(0)").value) == pytest.approx(f_(0.0)) == 0.5
    assert float(_fact(ff, "f′(0)").value) == pytest.approx(d(f_, 0.0)) == pytest.approx(0.25)
    assert float(_fact(ff, "ln f(0)").value) == pytest.approx(math.log(0.5))
    assert float(_fact(ff, "lim t→+∞").value) == pytest.approx(f_(700.0)) == 1.0
    assert float(_fact(ff, "lim t→−∞").value) == pytest.approx(f_(-700.0), abs=1e-300) == 0.0
    mx = _fact(ff, "max f′")
    grid = np.linspace(-10, 10, 200001)
    dv = np.array([d(f_, t) for t in grid[::100]])
    assert float(mx.value) == pytest.approx(dv.max(), rel=1e-6) == pytest.approx(0.25)
    assert float(mx.where) == pytest.approx(grid[::100][dv.argmax()], abs=1e-2)
    inv = _fact(ff, "f⁻¹")
    import sympy as sp
    g = sp.lambdify(sp.Symbol("t", real=True), inv.value)
    for y in (0.01, 0.2, 0.5, 0.9, 0.999):
        assert f_(float(g(y))) == pytest.approx(y)
        assert float(g(y)) == pytest.approx(math.log(y / (1 - y)))
    assert "f(−t) = 1 − f(t)" in _fact(ff, "symmetry of f ").value if any(
        x.what == "symmetry of f " for x in ff.facts) else True
    rels = [f.value for f in ff.facts if f.ok]
    assert "f(−t) = 1 − f(t)" in rels and "f′(−t) = f′(t)" in rels
    assert "f′(t) = f(t)·(1 - f(t))" in rels and "d ln f(t)/dt = f(−t)" in rels


@pytest.mark.slow
def test_tanh_facts_against_math():
    ff = function_facts("tanh(t)")
    mx = _fact(ff, "max tanh′")
    assert float(mx.value) == pytest.approx(max(d(math.tanh, t) for t in np.linspace(-5, 5, 1001))) == 1.0
    assert float(_fact(ff, "lim t→+∞").value) == math.tanh(50.0)
    assert float(_fact(ff, "lim t→−∞").value) == math.tanh(-50.0)
    rels = [f.value for f in ff.facts if f.ok]
    assert "tanh′(t) = 1 - tanh(t)^2" in rels and "tanh(−t) = −tanh(t)" in rels
    from graphviz_bp.showing.proof import facts_text
    assert "tanh′(t) = 1 - tanh(t)²" in facts_text(ff, "md")           # shown as on paper
    import sympy as sp
    g = sp.lambdify(sp.Symbol("t", real=True), _fact(ff, "tanh⁻¹").value)
    for y in (-0.9, 0.0, 0.5):
        assert float(g(y)) == pytest.approx(math.atanh(y))


@pytest.mark.slow
def test_sigma_prime_maximum_is_a_quarter():
    """Seed 002 §5.1 ex. 1: the largest σ′ is 1/4, at 0."""
    ff = function_facts("sigmoid(t)")
    mx = _fact(ff, "max sigmoid′")
    best = max(sig(t) * (1 - sig(t)) for t in np.linspace(-20, 20, 40001))
    assert float(mx.value) == pytest.approx(best) and float(mx.where) == 0.0


def test_facts_refuse_two_variables():
    with pytest.raises(InputError):
        function_facts("x*y")


@pytest.mark.slow
def test_random_identities_of_sigmoid_agree_with_numbers():
    """Random affine arguments: σ(a·x + b) = 1 − σ(−a·x − b) is proved, and a shifted claim is false."""
    rng = random.Random(3)
    for _ in range(3):
        a, b = rng.randint(1, 4), rng.randint(-3, 3)
        assert prove(f"sigmoid({a}*x + {b}) = 1 - sigmoid(-{a}*x - {b})").status == "proved"
        v = prove(f"sigmoid({a}*x + {b}) = 1 - sigmoid(-{a}*x + {b + 1})")
        assert v.status == "false"
        (x,) = v.counterexample["at"].values()
        assert sig(a * x + b) != pytest.approx(1 - sig(-a * x + b + 1))


def test_a_sympy_time_out_falls_back_to_numbers():
    """The rewriting is interrupted (SIGALRM, main thread): the verdict is 'holds numerically', not a hang."""
    v = prove(r"$sigmoid(x) = \frac{1}{2}(tanh(\frac{1}{2}x) + 1)$", timeout=1e-4)
    assert v.status == "holds numerically" and "ran past" in v.note
    for x in POINTS:
        assert sig(x) == pytest.approx(0.5 * (math.tanh(x / 2) + 1))


# --- the command line ---------------------------------------------------------------------------

def _cli(*args, stdin=None):
    import subprocess
    import sys
    if args and args[0] in ("prove", "facts"):
        args = (*args, "--timeout", "60")           # verdicts must not depend on the machine's load
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True,
                          timeout=300, input=stdin)


def test_proof_in_markdown_keeps_the_numeric_check_out_of_the_last_step():
    # the dashboard: the check line ran on after the last bullet ("… = 1 − σ(t) — definitions … checked
    # numerically at 59 points …"), and reasons showed e^{−u} with its braces
    from graphviz_bp.algorithms.prove import prove
    from graphviz_bp.showing.proof import verdict_text
    md = verdict_text(prove("sigmoid(-t) = 1 - sigmoid(t)"), fmt="md")
    lines = md.split("\n")
    check = next(i for i, line in enumerate(lines) if line.startswith("checked numerically"))
    assert lines[check - 1] == "" and lines[check - 2].startswith("- $=")
    reasons = [line.split(" — ", 1)[1] for line in lines if " — " in line]
    assert "definitions: σ(u) = 1/(1 + e⁻ᵘ)" in reasons and not any("^{" in r for r in reasons)


@pytest.mark.slow
def test_cli_prove_exit_status_and_formats():
    import json
    r = _cli("prove", "sigmoid(-t) = 1 - sigmoid(t)")
    assert r.returncode == 0 and r.stdout.startswith("proved") and "u = eᵗ" in r.stdout   # as on paper
    assert "σ(u) = 1/(1 + e⁻ᵘ)" in r.stdout and "^{" not in r.stdout
    r = _cli("prove", "sigmoid(x) = tanh(x)", "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    (x,) = doc["counterexample"]["at"].values()
    assert doc["status"] == "false" and sig(x) != pytest.approx(math.tanh(x))
    r = _cli("prove", r"$\ln \sigma(x) = -\operatorname{softplus}(-x)$", "--format", "tex")
    assert r.returncode == 0 and r"\begin{align*}" in r.stdout and r"\operatorname{softplus}" in r.stdout
    r = _cli("prove", "-", stdin="f(t) = exp(t)/(1 + exp(t))\nf'(t) = f(t)*(1 - f(t))\n")
    assert r.returncode == 0 and r.stdout.startswith("proved")


@pytest.mark.slow
@pytest.mark.parametrize("args", [("prove", "sigmoid(x)"), ("prove",), ("prove", "g(t) = 2"),
                                  ("facts", "x*y"), ("prove", "log(x - 1e9) = x")])
def test_cli_bad_input_is_one_line_exit_2(args):
    r = _cli(*args)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("graphviz-bp: error:")
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_cli_facts():
    import json
    r = _cli("facts", "sigmoid(t)", "--json")
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    facts = {f["what"]: f for f in doc["facts"]}
    assert facts["max sigmoid′"]["value"] == "1/4" and facts["max sigmoid′"]["where"] == "0"
    assert facts["sigmoid⁻¹(t)"]["value"] == "log(t/(1 - t))"
    assert all(f["ok"] for f in doc["facts"])
    r = _cli("facts", "tanh(t)")
    assert r.returncode == 0 and "max tanh′: 1 at t = 0" in r.stdout


# --- the dashboard panel ------------------------------------------------------------------------

def _panel_script():
    import streamlit as st

    from graphviz_bp.app.panel_prove import show_prove_panel
    show_prove_panel(st, "x = [1, 2]\ny = [2, 3]\nL = sum((y - w*x)^2)", key="p")


@pytest.mark.slow
def test_panel_proves_solves_and_counts(monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("GRAPHVIZ_BP_WORKERS", "0")          # in the test's process: no fork server
    at = AppTest.from_function(_panel_script, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("no value for input 'w'" in c.value for c in at.caption)   # counts need every value
    at.text_area(key="p_claim").input("sigmoid(-t) = 1 - sigmoid(t)").run()
    assert [s.value for s in at.success] == ["Proved."]
    at.text_area(key="p_claim").input("sigmoid(t) = tanh(t)").run()
    assert any(e.value.startswith("False") for e in at.error)
    at.text_input(key="p_wrt").input("w").run()
    at.button(key="p_solve").click().run()
    md = "\n".join(m.value for m in at.markdown)
    assert "w = 1.6" in md and "positive definite" in md                 # Σxy/Σx² = 8/5
    at.text_input(key="p_fn").input("sigmoid(t)").run()
    assert "1/4" in "\n".join(m.value for m in at.markdown) or r"\frac{1}{4}" in "\n".join(m.value for m in at.markdown)
    at.text_area(key="p_claim").input("sigmoid(x)").run()
    assert any("not an equation" in e.value for e in at.error)


def _panel_counts_script():
    import streamlit as st

    from graphviz_bp.app.panel_prove import show_prove_panel
    show_prove_panel(st, "W = [[1, 2, 3], [4, 5, 6]]\nb = [[1], [2]]\nx = [[1], [0], [1]]\nL = sum(W @ x + b)",
                     key="q")


def test_panel_counts_the_parameters(monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("GRAPHVIZ_BP_WORKERS", "0")
    at = AppTest.from_function(_panel_counts_script, default_timeout=120)
    at.run()
    assert not at.exception
    md = "\n".join(m.value for m in at.markdown)
    assert f"**{2 * 3 + 2} scalar parameters**" in md and "W (2×3): 6" in md


SEED_001_PASTED = [
    # as the sheet prints them: numbering, French prose, the claim half outside $…$, the worked
    # solution pasted after it (not read: the claim is the first equation that defines nothing)
    (r"1. Montrer que sigmoid(x) = $\frac{1}{2}(tanh(\frac{1}{2}x) + 1)$" "\n\n"
     r"$$sigmoid(x) = \frac{1}{2}(tanh(\frac{1}{2}x) + 1) \iff 2sigmoid(x) - 1 = tanh(\frac{x}{2})$$",
     lambda x: sig(x), lambda x: 0.5 * (math.tanh(x / 2) + 1)),
    (r"2. Montrer que $\ln sigmoid(x) = -softplus(-x)$" "\n\n"
     r"$$\ln sigmoid(x) = \ln \frac{1}{1 + exp(-x)} = \ln(1) - \ln(1 + exp(-x)) = -softplus(-x)$$",
     lambda x: math.log(sig(x)), lambda x: -softplus(-x)),
    ("3. Montrer que\n$$\\frac{d \\ sigmoid}{dx}(x) = sigmoid(x)(1 - sigmoid(x))$$",
     lambda x: d(sig, x), lambda x: sig(x) * (1 - sig(x))),
    (r"4. Montrer que la dérivée de tanh est : $tanh'(x) = 1 - tanh^2(x)$",
     lambda x: d(math.tanh, x), lambda x: 1 - math.tanh(x) ** 2),
    (r"$\frac{d|x|}{dx} = sign(x)$", lambda x: d(abs, x), sign),
]


@pytest.mark.slow
@pytest.mark.parametrize("text, lhs, rhs", SEED_001_PASTED, ids=["q1_1", "q1_2", "q1_3", "q1_4", "q1_6"])
def test_seed_001_as_pasted(text, lhs, rhs):
    v = prove(text)
    assert v.status == "proved", (v.claim, v.note)
    for x in POINTS:
        assert lhs(x) == pytest.approx(rhs(x), rel=1e-7, abs=1e-9)
        assert float(__import__("graphviz_bp.algorithms.prove", fromlist=["numeric"]).numeric(
            v.lhs, {s: x for s in v.lhs.free_symbols})) == pytest.approx(lhs(x), rel=1e-6, abs=1e-9)


@pytest.mark.slow
def test_hard_timeouts_nest():
    """An inner time-out ends without disarming the outer one; an outer one fires inside an inner."""
    import signal
    import time
    from graphviz_bp.algorithms.prove import hard_timeout
    from graphviz_bp.core.errors import LimitError
    t = time.monotonic()
    with pytest.raises(LimitError):
        with hard_timeout(0.5):
            with hard_timeout(0.1):
                pass
            while time.monotonic() - t < 5:
                pass
    assert time.monotonic() - t < 2
    t = time.monotonic()
    with pytest.raises(LimitError):
        with hard_timeout(0.3):
            with hard_timeout(10):
                while time.monotonic() - t < 5:
                    pass
    assert time.monotonic() - t < 2 and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_name_used_as_a_vector_is_a_vector_on_both_sides():
    v = prove("sum(softmax(o)) = o")
    assert v.status == "false"
    at = v.counterexample["at"]
    assert set(at) == {"o_0", "o_1", "o_2"}                 # no scalar o beside the vector o
    o = np.array([at["o_0"], at["o_1"], at["o_2"]])
    assert _softmax(o).sum() == pytest.approx(1.0) != pytest.approx(v.counterexample["rhs"])


def test_every_shown_step_is_checked_by_the_tool():
    """_first_wrong_step finds a wrong link (here e^{-x} written e^{x}) and accepts the real chain."""
    import sympy as sp
    from graphviz_bp.algorithms.prove import Step, _first_wrong_step
    v = prove(r"$\ln \sigma(x) = -\operatorname{softplus}(-x)$")
    assert _first_wrong_step(v.chain, v.lhs, None, 0) is None
    x = sp.Symbol("x", real=True)
    bad = list(v.chain)
    bad.insert(1, Step(-sp.log(1 + sp.exp(x)), "a slip"))
    assert _first_wrong_step(bad, v.lhs, None, 0) == 1
    assert math.log(sig(1.0)) != pytest.approx(-math.log(1 + math.exp(1.0)))


@pytest.mark.slow
def test_seed_002_section_5_1_tanh_as_the_sheet_defines_it():
    """f(t) = 2/(1 + e^{−2t}) − 1: limits ±1, f′ = 1 − f², max f′ = 1 at 0, f⁻¹ = atanh."""
    ff = function_facts(r"$f(t) = \frac{2}{1+e^{-2t}} - 1$")
    f = lambda t: 2 / (1 + math.exp(-2 * t)) - 1         # noqa: E731
    assert float(_fact(ff, "lim t→+∞").value) == pytest.approx(f(40.0)) == pytest.approx(math.tanh(40.0))
    assert float(_fact(ff, "lim t→−∞").value) == pytest.approx(f(-40.0))
    mx = _fact(ff, "max f′")
    assert float(mx.value) == pytest.approx(max(d(f, t) for t in np.linspace(-3, 3, 601))) and float(mx.where) == 0
    assert "f′(t) = 1 - f(t)^2" in [x.value for x in ff.facts if x.ok]
    for t in POINTS:
        assert d(f, t) == pytest.approx(1 - f(t) ** 2, rel=1e-5, abs=1e-9)   # central differences
    import sympy as sp
    g = sp.lambdify(sp.Symbol("t", real=True), _fact(ff, "f⁻¹").value)
    for y in (-0.7, 0.2, 0.95):
        assert float(g(y)) == pytest.approx(math.atanh(y))


@pytest.mark.parametrize("claim", ["e^t/(1+e^t) = sigmoid(t)", "2e^x = 2*exp(x)", "e^x*e^y = e^(x + y)"])
def test_a_lone_e_in_a_plain_claim_is_eulers_number_and_says_so(claim):
    # before: "false, counterexample at e = 4.72876" (e read as a variable, in silence)
    from graphviz_bp.algorithms.prove import prove
    v = prove(claim)
    assert v.status == "proved" and v.note.startswith("read as: e is Euler's number")
    x = 0.37                                            # the claim itself, checked with math
    lhs = {"e^t/(1+e^t) = sigmoid(t)": math.e ** x / (1 + math.e ** x), "2e^x = 2*exp(x)": 2 * math.e ** x}
    if claim in lhs:
        assert lhs[claim] == pytest.approx(sig(x) if "sigmoid" in claim else 2 * math.exp(x))


def test_e_of_a_number_and_names_with_e_are_not_eulers_number():
    from graphviz_bp.algorithms.prove import prove
    assert prove("x*1e-3 = x/1000").note in ("", None)
    v = prove("e1*x = x*e1")                              # a variable named e1
    assert v.status == "proved" and "Euler" not in (v.note or "")


@pytest.mark.parametrize("claim", [
    "f(t) = e^t/(1+e^t); f'(t) = f(t)(1 - f(t))",          # the README's example (before: 'zq1' unknown)
    "sigmoid'(x) = sigmoid(x)(1 - sigmoid(x))",            # seed 001 as written (before: "unexpected '('")
    r"$\sigma'(x) = \sigma(x)(1 - \sigma(x))$",
    r"$f(t) = \frac{e^t}{1+e^t}$. Show that $f'(t) = f(t)(1 - f(t))$",
])
def test_products_written_by_juxtaposition_after_a_call(claim):
    from graphviz_bp.algorithms.prove import prove
    v = prove(claim)
    assert v.status == "proved", (v.status, v.note)
    # σ′ = σ(1 − σ) checked by central differences, independently of the tool
    for x in (-2.0, 0.3, 4.0):
        h = 1e-6
        assert (sig(x + h) - sig(x - h)) / (2 * h) == pytest.approx(sig(x) * (1 - sig(x)), rel=1e-6)


def test_no_placeholder_name_reaches_a_message():
    from graphviz_bp.algorithms.prove import prove
    with pytest.raises(InputError) as info:
        prove("f(t) = e^t/(1+e^t); f'(t) = g(t)(1 - f(t))")
    assert "zq" not in str(info.value)


@pytest.mark.parametrize("claim", ["f(e) = e^2; f'(e) = 2e", "$f(e) = e^2$; $f'(e) = 2e$", "d/de(e^2) = 2e",
                                   r"$\frac{d}{de} e^2 = 2e$"])
def test_e_named_as_a_variable_is_that_variable_and_says_so(claim):
    # before: f(e) = e^2 read as exp(2), so f' = 0 and the claim 'false' (a wrong verdict)
    v = prove(claim)
    assert v.status == "proved", (v.status, v.note)
    assert v.note.startswith("read as: e is a variable")
    assert d(lambda e: e ** 2, 1.7) == pytest.approx(2 * 1.7)


@pytest.mark.parametrize("claim, lhs, rhs", [
    (r"$e \cdot e^x = e^{x+1}$", lambda x: math.e * math.exp(x), lambda x: math.exp(x + 1)),
    (r"$\ln e = 1$", lambda x: math.log(math.e), lambda x: 1.0),
    (r"$\ln \mathrm{e} + x = 1 + x$", lambda x: math.log(math.e) + x, lambda x: 1 + x),
])
def test_a_lone_e_in_latex_is_eulers_number_too(claim, lhs, rhs):
    # before: e^x was exp(x) but the lone e a variable, so e·e^x = e^{x+1} was 'false' at e = 4.73
    v = prove(claim)
    assert v.status == "proved" and v.note.startswith("read as: e is Euler's number")
    for x in (-1.0, 0.5, 2.0):
        assert lhs(x) == pytest.approx(rhs(x))


def test_an_e_glued_to_letters_in_latex_is_refused_when_ambiguous():
    with pytest.raises(InputError) as info:
        prove(r"$xe = x$")
    assert "glued" in str(info.value) and "zq" not in str(info.value)


def test_a_function_named_e_and_its_prime():
    v = prove("e(t) = t^2; e'(t) = 2t")          # before: "'zq1' is not a function defined above"
    assert v.status == "proved" and "Euler" not in (v.note or "")


@pytest.mark.parametrize("claim", [
    "e' = 1", "e(x) = 2", "f(t) = e^t/(1+e^t); f'(t) = g(t)(1 - f(t))", "e^t(1 - ) = 1", "e^2 + f'(x) = 1",
    "$e^t \\cdot (1 - ) = 1$", "1[x > 0] + e^(x = 2", "e^x*q(x) = 1", "sigmoid'(x, y) = 1", "e^t = foo'(t)",
])
def test_no_internal_name_in_any_refusal(claim):
    with pytest.raises(InputError) as info:
        prove(claim)
    assert "zq" not in str(info.value)


def test_verdict_text_of_relu_prime_and_of_a_claim_without_variables():
    from graphviz_bp.showing.proof import verdict_text
    text = verdict_text(prove("relu'(x) = 1[x > 0]"))          # before: AttributeError in the printer
    assert text.startswith("proved") and "ReLU" in text
    for x in (-1.0, 0.5, 3.0):                                   # ReLU′ = 1{x > 0} away from the kink
        assert d(lambda t: max(t, 0.0), x) == pytest.approx(float(x > 0))
    v = prove("e = 3")
    assert v.status == "false" and math.e != 3
    text = verdict_text(v)
    assert "counterexample: the left side is 2.718" in text and "at  " not in text and "E" not in text.split("\n")[0]


def test_a_derivative_at_a_kink_says_0_is_left_out():
    # relu′ and 1[x ≥ 0] agree at every test point but differ at 0 by the convention relu′(0) = 0:
    # the verdict must not claim 0 was checked
    from graphviz_bp.algorithms.prove import prove
    from graphviz_bp.showing.proof import verdict_text
    v = prove("relu'(x) = 1[x >= 0]")
    assert v.status == "holds numerically" and "0 is not among the test points" in v.note
    text = verdict_text(v)
    assert "(0, ±1" not in text and "(±1, ±30" in text
    assert "(0, ±1" in verdict_text(prove("sigmoid(-t) = 1 - sigmoid(t)"))
