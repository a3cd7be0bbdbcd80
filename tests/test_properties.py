"""Independent checks of every derivative: central finite differences, and the three algorithms
(reverse accumulation, forward mode, the sum over paths) against each other."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphviz_bp as gbp
from graphviz_bp.core.ops import OPS, operand_vjps

rng = np.random.default_rng(7)

# inputs for each op away from its kinks and outside its singular points
OP_INPUTS = {
    "add": [(2, 3), (3,)], "sub": [(2, 3), (2, 1)], "mul": [(3, 1), (1, 2)], "div": [(2, 2), "pos(2, 2)"],
    "pow": ["pos(3,)", (3,)], "maximum": [(4,), (4,)], "minimum": [(4,), (4,)],
    "neg": [(2, 2)], "exp": [(3,)], "log": ["pos(3,)"], "sqrt": ["pos(3,)"], "sin": [(3,)], "cos": [(3,)],
    "tanh": [(3,)], "sigmoid": [(3,)], "relu": [(5,)], "softplus": [(3,)], "abs": [(5,)], "sign": [(3,)],
    "sum": [(2, 3)], "mean": [(2, 3)], "norm1": [(2, 3)], "sqnorm2": [(2, 3)], "norm2": [(4,)],
    "normp": [(4,)], "trace": [(3, 3)], "det": [(3, 3)], "matmul": [(2, 3), (3, 2)], "transpose": [(2, 3)],
    "index": [(3, 2)], "softmax": [(2, 4)], "logsumexp": [(2, 3)], "inv": ["spd(3, 3)"],
    "conv2d": [(4, 5), (2, 2, 2)], "dot": [(), (), (), ()], "leaky_relu": [(5,), (5,)], "elu": [(5,), (5,)],
    # entry [1, 0] of A @ B as a function of A's row 1 and B's column 0 (the scalar view's neuron)
    "component": [(), (), (), (), (), ()],
}
PARAMS = {"normp": {"p": 3.0}, "index": {"index": (1, 0)}, "conv2d": {"stride": 2},
          "component": {"op": "matmul", "template": [rng.normal(size=(2, 3)), rng.normal(size=(3, 2))],
                        "slots": [(0, 3), (0, 4), (0, 5), (1, 0), (1, 2), (1, 4)], "position": (1, 0),
                        "params": {}}}


def make(spec):
    if isinstance(spec, str):
        kind, shape = spec.split("(", 1)
        shape = eval("(" + shape)   # test-local literal shapes, not user input
        if kind == "pos":
            return rng.uniform(0.5, 2.0, shape)
        a = rng.normal(size=shape)
        return a @ a.T + shape[0] * np.eye(shape[0])
    x = rng.normal(size=spec)
    x = np.where(np.abs(x) < 0.2, x + np.sign(x + 1e-12) * 0.3, x)   # keep away from kinks at 0
    return x if spec else float(x)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_vjp_matches_central_differences(name):
    op = OPS[name]
    assert name in OP_INPUTS, f"{name}: every op in the table needs inputs for its derivative check"
    args = [make(s) for s in OP_INPUTS[name]]
    if name in ("maximum", "minimum"):
        args[1] = args[0] + rng.choice([-1.0, 1.0], size=args[0].shape) * rng.uniform(0.3, 1, args[0].shape)
    params = PARAMS.get(name, {})
    out = op.tensor(*args, **params)
    cot = rng.normal(size=np.shape(out)) if np.ndim(out) else 1.3
    grads = operand_vjps(op, cot, out, args, params)
    h = 1e-6
    for k, a in enumerate(args):
        fd = np.zeros(np.shape(a))
        for idx in np.ndindex(np.shape(a)):
            plus = [np.array(x, dtype=float, copy=True) for x in args]
            minus = [np.array(x, dtype=float, copy=True) for x in args]
            plus[k][idx] += h
            minus[k][idx] -= h
            plus = [p if np.ndim(p) else float(p) for p in plus]
            minus = [m if np.ndim(m) else float(m) for m in minus]
            fd[idx] = np.sum(cot * (np.asarray(op.tensor(*plus, **params)) -
                                    np.asarray(op.tensor(*minus, **params)))) / (2 * h)
        assert np.shape(grads[k]) == np.shape(a), f"{name}: gradient {k} has the wrong shape"
        np.testing.assert_allclose(grads[k], fd, rtol=1e-5, atol=1e-6, err_msg=f"{name} operand {k}")


def test_every_op_documents_itself():
    for name, op in OPS.items():
        assert op.doc, f"{name} has no docstring"
        assert op.partials is not None or op.vjp is not None, name


# --- random programs -----------------------------------------------------------------------------

UNARY = ["sin", "cos", "tanh", "sigmoid", "softplus", "exp(tanh({}))", "log(1 + {}^2)", "sqrt(2 + sin({}))"]
BINARY = ["+", "-", "*", "/(1.5 + cos({b}))"]


@st.composite
def programs(draw, vector: bool):
    """A random program over scalars x, y (and a vector v) with reuse of earlier names."""
    names = ["x", "y"] + (["v"] if vector else [])
    lines = []
    for i in range(draw(st.integers(2, 7))):
        kind = draw(st.sampled_from(["u", "b", "b"]))
        a = draw(st.sampled_from(names))
        if kind == "u":
            f = draw(st.sampled_from(UNARY))
            expr = f.format(a) if "{}" in f else f"{f}({a})"
        else:
            b = draw(st.sampled_from(names))
            op = draw(st.sampled_from(BINARY))
            expr = f"{a} {op} {b}" if "{b}" not in op else f"{a} {op.format(b=b)}"
        lines.append(f"n{i} = {expr}")
        names.append(f"n{i}")
    last = names[-1]
    lines.append(f"out = sum({last}) + 0.5*sum({names[-2]})*y" if vector else f"out = {last} + x*{names[-2]}")
    return "\n".join(lines)


def finite_difference(g, at, name, h=1e-6):
    base = np.asarray(at[name], dtype=float)
    grad = np.zeros(base.shape)
    for idx in np.ndindex(base.shape):
        e = np.zeros(base.shape)
        e[idx] = h
        plus = {**at, name: base + e if base.shape else float(base + e)}
        minus = {**at, name: base - e if base.shape else float(base - e)}
        grad[idx] = (g.evaluate(at=plus)[g.output] - g.evaluate(at=minus)[g.output]) / (2 * h)
    return grad


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prog=programs(vector=False), x=st.floats(-2, 2), y=st.floats(-2, 2))
def test_scalar_programs_reverse_forward_paths_fd(prog, x, y):
    g = gbp.parse(prog)
    at = {k: v for k, v in {"x": x, "y": y}.items() if k in g.leaves}
    rev = g.gradients(at=at)
    fwd = g.gradients(at=at, method="forward")
    paths = g.gradients(at=at, method="paths")
    for name in at:
        fd = float(finite_difference(g, at, name))
        assert rev[name] == pytest.approx(fwd[name], rel=1e-9, abs=1e-9)
        assert rev[name] == pytest.approx(paths[name], rel=1e-9, abs=1e-9)
        assert rev[name] == pytest.approx(fd, rel=1e-4, abs=1e-5)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prog=programs(vector=True), x=st.floats(-2, 2), y=st.floats(-2, 2),
       v=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_vector_programs_reverse_forward_paths_fd(prog, x, y, v):
    g = gbp.parse(prog)
    at = {k: val for k, val in {"x": x, "y": y, "v": np.array(v)}.items() if k in g.leaves}
    rev = g.gradients(at=at)
    fwd = g.gradients(at=at, method="forward")
    paths = g.gradients(at=at, method="paths")
    for name in at:
        np.testing.assert_allclose(rev[name], fwd[name], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(rev[name], paths[name], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(rev[name], finite_difference(g, at, name), rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(prog=programs(vector=True), x=st.floats(-2, 2), y=st.floats(-2, 2),
       v=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_scalar_view_agrees_with_tensor_graph(prog, x, y, v):
    g = gbp.parse(prog)
    at = {k: val for k, val in {"x": x, "y": y, "v": np.array(v)}.items() if k in g.leaves}
    s = gbp.scalar_view(g, at=at)
    assert s.evaluate()[s.output] == pytest.approx(g.evaluate(at=at)[g.output], rel=1e-12, abs=1e-12)
    grads = s.gradients()
    tensor = g.gradients(at=at)
    for name in ("x", "y"):
        if name in tensor:
            assert grads[name] == pytest.approx(tensor[name], rel=1e-9, abs=1e-9)
    if "v" in tensor:
        assert [grads[f"v[{k}]"] for k in range(3)] == pytest.approx(list(tensor["v"]), rel=1e-9, abs=1e-9)
    src = "x" if "x" in tensor else "y"
    assert gbp.count_paths(s, src) == sum(1 for _ in gbp.derivative_paths(s, src, values=False))


def test_path_count_matches_networkx():
    import networkx as nx
    g = gbp.parse(open("graphviz_bp/examples/mlp_relu_softmax.txt").read())
    s = gbp.scalar_view(g)
    for src in ("x[0]", "W1[1,0]", "b2[1]"):
        assert gbp.count_paths(s, src) == len(list(nx.all_simple_paths(s.dag, src, s.output)))


@pytest.mark.parametrize("name", ["softmax", "logsumexp"])
def test_a_column_is_one_distribution(name):
    """An n×1 column (a vector as every formula writes it) is normalised over its n entries, like the
    1-D vector; the gradient agrees with central differences."""
    o = rng.normal(size=(4, 1))
    op = OPS[name]
    np.testing.assert_allclose(np.ravel(op.tensor(o)), np.ravel(op.tensor(o.ravel())), rtol=1e-12)
    cot = rng.normal(size=np.shape(op.tensor(o))) if np.ndim(op.tensor(o)) else 1.0
    (grad,) = operand_vjps(op, cot, op.tensor(o), [o], {})
    h, fd = 1e-6, np.zeros_like(o)
    for idx in np.ndindex(o.shape):
        d = np.zeros_like(o)
        d[idx] = h
        fd[idx] = np.sum(cot * (np.asarray(op.tensor(o + d)) - np.asarray(op.tensor(o - d)))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)
