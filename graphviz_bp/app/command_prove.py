r"""``graphviz-bp prove | solve | facts | count`` (issue 16): the sheets' "show that", optima, limits, counts.

* ``graphviz-bp prove 'sigmoid(-t) = 1 - sigmoid(t)'`` — *proved* with the chain of rewrites,
  *holds numerically* (no proof found; checked at ~60 points incl. ±30, ±100) or *false* with a
  counterexample.  Plain or LaTeX (``'$\ln \sigma(x) = -\operatorname{softplus}(-x)$'``); a
  function defined first is used in the claim (``'f(t) = e^t/(1+e^t); f(-t) = 1 - f(t)'``).
  Exit status 0 proved or holds, 1 false, 2 bad input.
* ``graphviz-bp solve PROG --wrt w`` — the stationary point: the closed form when the gradient is
  affine in w (w = (XᵀX + λI)⁻¹Xᵀy …, checked against the numeric solution), else BFGS; the
  Hessian and whether it is a minimum, a maximum or a saddle.  ``--maximize`` for a likelihood.
* ``graphviz-bp facts 'sigmoid(t)'`` — f(0), f′(0), limits at ±∞, symmetry, f′ in terms of f,
  max f′ and where, the inverse, the range; each checked numerically.
* ``graphviz-bp count PROG [--shape W1=300x12 …]`` or ``count --dense 12-300-200-100-1`` — scalar
  parameters (inputs named like weights/biases/kernels) and every node's shape.
"""
from __future__ import annotations

import json
import sys

from ..core.errors import InputError

PROVE_EPILOG = """\
examples:
  graphviz-bp prove 'sigmoid(-t) = 1 - sigmoid(t)'
  graphviz-bp prove '$\\frac{d}{dx}\\sigma(x) = \\sigma(x)(1 - \\sigma(x))$' --format md
  graphviz-bp prove "f(t) = exp(t)/(1 + exp(t)); f'(t) = f(t)*(1 - f(t))"
  graphviz-bp prove 'sum(softmax(o)) = 1'
exit status: 0 proved or holds numerically, 1 false (a counterexample), 2 bad input.
A proof rewrites both sides (definitions, derivative, log/exp rules, u = e^{x/k}, common factor)
until they meet; every verdict is also checked numerically at 60 digits.
A lone e (e^t, 2e^x) is Euler's number unless the claim makes e a variable (f(e) = … above,
d/de); a "read as" note says which. f(t)(1 - f(t)) is a product; sigmoid'(x) is σ's derivative.
"""

SOLVE_EPILOG = """\
examples:
  graphviz-bp solve -e 'x = [1, 2]; y = [2, 3]; L = sum((y - w*x)^2)' --wrt w
  graphviz-bp solve ridge.txt --wrt w --at lambda=0.5
The closed form is shown only when it equals the numeric solution at your numbers and at three
random data sets of the same shapes. Without a value, w starts at zeros of a shape that makes the
loss a number (a column for X@w, a row for X - mu); give --at w=... to choose.
exit status: 0 a stationary point, 2 bad input or none (e.g. separable logistic regression).
"""


def add_arguments(sub, program_args, epilog: str = "", cli_io=None) -> None:
    """Register prove, solve, facts and count on the CLI's subparsers; ``cli_io`` is the CLI's
    ``(graph of args, --at values of args)`` (this module does not import the CLI: no import cycle)."""
    import argparse
    raw = argparse.RawDescriptionHelpFormatter

    s = sub.add_parser("prove", help="show that LHS = RHS: proved (with the steps), holds numerically, or false",
                       epilog=PROVE_EPILOG, formatter_class=raw)
    s.add_argument("claim", nargs="?", help="the claim, e.g. 'sigmoid(-t) = 1 - sigmoid(t)' ('-' reads stdin)")
    s.add_argument("-f", "--file", help="read the claim (and definitions above it) from a file")
    s.add_argument("--syntax", choices=("auto", "plain", "latex"), default="auto")
    s.add_argument("--format", choices=("text", "md", "tex"), default="text")
    s.add_argument("--json", action="store_true", help="one JSON document on standard output")
    s.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds for the symbolic rewriting before 'holds numerically' (default 10; "
                        "the whole command stops with exit 2 after 3·S + 20 s)")
    s.set_defaults(run=run_prove)

    s = sub.add_parser("solve", help="the stationary point in --wrt: closed form or BFGS, Hessian, min/max/saddle",
                       epilog=SOLVE_EPILOG, formatter_class=raw)
    program_args(s)
    s.add_argument("--wrt", help="comma-separated unknowns (default: the parameters W, w, b, theta…)")
    s.add_argument("--maximize", action="store_true", help="a maximum (a likelihood) instead of a minimum")
    s.add_argument("--loo", metavar="NAME", help="choose the penalty NAME (e.g. lambda) by leave-one-out: each "
                   "observation (row of the data) held out in turn, scored by the program with NAME = 0")
    s.add_argument("--format", choices=("text", "md", "tex"), default="text")
    s.set_defaults(run=run_solve, cli_io=cli_io)

    s = sub.add_parser("facts", help="limits, f(0), symmetry, f' in terms of f, max f', inverse, range of f(t)",
                       formatter_class=raw,
                       epilog="examples:\n  graphviz-bp facts 'sigmoid(t)'\n  graphviz-bp facts 'tanh(t)'\n"
                              "  graphviz-bp facts 'f(t) = exp(t)/(1 + exp(t))'\n"
                              "Every fact is checked numerically; one that fails its check says 'not confirmed'.")
    s.add_argument("function", help="a function of one variable: 'sigmoid(t)' or 'f(t) = …'")
    s.add_argument("--syntax", choices=("auto", "plain", "latex"), default="auto")
    s.add_argument("--format", choices=("text", "md"), default="text")
    s.add_argument("--json", action="store_true")
    s.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds for SymPy (default 10)")
    s.set_defaults(run=run_facts)

    s = sub.add_parser("count", help="scalar parameters and every node's shape (and conv output sizes)",
                       formatter_class=raw, epilog=(
                           "examples:\n  graphviz-bp count --dense 12-300-200-100-1\n"
                           "  graphviz-bp count --dense d-d_h-m        (sizes as letters: n_θ = d·d_h + d_h·m + d_h + m)\n"
                           "  graphviz-bp count -e 'O = conv2d(I, K, stride=2)' --shape I=4x4 --shape K=2x2x2\n"
                           "Parameters are the inputs named like weights, biases or kernels (W1, b, K, theta…): "
                           "the ones an SGD step updates.\n" + epilog))
    program_args(s)
    s.add_argument("--shape", action="append", default=[], metavar="NAME=SHAPE",
                   help="give an input without a value a shape only, e.g. W1=300x12, or in letters W1='d_h x d' "
                        "(the count is then a formula in them)")
    s.add_argument("--dense", metavar="SIZES", help="a fully connected net with these layer sizes, e.g. 12-300-200-100-1 or d-d_h-m")
    s.set_defaults(run=run_count, cli_io=cli_io)


# --- commands ------------------------------------------------------------------------------------

def _claim_text(args) -> str:
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as f:
                return f.read(100_000)
        except OSError as exc:
            raise InputError(f"cannot read {args.file}: {exc.strerror}", kind="usage") from None
    if args.claim == "-":
        return sys.stdin.read(100_000)
    if not args.claim:
        raise InputError("no claim: give it as text, e.g. graphviz-bp prove 'sigmoid(-t) = 1 - sigmoid(t)'",
                         kind="usage")
    return args.claim


def _overall(args) -> float:
    """The whole command's hard limit: three symbolic time-outs and 20 s for the numeric checks."""
    return 3 * max(args.timeout, 0.0) + 20.0


def run_prove(args) -> int:
    from ..algorithms.prove import hard_timeout, prove
    from ..showing.proof import verdict_text
    with hard_timeout(_overall(args)):     # SymPy and mpmath cannot check a deadline themselves
        v = prove(_claim_text(args), syntax=args.syntax, timeout=args.timeout)
    if args.json:
        print(json.dumps(v.to_json(), ensure_ascii=False))
    else:
        print(verdict_text(v, args.format))
    return 1 if v.status == "false" else 0


def run_solve(args) -> int:
    _graph, _at = args.cli_io
    from ..algorithms.solve import solve
    from ..core.notation import to_json
    from ..showing.proof import solution_text
    args.hold_notes = True          # the reader's notes of the reading that is solved, not of the first
    g = _graph(args)
    first_notes = args.reading_notes
    if args.loo:
        _say_notes(first_notes)
        from ..algorithms.solve import leave_one_out
        from ..showing.proof import loo_text
        if args.maximize:
            raise InputError("--loo chooses a penalty for a minimum; drop --maximize", kind="usage")
        r = leave_one_out(g, args.wrt, args.loo, at=_at(args))
        print(json.dumps(to_json(r.to_json()), ensure_ascii=False) if args.json else loo_text(r, args.format))
        return 0
    try:
        sol = solve(g, args.wrt, at=_at(args), maximize=args.maximize)
        _say_notes(first_notes)
    except InputError as exc:
        try:
            sol = _solve_sheet_with_shapes(args, g, exc)
        except InputError:
            _say_notes(first_notes)
            raise
        _say_notes(args.reading_notes)      # the reading with the unknown's shape
    if args.json:
        print(json.dumps(to_json(sol.to_json()), ensure_ascii=False))
    else:
        print(solution_text(sol, args.format))
    return 0


def _say_notes(notes):
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _solve_sheet_with_shapes(args, g, exc):
    """A pasted sheet reads ``Xw`` by the shapes it knows: when the unknown has no value, read the
    sheet again with the unknown as zeros of each shape the data suggest (a column as long as a
    matrix is wide first), and solve the first reading that gives a scalar loss."""
    from ..algorithms.solve import solve
    _graph, _at = args.cli_io
    if g.syntax != "latex" or not str(exc.message).startswith("no value for"):
        raise exc
    at = _at(args)
    wrt = [w.strip() for w in (args.wrt or "").split(",") if w.strip()]
    missing = [w for w in wrt if w not in at]
    widths = sorted({v.shape[1] for v in at.values() if getattr(v, "ndim", 0) == 2})
    if len(missing) != 1 or not widths:
        raise exc
    for k in widths:
        for literal in ("[" + ", ".join(["[0]"] * k) + "]", "[[" + ", ".join(["0"] * k) + "]]"):
            args.at = [*args.at, f"{missing[0]}={literal}"]
            try:
                return solve(_graph(args), args.wrt, at=_at(args), maximize=args.maximize)
            except InputError:
                args.at = args.at[:-1]
    raise exc


def run_facts(args) -> int:
    from ..algorithms.facts import function_facts
    from ..algorithms.prove import hard_timeout
    from ..showing.proof import facts_text
    with hard_timeout(_overall(args)):
        ff = function_facts(args.function, syntax=args.syntax, timeout=args.timeout)
    if args.json:
        print(json.dumps(ff.to_json(), ensure_ascii=False))
    else:
        print(facts_text(ff, args.format))
    return 0


def run_count(args) -> int:
    _graph, _at = args.cli_io
    from ..algorithms.counts import counts, dense_graph, dense_shapes, parse_shape
    shapes = {}
    for item in args.shape:
        name, sep, shape = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--shape {item}: expected NAME=SHAPE, e.g. W1=300x12", kind="usage")
        shapes[name.strip()] = parse_shape(shape)
    if args.dense:
        if args.program or args.expr:
            raise InputError("--dense builds the program: give no program with it", kind="usage")
        from ..algorithms.counts import _sizes
        g = dense_graph(_sizes(args.dense))
        shapes = {**dense_shapes(_sizes(args.dense)), **shapes}
    else:
        g = _graph(args)
    c = counts(g, at=_at(args), shapes=shapes)
    if args.json:
        print(json.dumps(c.to_json(), ensure_ascii=False))
    else:
        print(c.text())
    return 0
