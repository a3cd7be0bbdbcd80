"""The command-line contract of DESIGN §4: JSON keys, exit codes, one-line errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
E2 = str(ROOT / "graphviz_bp" / "examples" / "l1_least_squares.txt")


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True,
                          input=stdin, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_grad_e2_json():
    r = run("grad", E2, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["output"] == "L" and doc["value"] == 14 and doc["method"] == "reverse"
    assert doc["gradients"]["W"] == [[11, 3]]
    assert doc["gradients"]["lambda"] == 2          # ∂L/∂λ = ‖W‖₁


@pytest.mark.slow
@pytest.mark.parametrize("method", ["forward", "paths"])
def test_grad_methods_agree(method):
    doc = json.loads(run("grad", E2, "--json", "--method", method, "--wrt", "W").stdout)
    assert doc["gradients"] == {"W": [[11, 3]]} and doc["method"] == method


@pytest.mark.slow
def test_paths_e2_json():
    r = run("paths", E2, "--from", "W", "--json")
    doc = json.loads(r.stdout)
    assert doc["from"] == "W" and doc["to"] == "L" and doc["count"] == 2 and doc["truncated"] is False
    assert sorted(p["value"] for p in doc["paths"]) == [[[-1, -1]], [[12, 4]]]
    assert doc["total"] == [[11, 3]]
    assert all(len(p["factors"]) == len(p["nodes"]) - 1 for p in doc["paths"])


@pytest.mark.slow
def test_paths_ladder_2_to_60(tmp_path):
    lines = ["x = 0.3", "a0 = 2*x"] + [f"a{i} = sin(a{i-1}) + cos(a{i-1})" for i in range(1, 61)]
    prog = tmp_path / "ladder.txt"
    prog.write_text("\n".join(lines))
    doc = json.loads(run("paths", str(prog), "--from", "x", "--limit", "5", "--json").stdout)
    assert doc["count"] == 2 ** 60 and isinstance(doc["count"], int)
    assert len(doc["paths"]) == 5 and doc["truncated"] is True
    grad = json.loads(run("grad", str(prog), "--json", "--wrt", "x").stdout)["gradients"]["x"]
    assert doc["total"] == pytest.approx(grad)


@pytest.mark.slow
def test_expr_and_stdin_and_at():
    doc = json.loads(run("grad", "-e", "f = x^2 + x*y + (x + y)^2", "--at", "x=1", "--at", "y=2", "--json").stdout)
    assert doc["value"] == 12 and doc["gradients"] == {"x": 10, "y": 7}
    doc = json.loads(run("grad", "-", "--at", "W=[[2, 0]]", "--json", "--wrt", "W",
                         stdin=Path(E2).read_text()).stdout)
    import numpy as np
    import graphviz_bp as gbp
    g = gbp.parse(Path(E2).read_text())
    W = np.array([[2.0, 0.0]])
    h = 1e-6
    fd = [(g.evaluate(at={"W": W + h * e})["L"] - g.evaluate(at={"W": W - h * e})["L"]) / (2 * h)
          for e in (np.array([[1.0, 0]]), np.array([[0, 1.0]]))]
    # ‖W‖₁ has a kink at W[0,1] = 0; sign(0) = 0 is the mean of the one-sided slopes, as a central difference
    assert doc["gradients"]["W"][0] == pytest.approx(fd, abs=1e-4)


@pytest.mark.slow
def test_symbolic_grad_e12():
    doc = json.loads(run("grad", str(ROOT / "graphviz_bp" / "examples" / "lp_penalty.txt"), "--symbolic", "--json").stdout)
    assert doc["gradients"]["w"] == "alpha*p*w^(p - 1)"


@pytest.mark.parametrize("args, where, words", [
    (["-e", "f = x +* y"], "line 1, column", "expected"),
    (["-e", "x = 1\nf = foo(x)"], "line 2, column 5", "unknown function 'foo'"),
    (["-e", "A = [[1, 2]]\nB = [1, 2, 3]\nf = sum(A * B)"], "line 3", "shape"),
    (["-e", "f = x^2"], "line 1", "no value for input 'x'"),
    (["-e", "A = [[1, 2], [3, 4]]\nB = A @ A"], "line 2", "scalar output"),
    (["-e", "f = __import__('os')"], "line 1", ""),
    (["-e", "f = (x"], "line 1", "')'"),
])
@pytest.mark.slow
def test_bad_input_exit_2_one_line(args, where, words):
    r = run("grad", *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert where in lines[0] and words in lines[0]


@pytest.mark.slow
def test_bad_input_json_error():
    r = run("grad", "-e", "A = [[1, 2]]\nB = [1, 2, 3]\nf = sum(A @ B)", "--json")
    assert r.returncode == 2
    err = json.loads(r.stdout)["error"]
    assert err["kind"] == "shape" and err["line"] == 3 and "1×2" in err["message"] and "3" in err["message"]


@pytest.mark.slow
def test_usage_errors_exit_2():
    assert run("grad").returncode == 2
    assert run("nonsense").returncode == 2
    assert run("grad", "/no/such/file").returncode == 2
    assert run("grad", E2, "--wrt", "nope").returncode == 2
    r = run("grad", E2, "--at", "W=[[1,")
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.slow
def test_nan_json_and_warning():
    r = run("grad", "-e", "x = -1\nf = log(x)", "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["value"] == "nan"
    assert "warning" in r.stderr and "log(x)" in r.stderr
