"""graphviz_bp.showing.check: the first wrong step of a hand solution (issue #6, part 2)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from conftest import load_example as graph
from graphviz_bp import InputError
from graphviz_bp.showing.check import check

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "graphviz_bp" / "examples"
E1 = EX / "chain_rule_paths.txt"
E2 = EX / "l1_least_squares.txt"
E3 = EX / "relu_network_sgd.txt"


def by_lhs(report, lhs):
    return [c for c in report.claims if c.lhs == lhs]


# --- seed 000: step 2 computes X*W + Y ------------------------------------------------------------

@pytest.fixture(scope="module")
def seed000():
    return check(graph(E2), (EX / "l1_least_squares.answers").read_text(encoding="utf-8"))


def test_seed000_first_wrong_is_step_2(seed000):
    assert not seed000.ok
    head = seed000.claims[seed000.first_wrong]
    assert head.line == 2 and head.lhs == "X*W - Y"
    assert head.given.tolist() == [[-1, -3], [1, -1], [-2, -4]]
    assert head.expected.tolist() == [[-1, 1], [1, 3], [-2, 0]]
    assert head.slip is not None and "X*W + Y" in head.slip and "sign flip" in head.slip
    assert not head.inherited


def test_seed000_loss_and_gradient_inherit_the_error(seed000):
    (loss,) = by_lhs(seed000, "L")
    (grad,) = by_lhs(seed000, "grad W")
    for claim in (loss, grad):
        assert not claim.ok and claim.inherited and claim.follows    # 30 and [11, 19] come from X*W + Y
    assert loss.expected == 14 and grad.expected.tolist() == [[11, 3]]
    # steps the error does not reach stay right
    assert all(c.ok for c in seed000.claims if c.lhs in ("X*W", "||W||_1", "lambda*||W||_1", "grad ||W||_1"))


def test_seed000_text_says_step_2_first(seed000):
    first = seed000.text().splitlines()[0]
    assert first.startswith("line 2: X*W - Y is wrong")
    assert "expected [[-1, 1], [1, 3], [-2, 0]]" in first
    assert "given [[-1, -3], [1, -1], [-2, -4]]" in first
    assert "X*W + Y" in first


def test_seed000_json_shape(seed000):
    doc = seed000.to_json()
    assert set(doc) >= {"claims", "first_wrong", "ok"} and doc["ok"] is False
    json.dumps(doc)                                           # plain JSON: no NumPy inside
    claim = doc["claims"][doc["first_wrong"]]
    assert {"line", "lhs", "given", "expected", "ok", "slip", "inherited"} <= set(claim)
    assert claim["line"] == 2 and claim["expected"] == [[-1, 1], [1, 3], [-2, 0]]
    assert [c["lhs"] for c in doc["claims"] if c["inherited"]][-2:] == ["L", "grad W"]


def test_fully_right_answers_pass():
    report = check(graph(E2), (EX / "l1_least_squares_correct.answers").read_text(encoding="utf-8"))
    assert report.ok and report.first_wrong is None
    assert all(c.ok and c.slip is None and not c.inherited for c in report.claims)
    assert report.text().startswith("all ")


# --- seed 004: 1 - 0.1*(-18) written as 1.18 ------------------------------------------------------

@pytest.fixture(scope="module")
def seed004():
    return check(graph(E3), (EX / "relu_network_sgd.answers").read_text(encoding="utf-8"), sgd_lr=0.1)


def test_seed004_forward_and_backward_right_updates_wrong(seed004):
    assert all(c.ok for c in seed004.claims if c.kind in ("value", "grad"))
    updates = [c for c in seed004.claims if c.kind == "new" and c.element is not None]
    assert len(updates) == 3
    for c in updates:
        assert not c.ok and c.given == 1.18 and c.expected == pytest.approx(2.8)
        assert "decimal" in c.slip and "-1.8" in c.slip and "-0.18" in c.slip


def test_seed004_whole_matrices(seed004):
    want = {"new W3": [[-1, 2.8]], "new W2": [[-1, 1], [2.8, -1]], "new W1": [[2.8], [-1]]}
    for lhs, expected in want.items():
        (c,) = by_lhs(seed004, lhs)
        assert not c.ok and np.allclose(c.expected, expected) and "decimal" in c.slip


def test_seed004_first_wrong_is_the_first_update(seed004):
    head = seed004.claims[seed004.first_wrong]
    assert head.lhs == "new W3[0, 1]"
    assert seed004.text().splitlines()[0].startswith("line 22: new W3[0, 1] is wrong: expected 2.8, given 1.18")


def test_seed004_right_update_passes():
    report = check(graph(E3), "new W3 = [[-1, 2.8]]\nnew W2 = [[-1, 1], [2.8, -1]]\nnew W1[0, 0] = 2.8",
                   sgd_lr=0.1)
    assert report.ok


# --- matching the left side ---------------------------------------------------------------------------

@pytest.mark.parametrize("lhs", ["X*W - Y", "X * W-Y", "(X*W) - Y", "((X*W - Y))", "W*X - Y", "c"])
def test_lhs_matched_structurally(lhs):
    report = check(graph(E2), f"{lhs} = [[-1, 1], [1, 3], [-2, 0]]")
    assert report.ok and report.claims[0].node == graph(E2).index("c")


def test_lhs_commutative_names_and_constants():
    g = graph(E3)
    report = check(g, "(y - yhat)^2 = 9\n(y-yhat) ^ 2 = 9\nJ = [[9]]\nW2 @ h1 = [[-3], [3]]\nrelu(a1) = [[3], [0]]")
    assert report.ok
    e2 = check(graph(E2), "||W||_1*lambda = -2\n||X*W - Y||_2^2 + lambda*||W||_1 = 14")
    assert e2.ok


def test_alias_resolves():
    g = gbp.parse("x = 2\nh = x^2\nout = h\nf = 3*out")
    assert check(g, "out = 4\nh = 4\nf = 12\ngrad x = 12").ok


def test_element_claims():
    g = graph(E3)
    report = check(g, "W2[1, 0] = 1\ngrad W2[1, 0] = -18\nh1[0, 0] = 3")
    assert report.ok
    bad = check(g, "grad W2[1, 0] = 18")
    assert not bad.ok and bad.claims[0].expected == -18


def test_grad_of_an_intermediate_and_nabla():
    report = check(graph(E2), "grad X*W - Y = [[-2, 2], [2, 6], [-4, 0]]\n∇W = [[11, 3]]")
    assert report.ok


def test_comments_blank_lines_and_matrices_over_lines():
    text = "# my solution\n\nX*W - Y = [[-1, 1],\n           [1, 3],   # row 2\n           [-2, 0]]\n  L = 14  # done\n"
    report = check(graph(E2), text)
    assert report.ok and [c.line for c in report.claims] == [3, 6]


# --- bad input: InputError with line and column ----------------------------------------------------------

def test_unknown_name_is_an_input_error_with_position():
    with pytest.raises(InputError) as err:
        check(graph(E2), "X*W = [[-1, -1], [1, 1], [-2, -2]]\n  Q = 3")
    assert err.value.line == 2 and err.value.column == 3 and "Q" in err.value.message


def test_expression_not_in_the_program():
    with pytest.raises(InputError) as err:
        check(graph(E2), "X*W + Y = 1")
    assert err.value.line == 1 and err.value.column == 1 and "not a step" in err.value.message


def test_grad_of_unknown_name_points_at_the_name():
    with pytest.raises(InputError) as err:
        check(graph(E2), "grad Z = 1")
    assert (err.value.line, err.value.column) == (1, 6)


@pytest.mark.parametrize("text", ["L = x + 1", "L = [[1, 2], [3]]", "L =", "L 14", "L = __import__('os')"])
def test_bad_values(text):
    with pytest.raises(InputError) as err:
        check(graph(E2), text)
    assert err.value.line == 1


def test_new_needs_a_learning_rate_and_an_input():
    with pytest.raises(InputError, match="sgd-lr"):
        check(graph(E3), "new W3 = [[-1, 2.8]]")
    with pytest.raises(InputError, match="computed"):
        check(graph(E3), "new h1 = [[3], [0]]", sgd_lr=0.1)


def test_empty_answers():
    with pytest.raises(InputError):
        check(graph(E2), "# nothing\n\n")


def test_index_out_of_range():
    with pytest.raises(InputError) as err:
        check(graph(E3), "W2[5, 0] = 1")
    assert err.value.kind == "shape"


# --- tolerance ------------------------------------------------------------------------------------------

def test_relative_and_absolute_tolerance():
    g = gbp.parse("x = 3\nf = x/7\nz = f - f")
    value = 3 / 7
    assert check(g, f"f = {value * (1 + 5e-7)}").ok
    assert not check(g, "f = 0.4286").ok
    assert check(g, "f = 0.4286", rtol=1e-3).ok
    assert check(g, "z = 1e-12").ok                       # near 0: the absolute tolerance
    assert not check(g, "z = 1e-3").ok
    slip = check(g, "f = 0.4286").claims[0].slip
    assert slip.startswith("rounded") and "--rtol" in slip


# --- the slips table ------------------------------------------------------------------------------------

def test_slip_transposed():
    report = check(graph(E2), "X*W = [[-1, 1, -2], [-1, 1, -2]]")
    assert "transposed" in report.claims[0].slip and "(X*W)^T" in report.claims[0].slip


def test_slip_relu_not_applied_and_downstream_follows():
    report = check(graph(E3), "h1 = [[3], [-3]]\na2 = [[-6], [6]]")
    head = report.claims[report.first_wrong]
    assert head.lhs == "h1" and "ReLU not applied" in head.slip
    assert report.claims[1].inherited and report.claims[1].follows


def test_slip_relu_derivative_on_the_wrong_side():
    report = check(graph(E3), "grad W1 = [[0], [18]]\ngrad x = -12")
    assert "wrong side" in report.claims[0].slip and "a1 < 0" in report.claims[0].slip
    assert "identity" in report.claims[1].slip


def test_slip_missing_factor_2():
    report = check(graph(E3), "grad W3 = [[0, -9]]")
    assert "factor 2 missing" in report.claims[0].slip and "(y - yhat)^2" in report.claims[0].slip


def test_slip_one_path_only():
    report = check(graph(E2), "grad W = [[12, 4]]")
    assert "only the path" in report.claims[0].slip
    report = check(gbp.parse(E1.read_text()), "grad x = 8")
    assert "left out" in report.claims[0].slip


def test_slip_sgd_sign_and_eta():
    g = graph(E3)
    assert "sign of the step flipped" in check(g, "new W3 = [[-1, -0.8]]", sgd_lr=0.1).claims[0].slip
    assert "η left out" in check(g, "new W3 = [[-1, 19]]", sgd_lr=0.1).claims[0].slip


def test_slip_operands_swapped_in_a_matrix_product():
    g = gbp.parse("A = [[1, 2], [3, 4]]\nB = [[0, 1], [1, 0]]\nC = A @ B")
    report = check(g, "C = [[3, 4], [1, 2]]")
    assert "B @ A" in report.claims[0].slip


def test_wrong_claim_without_a_known_slip():
    report = check(graph(E2), "X*W - Y = [[7, 7], [7, 7], [7, 7]]\nL = 1")
    head = report.claims[report.first_wrong]
    assert head.slip is None and report.claims[1].inherited
    assert report.claims[1].follows is False      # 1 is not what [[7, 7], …] gives either


def test_independent_errors_are_not_inherited():
    report = check(graph(E2), "||W||_1 = 3\nX*W - Y = [[-1, -3], [1, -1], [-2, -4]]")
    # both wrong, neither computed from the other: the first wrong step is the student's first wrong line
    assert report.claims[report.first_wrong].lhs == "||W||_1"
    assert not any(c.inherited for c in report.claims)
    assert "also wrong" in report.text().splitlines()[1]


# --- the command line -------------------------------------------------------------------------------------

def run(*args):
    return subprocess.run([sys.executable, "-m", "graphviz_bp", "check", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_cli_seed000_text_and_exit_1():
    r = run(E2, EX / "l1_least_squares.answers")
    assert r.returncode == 1, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("line 2: X*W - Y is wrong") and "[[-1, 1], [1, 3], [-2, 0]]" in first
    assert "X*W + Y" in first


@pytest.mark.slow
def test_cli_seed000_json():
    r = run(E2, EX / "l1_least_squares.answers", "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["claims"][doc["first_wrong"]]["line"] == 2
    assert all({"line", "lhs", "given", "expected", "ok", "slip", "inherited"} <= set(c) for c in doc["claims"])


@pytest.mark.slow
def test_cli_correct_exit_0():
    r = run(E2, EX / "l1_least_squares_correct.answers", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"] is True and json.loads(r.stdout)["first_wrong"] is None


@pytest.mark.slow
def test_cli_seed004_needs_sgd_lr():
    r = run(E3, EX / "relu_network_sgd.answers", "--sgd-lr", "0.1")
    assert r.returncode == 1 and "1.18" in r.stdout.splitlines()[0] and "2.8" in r.stdout.splitlines()[0]
    r = run(E3, EX / "relu_network_sgd.answers")
    assert r.returncode == 2 and "--sgd-lr" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_cli_bad_answers_exit_2(tmp_path):
    bad = tmp_path / "bad.answers"
    bad.write_text("X*W = [[-1, -1], [1, 1], [-2, -2]]\nnothing = 3\n")
    r = run(E2, bad, "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["line"] == 2 and err["column"] == 1
    r = run(E2, tmp_path / "missing.answers")
    assert r.returncode == 2


@pytest.mark.slow
def test_cli_rtol(tmp_path):
    prog, answers = tmp_path / "p.txt", tmp_path / "a.answers"
    prog.write_text("x = 3\nf = x/7\n")
    answers.write_text("f = 0.4286\n")
    assert run(prog, answers).returncode == 1
    assert run(prog, answers, "--rtol", "1e-3").returncode == 0
