"""``graphviz-bp train PROG``: several steps of an optimizer, one table row per step.

The CLI registers it with ``add_arguments(parser)`` (after the shared program arguments) and
``set_defaults(run=run)``. Bad input (a learning rate that is not a number, a missing constant,
steps beyond ``max_train_steps``) is one line and exit status 2, as everywhere; a run that
diverges prints the steps that stayed finite, then one line saying at which step and what became
NaN/inf, and exits with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys

DESCRIPTION = """\
Several steps of an optimizer on the program's output (the loss), one table row per step: the
observations used, the loss before the step, the gradient, the optimizer's state and the new
parameters. Parameters: the inputs named like weights and biases (W, W1, w, b_2, theta, …), or --wrt.

Data: the program's observations, as indexed values (x_1 = 1; x_2 = 2; y_1 = 2; y_2 = 3 next to a
loss in x and y) or a Markdown table (lines may start with '#', so that other commands skip them):
    # | № | x | y |
    # |---|---|---|
    # | 1 | 1 | 2 |
    # | 2 | 2 | 3 |
Without either, every step uses the program's own values. gd uses the full batch (--batch mean:
the loss is the mean of the per-observation losses; --batch sum: their sum); every other optimizer
uses one observation a step, in the order 1, 2, …, n, again (--order 2,1 to choose). --batch works
with every optimizer.

Updates (g = the gradient at the step's observations, t = the step from 1, state starts at 0),
PyTorch's forms by default (torch.optim, no weight decay, no dampening):
  gd, sgd   w ← w − η·g
  momentum  v ← μ·v + g;  w ← w − η·v
            --form textbook: v ← μ·v + η·g;  w ← w − v          (the same iterates)
  nesterov  v ← μ·v + g;  w ← w − η·(g + μ·v)
            --form textbook: v ← μ·v + η·∇L(w − μ·v);  w ← w − v  (gradient at the look-ahead point;
            PyTorch's iterate is the textbook's look-ahead point, so the numbers differ)
  rmsprop   s ← α·s + (1 − α)·g²;  w ← w − η·g / (√s + ε)
            --form textbook: w ← w − η·g / √(s + ε)
  adam      m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ);
            w ← w − η·m̂ / (√v̂ + ε)
            --no-bias-correction: w ← w − η·m / (√v + ε)
  adagrad   G ← G + g²;  w ← w − η·g / (√G + ε)
Constants: --lr (η) always; --momentum (μ; --alpha is accepted for it, as the sheets write α) for
momentum and nesterov; defaults α = 0.99, β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (adagrad 1e-10).
"""

EXAMPLES = """\
examples:
  graphviz-bp train linear_regression_steps.txt --optimizer gd --lr 0.1 --steps 2
  graphviz-bp train linear_regression_steps.txt --optimizer momentum --lr 0.1 --momentum 0.9 --steps 2
  graphviz-bp train linear_regression_steps.txt --optimizer adam --lr 0.1 --beta1 0.9 --beta2 0.9 --steps 2
  graphviz-bp train sigmoid_net.txt --optimizer sgd --lr 1 --steps 2 --order 2,1 --format md
"""


def _steps(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        from ..core.errors import InputError
        raise InputError(f"--steps {text!r}: expected a whole number, e.g. --steps 2", kind="usage") from None


def _order(text: str) -> list[int]:
    from ..core.errors import InputError
    try:
        out = [int(k) for k in text.replace(" ", "").split(",") if k]
    except ValueError:
        raise InputError(f"--order {text!r}: expected observation numbers like 2,1", kind="usage") from None
    if not out:
        raise InputError("--order: expected observation numbers like 2,1", kind="usage")
    return out


def add_training_arguments(p: argparse.ArgumentParser, optional: bool = False) -> None:
    """The optimizer, its constants, the steps and the data (shared by ``train`` and ``explain``).

    ``optional``: no default optimizer, so that a command (``explain``) trains only when asked.
    """
    from ..algorithms.train import FORMS, OPTIMIZERS
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None if optional else "sgd",
                   help="the update rule" + (": adds the per-step table of training steps" if optional
                                             else " (default sgd)"))
    # constants are read as text, so that a bad one is our own one-line message
    p.add_argument("--lr", help="learning rate η (required)")
    p.add_argument("--momentum", help="μ of momentum and nesterov (required for them)")
    p.add_argument("--alpha", help="α of rmsprop (default 0.99); for momentum/nesterov: μ, as the sheets write it")
    p.add_argument("--beta1", help="β₁ of adam (default 0.9)")
    p.add_argument("--beta2", help="β₂ of adam (default 0.999)")
    p.add_argument("--eps", help="ε of rmsprop/adam (default 1e-8) and adagrad (default 1e-10)")
    p.add_argument("--form", choices=FORMS, default="pytorch",
                   help="pytorch (default) or textbook forms of momentum, nesterov and rmsprop")
    p.add_argument("--no-bias-correction", action="store_true", help="adam without m̂, v̂")
    p.add_argument("--steps", default="1", help="number of steps (default 1)")
    p.add_argument("--order", help="observations of the stochastic steps, e.g. 2,1 (then again)")
    p.add_argument("--batch", choices=("mean", "sum"),
                   help="every step on all observations: the mean (gd's default) or the sum of their losses")
    if not any("--limit-max-train-steps" in a.option_strings for a in p._actions):
        p.add_argument("--limit-max-train-steps", type=int, dest="limit_max-train-steps",
                       help="limit on the number of steps (default 10000)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The train command's own arguments (the CLI adds the shared program arguments first)."""
    p.description = DESCRIPTION
    p.epilog = EXAMPLES + (p.epilog or "")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    add_training_arguments(p)
    p.add_argument("--wrt", help="comma-separated parameters to train (default: weights and biases by name)")
    p.add_argument("--format", choices=("text", "md", "tex", "csv"), default="text",
                   help="the table as text (default), Markdown, LaTeX or CSV")
    p.add_argument("--check", metavar="ANSWERS",
                   help="check a hand solution ('step 1 w = 0.4', 'step 2 v = …', 'w_2 = …') instead of printing "
                        "the table: each claim right or wrong, the first wrong one and its slip; exit 1 if wrong")
    p.add_argument("--rtol", type=float, default=1e-6,
                   help="with --check: relative tolerance (a value rounded to the decimals written is right too)")


def _io(args):
    """The CLI's readers ``(program text, --at values, limits)`` of ``args``, handed over by the CLI
    as ``args.cli_io`` (this module does not import the CLI: no import cycle)."""
    return args.cli_io


def training_run(args, program_text: str):
    """``(graph, optimizer, observations, batch)`` from the training arguments (checked)."""
    from ..algorithms.observations import read
    from ..algorithms.train import make_optimizer
    from ..core.errors import InputError
    _, _, _limits = _io(args)
    args.steps = _steps(str(args.steps))
    args.order = _order(args.order) if args.order is not None else None
    opt = make_optimizer(args.optimizer, lr=args.lr, momentum=args.momentum, alpha=args.alpha,
                         beta1=args.beta1, beta2=args.beta2, eps=args.eps, form=args.form,
                         bias_correction=not args.no_bias_correction)
    if args.no_bias_correction and args.optimizer != "adam":
        raise InputError(f"--no-bias-correction is an option of adam, not of {args.optimizer}", kind="usage")
    g, observations = read(program_text, syntax=args.syntax, limits=_limits(args), output=args.output)
    if args.optimizer == "gd" and args.order and not args.batch:
        raise InputError("gd steps on the full batch; for one observation a step in an --order, "
                         "use --optimizer sgd", kind="usage")
    return g, opt, observations, args.batch or ("mean" if args.optimizer == "gd" else None)


def with_training(text: str, args, program_text: str, fmt: str = "md") -> str:
    """``explain``'s text with the per-step table added (Markdown section, or LaTeX before
    ``\\end{document}``) when ``--optimizer`` was given; else ``text`` unchanged.
    ``args.cli_io``: the CLI's readers, as for ``train``."""
    if getattr(args, "optimizer", None) is None:
        return text
    from ..algorithms.train import train
    from ..showing.training import to_markdown, to_tex
    _, _at, _ = _io(args)
    g, opt, observations, batch = training_run(args, program_text)
    result = train(g, opt, args.steps, observations, order=args.order, batch=batch,
                   wrt=getattr(args, "wrt", None), at=_at(args))
    if fmt == "tex":
        section = "\\section*{Training}\n" + to_tex(result)
        return text.replace("\\end{document}", section + "\\end{document}") if "\\end{document}" in text \
            else text + "\n" + section
    return text.rstrip("\n") + "\n\n" + to_markdown(result)


def run(args) -> int:
    from ..algorithms.train import train
    from ..showing.training import render, to_dict
    _read_program, _at, _ = _io(args)
    g, opt, observations, batch = training_run(args, _read_program(args))
    if args.check:
        return _check(args, g, opt, observations, batch)
    result = train(g, opt, args.steps, observations, order=args.order, batch=batch, wrt=args.wrt, at=_at(args))
    if args.json:
        doc = to_dict(result)
        if result.diverged:
            doc["error"] = {"kind": "value", "message": result.diverged, "line": None, "column": None}
        print(json.dumps(doc, ensure_ascii=False))
    else:
        text = render(result, args.format)
        if result.diverged and args.format == "text":     # the footer already says it; stderr says it once
            text = text.replace("\n" + result.diverged, "")
        print(text, end="" if text.endswith("\n") else "\n")
    if result.diverged:
        print(f"graphviz-bp: error: {result.diverged}", file=sys.stderr)
        return 2
    return 0


def _check(args, g, opt, observations, batch) -> int:
    """``--check ANSWERS``: the run as long as the answers need (at least --steps), then the report."""
    from ..algorithms.train import train
    from ..core.errors import InputError
    from ..showing.check_training import check_training, parse_claims
    _, _at, _ = _io(args)
    try:
        with open(args.check, encoding="utf-8") as f:
            answers = f.read()
    except OSError as exc:
        raise InputError(f"cannot read {args.check}: {exc.strerror}", kind="usage") from None
    except UnicodeDecodeError:
        raise InputError(f"{args.check} is not UTF-8 text", kind="usage") from None
    probe = train(g, opt, 1, observations, order=args.order, batch=batch, wrt=args.wrt, at=_at(args))
    steps = max([args.steps] + [c.step for c in parse_claims(answers, probe)])
    result = train(g, opt, steps, observations, order=args.order, batch=batch, wrt=args.wrt, at=_at(args))
    report = check_training(result, answers, rtol=args.rtol)
    print(json.dumps(report.to_json(), ensure_ascii=False) if args.json else report.text())
    return 0 if report.ok else 1
