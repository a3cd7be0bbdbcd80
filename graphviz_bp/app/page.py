"""graphviz-bp dashboard: program in, computation graph out (the Streamlit page).

Run with ``graphviz-bp app`` (from any directory, after any install) or, in a checkout,
``streamlit run streamlit_app.py`` (a launcher that runs this file). Streamlit runs this module
as a script on every interaction, so it is not imported by the library or by the tests' doctest
run (pyproject: ``--ignore=graphviz_bp/app/page.py``).

Thin by design: layout and state only. Every number comes from the library
(``graphviz_bp``: evaluation, reverse accumulation, derivative paths, forward
mode) and every picture from its renderer (``graphviz_bp.showing.render``), through the cached
functions of ``graphviz_bp/app/page_data.py`` (each run first in a worker under hard limits);
helpers that need no Streamlit live in ``graphviz_bp/app/dashboard.py``.
"""
from __future__ import annotations

import hashlib
import html
import importlib
import importlib.util
import logging
from contextlib import contextmanager

import streamlit as st

from graphviz_bp import InputError
from graphviz_bp.app import dashboard as dash
from graphviz_bp.app import jobs
from graphviz_bp.app import page_data as data   # what the page computes (cached, in workers)
from graphviz_bp.app import page_options
from graphviz_bp.app.page_options import BROWSER_ENGINE, SIZES
from graphviz_bp.core.notation import Notation, shape_text
from graphviz_bp.core.limits import Limits, start_time_budget

log = logging.getLogger("graphviz_bp.app")

VIEWS = ["Graph", "Paths", "Backward pass", "Forward mode", "Worked solution"]
EXTRA_PANELS: list = []         # Training, Prove / solve: added below when their modules are there

# the page icon is an emoji: Streamlit draws it as a data: URL (a :material/…: page icon would be
# fetched from a font host on the internet, and the page must work offline, issue 18)
st.set_page_config(page_title="graphviz-bp · backpropagation graphs", layout="wide", page_icon="🔀")

# Each run of this script gets the request time budget (Limits.time_budget_s, GRAPHVIZ_BP_TIME_BUDGET_S):
# the engine's loops check it and stop with a LimitError, shown like any other bad input.
start_time_budget(Limits.from_env().time_budget_s)


# --- small UI helpers --------------------------------------------------------------------------

@contextmanager
def guarded(what: str):
    """Input errors as st.error with line and column; anything else as a short generic message."""
    try:
        yield
    except InputError as exc:
        st.error(dash.md_escape(str(exc)), icon=":material/error:")
    except Exception:                                   # never a traceback on the page
        log.exception("dashboard: %s failed", what)
        st.error(f"Something went wrong while {what}. The details are in the server log.",
                 icon=":material/error:")


def md(name: str) -> str:
    """A graph name as written on paper, safe inside Markdown (``x_i``, ``W1[0,1]``)."""
    return dash.md_escape(nt.name(name))


def path_label(g, nodes) -> str:
    return " → ".join(g.notation.name(n) for n in nodes)


def big(text: str):
    st.markdown(f'<div style="font-size:1.35rem;line-height:1.6;font-family:monospace">{html.escape(text)}</div>',
                unsafe_allow_html=True)


def load_example():
    ex = {e.title: e for e in data.gallery()}.get(st.session_state.example)
    if ex is not None:
        st.session_state.program = ex.text
        st.session_state.syntax = "auto"          # a gallery program is read as it is written


def program_edited():
    """A program that is no longer the chosen example's: the Example box says so (no stale title)."""
    ex = {e.title: e for e in data.gallery()}.get(st.session_state.get("example"))
    if ex is not None and ex.text != st.session_state.program:
        st.session_state.example = None


def _init_state():
    if "program" not in st.session_state:
        examples = data.gallery()
        first = next((e for e in examples if e.file == dash.DEFAULT_EXAMPLE), examples[0] if examples else None)
        st.session_state.program = first.text if first else "f = x^2 + x*y + (x + y)^2\nx = 1\ny = 2"
        if first:
            st.session_state.example = first.title
    st.session_state.setdefault("syntax", "auto")


# --- the page -----------------------------------------------------------------------------------

_init_state()
renderer = data.renderer_module()

presenting = page_options.apply_styles()

left_col, right_col = st.columns([4, 9], gap="large")
left, right = left_col.container(key="editor"), right_col.container(key="views")

with right:                                   # what the drawing shows: one compact block above the views
    _options = page_options.drawing_options()
layers, theme, rankdir, size = _options.layers, _options.theme, _options.rankdir, _options.size
scalar, engine = _options.scalar, _options.engine

with left:
    st.markdown("#### graphviz-bp · backpropagation, drawn")
    st.selectbox("Example", [e.title for e in data.gallery()], key="example", on_change=load_example,
                 placeholder="your own program (choose an example to load it)",
                 help="Every example shipped with graphviz-bp (graphviz_bp/examples)")
    text = st.text_area("Program", key="program", on_change=program_edited,
                        height=dash.editor_height(st.session_state.get("program", "")),
                        help="One statement a line: `W = [[1, 1]]` declares an input with its default, "
                             "`L = ||X*W - Y||_2^2 + lambda*||W||_1` computes. LaTeX pasted from a sheet "
                             "(`$$L = \\|X * W - Y\\|_2^2 + \\lambda * \\|W\\|_1$$`) works too.")
    c = st.columns([5, 6], vertical_alignment="bottom")
    syntax = c[0].segmented_control(
        "Notation", list(dash.NOTATIONS), format_func=dash.NOTATIONS.get, key="syntax", required=True,
        help="Auto: LaTeX when the program holds `$…$` or a backslash command, else the plain notation. "
             "Plain / LaTeX: read it that way.") or "auto"
    note = c[1].empty()
    defines = st.session_state.setdefault("defines", {})        # activations a sheet only names
    prog = (text, syntax, tuple(sorted(defines.items())))

    # the graph of the program, or the last one that worked
    nt = Notation()
    error = None
    graph = None
    try:
        graph = data.graph(prog)
    except InputError as exc:
        error = str(exc)
    except Exception:
        log.exception("dashboard: parsing failed")
        error = "Something went wrong while reading the program. The details are in the server log."
    last = st.session_state.get("last_good")
    if graph is None:
        st.error(dash.md_escape(error), icon=":material/error:")
        letter = dash.undefined_function(error)
        if letter:                              # the sheet names an activation without saying which: ask
            choices = dash.activation_choices()
            chosen = st.selectbox(f"The sheet only names {letter}: which function is it?", choices, index=None,
                                  key=f"define-{letter}", placeholder="choose an activation")
            if chosen:
                defines[letter] = chosen
                st.rerun()
        hint = dash.notation_hint(text, syntax)
        if hint:
            st.info(hint, icon=":material/lightbulb:")
        if last is None:
            st.stop()
        # consistent: inputs, values and drawing below all belong to the last program that worked
        st.warning("Inputs, values and drawing below are those of the last program that worked; "
                   "they follow again once the error above is fixed.", icon=":material/history:")
        shown_prog = last[0]
        graph = data.graph(shown_prog)
    else:
        shown_prog = prog
        said = dash.notation_note(graph.syntax, syntax)
        if defines:
            d = st.columns([5, 2], vertical_alignment="center")
            d[0].caption("Read with " + ", ".join(f"{k} = {f}" for k, f in sorted(defines.items())) +
                         " (the sheet only names them)")
            if d[1].button("Choose again", key="defines-reset"):
                defines.clear()
                st.rerun()
        if said:
            note.markdown(f":material/check_circle: {said}")
            for line in getattr(graph, "reading_notes", None) or ():     # where the reader chose a meaning
                st.caption(dash.md_escape(line))
            with st.expander("In the plain notation"):
                st.code(graph.text.rstrip("\n"), language=None)

    nt = graph.notation                         # W^{(1)} of a pasted sheet is written W⁽¹⁾ below
    st.subheader("Inputs")
    texts = {}
    cols = st.columns(2)
    for k, name in enumerate(graph.leaves):
        default = dash.value_literal(graph.node(name).default)
        if default and not jobs.finite(graph.node(name).default):
            default = ""                 # the program's own value is used; its warning says why
        with cols[k % 2]:
            value = graph.node(name).default
            texts[name] = st.text_input(
                nt.name(name) + (f"  ·  {shape_text(value)}" if value is not None else ""), value=default, key=f"input:{name}:{default}",
                placeholder="a value, e.g. 1 or [[1, 2]]" if not default else None,
                help=f"{name}: a number or a literal like [[1, 2], [3, 4]] (default {default or 'none'})")
    key = dash.values_key(texts)

    model = None
    try:
        model = data.model(shown_prog, key)
    except InputError as exc:
        st.error(dash.md_escape(str(exc)), icon=":material/error:")
    except Exception:
        log.exception("dashboard: evaluation failed")
        st.error("Something went wrong while computing the graph. The details are in the server log.",
                 icon=":material/error:")
    if model is None:
        # the program reads but does not evaluate (a shape error, a bad input value): its own graph,
        # without values, so that the inputs above and the drawing are the same program
        model = data.model(shown_prog, data.STRUCTURE_ONLY)
        st.warning("The drawing shows this program without values until the error above is fixed.",
                   icon=":material/info:")
    elif model.key != data.STRUCTURE_ONLY:
        st.session_state.last_good = (model.prog, model.key)

    g = model.g
    out = g.output
    st.subheader("Values and gradients")
    for w in model.warnings:
        st.warning(dash.md_escape(str(w)), icon=":material/warning:")
    if model.missing:
        st.info("No value yet for " + ", ".join(f"`{n}`" for n in model.missing)
                + ": the graph is symbolic until you give one.", icon=":material/info:")
    if model.has_values:
        st.markdown(f"${nt.tex(out)} = {dash.latex_value(model.values[out])}$")
    if model.gradient_error:
        st.warning(dash.md_escape(model.gradient_error), icon=":material/warning:")
    rows = [f"| input | shape | value | ∂{md(out)}/∂input |", "|---|---|---|---|"]
    for name in g.leaves:
        value = model.values[name] if model.has_values else None
        if model.has_gradients and name in model.gradients:      # a sheet's f(x, y): only x and y
            grad = f"${dash.latex_value(model.gradients[name])}$"
        elif model.symbolic and name in model.symbolic:
            grad = f"`{nt.expr(str(model.symbolic[name]))}`"          # 2x, as on the graph
        else:
            grad = "—"
        rows.append(f"| ${nt.tex(name)}$ | {shape_text(value) if value is not None else '—'} | "
                    f"{'$' + dash.latex_value(value) + '$' if value is not None else '—'} | {grad} |")
    st.markdown("\n".join(rows))

model_args = (model.prog, model.key, bool(scalar) and model.has_values)
active_g, active_at = g, model.at
if model_args[2]:
    with right:
        with guarded("building the scalar view"):
            active_g, active_at = data.active(*model_args)
            if len(active_g) > g.limits.max_render_nodes:
                st.info(f"The scalar view has {len(active_g)} nodes; the drawing shows at most "
                        f"{g.limits.max_render_nodes} (GRAPHVIZ_BP_MAX_RENDER_NODES).", icon=":material/info:")
if scalar and not model.has_values:
    with right:
        st.info("The scalar view needs values for every input.", icon=":material/info:")


def _portable(svg: str) -> str:
    """The downloaded SVG: the same in cairosvg/Inkscape as on the page (fonts with fallbacks)."""
    return renderer.portable_svg(svg) if hasattr(renderer, "portable_svg") else svg


def show_graph(*, extra_layers=(), highlight=None, step=None, tangent=None, name="graph", shown=None, above_px=0):
    """The drawing of the current view, with its downloads (``shown``: another data.Model of the same program;
    ``above_px``: the height of the view's own controls above the drawing, which "fit" leaves on screen)."""
    m = shown or model
    m_args = (m.prog, m.key, model_args[2]) if shown else model_args
    if renderer is None:
        st.info("The drawing (graphviz_bp.showing.render) is coming; the tables below already work.",
                icon=":material/hourglass_empty:")
        return
    show = set(layers or ()) | set(extra_layers)
    if not m.has_values:
        show -= {"values", "numeric", "grads", "tangents"}
    opts = {"show": tuple(sorted(show)), "theme": theme or "light", "rankdir": rankdir or "auto"}
    if highlight:
        opts["highlight"] = tuple(highlight)
    if step is not None:
        opts["step"] = step
    if tangent is not None:
        opts["tangent"] = tangent
    with guarded("drawing the graph"):
        args = (*m_args, tuple(sorted(opts.items())))
        if engine == BROWSER_ENGINE:
            st.graphviz_chart(data.dot(*args), width="stretch")
        else:
            # inline SVG (st.html strips <svg>; st.image would hide the text from the page)
            state = hashlib.sha1(repr((args, bool(scalar), size, presenting)).encode()).hexdigest()[:12]
            st.markdown(dash.svg_for_page(data.svg(*args), zoom=SIZES.get(size), state=state,
                                          height_css=f"100vh - {(150 if presenting else 280) + above_px}px"),
                        unsafe_allow_html=True)
        c = st.columns(4)
        c[0].download_button("SVG", lambda: _portable(data.svg(*args)), file_name=f"{name}.svg", mime="image/svg+xml",
                             on_click="ignore", icon=":material/download:", key=f"dl-svg-{name}")
        c[1].download_button("PNG", lambda: data.png(data.svg(*args)), file_name=f"{name}.png", mime="image/png",
                             on_click="ignore", icon=":material/download:", key=f"dl-png-{name}")
        c[2].download_button("DOT", lambda: data.dot(*args), file_name=f"{name}.gv", mime="text/vnd.graphviz",
                             on_click="ignore", icon=":material/download:", key=f"dl-dot-{name}")
        if m.has_values and m.has_gradients:
            c[3].download_button("Gradients (JSON)",
                                 dash.gradients_json(out, m.values[out], m.gradients),
                                 file_name="gradients.json", mime="application/json",
                                 on_click="ignore", icon=":material/download:", key=f"dl-json-{name}")


def graph_panel():
    """The drawing; after a training run, optionally at the parameters of its current step."""
    trained = st.session_state.get("train_at")
    if trained and model.has_values and not model_args[2] and \
            st.toggle(f"Values at training {trained['caption']}", key="graph-train-step",
                      help="The Training tab's current step: its parameters and observation"):
        texts = dict(model.key)
        texts.update({name: dash.value_literal(v) for name, v in trained["at"].items() if name in texts})
        try:
            show_graph(name="graph", shown=data.model(model.prog, dash.values_key(texts)))
            return
        except InputError as exc:
            st.error(dash.md_escape(str(exc)), icon=":material/error:")
    show_graph(name="graph")


def paths_panel():
    counts = data.path_counts(*model_args)
    sources = list(counts)
    if not sources:
        st.info("The program has no inputs.")
        return
    default = max(sources, key=lambda n: (counts[n], -sources.index(n)))
    top = st.columns([3, 8, 3], vertical_alignment="bottom")
    src = top[0].selectbox("Paths from", sources, index=sources.index(default), key=f"path-src-{model_args[2]}",
                           format_func=lambda n: f"{active_g.notation.name(n)}  ({counts[n]:,} path"
                                                   f"{'s' if counts[n] != 1 else ''})")
    count = counts[src]
    dst = active_g.output
    if count == 0:
        st.info(f"No path from {nt.name(src)} to {nt.name(dst)}: ∂{nt.name(dst)}/∂{nt.name(src)} = 0.")
        show_graph(name="paths")
        return
    cap = active_g.limits.max_paths_listed
    pages = dash.page_count(count, cap)
    page = 0
    if pages > 1:
        page = top[2].number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1,
                                   key=f"path-page-{src}",
                                   help=f"{dash.PAGE_SIZE} paths a page" + (
                                       f"; the first {cap:,} paths are listed (max_paths_listed), the count "
                                       f"stays exact" if count > cap else "")) - 1
    paths, contributions, running, formulas = data.path_page(*model_args, src, page)
    start = page * dash.PAGE_SIZE
    labels = {i: f"{start + i + 1}. {path_label(active_g, p.nodes)}" for i, p in enumerate(paths)}
    choice = top[1].selectbox(f"Path ({count:,} from {nt.name(src)} to {nt.name(dst)}"
                              f"{dash.count_note(count)})", list(labels), format_func=labels.get,
                              key=f"path-choice-{src}-{page}")
    choice = 0 if choice is None else choice
    p = paths[choice]
    k = start + choice + 1
    st.markdown(f"**{count:,}** path{'s' if count != 1 else ''} from {md(src)} to {md(dst)}"
                f"{dash.count_note(count)}; path {k}: {dash.md_escape(path_label(active_g, p.nodes))}")
    show_graph(highlight=p.nodes, extra_layers=("locals",), name="path", above_px=130)   # the selectors

    left_, right_ = st.columns([3, 2], gap="medium")
    with left_:
        rows = [f"| edge of path {k} | local derivative | at the point |", "|---|---|---|"]
        for (u, v), factor in zip(p.edges, p.factors):
            numeric = "—"
            if model.has_values:
                num = active_g.local_numeric(u, v, at=active_at)
                numeric = f"${dash.latex_value(num)}$" if num is not None else \
                    f"vector–Jacobian rule `{active_g.local_rule(u, v)}`"
            rows.append(f"| {md(u)} → {md(v)} | `{factor}` | {numeric} |")
        st.markdown("\n".join(rows))
    with right_:
        if contributions[choice] is not None:
            st.markdown(f"Contribution of path {k}: ${dash.latex_value(contributions[choice])}$")
        if formulas[choice] is not None:        # issue 14: the path's product as a matrix expression
            tex, note = formulas[choice]
            if tex is not None:
                st.markdown(f"In matrix form: $\\pi_{{{k}}} = {tex}$")
                st.caption(f"{nt.name(dst)}'s adjoint pulled back along the path's edges only (each edge's "
                           f"matrix rule for its operand), shaped like {nt.name(src)}; checked against the value.")
            else:
                st.caption(f"No matrix formula for this path: {dash.md_escape(note)}.")
        if running:
            grad = (model.gradients if not model_args[2] else active_g.gradients(at=active_at, wrt=[src])).get(src)
            st.markdown(f"Running sum of paths 1–{k}: ${dash.latex_value(running[choice])}$  \n"
                        f"Reverse mode, ∂{md(dst)}/∂{md(src)}: ${dash.latex_value(grad)}$")
            if k == count:
                if dash.same_value(running[choice], grad):
                    st.success(f"All {count:,} paths summed: the running sum equals the reverse-mode gradient.",
                               icon=":material/check:")
                else:
                    st.warning(f"All {count:,} paths summed, but the sum differs from the reverse-mode gradient.")
            else:
                st.caption(f"{count - k:,} more path{'s' if count - k != 1 else ''} to add.")
    if len(paths) > 1 and contributions[0] is not None:
        with st.expander(f"Paths {start + 1}–{start + len(paths)} with their contributions"):
            matrix = any(f is not None for f in formulas)
            rows = ["| # | path |" + (" matrix formula |" if matrix else "") + " contribution | running sum |",
                    "|---|---|" + ("---|" if matrix else "") + "---|---|"]
            for i, q in enumerate(paths):
                cell = ""
                if matrix:
                    tex = formulas[i][0]
                    cell = f" ${_table_tex(tex)}$ |" if tex is not None else " — |"
                rows.append(f"| {start + i + 1} | {dash.md_escape(path_label(active_g, q.nodes))} |{cell} "
                            f"${dash.latex_value(contributions[i])}$ | "
                            f"{'$' + dash.latex_value(running[i]) + '$' if running else '—'} |")
            st.markdown("\n".join(rows))


def _table_tex(tex: str) -> str:
    """LaTeX for a Markdown table cell: no ``|`` (it would end the cell), ‖·‖ and |·| as \\Vert, \\vert."""
    return tex.replace("\\|", "\\Vert ").replace("|", "\\vert ")


def step_move(delta: int, n: int):
    st.session_state.step = min(n, max(1, st.session_state.get("step", 1) + delta))


def backward_panel():
    if not model.has_gradients:
        st.info(model.gradient_error or "The backward pass needs values for every input.")
        return
    steps = data.steps(*model_args)
    n = len(steps)
    if not 1 <= st.session_state.get("step", 1) <= n:
        st.session_state.step = n
    st.session_state.setdefault("step", 1)
    c = st.columns([1, 1, 6])
    c[0].button("◀ Previous", on_click=step_move, args=(-1, n), key="step-prev", width="stretch")
    c[1].button("Next ▶", on_click=step_move, args=(1, n), key="step-next", width="stretch")
    if n > 1:
        with c[2]:
            k = st.slider("Step", 1, n, key="step", label_visibility="collapsed")
    else:
        k = st.session_state.step = 1
    s = steps[k - 1]
    st.markdown(f"**Step {k} of {n}:** the adjoint of {md(s.node)} is final")
    big(s.equation())
    show_graph(step=k, extra_layers=("grads",), name=f"step-{k}", above_px=240)   # buttons, step, equation
    with st.expander("All steps so far"):
        st.markdown("\n".join(f"{i}. `{t.equation()}`" for i, t in enumerate(steps[:k], 1)))


def forward_panel():
    if not model.has_values:
        st.info("Forward mode needs values for every input.")
        return
    leaves = active_g.leaves
    counts = data.path_counts(*model_args)
    default = max(leaves, key=lambda n: (counts.get(n, 0), -leaves.index(n)))
    src = st.columns([3, 11])[0].selectbox("Tangents of", leaves, index=leaves.index(default),
                                            key=f"fwd-src-{model_args[2]}",
                                            format_func=lambda n: active_g.notation.name(n))
    tangents = data.tangents(*model_args, src)
    st.markdown(f"Forward mode pushes ∂node/∂{md(src)} from {md(src)} to the output "
                f"(for a tensor input: one column per entry of {md(src)}).")
    show_graph(tangent=src, extra_layers=("tangents",), name=f"forward-{src}", above_px=130)   # the select
    rows = [f"| node | ∂node/∂{md(src)} |", "|---|---|"]
    for node, t in tangents.items():
        rows.append(f"| ${nt.tex(node)}$ | ${dash.latex_value(t)}$ |")
    st.markdown("\n".join(rows))
    dst = active_g.output
    if dst in tangents and model.has_gradients:
        reverse = model.gradients.get(src) if not model_args[2] else \
            active_g.gradients(at=active_at, wrt=[src])[src]
        st.markdown(f"Forward mode at the output: ${dash.latex_value(tangents[dst])}$; "
                    f"reverse mode ∂{md(dst)}/∂{md(src)}: ${dash.latex_value(reverse)}$")


def load_answers():
    name = st.session_state.get("answers-file")
    path = dash.EXAMPLES_DIR / name if name else None
    if path is not None and path.is_file():
        st.session_state.answers = path.read_text(encoding="utf-8")


def solution_panel():
    # ---- worked solution and checker: graphviz_bp.showing.explain / graphviz_bp.showing.check (their own issue) ----
    lr = None
    explain = data.optional("explain")
    if explain is None:
        st.info("The worked solution (graphviz_bp.showing.explain) is coming.", icon=":material/hourglass_empty:")
    else:
        lr = st.columns([3, 11])[0].number_input("With one SGD step, η =", min_value=0.0, value=0.0, step=0.01,
                                                 format="%g", key="sgd-lr", help="0: no SGD step") or None
        with guarded("writing the worked solution"):
            st.markdown(data.explanation(model.prog, model.key, lr))
    st.divider()
    check = data.optional("check")
    st.markdown("**Check a hand solution**")
    if check is None:
        st.info("The checker (graphviz_bp.showing.check) is coming.", icon=":material/hourglass_empty:")
        return
    sheets = dash.answer_files(data.gallery(), model.prog[0])
    if sheets:
        st.selectbox("Answers of this example", sheets, index=None, key="answers-file", on_change=load_answers,
                     placeholder="load a hand solution shipped with this example")
    st.session_state.setdefault("answers", "")
    answers = st.text_area("Your answers, one a line: `L = 30`, `X*W - Y = [[-1, 1], …]`, `grad W = [[11, 3]]`",
                           key="answers", height=160)
    if answers.strip():
        with guarded("checking the answers"):
            ok, report = data.check_report(model.prog, model.key, answers, lr)
            head, _, rest = report.partition("\n")
            # the headline quotes the student's claim (X*W - Y): escaped, so Markdown keeps its *
            (st.success if ok else st.warning)(dash.md_escape(head),
                                               icon=":material/check:" if ok else ":material/warning:")
            if rest.strip():
                st.code(rest, language=None)


def training_panel():
    from graphviz_bp.app.tab_training import show_training_tab
    show_training_tab(st, model.prog[0], syntax=model.prog[1], key="train")


def prove_panel():
    from graphviz_bp.app.panel_prove import show_prove_panel
    show_prove_panel(st, model.prog[0], syntax=model.prog[1], at=model.at if model.has_values else None,
                     key="prove")


# views that other parts of the package add: each only when its module is installed
for _view, _module, _panel in (("Training", "graphviz_bp.app.tab_training", training_panel),
                               ("Prove / solve", "graphviz_bp.app.panel_prove", prove_panel)):
    if _view not in VIEWS and importlib.util.find_spec(_module) is not None:
        VIEWS.append(_view)
        EXTRA_PANELS.append(_panel)

with right:
    tabs = st.tabs(VIEWS, key="view", on_change="rerun")
    panels = [graph_panel, paths_panel, backward_panel, forward_panel, solution_panel,
              *EXTRA_PANELS]
    for tab, panel, view in zip(tabs, panels, VIEWS):
        with tab:
            if tab.open is False:
                continue
            with guarded(f"showing the {view.lower()} view"):
                panel()
