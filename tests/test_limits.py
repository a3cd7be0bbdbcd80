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

from graphviz_bp.showing.render import notes_of

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


@pytest.mark.slow
def test_env_overrides_and_bad_env_value():
    lim = Limits.from_env(environ={"GRAPHVIZ_BP_MAX_NODES": "12", "GRAPHVIZ_BP_TIME_BUDGET_S": "2.5"},
                          max_depth=9)
    assert (lim.max_nodes, lim.time_budget_s, lim.max_depth) == (12, 2.5, 9)
    with pytest.raises(LimitError, match="GRAPHVIZ_BP_MAX_NODES"):
        Limits.from_env(environ={"GRAPHVIZ_BP_MAX_NODES": "lots"})
    r = cli("grad", "-e", "f = x*y", "--at", "x=1", "--at", "y=2", env={"GRAPHVIZ_BP_MAX_NODES": "lots"})
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_tensor_limit_applies_to_at_values_through_the_cli():
    r = cli("grad", "-e", "f = sum(v)", "--at", "v=[1, 2, 3, 4, 5, 6]", "--limit-max-tensor-elements", "4")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
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


@pytest.mark.slow
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
    notes = " ".join(notes_of(dot))
    assert "max_render_nodes" in notes or "max_render_nodes" in dot.source
    assert "--limit-max-render-nodes" in notes + dot.source
    assert dot.source.count("->") < 40                              # a summary, not 80 nodes
    small = gbp.render(gbp.parse(text, limits=Limits(max_render_nodes=1000)))
    assert not notes_of(small)


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_time_budget_stops_path_listing():
    text = "\n".join(["x = 1", "h0 = x"] + [f"h{i} = h{i - 1}*h{i - 1} + h{i - 1}" for i in range(1, 3000)])
    g = gbp.parse(text, limits=Limits(max_path_length=10 ** 6))     # paths of 6,000 nodes: the budget first
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


@pytest.mark.slow
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


# --- issue 19: limits of the checker, path listing, frames, and the dashboard's workers -----------------

def test_claim_limit_and_checker_budget():
    from graphviz_bp.showing.check import check
    g = gbp.parse("x = 1\nf = 2*x", limits=Limits(max_claims=10))
    answers = "".join(f"grad x = {2 + k}\n" for k in range(30))
    with pytest.raises(LimitError) as info:
        check(g, answers)
    assert_limit_error(info.value, "max_claims", 10)
    assert info.value.line == 11                     # refused where the 11th claim is read
    assert check(gbp.parse("x = 1\nf = 2*x"), "f = 2\ngrad x = 2").ok
    with time_budget(0.0):
        time.sleep(0.01)
        with pytest.raises(LimitError, match="time_budget_s"):
            check(gbp.parse("x = 1\nf = 2*x"), "f = 2\ngrad x = 3")


def _diamonds(n, tail):
    lines = ["x = 1", "h0 = x"]
    for i in range(1, n + 1):
        lines += [f"a{i} = sin(h{i - 1})", f"b{i} = cos(h{i - 1})", f"h{i} = a{i} + b{i}"]
    lines.append(f"t0 = h{n}")
    lines += [f"t{i} = sin(t{i - 1})" for i in range(1, tail + 1)]
    return "\n".join(lines)


@pytest.mark.slow
def test_path_listing_is_bounded_by_size_and_by_length():
    from graphviz_bp.algorithms.paths import count_paths, list_paths
    g = gbp.parse(_diamonds(10, 100), limits=Limits(max_path_output_chars=20_000))
    assert count_paths(g, "x") == 2 ** 10                         # the count stays exact
    listed, truncated = list_paths(g, "x")
    size = sum(len(n) + 3 for p in listed for n in p["nodes"]) + \
        sum(len(f) + 3 for p in listed for f in p["factors"])
    assert truncated and 0 < len(listed) < 2 ** 10 and size <= 20_000
    assert sum(p["value"] for p in listed) != 0.0
    chain = gbp.parse("\n".join(["x = 0.5", "h0 = x"] + [f"h{i} = sin(h{i - 1})" for i in range(1, 300)]),
                      limits=Limits(max_path_length=100))
    with pytest.raises(LimitError) as info:
        list_paths(chain, "x")
    assert_limit_error(info.value, "max_path_length", 100)
    r = cli("paths", "-e", _diamonds(10, 100), "--from", "x", "--limit-max-path-output-chars", "20000")
    assert r.returncode == 0 and "1024 paths from x" in r.stdout and "(showing" in r.stdout
    assert len(r.stdout) < 40_000
    r = cli("paths", "-e", chain.text, "--from", "x", "--limit-max-path-length", "100")
    assert_refused(r, "max_path_length")


def test_frames_are_refused_above_max_frames(tmp_path):
    ladder = "\n".join(["x = 1", "h0 = x"] + [f"h{i} = h{i - 1}*h{i - 1} + h{i - 1}" for i in range(1, 9)])
    r = cli("render", "-e", ladder, "--frames", str(tmp_path / "f"), "--paths", "--limit-max-frames", "50")
    assert_refused(r, "max_frames")
    assert not (tmp_path / "f").exists() or not any((tmp_path / "f").iterdir())


# the worker's functions must be importable by name (they travel to the worker by pickling)

def _spin():
    while True:
        pass


def _hog():
    return np.ones((40_000, 40_000))          # 12.8 GB


def _parse_and_sum(text):
    g = gbp.parse(text)
    return g.evaluate()[g.output], g.gradients()


def _bad(text, **limits):
    gbp.parse(text, limits=Limits(**limits))


def _checking_loop():
    while True:
        check_deadline("a long loop")


def _sleep_then(value, seconds):
    time.sleep(seconds)
    return value


@pytest.fixture
def workers(monkeypatch):
    monkeypatch.setenv("GRAPHVIZ_BP_WORKERS", "1")
    from graphviz_bp.app import worker
    return worker


@pytest.mark.slow
def test_worker_returns_results_and_input_errors_as_they_are(workers):
    value, grads = workers.run(_parse_and_sum, "x = 3\ny = 2\nf = x^2 + x*y", limits=Limits())
    assert value == 15.0 and grads == {"x": 8.0, "y": 3.0}
    with pytest.raises(InputError) as info:
        workers.run(_bad, "x = 1\nf = x +* 2", limits=Limits())
    assert (info.value.line, info.value.column, info.value.kind) == (2, 8, "syntax")
    with pytest.raises(LimitError) as info:
        workers.run(_bad, "f = " + "+".join(["x"] * 50), max_nodes=10, limits=Limits())
    assert_limit_error(info.value, "max_nodes", 10)


@pytest.mark.slow
def test_worker_is_killed_on_overrun_with_one_line_naming_the_limit(workers):
    t = time.monotonic()
    with pytest.raises(LimitError) as info:
        workers.run(_spin, limits=Limits(time_budget_s=1.0))
    elapsed = time.monotonic() - t
    assert_limit_error(info.value, "time_budget_s", 1)
    assert elapsed < workers.WALL_FACTOR * 1.0 + workers.WALL_GRACE_S + 5
    with pytest.raises(LimitError) as info:
        workers.run(_hog, limits=Limits(max_worker_memory_mib=512))
    assert_limit_error(info.value, "max_worker_memory_mib", 512)
    assert workers.run(_sleep_then, 7, 0.0, limits=Limits()) == 7       # and the next one works


@pytest.mark.slow
def test_worker_pool_is_bounded(workers):
    """max_workers=1: two requests at once run one after the other; a third that cannot get a slot
    within the time budget is told the server is busy."""
    import threading
    from graphviz_bp.app import worker as w
    lim = Limits(max_workers=1, time_budget_s=1.5)
    w.run(_sleep_then, 0, 0.0, limits=lim)                      # the fork server is up
    results, errors = [], []

    def call(v):
        try:
            results.append((v, w.run(_sleep_then, v, 1.0, limits=lim), time.monotonic()))
        except LimitError as exc:
            errors.append(str(exc))
    t0 = time.monotonic()
    threads = [threading.Thread(target=call, args=(v,)) for v in range(3)]
    for th in threads:
        th.start()
        time.sleep(0.05)
    for th in threads:
        th.join()
    assert len(results) >= 1 and len(results) + len(errors) == 3
    assert all("busy" in e and "max_workers" in e for e in errors), errors
    ends = sorted(t - t0 for _, _, t in results)
    assert all(b - a > 0.8 for a, b in zip(ends, ends[1:])), ends       # one at a time


def test_worker_budget_counts_cpu_time_not_waiting(workers):
    """In a worker the cooperative budget counts the worker's CPU time: a loop that checks it stops
    with the engine's clean message; time spent waiting (here sleeping 1.5 s, as on a busy
    server) is not refused by a 1 s budget."""
    with pytest.raises(LimitError, match="a long loop ran past the time budget time_budget_s=1"):
        workers.run(_checking_loop, limits=Limits(time_budget_s=1.0))
    assert workers.run(_sleep_then, 5, 1.5, limits=Limits(time_budget_s=1.0)) == 5
