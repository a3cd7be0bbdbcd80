#!/usr/bin/env python3
"""1,000 steps of Adam on the seed 001 MLP (graphviz_bp/examples/mlp_relu_softmax.txt), timed
against anchors computing the same steps in the same run:

- ``numpy``: a plain NumPy Adam loop with hand-written backprop of ReLU + softmax cross-entropy
  (the floor for one small tensor program in Python);
- ``torch``: torch.optim.Adam with autograd on float64 tensors (skipped when torch is not installed).

    python benchmarks/train.py [--steps 1000] [--repeat 5]

Prints the median time of each (of ``--repeat`` runs), the ratios graphviz-bp / anchor, and the
largest difference of the final parameters (they must agree to 1e-9). Timings never fail the run;
exit status 1 only when the parameters disagree.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PROGRAM = REPO / "graphviz_bp" / "examples" / "mlp_relu_softmax.txt"
if not PROGRAM.exists():
    PROGRAM = REPO / "examples" / "mlp_relu_softmax.txt"
NAMES = ("W1", "b1", "W2", "b2")
LR = 0.01


def ours(steps: int):
    from graphviz_bp.algorithms.observations import read
    from graphviz_bp.algorithms.train import make_optimizer, train
    g, observations = read(PROGRAM.read_text())
    run = train(g, make_optimizer("adam", lr=LR), steps, observations)
    assert run.diverged is None
    return {k: np.asarray(run.params[k]) for k in NAMES}


def start():
    from graphviz_bp.algorithms.observations import read
    g, _ = read(PROGRAM.read_text())
    return {k: np.array(g.node(k).default, dtype=float) for k in NAMES}, np.array(g.node("x").default, float)


def numpy_adam(steps: int, p0, x, label: int = 1):
    W1, b1, W2, b2 = (p0[k].copy() for k in NAMES)
    ps = [W1, b1, W2, b2]
    m = [np.zeros_like(p) for p in ps]
    v = [np.zeros_like(p) for p in ps]
    for t in range(1, steps + 1):
        W1, b1, W2, b2 = ps
        ha = W1 @ x + b1
        hs = np.maximum(ha, 0)
        oa = W2 @ hs + b2
        e = np.exp(oa - oa.max())
        p = e / e.sum()
        do = p.copy()
        do[label] -= 1                      # ∂L/∂oa = softmax − onehot
        dW2, db2 = np.outer(do, hs), do
        dha = (W2.T @ do) * (ha > 0)
        dW1, db1 = np.outer(dha, x), dha
        for k, gk in enumerate((dW1, db1, dW2, db2)):
            m[k] = 0.9 * m[k] + 0.1 * gk
            v[k] = 0.999 * v[k] + 0.001 * gk * gk
            ps[k] = ps[k] - LR * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    return dict(zip(NAMES, ps))


def torch_adam(steps: int, p0, x, label: int = 1):
    import torch
    ps = [torch.tensor(p0[k], requires_grad=True) for k in NAMES]
    opt = torch.optim.Adam(ps, lr=LR)
    xt = torch.tensor(x)
    for _ in range(steps):
        opt.zero_grad()
        o = ps[2] @ torch.relu(ps[0] @ xt + ps[1]) + ps[3]
        loss = -torch.log_softmax(o, 0)[label]
        loss.backward()
        opt.step()
    return {k: p.detach().numpy() for k, p in zip(NAMES, ps)}


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    p0, x = start()
    ours(2)                                                    # warm-up: imports, first parse
    t_ours, final = timed(lambda: ours(args.steps), args.repeat)
    rows = [("graphviz-bp train (parse + steps)", t_ours, None, 0.0)]
    bad = False
    anchors = [("numpy Adam, hand-written backprop", lambda: numpy_adam(args.steps, p0, x))]
    try:
        import torch  # noqa: F401
        anchors.append(("torch.optim.Adam + autograd", lambda: torch_adam(args.steps, p0, x)))
    except ImportError:
        print("note: torch is not installed; its anchor is skipped")
    for name, fn in anchors:
        fn() if args.steps > 10 else None                     # warm-up
        t, got = timed(fn, args.repeat)
        diff = max(float(np.max(np.abs(got[k] - final[k]))) for k in NAMES)
        bad |= diff > 1e-9
        rows.append((name, t, t_ours / t, diff))
    print(f"{args.steps} Adam steps (η = {LR}) on {PROGRAM.name}, median of {args.repeat}:")
    print(f"| {'run':38} | {'seconds':>8} | {'graphviz-bp / it':>16} | {'max |Δ params|':>14} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 18}|{'-' * 16}|")
    for name, t, ratio, diff in rows:
        r = "" if ratio is None else f"{ratio:.1f}×"
        print(f"| {name:38} | {t:8.3f} | {r:>16} | {diff:14.2e} |")
    print(f"per step: graphviz-bp {1e3 * t_ours / args.steps:.3f} ms")
    if bad:
        print("MISMATCH: the final parameters differ by more than 1e-9")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
