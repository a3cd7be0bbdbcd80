#!/usr/bin/env python3
"""One benchmark case, run in a fresh process by ``benchmarks/run.py``.

    python benchmarks/cases.py CASE [--shape chain|rdag|ladder] [--n N]
                                    [--repeats R] [--budget SECONDS]

Cases (see ``CASES`` at the bottom):
  ast, tape, micrograd, torch, sympy, gbp   scalar workload SHAPE of N lines
  gbp-render                                DOT and SVG of that workload
  ladder-paths                              count of a 2^60 ladder, first 10 of a 2^1000 one
  mlp-numpy, mlp-torch, mlp-gbp             the 2-layer MLP tensor case
  memory-gbp, memory-tape, memory-micrograd, memory-torch
                                            peak RSS of build + reverse on the N-node chain

Standard output is one JSON object per line, flushed as soon as it is known,
so that a case killed by the runner's timeout still reports what it finished:

  {"type": "phase", "engine", "phase", "shape", "n", "status": "ok"|"n/a"|"error"|"skipped",
   "median", "samples", "first", "per_node_us", "check": {"ok", "detail"}, "note"}
  {"type": "info", ...}      anything else worth keeping (versions, memory, counts)
  {"type": "done"}

Timing: one untimed-for-the-median warm-up call, then up to R timed calls
(time.perf_counter; gc.collect() before each, garbage collection left on
unless --no-gc),
stopping early once the timed calls add up to more than the budget; the median
is reported. A phase whose warm-up alone takes more than COLD_ONLY seconds is
not repeated: that one call is its only sample ("warm": false).

Checks run outside the timed region: every anchor's gradient is compared with
the plain-Python tape (normwise relative error <= 1e-9), and so is every
graphviz-bp gradient. A mismatch is printed on standard error and marked in
the record; the runner reports it loudly and exits non-zero.

A graphviz-bp phase whose API is missing (AttributeError / ImportError) is
recorded as "n/a" with the message, never a crash.
"""
import argparse
import gc
import itertools
import json
import math
import os
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))            # graphviz_bp from this work tree

import anchors as A                      # noqa: E402

BENCH_DIR = Path(os.environ.get("GRAPHVIZ_BP_BENCH_DIR", REPO.parent / "shared" / "bench")).resolve()
COLD_ONLY = 10.0          # seconds
GC_OFF = False            # --no-gc: garbage collection disabled during timed calls
REL_TOL = 1e-9
MISSING = object()


def emit(rec):
    print(json.dumps(rec, default=_json_default), flush=True)


def _json_default(o):
    try:
        return float(o)
    except Exception:
        return repr(o)


def load_workloads_module():
    if not (BENCH_DIR / "workloads.py").exists():
        raise SystemExit(f"cases.py: no workloads.py in {BENCH_DIR} (set GRAPHVIZ_BP_BENCH_DIR)")
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    import workloads
    return workloads


def load_workload(shape, n):
    """(text, inputs, compiled) for a shared workload.

    The text and inputs come from shared/bench/workloads/<shape>_<n>.* when
    those files exist, otherwise from workloads.py; both are checked to agree."""
    workloads = load_workloads_module()
    prog, inputs = workloads.make_workload(shape, n)
    text = workloads.to_text(prog)
    f = BENCH_DIR / "workloads" / f"{shape}_{n}.txt"
    if f.exists():
        ftext = f.read_text()
        if ftext != text:
            emit({"type": "info", "warning": f"{f.name} differs from workloads.py output; using the file"})
        text = ftext
    fi = BENCH_DIR / "workloads" / f"{shape}_{n}.inputs.json"
    if fi.exists():
        inputs = json.loads(fi.read_text())["inputs"]
    return text, dict(inputs), A.compile_program(prog, inputs)


# ---------------------------------------------------------------------------
# timing and checking
# ---------------------------------------------------------------------------

def _timed(fn, arg):
    gc.collect()
    if GC_OFF:
        gc.disable()
    try:
        t0 = time.perf_counter()
        result = fn(arg)
        return time.perf_counter() - t0, result
    finally:
        if GC_OFF:
            gc.enable()


def measure(fn, setup=None, repeats=3, budget=5.0):
    arg = setup() if setup is not None else None
    first, result = _timed(fn, arg)
    if first > COLD_ONLY or repeats <= 0:
        return {"median": first, "min": first, "samples": [first], "first": first,
                "warm": False}, result
    samples = []
    for _ in range(repeats):
        arg = setup() if setup is not None else None
        result = None                    # free the previous result before the next call
        dt, result = _timed(fn, arg)
        samples.append(dt)
        if sum(samples) > budget:
            break
    return {"median": statistics.median(samples), "min": min(samples), "samples": samples,
            "first": first, "warm": True}, result


def to_list(x):
    """float / ndarray / nested list -> flat list of floats."""
    try:
        import numpy as np
        return [float(v) for v in np.asarray(x, dtype=float).ravel()]
    except ImportError:
        if isinstance(x, (list, tuple)):
            return [v for item in x for v in to_list(item)]
        return [float(x)]


def rel_err(a, b):
    """Normwise relative error of a against reference b (flat float lists)."""
    if len(a) != len(b):
        return math.inf
    diff = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
    if diff == 0.0:
        return 0.0
    if not math.isfinite(diff):
        return math.inf
    scale = max(max((abs(x) for x in a), default=0.0), max((abs(y) for y in b), default=0.0))
    return diff / max(scale, 1e-300)


def agree(a, b):
    a, b = to_list(a), to_list(b)
    err = rel_err(a, b)
    if len(a) != len(b):
        return False, err, f"shape: {len(a)} vs {len(b)} entries"
    diff = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
    scale = max([abs(x) for x in a + b] or [0.0])
    return diff <= REL_TOL * scale + 1e-300, err, None


def check_grads(got, ref_names, ref_vals, what="gradient"):
    """got: {name: value}; ref: names and values. -> (ok, detail)."""
    if not isinstance(got, dict):
        return False, f"{what}: expected a dict, got {type(got).__name__}"
    missing = [n for n in ref_names if n not in got]
    if missing:
        return False, f"{what}: missing {missing[:5]}"
    worst, bad = 0.0, []
    for n, ref in zip(ref_names, ref_vals):
        ok, err, why = agree(got[n], ref)
        worst = max(worst, err)
        if not ok:
            bad.append(f"{n}: {why or f'rel err {err:.3g}'}")
    if bad:
        return False, f"{what} differs from reference: " + "; ".join(bad[:5])
    return True, f"max rel err {worst:.3g}"


class Case:
    def __init__(self, args):
        self.args = args
        self.shape = args.shape
        self.n = args.n
        self.repeats = args.repeats
        self.budget = args.budget
        self.mismatches = 0

    def phase(self, engine, name, fn, setup=None, check=None, repeats=None, n=None,
              na_errors=(AttributeError, ImportError), extra=None):
        """Time fn; record it; return its result (MISSING when it failed)."""
        n = self.n if n is None else n
        rec = {"type": "phase", "engine": engine, "phase": name, "shape": self.shape, "n": n}
        if extra:
            rec.update(extra)
        try:
            stats, result = measure(fn, setup, self.repeats if repeats is None else repeats,
                                    self.budget)
        except na_errors as e:
            rec.update(status="n/a", note=f"{type(e).__name__}: {e}"[:400])
            emit(rec)
            return MISSING
        except RecursionError as e:
            rec.update(status="error", note=f"RecursionError: {e}"[:400])
            emit(rec)
            return MISSING
        except Exception as e:
            rec.update(status="error", note=f"{type(e).__name__}: {e}"[:400])
            emit(rec)
            return MISSING
        rec.update(status="ok", **stats)
        if n:
            rec["per_node_us"] = stats["median"] / n * 1e6
        if check is not None:
            try:
                ok, detail = check(result)
            except Exception as e:
                ok, detail = False, f"check raised {type(e).__name__}: {e}"
            rec["check"] = {"ok": bool(ok), "detail": detail}
            if not ok:
                self.mismatches += 1
                print(f"MISMATCH: {engine} {name} {self.shape} n={n}: {detail}",
                      file=sys.stderr, flush=True)
        emit(rec)
        return result

    def skip(self, engine, names, note, n=None):
        for name in names:
            emit({"type": "phase", "engine": engine, "phase": name, "shape": self.shape,
                  "n": self.n if n is None else n, "status": "skipped", "note": note})


def in_big_stack(fn):
    """Run fn() in a thread with a 512 MiB stack and a high recursion limit
    (micrograd's backward() and SymPy recurse once per graph level)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2_000_000))
    threading.stack_size(512 * 1024 * 1024)
    box = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as e:       # re-raised in the caller
            box["error"] = e
    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def import_gbp():
    """graphviz_bp or None (with an info record)."""
    try:
        import graphviz_bp
        return graphviz_bp
    except ImportError as e:
        emit({"type": "info", "note": f"graphviz_bp not importable: {e}"})
        return None


def first_paths(gbp, g, src, at, k=10):
    """First k derivative paths, consumed, reading .value of each."""
    vals = []
    for p in itertools.islice(gbp.derivative_paths(g, src, at=at), k):
        vals.append(p.value)
    return vals


# ---------------------------------------------------------------------------
# scalar workload cases
# ---------------------------------------------------------------------------

def case_ast(c):
    import ast
    text, _, _ = load_workload(c.shape, c.n)
    c.phase("ast", "parse", lambda _: ast.parse(text))


def case_tape(c):
    text, inputs, comp = load_workload(c.shape, c.n)
    ref_v, ref_g = A.tape_gradient(comp)
    c.phase("tape", "evaluate", lambda _: A.tape_evaluate(comp),
            check=lambda v: (v[-1] == ref_v, f"output {v[-1]!r}"))
    c.phase("tape", "gradient", lambda _: A.tape_gradient(comp),
            check=lambda r: (r[1] == ref_g, "deterministic"))
    emit({"type": "info", "engine": "tape", "shape": c.shape, "n": c.n, "value": ref_v,
          "gradient": dict(zip(comp.input_names, ref_g))})


def _anchor_check(comp, ref_v, ref_g):
    def check(r):
        v, g = r
        ok_v, err_v, _ = agree([v], [ref_v])
        ok_g, detail = check_grads(dict(zip(comp.input_names, g)), comp.input_names, ref_g)
        if not ok_v:
            return False, f"value differs from the tape: rel err {err_v:.3g}"
        return ok_g, detail
    return check


def case_micrograd(c):
    try:
        from micrograd.engine import Value
        import micrograd  # noqa: F401
    except ImportError as e:
        c.skip("micrograd", ["gradient"], f"micrograd not importable: {e}")
        return
    text, inputs, comp = load_workload(c.shape, c.n)
    ref_v, ref_g = A.tape_gradient(comp)
    in_big_stack(lambda: c.phase(
        "micrograd", "gradient", lambda _: A.micrograd_gradient(comp, Value),
        check=_anchor_check(comp, ref_v, ref_g),
        extra={"note": "sin, tanh, exp are extension ops written in anchors.py "
                       "(micrograd 0.1.0 has + * ** relu only)"}))


def case_torch(c):
    try:
        import torch
    except ImportError as e:
        c.skip("torch", ["evaluate", "gradient"], f"torch not importable: {e}")
        return
    emit({"type": "info", "engine": "torch", "version": torch.__version__,
          "threads": torch.get_num_threads()})
    text, inputs, comp = load_workload(c.shape, c.n)
    ref_v, ref_g = A.tape_gradient(comp)
    c.phase("torch", "evaluate", lambda _: A.torch_evaluate(comp, torch),
            check=lambda v: (agree([v], [ref_v])[0], f"output {v!r}"))
    c.phase("torch", "gradient", lambda _: A.torch_gradient(comp, torch),
            check=_anchor_check(comp, ref_v, ref_g))


def case_sympy(c):
    try:
        import sympy
    except ImportError as e:
        c.skip("sympy", ["build", "diff", "lambdify", "gradient"], f"sympy not importable: {e}")
        return
    emit({"type": "info", "engine": "sympy", "version": sympy.__version__})
    text, inputs, comp = load_workload(c.shape, c.n)
    ref_v, ref_g = A.tape_gradient(comp)

    def run():
        # SymPy caches, so the symbolic steps are timed once, cold.
        built = c.phase("sympy", "build", lambda _: A.sympy_expression(comp), repeats=0)
        if built is MISSING:
            return c.skip("sympy", ["diff", "lambdify", "gradient"], "build failed")
        syms, expr = built
        grads = c.phase("sympy", "diff", lambda _: A.sympy_diff(syms, expr), repeats=0)
        if grads is MISSING:
            return c.skip("sympy", ["lambdify", "gradient"], "diff failed")
        f = c.phase("sympy", "lambdify", lambda _: A.sympy_lambdify(syms, expr, grads), repeats=0)
        if f is MISSING:
            return c.skip("sympy", ["gradient"], "lambdify failed")
        x0 = comp.x0
        c.phase("sympy", "gradient", lambda _: f(*x0),
                check=lambda r: _anchor_check(comp, ref_v, ref_g)((r[0], r[1:])),
                extra={"note": "the lambdified gradient function, evaluated"})
    in_big_stack(run)


GBP_PHASES = ["parse", "build", "latex_build", "dag", "evaluate", "reverse", "forward",
              "count_paths", "first10_paths"]


def case_gbp(c):
    gbp = import_gbp()
    if gbp is None:
        return c.skip("gbp", GBP_PHASES, "graphviz_bp not importable")
    text, inputs, comp = load_workload(c.shape, c.n)
    ref_v, ref_g = A.tape_gradient(comp)
    src = comp.input_names[0]
    src_i = 0

    # parse: the parser alone if it is importable, else parse+build
    try:
        from graphviz_bp.reading.parser import parse_program
    except (ImportError, AttributeError) as e:
        c.phase("gbp", "parse", lambda _: gbp.parse(text),
                extra={"note": f"graphviz_bp.reading.parser.parse_program missing ({e}); "
                               "timed graphviz_bp.parse(text) = parse+build",
                       "parse_plus_build": True})
    else:
        c.phase("gbp", "parse", lambda _: parse_program(text))

    def check_graph(g):
        return (hasattr(g, "gradients"), type(g).__name__)
    g = c.phase("gbp", "build", lambda _: gbp.parse(text), check=check_graph)
    if g is MISSING:
        return c.skip("gbp", GBP_PHASES[2:], "no graph (graphviz_bp.parse failed)")

    # the same program pasted as LaTeX (convert.to_latex): translation, shapes, parse and build
    try:
        from graphviz_bp.reading.convert import to_latex
        latex = to_latex(parse_program(text))
    except Exception as e:                                # no convert module in this version
        c.skip("gbp", ["latex_build"], f"no LaTeX form: {type(e).__name__}: {e}")
    else:
        def check_latex(gl):
            same = [n.op for n in gl.nodes] == [n.op for n in g.nodes]
            return same, f"{len(gl.nodes)} nodes from {len(latex)} characters of LaTeX (same ops: {same})"
        c.phase("gbp", "latex_build", lambda _: gbp.parse(latex), check=check_latex)

    def check_dag(dag):
        nn = dag.number_of_nodes()
        return nn == len(comp.names), f"{nn} nodes, {dag.number_of_edges()} edges (expected {len(comp.names)} nodes)"
    c.phase("gbp", "dag", lambda gg: gg.dag, setup=lambda: gbp.parse(text), check=check_dag,
            extra={"note": "g.dag on a freshly parsed graph each call (it is cached)"})

    def check_eval(values):
        out = getattr(g, "output", comp.output)
        ok, err, _ = agree([values[out]], [ref_v])
        return ok, f"output {out} = {values[out]!r}, rel err {err:.3g}"
    c.phase("gbp", "evaluate", lambda _: g.evaluate(at=inputs), check=check_eval)

    c.phase("gbp", "reverse", lambda _: g.gradients(at=inputs, method="reverse"),
            check=lambda r: check_grads(r, comp.input_names, ref_g))
    c.phase("gbp", "forward", lambda _: g.gradients(at=inputs, wrt=[src], method="forward"),
            check=lambda r: check_grads(r, [src], [ref_g[src_i]]),
            extra={"wrt": src})

    counts = {A.count_paths_dp(comp, src_i, True), A.count_paths_dp(comp, src_i, False)}

    def check_count(k):
        return k in counts, f"{k if k < 10**12 else f'~2^{k.bit_length() - 1}'} paths from {src}" + (
            "" if k in counts else f" (expected one of {sorted(counts)[:2]})")
    c.phase("gbp", "count_paths", lambda _: gbp.count_paths(g, src), check=check_count,
            extra={"src": src})

    def check_first(vals):
        want = {min(10, k) for k in counts}
        finite = all(math.isfinite(x) for v in vals for x in to_list(v))
        return len(vals) in want and finite, f"{len(vals)} paths, all values finite: {finite}"
    c.phase("gbp", "first10_paths", lambda _: first_paths(gbp, g, src, inputs), check=check_first,
            extra={"src": src})


def case_gbp_render(c):
    gbp = import_gbp()
    names = ["dot", "svg"]
    if gbp is None:
        return c.skip("gbp", names, "graphviz_bp not importable")
    text, inputs, comp = load_workload(c.shape, c.n)
    try:
        g = gbp.parse(text)
    except (AttributeError, ImportError) as e:
        for name in names:
            emit({"type": "phase", "engine": "gbp", "phase": name, "shape": c.shape, "n": c.n,
                  "status": "n/a", "note": f"{type(e).__name__}: {e}"})
        return
    except Exception as e:
        return c.skip("gbp", names, f"parse failed: {type(e).__name__}: {e}")
    # what the drawing is: the graph, or a summary (above max_render_nodes, or a layout timeout)
    try:
        notes = [str(x) for x in getattr(gbp.render(g, at=inputs), "gbp_notes", [])]
    except Exception:
        notes = []
    extra = {"summary": any("summary" in x for x in notes), "gbp_notes": notes[:3],
             "max_render_nodes": os.environ.get("GRAPHVIZ_BP_MAX_RENDER_NODES", "default")}
    c.phase("gbp", "dot", lambda _: gbp.render(g, at=inputs).source, extra=extra,
            check=lambda s: (isinstance(s, str) and "digraph" in s,
                             f"{len(s)} chars of DOT, {s.count('->')} edges drawn"
                             + ("; a SUMMARY, not the graph" if extra["summary"] else "")))
    c.phase("gbp", "svg", lambda _: gbp.render(g, at=inputs).pipe(format="svg"), extra=extra,
            check=lambda s: (b"<svg" in (s if isinstance(s, bytes) else s.encode()),
                             f"{len(s)} bytes of SVG"
                             + ("; a SUMMARY, not the graph" if extra["summary"] else "")))


# ---------------------------------------------------------------------------
# ladder paths
# ---------------------------------------------------------------------------

def case_ladder_paths(c):
    gbp = import_gbp()
    names = ["count_paths_2^60", "first10_paths_2^1000", "count_paths_2^1000"]
    if gbp is None:
        return c.skip("gbp", names, "graphviz_bp not importable")
    t180, in180, _ = load_workload("ladder", 180)
    t3000, in3000, _ = load_workload("ladder", 3000)
    c.shape = "ladder"
    try:
        g180 = gbp.parse(t180)
        g3000 = gbp.parse(t3000)
    except (AttributeError, ImportError) as e:
        for name in names:
            emit({"type": "phase", "engine": "gbp", "phase": name, "shape": "ladder",
                  "status": "n/a", "note": f"{type(e).__name__}: {e}"})
        return
    except Exception as e:
        return c.skip("gbp", names, f"parse failed: {type(e).__name__}: {e}")
    c.phase("gbp", "count_paths_2^60", lambda _: gbp.count_paths(g180, "x"), n=180,
            check=lambda k: (k == 2 ** 60, f"{k} (2^60 = {2 ** 60})"))
    c.phase("gbp", "first10_paths_2^1000", lambda _: first_paths(gbp, g3000, "x", in3000), n=3000,
            check=lambda v: (len(v) == 10 and all(math.isfinite(float(x)) for x in v),
                             f"{len(v)} paths"))
    c.phase("gbp", "count_paths_2^1000", lambda _: gbp.count_paths(g3000, "x"), n=3000,
            check=lambda k: (k == 2 ** 1000, "2^1000" if k == 2 ** 1000 else f"~2^{k.bit_length() - 1}"))


# ---------------------------------------------------------------------------
# MLP tensor case
# ---------------------------------------------------------------------------

def _mlp_reference():
    d = A.mlp_data()
    L, grads = A.mlp_numpy_gradient(d)
    return d, L, grads


def _mlp_check(L_ref, g_ref):
    def check(r):
        L, grads = r
        ok, err, _ = agree([L], [L_ref])
        if not ok:
            return False, f"loss {L!r} vs {L_ref!r}"
        return check_grads(grads, list(A.MLP_PARAMS), [g_ref[k] for k in A.MLP_PARAMS])
    return check


def case_mlp_numpy(c):
    c.shape = "mlp"
    import numpy as np
    emit({"type": "info", "engine": "numpy", "version": np.__version__})
    d, L_ref, g_ref = _mlp_reference()
    c.phase("numpy", "mlp_forward", lambda _: A.mlp_numpy_loss(d), n=0,
            check=lambda L: (agree([L], [L_ref])[0], f"L = {L!r}"))
    c.phase("numpy", "mlp_gradient", lambda _: A.mlp_numpy_gradient(d), n=0,
            check=_mlp_check(L_ref, g_ref))
    emit({"type": "info", "engine": "numpy", "mlp_loss": L_ref})


def case_mlp_torch(c):
    c.shape = "mlp"
    try:
        import torch
    except ImportError as e:
        return c.skip("torch", ["mlp_forward", "mlp_gradient"], f"torch not importable: {e}", n=0)
    d, L_ref, g_ref = _mlp_reference()
    t = A.mlp_torch_tensors(d, torch)

    def fwd(_):
        with torch.no_grad():
            h = torch.relu(t["X"] @ t["W1"] + t["b1"])
            o = h @ t["W2"] + t["b2"]
            return (-torch.sum(t["Y"] * torch.log(torch.softmax(o, dim=-1))) / A.MLP_BATCH).item()
    c.phase("torch", "mlp_forward", fwd, n=0,
            check=lambda L: (agree([L], [L_ref])[0], f"L = {L!r}"))
    c.phase("torch", "mlp_gradient", lambda _: A.mlp_torch_gradient(t, torch), n=0,
            check=_mlp_check(L_ref, g_ref))


def case_mlp_gbp(c):
    c.shape = "mlp"
    gbp = import_gbp()
    names = ["mlp_parse", "mlp_forward", "mlp_gradient"]
    if gbp is None:
        return c.skip("gbp", names, "graphviz_bp not importable", n=0)
    d, L_ref, g_ref = _mlp_reference()
    emit({"type": "info", "engine": "gbp", "mlp_program": A.MLP_PROGRAM})
    g = c.phase("gbp", "mlp_parse", lambda _: gbp.parse(A.MLP_PROGRAM), n=0)
    if g is MISSING:
        return c.skip("gbp", names[1:], "no graph", n=0)

    def check_eval(values):
        out = getattr(g, "output", "L")
        ok, err, _ = agree([values[out]], [L_ref])
        return ok, f"{out} = {float(values[out])!r} vs {L_ref!r}"
    c.phase("gbp", "mlp_forward", lambda _: g.evaluate(at=d), n=0, check=check_eval)
    c.phase("gbp", "mlp_gradient",
            lambda _: g.gradients(at=d, wrt=list(A.MLP_PARAMS), method="reverse"), n=0,
            check=lambda r: check_grads(r, list(A.MLP_PARAMS), [g_ref[k] for k in A.MLP_PARAMS]))


# ---------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------

def peak_rss_mib():
    import resource
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss    # KiB on Linux
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024


def case_memory(c, engine):
    shape, n = c.shape, c.n
    rec = {"type": "memory", "engine": engine, "shape": shape, "n": n}
    if engine == "gbp":
        gbp = import_gbp()
        if gbp is None:
            rec.update(status="skipped", note="graphviz_bp not importable")
            return emit(rec)
        text, inputs, comp = load_workload(shape, n)
        ref_g = A.tape_gradient(comp)[1]
        rec["baseline_mib"] = peak_rss_mib()
        t0 = time.perf_counter()
        try:
            g = gbp.parse(text)
            rec["after_build_mib"] = peak_rss_mib()
            grads = g.gradients(at=inputs, method="reverse")
            rec["seconds"] = time.perf_counter() - t0
            rec["peak_mib"] = peak_rss_mib()
        except (AttributeError, ImportError) as e:
            rec.update(status="n/a", note=f"{type(e).__name__}: {e}")
            return emit(rec)
        except Exception as e:
            rec.update(status="error", note=f"{type(e).__name__}: {e}"[:400])
            return emit(rec)
        try:
            g.dag
            rec["after_dag_mib"] = peak_rss_mib()
        except Exception as e:
            rec["dag_note"] = f"{type(e).__name__}: {e}"[:200]
        ok, detail = check_grads(grads, comp.input_names, ref_g)
    else:
        if engine == "torch":
            try:
                import torch
            except ImportError as e:
                rec.update(status="skipped", note=f"torch not importable: {e}")
                return emit(rec)
            fn = lambda comp: A.torch_gradient(comp, torch)            # noqa: E731
        elif engine == "micrograd":
            try:
                from micrograd.engine import Value
            except ImportError as e:
                rec.update(status="skipped", note=f"micrograd not importable: {e}")
                return emit(rec)
            fn = lambda comp: in_big_stack(lambda: A.micrograd_gradient(comp, Value))  # noqa: E731
        else:
            fn = A.tape_gradient
        workloads = load_workloads_module()
        prog, inputs = workloads.make_workload(shape, n)
        comp = A.compile_program(prog, inputs)
        del prog
        gc.collect()
        rec["baseline_mib"] = peak_rss_mib()
        t0 = time.perf_counter()
        v, grads = fn(comp)
        rec["seconds"] = time.perf_counter() - t0
        rec["peak_mib"] = peak_rss_mib()
        ref_g = A.tape_gradient(comp)[1]
        ok, detail = check_grads(dict(zip(comp.input_names, grads)), comp.input_names, ref_g)
    rec.update(status="ok", check={"ok": ok, "detail": detail})
    if not ok:
        print(f"MISMATCH: memory {engine}: {detail}", file=sys.stderr, flush=True)
    emit(rec)


CASES = {
    "ast": case_ast,
    "tape": case_tape,
    "micrograd": case_micrograd,
    "torch": case_torch,
    "sympy": case_sympy,
    "gbp": case_gbp,
    "gbp-render": case_gbp_render,
    "ladder-paths": case_ladder_paths,
    "mlp-numpy": case_mlp_numpy,
    "mlp-torch": case_mlp_torch,
    "mlp-gbp": case_mlp_gbp,
    "memory-gbp": lambda c: case_memory(c, "gbp"),
    "memory-tape": lambda c: case_memory(c, "tape"),
    "memory-micrograd": lambda c: case_memory(c, "micrograd"),
    "memory-torch": lambda c: case_memory(c, "torch"),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run one graphviz-bp benchmark case (JSON lines out).")
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--shape", default="chain", choices=["chain", "rdag", "ladder"])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=3.0,
                    help="stop repeating a phase once its timed calls exceed this many seconds")
    ap.add_argument("--no-gc", action="store_true",
                    help="disable garbage collection during each timed call")
    args = ap.parse_args(argv)
    global GC_OFF
    GC_OFF = args.no_gc
    c = Case(args)
    emit({"type": "start", "case": args.case, "shape": args.shape, "n": args.n,
          "python": sys.version.split()[0], "pid": os.getpid(), "gc_off": GC_OFF})
    CASES[args.case](c)
    emit({"type": "done", "mismatches": c.mismatches})
    return 0


if __name__ == "__main__":
    sys.exit(main())
