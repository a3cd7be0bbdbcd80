"""This work tree against another (an earlier commit checked out elsewhere), phase by phase, as ratios.

    git worktree add /tmp/base fbe0cec
    python benchmarks/compare_trees.py /tmp/base [--rounds 3] [--repeats 9] [--n 100 1000]

Each tree runs its own ``benchmarks/cases.py gbp`` on the shared workloads (chain, ladder, rdag),
the two trees taking turns case by case so that a busy moment of the machine hits both; the best
median of the rounds is kept per phase. Prints ``head / base`` per phase and their geometric mean.
Nothing is asserted (speed is measured, not tested).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def phases(tree: Path, shape: str, n: int, repeats: int) -> dict:
    """``{phase: median seconds}`` of one case run by ``tree``'s own cases.py, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.setdefault("GRAPHVIZ_BP_BENCH_DIR", str(HERE.parent / "shared" / "bench"))
    out = subprocess.run([sys.executable, str(tree / "benchmarks" / "cases.py"), "gbp", "--shape", shape,
                          "--n", str(n), "--repeats", str(repeats)],
                         capture_output=True, text=True, env=env, cwd=tree, timeout=600).stdout
    found = {}
    for line in out.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("type") == "phase" and rec.get("status") == "ok" and rec.get("median") is not None:
            found[rec["phase"]] = rec["median"]
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("base", type=Path, help="the other work tree (e.g. a git worktree of an earlier commit)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    args = p.parse_args(argv)
    trees = {"base": args.base.resolve(), "head": HERE}
    best: dict = defaultdict(lambda: math.inf)
    for _ in range(args.rounds):
        for shape in ("chain", "ladder", "rdag"):
            for n in args.n:
                for name, tree in trees.items():          # taking turns
                    for phase, t in phases(tree, shape, n, args.repeats).items():
                        key = (name, f"{shape}:{n}", phase)
                        best[key] = min(best[key], t)
    ratios = []
    print(f"{'case':12} {'phase':14} {'base ms':>9} {'head ms':>9}  head/base")
    for (name, case, phase), t in sorted(best.items()):
        base = best.get(("base", case, phase))
        if name != "head" or base is None:
            continue
        ratios.append(t / base)
        print(f"{case:12} {phase:14} {base * 1e3:9.3f} {t * 1e3:9.3f}  {t / base:5.2f}")
    if ratios:
        print(f"{len(ratios)} phases; geometric mean head/base {math.exp(sum(map(math.log, ratios)) / len(ratios)):.3f}; "
              f"slower by more than 10 %: {sum(r > 1.10 for r in ratios)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
