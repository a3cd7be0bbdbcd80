"""Every limit of graphviz_bp.core.limits (issue #8, item 1): a clear refusal that names the limit, its
value and how to raise it; through the library (LimitError, an InputError of kind "limit") and
through the CLI (exit 2, one line on standard error, no traceback); and the flag or environment
variable the message names really raises it."""
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import graphviz_bp as gbp
from graphviz_bp import InputError, LimitError, Limits
from graphviz_bp.core.limits import check_deadline, time_budget

ROOT = Path(__file__).resolve().parent.parent
FIELDS = [f.name for f in dataclasses.fields(Limits)]


def cli(*args, env=None, stdin=None, timeout=120):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHVIZ_BP_")}
    environ["PYTHONPATH"] = str(ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True,
                          cwd=ROOT, env=environ, input=stdin, timeout=timeout)


def assert_refused(r, field):
    """Exit 2, exactly one line on stderr naming the limit, its flag and its variable; no traceback."""
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    line = lines[0]
    assert line.startswith("graphviz-bp: error: ")
    assert f"{field}=" in line
    assert f"--limit-{field.replace('_', '-')}" in line
    assert f"GRAPHVIZ_BP_{field.upper()}" in line
    return line


def assert_limit_error(exc: LimitError, field, value):
    assert isinstance(exc, InputError) and exc.kind == "limit"
    text = str(exc)
    assert f"{field}={value}" in text, text
    assert f"--limit-{field.replace('_', '-')}" in text and f"GRAPHVIZ_BP_{field.upper()}" in text, text
    assert "\n" not in text
    return text


# --- the table of limits ---------------------------------------------------------------------------

def test_every_limit_has_a_default_a_flag_and_a_variable():
    """The one place: each field of Limits has a CLI flag (every subcommand that reads a program)
    and an environment variable."""
    from graphviz_bp.app.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command in ("grad", "paths", "render", "explain", "check"):
        flags = {s for a in sub.choices[command]._actions for s in a.option_strings}
        for field in FIELDS:
            assert f"--limit-{field.replace('_', '-')}" in flags, (command, field)
    for field in FIELDS:
        assert getattr(Limits(), field) > 0
        env = {f"GRAPHVIZ_BP_{field.upper()}": "7"}
        assert getattr(Limits.from_env(environ=env), field) == 7


def test_defaults_table():
    d = Limits()
    print("\n" + "\n".join(f"{f:24s} {getattr(d, f)!r}" for f in FIELDS))
    assert d.max_depth >= 100 and d.max_nodes >= 100_000 and d.max_paths_listed >= 1000
    assert d.max_render_nodes <= 1000 and 1 <= d.time_budget_s <= 60


def test_env_overrides_and_bad_env_value():
    lim = Limits.from_env(environ={"GRAPHVIZ_BP_MAX_NODES": "12", "GRAPHVIZ_BP_TIME_BUDGET_S": "2.5"},
                          max_depth=9)
    assert (lim.max_nodes, lim.time_budget_s, lim.max_depth) == (12, 2.5, 9)
    with pytest.raises(LimitError, match="GRAPHVIZ_BP_MAX_NODES"):
        Limits.from_env(environ={"GRAPHVIZ_BP_MAX_NODES": "lots"})
    r = cli("grad", "-e", "f = x*y", "--at", "x=1", "--at", "y=2", env={"GRAPHVIZ_BP_MAX_NODES": "lots"})
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_environment_variable_reaches_the_library_and_the_cli():
    r = cli("grad", "-e", "f = x*y + x", "--at", "x=1", "--at", "y=2", env={"GRAPHVIZ_BP_MAX_NODES": "3"})
    assert_refused(r, "max_nodes")
    r = cli("grad", "-e", "f = x*y + x", "--at", "x=1", "--at", "y=2", env={"GRAPHVIZ_BP_MAX_NODES": "30"})
    assert r.returncode == 0, r.stderr


# --- each limit: library and CLI ---------------------------------------------------------------------
# (field, small value, program, extra CLI args, the library call that must refuse)

def _paths_sum(g):
    return g.gradients(method="paths")


def _forward(g):
    return g.gradients(method="forward")


def _symbolic(g):
    return gbp.symbolic_gradients(g)


def _scalar_view(g):
    return gbp.scalar_view(g)


def _evaluate(g):
    return g.evaluate()


LADDER = "\n".join(["x = 1", "h0 = x"] + [f"h{i} = sin(h{i - 1}) * h{i - 1}" for i in range(1, 4)])
CASES = [
    ("max_program_chars", 20, "f = x + y + x*y + x/y + y/x", ["--at", "x=1", "--at", "y=2"], None),
    ("max_statements", 3, "a = 1\nb = 2\nc = a*b\nd = c + a\nf = d*d", [], None),
    ("max_depth", 5, "f = ((((((x))))))", ["--at", "x=1"], None),
    ("max_nodes", 6, "f = x*y + x/y + y - x", ["--at", "x=1", "--at", "y=2"], None),
    ("max_tensor_elements", 5, "v = [1, 2, 3, 4, 5, 6]\nf = sum(v)", [], None),
    ("max_tensor_elements", 5, "u = [1, 2, 3]\nw = [[1], [2], [3]]\nf = sum(u*w)", [], _evaluate),
    ("max_total_elements", 12, "u = [1, 2, 3, 4]\nw = u * 2\nz = w + u\nf = sum(z * w)", [], _evaluate),
    ("max_paths_listed", 3, "\n".join(["x = 1", "h0 = x"] + [f"h{i} = h{i - 1}*h{i - 1} + h{i - 1}"
                                                               for i in range(1, 5)]),
     ["--method", "paths"], _paths_sum),
    ("max_jacobian_elements", 50, "v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nf = sum(exp(v))",
     ["--method", "forward"], _forward),
    ("max_symbolic_ops", 40, LADDER, ["--symbolic"], _symbolic),
]


@pytest.mark.parametrize("field, value, program, args, call", CASES, ids=[c[0] for c in CASES])
def test_limit_library(field, value, program, args, call):
    limits = Limits(**{field: value})
    with pytest.raises(LimitError) as info:
        g = gbp.parse(program, limits=limits)
        call(g)
    assert_limit_error(info.value, field, value)
    # the default (or a raised) limit lets it through
    g = gbp.parse(program, limits=Limits(**{field: getattr(Limits(), field) * 100}))
    if call is not None:
        call(g)


@pytest.mark.parametrize("field, value, program, args, call", CASES, ids=[c[0] for c in CASES])
def test_limit_cli(field, value, program, args, call):
    flag = f"--limit-{field.replace('_', '-')}"
    r = cli("grad", "-e", program, *args, flag, str(value))
    line = assert_refused(r, field)
    # the message says how to raise it, and doing so works
    raise_flag = re.search(r"--limit-[a-z-]+", line).group(0)
    assert raise_flag == flag
    r = cli("grad", "-e", program, *args, flag, str(getattr(Limits(), field) * 100))
    assert r.returncode == 0, r.stderr
    # the same through the environment variable
    r = cli("grad", "-e", program, *args, env={f"GRAPHVIZ_BP_{field.upper()}": str(value)})
    assert_refused(r, field)


def test_limit_cli_json_error_document():
    r = cli("grad", "-e", "f = ((((((x))))))", "--at", "x=1", "--limit-max-depth", "3", "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["error"]["kind"] == "limit" and "max_depth=3" in doc["error"]["message"]


def test_max_depth_also_caps_literal_and_norm_nesting():
    for text in ["f = " + "[" * 8 + "1" + "]" * 8, "f = " + "||" * 8 + "x" + "||" * 8, "f = " + "| " * 8 + "x" + " |" * 8,
                 "f = " + "exp(" * 8 + "x" + ")" * 8, "f = " + "-" * 8 + "x", "f = " + "^".join("x" * 8)]:
        with pytest.raises(LimitError) as info:
            gbp.parse(text, limits=Limits(max_depth=5))
        assert_limit_error(info.value, "max_depth", 5)


def test_tensor_limit_applies_to_at_values_through_the_cli():
    r = cli("grad", "-e", "f = sum(v)", "--at", "v=[1, 2, 3, 4, 5, 6]", "--limit-max-tensor-elements", "4")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_listing_paths_is_capped_but_counting_stays_exact():
    text = "\n".join(["x = 1", "h0 = x"] + [f"h{i} = h{i - 1}*h{i - 1} + h{i - 1}" for i in range(1, 61)])
    g = gbp.parse(text, limits=Limits(max_paths_listed=7))
    assert gbp.count_paths(g, "x") == 2 ** 60                      # exact, never capped
    r = cli("paths", "-e", text, "--from", "x", "--json", "--limit-max-paths-listed", "7")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["count"] == 2 ** 60 and len(doc["paths"]) == 7 and doc["truncated"] is True
    assert "total" in doc                                          # by reverse accumulation
    with pytest.raises(LimitError) as info:
        g.gradients(method="paths")
    assert_limit_error(info.value, "max_paths_listed", 7)


def test_scalar_view_limit():
    g = gbp.parse("W = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\nx = [1, 2, 3]\nf = sum(W @ x)",
                  limits=Limits(max_scalar_view_nodes=10))
    with pytest.raises(LimitError) as info:
        gbp.scalar_view(g)
    assert_limit_error(info.value, "max_scalar_view_nodes", 10)
    r = cli("paths", "-e", "W = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\nx = [1, 2, 3]\nf = sum(W @ x)",
            "--from", "W", "--scalar", "--limit-max-scalar-view-nodes", "10")
    assert_refused(r, "max_scalar_view_nodes")


def test_render_above_the_node_cap_draws_a_summary_with_a_message():
    text = "\n".join(["x = 0.5", "h0 = x"] + [f"h{i} = sin(h{i - 1}) + x" for i in range(1, 40)])
    g = gbp.parse(text, limits=Limits(max_render_nodes=20))
    dot = gbp.render(g, at=None)
    notes = " ".join(getattr(dot, "gbp_notes", []))
    assert "max_render_nodes" in notes or "max_render_nodes" in dot.source
    assert "--limit-max-render-nodes" in notes + dot.source
    assert dot.source.count("->") < 40                              # a summary, not 80 nodes
    small = gbp.render(gbp.parse(text, limits=Limits(max_render_nodes=1000)))
    assert not getattr(small, "gbp_notes", [])


def test_render_cap_through_the_cli(tmp_path):
    text = "\n".join(["x = 0.5", "h0 = x"] + [f"h{i} = sin(h{i - 1}) + x" for i in range(1, 40)])
    out = tmp_path / "g.dot"
    r = cli("render", "-e", text, "-o", str(out), "--format", "dot", "--limit-max-render-nodes", "20")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "max_render_nodes" in r.stderr + out.read_text(encoding="utf-8")


# --- the time budget --------------------------------------------------------------------------------

def _long_chain(n):
    return "\n".join(["x = 0.5", "v0 = x"] + [f"v{i} = sin(v{i - 1})" for i in range(1, n)])


def test_time_budget_stops_the_engine_loops():
    g = gbp.parse(_long_chain(20_000))
    g.evaluate()                                             # fine without a budget
    for what, call in [("evaluation", lambda: gbp.parse(_long_chain(20_000)).evaluate()),
                       ("reverse", lambda: g.reverse()),
                       ("forward", lambda: g.gradients(method="forward", wrt=["x"])),
                       ("parsing", lambda: gbp.parse(_long_chain(20_000)))]:
        with time_budget(1e-4):
            time.sleep(0.01)
            with pytest.raises(LimitError) as info:
                call()
        text = str(info.value)
        assert "time_budget_s" in text and "--limit-time-budget-s" in text and "GRAPHVIZ_BP_TIME_BUDGET_S" in text
    with time_budget(60):
        assert g.gradients(wrt=["x"])["x"] == pytest.approx(g.gradients(wrt=["x"])["x"])
    check_deadline("nothing")                                # no budget outside the block


def test_time_budget_stops_path_listing():
    text = "\n".join(["x = 1", "h0 = x"] + [f"h{i} = h{i - 1}*h{i - 1} + h{i - 1}" for i in range(1, 3000)])
    g = gbp.parse(text)
    with time_budget(1e-4):
        time.sleep(0.01)
        with pytest.raises(LimitError, match="time_budget_s"):
            for _ in gbp.derivative_paths(g, "x", values=False):
                pass


def test_time_budget_is_per_thread():
    import threading
    g = gbp.parse(_long_chain(20_000))
    seen = []

    def other():
        seen.append(g.evaluate()[g.output])      # not under the main thread's budget
    with time_budget(1e-4):
        time.sleep(0.01)
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(seen) == 1


def test_time_budget_cli():
    t = time.monotonic()
    r = cli("grad", "-", "--limit-time-budget-s", "0.05", stdin=_long_chain(200_000))
    elapsed = time.monotonic() - t
    print(f"\n200,000-line chain under a 0.05 s budget: refused after {elapsed:.2f} s (process included)")
    assert_refused(r, "time_budget_s")


def test_time_budget_stops_few_big_tensor_ops():
    """Six 1000×1000 matrix products are a 9-node graph: the clock is also read after every big
    tensor op, not only every 4096 nodes; and inside conv2d's loop over the kernel."""
    x = "[" + ", ".join(["0.001"] * 1000) + "]"
    c = "[" + ", ".join(["[1]"] * 1000) + "]"
    text = f"x = {x}\nc = {c}\nM = c * x\nP = M @ M\nQ = P @ M\nR = Q @ M\nS = R @ M\nU = S @ M\nf = sum(U)"
    g = gbp.parse(text)
    t = time.monotonic()
    with time_budget(0.05):
        with pytest.raises(LimitError, match="time_budget_s"):
            g.gradients()
    print(f"\nmatmul chain stopped after {time.monotonic() - t:.2f} s")
    g = gbp.parse("f = sum(conv2d(I, K))")
    t = time.monotonic()
    with time_budget(0.05):
        with pytest.raises(LimitError, match="time_budget_s"):
            g.gradients(at={"I": np.ones((400, 400)), "K": np.ones((60, 60))})
    assert time.monotonic() - t < 10
