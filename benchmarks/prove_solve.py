"""Wall time of prove / facts / solve / count on the seeds' items (issue 16).

    .venv/bin/python benchmarks/prove_solve.py [--repeat 3]

Prints one line per item: the median wall time of ``--repeat`` runs in this process (SymPy's caches
warm after the first), the verdict or answer, and the first run's time (cold).  Nothing is asserted.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

CLAIMS = [
    r"$sigmoid(x) = \frac{1}{2}(tanh(\frac{1}{2}x) + 1)$",
    r"$\ln sigmoid(x) = -softplus(-x)$",
    r"$\frac{d}{dx}\sigma(x) = \sigma(x)(1 - \sigma(x))$",
    r"$tanh'(x) = 1 - tanh^2(x)$",
    r"$sign(x) = \mathbb{1}_{\{x > 0\}}(x) - \mathbb{1}_{\{x < 0\}}(x)$",
    "abs'(x) = sign(x)",
    r"$f(t) = \frac{e^t}{1+e^t}$; $\frac{d \ln f(t)}{dt} = f(-t)$",
    "sum(softmax(o)) = 1",
    "sigmoid(x) = tanh(x)",
]
X = "[[1, 2], [1, 3], [1, 5], [1, 7]]"
Y = "[[1], [2], [2], [4]]"
PROGRAMS = [
    ("least squares w·x", "x = [1, 2]\ny = [2, 3]\nL = sum((y - w*x)^2)", "w"),
    ("ridge", f"X = {X}\ny = {Y}\nlambda = 0.5\nL = ||y - X@w||_2^2 + lambda*||w||_2^2", "w"),
    ("pokemon β", "y = [6, 6, 10]\nlambda = 1\nL = sum((y - beta)^2) + lambda*beta^2", "beta"),
    ("exp(w) − 2w (BFGS)", "L = exp(w) - 2*w", "w"),
]


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from graphviz_bp import parse
    from graphviz_bp.algorithms.counts import counts, dense_graph, dense_shapes
    from graphviz_bp.algorithms.facts import function_facts
    from graphviz_bp.algorithms.prove import prove
    from graphviz_bp.algorithms.solve import solve

    def line(what, answer, times):
        print(f"{statistics.median(times) * 1000:9.1f} ms  (cold {times[0] * 1000:8.1f} ms)  {what[:60]:<60} {answer}")

    for c in CLAIMS:
        v, times = timed(lambda: prove(c), args.repeat)
        line("prove " + c, v.status, times)
    for f in ("sigmoid(t)", "tanh(t)"):
        ff, times = timed(lambda: function_facts(f), args.repeat)
        line("facts " + f, f"{sum(x.ok for x in ff.facts)}/{len(ff.facts)} confirmed", times)
    for name, prog, wrt in PROGRAMS:
        s, times = timed(lambda: solve(parse(prog), wrt), args.repeat)
        line("solve " + name, f"{np.round(np.ravel(list(s.point.values())[0]), 4).tolist()} {s.kind}", times)
    sizes = [12, 300, 200, 100, 1]
    c, times = timed(lambda: counts(dense_graph(sizes), shapes=dense_shapes(sizes)), args.repeat)
    line("count 12-300-200-100-1", c.total, times)


if __name__ == "__main__":
    main()
