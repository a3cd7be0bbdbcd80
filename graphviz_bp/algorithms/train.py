"""Training by hand: several steps of an optimizer on a program's loss, one row per step.

The loss is the program's output (a scalar). The parameters are the inputs named like weights
and biases (:func:`graphviz_bp.core.graph.parameters`: ``W1``, ``w``, ``b_2``, ``θ`` …) or the
names given as ``wrt``. The data are the program's observations
(:mod:`graphviz_bp.algorithms.observations`: a table, or indexed values ``x_1 = 1, y_1 = 2``);
a program without any is one observation, its own values.

Which observations a step uses:

* ``batch=None`` (stochastic; the default of every optimizer but ``gd``): step *t* uses one
  observation, ``order[(t − 1) mod len(order)]`` (default order 1, 2, …, n, then again);
* ``batch="mean"`` (the default of ``gd``): every observation; loss and gradient are the **mean**
  of the per-observation losses and gradients, L = (1/n) Σᵢ Lᵢ;
* ``batch="sum"``: every observation, L = Σᵢ Lᵢ.

The optimizers, each update written exactly as applied (g is the gradient of the step's loss at
the current parameters w, t the step number counted from 1, all operations elementwise).
The default form of each is PyTorch's (``torch.optim``, as its documentation writes the
algorithm, with no weight decay and no dampening); ``form="textbook"`` selects the form the
course sheets use where the two differ.

==========  ========================================================  ==============================
optimizer   form "pytorch" (default)                                  other form
==========  ========================================================  ==============================
gd, sgd     w ← w − η·g                                               (same)
momentum    v ← μ·v + g;  w ← w − η·v                                 textbook: v ← μ·v + η·g;
                                                                      w ← w − v (the same iterates)
nesterov    v ← μ·v + g;  w ← w − η·(g + μ·v)                         textbook: v ← μ·v + η·∇L(w − μ·v);
                                                                      w ← w − v (gradient at the
                                                                      look-ahead point)
rmsprop     s ← α·s + (1 − α)·g²;  w ← w − η·g / (√s + ε)             textbook: w ← w − η·g / √(s + ε)
adam        m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;           bias_correction=False:
            m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);                   w ← w − η·m / (√v + ε)
            w ← w − η·m̂ / (√v̂ + ε)
adagrad     G ← G + g²;  w ← w − η·g / (√G + ε)                       (same)
==========  ========================================================  ==============================

All state starts at zero. The two Nesterov forms are the same method seen from two points:
PyTorch's iterate is the textbook's look-ahead point w − μ·v, so their numbers differ.
Defaults are PyTorch's: ε = 1e-8 (1e-10 for adagrad), α = 0.99, β₁ = 0.9, β₂ = 0.999; the
learning rate η, and μ for momentum and nesterov, have none and must be given.
A run stops at the first step whose loss, gradient, state or new parameters are not finite
(NaN or ±inf) and says which (:attr:`TrainingRun.diverged`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError
from ..core.evaluate import run as evaluate_run
from ..core.graph import parameters as named_parameters
from ..core.limits import check_deadline
from .gradients import gradients

OPTIMIZERS = ("gd", "sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad")
FORMS = ("pytorch", "textbook")
BATCHES = ("mean", "sum")
#: the constants each optimizer reads (the learning rate always)
CONSTANTS = {"gd": (), "sgd": (), "momentum": ("momentum",), "nesterov": ("momentum",),
             "rmsprop": ("alpha", "eps"), "adam": ("beta1", "beta2", "eps"), "adagrad": ("eps",)}
DEFAULTS = {"alpha": 0.99, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
ADAGRAD_EPS = 1e-10


def _as(x):
    """float for a scalar, float64 ndarray otherwise (the engine's convention)."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float)


def _zero(w):
    return 0.0 if np.ndim(w) == 0 else np.zeros(np.shape(w))


# --- the optimizers: pure functions of (w, g, state, t) -------------------------------------------

@dataclass(frozen=True)
class Optimizer:
    """An update rule. ``step(w, g, state, t) -> (w_new, state_new)`` for one parameter, pure.

    ``state`` maps the names in :attr:`state_names` to values shaped like ``w``; ``lookahead``
    gives the point where the gradient of step ``t`` is taken (``w`` except textbook Nesterov).
    """
    name: str
    lr: float
    momentum: float | None = None
    alpha: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    eps: float | None = None
    form: str = "pytorch"
    bias_correction: bool = True

    @property
    def state_names(self) -> tuple[str, ...]:
        return {"momentum": ("v",), "nesterov": ("v",), "rmsprop": ("s",), "adam": ("m", "v"),
                "adagrad": ("G",)}.get(self.name, ())

    def init_state(self, w) -> dict:
        return {k: _zero(w) for k in self.state_names}

    def lookahead(self, w, state):
        if self.name == "nesterov" and self.form == "textbook":
            return _as(w - self.momentum * state["v"])
        return w

    def step(self, w, g, state: dict, t: int):
        """One update, ``(w_new, state_new)``: the function of :data:`UPDATES` for this optimizer."""
        return UPDATES[self.name](self, w, g, state, t)

    @property
    def constants(self) -> dict:
        """The constants this optimizer uses, by the names of the flags (``lr`` first)."""
        out = {"lr": self.lr}
        for k in CONSTANTS[self.name]:
            out[k] = getattr(self, k)
        return out

    @property
    def rule(self) -> str:
        """The update as applied, in Unicode (one line)."""
        return RULES[self.variant][0]

    @property
    def rule_tex(self) -> str:
        """The update as applied, in LaTeX."""
        return RULES[self.variant][1]

    @property
    def variant(self) -> str:
        """Which form of the update is applied: e.g. ``nesterov/textbook``, ``adam/no-bias-correction``."""
        if self.name in ("momentum", "nesterov", "rmsprop"):
            return f"{self.name}/{self.form}"
        if self.name == "adam":
            return "adam/pytorch" if self.bias_correction else "adam/no-bias-correction"
        return self.name


def sgd_update(o: Optimizer, w, g, state, t):
    """gd, sgd: w ← w − η·g."""
    return _as(w - o.lr * g), {}


def momentum_update(o: Optimizer, w, g, state, t):
    """momentum. PyTorch: v ← μ·v + g;  w ← w − η·v.   textbook: v ← μ·v + η·g;  w ← w − v."""
    if o.form == "textbook":
        v = o.momentum * state["v"] + o.lr * g
        return _as(w - v), {"v": _as(v)}
    v = o.momentum * state["v"] + g
    return _as(w - o.lr * v), {"v": _as(v)}


def nesterov_update(o: Optimizer, w, g, state, t):
    """nesterov. PyTorch: v ← μ·v + g;  w ← w − η·(g + μ·v).
    textbook: v ← μ·v + η·g with g = ∇L(w − μ·v) (:meth:`Optimizer.lookahead`);  w ← w − v."""
    if o.form == "textbook":
        v = o.momentum * state["v"] + o.lr * g
        return _as(w - v), {"v": _as(v)}
    v = o.momentum * state["v"] + g
    return _as(w - o.lr * (g + o.momentum * v)), {"v": _as(v)}


def rmsprop_update(o: Optimizer, w, g, state, t):
    """rmsprop: s ← α·s + (1 − α)·g².  PyTorch: w ← w − η·g / (√s + ε).  textbook: w ← w − η·g / √(s + ε)."""
    s = o.alpha * state["s"] + (1 - o.alpha) * g * g
    denom = np.sqrt(s + o.eps) if o.form == "textbook" else np.sqrt(s) + o.eps
    return _as(w - o.lr * g / denom), {"s": _as(s)}


def adam_update(o: Optimizer, w, g, state, t):
    """adam: m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);
    w ← w − η·m̂ / (√v̂ + ε).   Without bias correction: w ← w − η·m / (√v + ε)."""
    m = o.beta1 * state["m"] + (1 - o.beta1) * g
    v = o.beta2 * state["v"] + (1 - o.beta2) * g * g
    if o.bias_correction:
        m_hat, v_hat = m / (1 - o.beta1 ** t), v / (1 - o.beta2 ** t)
    else:
        m_hat, v_hat = m, v
    return _as(w - o.lr * m_hat / (np.sqrt(v_hat) + o.eps)), {"m": _as(m), "v": _as(v)}


def adagrad_update(o: Optimizer, w, g, state, t):
    """adagrad: G ← G + g²;  w ← w − η·g / (√G + ε)."""
    G = state["G"] + g * g
    return _as(w - o.lr * g / (np.sqrt(G) + o.eps)), {"G": _as(G)}


#: optimizer name -> its update, a pure function (optimizer, w, g, state, t) -> (w_new, state_new)
UPDATES = {"gd": sgd_update, "sgd": sgd_update, "momentum": momentum_update, "nesterov": nesterov_update,
           "rmsprop": rmsprop_update, "adam": adam_update, "adagrad": adagrad_update}


#: variant -> (Unicode rule, LaTeX rule), as each variant is applied by Optimizer.step
RULES = {
    "gd": ("w ← w − η·g", r"w \leftarrow w - \eta\, g"),
    "sgd": ("w ← w − η·g", r"w \leftarrow w - \eta\, g"),
    "momentum/pytorch": ("v ← μ·v + g;  w ← w − η·v",
                         r"v \leftarrow \mu v + g;\quad w \leftarrow w - \eta\, v"),
    "momentum/textbook": ("v ← μ·v + η·g;  w ← w − v",
                          r"v \leftarrow \mu v + \eta\, g;\quad w \leftarrow w - v"),
    "nesterov/pytorch": ("v ← μ·v + g;  w ← w − η·(g + μ·v)",
                         r"v \leftarrow \mu v + g;\quad w \leftarrow w - \eta\,(g + \mu v)"),
    "nesterov/textbook": ("v ← μ·v + η·∇L(w − μ·v);  w ← w − v",
                          r"v \leftarrow \mu v + \eta\, \nabla L(w - \mu v);\quad w \leftarrow w - v"),
    "rmsprop/pytorch": ("s ← α·s + (1 − α)·g²;  w ← w − η·g / (√s + ε)",
                        r"s \leftarrow \alpha s + (1 - \alpha)\, g^2;\quad "
                        r"w \leftarrow w - \frac{\eta\, g}{\sqrt{s} + \varepsilon}"),
    "rmsprop/textbook": ("s ← α·s + (1 − α)·g²;  w ← w − η·g / √(s + ε)",
                         r"s \leftarrow \alpha s + (1 - \alpha)\, g^2;\quad "
                         r"w \leftarrow w - \frac{\eta\, g}{\sqrt{s + \varepsilon}}"),
    "adam/pytorch": ("m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m/(1 − β₁ᵗ);  "
                     "v̂ = v/(1 − β₂ᵗ);  w ← w − η·m̂ / (√v̂ + ε)",
                     r"m \leftarrow \beta_1 m + (1 - \beta_1)\, g;\quad v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2;"
                     r"\quad \hat m = \frac{m}{1 - \beta_1^t};\quad \hat v = \frac{v}{1 - \beta_2^t};\quad "
                     r"w \leftarrow w - \frac{\eta\, \hat m}{\sqrt{\hat v} + \varepsilon}"),
    "adam/no-bias-correction": ("m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  w ← w − η·m / (√v + ε)",
                                r"m \leftarrow \beta_1 m + (1 - \beta_1)\, g;\quad "
                                r"v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2;\quad "
                                r"w \leftarrow w - \frac{\eta\, m}{\sqrt{v} + \varepsilon}"),
    "adagrad": ("G ← G + g²;  w ← w − η·g / (√G + ε)",
                r"G \leftarrow G + g^2;\quad w \leftarrow w - \frac{\eta\, g}{\sqrt{G} + \varepsilon}"),
}


def _number(value, flag: str) -> float:
    """A constant as a finite float; a string that is not a number is one clear InputError."""
    if isinstance(value, bool):
        raise InputError(f"--{flag} {value}: expected a number", kind="usage")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"--{flag} {value!r}: expected a number, e.g. --{flag} 0.1", kind="usage") from None
    if not math.isfinite(x):
        raise InputError(f"--{flag} {value}: must be a finite number", kind="usage")
    return x


def make_optimizer(name: str, lr=None, momentum=None, alpha=None, beta1=None, beta2=None, eps=None,
                   form: str = "pytorch", bias_correction: bool = True) -> Optimizer:
    """An :class:`Optimizer`, its constants checked: a missing learning rate (or μ for momentum and
    nesterov), a constant the optimizer does not use, or a value out of range is an InputError.

    For momentum and nesterov, ``alpha`` may stand for μ (the sheets write α for it).
    """
    if name not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}", kind="usage")
    if form not in FORMS:
        raise InputError(f"unknown form {form!r}; choose one of {', '.join(FORMS)}", kind="usage")
    if lr is None:
        raise InputError(f"{name} needs a learning rate: give --lr, e.g. --lr 0.1", kind="usage")
    lr = _number(lr, "lr")
    if lr <= 0:
        raise InputError(f"--lr {lr:g}: the learning rate must be positive", kind="usage")
    given = {"momentum": momentum, "alpha": alpha, "beta1": beta1, "beta2": beta2, "eps": eps}
    if name in ("momentum", "nesterov") and alpha is not None:
        if momentum is not None and _number(momentum, "momentum") != _number(alpha, "alpha"):
            raise InputError(f"{name}: --momentum {momentum} and --alpha {alpha} disagree; give one",
                             kind="usage")
        given["momentum"], given["alpha"] = alpha, None
    used = CONSTANTS[name]
    for k, v in given.items():
        if v is not None and k not in used:
            uses = ", ".join("--" + c for c in ("lr",) + used)
            raise InputError(f"--{k} is not a constant of {name} (it uses {uses})", kind="usage")
    values = {}
    for k in used:
        v = given[k]
        if v is None:
            if k == "momentum":
                raise InputError(f"{name} needs a momentum constant: give --momentum (the sheets' α), "
                                 f"e.g. --momentum 0.9", kind="usage")
            v = ADAGRAD_EPS if (k == "eps" and name == "adagrad") else DEFAULTS[k]
        v = _number(v, k)
        if k == "eps" and v < 0 or k != "eps" and not 0 <= v < 1:
            bound = "≥ 0" if k == "eps" else "in [0, 1)"
            raise InputError(f"--{k} {v:g}: must be {bound}", kind="usage")
        values[k] = v
    return Optimizer(name, lr, form=form, bias_correction=bool(bias_correction), **values)


# --- a run: steps over the observations -------------------------------------------------------------

@dataclass
class Step:
    """One row of the per-step table (``t`` counts from 1; values after the step unless said)."""
    t: int
    observations: list          # labels of the observations the step used
    loss: float                 # loss at the parameters before the step (on those observations)
    grads: dict                 # name -> gradient used by the update
    state: dict                 # name -> {state name: value after the step}
    params: dict                # name -> value after the step
    point: dict | None = None   # where the gradient was taken, when not at the parameters (nesterov)


@dataclass
class TrainingRun:
    optimizer: Optimizer
    params0: dict               # name -> initial value
    wrt: list
    observations: list          # [Observation]
    batch: str | None
    order: list
    output: str
    steps: list = field(default_factory=list)
    diverged: str | None = None     # one line: the first non-finite step and what became non-finite
    final_loss: float | None = None  # the loss after the last step, on all observations (the batch rule,
    #                                  mean unless batch="sum")
    graph: object = None        # the graph and the fixed values the run used (for redo_step)
    at: dict = field(default_factory=dict)

    @property
    def params(self) -> dict:
        return self.steps[-1].params if self.steps else dict(self.params0)


def _non_finite(values: dict) -> str | None:
    for k, v in values.items():
        if not (math.isfinite(v) if v.__class__ is float else np.isfinite(v).all()):
            return k
    return None


class _Loss:
    """The loss and its gradient at given parameters on given observations (through the engine)."""

    def __init__(self, g, wrt, base_at, observations):
        self.g, self.wrt, self.base_at, self.observations = g, wrt, base_at, observations
        self.out = g.index(g.output)
        self.warning = None             # where a value first became NaN/inf (the engine's words)

    def one(self, params, obs):
        at = dict(self.base_at)
        at.update(obs.values)
        at.update(params)
        grads = gradients(self.g, at=at, wrt=self.wrt)
        ev = evaluate_run(self.g, at)
        loss = ev.values[self.out]
        if ev.warnings and self.warning is None:
            self.warning = ev.warnings[0]
        if np.size(loss) != 1:          # a 1×1 loss (row-vector networks) is a number
            raise InputError(f"the output {self.g.output!r} has shape {'×'.join(map(str, np.shape(loss)))}; "
                             f"training needs a scalar loss (choose one with --output)", kind="shape")
        return float(np.ravel(loss)[0]), grads

    def value(self, params, labels, how) -> float:
        """The loss alone (no gradient) at ``params`` on the observations ``labels``."""
        total = 0.0
        for obs in self.observations:
            if obs.label in labels:
                at = dict(self.base_at)
                at.update(obs.values)
                at.update(params)
                total += float(np.ravel(evaluate_run(self.g, at).values[self.out])[0])
        return total / len(labels) if how == "mean" else total

    def batch(self, params, labels, how):
        total, grads = 0.0, {k: _zero(params[k]) for k in self.wrt}
        for obs in self.observations:
            if obs.label in labels:
                loss, gr = self.one(params, obs)
                total += loss
                for k in self.wrt:
                    grads[k] = grads[k] + gr[k]
        if how == "mean":
            n = len(labels)
            total, grads = total / n, {k: v / n for k, v in grads.items()}
        return total, {k: _as(v) for k, v in grads.items()}


def _advance(loss: _Loss, opt: Optimizer, params: dict, state: dict, used: list, how: str, t: int,
             row: int | None = None) -> Step:
    """One step from ``params``/``state`` on the observations ``used`` (``how``: mean or sum)."""
    loss.warning = None
    point = {w: opt.lookahead(params[w], state[w]) for w in loss.wrt}
    moved = any(point[w] is not params[w] for w in loss.wrt)
    value, grads = loss.batch(point, used, how)
    if moved:                            # the loss shown is at the parameters, not the look-ahead
        value = loss.value(params, used, how)
    new_p, new_s = {}, {}
    for w in loss.wrt:
        new_p[w], new_s[w] = opt.step(params[w], grads[w], state[w], t)
    return Step(row or t, used, value, grads, new_s, new_p, point if moved else None)


def trainable(g, wrt=None) -> list[str]:
    """The parameters a run updates: ``wrt`` (names or ``"a,b"``), else the project's parameter names.
    A program whose output is one of its inputs has no loss to train on (a sheet of data only)."""
    if g.node(g.output).kind == "input":
        raise InputError(f"nothing to train: the output {g.output!r} is a given value, not a loss computed "
                         f"from the parameters; write the loss, e.g. L = (y - w*x)^2", kind="name")
    if wrt:
        names = [w.strip() for w in wrt.split(",")] if isinstance(wrt, str) else list(wrt)
        names = list(dict.fromkeys(w for w in names if w))
        for w in names:
            node = g.node(w)
            if node.kind != "input":
                raise InputError(f"--wrt {w}: {w!r} is computed by the program; training updates inputs",
                                 kind="name")
        return names
    names = named_parameters(g)
    if not names:
        raise InputError(f"no parameters to train: the inputs ({', '.join(g.leaves)}) have no weight or bias "
                         f"names (W, w, b, θ, …); name them with --wrt", kind="name")
    return names


def train(g, optimizer: Optimizer, steps: int, observations=None, order=None, batch: str | None = None,
          wrt=None, at=None) -> TrainingRun:
    """Run ``steps`` steps of ``optimizer`` on ``g``'s output; see the module docstring for the rules.

    ``observations``: a list of :class:`~graphviz_bp.algorithms.observations.Observation` (default:
    one, the program's own values); ``order``: observation labels for stochastic steps; ``batch``:
    ``None``, ``"mean"`` or ``"sum"``; ``at``: values that override the program's (initial parameters
    included).
    """
    from .observations import Observation
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise InputError(f"--steps {steps}: expected a whole number ≥ 1", kind="usage")
    if steps > g.limits.max_train_steps:
        g.limits.refuse("max_train_steps", f"{steps} training steps")
    if batch not in (None,) + BATCHES:
        raise InputError(f"--batch {batch}: choose mean or sum", kind="usage")
    at = dict(at or {})
    observations = list(observations) if observations else [Observation(1, {})]
    wrt = trainable(g, wrt)
    for obs in observations:
        clash = [k for k in obs.values if k in wrt]
        if clash:
            raise InputError(f"observation {obs.label} gives a value to {clash[0]!r}, which is trained; "
                             f"observations hold data (x, y), parameters start from the program's values",
                             kind="value")
    labels = [o.label for o in observations]
    if order:
        if batch:
            raise InputError("--order chooses one observation per step; with --batch every step uses all",
                             kind="usage")
        for k in order:
            if k not in labels:
                raise InputError(f"--order {','.join(map(str, order))}: there is no observation {k} "
                                 f"(observations: {', '.join(map(str, labels))})", kind="usage")
        order = list(order)
    else:
        order = labels
    params0 = {}
    for w in wrt:
        v = at.get(w, g.node(w).default)
        if v is None:
            raise InputError(f"{w!r} has no starting value: give it in the program ({w} = …) or with --at",
                             kind="value")
        params0[w] = _as(v)
    loss = _Loss(g, wrt, at, observations)
    result = TrainingRun(optimizer, params0, wrt, observations, batch, order, g.output, graph=g, at=at)
    params = dict(params0)
    state = {w: optimizer.init_state(params[w]) for w in wrt}
    for t in range(1, steps + 1):
        if not t & 63:
            check_deadline("training")
        used = labels if batch else [order[(t - 1) % len(order)]]
        step = _advance(loss, optimizer, params, state, used, batch or "mean", t)
        value, grads, new_params, new_state = step.loss, step.grads, step.params, step.state
        bad = _non_finite({"the loss": value}) or _non_finite({f"∂{g.output}/∂{w}": grads[w] for w in wrt}) \
            or _non_finite({f"{k} of {w}": s for w in wrt for k, s in new_state[w].items()}) \
            or _non_finite({w: new_params[w] for w in wrt})
        if bad:
            where = f" ({loss.warning})" if loss.warning else ""
            if t == 1 and (bad == "the loss" or bad.startswith("∂")):   # not a divergence: the start is bad
                result.diverged = (f"step 1: {bad} is not finite (NaN or ±inf) at the starting values{where}; "
                                   f"no step taken")
            else:
                result.diverged = (f"diverged at step {t}: {bad} is not finite (NaN or ±inf){where}; "
                                   f"the table stops after step {t - 1} (try a smaller --lr)")
            break
        result.steps.append(step)
        params, state = new_params, new_state
    if result.diverged is None:
        final = loss.value(params, labels, batch or "mean")
        result.final_loss = final if math.isfinite(final) else None
    return result


def redo_step(run: TrainingRun, t: int, *, label=None, batch=None, optimizer: Optimizer | None = None,
              t_used: int | None = None) -> Step | None:
    """Step ``t`` of ``run`` redone from the run's own parameters and state before it, with one thing
    changed: the observation ``label``, the ``batch`` rule, the ``optimizer`` (same state names) or the
    step counter ``t_used`` of a bias correction. What a slip would have given (the checker)."""
    opt = optimizer or run.optimizer
    if opt.state_names != run.optimizer.state_names:
        return None
    prev = run.steps[t - 2] if t > 1 else None
    params = dict(prev.params) if prev else dict(run.params0)
    state = {w: (prev.state[w] if prev else opt.init_state(params[w])) for w in run.wrt}
    loss = _Loss(run.graph, run.wrt, run.at, run.observations)
    how = batch or run.batch
    used = [o.label for o in run.observations] if how and label is None else \
        [label if label is not None else run.steps[t - 1].observations[0]]
    return _advance(loss, opt, params, state, used, how or "mean", t_used or t, t)


def loss_at(run: TrainingRun, params: dict) -> float:
    """The loss on all observations (the run's batch rule; the mean for stochastic runs) at ``params``
    (names missing from ``params`` keep their starting values): the landscape the iterates cross."""
    full = dict(run.params0)
    full.update(params)
    loss = _Loss(run.graph, run.wrt, run.at, run.observations)
    return loss.value(full, [o.label for o in run.observations], run.batch or "mean")
