"""solve: stationary points, closed forms, Hessians — the seeds' optima against NumPy/SciPy-free
computations written here (normal equations by numpy.linalg, means, the sheet formulas)."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from graphviz_bp import parse
from graphviz_bp.algorithms.solve import solve
from graphviz_bp.core.errors import InputError

X = np.array([[1, 2], [1, 3], [1, 5], [1, 7]], dtype=float)
Y = np.array([[1], [2], [2], [4]], dtype=float)


def _lit(a):
    return json.dumps(np.asarray(a).tolist())


def test_seed_002_section_3_least_squares_through_the_origin():
    """x = (1, 2), y = (2, 3), y = w·x: w = Σxy/Σx² = 8/5, d²L = 2Σx² = 10."""
    x, y = np.array([1.0, 2.0]), np.array([2.0, 3.0])
    s = solve(parse("x = [1, 2]\ny = [2, 3]\nL = sum((y - w*x)^2)"), "w")
    assert s.point["w"] == pytest.approx(np.sum(x * y) / np.sum(x * x)) == pytest.approx(1.6)
    assert s.formula == "w = Σxᵢyᵢ/Σxᵢ²"
    assert s.hessian[0, 0] == pytest.approx(2 * np.sum(x * x)) and s.hessian_formula == "2Σxᵢ²"
    assert s.kind == "minimum" and s.affine


@pytest.mark.parametrize("lam", [0, 1, 2, 5])
def test_seed_002_section_5_2_penalised_mean(lam):
    """Pokémon weights 6, 6, 10: β̂ = Σy/(n + λ) (22/3 at λ = 0), decreasing in λ; d²L = 2n + 2λ."""
    y = np.array([6.0, 6.0, 10.0])
    s = solve(parse(f"y = [6, 6, 10]\nlambda = {lam}\nL = sum((y - beta)^2) + lambda*beta^2"), "beta")
    brute = np.linspace(0, 12, 1_200_001)
    losses = ((y[:, None] - brute[None, :]) ** 2).sum(0) + lam * brute ** 2
    assert s.point["beta"] == pytest.approx(y.sum() / (3 + lam)) == pytest.approx(brute[losses.argmin()], abs=1e-5)
    assert s.formula == "β = Σyᵢ/(n + λ)" and s.hessian_formula == "2n + 2λ"
    assert s.hessian[0, 0] == pytest.approx(2 * 3 + 2 * lam)


def test_seed_002_section_8_ex_4_least_squares():
    """w = (XᵀX)⁻¹Xᵀy, H = 2XᵀX positive definite."""
    s = solve(parse(f"X = {_lit(X)}\ny = {_lit(Y)}\nL = (y - X@w)^T @ (y - X@w)"), "w")
    w_np, *_ = np.linalg.lstsq(X, Y, rcond=None)
    assert np.allclose(s.point["w"], w_np)
    assert s.formula == "w = (XᵀX)⁻¹Xᵀy" and s.hessian_formula == "2XᵀX"
    assert np.allclose(s.hessian, 2 * X.T @ X)
    assert s.kind == "minimum" and np.all(np.linalg.eigvalsh(2 * X.T @ X) > 0)


def test_seed_002_section_8_ex_5_ridge():
    lam = 0.7
    s = solve(parse(f"X = {_lit(X)}\ny = {_lit(Y)}\nlambda = {lam}\nL = ||y - X@w||_2^2 + lambda*||w||_2^2"), "w")
    w_np = np.linalg.solve(X.T @ X + lam * np.eye(2), X.T @ Y)
    assert np.allclose(s.point["w"], w_np)
    assert s.formula == "w = (XᵀX + λI)⁻¹Xᵀy" and s.hessian_formula == "2XᵀX + 2λI"
    assert np.allclose(s.hessian, 2 * X.T @ X + 2 * lam * np.eye(2))
    assert s.kind == "minimum"


def test_seed_003_problem_4_maximum_likelihood_is_least_squares():
    """max Π N(yᵢ | wᵀxᵢ, σ²): the log-likelihood's maximum is (XᵀX)⁻¹Xᵀy, a maximum (H = −XᵀX/σ²)."""
    s = solve(parse(f"X = {_lit(X)}\ny = {_lit(Y)}\ns2 = 2\nL = sum(-(y - X@w)^2/(2*s2))"), "w", maximize=True)
    assert np.allclose(s.point["w"], np.linalg.lstsq(X, Y, rcond=None)[0])
    assert s.formula == "w = (XᵀX)⁻¹Xᵀy"
    assert np.allclose(s.hessian, -X.T @ X / 2) and s.kind == "maximum"


@pytest.mark.slow
def test_seed_002_section_8_ex_7_gaussian_mean_and_covariance():
    data = np.array([[1, 2], [3, 1], [2, 5], [4, 4]], dtype=float)
    s = solve(parse(f"X = {_lit(data)}\nL = sum((X - mu)^2)"), "mu")
    assert np.allclose(s.point["mu"], data.mean(axis=0)) and s.formula.startswith("μ = x̄")
    xbar = data.mean(axis=0)
    g = parse(f"X = {_lit(data)}\nmu = {_lit([xbar])}\nn = 4\n"
              "L = n/2*log(det(S)) + 1/2*trace((X - mu) @ inv(S) @ (X - mu)^T)")
    s = solve(g, "S", at={"S": np.eye(2)})
    sigma_hat = (data - xbar).T @ (data - xbar) / 4
    assert np.allclose(s.point["S"], sigma_hat, atol=1e-6)
    assert s.method.startswith("numeric: scipy.optimize.minimize, BFGS") and s.iterations > 0
    assert s.kind == "minimum"                 # over symmetric S (the note says so)
    assert any("symmetric S" in n for n in s.notes)


def test_seed_002_section_8_ex_8_nearest_symmetric_matrix():
    A = np.array([[1.0, 2.0], [4.0, 3.0]])
    s = solve(parse(f"A = {_lit(A)}\nL = ||(S + S^T)/2 - A||_2^2"), "S", at={"S": np.zeros((2, 2))})
    assert np.allclose(s.point["S"], (A + A.T) / 2)
    assert s.formula == "S = ½(A + Aᵀ)"


def test_numeric_minimiser_against_calculus():
    """e^w − 2w: w = ln 2, d²L = e^w = 2."""
    s = solve(parse("L = exp(w) - 2*w"), "w")
    assert s.point["w"] == pytest.approx(math.log(2), abs=1e-7)
    assert s.hessian[0, 0] == pytest.approx(2.0, rel=1e-5)
    assert not s.affine and s.iterations is not None and s.kind == "minimum"


def test_saddle_and_maximum():
    s = solve(parse("L = w^2 - v^2 + w*v"), "w,v")
    assert s.kind == "saddle point"
    assert np.allclose(sorted(s.eigenvalues), sorted(np.linalg.eigvalsh(np.array([[2, 1], [1, -2]]))))
    s = solve(parse("L = 5 - (w - 3)^2"), "w", maximize=True)
    assert s.point["w"] == pytest.approx(3.0) and s.kind == "maximum"


def test_seed_002_section_2_ex_2_separable_logistic_loss_has_no_minimum():
    """Whale at x = 1, ants at x = 2, 3: the logistic loss → 0 only as the coefficients → ∞."""
    g = parse("x = [1, 2, 3]\ny = [1, 0, 0]\n"
              "L = sum(-y*log(sigmoid(w0 + w1*x)) - (1-y)*log(1 - sigmoid(w0 + w1*x)))")
    with pytest.raises(InputError) as exc:
        solve(g, "w0,w1")
    assert "no minimum" in str(exc.value) and "\n" not in str(exc.value)

    def loss(w0, w1):
        z = w0 + w1 * np.array([1, 2, 3.0])
        return np.sum(np.logaddexp(0, -z) * np.array([1, 0, 0]) + np.logaddexp(0, z) * np.array([0, 1, 1]))
    assert loss(15, -10) < loss(1.5, -1) < loss(0, 0)      # keeps going down along (3, −2)


def test_no_stationary_point_is_one_clear_error():
    with pytest.raises(InputError) as exc:
        solve(parse("L = 3*w + 1"), "w")
    assert "no stationary point" in str(exc.value)


def test_template_is_not_claimed_when_it_does_not_hold():
    """A weighted loss: the solution is still exact, but no template names it."""
    s = solve(parse("x = [1, 2, 3]\ny = [2, 3, 7]\nc = [1, 4, 9]\nL = sum(c*(y - w*x)^2)"), "w")
    x, y, c = np.array([1, 2, 3.0]), np.array([2, 3, 7.0]), np.array([1, 4, 9.0])
    assert s.point["w"] == pytest.approx(np.sum(c * x * y) / np.sum(c * x * x))
    assert s.formula is None


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_cli_solve_ridge_json_and_errors():
    r = _cli("solve", "-e", f"X = {_lit(X)}; y = {_lit(Y)}; lambda = 0.5; L = ||y - X@w||_2^2 + lambda*||w||_2^2",
             "--wrt", "w", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert np.allclose(doc["point"]["w"], np.linalg.solve(X.T @ X + 0.5 * np.eye(2), X.T @ Y))
    assert doc["kind"] == "minimum" and doc["hessian_formula"] == "2XᵀX + 2λI"
    r = _cli("solve", "-e", "L = 3*w + 1", "--wrt", "w")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no stationary point" in r.stderr
    r = _cli("solve", "-e", "x = [1, 2]; y = [2, 3]; L = sum((y - w*x)^2)", "--wrt", "w", "--format", "md")
    assert r.returncode == 0 and r"\sum_i x_i y_i" in r.stdout and "positive definite" in r.stdout


def test_the_gradient_set_to_zero_is_shown_in_matrix_form():
    """Seed 002 §8 ex. 5 writes ∇L(w) = 2Xᵀ(Xw − y) + 2λw; the solve output shows the matrix form
    (checked by issue 14's code against the reverse pass) and it vanishes at the solution."""
    s = solve(parse(f"X = {_lit(X)}\ny = {_lit(Y)}\nlambda = 0.7\nL = ||y - X@w||_2^2 + lambda*||w||_2^2"), "w")
    assert s.gradient_formula and "λ" in s.gradient_formula and "Xᵀ" in s.gradient_formula
    w = s.point["w"]
    assert np.allclose(2 * X.T @ (X @ w - Y) + 2 * 0.7 * w, 0, atol=1e-10)


@pytest.mark.slow
def test_seed_002_section_5_2_leave_one_out_lambda():
    """y = 6, 6, 10, β̂₋ᵢ(λ) = Σ_{j≠i} yⱼ/(2 + λ); CV(λ) = 2(16u − 6)² + (12u − 10)² with u = 1/(2 + λ),
    minimal at u = 624/1312 (dCV/du = 0), so λ_CV = 1312/624 − 2 and β̂(λ_CV) = 22/(3 + λ_CV)."""
    from graphviz_bp.algorithms.solve import leave_one_out
    r = leave_one_out(parse("y = [6, 6, 10]\nlambda = 0\nL = sum((y - beta)^2) + lambda*beta^2"), "beta", "lambda")
    lam = 1312 / 624 - 2
    assert r.best == pytest.approx(lam, abs=1e-6)
    u = 1 / (2 + lam)
    assert r.score == pytest.approx(2 * (16 * u - 6) ** 2 + (12 * u - 10) ** 2, rel=1e-9)
    assert r.solution.point["beta"] == pytest.approx(22 / (3 + lam), rel=1e-7)
    brute = np.linspace(0, 2, 200_001)
    cvs = [sum((sum(np.delete(np.array([6, 6, 10.0]), i)) / (2 + brute) - yi) ** 2 for i, yi in enumerate([6, 6, 10.0]))]
    assert brute[np.argmin(cvs[0])] == pytest.approx(r.best, abs=2e-5)
    out = _cli("solve", "-e", "y = [6, 6, 10]; lambda = 0; L = sum((y - beta)^2) + lambda*beta^2",
               "--wrt", "beta", "--loo", "lambda")
    assert out.returncode == 0 and "lambda = 0.102564" in out.stdout and "beta = 7.09091" in out.stdout


def test_kind_notes_and_symmetric_only_when_the_program_says_so():
    s = solve(parse("L = (w - 3)^2"), "w", maximize=True)
    assert s.kind == "minimum" and any("has no maximum" in n for n in s.notes)
    s = solve(parse("W = [[1, 2], [3, 4]]\nL = sum(W @ W)"), "W")      # W is not used as a symmetric matrix
    assert not any("symmetric" in n for n in s.notes)
    assert np.allclose(s.hessian, s.hessian.T)


@pytest.mark.slow
def test_cli_solve_the_sheet_as_pasted():
    """Seed 002 §8 ex. 5 pasted as LaTeX, data by --at: Xw is read as a product once w's shape is known."""
    r = _cli("solve", "-e", r"$$L(w) = (y - Xw)^T(y - Xw) + \lambda w^T w$$", "--at", f"X={_lit(X)}",
             "--at", f"y={_lit(Y)}", "--at", "lambda=0.5", "--wrt", "w", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert np.allclose(doc["point"]["w"], np.linalg.solve(X.T @ X + 0.5 * np.eye(2), X.T @ Y))
    assert doc["formula"] == "w = (XᵀX + λI)⁻¹Xᵀy" and doc["kind"] == "minimum"
    # the notes are those of the reading solved (w a column), not of the first (w a number)
    assert "w is a number" not in r.stderr, r.stderr
