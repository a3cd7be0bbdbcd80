"""Speed of closed-form matrix derivatives (issue 14): per identity of ../shared/matrix-identities.json,
the whole derivation with every node's adjoint at the three levels (rule, node names, inputs),
tidied and checked against the numeric reverse pass; then the per-node formulas of the seed 001 MLP.

    python benchmarks/matrix_form.py [--repeats 5] [--json out.json]

Targets (issue 14): median < 10 ms and max < 250 ms per identity; seed 001 MLP < 100 ms.
"first" is each identity's first run in the process (nothing of it cached yet; SymPy is imported
before the first identity, so its import is not charged to one of them); "median" over the repeats.
Timings never fail the run; a formula that disagrees with the numbers does (exit status 1).
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import graphviz_bp as gbp  # noqa: E402
from graphviz_bp.algorithms.matrix_form.formulas import matrix_form  # noqa: E402

IDENTITIES = ROOT.parent / "shared" / "matrix-identities.json"
LEVELS = ("rule", "named", "inputs")


CLOCK = time.perf_counter


def timed(fn):
    gc.collect()
    t = CLOCK()
    out = fn()
    return CLOCK() - t, out


def all_right(mf) -> bool:
    return all(f.expr is not None for levels in mf.nodes.values() for f in levels.values()) and \
        all(f.expr is not None for f in mf.gradients.values())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", help="also write the records to this file")
    ap.add_argument("--cpu", action="store_true",
                    help="CPU time of this process (time.process_time) instead of wall time: steadier on a "
                         "machine shared with other work")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.cpu else time.perf_counter
    from test_matrix_form import random_inputs       # the tests' own domains (posdet, spd, onehot, ...)
    import sympy  # noqa: F401  (imported once, before any identity is timed)
    identities = json.loads(IDENTITIES.read_text())["identities"]
    records, bad = [], []
    for identity in identities:
        g = gbp.parse("L = " + identity["expression"])
        at = random_inputs(identity, np.random.default_rng(0))
        first, mf = timed(lambda: matrix_form(g, at=at, wrt=[identity["wrt"]], levels=LEVELS))
        runs = [timed(lambda: matrix_form(g, at=at, wrt=[identity["wrt"]], levels=LEVELS))[0]
                for _ in range(args.repeats)]
        if not all_right(mf):
            bad.append(identity["name"])
        records.append({"name": identity["name"], "nodes": len(g.nodes), "first_ms": first * 1e3,
                        "median_ms": statistics.median(runs) * 1e3, "max_ms": max(runs) * 1e3})
    mlp = gbp.parse((ROOT / "graphviz_bp" / "examples" / "mlp_relu_softmax.txt").read_text())
    mlp_first, mf = timed(lambda: matrix_form(mlp, levels=("named",)))
    mlp_runs = [timed(lambda: matrix_form(mlp, levels=("named",)))[0] for _ in range(args.repeats)]
    if not all_right(mf):
        bad.append("seed 001 MLP")

    print(f"{'identity':22s} {'nodes':>5s} {'first ms':>9s} {'median ms':>10s} {'max ms':>8s}")
    for r in records:
        print(f"{r['name']:22s} {r['nodes']:5d} {r['first_ms']:9.2f} {r['median_ms']:10.2f} {r['max_ms']:8.2f}")
    firsts = [r["first_ms"] for r in records]
    medians = [r["median_ms"] for r in records]
    worst = max(max(firsts), max(r["max_ms"] for r in records))
    med = statistics.median(firsts)
    print(f"\nper identity, whole derivation with every node's adjoint ({len(records)} identities; "
          f"{'CPU' if args.cpu else 'wall'} time):")
    print(f"  median of first runs {med:.2f} ms (target < 10 ms: {med / 10:.2f} of it); "
          f"median of medians {statistics.median(medians):.2f} ms")
    print(f"  max {worst:.2f} ms (target < 250 ms: {worst / 250:.2f} of it)")
    mlp_med = statistics.median(mlp_runs) * 1e3
    print(f"seed 001 MLP, per-node formulas in node names: first {mlp_first * 1e3:.2f} ms, median "
          f"{mlp_med:.2f} ms (target < 100 ms: {max(mlp_first * 1e3, mlp_med) / 100:.2f} of it)")
    if bad:
        print(f"FORMULAS WITHHELD (disagree with the numbers or no rule): {', '.join(bad)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"identities": records, "mlp_first_ms": mlp_first * 1e3,
                                               "mlp_median_ms": mlp_med, "withheld": bad}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
