"""Hardening (issue #8, items 2-4): no code execution ever, numerics that degrade to NaN/inf with a
warning naming the node, the kink conventions of DESIGN §2 through every algorithm, and deep or
huge input that is accepted or refused within seconds, never with a RecursionError."""
import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from graphviz_bp import InputError, Limits
from graphviz_bp.core.evaluate import run
from graphviz_bp.core.ops import FUNCTIONS, OPS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "graphviz_bp"


def cli(*args, stdin=None, timeout=120, env=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHVIZ_BP_")}
    environ["PYTHONPATH"] = str(ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True,
                          input=stdin, cwd=ROOT, env=environ, timeout=timeout)


def assert_clean_exit_2(r):
    assert r.returncode == 2, (r.returncode, r.stdout[-300:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("graphviz-bp: error: "), r.stderr[-2000:]


# --- 2. no code execution --------------------------------------------------------------------------

def escapes(marker: Path) -> list[str]:
    m = str(marker)
    return [
        f'__import__("os").system("touch {m}")',
        f"__import__('os').system('touch {m}')",
        f'f = __import__("os").system("touch {m}")',
        f'x = 1; import os; os.system("touch {m}")',
        f'import os\nos.system("touch {m}")',
        f'eval("__import__(\\"os\\").system(\\"touch {m}\\")")',
        f'exec("import os; os.system(\'touch {m}\')")',
        f'open("{m}", "w")',
        'x.__class__',
        'f = x.__class__.__bases__[0].__subclasses__()',
        '().__class__.__bases__',
        '"{0.__class__}".format(x)',
        f'f"{{__import__(\'os\').system(\'touch {m}\')}}"',
        'lambda: 1',
        f'f = (lambda: __import__("os").system("touch {m}"))()',
        'f = x; __builtins__.__dict__',
        'globals()', 'locals()', 'vars()', 'dir()', 'breakpoint()',
        f'compile("touch {m}", "x", "exec")',
        'x = 1 if True else 2',
        'f = [i for i in range(10)]',
        'f = x; del x',
        'f = x @= y',
        'f: int = 3',
        'f = {"a": 1}',
        'f = `x`',
        'f = x\\\n.__class__',
        f'$$\\operatorname{{__import__}}("os").system("touch {m}")$$',
        f'$$f = \\text{{__import__("os").system("touch {m}")}}$$',
        '$$f = x.__class__$$',
    ]


# these parse as programs of the notation (names that look like Python are just names): fine,
# as long as nothing runs
HARMLESS_NAMES = {"globals()", "locals()", "vars()", "dir()", "breakpoint()"}


def test_escapes_through_the_library(tmp_path):
    marker = tmp_path / "pwned"
    for text in escapes(marker):
        try:
            g = gbp.parse(text)
        except InputError as exc:
            assert exc.kind in ("syntax", "name", "shape", "value", "limit", "usage")
            assert "\n" not in str(exc)
        else:
            assert text in HARMLESS_NAMES or "__" not in text or text == "f = x; __builtins__.__dict__", text
            try:
                g.gradients(at={n: 1.0 for n in g.leaves})
            except InputError:
                pass
        assert not marker.exists(), text


def test_dunder_names_are_plain_names(tmp_path):
    # a name made of underscores is a name of the notation, nothing more
    g = gbp.parse("__class__ = 2\n__import__ = 3\nf = __class__ * __import__")
    assert g.evaluate()["f"] == 6.0
    with pytest.raises(InputError):
        gbp.parse("f = __import__(1)")           # not a function of the notation


def cli_in_process(*args, stdin=""):
    """graphviz_bp.app.cli.main in this process (the code path of the command, without a Python start-up)."""
    import contextlib
    import io
    from graphviz_bp.app.cli import main
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = old_stdin
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.mark.slow
def test_escapes_through_the_cli_expr_file_stdin_and_at(tmp_path):
    marker = tmp_path / "pwned"
    payloads = escapes(marker)
    risky = [p for p in payloads if "touch" in p or "open(" in p]
    for k, text in enumerate(risky):
        assert_clean_exit_2(cli_in_process("grad", "-e", text))
        path = tmp_path / f"prog{k}.txt"
        path.write_text(text, encoding="utf-8")
        r = cli_in_process("grad", str(path), "--json")
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert json.loads(r.stdout)["error"]["kind"] in ("syntax", "name")
        assert_clean_exit_2(cli_in_process("paths", "-", "--from", "x", stdin=text))
        assert_clean_exit_2(cli_in_process("grad", "-e", "f = x*y", "--at", f"x={text}", "--at", "y=2"))
        assert_clean_exit_2(cli_in_process("grad", "-e", "f = x*y", "--at", "x=1", "--at", f"y={text}",
                                           "--wrt", text))
        assert not marker.exists(), text
    for args in (["--wrt", f'__import__("os").system("touch {marker}")'],
                 ["--output", f'__import__("os").system("touch {marker}")'],
                 ["--method", f'__import__("os").system("touch {marker}")'],
                 ["--at", f'__import__("os").system("touch {marker}")=1']):
        assert_clean_exit_2(cli_in_process("grad", "-e", "f = x*y", "--at", "x=1", "--at", "y=2", *args))
    assert_clean_exit_2(cli_in_process("paths", "-e", "f = x*y", "--at", "x=1", "--at", "y=2",
                                       "--from", f"__import__('os').system('touch {marker}')"))
    # and through the real command, in its own process: -e, a file, standard input, --at
    bad = risky[0]
    assert_clean_exit_2(cli("grad", "-e", bad))
    assert_clean_exit_2(cli("grad", str(tmp_path / "prog0.txt")))
    assert_clean_exit_2(cli("grad", "-", stdin=bad))
    assert_clean_exit_2(cli("grad", "-e", "f = x*y", "--at", f"x={bad}", "--at", "y=2"))
    assert not marker.exists()


@pytest.mark.slow
def test_escapes_through_explain_check_and_render(tmp_path):
    marker = tmp_path / "pwned"
    bad = f'__import__("os").system("touch {marker}")'
    assert_clean_exit_2(cli("explain", "-e", bad))
    assert_clean_exit_2(cli("render", "-e", bad, "-o", str(tmp_path / "g.svg")))
    answers = tmp_path / "answers.txt"
    answers.write_text(f"f = {bad}\ngrad x = {bad}\n{bad} = 1\n", encoding="utf-8")
    r = cli("check", "-e", "f = x*y", str(answers), "--at", "x=1", "--at", "y=2")
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr, r.stderr
    assert not marker.exists()


def test_no_eval_or_exec_in_the_package():
    """git grep style: nothing in the package hands text to Python."""
    pattern = re.compile(r"(?<![\w.])(?<!def )(eval|exec|compile|__import__|execfile)\s*\(|pickle\.loads?\(|"
                         r"shell\s*=\s*True|os\.system\(|os\.popen\(|yaml\.load\(|marshal\.loads?\(")
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")) + [ROOT / "streamlit_app.py"]:
        if not path.exists():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_comment_text_in_labels_cannot_break_the_dot_source():
    """Source text (with a comment inside brackets) reaches labels: it must be escaped."""
    from graphviz_bp.showing.render import render
    g = gbp.parse('f = (x # </TD></TR></TABLE>> ] "q" & <B>b</B> node[image="/etc/passwd"]\n + y)\nh = f*2')
    dot = render(g, at={"x": 1, "y": 2}, show="all").source
    assert 'image="/etc/passwd"' not in dot
    assert "</TABLE>>" not in dot.replace("</TABLE>>\n", "").replace("</TABLE>> ", "")


# --- 3. numerics: NaN/inf with a warning naming the node ------------------------------------------------

NUMERIC_CASES = [
    # program, at, expected output value (nan / ±inf / number), a fragment the warning must name
    ("f = log(x)", {"x": -1.0}, math.nan, "log(x)"),
    ("f = log(x)", {"x": 0.0}, -math.inf, "log(x)"),
    ("f = ln(x) + 1", {"x": -2.0}, math.nan, "ln(x)"),
    ("f = x / y", {"x": 1.0, "y": 0.0}, math.inf, "x / y"),
    ("f = x / y", {"x": 0.0, "y": 0.0}, math.nan, "x / y"),
    ("f = 1 / (x - 1)", {"x": 1.0}, math.inf, "1 / (x - 1)"),
    ("f = exp(x)", {"x": 1000.0}, math.inf, "exp(x)"),
    ("f = exp(x) * 0", {"x": 1000.0}, math.nan, "exp(x)"),
    ("f = sqrt(x)", {"x": -4.0}, math.nan, "sqrt(x)"),
    ("f = x^0.5", {"x": -4.0}, math.nan, "x^0.5"),
    ("f = x*x", {"x": 1e200}, math.inf, "x*x"),
    ("f = sum(inv(A))", {"A": np.array([[1.0, 2.0], [2.0, 4.0]])}, math.nan, "inv(A)"),
    ("f = sum(log(v))", {"v": np.array([1.0, -1.0])}, math.nan, "log(v)"),
    ("f = sum(v / w)", {"v": np.array([1.0, 2.0]), "w": np.array([1.0, 0.0])}, math.inf, "v / w"),
    ("f = sum(exp(v))", {"v": np.array([1.0, 1000.0])}, math.inf, "exp(v)"),
    ("f = inv(x)", {"x": 0.0}, math.inf, "inv(x)"),
]


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("program, at, expected, fragment", NUMERIC_CASES,
                         ids=[f"{c[0]}@{list(c[1].values())[0]!r}"[:40] for c in NUMERIC_CASES])
def test_numeric_edge_cases_give_nan_or_inf_with_a_warning(program, at, expected, fragment):
    g = gbp.parse(program)
    ev = run(g, at)
    value = ev.values[g.index(g.output)]
    assert _same(float(value), expected), value
    assert ev.warnings, "a non-finite value needs a warning"
    first = ev.warnings[0]
    assert "\n" not in first and fragment in first and first.startswith("line 1, column ")
    for method in ("reverse", "forward", "paths"):
        grads = g.gradients(at=at, method=method)          # no exception, whatever the numbers
        assert set(grads) == set(g.leaves)
    r = g.reverse(at=at)
    assert r.warnings == ev.warnings


@pytest.mark.slow
def test_numeric_warnings_through_the_cli():
    r = cli("grad", "-e", "y = log(x)\nf = y + exp(z)", "--at", "x=-1", "--at", "z=1000", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["value"] == "nan" and doc["gradients"]["z"] == "inf"
    warnings = [line for line in r.stderr.splitlines() if line]
    assert len(warnings) == 2 and all(w.startswith("warning: line ") for w in warnings), r.stderr
    assert "log(x)" in warnings[0] and "exp(z)" in warnings[1]
    r = cli("grad", "-e", "f = x / y", "--at", "x=1", "--at", "y=0")
    assert r.returncode == 0 and r.stderr.startswith("warning: line 1, column ") and "Traceback" not in r.stderr


def test_singular_det_is_exact_and_singular_inv_warns():
    """det of a singular matrix is the number 0 (no warning needed); its gradient is the cofactor
    matrix, exact for singular matrices too, also above 8×8 where it comes from the SVD."""
    g = gbp.parse("A = [[1, 2], [2, 4]]\nf = det(A)")
    ev = run(g)
    assert ev.values[g.index("f")] == 0.0 and ev.warnings == []
    for method in ("reverse", "forward", "paths"):
        np.testing.assert_allclose(g.gradients(method=method)["A"], [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    rng = np.random.default_rng(3)
    for n in (3, 12):
        a = rng.normal(size=(n, n))
        a[-1] = a[0] - 2 * a[1]                           # singular
        cof = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                         for j in range(n)] for i in range(n)])
        got = gbp.parse("f = det(A)").gradients(at={"A": a})["A"]
        np.testing.assert_allclose(got, cof, rtol=1e-7, atol=1e-9 * np.abs(cof).max())
    g = gbp.parse("A = [[1, 2], [2, 4]]\nf = sum(inv(A))")
    ev = run(g)
    assert math.isnan(ev.values[g.index("f")]) and "inv(A)" in ev.warnings[0]


@pytest.mark.slow
def test_big_det_gradient_is_fast():
    a = np.random.default_rng(0).normal(size=(150, 150)) / 3
    t = time.monotonic()
    grad = gbp.parse("f = det(A)").gradients(at={"A": a})["A"]
    elapsed = time.monotonic() - t
    np.testing.assert_allclose(grad, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-6)
    assert elapsed < 20, elapsed           # the cofactor loop took minutes at this size


def test_numeric_policy_is_documented_in_the_ops():
    for name, words in {"log": ("NaN", "warning"), "div": ("inf", "warning"), "exp": ("inf", "warning"),
                        "inv": ("NaN", "warning"), "sqrt": ("NaN", "warning"), "det": ("singular",),
                        "pow": ("NaN", "warning")}.items():
        doc = OPS[name].doc
        for w in words:
            assert w.lower() in doc.lower(), (name, w, doc)
    import graphviz_bp.core.evaluate as evaluate
    assert "warning" in evaluate.__doc__ and "NaN" in evaluate.__doc__


# --- kinks: DESIGN §2 -----------------------------------------------------------------------------------

KINKS = [
    # program, at, expected gradient of x
    ("f = abs(x)", {"x": 0.0}, 0.0),
    ("f = |x|", {"x": 0.0}, 0.0),
    ("f = relu(x)", {"x": 0.0}, 0.0),
    ("f = ReLU(x) + rect(x)", {"x": 0.0}, 0.0),
    ("f = sign(x)", {"x": 0.0}, 0.0),
    ("f = sign(x)", {"x": 2.5}, 0.0),
    ("f = sign(x) * 3 + x", {"x": -1.0}, 1.0),
    ("f = relu(x)", {"x": 1e-300}, 1.0),
    ("f = relu(x)", {"x": -1e-300}, 0.0),
    ("f = ||x||_1", {"x": 0.0}, 0.0),
    ("f = relu(x) * abs(x) + abs(x - 1)", {"x": 0.0}, -1.0),
    ("y = relu(x)\nf = y*y + abs(y)", {"x": 0.0}, 0.0),
]


@pytest.mark.parametrize("program, at, expected", KINKS, ids=[f"{k[0]}@{k[1]['x']}" for k in KINKS])
def test_kinks_through_reverse_forward_and_paths(program, at, expected):
    g = gbp.parse(program)
    for method in ("reverse", "forward", "paths"):
        assert g.gradients(at=at, method=method)["x"] == expected, method
    total = sum(p.value for p in gbp.derivative_paths(g, "x", at=at))
    assert total == expected


def test_kinks_elementwise_on_tensors():
    v = np.array([-1.0, 0.0, 2.0])
    for program, expected in [("f = sum(relu(v))", [0.0, 0.0, 1.0]), ("f = sum(abs(v))", [-1.0, 0.0, 1.0]),
                              ("f = ||v||_1", [-1.0, 0.0, 1.0]), ("f = sum(sign(v) * v)", [-1.0, 0.0, 1.0]),
                              ("f = sum(|v|)", [-1.0, 0.0, 1.0])]:
        g = gbp.parse(program)
        for method in ("reverse", "forward", "paths"):
            np.testing.assert_array_equal(g.gradients(at={"v": v}, method=method)["v"], expected)
    # the 2-norm at 0: derivative taken as 0, not NaN
    g = gbp.parse("f = ||v||_2")
    for method in ("reverse", "forward", "paths"):
        np.testing.assert_array_equal(g.gradients(at={"v": np.zeros(3)}, method=method)["v"], [0.0, 0.0, 0.0])


@pytest.mark.slow
def test_kinks_in_the_symbolic_and_numeric_local_derivatives():
    g = gbp.parse("a = relu(x)\nb = abs(x)\nc = sign(x)\nf = a + b + c")
    assert g.local_numeric("x", "a", at={"x": 0.0}) == 0.0
    assert g.local_numeric("x", "b", at={"x": 0.0}) == 0.0
    assert g.local_numeric("x", "c", at={"x": 0.0}) == 0.0
    assert g.local_numeric("x", "c", at={"x": 3.0}) == 0.0
    assert "step" in g.local_rule("x", "a") or "Heaviside" in g.local_rule("x", "a")
    r = cli("grad", "-e", "f = relu(x) + abs(x) + sign(x)", "--at", "x=0", "--json")
    assert json.loads(r.stdout)["gradients"] == {"x": 0}


# --- 4. deep and huge input -------------------------------------------------------------------------------

def _deep_cases():
    n = 3000
    chain = "\n".join(["x = 0.5", "v0 = x"] + [f"v{i} = sin(v{i - 1}) * x" for i in range(1, 100_000)])
    return {
        "3000 nested parentheses": ("f = " + "(" * n + "x" + ")" * n, ["--at", "x=1"], 2),
        "3000 nested brackets": ("f = sum(" + "[" * n + "1" + "]" * n + ")", [], 2),
        "3000 nested calls": ("f = " + "exp(" * n + "x" + ")" * n, ["--at", "x=1"], 2),
        "3000 nested norms": ("f = " + "||" * n + "x" + "||" * n, ["--at", "x=1"], 2),
        "3000 unary minus": ("f = " + "-" * n + "x", ["--at", "x=1"], 2),
        "3000-level power tower": ("f = " + "x^" * n + "x", ["--at", "x=1"], 2),
        "100,000 open parentheses": ("f = " + "(" * 100_000, [], 2),
        "100,000-term sum on one line": ("f = " + " + ".join(f"x{i % 100}*y" for i in range(100_000)),
                                         ["--at", "y=2"] + [a for i in range(100) for a in ("--at", f"x{i}=1")], 0),
        "100,000-line chain": (chain, [], 0),
        "100,000 statements on one line": ("; ".join(f"a{i} = {i}" for i in range(100_000)) + "; f = a1*a2", [], 0),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_deep_cases()))
def test_deep_and_huge_input_through_the_cli(name, tmp_path):
    text, args, expected = _deep_cases()[name]
    path = tmp_path / "prog.txt"
    path.write_text(text, encoding="utf-8")
    t = time.monotonic()
    r = cli("grad", str(path), *args, "--json", timeout=180)
    elapsed = time.monotonic() - t
    print(f"\n{name}: exit {r.returncode} in {elapsed:.2f} s")
    assert "Traceback" not in r.stderr and "RecursionError" not in r.stderr, r.stderr[-3000:]
    assert r.returncode == expected, r.stderr[-2000:]
    if expected == 2:
        assert len(r.stderr.strip().splitlines()) == 1
        assert json.loads(r.stdout)["error"]["kind"] in ("limit", "syntax")
    else:
        doc = json.loads(r.stdout)
        assert "value" in doc and doc["gradients"]


def test_deep_input_in_process_never_raises_recursion_error():
    for limit in (Limits(), Limits(max_depth=100_000)):
        for text in ["f = " + "(" * 3000 + "x" + ")" * 3000, "f = " + "[" * 3000 + "1" + "]" * 3000,
                     "f = " + "-" * 3000 + "x", "f = " + "x^" * 3000 + "x", "f = " + "| " * 3000 + "x" + " |" * 3000]:
            with pytest.raises(InputError) as info:
                gbp.parse(text, limits=limit)
            assert info.value.kind in ("limit", "shape", "syntax")


@pytest.mark.slow
def test_everything_works_at_the_default_depth():
    """A 190-deep expression: evaluate, all gradients, symbolic (or its limit), render, explain."""
    from graphviz_bp.showing.explain import explain
    from graphviz_bp.showing.render import render
    d = 190
    for text in ["f = " + "(" * d + "x" + ")" * d, "f = " + "sin(" * d + "x" + ")" * d, "f = " + "-" * d + "x",
                 "f = " + "| " * d + "x" + " |" * d]:
        g = gbp.parse(text)
        for method in ("reverse", "forward", "paths"):
            g.gradients(at={"x": 0.5}, method=method)
        try:
            gbp.symbolic_gradients(g)
        except gbp.LimitError:
            pass
        render(g, at={"x": 0.5}).source
        explain(g, at={"x": 0.5})


@pytest.mark.slow
def test_long_source_text_is_elided_not_quadratic():
    """Each partial sum of a long sum keeps its source text: elided, so memory stays linear."""
    text = "f = " + " + ".join(f"x{i}" for i in range(20_000))
    g = gbp.parse(text)
    assert max(len(n.src) for n in g.nodes) < 1000
    assert sum(len(n.src) for n in g.nodes) < 200 * len(g.nodes)


@pytest.mark.slow
def test_unknown_name_message_stays_one_short_line():
    g = gbp.parse("\n".join(f"v{i} = {i}" for i in range(5000)) + "\nf = v1*v2")
    with pytest.raises(InputError) as info:
        g.gradients(wrt=["nope"])
    assert len(str(info.value)) < 1000


def test_self_reference_is_an_error():
    with pytest.raises(InputError, match="its own definition"):
        gbp.parse("f = f + 1")
    with pytest.raises(InputError):
        gbp.parse("x = 1\ny = y*x")


def test_inputs_that_crashed_once():
    """Regressions found by the fuzzers (each used to raise something other than InputError)."""
    cases = [
        ("\\frac{1}{0}", None),                             # LaTeX → 1/0 on floats: ZeroDivisionError
        ("x = 0\nf = log(x)", None),                         # log'(0) = 1/0 in the scalar fallback
        ("x = 0\nf = sqrt(x)", None),                        # sqrt'(0) = 0.5/0
        ("x = 1\nf = inv(x)", None),                         # inv of a scalar: out.T @ g
        ("x = [[1, 2]]\nf = sum(conv2d(x, [[1, 2, 3]]))", InputError),   # kernel larger than the image
        ("f = f + 1", InputError),                           # two nodes named f
        ("a1 = y\ny = x", InputError),                       # y an input, then an alias of x
        ("x = 0\nf = inv(x)", None),                         # RuntimeWarning from scalar_view's op.tensor
        ("x = 2\na1 = y\nh = x\ny = 1", None),              # a leaf after the output: reverse(wrt=) IndexError
        ("W = [[1, -2], [0.5, 3]]\nf = sum([[[1, 2], [3, 4]], [[0, 1], [1, 0]]] @ W)", None),   # batched matmul VJP
        ("x = 1\nf = |max(x, ln(0))| + max(x, relu(0))", None),   # SymPy: Max of zoo, relu(0) not comparable
    ]
    for text, error in cases:
        if error is None:
            g = gbp.parse(text)
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                for method in ("reverse", "forward", "paths"):
                    for wrt in (None, g.leaves[-1:]):
                        g.gradients(method=method, wrt=wrt)
                gbp.scalar_view(g)
            try:
                gbp.symbolic_gradients(g)
            except InputError:
                pass
        else:
            with pytest.raises(error):
                gbp.parse(text).gradients()


@pytest.mark.slow
def test_symbolic_huge_powers_stay_small():
    """Found by the long fuzz run (it was killed by the kernel at 24 GB): SymPy expanded
    (x + 1)^(10^308) and computed 2^2^2^2^2^2 exactly. Run in a child with 2 GB of address space."""
    import resource
    code = (
        "import graphviz_bp as gbp\n"
        "from graphviz_bp.showing.render import render\n"
        "for t in ['f = (x + 1)^1e308', 'f = (x + y)^2^2^2^2', 'f = x * 2^2^2^2^2^2', 'f = (x + y)^1e3',\n"
        "          'f = x^999999999999999 + 2^999999999999999*x', 'f = x*(1e6^64)^64^64']:\n"
        "    g = gbp.parse(t)\n"
        "    print(str(gbp.symbolic_gradients(g))[:60])\n"
        "    render(g).source\n"
        "    [p.factors for p in gbp.derivative_paths(g, 'x', values=False)]\n")

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2 ** 30, 2 * 2 ** 30))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                       timeout=120, preexec_fn=cap)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "oo" in r.stdout and "(x + y)**999" in r.stdout


def test_implicit_product_as_on_paper():
    for text, value in [("f = 2x", 6.0), ("f = -2x", -6.0), ("f = exp(-2x)", math.exp(-6.0)), ("f = 3x^2", 27.0),
                        ("f = -0.5(x - 1)", -1.0)]:
        assert gbp.parse(text).evaluate(at={"x": 3.0})["f"] == pytest.approx(value)
    for text in ("f = x/2x", "f = x^2x", "f = -2 x"):         # ambiguous or not adjacent: an error, not a guess
        with pytest.raises(InputError):
            gbp.parse(text)


def test_every_function_rejects_wrong_arity_cleanly():
    for name, op_name in FUNCTIONS.items():
        arity = OPS[op_name].arity
        for args in ("", "x", "x, y", "x, y, z"):
            given = len(args.split(", ")) if args else 0
            if given == arity:
                continue
            with pytest.raises(InputError, match=f"takes {arity} argument"):
                gbp.parse(f"f = {name}({args})")


@pytest.mark.slow
def test_big_evaluations_are_not_kept_on_the_graph():
    """The dashboard keeps many graphs: an evaluation with more than CACHE_MAX_ELEMENTS tensor
    entries is not cached on its graph (a small one is), and the numbers are the same either way."""
    from graphviz_bp.core.evaluate import CACHE_MAX_ELEMENTS
    x = "[" + ", ".join(str(k % 7 - 3) for k in range(1000)) + "]"
    c = "[" + ", ".join(f"[{k % 5 - 2}]" for k in range(1000)) + "]"
    big = gbp.parse(f"x = {x}\nc = {c}\nM = c * x\nA = sin(M)\nf = sum(A * M)")
    assert 2 * 1000 * 1000 > CACHE_MAX_ELEMENTS
    value = big.evaluate()["f"]
    assert big._eval_cache is None
    xs, cs = np.array([k % 7 - 3 for k in range(1000)], float), np.array([k % 5 - 2 for k in range(1000)], float)
    M = np.outer(cs, xs)
    assert value == pytest.approx(np.sum(np.sin(M) * M))
    grad = big.gradients(wrt=["x"])["x"]
    assert np.allclose(grad, ((np.cos(M) * M + np.sin(M)) * cs[:, None]).sum(axis=0))
    small = gbp.parse("x = [1, 2]\nf = sum(x^2)")
    small.evaluate()
    assert small._eval_cache is not None


# --- issue 19: the worst inputs of a public dashboard ----------------------------------------------

HUGE = "9" * 5000


@pytest.mark.parametrize("program, column", [
    (f"x = [1, 2]\nf = x[{HUGE}]", 7),                       # int() refuses more than 4300 digits
    ("x = [1, 2]\nf = x[9223372036854775808]", 7),           # 2⁶³: NumPy's OverflowError
    ("x = [1, 2]\nf = x[-9223372036854775809]", 8),
    (f"M = [[1, 2], [3, 4]]\nK = [[1]]\nf = sum(conv2d(M, K, stride={HUGE}))", 29),
])
@pytest.mark.slow
def test_huge_index_or_stride_is_one_clear_line(program, column):
    with pytest.raises(InputError) as info:
        gbp.parse(program).evaluate()
    assert (info.value.line, info.value.column) == (2 if "conv2d" not in program else 3, column), str(info.value)
    assert "too large" in str(info.value) and len(str(info.value)) < 300
    r = cli("grad", "-e", program)
    assert_clean_exit_2(r)


@pytest.mark.slow
def test_paths_limit_must_be_positive():
    r = cli("paths", "-e", "f = x*x + x", "--at", "x=1", "--from", "x", "--limit", "-1")
    assert_clean_exit_2(r)
    assert "--limit" in r.stderr


@pytest.mark.slow
def test_invalid_utf8_is_one_line_with_its_position(tmp_path):
    program, answers = tmp_path / "p.txt", tmp_path / "a.txt"
    program.write_bytes(b"x = 1\nf = x\xff + 2\n")
    answers.write_bytes(b"f = 3\ngrad x = \xfe1\n")
    good = tmp_path / "good.txt"
    good.write_text("x = 1\nf = 2*x\n", encoding="utf-8")
    for args, where in ((["grad", str(program)], "line 2, column 6"),
                        (["check", str(good), str(answers)], "line 2, column 10")):
        r = cli(*args)
        assert_clean_exit_2(r)
        assert "UTF-8" in r.stderr and where in r.stderr, r.stderr


@pytest.mark.slow
def test_endless_input_stops_at_max_program_chars():
    """/dev/zero (and a stream on standard input) is refused once it holds more than
    max_program_chars characters, not after reading the machine's memory."""
    for args in (["grad", "/dev/zero"], ["check", "-e", "f = 2*x", "--at", "x=1", "/dev/zero"]):
        r = cli(*args, "--limit-max-program-chars", "100000", timeout=60)
        assert_clean_exit_2(r)
        assert "max_program_chars=100000" in r.stderr
    r = cli("grad", "-", "--limit-max-program-chars", "1000", stdin="x = 1\n" * 1000)
    assert_clean_exit_2(r)


@pytest.mark.slow
def test_at_given_twice_is_an_error():
    r = cli("grad", "-e", "f = 2*x", "--at", "x=1", "--at", "x=2")
    assert_clean_exit_2(r)
    assert "twice" in r.stderr


@pytest.mark.parametrize("args, fragment", [
    (["grad", "-e", "x = 1e999999\nf = x - x"], "'x' is infinite"),
    (["grad", "-e", "f = 2*x", "--at", "x=1e309"], "'x' is infinite"),
    (["grad", "-e", f"x = 1{'0' * 100000}\nf = x / x"], "'x' is infinite"),
    (["grad", "-e", "f = sqrt(x^2)", "--at", "x=0"], "sqrt(x^2)"),
])
@pytest.mark.slow
def test_no_silent_non_finite_value_or_gradient(args, fragment):
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    warnings_ = [line for line in r.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings_ and any(fragment in w for w in warnings_), r.stderr
    assert ("nan" in r.stdout or "inf" in r.stdout), r.stdout


def test_nonfinite_gradient_warning_names_the_edge_in_the_library():
    from graphviz_bp.algorithms.reverse import reverse
    from graphviz_bp.core.evaluate import gradient_warnings
    g = gbp.parse("f = sqrt(x^2) + x*y")
    ev = run(g, {"x": 0.0, "y": 1.0})
    r = reverse(g, at={"x": 0.0, "y": 1.0})
    assert math.isnan(r.adjoints["x"])                 # independent: d/dx sqrt(x²) at 0 has no value
    found = gradient_warnings(g, r.adjoints, ev.values)
    assert len(found) == 1 and "sqrt(x^2)" in found[0] and "line 1, column 5" in found[0], found
    assert gradient_warnings(g, reverse(g, at={"x": 2.0, "y": 1.0}).adjoints,
                             run(g, {"x": 2.0, "y": 1.0}).values) == []


@pytest.mark.slow
def test_lookalike_names_are_one_name_and_superscripts_are_not_names():
    g = gbp.parse("x = 2\nf = 𝑥 * x + 𝐱")           # mathematical italic and bold x: both are x
    assert g.leaves == ["x"] and g.evaluate()["f"] == 6.0
    assert gbp.parse("w₁ = 3\nf = 2*w1").evaluate()["f"] == 6.0
    for program, column in (("x² = 3\nf = x²", 2), ("f = 2*y³", 8)):
        with pytest.raises(InputError) as info:
            gbp.parse(program)
        assert info.value.column == column and "superscript" in str(info.value) and "^" in str(info.value)
    r = cli("grad", "-e", "f = 3*x", "--at", "𝑥=2")
    assert r.returncode == 0 and "f = 6" in r.stdout, r.stderr


def test_a_long_line_is_refused_as_it_is_read():
    """A 1.6 MB 'f = x+x+…' line with max_nodes=1000: refused where the 1001st operation is read,
    without a token list or a tree of the whole line (peak memory measured by tracemalloc)."""
    import tracemalloc

    from graphviz_bp.reading.parser import parse_program
    text = "f = " + "+".join(["x"] * 800_000)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            parse_program(text, Limits(max_nodes=1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "max_nodes=1000" in str(info.value) and info.value.line == 1 and info.value.column < 3000
    assert peak < 20 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB"


@pytest.mark.slow
def test_tokenizer_and_parser_check_the_time_budget():
    """One long line is one chunk: the budget is checked as its tokens are read, not per 4096 lines."""
    from graphviz_bp.core.limits import time_budget
    from graphviz_bp.reading.parser import parse_program
    text = "f = " + "+".join(["sin(x)"] * 20_000)
    with time_budget(0.0):
        time.sleep(0.01)
        with pytest.raises(InputError, match="time_budget_s"):
            parse_program(text, Limits())
    assert len(parse_program(text, Limits())) == 1          # and without a budget it parses


@pytest.mark.slow
def test_pasted_prose_is_read_in_linear_time():
    """Issue 19: '$x$ ' repeated made the size-declaration pattern backtrack 2^n times (30 never
    ended) and the words-beside check read the whole line once per span; now 30 repeats and 20,000
    are answered (one clear error: no formulas), in a subprocess that would otherwise hang."""
    code = ("from graphviz_bp.reading.latex import translate\n"
            "from graphviz_bp import InputError\n"
            "for n, tail in ((30, ''), (20000, r'and $a$ is a vector of size $1 \\times n$')):\n"
            "    try:\n"
            "        translate('$x$ ' * n + tail)\n"
            "    except InputError as e:\n"
            "        print(n, e.line, e.column)\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHVIZ_BP_")}
    environ["PYTHONPATH"] = str(ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    from graphviz_bp.reading.prose import size_declarations
    assert size_declarations("$x$ " * 30 + r"and $a$, $b$ are vectors of size $1 \times n$") == \
        {"x": (1, "n"), "a": (1, "n"), "b": (1, "n")}


def test_latex_nested_too_deep_says_where():
    """Issue 19: \\frac nested 500 deep was refused without a line and column."""
    text = "A sheet\n$$f = " + "\\frac{1}{" * 500 + "x" + "}" * 500 + "$$"
    with pytest.raises(InputError) as info:
        gbp.parse(text)
    assert info.value.kind == "limit" and "max_depth=" in str(info.value)
    # the 201st open brace: the first one of the 201st \\frac
    assert info.value.line == 2 and info.value.column == len("$$f = ") + len("\\frac{1}{") * 200 + len("\\frac") + 1


EVIL = "![a](http://127.0.0.1:9/pwned.png) $\\alpha$ `code` <img src=x onerror=alert(1)> [link](http://127.0.0.1:9/)"


def _unescaped_markup(text: str) -> list[str]:
    """Markdown/KaTeX/HTML constructs of EVIL that would be rendered (not preceded by a backslash)."""
    return [s for s in ("![", "](", "$", "`", "<img") if re.search(r"(?<!\\)" + re.escape(s), text)]


def test_user_text_in_dashboard_messages_is_shown_as_text():
    """Issue 19, item 6: an image link, $…$, a backtick or HTML typed into an input's value, an
    answers line or a program is echoed in a message as text (escaped), never rendered or fetched."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(PACKAGE / "app" / "page.py"), default_timeout=60)
    at.run()
    at.text_area(key="program").set_value("x = 1\nf = 2*x").run()
    (box,) = [t for t in at.text_input if t.key.startswith("input:x:")]
    box.set_value(EVIL).run()
    assert not at.exception
    shown = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any("pwned" in s for s in shown), shown
    for s in shown:
        assert not _unescaped_markup(s), s
    at.text_area(key="program").set_value("x = 1\nf = 2*x +\n# " + EVIL).run()
    assert not at.exception
    for s in [e.value for e in at.error]:
        assert not _unescaped_markup(s), s


@pytest.mark.parametrize("literal, shape", [("[[0], [0]]", "2×1"), ("[1, 2]", "2"), ("[[1, 2, 3], [4, 5, 6]]", "2×3")])
def test_inverse_of_a_non_square_operand_is_a_shape_error(literal, shape):
    """Found by the long fuzz run: inv of a 2×1 matrix gave NaN with a 'singular' warning, of a vector
    a traceback in the backward pass. Only a square matrix (or a scalar) has an inverse."""
    with pytest.raises(InputError, match=f"inv\\(y\\).*{shape}") as exc:
        gbp.parse(f"y = {literal}\nf = sum(inv(y))").evaluate()
    assert exc.value.line == 2
    r = cli("grad", "-e", f"y = {literal}; f = sum(inv(y))")
    assert r.returncode == 2 and "Traceback" not in r.stderr and shape in r.stderr, r.stderr
    # a square one still inverts: ∂ sum(A⁻¹)/∂A = −A⁻ᵀ 𝟏𝟏ᵀ A⁻ᵀ
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    g = gbp.parse("A = [[2, 1], [1, 3]]\nf = sum(inv(A))")
    Ai = np.linalg.inv(A)
    assert np.allclose(g.gradients()["A"], -(Ai.T @ np.ones((2, 2)) @ Ai.T))
