"""Anchors: what graphviz-bp is measured against, on the same inputs.

Every anchor takes a workload in *compiled* form — the (name, op, args) list of
``workloads.make_workload`` turned into operand indices by ``compile_program``
(untimed: it plays the part of parsing, which is measured separately against
``ast.parse``) — and computes the value of the output and the full gradient
with respect to every input.

- ``tape_*``      plain-Python float tape: the per-node floor of CPython.
- ``micrograd_*`` the ``micrograd`` package (``micrograd.engine.Value``), with
                  three extension ops written here (see ``mg_sin`` below).
- ``torch_*``     torch autograd on 0-d float64 tensors.
- ``sympy_*``     SymPy ``diff`` + ``lambdify`` (small N only).
- ``ast.parse``   of the program text, the floor for parsing (in cases.py).
- ``mlp_*``       the tensor case: a 2-layer MLP, hand-written NumPy backprop
                  and torch autograd computing the same loss.

Nothing here imports graphviz_bp.
"""
import math

OPS = ("add", "mul", "sin", "tanh", "exp")


class Compiled:
    """A scalar workload with names replaced by indices into one value list.

    Indices 0 .. n_inputs-1 are the inputs (in the order of ``input_names``),
    index n_inputs + k is the k-th program line; the output is the last one.
    ``code`` is a list of ``(op, a, b)`` with ``b == -1`` for unary ops.
    """

    def __init__(self, prog, inputs):
        self.input_names = list(inputs)
        self.x0 = [float(inputs[n]) for n in self.input_names]
        self.n_inputs = len(self.input_names)
        index = {n: i for i, n in enumerate(self.input_names)}
        code = []
        names = list(self.input_names)
        for name, op, args in prog:
            if op not in OPS:
                raise ValueError(f"unknown op {op!r}")
            a = index[args[0]]
            b = index[args[1]] if len(args) > 1 else -1
            code.append((op, a, b))
            index[name] = len(names)
            names.append(name)
        self.code = code
        self.names = names
        self.output = names[-1]


def compile_program(prog, inputs):
    return Compiled(prog, inputs)


# ---------------------------------------------------------------------------
# (1) plain-Python float tape
# ---------------------------------------------------------------------------

def tape_evaluate(c):
    """Values of every node, forward only, nothing recorded."""
    sin, tanh, exp = math.sin, math.tanh, math.exp
    v = list(c.x0)
    app = v.append
    for op, a, b in c.code:
        if op == "add":
            app(v[a] + v[b])
        elif op == "mul":
            app(v[a] * v[b])
        elif op == "sin":
            app(sin(v[a]))
        elif op == "tanh":
            app(tanh(v[a]))
        else:
            app(exp(v[a]))
    return v


def tape_gradient(c):
    """Forward with ``math``, recording (parent, local partial) pairs per node,
    then one reverse loop. Returns (output value, [d out / d input_i])."""
    sin, cos, tanh, exp = math.sin, math.cos, math.tanh, math.exp
    v = list(c.x0)
    app = v.append
    tape = []
    rec = tape.append
    for op, a, b in c.code:
        if op == "add":
            app(v[a] + v[b])
            rec((a, 1.0, b, 1.0))
        elif op == "mul":
            va = v[a]
            vb = v[b]
            app(va * vb)
            rec((a, vb, b, va))
        elif op == "sin":
            va = v[a]
            app(sin(va))
            rec((a, cos(va), -1, 0.0))
        elif op == "tanh":
            t = tanh(v[a])
            app(t)
            rec((a, 1.0 - t * t, -1, 0.0))
        else:
            e = exp(v[a])
            app(e)
            rec((a, e, -1, 0.0))
    n0 = c.n_inputs
    adj = [0.0] * len(v)
    adj[-1] = 1.0
    for k in range(len(tape) - 1, -1, -1):
        g = adj[n0 + k]
        a, da, b, db = tape[k]
        adj[a] += g * da
        if b >= 0:
            adj[b] += g * db
    return v[-1], adj[:n0]


def count_paths_dp(c, src_index, multiplicity=True):
    """Exact number of src -> output paths (Python ints), for checking.

    ``multiplicity=True`` counts ``x*x`` as two edges from x, ``False`` as one
    (ARCHITECTURE allows either)."""
    n0 = c.n_inputs
    cnt = [0] * (n0 + len(c.code))
    cnt[src_index] = 1
    for k, (op, a, b) in enumerate(c.code):
        n = cnt[a]
        if b >= 0 and (multiplicity or b != a):
            n += cnt[b]
        cnt[n0 + k] = n
    return cnt[-1]


# ---------------------------------------------------------------------------
# (2) micrograd
# ---------------------------------------------------------------------------
# EXTENSION OPS, NOT PART OF MICROGRAD. The installed micrograd (PyPI 0.1.0)
# has + * ** relu only: no sin, tanh or exp. The three functions below follow
# micrograd's own pattern exactly (a new Value with the operand as child and a
# _backward closure that accumulates local-partial * out.grad), so that the
# workloads run on micrograd's engine and its backward() unchanged.

def _micrograd_value():
    from micrograd.engine import Value
    return Value


def mg_sin(x):
    """[extension op] sin for micrograd.engine.Value, in micrograd's pattern."""
    Value = type(x)
    out = Value(math.sin(x.data), (x,), "sin")

    def _backward():
        x.grad += math.cos(x.data) * out.grad
    out._backward = _backward
    return out


def mg_tanh(x):
    """[extension op] tanh for micrograd.engine.Value, in micrograd's pattern."""
    Value = type(x)
    t = math.tanh(x.data)
    out = Value(t, (x,), "tanh")

    def _backward():
        x.grad += (1.0 - t * t) * out.grad
    out._backward = _backward
    return out


def mg_exp(x):
    """[extension op] exp for micrograd.engine.Value, in micrograd's pattern."""
    Value = type(x)
    out = Value(math.exp(x.data), (x,), "exp")

    def _backward():
        x.grad += out.data * out.grad
    out._backward = _backward
    return out


def micrograd_gradient(c, Value=None):
    """Build micrograd Values (the forward pass), then ``out.backward()``.

    micrograd's backward() sorts the graph with a *recursive* DFS, so deep
    graphs need a high recursion limit (cases.py raises it and runs this in a
    thread with a large stack)."""
    if Value is None:
        Value = _micrograd_value()
    vals = [Value(x) for x in c.x0]
    app = vals.append
    for op, a, b in c.code:
        if op == "add":
            app(vals[a] + vals[b])
        elif op == "mul":
            app(vals[a] * vals[b])
        elif op == "sin":
            app(mg_sin(vals[a]))
        elif op == "tanh":
            app(mg_tanh(vals[a]))
        else:
            app(mg_exp(vals[a]))
    out = vals[-1]
    out.backward()
    return out.data, [float(vals[i].grad) for i in range(c.n_inputs)]


# ---------------------------------------------------------------------------
# (3) torch autograd on 0-d float64 tensors
# ---------------------------------------------------------------------------

def torch_gradient(c, torch=None):
    if torch is None:
        import torch
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in c.x0]
    vals = list(leaves)
    app = vals.append
    sin, tanh, exp = torch.sin, torch.tanh, torch.exp
    for op, a, b in c.code:
        if op == "add":
            app(vals[a] + vals[b])
        elif op == "mul":
            app(vals[a] * vals[b])
        elif op == "sin":
            app(sin(vals[a]))
        elif op == "tanh":
            app(tanh(vals[a]))
        else:
            app(exp(vals[a]))
    out = vals[-1]
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in grads]


def torch_evaluate(c, torch=None):
    if torch is None:
        import torch
    with torch.no_grad():
        vals = [torch.tensor(x, dtype=torch.float64) for x in c.x0]
        app = vals.append
        for op, a, b in c.code:
            if op == "add":
                app(vals[a] + vals[b])
            elif op == "mul":
                app(vals[a] * vals[b])
            elif op == "sin":
                app(torch.sin(vals[a]))
            elif op == "tanh":
                app(torch.tanh(vals[a]))
            else:
                app(torch.exp(vals[a]))
    return vals[-1].item()


# ---------------------------------------------------------------------------
# (4) SymPy diff + lambdify
# ---------------------------------------------------------------------------

def sympy_expression(c):
    """The output as one SymPy expression in the input symbols."""
    import sympy as sp
    syms = [sp.Symbol(n) for n in c.input_names]
    vals = list(syms)
    app = vals.append
    for op, a, b in c.code:
        if op == "add":
            app(vals[a] + vals[b])
        elif op == "mul":
            app(vals[a] * vals[b])
        elif op == "sin":
            app(sp.sin(vals[a]))
        elif op == "tanh":
            app(sp.tanh(vals[a]))
        else:
            app(sp.exp(vals[a]))
    return syms, vals[-1]


def sympy_diff(syms, expr):
    import sympy as sp
    return [sp.diff(expr, s) for s in syms]


def sympy_lambdify(syms, expr, grads):
    """One function (x...) -> [value, d/dx...], math module, with CSE."""
    import sympy as sp
    return sp.lambdify(syms, [expr] + list(grads), modules="math", cse=True)


# ---------------------------------------------------------------------------
# (6) tensor case: 2-layer MLP, softmax cross-entropy
# ---------------------------------------------------------------------------
# L = -sum(Y * log(softmax(o))) / B,  o = relu(X @ W1 + b1) @ W2 + b2,
# softmax along the last axis, Y one-hot.

MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_OUT = 64, 784, 128, 10
MLP_PARAMS = ("W1", "b1", "W2", "b2")
MLP_PROGRAM = (
    "h = relu(X @ W1 + b1)\n"
    "o = h @ W2 + b2\n"
    f"L = -sum(Y * log(softmax(o))) / {MLP_BATCH}\n"
)


def mlp_data(seed=20240601):
    """Random data and parameters with a fixed seed (float64)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    B, D, H, K = MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_OUT
    labels = rng.integers(0, K, size=B)
    Y = np.zeros((B, K))
    Y[np.arange(B), labels] = 1.0
    return {
        "X": rng.standard_normal((B, D)),
        "W1": rng.standard_normal((D, H)) * math.sqrt(2.0 / D),
        "b1": rng.standard_normal(H) * 0.1,
        "W2": rng.standard_normal((H, K)) * math.sqrt(2.0 / H),
        "b2": rng.standard_normal(K) * 0.1,
        "Y": Y,
    }


def mlp_numpy_loss(d):
    import numpy as np
    z1 = d["X"] @ d["W1"] + d["b1"]
    h = np.maximum(z1, 0.0)
    o = h @ d["W2"] + d["b2"]
    e = np.exp(o - o.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return -np.sum(d["Y"] * np.log(p)) / MLP_BATCH


def mlp_numpy_gradient(d):
    """Hand-written backprop. Returns (L, {W1, b1, W2, b2: gradient})."""
    import numpy as np
    X, W1, b1, W2, b2, Y = d["X"], d["W1"], d["b1"], d["W2"], d["b2"], d["Y"]
    B = X.shape[0]
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0.0)
    o = h @ W2 + b2
    e = np.exp(o - o.max(axis=1, keepdims=True))
    s = e.sum(axis=1, keepdims=True)
    p = e / s
    L = -np.sum(Y * np.log(p)) / B
    # d L / d o = (p * rowsum(Y) - Y) / B   (= (p - Y)/B for one-hot Y)
    do = (p * Y.sum(axis=1, keepdims=True) - Y) / B
    dW2 = h.T @ do
    db2 = do.sum(axis=0)
    dz1 = (do @ W2.T) * (z1 > 0.0)          # relu'(0) = 0
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    return float(L), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def mlp_torch_tensors(d, torch=None):
    if torch is None:
        import torch
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in d.items()}
    for k in MLP_PARAMS:
        t[k].requires_grad_(True)
    return t


def mlp_torch_gradient(t, torch=None):
    """Same loss as mlp_numpy_gradient, by torch autograd."""
    if torch is None:
        import torch
    h = torch.relu(t["X"] @ t["W1"] + t["b1"])
    o = h @ t["W2"] + t["b2"]
    L = -torch.sum(t["Y"] * torch.log(torch.softmax(o, dim=-1))) / MLP_BATCH
    grads = torch.autograd.grad(L, [t[k] for k in MLP_PARAMS])
    return L.item(), {k: g.numpy() for k, g in zip(MLP_PARAMS, grads)}
