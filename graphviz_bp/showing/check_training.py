"""Check a student's training steps done by hand: each claim right or wrong, the first wrong one
named, and the usual slip behind it.

Answers, one claim a line (``#`` starts a comment)::

    step 1 w = 0.4            # a parameter after step 1 (an entry: step 2 W3[0, 1] = 2.8)
    step 1 grad w = -4        # the gradient the step used (also: step 1 g = -4 with one parameter)
    step 1 loss = 4           # the loss before the step (also the output's name: step 1 L = 4)
    step 2 v = -12.4          # optimizer state after the step: v, s, m, G (v(W1) with several parameters)
    step 2 m_hat = -7.79      # Adam's bias-corrected m̂ and v̂ (also m̂, v̂)
    w_2 = 1.28                # the sheets' subscript: w after step 2 (w₂ too)

A value is right when it is within ``rtol`` of the run's, or when it is the run's value rounded or
cut to the decimals written (0.95 for 0.950335, 4.96 for 4.96654, as the sheets write them). The first wrong claim is taken in the order of the
steps (within a step: loss, gradient, state, parameters). A wrong value that a slip reproduces is
named: the gradient's or the update's sign, a decimal shift (in the value or in η), another
observation than the step's (or the sum of the losses for their mean), Adam without its bias
correction or with t off by one, the other textbook form of momentum, Nesterov or RMSprop.
Every expected value comes from :func:`graphviz_bp.algorithms.train.train`.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import numpy as np

from ..algorithms.train import redo_step
from ..core.errors import InputError
from ..core.notation import fmt_value, to_json
from ..reading.program import read_value

_CLAIM = re.compile(r"^\s*(?:step|шаг)\s*(\d+)\s*[:.,]?\s*(.+?)\s*=\s*(.+?)\s*$", re.IGNORECASE)
_SUBSCRIPT = re.compile(r"^\s*([^\W\d]\w*?)(?:_(\d+)|([₀₁₂₃₄₅₆₇₈₉]+))\s*(\[[\d, ]+\])?\s*=\s*(.+?)\s*$")
_ENTRY = re.compile(r"^(.+?)\s*\[([\d,\s]+)\]$")
_SUB_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_ORDER = {"loss": 0, "grad": 1, "state": 2, "param": 3}
STATE_ALIASES = {"m_hat": "m̂", "mhat": "m̂", "m̂": "m̂", "v_hat": "v̂", "vhat": "v̂", "v̂": "v̂"}


@dataclass
class Claim:
    line: int
    text: str                   # the line as written
    step: int
    kind: str                   # loss | grad | state | param
    name: str | None            # the parameter (None for the loss)
    state: str | None           # v, s, m, G, m̂, v̂ for kind "state"
    entry: tuple | None
    value: object
    decimals: int
    verdict: str = ""           # right | rounded | wrong
    expected: object = None
    slip: str | None = None


@dataclass
class TrainingReport:
    claims: list = field(default_factory=list)
    first_wrong: int | None = None      # index into claims

    @property
    def ok(self) -> bool:
        return self.first_wrong is None

    def text(self) -> str:
        lines = []
        for c in self.claims:
            if c.verdict == "wrong":
                msg = f"line {c.line}: {c.text.strip()} is wrong: expected {fmt_value(c.expected, 6)}"
                if c.slip:
                    msg += f" — {c.slip}"
            else:
                msg = f"line {c.line}: {c.text.strip()} is right" + \
                    (f" (rounded; {fmt_value(c.expected, 6)})" if c.verdict == "rounded" else "")
            lines.append(msg)
        if self.first_wrong is None:
            lines.append("all claims are right")
        else:
            c = self.claims[self.first_wrong]
            lines.append(f"first wrong: step {c.step}, line {c.line} ({c.text.strip()})")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return to_json({"ok": self.ok, "first_wrong": self.first_wrong,
                        "claims": [dataclasses.asdict(c) for c in self.claims]})


def _decimals(text: str) -> int:
    ds = [len(m.group(1)) for m in re.finditer(r"\d\.(\d+)", text)]
    return max(ds) if ds else 0


def parse_claims(text: str, run) -> list[Claim]:
    """Claims of an answers text, checked against ``run``'s names (parameters, state, output)."""
    params, out = list(run.wrt), run.output
    states = set(run.optimizer.state_names) | ({"m̂", "v̂"} if run.optimizer.name == "adam" else set())
    claims = []
    for k, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _CLAIM.match(line)
        if m:
            step, lhs, rhs = int(m.group(1)), m.group(2).strip(), m.group(3)
        else:
            s = _SUBSCRIPT.match(line)
            if not s or s.group(1) not in params and STATE_ALIASES.get(s.group(1), s.group(1)) not in states:
                raise InputError("expected 'step K NAME = VALUE' (or w_K = VALUE), e.g. 'step 1 w = 0.4'",
                                 k, kind="syntax")
            step = int(s.group(2) or s.group(3).translate(_SUB_DIGITS))
            lhs, rhs = s.group(1) + (s.group(4) or ""), s.group(5)
        if step < 1:
            raise InputError(f"steps count from 1 (step {step})", k, kind="value")
        entry = None
        e = _ENTRY.match(lhs)
        if e:
            lhs, entry = e.group(1).strip(), tuple(int(i) for i in e.group(2).replace(" ", "").split(",") if i)
        kind, name, state = _classify(lhs, params, states, out, k)
        try:
            value = read_value(rhs, "v")
        except InputError:
            raise InputError(f"{lhs} = {rhs[:40]}: expected a number or a literal like [[1, 2]]", k,
                             kind="value") from None
        claims.append(Claim(k, raw, step, kind, name, state, entry, value, _decimals(rhs)))
    if not claims:
        raise InputError("no claims: write one a line, e.g. 'step 1 w = 0.4'", kind="usage")
    return claims


def _classify(lhs: str, params, states, out, line):
    words = lhs.replace("∂", "d").split()
    if lhs in ("loss", out, "L"):
        return "loss", None, None
    if lhs in params:
        return "param", lhs, None
    if words[0] in ("grad", "g", "∇", "gradient") or re.match(r"^d\w+/d\w+$", lhs):
        name = words[1] if len(words) > 1 else (lhs.split("/d")[-1] if "/d" in lhs else None)
        if name is None and len(params) == 1:
            name = params[0]
        if name in params:
            return "grad", name, None
        raise InputError(f"{lhs!r}: name the parameter ({', '.join(params)}), e.g. 'grad {params[0]}'",
                         line, kind="name")
    for alias in sorted(STATE_ALIASES, key=len, reverse=True):     # m_hat before m_{W1}
        if lhs.startswith(alias):
            lhs = STATE_ALIASES[alias] + lhs[len(alias):]
            break
    m = re.match(r"^(\S+?)\s*(?:\((\w+)\)|_\{?(\w+)\}?|\s+(\w+))?$", lhs)
    if m:
        st = STATE_ALIASES.get(m.group(1), m.group(1))
        name = m.group(2) or m.group(3) or m.group(4)
        if st in states:
            if name is None and len(params) == 1:
                name = params[0]
            if name in params:
                return "state", name, st
            raise InputError(f"{lhs!r}: whose {st}? write {st}({params[0]})", line, kind="name")
    known = ", ".join(params + sorted(states) + ["loss", "grad NAME"])
    raise InputError(f"{lhs!r} is not a parameter, a state or the loss of this run ({known})", line, kind="name")


# --- expected values, and what a slip would have given ---------------------------------------------

def _quantity(claim: Claim, step, run, optimizer=None, t=None):
    """The claimed quantity at ``step`` (a :class:`Step`), Adam's m̂, v̂ derived from m, v."""
    if claim.kind == "loss":
        v = step.loss
    elif claim.kind == "grad":
        v = step.grads[claim.name]
    elif claim.kind == "param":
        v = step.params[claim.name]
    elif claim.state in ("m̂", "v̂"):
        opt, t = optimizer or run.optimizer, t or step.t
        raw = step.state[claim.name]["m" if claim.state == "m̂" else "v"]
        beta = opt.beta1 if claim.state == "m̂" else opt.beta2
        v = raw / (1 - beta ** t) if opt.bias_correction else raw
    else:
        v = step.state[claim.name][claim.state]
    if claim.entry is not None:
        try:
            v = np.asarray(v)[claim.entry]
        except IndexError:
            raise InputError(f"{claim.text.strip()}: {claim.name} has shape {np.shape(v)}, no entry "
                             f"{list(claim.entry)}", claim.line, kind="shape") from None
    return v


def _matches(given, expected, rtol: float, decimals: int = 0) -> str | None:
    """``"right"`` within rtol, ``"rounded"`` when ``given`` is ``expected`` rounded or cut to the decimals
    written (less than one unit of the last digit away), else None."""
    given, expected = np.asarray(given, dtype=float), np.asarray(expected, dtype=float)
    if given.shape != expected.shape and given.size != expected.size:
        return None
    given = given.reshape(expected.shape)
    if np.allclose(given, expected, rtol=rtol, atol=1e-9):
        return "right"
    if decimals and np.all(np.abs(given - expected) < 10.0 ** -decimals * (1 + 1e-9)):   # rounded or cut
        return "rounded"
    return None


def _tries(claim: Claim, run, step) -> list:
    """[(changes for redo_step, words)] of the slips a hand step commonly makes."""
    opt, tries = run.optimizer, []
    if not run.batch:
        for o in run.observations:
            if o.label != step.observations[0]:
                tries.append((dict(label=o.label), f"that is step {claim.step} with observation {o.label} "
                                                   f"(the step uses observation {step.observations[0]})"))
    else:
        other = "sum" if run.batch == "mean" else "mean"
        tries.append((dict(batch=other), f"that is the {other} of the losses (the run uses the {run.batch})"))
    if opt.name == "adam":
        tries.append((dict(optimizer=dataclasses.replace(opt, bias_correction=not opt.bias_correction)),
                      "that is Adam without the bias correction m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)"
                      if opt.bias_correction else "that is Adam with the bias correction"))
        for dt in (1, -1):
            if claim.step + dt >= 1:
                tries.append((dict(t_used=claim.step + dt),
                              f"that is the bias correction with t = {claim.step + dt} (step {claim.step} has "
                              f"t = {claim.step})"))
    if opt.name in ("momentum", "nesterov", "rmsprop"):
        other = "textbook" if opt.form == "pytorch" else "pytorch"
        tries.append((dict(optimizer=dataclasses.replace(opt, form=other)),
                      f"that is the {other} form of {opt.name} (this run uses the {opt.form} form; "
                      f"--form {other} checks against it)"))
    return tries


def _whole_run(run, steps: int, changes: dict):
    """The run redone from the start with one change (a slip kept from step 1 on)."""
    from ..algorithms.train import train
    batch = changes.get("batch", run.batch)
    order = None if batch else changes.get("order", run.order)
    return train(run.graph, changes.get("optimizer", run.optimizer), steps, run.observations, order=order,
                 batch=batch, wrt=run.wrt, at=run.at)


def find_slip(claim: Claim, run, rtol: float) -> str | None:
    """The slip that reproduces a wrong claim, in words, or None.

    Tried in this order: a sign; an update in the wrong direction; the step redone with another
    observation, batch rule, form or bias correction (from the run's own state before it); the
    same change kept from step 1 on (the observations in reverse order too); a decimal shift.
    """
    step = run.steps[claim.step - 1]
    expected = np.asarray(_quantity(claim, step, run))

    def ok(v):
        return _matches(claim.value, v, rtol, claim.decimals) is not None

    if np.any(expected != 0) and ok(-expected):
        return "the sign is flipped"
    delta = w0 = None
    if claim.kind == "param":
        prev = run.steps[claim.step - 2].params if claim.step > 1 else run.params0
        w0 = np.asarray(prev[claim.name]) if claim.entry is None else np.asarray(prev[claim.name])[claim.entry]
        delta = expected - w0
        if np.any(delta != 0) and ok(w0 - delta):
            return "the update went the wrong way (w + Δ instead of w − Δ: the gradient's sign?)"
    tries = _tries(claim, run, step)
    for kw, words in tries:
        alt = redo_step(run, claim.step, **kw)
        if alt is not None and ok(_quantity(claim, alt, run, optimizer=kw.get("optimizer"), t=kw.get("t_used"))):
            return words
    if claim.step > 1:
        whole = [(kw, words) for kw, words in tries if "optimizer" in kw or "batch" in kw]
        if not run.batch and len(run.order) > 1:
            rev = list(reversed(run.order))
            whole.append((dict(order=rev), f"that is the observations in the order {', '.join(map(str, rev))}"))
        for kw, words in whole:
            try:
                alt_run = _whole_run(run, claim.step, kw)
            except InputError:
                continue
            if len(alt_run.steps) == claim.step and ok(_quantity(claim, alt_run.steps[-1], alt_run)):
                return words.split(" (")[0] + " from step 1 on"
    if delta is not None and np.any(delta != 0):
        for k in (1, 2, 3, -1, -2, -3):
            if ok(w0 + delta * 10.0 ** k):
                return f"the step is {10 ** abs(k)} times too {'large' if k > 0 else 'small'} (a decimal shift in η?)"
    for k in (1, 2, 3, -1, -2, -3):
        if np.any(expected != 0) and ok(expected * 10.0 ** k):
            return f"the decimal point is shifted ({'×' if k > 0 else '÷'}{10 ** abs(k)})"
    return None


def check_training(run, answers: str, rtol: float = 1e-6) -> TrainingReport:
    """Check ``answers`` against a run (:func:`graphviz_bp.algorithms.train.train`) that has at
    least as many steps as the claims name."""
    claims = parse_claims(answers, run)
    last = max(c.step for c in claims)
    if last > len(run.steps):
        why = f" ({run.diverged})" if run.diverged else ""
        raise InputError(f"the answers go to step {last}; the run has {len(run.steps)} steps{why} "
                         f"(give --steps {last})", kind="usage")
    report = TrainingReport(claims)
    for c in claims:
        c.expected = _quantity(c, run.steps[c.step - 1], run)
        c.verdict = _matches(c.value, c.expected, rtol, c.decimals) or "wrong"
        if c.verdict == "wrong":
            c.slip = find_slip(c, run, rtol)
    wrong = [k for k, c in enumerate(claims) if c.verdict == "wrong"]
    if wrong:
        report.first_wrong = min(wrong, key=lambda k: (claims[k].step, _ORDER[claims[k].kind], claims[k].line))
    return report
