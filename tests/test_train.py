"""Training by hand (issue 17): every number the sheets ask for, against independent implementations.

The references below are written here from the published algorithms, not from
graphviz_bp.algorithms.train: PyTorch's documented pseudo-code for torch.optim.SGD (momentum,
nesterov), RMSprop, Adam, Adagrad; Sutskever et al. (2013), eqs. 3–4, for Nesterov's look-ahead
form; Hinton's lecture 6e / Goodfellow et al. Alg. 8.5 (ε inside the root) for textbook RMSprop.
Their gradients are analytic (y = w·x, logistic regression) or central differences of a NumPy
forward pass (the MLP), never the engine's. torch.optim itself is compared when torch imports.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphviz_bp.algorithms import observations as obs_mod
from graphviz_bp.algorithms.train import make_optimizer, train
from graphviz_bp.core.errors import InputError
from graphviz_bp.core.limits import Limits

EXAMPLES = Path(__file__).resolve().parents[1] / "graphviz_bp" / "examples"
if not EXAMPLES.exists():
    EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def read(text, **kw):
    return obs_mod.read(text, **kw)


# --- independent references (from the papers / PyTorch's documented algorithms) ---------------------

def reference(name, grad, w0, batches, lr, form="pytorch", momentum=0.0, alpha=0.99, beta1=0.9,
              beta2=0.999, eps=None, bias_correction=True):
    """Iterates of ``name`` for gradient function ``grad(w, batch)``, one batch per step."""
    w = np.array(w0, dtype=float)
    b = np.zeros_like(w)        # torch: momentum_buffer b_t / Sutskever's velocity v_t
    sq = np.zeros_like(w)       # torch RMSprop v_t (square_avg) / Adagrad state_sum / Adam v_t
    m = np.zeros_like(w)        # Adam m_t
    out = []
    for t, batch in enumerate(batches, 1):
        if name in ("sgd", "gd"):
            w = w - lr * grad(w, batch)
        elif name == "momentum" and form == "pytorch":
            g_t = grad(w, batch)
            b = g_t if t == 1 else momentum * b + g_t        # torch docs: b_1 = g_1
            w = w - lr * b
        elif name == "momentum":                              # Polyak / Sutskever eq. 1-2, η inside v
            b = momentum * b + lr * grad(w, batch)
            w = w - b
        elif name == "nesterov" and form == "pytorch":
            g_t = grad(w, batch)
            b = g_t if t == 1 else momentum * b + g_t
            w = w - lr * (g_t + momentum * b)
        elif name == "nesterov":                              # Sutskever 2013 eq. 3-4 (their v = −ours)
            v = momentum * (-b) - lr * grad(w + momentum * (-b), batch)
            b = -v
            w = w + v
        elif name == "rmsprop":
            g_t = grad(w, batch)
            sq = alpha * sq + (1 - alpha) * g_t ** 2
            e = 1e-8 if eps is None else eps
            w = w - lr * g_t / (np.sqrt(sq + e) if form == "textbook" else np.sqrt(sq) + e)
        elif name == "adam":
            g_t = grad(w, batch)
            m = beta1 * m + (1 - beta1) * g_t
            sq = beta2 * sq + (1 - beta2) * g_t ** 2
            e = 1e-8 if eps is None else eps
            if bias_correction:
                w = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(sq / (1 - beta2 ** t)) + e)
            else:
                w = w - lr * m / (np.sqrt(sq) + e)
        elif name == "adagrad":
            g_t = grad(w, batch)
            sq = sq + g_t ** 2
            w = w - lr * g_t / (np.sqrt(sq) + (1e-10 if eps is None else eps))
        out.append(w.copy())
    return out


# y = w·x, L = (y − w·x)², data of seed 002 §3 ex. 1
DATA = [(1.0, 2.0), (2.0, 3.0)]


def lin_grad(w, batch, how="mean"):
    gs = [-2 * x * (y - w * x) for x, y in batch]
    return sum(gs) / (len(gs) if how == "mean" else 1)


# as the sheet writes the data: indexed values (the example file holds the same as a table)
SEED002 = "x_1 = 1; x_2 = 2; y_1 = 2; y_2 = 3\nw = 0\nL = (y - w*x)^2\n"

# the sheet's constants: momentum/nesterov α = 0.9, η = 0.1; RMSprop α = 0.9; Adam β₁ = β₂ = 0.9
SHEET = {"momentum": dict(momentum=0.9), "nesterov": dict(momentum=0.9), "rmsprop": dict(alpha=0.9),
         "adam": dict(beta1=0.9, beta2=0.9), "adagrad": {}, "sgd": {}}


def _run(text, name, steps, **kw):
    g, observations = read(text)
    opt_kw = {k: kw.pop(k) for k in ("momentum", "alpha", "beta1", "beta2", "eps", "form", "bias_correction")
              if k in kw}
    return train(g, make_optimizer(name, lr=kw.pop("lr"), **opt_kw), steps, observations, **kw)


def test_observations_of_the_sheet_are_read_from_indexed_values_and_from_the_examples_table():
    g, observations = read(SEED002)
    assert [(o.label, o.values) for o in observations] == [(1, {"x": 1.0, "y": 2.0}), (2, {"x": 2.0, "y": 3.0})]
    g, table = read((EXAMPLES / "linear_regression_steps.txt").read_text())
    assert [(o.label, o.values) for o in table] == [(o.label, o.values) for o in observations]


def test_seed002_gd_two_steps_mean_and_sum():
    run = _run(SEED002, "gd", 2, lr=0.1, batch="mean")
    # by hand: L(w) = ½[(2 − w)² + (3 − 2w)²], L' = 5w − 8: w₁ = 0 + 0.8, w₂ = 0.8 − 0.1·(−4)
    assert [s.params["w"] for s in run.steps] == pytest.approx([0.8, 1.2])
    assert [s.grads["w"] for s in run.steps] == pytest.approx([-8.0, -4.0])
    assert [s.loss for s in run.steps] == pytest.approx([6.5, 1.7])
    assert [s.observations for s in run.steps] == [[1, 2], [1, 2]]
    ref = reference("gd", lambda w, b: lin_grad(w, b), 0.0, [DATA, DATA], 0.1)
    assert [s.params["w"] for s in run.steps] == pytest.approx([float(r) for r in ref])
    run = _run(SEED002, "gd", 2, lr=0.1, batch="sum")
    # the sum of the losses: L' = 2(5w − 8), one step lands on the least-squares w = 8/5
    assert [s.params["w"] for s in run.steps] == pytest.approx([1.6, 1.6])


def test_seed002_sgd_observation_1_then_2():
    run = _run(SEED002, "sgd", 2, lr=0.1)
    assert [s.observations for s in run.steps] == [[1], [2]]
    # by hand: g₁ = −2·1·(2 − 0) = −4 → 0.4; g₂ = −2·2·(3 − 0.8) = −8.8 → 1.28
    assert [s.grads["w"] for s in run.steps] == pytest.approx([-4.0, -8.8])
    assert [s.params["w"] for s in run.steps] == pytest.approx([0.4, 1.28])


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad"])
@pytest.mark.parametrize("form", ["pytorch", "textbook"])
def test_seed002_each_optimizer_matches_the_reference(name, form):
    steps = 7                                   # the sheet's two, then five more (observations cycle)
    kw = dict(SHEET[name])
    if name in ("momentum", "nesterov", "rmsprop"):
        kw["form"] = form
    elif form == "textbook":
        pytest.skip("one form only")
    run = _run(SEED002, name, steps, lr=0.1, **kw)
    batches = [[DATA[t % 2]] for t in range(steps)]
    ref = reference(name, lin_grad, 0.0, batches, 0.1, form=form, **{k: v for k, v in kw.items() if k != "form"})
    assert [s.params["w"] for s in run.steps] == pytest.approx([float(r) for r in ref], rel=1e-12, abs=1e-12)


def test_seed002_hand_numbers_momentum_nesterov_rmsprop_adam():
    """Numbers worked out by hand (see the issue 17 report for the full table)."""
    def w(run):
        return [s.params["w"] for s in run.steps]

    m = _run(SEED002, "momentum", 2, lr=0.1, momentum=0.9)
    assert w(m) == pytest.approx([0.4, 1.64])                    # v = −4, −3.6 − 8.8 = −12.4
    assert [s.state["w"]["v"] for s in m.steps] == pytest.approx([-4.0, -12.4])
    mt = _run(SEED002, "momentum", 2, lr=0.1, momentum=0.9, form="textbook")
    assert w(mt) == pytest.approx([0.4, 1.64])                   # the same iterates, v scaled by η
    assert [s.state["w"]["v"] for s in mt.steps] == pytest.approx([-0.4, -1.24])
    n = _run(SEED002, "nesterov", 2, lr=0.1, momentum=0.9)
    assert w(n) == pytest.approx([0.76, 2.2088])                 # 0.4·(1 + 0.9); 0.76 + 0.1·14.488
    nt = _run(SEED002, "nesterov", 2, lr=0.1, momentum=0.9, form="textbook")
    assert w(nt) == pytest.approx([0.4, 1.352])                  # look-ahead 0.76: g = −5.92
    assert nt.steps[1].point == {"w": pytest.approx(0.76)}
    r = _run(SEED002, "rmsprop", 2, lr=0.1, alpha=0.9)
    assert w(r)[0] == pytest.approx(0.4 / math.sqrt(1.6))       # s = 0.1·16
    a = _run(SEED002, "adam", 2, lr=0.1, beta1=0.9, beta2=0.9)
    assert w(a)[0] == pytest.approx(0.1)                         # m̂/√v̂ = −4/4 on step 1
    g2 = -4 * (3 - 0.2)
    m2, v2 = 0.9 * -0.4 + 0.1 * g2, 0.9 * 1.6 + 0.1 * g2 ** 2
    assert w(a)[1] == pytest.approx(0.1 - 0.1 * (m2 / 0.19) / math.sqrt(v2 / 0.19))
    nb = _run(SEED002, "adam", 1, lr=0.1, beta1=0.9, beta2=0.9, bias_correction=False)
    assert nb.steps[0].params["w"] == pytest.approx(0.1 * 0.4 / math.sqrt(1.6), rel=1e-6)


def test_a_batch_over_three_observations_several_steps():
    text = "x_1 = 1; x_2 = -2; x_3 = 0.5\ny_1 = 2; y_2 = 3; y_3 = -1\nw = 0.3\nL = (y - w*x)^2\n"
    data = [(1.0, 2.0), (-2.0, 3.0), (0.5, -1.0)]
    for how in ("mean", "sum"):
        for name, kw in [("sgd", {}), ("momentum", {"momentum": 0.5}), ("adam", {}), ("rmsprop", {}),
                         ("nesterov", {"momentum": 0.7, "form": "textbook"}), ("adagrad", {})]:
            run = _run(text, name, 6, lr=0.05, batch=how, **kw)
            ref = reference(name, lambda w, b, how=how: lin_grad(w, b, how), 0.3, [data] * 6, 0.05,
                            **{k: v for k, v in kw.items()})
            assert [s.params["w"] for s in run.steps] == pytest.approx([float(r) for r in ref], rel=1e-12)
            assert all(s.observations == [1, 2, 3] for s in run.steps)


def test_order_2_1_and_cycling():
    run = _run(SEED002, "sgd", 5, lr=0.1, order=[2, 1])
    assert [s.observations for s in run.steps] == [[2], [1], [2], [1], [2]]
    ref = reference("sgd", lin_grad, 0.0, [[DATA[1]], [DATA[0]]] * 2 + [[DATA[1]]], 0.1)
    assert [s.params["w"] for s in run.steps] == pytest.approx([float(r) for r in ref])


def test_seed002_logistic_step_e5():
    g, observations = read((EXAMPLES / "logistic_regression.txt").read_text())
    run = train(g, make_optimizer("gd", lr=0.01), 1, observations)
    p = 1 / (1 + math.exp(5))                      # σ(w·x) at w = 1, x = −5
    assert run.steps[0].grads["w"] == pytest.approx((p - 1) * -5)
    assert run.steps[0].grads["w"] == pytest.approx(4.96654, abs=1e-5)
    assert run.steps[0].params["w"] == pytest.approx(1 - 0.01 * (p - 1) * -5)
    assert run.steps[0].params["w"] == pytest.approx(0.950335, abs=1e-6)


SIGMOID_TABLE = """\
# | № | x1 | x2 | y |
# |---|----|----|---|
# | 1 | 1  | 1  | 1 |
# | 2 | 5  | 2  | 0 |
x = [[5, 2]]
y = 0
W1 = [[0, 0], [0, 0]]
W2 = [[0, 0], [0, 0]]
W3 = [[0], [0]]
O1 = sigmoid(x @ W1)
O2 = sigmoid(O1 @ W2)
yhat = O2 @ W3
L = 0.5 * (y - yhat)^2
"""


def _sigmoid_net_numpy(W1, W2, W3, x, y):
    def s(z):
        return 1 / (1 + np.exp(-z))

    O1 = s(x @ W1)
    O2 = s(O1 @ W2)
    return float(0.5 * (y - (O2 @ W3)[0, 0]) ** 2)


def _central(f, args, k, h=1e-6):
    A = args[k]
    G = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        up = [a.copy() for a in args]
        dn = [a.copy() for a in args]
        up[k][idx] += h
        dn[k][idx] -= h
        G[idx] = (f(*up) - f(*dn)) / (2 * h)
    return G


@pytest.mark.parametrize("table", [SIGMOID_TABLE, SIGMOID_TABLE.replace("x1 | x2", "x_1 | x_2")
                                   .replace("# | 1 | 1  | 1  | 1 |", "| 1 | 1 | 1 | 1 |"),
                                   "\n".join(["# | x | y |", "# |---|---|", "# | [[1, 1]] | 1 |",
                                              "# | [[5, 2]] | 0 |"]) + "\n" + SIGMOID_TABLE.split("\n", 4)[4],
                                   (EXAMPLES / "sigmoid_network_from_zeros.txt").read_text()])   # as shipped
def test_seed002_sigmoid_net_two_sgd_steps_e4(table):
    g, observations = read(table)
    assert [o.values["x"].tolist() for o in observations] == [[[1.0, 1.0]], [[5.0, 2.0]]]
    run = train(g, make_optimizer("sgd", lr=1), 2, observations, order=[2, 1])
    s1, s2 = run.steps
    assert s1.observations == [2] and s2.observations == [1]
    for k in ("W1", "W2", "W3"):                     # step 1: y = 0 and ŷ = 0, nothing moves
        assert np.all(s1.grads[k] == 0) and np.all(s1.params[k] == 0)
    assert s1.loss == 0
    assert s2.loss == pytest.approx(0.5)
    assert s2.grads["W3"] == pytest.approx(np.array([[-0.5], [-0.5]]))
    assert s2.params["W3"] == pytest.approx(np.array([[0.5], [0.5]]))
    assert np.all(s2.params["W1"] == 0) and np.all(s2.params["W2"] == 0)
    # and against central differences of a NumPy forward pass
    args = [np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 1)), np.array([[1.0, 1.0]]), np.array(1.0)]
    for k, name in enumerate(("W1", "W2", "W3")):
        assert s2.grads[name] == pytest.approx(_central(_sigmoid_net_numpy, args, k), abs=1e-8)


def test_seed004_one_sgd_step_is_2_8_not_1_18():
    g, observations = read((EXAMPLES / "relu_network_sgd.txt").read_text())
    run = train(g, make_optimizer("sgd", lr=0.1), 1, observations)
    (s,) = run.steps
    assert run.wrt == ["W1", "W2", "W3"]
    assert s.loss == 9
    assert s.params["W3"] == pytest.approx(np.array([[-1, 2.8]]))
    assert s.params["W2"] == pytest.approx(np.array([[-1, 1], [2.8, -1]]))
    assert s.params["W1"] == pytest.approx(np.array([[2.8], [-1]]))


# --- the MLP of seed 001: several Adam steps against NumPy + central differences (and torch) ------

def _mlp_numpy(W1, b1, W2, b2, x=np.array([1.0, 2.0])):
    h = np.maximum(W1 @ x + b1, 0)
    o = W2 @ h + b2
    o = o - o.max()
    return float(-(o[1] - np.log(np.exp(o).sum())))


def test_mlp_adam_steps_against_numpy_reference():
    g, observations = read((EXAMPLES / "mlp_relu_softmax.txt").read_text())
    run = train(g, make_optimizer("adam", lr=0.01), 5, observations)
    params = [np.array(g.node(k).default, dtype=float) for k in ("W1", "b1", "W2", "b2")]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, 6):
        grads = [_central(_mlp_numpy, params, k) for k in range(4)]
        for k in range(4):
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            params[k] = params[k] - 0.01 * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
        for k, name in enumerate(("W1", "b1", "W2", "b2")):
            assert run.steps[t - 1].params[name] == pytest.approx(params[k], abs=1e-6)


# --- torch.optim itself, when torch imports ------------------------------------------------------------

def _torch_optimizer(torch, name, params, lr, kw):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=kw["momentum"], nesterov=name == "nesterov")
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=kw.get("alpha", 0.99), eps=1e-8)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(kw.get("beta1", 0.9), kw.get("beta2", 0.999)), eps=1e-8)
    return torch.optim.Adagrad(params, lr=lr, eps=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad"])
def test_torch_optim_agrees_on_the_sheet_and_a_batch(name):
    torch = pytest.importorskip("torch")
    kw = SHEET[name]
    for batch in (None, "mean"):
        run = _run(SEED002, name, 6, lr=0.1, batch=batch, **kw)
        w = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = _torch_optimizer(torch, name, [w], 0.1, kw)
        got = []
        for t in range(6):
            data = DATA if batch else [DATA[t % 2]]
            opt.zero_grad()
            loss = sum((y - w * x) ** 2 for x, y in data) / len(data)
            loss.backward()
            opt.step()
            got.append(w.detach().item())
        assert [s.params["w"] for s in run.steps] == pytest.approx(got, rel=1e-10, abs=1e-12)


def test_torch_adam_on_the_mlp_30_steps():
    torch = pytest.importorskip("torch")
    g, observations = read((EXAMPLES / "mlp_relu_softmax.txt").read_text())
    run = train(g, make_optimizer("adam", lr=0.05), 30, observations)
    names = ("W1", "b1", "W2", "b2")
    ps = [torch.tensor(np.asarray(g.node(k).default, dtype=float), requires_grad=True) for k in names]
    opt = torch.optim.Adam(ps, lr=0.05)
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    for t in range(30):
        opt.zero_grad()
        o = ps[2] @ torch.relu(ps[0] @ x + ps[1]) + ps[3]
        loss = -torch.log_softmax(o, 0)[1]
        assert run.steps[t].loss == pytest.approx(loss.item(), rel=1e-9)
        loss.backward()
        opt.step()
        for k, name in enumerate(names):
            assert run.steps[t].params[name] == pytest.approx(ps[k].detach().numpy(), abs=1e-9)


# --- bad input -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, words", [
    (lambda: make_optimizer("adam", lr="abc"), "--lr 'abc': expected a number"),
    (lambda: make_optimizer("adam"), "needs a learning rate"),
    (lambda: make_optimizer("momentum", lr=0.1), "needs a momentum constant"),
    (lambda: make_optimizer("sgd", lr=0.1, beta1=0.9), "--beta1 is not a constant of sgd"),
    (lambda: make_optimizer("adam", lr=0.1, beta1=1.5), "--beta1 1.5: must be in [0, 1)"),
    (lambda: make_optimizer("lbfgs", lr=0.1), "unknown optimizer"),
    (lambda: make_optimizer("sgd", lr=-1), "must be positive"),
    (lambda: make_optimizer("sgd", lr=float("nan")), "finite"),
])
def test_bad_constants_are_one_clear_line(call, words):
    with pytest.raises(InputError) as e:
        call()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_alpha_stands_for_momentum_as_on_the_sheet():
    assert make_optimizer("momentum", lr=0.1, alpha=0.9).momentum == 0.9
    with pytest.raises(InputError, match="disagree"):
        make_optimizer("momentum", lr=0.1, alpha=0.9, momentum=0.5)


def test_steps_beyond_the_limit_and_bad_order():
    g, observations = read(SEED002, limits=Limits(max_train_steps=5))
    with pytest.raises(InputError, match="max_train_steps=5"):
        train(g, make_optimizer("sgd", lr=0.1), 6, observations)
    with pytest.raises(InputError, match="no observation 3"):
        train(g, make_optimizer("sgd", lr=0.1), 2, observations, order=[1, 3])
    with pytest.raises(InputError, match="whole number"):
        train(g, make_optimizer("sgd", lr=0.1), 0, observations)
    with pytest.raises(InputError, match="with --batch every step uses all"):
        train(g, make_optimizer("sgd", lr=0.1), 2, observations, order=[2, 1], batch="mean")


def test_no_parameters_and_no_starting_value():
    g, observations = read("x = 1\nf = x^2")
    with pytest.raises(InputError, match="no parameters to train"):
        train(g, make_optimizer("sgd", lr=0.1), 1, observations)
    run = train(g, make_optimizer("sgd", lr=0.25), 1, observations, wrt="x")
    assert run.steps[0].params["x"] == pytest.approx(0.5)
    g, observations = read("f = (w - 3)^2")
    with pytest.raises(InputError, match="'w' has no starting value"):
        train(g, make_optimizer("sgd", lr=0.1), 1, observations)


def test_a_sheet_of_data_only_has_nothing_to_train():
    # seed 002 §3 ex. 1 as written: data, the model "y = w x" in prose, "start from w_0 = 0"; no loss.
    # Before, gd "trained" the output w_0 itself (0 → -0.1 → -0.2, "loss -0.2") with exit status 0
    sheet = (r"Маша собрала два наблюдения: $x_1 = 1, x_2 = 2, y_1 = 2, y_2 = 3$ и собирается обучить "
             r"линейную регрессию $y = w \cdot x$. В качестве стартовой точки используйте $w_0 = 0$.")
    g, observations = read(sheet)
    with pytest.raises(InputError, match="nothing to train: the output 'w_0' is a given value"):
        train(g, make_optimizer("gd", lr=0.1), 2, observations)
    with pytest.raises(InputError, match="nothing to train"):
        train(g, make_optimizer("sgd", lr=0.1), 1, observations, wrt="w_0")


def test_divergence_stops_at_the_first_non_finite_step():
    run = _run(SEED002, "sgd", 1000, lr=10)
    assert run.diverged is not None and "diverged at step" in run.diverged
    k = len(run.steps) + 1                           # the step that went non-finite
    assert f"step {k}:" in run.diverged
    # the reference in plain floats: the same steps stay finite, step k does not
    w = np.float64(0.0)
    for t in range(1, k + 1):
        x, y = DATA[(t - 1) % 2]
        with np.errstate(all="ignore"):
            loss = (y - w * x) ** 2
            w = w - 10 * (-2 * x * (y - w * x))
        finite = math.isfinite(loss) and math.isfinite(w)
        assert finite == (t < k)
        if t < k:
            assert run.steps[t - 1].params["w"] == pytest.approx(w)
    assert all(np.isfinite(s.params["w"]) for s in run.steps)


def test_table_errors():
    with pytest.raises(InputError, match="column 'z' is not an input"):
        read("# | z | y |\n# |---|---|\n# | 1 | 2 |\nL = (y - w*x)^2")
    with pytest.raises(InputError, match="numbered '3'"):
        read("| № | x | y |\n|---|---|---|\n| 3 | 1 | 2 |\nw = 0\nL = (y - w*x)^2")
    with pytest.raises(InputError, match="line 3"):
        read("| x | y |\n|---|---|\n| 1 | two |\nw = 0\nL = (y - w*x)^2")
    with pytest.raises(InputError, match="no y_2"):
        read("x_1 = 1; x_2 = 2; y_1 = 2\nw = 0\nL = (y - w*x)^2")


# --- the per-step table in every format ---------------------------------------------------------------

def test_formats_carry_the_runs_numbers():
    import csv
    import io
    import json

    from graphviz_bp.showing import training as show
    run = _run(SEED002, "adam", 2, lr=0.1, beta1=0.9, beta2=0.9)
    text = show.to_text(run)
    assert "adam/pytorch" in text and "m̂ = m/(1 − β₁ᵗ)" in text and "order 1, 2" in text
    assert "0.190797" in text                          # w₂ to 6 digits
    md = show.to_markdown(run)
    assert md.count("\n| ") == 1 + 3                   # header and rows 0, 1, 2
    assert "\\hat m = \\frac{m}{1 - \\beta_1^t}" in md
    tex = show.to_tex(run)
    assert "\\begin{tabular}" in tex and "$0.190797$" in tex
    table = list(csv.DictReader(io.StringIO(show.to_csv(run))))
    assert [float(r["w"]) for r in table] == [0.0] + [s.params["w"] for s in run.steps]
    assert [float(r["m w"]) for r in table[1:]] == [s.state["w"]["m"] for s in run.steps]
    doc = json.loads(json.dumps(show.to_dict(run)))
    assert doc["steps"][1]["parameters"]["w"] == run.steps[1].params["w"]
    assert doc["data"]["order"] == [1, 2] and doc["variant"] == "adam/pytorch"


def test_several_parameters_one_row_each():
    from graphviz_bp.showing import training as show
    g, observations = read((EXAMPLES / "relu_network_sgd.txt").read_text())
    run = train(g, make_optimizer("momentum", lr=0.1, momentum=0.9), 2, observations)
    rows = show.rows(run)
    assert rows[0][3] == "parameter" and len(rows) == 1 + 3 * 3
    assert [r[3] for r in rows[1:4]] == ["W₁", "W₂", "W₃"]
    assert rows[4][0] == "1" and rows[5][0] == "" and rows[4][2] == "9"


# --- the command ---------------------------------------------------------------------------------------

def _cli(capsys, *argv):
    from graphviz_bp.app.cli import main
    rc = main(["train", str(EXAMPLES / "linear_regression_steps.txt"), *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_table_and_json(capsys):
    import json
    rc, out, err = _cli(capsys, "--optimizer", "gd", "--lr", "0.1", "--steps", "2")
    assert rc == 0 and "full batch" in out and "mean" in out and "after step 2: w = 1.2" in out
    rc, out, err = _cli(capsys, "--optimizer", "nesterov", "--lr", "0.1", "--alpha", "0.9", "--form",
                        "textbook", "--steps", "2", "--json")
    doc = json.loads(out)
    assert rc == 0 and [s["parameters"]["w"] for s in doc["steps"]] == pytest.approx([0.4, 1.352])
    rc, out, err = _cli(capsys, "--lr", "0.1", "--steps", "2", "--order", "2,1", "--format", "csv")
    assert rc == 0 and out.splitlines()[0] == "step,observations,loss,grad w,w"


@pytest.mark.parametrize("argv, words", [
    (["--lr", "abc"], "--lr 'abc': expected a number"),
    (["--optimizer", "momentum", "--lr", "0.1"], "needs a momentum constant"),
    (["--lr", "0.1", "--steps", "20000"], "max_train_steps"),
    (["--lr", "0.1", "--steps", "two"], "--steps 'two'"),
    (["--lr", "0.1", "--order", "3,1"], "no observation 3"),
    (["--optimizer", "rmsprop", "--lr", "0.1", "--no-bias-correction"], "option of adam"),
])
def test_cli_bad_input_is_one_line_exit_2(capsys, argv, words):
    rc, out, err = _cli(capsys, *argv)
    assert rc == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_divergence_prints_the_finite_steps_then_one_line(capsys):
    import json
    rc, out, err = _cli(capsys, "--lr", "10", "--steps", "500")
    assert rc == 2 and err.startswith("graphviz-bp: error: diverged at step 98") and err.count("\n") == 1
    assert out.splitlines()[-3].startswith("97 ") or " 97 " in out
    rc, out, err = _cli(capsys, "--lr", "10", "--steps", "500", "--json")
    doc = json.loads(out)
    assert rc == 2 and len(doc["steps"]) == 97 and "step 98" in doc["error"]["message"]


# --- the checker -----------------------------------------------------------------------------------------

def _check(text, answers, name="sgd", steps=2, **kw):
    from graphviz_bp.showing.check_training import check_training
    run = _run(text, name, steps, **kw)
    return check_training(run, answers)


@pytest.mark.parametrize("name, kw, answers, first, slip", [
    ("sgd", {}, "step 1 w = 0.4\nstep 2 w = 1.28", None, None),
    ("sgd", {}, "w_1 = 0.4\nw₂ = 1.28\nstep 1 grad w = -4\nstep 2 loss = 4.84", None, None),
    ("sgd", {}, "step 1 w = -0.4", 0, "the sign is flipped"),
    ("sgd", {}, "step 1 w = 0.4\nstep 2 w = -0.48", 1, "the update went the wrong way"),
    ("sgd", {}, "step 1 w = 0.4\nstep 2 w = 0.488", 1, "10 times too small"),
    ("sgd", {}, "step 1 w = 0.4\nstep 2 w = 0.72", 1, "with observation 1 (the step uses observation 2)"),
    ("sgd", {}, "step 1 grad w = -40", 0, "decimal point is shifted"),
    ("gd", {"batch": "mean"}, "step 1 w = 1.6", 0, "the sum of the losses"),
    ("adam", {"beta1": 0.9, "beta2": 0.9}, "step 1 w = 0.0316", 0, "without the bias correction"),
    ("adam", {"beta1": 0.9, "beta2": 0.9}, "step 1 w = 0.1\nstep 2 m_hat = -7.789\nstep 2 w = 0.1908", None, None),
    ("nesterov", {"momentum": 0.9}, "step 1 w = 0.4\nstep 2 w = 1.352", 0, "textbook form of nesterov"),
    ("momentum", {"momentum": 0.9}, "step 1 v = -4\nstep 2 v = -1.24", 1, "textbook form of momentum"),
])
def test_checker_names_the_first_wrong_step_and_its_slip(name, kw, answers, first, slip):
    report = _check(SEED002, answers, name, **{"lr": 0.1, **kw})
    assert report.first_wrong == first
    if slip:
        assert slip in report.claims[first].slip
        assert f"first wrong: step {report.claims[first].step}" in report.text()


def test_checker_on_the_sheets_own_slips():
    from graphviz_bp.showing.check_training import check_training
    g, observations = read((EXAMPLES / "relu_network_sgd.txt").read_text())
    run = train(g, make_optimizer("sgd", lr=0.1), 1, observations)
    report = check_training(run, "step 1 W3[0, 1] = 1.18\nstep 1 W1 = [[1.18], [-1]]")
    assert report.first_wrong == 0 and report.claims[0].expected == pytest.approx(2.8)
    assert "10 times too small" in report.claims[0].slip
    # seed 002 §4 ex. 3: the sheet's step 1 uses y = 1 for observation 2 (whose y is 0)
    g, observations = read(SIGMOID_TABLE)
    run = train(g, make_optimizer("sgd", lr=1), 2, observations, order=[2, 1])
    report = check_training(run, "step 1 loss = 0.5\nstep 1 grad W3 = [[-0.5], [-0.5]]")
    assert report.first_wrong == 0
    assert "observation 1" in report.claims[0].slip


def test_checker_bad_answers():
    from graphviz_bp.showing.check_training import check_training
    run = _run(SEED002, "sgd", 2, lr=0.1)
    for answers, words in [("step 1 q = 3", "'q' is not a parameter"), ("w = 3", "expected 'step K NAME = VALUE'"),
                           ("step 5 w = 1", "give --steps 5"), ("step 1 w = abc", "expected a number"),
                           ("", "no claims")]:
        with pytest.raises(InputError, match=re.escape(words)):
            check_training(run, answers)


def test_cli_check(tmp_path, capsys):
    answers = tmp_path / "steps.txt"
    answers.write_text("step 1 w = 0.4\nstep 2 w = 1.28\n")
    rc, out, err = _cli(capsys, "--lr", "0.1", "--check", str(answers))
    assert rc == 0 and "all claims are right" in out
    answers.write_text("step 1 w = 0.4\nstep 2 w = 0.72\n")
    rc, out, err = _cli(capsys, "--lr", "0.1", "--check", str(answers))
    assert rc == 1 and "first wrong: step 2" in out


def test_explain_hook_adds_the_table_when_an_optimizer_is_given():
    from graphviz_bp.app.cli import _at, _limits, _Parser, _program_args, _read_program
    from graphviz_bp.app.command_train import add_training_arguments, with_training
    p = _Parser()
    _program_args(p)
    p.set_defaults(cli_io=(_read_program, _at, _limits))
    p.add_argument("--wrt")
    p.add_argument("--format", default="md")
    add_training_arguments(p, optional=True)
    text = SEED002
    args = p.parse_args(["-e", text])
    assert with_training("# solution\n", args, text) == "# solution\n"         # no --optimizer: unchanged
    args = p.parse_args(["-e", text, "--optimizer", "momentum", "--lr", "0.1", "--momentum", "0.9", "--steps", "2"])
    md = with_training("# solution\n", args, text)
    assert md.startswith("# solution\n\n## Training") and "| 2 | 2 | 4.84 | -8.8 | -12.4 | 1.64 |" in md
    args = p.parse_args(["-e", text, "--optimizer", "sgd", "--lr", "0.1", "--steps", "2"])
    tex = with_training("\\begin{document}\nx\n\\end{document}\n", args, text, fmt="tex")
    assert tex.index("\\section*{Training}") < tex.index("\\end{document}") and "$1.28$" in tex


# --- random settings against the references -------------------------------------------------------------

_NUM = st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad"]),
       form=st.sampled_from(["pytorch", "textbook"]), lr=st.floats(1e-3, 0.5), mu=st.floats(0, 0.99),
       alpha=st.floats(0.5, 0.999), b1=st.floats(0, 0.99), b2=st.floats(0.5, 0.9999),
       data=st.lists(st.tuples(_NUM, _NUM), min_size=1, max_size=4), w0=_NUM,
       steps=st.integers(1, 6), batch=st.sampled_from([None, "mean", "sum"]), rnd=st.randoms(use_true_random=False))
def test_random_runs_match_the_reference(name, form, lr, mu, alpha, b1, b2, data, w0, steps, batch, rnd):
    text = "; ".join(f"x_{k} = {x}; y_{k} = {y}" for k, (x, y) in enumerate(data, 1)) + \
        f"\nw = {w0}\nL = (y - w*x)^2\n"
    order = list(range(1, len(data) + 1))
    rnd.shuffle(order)
    kw = {"momentum": {"momentum": mu, "form": form}, "nesterov": {"momentum": mu, "form": form},
          "rmsprop": {"alpha": alpha, "form": form}, "adam": {"beta1": b1, "beta2": b2}}.get(name, {})
    run = _run(text, name, steps, lr=lr, batch=batch, order=None if batch else order, **kw)
    batches = [data] * steps if batch else [[data[order[t % len(order)] - 1]] for t in range(steps)]
    ref = reference(name, lambda w, b: lin_grad(w, b, batch or "mean"), w0, batches, lr,
                    **{k: v for k, v in kw.items()})
    assert [s.params["w"] for s in run.steps] == pytest.approx([float(r) for r in ref], rel=1e-9, abs=1e-12)


def test_checker_accepts_the_sheets_rounding_e5():
    from graphviz_bp.showing.check_training import check_training
    g, observations = read((EXAMPLES / "logistic_regression.txt").read_text())
    run = train(g, make_optimizer("gd", lr=0.01), 1, observations)
    report = check_training(run, "шаг 1 grad w = 4.96\nstep 1 w = 0.95")     # the sheet's own numbers
    assert report.ok and [c.verdict for c in report.claims] == ["rounded", "rounded"]
    report = check_training(run, "step 1 w = 1.0497")                        # w + γ·g: the wrong way
    assert not report.ok and "wrong way" in report.claims[0].slip
    report = check_training(run, "step 1 w = 1")
    assert not report.ok


def test_a_start_where_the_loss_is_nan_is_said_so_not_called_divergence():
    g, observations = read("w = 1\nL = log(w - 2)")
    run = train(g, make_optimizer("sgd", lr=0.1), 3, observations)
    assert run.steps == [] and run.diverged.startswith("step 1: the loss is not finite") \
        and "at the starting values" in run.diverged and "log(w - 2)" in run.diverged
