"""The ``graphviz-bp`` command (also ``python -m graphviz_bp``). Thin: it calls the library.

Exit status: 0 success, 1 an internal failure (or, for ``check``, some claim
is wrong), 2 bad input — with one line on standard error saying what and where,
and with ``--json`` also ``{"error": {...}}`` on standard output.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import command_train        # graphviz-bp train (issue 17): its arguments and help live there

from ..core.notation import to_json  # noqa: F401  (part of the CLI's JSON contract, used by the dashboard)
from ..core.errors import InputError

EPILOG = """\
values: --at NAME=VALUE, VALUE a number or a bracket/JSON literal, e.g. --at 'W=[[1,1]]'.
programs: a file path, '-' for standard input, or -e/--expr TEXT; LaTeX pasted from a sheet works too.
exit status: 0 ok, 1 internal failure (check: some claim wrong), 2 bad input.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):          # usage errors: one line, exit 2, like every bad input
        raise InputError(message, kind="usage")


# --- shared arguments ------------------------------------------------------------------------

def _source_args(p):
    """Where the program comes from and which notation it is in."""
    p.add_argument("program", nargs="?", help="program file, or '-' for standard input")
    p.add_argument("-e", "--expr", help="the program as text")
    p.add_argument("--syntax", choices=("auto", "plain", "latex"), default="auto",
                   help="notation of the program: auto (LaTeX when it holds $…$ or a \\command), plain, latex")


def _program_args(p):
    _source_args(p)
    p.add_argument("--at", action="append", default=[], metavar="NAME=VALUE", help="value of an input")
    p.add_argument("--output", help="node to differentiate (default: the last statement)")
    p.add_argument("--json", action="store_true", help="one JSON document on standard output")
    # --- issue 15: an activation a pasted sheet leaves unspecified (f, \\phi) is the user's choice ---
    p.add_argument("--define", action="append", default=[], metavar="NAME=FUNCTION",
                   help="a function the sheet names but does not define, e.g. --define f=sigmoid "
                        "(relu, tanh, exp, …); until then f(…) is refused, never read as a product")
    # --- end issue 15 ---
    # --- issue 19: one flag per field of Limits, generated (a new limit gets its flag) ---
    import dataclasses

    from ..core.limits import Limits, describe
    docs = describe()
    for f in dataclasses.fields(Limits):
        if f.name == "time_budget_s":
            continue
        flag = f.name.replace("_", "-")
        p.add_argument(f"--limit-{flag}", type=_positive(int), dest=f"limit_{flag}", metavar="N",
                       help=f"limit on {docs.get(f.name, f.name)} (default {getattr(Limits(), f.name)})")
    p.add_argument("--limit-time-budget-s", type=_positive(float), dest="limit_time-budget-s", metavar="S",
                   help=f"stop with an error after this many seconds (default {CLI_TIME_BUDGET_S:g} on the "
                        f"command line, or GRAPHVIZ_BP_TIME_BUDGET_S)")
    # --- end issue 19 ---


CLI_TIME_BUDGET_S = 60.0     # a run without end is not a default; the dashboard's is time_budget_s (10 s)


def _positive(kind):
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
        return value
    convert.__name__ = kind.__name__
    return convert


def _read_program(args) -> str:
    if args.expr is not None:
        return args.expr
    if args.program is None:
        raise InputError("no program: give a file, '-' for standard input, or -e TEXT", kind="usage")
    return _read_file(args.program, args, "the program")


def _read_file(path, args, what) -> str:
    """A file or '-' (standard input), streamed: stops at max_program_chars (so /dev/zero is refused
    after 10 MB, not after the machine's memory) and says where invalid UTF-8 is (issue 19)."""
    from ..reading.parser import read_bounded
    limits = _limits(args)
    if path == "-":
        return read_bounded(getattr(sys.stdin, "buffer", sys.stdin), limits, f"{what} on standard input")
    try:
        with open(path, "rb") as f:
            return read_bounded(f, limits, f"{what} in {path}")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", kind="usage") from None


def _clip(text: str, n: int = 80) -> str:
    """User text quoted in a one-line message: newlines escaped, long text cut."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= n else text[:n - 1] + "…"


def parse_value(text: str, name: str = "value"):
    """A number or a bracket literal (``reading.program.read_value``), as ``--at NAME=VALUE`` gives it."""
    from ..reading.program import read_value
    try:
        return read_value(text, name)
    except InputError as exc:
        if not str(exc).endswith("expected a number or a literal like [[1, 2], [3, 4]]"):
            raise                    # a literal that is not an array (ragged, empty): its own message
        raise InputError(f"--at {name}={_clip(text)}: expected a number or a literal like [[1, 2], [3, 4]]",
                         kind="usage") from None


def _at(args) -> dict:
    at = {}
    for item in args.at:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--at {item}: expected NAME=VALUE", kind="usage")
        from ..reading.parser import normalize_name
        key = normalize_name(name.strip())          # --at 𝑥=1 is x, as in the program
        if key in at:                               # the last one silently winning hides a typo
            raise InputError(f"--at {_clip(item)}: {key} is given twice", kind="usage")
        at[key] = parse_value(value.strip(), key)
    return at


def _limits(args):
    from ..core.limits import Limits
    overrides = {k[len("limit_"):].replace("-", "_"): v for k, v in vars(args).items()
                 if k.startswith("limit_") and v is not None}
    return Limits.from_env(**overrides)


def _graph(args):
    from ..api import parse
    # --- issue 15: --define, and the shapes of --at values inform the reading of a sheet ---
    define = dict(item.partition("=")[::2] for item in getattr(args, "define", []))
    given = {k: getattr(v, "shape", ()) for k, v in _at(args).items()}
    if getattr(args, "shape", None):        # --shape a=3,1 sizes a lower-case name a sheet leaves open
        from ..algorithms.matrix_form.formulas import parse_shapes
        for item in args.shape:         # each command checks its own --shape (count's kernels have 3 sizes)
            try:
                ((name, dims),) = parse_shapes([item]).items()
            except InputError:
                continue
            if all(isinstance(d, int) for d in dims):       # sizes in letters stay the formulas' business
                given.setdefault(name, dims if len(dims) == 2 else (dims[0], 1))    # a vector is a column
    g = parse(_read_program(args), limits=_limits(args), output=args.output, syntax=args.syntax,
              define=define, given=given)
    args.reading_notes = list(getattr(g, "reading_notes", []))
    if not getattr(args, "hold_notes", False):  # solve may read a sheet again: it says the notes itself
        for note in args.reading_notes:         # what the reader chose, one line each
            print(f"note: {note}", file=sys.stderr)
    # --- end issue 15 ---
    return g


def _emit(args, doc: dict, text: str):
    if getattr(args, "reading_notes", None) and isinstance(doc, dict):     # issue 15
        doc = {**doc, "reading_notes": args.reading_notes}
    print(json.dumps(to_json(doc), ensure_ascii=False) if args.json else text)


def _warn(warnings):
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


# --- commands ------------------------------------------------------------------------------

def cmd_grad(args) -> int:
    from ..core.notation import fmt_value
    g = _graph(args)
    if args.symbolic:
        from ..algorithms.symbolic import symbolic_gradients
        # issue 14: a tensor program (values in the program or --at, or --shape) gets matrix formulas
        from ..algorithms.matrix_form.formulas import parse_shapes
        shapes = parse_shapes(args.shape)
        exprs = symbolic_gradients(g, args.wrt, at=_at(args), shapes=shapes)
        if exprs and all(hasattr(f, "reads_back") for f in exprs.values()):
            from ..showing.matrix_solution import gradient_report
            _emit(args, *gradient_report(g, exprs))
            return 0
        _warn(_nonfinite_formulas(g, exprs))
        grads = {k: str(v).replace("**", "^") for k, v in exprs.items()}
        _emit(args, {"output": g.output, "method": "symbolic", "gradients": grads},
              "\n".join(f"∂{g.output}/∂{k} = {v}" for k, v in grads.items()))
        return 0
    at = _at(args)
    grads = g.gradients(at=at, wrt=args.wrt, method=args.method)
    from ..core.evaluate import run
    ev = run(g, at)
    value = ev.values[g.index(g.output)]
    _warn(ev.warnings + _nonfinite_gradients(g, at, grads, ev))
    lines = [f"{g.output} = {fmt_value(value, 6)}"] + \
            [f"∂{g.output}/∂{k} = {fmt_value(v, 6)}" for k, v in grads.items()]
    doc = {"output": g.output, "value": value, "gradients": grads, "method": args.method}
    if args.json:                       # issue 16: scalar parameters and every node's shape
        from ..algorithms.counts import counts
        doc.update(counts(g, at).to_json())
    _emit(args, doc, "\n".join(lines))
    return 0


def _nonfinite_gradients(g, at, grads, ev) -> list[str]:
    """Issue 19: a NaN/inf gradient is said, with the node whose local derivative brought it in."""
    from ..core.evaluate import _finite, gradient_warnings
    bad = [k for k, v in grads.items() if not _finite(v)]
    if not bad or ev.warnings:        # a non-finite value already explains it
        return []
    from ..algorithms.reverse import reverse
    found = gradient_warnings(g, reverse(g, at=at).adjoints, ev.values)
    return found or [f"∂{g.output}/∂{k} is not finite (NaN or infinite) at this point" for k in bad]


def _nonfinite_formulas(g, exprs) -> list[str]:
    import sympy
    return [f"the formula of ∂{g.output}/∂{k} holds {'NaN' if e.has(sympy.nan) else 'an infinity'} "
            f"(a division by zero or a kink where it is evaluated)"
            for k, e in exprs.items() if getattr(e, "has", None) and e.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)]


def cmd_paths(args) -> int:
    from ..core.notation import fmt_value
    from ..core.evaluate import run
    from ..algorithms.paths import count_paths
    g = _graph(args)
    at = _at(args)
    if args.scalar:
        from ..algorithms.scalar_view import scalar_view
        g, at = scalar_view(g, at), {}
    dst = args.to or g.output
    try:
        run(g, at)
        have_values = True
    except InputError as exc:
        if exc.kind != "value":
            raise
        have_values = False
    count = count_paths(g, args.source, dst)
    # issue 19: at most --limit / max_paths_listed paths and max_path_output_chars characters
    from ..algorithms.paths import list_paths
    listed, _ = list_paths(g, args.source, dst, at, values=have_values, limit=args.limit)
    truncated = count > len(listed)
    doc = {"from": args.source, "to": dst, "count": count, "paths": listed, "truncated": truncated}
    if have_values and g.index(dst) == g._output:
        total = g.gradients(at=at, wrt=[args.source])[args.source] if truncated else \
            _sum([p["value"] for p in listed])
        doc["total"] = total
        doc["total_method"] = "reverse accumulation (= the sum over all paths)" if truncated else "sum of paths"
    constants = _path_formulas(g, at, listed) if have_values and not args.scalar else None
    if constants:
        doc["constants"] = constants
    lines = [f"{count} path{'s' if count != 1 else ''} from {args.source} to {dst}"
             + (f" (showing {len(listed)})" if truncated else "")]
    if any("formula" in p for p in listed):
        lines.append(f"(each path: {dst}'s adjoint pulled back along its edges only, a matrix formula in "
                     f"node names shaped like {args.source}, checked against the path's value)")
    for k, p in enumerate(listed, 1):
        value = f" = {fmt_value(p['value'], 6)}" if "value" in p and p["value"] is not None else ""
        product = p.get("formula") or ' · '.join(p['factors'])
        lines.append(f"{k}. {' → '.join(p['nodes'])}: {product}{value}")
        if p.get("formula_note"):
            lines.append(f"   (no matrix formula: {p['formula_note']}; the local derivatives are listed)")
    if "total" in doc:
        lines.append(f"total: ∂{dst}/∂{args.source} = {fmt_value(doc['total'], 6)}")
    lines += [f"({name} = {value}" + (": the one-hot vector of the index taken)" if name != "I" else ")")
              for name, value in (constants or {}).items()]
    _emit(args, doc, "\n".join(lines))
    return 0


def _path_formulas(g, at, listed) -> dict:
    """Issue 14: in a tensor program each listed path gets ``formula`` (plain notation) and
    ``formula_latex``, its contribution as a checked matrix formula, or ``formula_note`` saying why
    not (its factors and value stand).  Returns the values of the extra names the formulas hold
    (the one-hot ``e1``, ``I``), as ``grad --symbolic`` does."""
    from ..algorithms.matrix_form.formulas import is_tensor_program
    from ..algorithms.matrix_form.paths import path_formulas
    from ..algorithms.paths import Path
    from ..showing.matrix_solution import _constants, _tex_names
    if not is_tensor_program(g, at):
        return {}
    tex = _tex_names(g)
    formulas = path_formulas(g, [Path(g, tuple(map(g.index, p["nodes"])), at) for p in listed], at)
    for p, f in zip(listed, formulas):
        if f.expr is not None:
            p["formula"], p["formula_latex"] = f.plain, f.latex(tex)
        else:
            p["formula_note"] = f.note
    return _constants(formulas)


def _sum(values):
    total = 0.0
    for v in values:
        total = total + v
    return total


def cmd_render(args) -> int:
    from .render_command import render_cli
    g, at = _graph(args), _at(args)
    if args.frames:
        _check_frames(args, g, at)
    return render_cli(args, g, at)


def _check_frames(args, g, at) -> None:
    """Issue 19: ``--frames`` writes one picture per reverse step (a step per operation) and with
    ``--paths`` one per path; refused before drawing when that is more than max_frames."""
    from ..algorithms.paths import count_paths
    g_drawn = g
    if args.scalar:
        from ..algorithms.scalar_view import scalar_view
        g_drawn = scalar_view(g, at)
    steps = sum(1 for n in g_drawn.nodes if n.args)
    paths = 0
    if args.paths:
        src = args.source or (g_drawn.leaves[0] if g_drawn.leaves else None)
        if src is not None:
            paths = min(count_paths(g_drawn, src), g_drawn.limits.max_paths_listed)
    if steps + paths > g.limits.max_frames:
        g.limits.refuse("max_frames", f"--frames{' --paths' if args.paths else ''} would write "
                        f"{steps + paths} pictures ({steps} steps" + (f", {paths} paths)" if args.paths else ")"))


def cmd_explain(args) -> int:
    from ..showing.explain import explain
    g = _graph(args)
    text = explain(g, at=_at(args), fmt=args.format, method=args.method, wrt=args.wrt, sgd_lr=args.sgd_lr)
    text = command_train.with_training(text, args, _read_program(args), args.format)   # --optimizer: the steps
    if args.json:
        print(json.dumps({"format": args.format, "text": text}, ensure_ascii=False))
    else:
        print(text)
    return 0


def cmd_check(args) -> int:
    from ..showing.check import check
    g = _graph(args)
    answers = _read_file(args.answers, args, "the answers")
    report = check(g, answers, at=_at(args), sgd_lr=args.sgd_lr, rtol=args.rtol)
    _emit(args, report.to_json(), report.text())
    return 0 if report.ok else 1


def cmd_convert(args) -> int:
    from ..reading.program import convert
    print(convert(_read_program(args), args.to, syntax=args.syntax, limits=_limits(args)), end="")
    return 0


def cmd_app(args) -> int:
    import subprocess
    from .launch import PAGE, command
    if not PAGE.exists():
        raise InputError(f"the dashboard page is missing: {PAGE}", kind="usage")
    try:
        import streamlit  # noqa: F401
    except ImportError:
        raise InputError("the dashboard needs Streamlit: pip install 'graphviz-bp[app]'", kind="usage") from None
    # settings as flags (launch.SETTINGS), so the page looks the same from any directory
    return subprocess.call(command(args.address, args.port))


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="graphviz-bp", description="Computation graphs and backpropagation, as solved by hand.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("grad", help="value and gradients of the output", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _program_args(s)
    s.add_argument("--wrt", help="comma-separated inputs (default: every named input)")
    s.add_argument("--method", choices=("reverse", "forward", "paths"), default="reverse")
    s.add_argument("--symbolic", action="store_true",
                   help="symbolic gradient (inputs may be left without values); for a program with vectors "
                        "or matrices, the closed form in matrix form, each gradient shaped like its variable")
    s.add_argument("--shape", action="append", metavar="NAME=DIMS",
                   help="with --symbolic: declare an input's shape without values, e.g. X=n,n (matrix), "
                        "w=n (column vector), A=3,2; repeat for several inputs")
    s.set_defaults(run=cmd_grad)

    s = sub.add_parser("paths", help="derivative paths from an input to the output", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _program_args(s)
    s.add_argument("--from", dest="source", required=True, help="start of the paths (an input)")
    s.add_argument("--to", help="end of the paths (default: the output)")
    s.add_argument("--limit", type=_positive(int), metavar="N",
                   help="list at most N paths (at most max_paths_listed; the count stays exact)")
    s.add_argument("--scalar", action="store_true", help="on the scalar view (element nodes)")
    s.set_defaults(run=cmd_paths)

    s = sub.add_parser("render", help="draw the graph (SVG, PNG, PDF, DOT)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _program_args(s)
    s.add_argument("-o", "--out", dest="outfile", help="output file (format from its extension)")
    s.add_argument("--format", choices=("svg", "png", "pdf", "dot", "tex"))
    s.add_argument("--show", default="values,locals,numeric,grads",
                   help="layers: values,shapes,locals,numeric,grads,tangents (comma-separated) or 'all'")
    s.add_argument("--path", type=int, help="highlight the N-th path (1-based) from --from")
    s.add_argument("--path-nodes", help="highlight the path through these nodes, comma-separated")
    s.add_argument("--from", dest="source", help="input whose paths --path counts (default: the first input)")
    s.add_argument("--step", type=int, help="reverse-accumulation step reached (1-based)")
    s.add_argument("--theme", choices=("light", "dark", "print"), default="light")
    s.add_argument("--rankdir", choices=("auto", "LR", "TB"), default="auto",
                   help="direction: left-to-right, top-to-bottom, or auto (TB for graphs too wide for a slide)")
    s.add_argument("--scalar", action="store_true", help="draw the scalar view (element nodes)")
    s.add_argument("--frames", help="write one picture per reverse step (and per path with --paths) into DIR")
    s.add_argument("--paths", action="store_true", help="with --frames: also one picture per path")
    s.add_argument("--engine", choices=("auto", "pure", "system"), default="auto",
                   help="Graphviz binary: graphviz-pure from PyPI, the system's dot, or auto")
    s.set_defaults(run=cmd_render)

    s = sub.add_parser("explain", help="a worked solution", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _program_args(s)
    s.add_argument("--wrt", help="comma-separated inputs (default: every named input)")
    s.add_argument("--format", choices=("md", "tex"), default="md")
    s.add_argument("--method", choices=("reverse", "paths", "both"), default="both")
    s.add_argument("--sgd-lr", type=float, help="also one SGD step w ← w − η·∇w with this η")
    command_train.add_training_arguments(s, optional=True)       # --optimizer …: the per-step table too
    s.set_defaults(run=cmd_explain, cli_io=(_read_program, _at, _limits))

    s = sub.add_parser("check", help="find the first wrong step of a hand solution", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _program_args(s)
    s.add_argument("answers", help="the student's answers: 'LHS = value', 'grad NAME = value', 'new NAME = value'")
    s.add_argument("--sgd-lr", type=float, help="η of the SGD step that 'new NAME' claims refer to")
    s.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    s.set_defaults(run=cmd_check)

    s = sub.add_parser("train", help="several steps of gd, sgd, momentum, nesterov, rmsprop, adam, adagrad",
                       epilog=EPILOG)
    _program_args(s)
    command_train.add_arguments(s)
    s.set_defaults(run=command_train.run, cli_io=(_read_program, _at, _limits))   # no import back into cli

    from . import command_prove        # prove, solve, facts, count (issue 16): arguments and help live there
    command_prove.add_arguments(sub, _program_args, EPILOG, (_graph, _at))   # no import back into cli

    s = sub.add_parser("convert", help="print the program in the plain notation or as LaTeX for a sheet",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _source_args(s)
    s.add_argument("--to", choices=("plain", "latex"), required=True,
                   help="plain: the notation (a LaTeX program: its translation); latex: one $$…$$ a statement")
    s.set_defaults(run=cmd_convert)

    s = sub.add_parser("app", help="start the dashboard")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--address", default="127.0.0.1")
    s.set_defaults(run=cmd_app)
    return p


def _cli_budget(args):
    """The flag, else GRAPHVIZ_BP_TIME_BUDGET_S, else CLI_TIME_BUDGET_S (issue 19); none for ``app``."""
    if args.command == "app":
        return None
    flag = getattr(args, "limit_time-budget-s", None)
    if flag is not None:
        return flag
    import os
    return _limits(args).time_budget_s if os.environ.get("GRAPHVIZ_BP_TIME_BUDGET_S") else CLI_TIME_BUDGET_S


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    wants_json = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
        from ..core.limits import time_budget
        with time_budget(_cli_budget(args)):
            return args.run(args)
    except InputError as exc:
        if wants_json:
            print(json.dumps({"error": exc.to_json()}, ensure_ascii=False))
        print(f"graphviz-bp: error: {' '.join(str(exc).splitlines())}", file=sys.stderr)   # one line
        return 2
    except KeyboardInterrupt:
        return 130
    except RecursionError:
        msg = "the program is nested too deeply to process"
        if wants_json:
            print(json.dumps({"error": {"kind": "limit", "message": msg, "line": None, "column": None}}))
        print(f"graphviz-bp: error: {msg}", file=sys.stderr)
        return 2
    except MemoryError:
        print("graphviz-bp: error: out of memory; lower the limits or the program's sizes", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
