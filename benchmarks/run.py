#!/usr/bin/env python3
"""Benchmark graphviz-bp against anchors on the shared workloads, in one run.

    python benchmarks/run.py [--quick] [--json FILE] [--markdown FILE] [--only TEXT]

Each case runs in a fresh subprocess (``benchmarks/cases.py CASE ...``) with a
timeout; the case warms up, repeats, and prints JSON lines; this runner
collects them, prints Markdown tables (gradients, parsing/graph/paths/render,
ladder paths, MLP, cold start, memory, and the targets of issue 7) and then
the JSON of everything (to FILE with ``--json FILE``).

Workloads come from ``$GRAPHVIZ_BP_BENCH_DIR`` (default ``<repo>/../shared/bench``).
Nothing is installed: an anchor whose package is not importable is skipped
with a note. Exit status 1 when any gradient disagrees with the plain-Python
tape (a MISMATCH), else 0; timings never fail the run. See benchmarks/README.md.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASES_PY = HERE / "cases.py"
BENCH_DIR = Path(os.environ.get("GRAPHVIZ_BP_BENCH_DIR", REPO.parent / "shared" / "bench")).resolve()

SHAPES = ("chain", "rdag", "ladder")
FULL_NS = (100, 1_000, 10_000, 100_000)
QUICK_NS = (100, 1_000)
SYMPY_MAX_N = 1_000
RENDER_MAX_N = 1_000
RENDER_TARGET_N = 300
MEMORY_N = 100_000

# phases each case reports (a case that dies or times out gets the rest marked)
EXPECTED = {
    "ast": [("ast", "parse")],
    "tape": [("tape", "evaluate"), ("tape", "gradient")],
    "micrograd": [("micrograd", "gradient")],
    "torch": [("torch", "evaluate"), ("torch", "gradient")],
    "sympy": [("sympy", p) for p in ("build", "diff", "lambdify", "gradient")],
    "gbp": [("gbp", p) for p in ("parse", "build", "latex_build", "dag", "evaluate", "reverse", "forward",
                                 "count_paths", "first10_paths")],
    "gbp-render": [("gbp", "dot"), ("gbp", "svg")],
    "ladder-paths": [("gbp", "count_paths_2^60"), ("gbp", "first10_paths_2^1000"),
                     ("gbp", "count_paths_2^1000")],
    "mlp-numpy": [("numpy", "mlp_forward"), ("numpy", "mlp_gradient")],
    "mlp-torch": [("torch", "mlp_forward"), ("torch", "mlp_gradient")],
    "mlp-gbp": [("gbp", "mlp_parse"), ("gbp", "mlp_forward"), ("gbp", "mlp_gradient")],
}
FIXED_SHAPE = {"ladder-paths": "ladder", "mlp-numpy": "mlp", "mlp-torch": "mlp", "mlp-gbp": "mlp"}


# ---------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------

def plan(quick, timeout_scale=1.0):
    """List of case dicts: id, case, shape, n, repeats, budget, timeout."""
    ns = QUICK_NS if quick else FULL_NS
    cases = []

    def add(case, shape, n, repeats, budget, timeout, env=None):
        cid = f"{case}:{shape}:{n}" if shape else case
        cases.append({"id": cid, "case": case, "shape": shape, "n": n, "repeats": repeats,
                      "budget": budget, "timeout": timeout * timeout_scale, "env": env or {}})

    for n in ns:
        if quick:
            repeats, budget, timeout = 3, 1.5, 60
        else:
            repeats = 5 if n <= 10_000 else 3
            budget = 5.0
            timeout = {100: 60, 1_000: 90, 10_000: 180}.get(n, 300)
        for shape in SHAPES:
            for case in ("ast", "tape", "micrograd", "torch"):
                add(case, shape, n, repeats, budget, timeout)
            if n <= SYMPY_MAX_N:
                add("sympy", shape, n, repeats, budget, 10 if quick else 30)
            add("gbp", shape, n, repeats, budget, timeout)
            if n <= (100 if quick else RENDER_MAX_N):
                add("gbp-render", shape, n, *((2, 1.0, 25) if quick else (3, 3.0, 60)))
    for shape in SHAPES:                      # the 300-node render target: the whole graph drawn
        add("gbp-render", shape, RENDER_TARGET_N, *((2, 1.0, 25) if quick else (3, 3.0, 60)),
            env={"GRAPHVIZ_BP_MAX_RENDER_NODES": str(RENDER_TARGET_N + 100)})
    r, b = (3, 1.5) if quick else (5, 3.0)
    add("ladder-paths", None, None, r, b, 60)
    add("mlp-numpy", None, None, 10 if quick else 20, b, 60)
    add("mlp-torch", None, None, 10 if quick else 20, b, 90)
    add("mlp-gbp", None, None, 10 if quick else 20, b, 90)
    if not quick:                             # --quick stays at N <= 10^3
        for engine in ("gbp", "tape", "micrograd", "torch"):
            add(f"memory-{engine}", "chain", MEMORY_N, 0, 0, 180)
    return cases


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def case_env(threads):
    env = dict(os.environ)
    env["GRAPHVIZ_BP_BENCH_DIR"] = str(BENCH_DIR)
    env.setdefault("PYTHONHASHSEED", "0")
    if threads:
        for var in THREAD_VARS:
            env[var] = str(threads)
    return env


def run_case(spec, threads=1, no_gc=False):
    argv = [sys.executable, str(CASES_PY), spec["case"]]
    if no_gc:
        argv.append("--no-gc")
    if spec["shape"]:
        argv += ["--shape", spec["shape"], "--n", str(spec["n"])]
    argv += ["--repeats", str(spec["repeats"]), "--budget", str(spec["budget"])]
    env = case_env(threads)
    env.update(spec.get("env") or {})
    t0 = time.perf_counter()
    # own session, so that a timeout also ends the Graphviz processes the case started
    proc = subprocess.Popen(argv, cwd=str(REPO), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=spec["timeout"])
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    records = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    done = any(r.get("type") == "done" for r in records)
    result = dict(spec, argv=argv[1:], seconds=seconds, returncode=proc.returncode,
                  timed_out=timed_out, records=records)
    if not done:
        result["stderr_tail"] = err[-2000:]
        status = "timeout" if timed_out else "crashed"
        note = (f"case timed out after {spec['timeout']:.0f} s" if timed_out
                else f"case exited {proc.returncode}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        seen = {(r.get("engine"), r.get("phase")) for r in records if r.get("type") == "phase"}
        shape = FIXED_SHAPE.get(spec["case"], spec["shape"])
        for engine, phase in EXPECTED.get(spec["case"], []):
            if (engine, phase) not in seen:
                records.append({"type": "phase", "engine": engine, "phase": phase,
                                "shape": shape, "n": spec["n"], "status": status, "note": note})
        if spec["case"].startswith("memory-"):
            records.append({"type": "memory", "engine": spec["case"][7:], "shape": spec["shape"],
                            "n": spec["n"], "status": status, "note": note})
    return result


def cold_start(repeats=5):
    """`python -m graphviz_bp grad <E2> --json` vs `python -c pass`, whole processes."""
    patterns = ["*least*squares*", "*least_squares*", "*lstsq*", "*seed*000*", "*e2*", "*E2*"]
    not_programs = (".tex", ".md", ".json", ".answers", ".svg", ".png", ".pdf")
    found = []
    for pat in patterns:
        found = [p for p in glob.glob(str(REPO / "graphviz_bp" / "examples" / pat))
                 if os.path.isfile(p) and not p.endswith(not_programs)
                 and "correct" not in os.path.basename(p)]
        # a .txt program first, then the shortest name (l1_least_squares.txt before variants)
        found.sort(key=lambda p: (not p.endswith(".txt"), len(os.path.basename(p)), p))
        if found:
            break
    if not found:
        return {"status": "skipped", "note": "no graphviz_bp/examples/*least*squares* program found"}
    example = os.path.relpath(found[0], REPO)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmds = {"pass": [sys.executable, "-c", "pass"],
            "gbp": [sys.executable, "-m", "graphviz_bp", "grad", example, "--json"]}
    samples = {k: [] for k in cmds}
    last = {}

    def once(key):
        t0 = time.perf_counter()
        p = subprocess.run(cmds[key], cwd=str(REPO), env=env, capture_output=True, text=True,
                           timeout=60)
        dt = time.perf_counter() - t0
        last[key] = p
        return dt
    try:
        for key in cmds:                 # warm-up: file cache, .pyc
            once(key)
        for _ in range(repeats):         # interleaved, so drift hits both alike
            for key in cmds:
                samples[key].append(once(key))
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "example": example, "note": "a run took more than 60 s"}
    res = {"status": "ok", "example": example, "command": " ".join(cmds["gbp"][1:]),
           "pass": {"median": statistics.median(samples["pass"]), "samples": samples["pass"]},
           "gbp": {"median": statistics.median(samples["gbp"]), "samples": samples["gbp"]}}
    res["delta"] = res["gbp"]["median"] - res["pass"]["median"]
    p = last["gbp"]
    if p.returncode != 0:
        res["status"] = "error"
        res["note"] = f"exit {p.returncode}: {(p.stderr.strip().splitlines() or [''])[-1][:300]}"
        return res
    try:
        doc = json.loads(p.stdout)
        grads = doc.get("gradients", {})
        ok = True
        detail = f"value {doc.get('value')!r}, gradients of {sorted(grads)}"
        if "least" in example and "W" in grads:     # E2: L = 14, dL/dW = [[11, 3]]
            ok = grads["W"] == [[11, 3]] or grads["W"] == [[11.0, 3.0]]
            ok = ok and abs(float(doc.get("value")) - 14.0) < 1e-9
            detail += "; E2 expects L = 14, ∇W = [[11, 3]]" + ("" if ok else f", got ∇W = {grads['W']}")
        res["check"] = {"ok": ok, "detail": detail}
    except (ValueError, TypeError, AttributeError) as e:
        res["check"] = {"ok": False, "detail": f"stdout is not the expected JSON: {e}"}
    return res


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------

def fmt(x):
    if x is None:
        return "–"
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    if ax >= 0.01:
        return f"{x:.3f}"
    return f"{x:.2g}"


def fmt_n(n):
    return {100: "10²", 1_000: "10³", 10_000: "10⁴", 100_000: "10⁵"}.get(n, str(n))


class Results:
    def __init__(self, case_results):
        self.phases = {}
        self.memory = {}
        self.infos = []
        for cr in case_results:
            for r in cr["records"]:
                t = r.get("type")
                if t == "phase":
                    key = (r.get("engine"), r.get("phase"), r.get("shape"), r.get("n"))
                    if r.get("shape") == "mlp" or cr["case"].startswith("mlp"):
                        key = (r.get("engine"), r.get("phase"), "mlp", None)
                    if cr["case"] == "ladder-paths":
                        key = (r.get("engine"), r.get("phase"), "ladder", None)
                    self.phases[key] = r
                elif t == "memory":
                    self.memory[r.get("engine")] = r
                elif t == "info":
                    self.infos.append(r)

    def get(self, engine, phase, shape=None, n=None):
        return self.phases.get((engine, phase, shape, n))

    def median(self, engine, phase, shape=None, n=None):
        r = self.get(engine, phase, shape, n)
        if r and r.get("status") == "ok":
            return r["median"]
        return None


def cell(r, scale, per_node=False):
    """Markdown cell for a phase record: value in the given unit, or a status word."""
    if r is None:
        return "–"
    st = r.get("status")
    if st != "ok":
        return {"n/a": "n/a", "error": "error", "timeout": "timeout", "crashed": "crashed",
                "skipped": "–"}.get(st, st or "?")
    v = r["median"] / (r["n"] if per_node and r.get("n") else 1) * scale
    s = fmt(v)
    if r.get("check") and not r["check"]["ok"]:
        s += " ✗MISMATCH"
    if r.get("parse_plus_build"):
        s += "‡"
    if not r.get("warm", True):
        s += "°"
    if r.get("summary"):
        s += "§"
    return s


def tables(res, case_results, cold, targets, ns, quick):
    out = []
    w = out.append
    w("## Scalar workloads — value and gradient, µs per node (median)\n")
    w("| workload | N | tape eval | gbp evaluate | tape grad | **gbp reverse** | gbp forward (1 input) "
      "| micrograd | torch | sympy lambdified | sympy diff+lambdify (s, once) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in ns:
        for shape in SHAPES:
            g = lambda e, p: res.get(e, p, shape, n)      # noqa: E731
            sym = "–"
            if n <= SYMPY_MAX_N:
                parts = [res.get("sympy", p, shape, n) for p in ("build", "diff", "lambdify")]
                if all(p and p.get("status") == "ok" for p in parts):
                    sym = fmt(sum(p["median"] for p in parts))
                else:
                    bad = next((p for p in parts if p is None or p.get("status") != "ok"), None)
                    sym = cell(bad, 1.0) if bad else "–"
            w(f"| {shape} | {fmt_n(n)} | {cell(g('tape', 'evaluate'), 1e6, True)} "
              f"| {cell(g('gbp', 'evaluate'), 1e6, True)} | {cell(g('tape', 'gradient'), 1e6, True)} "
              f"| **{cell(g('gbp', 'reverse'), 1e6, True)}** | {cell(g('gbp', 'forward'), 1e6, True)} "
              f"| {cell(g('micrograd', 'gradient'), 1e6, True)} | {cell(g('torch', 'gradient'), 1e6, True)} "
              f"| {cell(g('sympy', 'gradient'), 1e6, True) if n <= SYMPY_MAX_N else '–'} | {sym} |")
    w("")
    w("## Scalar workloads — parsing, graph, paths, drawing, ms (median)\n")
    w("| workload | N | ast.parse | gbp parse | gbp build (parse) | from LaTeX (build) | g.dag | count_paths "
      "| first 10 paths | render DOT | render SVG |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    render_ns = [n for n in ns if n <= (100 if quick else RENDER_MAX_N)]
    for n in ns:
        for shape in SHAPES:
            g = lambda e, p: res.get(e, p, shape, n)      # noqa: E731
            dot = cell(g("gbp", "dot"), 1e3) if n in render_ns else "–"
            svg = cell(g("gbp", "svg"), 1e3) if n in render_ns else "–"
            w(f"| {shape} | {fmt_n(n)} | {cell(g('ast', 'parse'), 1e3)} | {cell(g('gbp', 'parse'), 1e3)} "
              f"| {cell(g('gbp', 'build'), 1e3)} | {cell(g('gbp', 'latex_build'), 1e3)} "
              f"| {cell(g('gbp', 'dag'), 1e3)} "
              f"| {cell(g('gbp', 'count_paths'), 1e3)} | {cell(g('gbp', 'first10_paths'), 1e3)} "
              f"| {dot} | {svg} |")
    for shape in SHAPES:
        g = lambda e, p: res.get(e, p, shape, RENDER_TARGET_N)  # noqa: E731
        w(f"| {shape} | {RENDER_TARGET_N} | | | | | | | | {cell(g('gbp', 'dot'), 1e3)} "
          f"| {cell(g('gbp', 'svg'), 1e3)} |")
    w("")
    w("‡ `graphviz_bp.reading.parser.parse_program` missing: `graphviz_bp.parse` (parse + build) timed instead. "
      "° a single cold call (the first one took > 10 s). "
      "§ graphviz-bp drew a summary, not the graph (above max_render_nodes, default limits; "
      f"the N={RENDER_TARGET_N} rows run with GRAPHVIZ_BP_MAX_RENDER_NODES={RENDER_TARGET_N + 100} "
      "so that the whole graph is drawn). n/a: API not there yet.\n")

    w("## Ladder paths, MLP (batch 64, 784→128→10), cold start, memory\n")
    w("| measurement | time (ms, median) | check |")
    w("|---|---:|---|")
    for phase, label in (("count_paths_2^60", "count_paths, ladder N=180 (2⁶⁰ paths)"),
                         ("first10_paths_2^1000", "first 10 paths, ladder N=3000 (2¹⁰⁰⁰ paths)"),
                         ("count_paths_2^1000", "count_paths, ladder N=3000 (2¹⁰⁰⁰ paths)")):
        r = res.get("gbp", phase, "ladder", None)
        w(f"| gbp {label} | {cell(r, 1e3)} | {check_text(r)} |")
    for engine, label in (("numpy", "NumPy hand-written backprop"), ("torch", "torch autograd"),
                          ("gbp", "graphviz-bp")):
        for phase, what in (("mlp_forward", "MLP loss (forward)"), ("mlp_gradient", "MLP loss + gradient")):
            r = res.get(engine, phase, "mlp", None)
            w(f"| {label}: {what} | {cell(r, 1e3)} | {check_text(r)} |")
    r = res.get("gbp", "mlp_parse", "mlp", None)
    w(f"| graphviz-bp: MLP parse | {cell(r, 1e3)} | {check_text(r)} |")
    if cold.get("status") == "ok" or "pass" in cold:
        w(f"| cold start `python -c pass` (median of 5) | {fmt(cold['pass']['median'] * 1e3)} | |")
        w(f"| cold start `python {cold.get('command', '')}` | {fmt(cold['gbp']['median'] * 1e3)} "
          f"| {check_text(cold)} |")
    else:
        w(f"| cold start | {cold.get('status')} | {cold.get('note', '')} |")
    w("")
    w("| peak RSS, chain N=10⁵, build + reverse gradient | baseline (MiB) | peak (MiB) | time (s) | check |")
    w("|---|---:|---:|---:|---|")
    if not res.memory:
        w("| (not measured: the memory cases need N = 10⁵ and run in the full run only) | | | | |")
    for engine in ("gbp", "tape", "micrograd", "torch"):
        m = res.memory.get(engine)
        if m is None:
            continue
        if m.get("status") != "ok":
            w(f"| {engine} | | {m.get('status')} | | {m.get('note', '')[:120]} |")
            continue
        extra = f" (after g.dag: {fmt(m['after_dag_mib'])})" if "after_dag_mib" in m else ""
        w(f"| {engine} | {fmt(m['baseline_mib'])} | {fmt(m['peak_mib'])}{extra} | {fmt(m['seconds'])} "
          f"| {check_text(m)} |")
    w("")
    w("## Targets (issue 7)\n")
    w("| target | measured | ratio | status |")
    w("|---|---|---|---|")
    for t in targets:
        w(f"| {t['target']} | {t['measured']} | {t['ratio']} | {t['status']} |")
    w("")
    return "\n".join(out)


def check_text(r):
    if not r:
        return ""
    if r.get("status") not in ("ok", None):
        return (r.get("note") or "")[:140]
    c = r.get("check")
    if not c:
        return ""
    return ("ok: " if c["ok"] else "**✗ MISMATCH**: ") + str(c.get("detail", ""))[:140]


# ---------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------

def compute_targets(res, cold, ns):
    """The targets of issue 7: [{target, measured, ratio, status}]."""
    T = []
    n_big = max(ns)
    qual = "" if n_big == 100_000 else f" (measured at N={fmt_n(n_big)}, not 10⁵)"

    def val(engine, phase, shape=None, n=None):
        """(median or None, problem or None); problem: a status word, or 'MISMATCH'."""
        r = res.get(engine, phase, shape, n)
        if r is None:
            return None, "not measured"
        if r.get("status") != "ok":
            return None, r.get("status", "?")
        if r.get("check") and not r["check"].get("ok"):
            return r["median"], "MISMATCH"
        return r["median"], None

    def add(target, measured, ratio, met, problem=None):
        if problem == "MISMATCH":
            st = "**NOT met** (a result is wrong: MISMATCH)"
        elif problem:
            st = problem
        else:
            st = "met" if met else "**NOT met**"
        T.append({"target": target, "measured": measured, "ratio": ratio, "status": st})

    def first_problem(*pairs, required=None):
        required = range(len(pairs)) if required is None else required
        probs = [pairs[i][1] for i in required if pairs[i][1]]
        return "MISMATCH" if "MISMATCH" in probs else (probs[0] if probs else None)

    per = lambda s: f"{fmt(s / n_big * 1e6)} µs" if s is not None else "–"   # noqa: E731

    # 1. reverse gradient per node at N = 10^5
    for shape in SHAPES:
        name = f"reverse gradient per node, {shape} N=10⁵: < micrograd, < torch, ≤ 3× tape{qual}"
        gb, tp, mg, th = (val("gbp", "reverse", shape, n_big), val("tape", "gradient", shape, n_big),
                          val("micrograd", "gradient", shape, n_big), val("torch", "gradient", shape, n_big))
        prob = first_problem(gb, tp, mg, th)
        ratios, met = [], True
        for label, ref, limit in (("tape", tp, 3.0), ("micrograd", mg, 1.0), ("torch", th, 1.0)):
            if gb[0] is None or ref[0] is None:
                ratios.append(f"{label}: –")
                continue
            q = gb[0] / ref[0]
            ratios.append(f"{q:.2f}× {label}")
            met = met and (q <= limit if label == "tape" else q < limit)
        add(name, f"gbp {per(gb[0])}/node (tape {per(tp[0])}, micrograd {per(mg[0])}, torch {per(th[0])})"
            if gb[0] is not None else (gb[1] or ""), ", ".join(ratios), met, prob)
    # 2. parse within 2x of ast.parse
    for shape in SHAPES:
        name = f"parse of {shape} 10⁵ lines ≤ 2× ast.parse{qual}"
        gp, ap = val("gbp", "parse", shape, n_big), val("ast", "parse", shape, n_big)
        r = res.get("gbp", "parse", shape, n_big) or {}
        note = " (parse+build: parser.parse_program missing)" if r.get("parse_plus_build") else ""
        if gp[0] is None or ap[0] is None:
            add(name, "", "", None, first_problem(gp, ap))
            continue
        add(name, f"gbp {fmt(gp[0] * 1e3)} ms, ast.parse {fmt(ap[0] * 1e3)} ms{note}",
            f"{gp[0] / ap[0]:.2f}×", gp[0] / ap[0] <= 2.0, first_problem(gp, ap))
    # 3, 4. ladder paths
    for phase, name, limit in (("count_paths_2^60", "exact path count, 2⁶⁰ ladder < 10 ms", 0.010),
                               ("first10_paths_2^1000", "first 10 paths, 2¹⁰⁰⁰ ladder < 100 ms", 0.100)):
        m = val("gbp", phase, "ladder", None)
        if m[0] is None:
            add(name, "", "", None, "**NOT met** (timeout)" if m[1] == "timeout" else m[1])
        else:
            add(name, f"{fmt(m[0] * 1e3)} ms", f"{m[0] / limit:.2f}× budget", m[0] < limit, m[1])
    # 5. MLP
    name = "MLP gradient ≤ 1.5× NumPy backprop"
    gm, nm, tm = (val("gbp", "mlp_gradient", "mlp"), val("numpy", "mlp_gradient", "mlp"),
                  val("torch", "mlp_gradient", "mlp"))
    if gm[0] is None or nm[0] is None:
        add(name, f"gbp: {gm[1] or 'ok'}, NumPy: {nm[1] or 'ok'}", "", None, first_problem(gm, nm))
    else:
        add(name, f"gbp {fmt(gm[0] * 1e3)} ms, NumPy {fmt(nm[0] * 1e3)} ms, "
                  f"torch {fmt(tm[0] * 1e3) if tm[0] is not None else '–'} ms",
            f"{gm[0] / nm[0]:.2f}× NumPy", gm[0] / nm[0] <= 1.5, first_problem(gm, nm))
    # 6. cold start
    name = "cold start `grad E2 --json` < 0.5 s more than `python -c pass`"
    if "delta" in cold and cold.get("status") == "ok":
        bad = cold.get("check") and not cold["check"]["ok"]
        add(name, f"{fmt(cold['gbp']['median'] * 1e3)} ms vs {fmt(cold['pass']['median'] * 1e3)} ms",
            f"+{fmt(cold['delta'] * 1e3)} ms", cold["delta"] < 0.5, "MISMATCH" if bad else None)
    else:
        add(name, cold.get("note", ""), "", None, cold.get("status", "?"))
    # 7. render 300 nodes
    for shape in SHAPES:
        name = f"render {shape} {RENDER_TARGET_N}-node graph to SVG < 3 s"
        r = res.get("gbp", "svg", shape, RENDER_TARGET_N) or {}
        m = val("gbp", "svg", shape, RENDER_TARGET_N)
        if m[0] is None:
            add(name, "", "", None, "**NOT met** (timeout)" if m[1] == "timeout" else m[1])
        else:
            summ = " (a SUMMARY was drawn, not the graph)" if r.get("summary") else ""
            add(name, f"{fmt(m[0])} s{summ}", f"{m[0] / 3.0:.2f}× budget", m[0] < 3.0 and not summ, m[1])
    # 8. memory
    name = "10⁵-node chain, build + reverse, peak RSS < 1 GiB"
    m = res.memory.get("gbp")
    if m and m.get("status") == "ok":
        bad = m.get("check") and not m["check"]["ok"]
        add(name, f"{fmt(m['peak_mib'])} MiB (baseline {fmt(m['baseline_mib'])} MiB)",
            f"{m['peak_mib'] / 1024:.2f}× budget", m["peak_mib"] < 1024, "MISMATCH" if bad else None)
    elif m:
        add(name, (m.get("note") or "")[:80], "", None, m.get("status"))
    else:
        add(name, "", "", None, "not measured (--quick)" if n_big < 100_000 else "not measured")
    return T


def collect_mismatches(case_results, cold):
    out = []
    for cr in case_results:
        for r in cr["records"]:
            c = r.get("check")
            if c and not c.get("ok"):
                out.append(f"{r.get('engine')} {r.get('phase', r.get('type'))} "
                           f"{r.get('shape') or ''} n={r.get('n')}: {c.get('detail')}")
    if cold.get("check") and not cold["check"]["ok"]:
        out.append(f"cold start {cold.get('example')}: {cold['check']['detail']}")
    return out


def collect_notes(case_results):
    notes = {}
    for cr in case_results:
        for r in cr["records"]:
            if r.get("type") in ("phase", "memory") and r.get("status") in ("n/a", "error", "crashed", "timeout"):
                key = (r.get("engine"), r.get("phase", "memory"), r.get("status"), r.get("note"))
                notes.setdefault(key, []).append(f"{r.get('shape')}:{r.get('n')}")
            if r.get("type") == "info" and r.get("warning"):
                notes.setdefault(("info", "", "warning", r["warning"]), []).append(cr["id"])
    lines = []
    for (engine, phase, st, note), where in notes.items():
        where_s = ", ".join(where[:6]) + (" …" if len(where) > 6 else "")
        lines.append(f"- {engine} {phase} — {st}: {note} ({where_s})")
    return lines


def versions():
    """Versions from package metadata, without importing anything heavy."""
    import importlib.metadata as md
    import re
    v = {"python": sys.version.split()[0], "platform": platform.platform(),
         "cpus": os.cpu_count()}
    for mod, dist in (("numpy", "numpy"), ("networkx", "networkx"), ("graphviz", "graphviz"),
                      ("sympy", "sympy"), ("torch", "torch"), ("micrograd", "micrograd")):
        try:
            v[mod] = md.version(dist)
        except md.PackageNotFoundError:
            v[mod] = "not installed"
    init = REPO / "graphviz_bp" / "__init__.py"
    m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", init.read_text()) if init.exists() else None
    v["graphviz_bp"] = m.group(1) if m else ("work tree" if init.exists() else "absent")
    return v


def selected(cid, patterns):
    """--only: 'TEXT' without a colon matches ids containing it; 'a:b' matches ids whose
    colon-separated fields start with a, b (so 'gbp:chain:100' is not 'gbp:chain:1000')."""
    fields = cid.split(":")
    for pat in patterns:
        parts = pat.split(":")
        if len(parts) == 1 and pat in cid:
            return True
        if len(parts) > 1 and fields[:len(parts)] == parts:
            return True
    return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N ≤ 10³, few repeats (about 2 minutes)")
    ap.add_argument("--json", metavar="FILE", help="write the JSON here ('-' = stdout, the default)")
    ap.add_argument("--markdown", metavar="FILE", help="also write the Markdown tables here")
    ap.add_argument("--only", metavar="TEXT", action="append",
                    help="run only these cases: ids containing TEXT ('mlp', 'render'), or whose fields start with "
                         "TEXT ('gbp:chain', 'torch:rdag:1000'); repeatable")
    ap.add_argument("--no-cold-start", action="store_true", help="skip the cold-start measurement")
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every case timeout")
    ap.add_argument("--no-gc", action="store_true",
                    help="disable garbage collection during timed calls (default: on, as in real use)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS/OpenMP threads in each case (OMP_NUM_THREADS etc.; 0 = leave as is)")
    args = ap.parse_args(argv)

    if not (BENCH_DIR / "workloads.py").exists():
        print(f"run.py: no workloads.py in {BENCH_DIR}; set GRAPHVIZ_BP_BENCH_DIR", file=sys.stderr)
        return 2
    ns = QUICK_NS if args.quick else FULL_NS
    specs = plan(args.quick, args.timeout_scale)
    if args.only:
        specs = [s for s in specs if selected(s["id"], args.only)]
    t_start = time.perf_counter()
    meta = {"started": datetime.datetime.now().isoformat(timespec="seconds"), "quick": args.quick,
            "gc_during_timing": not args.no_gc, "threads": args.threads,
            "loadavg_before": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "bench_dir": str(BENCH_DIR), "versions": versions()}
    results = []
    failed = {}            # (case, shape) -> smallest N that timed out / failed: skip larger N
    failed_why = {}
    for i, spec in enumerate(specs, 1):
        key = (spec["case"], spec["shape"])
        if spec["n"] and key in failed and spec["n"] > failed[key] and spec["case"] in ("sympy", "gbp", "micrograd", "torch"):
            note = failed_why.get(key, f"skipped: N={failed[key]} already timed out")
            recs = [{"type": "phase", "engine": e, "phase": p, "shape": spec["shape"], "n": spec["n"],
                     "status": "skipped", "note": note} for e, p in EXPECTED.get(spec["case"], [])]
            results.append(dict(spec, seconds=0.0, returncode=None, timed_out=False, records=recs,
                                skipped=note))
            print(f"[{i:2d}/{len(specs)}] {spec['id']:<24} {note}", file=sys.stderr, flush=True)
            continue
        print(f"[{i:2d}/{len(specs)}] {spec['id']:<24} ", end="", file=sys.stderr, flush=True)
        cr = run_case(spec, args.threads, args.no_gc)
        results.append(cr)
        bad = sum(1 for r in cr["records"] if r.get("check") and not r["check"].get("ok"))
        st = "TIMEOUT" if cr["timed_out"] else ("ok" if cr["returncode"] == 0 else f"exit {cr['returncode']}")
        print(f"{cr['seconds']:6.1f} s  {st}{'  MISMATCH x%d' % bad if bad else ''}",
              file=sys.stderr, flush=True)
        if cr["timed_out"] or any(r.get("status") == "timeout" for r in cr["records"]):
            failed.setdefault(key, spec["n"])
        elif spec["case"] == "sympy":
            # symbolic work grows at least linearly: skip an N where even that would time out
            sym = [r["median"] for r in cr["records"] if r.get("type") == "phase"
                   and r.get("phase") in ("build", "diff", "lambdify") and r.get("status") == "ok"]
            nxt = [s["n"] for s in specs if s["case"] == "sympy" and s["shape"] == spec["shape"]
                   and s["n"] > spec["n"]]
            if sym and nxt and sum(sym) * min(nxt) / spec["n"] > spec["timeout"]:
                failed.setdefault(key, spec["n"])
                failed_why[key] = (f"skipped: symbolic steps took {sum(sym):.1f} s at N={spec['n']}, "
                                   f"so N={min(nxt)} would exceed the {spec['timeout']:.0f} s timeout")
    if args.no_cold_start or (args.only and not any("cold" in o for o in args.only)):
        cold = {"status": "skipped", "note": "not run (--no-cold-start / --only)"}
    else:
        print("[cold start] ", end="", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        cold = cold_start()
        print(f"{time.perf_counter() - t0:6.1f} s  {cold.get('status')}", file=sys.stderr, flush=True)

    res = Results(results)
    targets = compute_targets(res, cold, ns)
    mismatches = collect_mismatches(results, cold)
    meta["seconds"] = time.perf_counter() - t_start

    md = [f"# graphviz-bp benchmark ({'quick' if args.quick else 'full'} run, {meta['started']})\n",
          "Python {python} on {platform}, {cpus} CPUs; numpy {numpy}, torch {torch}, micrograd {micrograd}, "
          "sympy {sympy}, networkx {networkx}, graphviz {graphviz}; graphviz-bp {graphviz_bp}. "
          .format(**meta["versions"])
          + f"Garbage collection {'on' if not args.no_gc else 'OFF'} during timed calls; "
            f"{args.threads or 'default'} BLAS thread(s); load average before the run "
            f"{', '.join(f'{x:.2f}' for x in meta['loadavg_before']) if meta['loadavg_before'] else '?'}, "
            f"after {', '.join(f'{x:.2f}' for x in os.getloadavg()) if hasattr(os, 'getloadavg') else '?'}.\n",
          tables(res, results, cold, targets, ns, args.quick)]
    load = meta["loadavg_before"]
    if load and load[0] > 0.75 * (os.cpu_count() or 1):
        md.insert(2, f"> **The machine was busy** (load average {load[0]:.2f} on {os.cpu_count()} CPUs "
                     "when the run started): timings are noisy; rerun on an idle machine.\n")
    if mismatches:
        md.append("## ✗ MISMATCHES (results that disagree with the reference: the plain-Python tape, "
                  "NumPy backprop, an exact count)\n")
        md.extend(f"- **{m}**" for m in mismatches)
        md.append("")
    notes = collect_notes(results)
    if notes:
        md.append("## Notes (n/a, errors, timeouts)\n")
        md.extend(notes)
        md.append("")
    md.append(f"Total run time: {meta['seconds']:.0f} s.")
    md_text = "\n".join(md)
    print(md_text)
    if args.markdown:
        Path(args.markdown).write_text(md_text + "\n")
    doc = {"meta": meta, "targets": targets, "mismatches": mismatches, "cold_start": cold,
           "cases": results}
    js = json.dumps(doc, indent=1, default=str)
    if args.json and args.json != "-":
        Path(args.json).write_text(js + "\n")
        print(f"\nJSON written to {args.json}", file=sys.stderr)
    else:
        print("\n```json\n" + js + "\n```")
    if mismatches:
        print("\n*** MISMATCH: %d result(s) disagree with the reference:" % len(mismatches),
              file=sys.stderr)
        for m in mismatches:
            print("  - " + m, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
