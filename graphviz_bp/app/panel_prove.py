"""The dashboard's "Prove / solve" panel, beside the worked solution (issue 16).

:func:`show_prove_panel` draws, for the program in the editor:

* its counts: scalar parameters and every node's shape;
* "Show that …": a claim proved with its chain of rewrites, found to hold numerically, or
  refuted with a counterexample (``f(t) = …`` lines of the claim box define functions first);
* "Solve ∇L = 0 for …": the stationary point, its closed form when the gradient is affine,
  the Hessian and minimum / maximum / saddle;
* "Facts of a function": limits, f(0), symmetry, f′ in terms of f, max f′, inverse, range.

``st`` is the ``streamlit`` module, passed in so this module imports no Streamlit.  Each
computation runs through :func:`graphviz_bp.app.worker.run` (a worker process under the hard
limits; SymPy cannot be interrupted from a thread) and comes back as Markdown; bad input is one
``st.error`` line.
"""
from __future__ import annotations

from ..core.errors import InputError

EXAMPLES = ("sigmoid(-t) = 1 - sigmoid(t)", "tanh'(x) = 1 - tanh(x)^2",
            r"$\ln \sigma(x) = -\operatorname{softplus}(-x)$", "sum(softmax(o)) = 1")


# --- the computations (module-level: the worker pickles them) ------------------------------------

def _graph(program_text, syntax):
    import graphviz_bp as gbp
    return gbp.parse(program_text, syntax=syntax)


def prove_markdown(claim: str, syntax: str = "auto") -> tuple[str, str]:
    """``(status, Markdown)`` of the verdict on ``claim``."""
    from ..algorithms.prove import prove
    from ..showing.proof import verdict_text
    v = prove(claim, syntax=syntax)
    return v.status, verdict_text(v, "md")


def solve_markdown(program_text: str, syntax: str, wrt, at=None, maximize: bool = False) -> str:
    from ..algorithms.solve import solve
    from ..showing.proof import solution_text
    return solution_text(solve(_graph(program_text, syntax), wrt or None, at=at or {}, maximize=maximize), "md")


def facts_markdown(function: str, syntax: str = "auto") -> str:
    from ..algorithms.facts import function_facts
    from ..showing.proof import facts_text
    return facts_text(function_facts(function, syntax=syntax), "md")


def counts_markdown(program_text: str, syntax: str, at=None) -> str:
    from ..algorithms.counts import counts
    from ..showing.proof import counts_text
    return counts_text(counts(_graph(program_text, syntax), at or {}), "md")


def default_wrt(program_text: str, syntax: str = "auto") -> str:
    from ..core.graph import parameters
    try:
        return ", ".join(parameters(_graph(program_text, syntax)))
    except InputError:
        return ""


# --- the panel -----------------------------------------------------------------------------------

def _solve_inputs(program_text: str, syntax: str, wrt: str, at, maximize: bool) -> tuple:
    """What a solve answer depends on, comparable with ``==`` (values as nested lists: arrays
    compare elementwise)."""
    import numpy as np
    values = tuple(sorted((name, np.asarray(v).tolist()) for name, v in (at or {}).items()))
    return program_text, syntax, wrt, repr(values), bool(maximize)


def _run(fn, *args, key=None, **kwargs):
    from . import worker
    return worker.run(fn, *args, key=key, **kwargs)


def show_prove_panel(st, program_text: str, syntax: str = "auto", at=None, key: str = "prove") -> None:
    """Draw the panel for ``program_text`` (values ``at`` as the graph uses them)."""
    st.subheader("Prove / solve")
    if program_text and program_text.strip():
        try:
            st.markdown(_run(counts_markdown, program_text, syntax, at, key=f"{key}_counts"))
        except InputError as exc:
            st.caption(f"Counts: {exc}")

    claim = st.text_area("Show that …", key=f"{key}_claim", height=80,
                         placeholder="e.g. " + EXAMPLES[0] + "   (define f(t) = … on a line above to use f)",
                         help="Plain notation or LaTeX: f'(x), \\frac{d}{dx}…, 1[x > 0], softmax/logsumexp "
                              "of a vector. Proved: a chain of rewrites; holds numerically: no proof found "
                              "but the sides agree at ~60 points incl. ±30, ±100; false: a counterexample.")
    if claim and claim.strip():
        try:
            status, md = _run(prove_markdown, claim, syntax, key=f"{key}_claim_run")
        except InputError as exc:
            st.error(str(exc))
        else:
            (st.success if status == "proved" else st.info if status == "holds numerically" else st.error)(
                {"proved": "Proved.", "holds numerically": "Holds numerically; no proof found.",
                 "false": "False: a counterexample."}[status])
            st.markdown(md)

    if program_text and program_text.strip():
        wrt = st.text_input("Solve ∇L = 0 for", value=default_wrt(program_text, syntax), key=f"{key}_wrt",
                            help="comma-separated unknowns; the other inputs keep their values")
        maximize = st.checkbox("a maximum (a likelihood)", key=f"{key}_max")
        # A button is true for one rerun only: the answer is kept in the session with the inputs it
        # answers, so typing into another field of the panel leaves it on the page, and any change
        # to its own inputs (program, values, unknowns, the maximum box) takes it away.
        asked = _solve_inputs(program_text, syntax, wrt, at, maximize)
        if st.button("Solve", key=f"{key}_solve"):
            try:
                answer = ("md", _run(solve_markdown, program_text, syntax, wrt, at, maximize, key=f"{key}_solve_run"))
            except InputError as exc:
                answer = ("error", str(exc))
            st.session_state[f"{key}_solved"] = (asked, answer)
        kept = st.session_state.get(f"{key}_solved")
        if kept is not None and kept[0] == asked:
            kind, text = kept[1]
            (st.markdown if kind == "md" else st.error)(text)

    function = st.text_input("Facts of a function of one variable", key=f"{key}_fn",
                             placeholder="e.g. sigmoid(t), tanh(t), f(t) = exp(t)/(1 + exp(t))")
    if function and function.strip():
        try:
            st.markdown(_run(facts_markdown, function, syntax, key=f"{key}_fn_run"))
        except InputError as exc:
            st.error(str(exc))
