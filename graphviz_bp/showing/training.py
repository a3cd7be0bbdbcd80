"""The per-step table of a training run (:mod:`graphviz_bp.algorithms.train`), in every format.

One row per step: the step t, the observations it used, the loss at the parameters before the
step, the gradient, the optimizer's state after the step (velocity v; squared-gradient average s;
Adam's m and v; Adagrad's sum G), and the new parameters. Row 0 holds the starting parameters.
Nesterov in its textbook form adds the look-ahead point where the gradient was taken.

Formats: plain text (:func:`to_text`), Markdown (:func:`to_markdown`, math in ``$…$``), a LaTeX
fragment (:func:`to_tex`, a ``tabular``), CSV (:func:`to_csv`, one column per tensor entry, full
precision) and a JSON-ready dict (:func:`to_dict`). Text, Markdown and LaTeX show 6 significant
digits; CSV and JSON every digit. Every number comes from the run; this module only writes.
"""
from __future__ import annotations

import csv
import io

import numpy as np

from ..core.notation import Notation, fmt_number, fmt_value, to_json

DIGITS = 6
STATE_WORDS = {"v": "velocity", "s": "squared-gradient average", "m": "first moment (mean of g)",
               "G": "sum of squared gradients"}
_STATE_TEX = {"v": "v", "s": "s", "m": "m", "G": "G"}


def _value(v) -> str:
    return fmt_value(v, DIGITS)


def _notation(run) -> Notation:
    """How the run's graph writes names (a pasted sheet's W⁽¹⁾ as the sheet does)."""
    return getattr(run.graph, "notation", None) or Notation(run.graph)


def _tex_value(v) -> str:
    from .explain import tex_value
    return tex_value(v)


def data_text(run) -> str:
    """Which observations the steps used, in words."""
    n = len(run.observations)
    if run.batch:
        how = "mean" if run.batch == "mean" else "sum"
        return (f"full batch: each step uses all {n} observation{'s' * (n != 1)}; "
                f"loss = the {how} of their losses" + (" (1/n Σ Lᵢ)" if how == "mean" else " (Σ Lᵢ)"))
    if n == 1 and not run.observations[0].values:
        return "one observation: the program's own values, every step"
    return "stochastic: one observation a step, in the order " + ", ".join(map(str, run.order)) + \
        (" (then again)" if len(run.order) < len(run.steps) else "")


def _constants_text(opt) -> str:
    names = {"lr": "η", "momentum": "μ", "alpha": "α", "beta1": "β₁", "beta2": "β₂", "eps": "ε"}
    return ", ".join(f"{names[k]} = {fmt_number(v, DIGITS)}" for k, v in opt.constants.items())


def table(run):
    """``(headers, LaTeX headers, rows)``: cells are text or values (``None`` for an empty cell).

    One parameter: one row per step (``t, obs, loss, [look-ahead], gradient, state…, new w``).
    Several: one row per step and parameter (the long layout), step, observations and loss on the
    step's first row; tensors stay whole in their cells.
    """
    nota = _notation(run)
    out, L = run.output, nota.name(run.output)
    lookahead = any(s.point for s in run.steps)
    states = run.optimizer.state_names
    one = len(run.wrt) == 1
    tw = nota.tex(run.wrt[0]) if one else "w"
    pw = nota.name(run.wrt[0]) if one else "w"
    head = ["t", "obs", f"{L} before"] + ([] if one else ["parameter"]) + \
        ([f"look-ahead {pw} − μv"] if lookahead else []) + [f"∂{L}/∂{pw}"] + list(states) + [f"new {pw}"]
    tex = ["$t$", "obs.", f"${nota.tex(out)}$"] + ([] if one else ["param."]) + \
        ([f"${tw} - \\mu v$"] if lookahead else []) + [f"$\\partial {nota.tex(out)}/\\partial {tw}$"] + \
        [f"${_STATE_TEX[k]}$" for k in states] + [f"new ${tw}$"]
    body = []
    for j, w in enumerate(run.wrt):              # row 0: the start
        body.append(["0" if j == 0 else None, None, None] + ([] if one else [("name", nota.name(w), nota.tex(w))]) +
                    [None] * (lookahead + 1 + len(states)) + [run.params0[w]])
    for s in run.steps:
        for j, w in enumerate(run.wrt):
            first = j == 0
            body.append([str(s.t) if first else None, _obs(s) if first else None, s.loss if first else None]
                        + ([] if one else [("name", nota.name(w), nota.tex(w))])
                        + ([s.point[w] if s.point else None] if lookahead else [])
                        + [s.grads[w]] + [s.state[w][k] for k in states] + [s.params[w]])
    return head, tex, body


def _cell(c, tex: bool = False) -> str:
    if c is None:
        return ""
    if isinstance(c, tuple):                     # ("name", in Unicode, in LaTeX)
        return f"${c[2]}$" if tex else c[1]
    if isinstance(c, str):
        return c
    return f"${_tex_value(c)}$" if tex else _value(c)


def _header_lines(run) -> list[str]:
    opt = run.optimizer
    return [f"optimizer: {opt.variant} ({_constants_text(opt)})",
            f"update: {opt.rule}   (g = ∂{run.output}/∂w at the step's observations; t counts from 1)",
            f"data: {data_text(run)}",
            "parameters: " + ", ".join(f"{_notation(run).name(w)} = {_value(run.params0[w])}" for w in run.wrt)
            + " at the start"]


def _footer_lines(run) -> list[str]:
    lines = []
    if run.steps:
        last = run.steps[-1]
        lines.append(f"after step {last.t}: " + ", ".join(f"{_notation(run).name(w)} = {_value(last.params[w])}"
                                                           for w in run.wrt))
    if run.final_loss is not None:
        how = "sum" if run.batch == "sum" else "mean"
        lines.append(f"loss on all observations ({how}) after the last step: {fmt_number(run.final_loss, DIGITS)}")
    if run.diverged:
        lines.append(run.diverged)
    return lines


def _obs(step) -> str:
    return ",".join(map(str, step.observations))


def rows(run) -> list[list[str]]:
    """The table as text cells, header first, row 0 (the start) second."""
    head, _, body = table(run)
    return [head] + [[_cell(c) for c in r] for r in body]


def to_text(run) -> str:
    """Header lines, an aligned table, and the last parameters (and the divergence, if any)."""
    table = rows(run)
    widths = [max(len(r[j]) for r in table) for j in range(len(table[0]))]

    def fmt(r):
        return "  ".join(c.rjust(w) if k < 2 else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths)))

    lines = _header_lines(run) + ["", fmt(table[0]).rstrip(), "  ".join("-" * w for w in widths)]
    lines += [fmt(r).rstrip() for r in table[1:]]
    return "\n".join(lines + [""] + _footer_lines(run))


def _tex_update(run) -> str:
    return run.optimizer.rule_tex


def to_markdown(run, heading: str | None = "Training") -> str:
    """A Markdown section: the rule in ``$$…$$``, the data, a pipe table, the last parameters."""
    opt = run.optimizer
    _, head, body = table(run)
    out = []
    if heading:
        out.append(f"## {heading}\n")
    out.append(f"**{opt.variant}** with {_constants_text(opt)}; each step, for every parameter $w$ "
               f"(with $g = \\partial {_notation(run).tex(run.output)}/\\partial w$):\n")
    out.append(f"$$ {_tex_update(run)} $$\n")
    out.append(f"Data: {data_text(run)}.\n")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---:" for _ in head) + "|")
    for r in body:
        out.append("| " + " | ".join(_cell(c, tex=isinstance(c, tuple)).replace("|", "\\|") for c in r) + " |")
    out.append("")
    out += [line + "  " for line in _footer_lines(run)]
    return "\n".join(out).rstrip() + "\n"


def to_tex(run) -> str:
    """A LaTeX fragment (needs amsmath): the update rule and a ``tabular`` of the steps."""
    _, head, body = table(run)
    lines = [f"\\[ {_tex_update(run)} \\]",
             "\\begin{tabular}{" + "r" * len(head) + "}",
             " & ".join(head) + r" \\ \hline"]
    lines += [" & ".join(_cell(c, tex=True) for c in r) + r" \\" for r in body]
    lines.append("\\end{tabular}")
    if run.diverged:
        lines.append("\n" + run.diverged.replace("±", "$\\pm$"))
    return "\n".join(lines) + "\n"


def _flat(name: str, v) -> list[tuple[str, float]]:
    if np.ndim(v) == 0:
        return [(name, float(v))]
    return [(f"{name}[{', '.join(map(str, idx))}]", float(x)) for idx, x in np.ndenumerate(v)]


def to_csv(run) -> str:
    """One row per step (row 0: the start), one column per tensor entry (``W1[0, 1]``), full precision."""
    def record(s):
        rec = [("step", s.t if s else 0), ("observations", _obs(s) if s else ""),
               ("loss", s.loss if s else "")]
        for w in run.wrt:
            if any(st.point for st in run.steps):
                rec += _flat(f"lookahead {w}", s.point[w]) if s and s.point else \
                    [(k, "") for k, _ in _flat(f"lookahead {w}", run.params0[w])]
            rec += _flat(f"grad {w}", s.grads[w]) if s else [(k, "") for k, _ in _flat(f"grad {w}", run.params0[w])]
            for k in run.optimizer.state_names:
                rec += _flat(f"{k} {w}", s.state[w][k]) if s else [(c, "") for c, _ in _flat(f"{k} {w}", run.params0[w])]
            rec += _flat(w, s.params[w] if s else run.params0[w])
        return rec
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    records = [record(None)] + [record(s) for s in run.steps]
    writer.writerow([k for k, _ in records[0]])
    for rec in records:
        writer.writerow([repr(v) if isinstance(v, float) else v for _, v in rec])
    return buf.getvalue()


def to_dict(run) -> dict:
    """The run as JSON-ready data (numbers as JSON numbers, tensors as nested lists)."""
    opt = run.optimizer
    doc = {
        "optimizer": opt.name, "variant": opt.variant, "rule": opt.rule, "rule_tex": opt.rule_tex,
        "constants": opt.constants, "output": run.output, "parameters": list(run.wrt),
        "data": {"mode": "batch" if run.batch else "stochastic", "batch": run.batch,
                 "order": None if run.batch else list(run.order), "text": data_text(run),
                 "observations": [{"label": o.label, "values": o.values} for o in run.observations]},
        "start": run.params0,
        "steps": [{"step": s.t, "observations": s.observations, "loss": s.loss, "gradients": s.grads,
                   "state": s.state, "parameters": s.params,
                   **({"lookahead": s.point} if s.point else {})} for s in run.steps],
        "final": run.params, "final_loss": run.final_loss, "diverged": run.diverged,
        "state_names": {k: STATE_WORDS[k] for k in opt.state_names},
    }
    return to_json(doc)


FORMATS = {"text": to_text, "md": to_markdown, "tex": to_tex, "csv": to_csv}


def render(run, fmt: str = "text") -> str:
    """The table in ``fmt``: text, md, tex or csv."""
    from ..core.errors import InputError
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", kind="usage")
    return FORMATS[fmt](run)
