"""The dashboard's "Training" tab: an optimizer, its constants, steps forward and back, the per-step
table, the loss per step, and the iterates on the loss landscape (Altair, which Streamlit draws).

The page calls :func:`show_training_tab` inside its tab; ``st`` is the ``streamlit`` module (passed in
so that this module imports no Streamlit and runs under AppTest with a tiny script). The function
returns the values of the current step for the Graph tab (the parameters before step t and the
observation step t used: the pass that computed row t of the table) and keeps them in
``st.session_state[f"{key}_at"]``.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.observations import read
from ..algorithms.train import (
    FORMS,
    OPTIMIZERS,
    loss_at,
    make_optimizer,
    train,
)
from ..core.errors import InputError
from ..core.graph import parameters
from ..core.limits import Limits
from ..core.notation import fmt_number
from ..showing.training import data_text, rows, to_csv

DEFAULT_STEPS = 2
DATA_MODES = {"auto": None, "one observation a step": "stochastic", "full batch, mean": "mean",
              "full batch, sum": "sum"}
GRID_WORK = 400_000      # node evaluations spent on the landscape (nodes × observations × grid points)


def _coordinates(run) -> list[tuple[str, tuple | None]]:
    """Every scalar the run trains: (parameter, entry index or None)."""
    out = []
    for w in run.wrt:
        v = run.params0[w]
        out += [(w, None)] if np.ndim(v) == 0 else [(w, idx) for idx in np.ndindex(np.shape(v))]
    return out


def _coord_name(c) -> str:
    return c[0] if c[1] is None else f"{c[0]}[{', '.join(map(str, c[1]))}]"


def _get(params, c):
    return float(params[c[0]]) if c[1] is None else float(np.asarray(params[c[0]])[c[1]])


def _with(params, c, value):
    out = dict(params)
    if c[1] is None:
        out[c[0]] = float(value)
    else:
        a = np.array(params[c[0]], dtype=float)
        a[c[1]] = value
        out[c[0]] = a
    return out


def _span(values):
    lo, hi = min(values), max(values)
    pad = 0.25 * (hi - lo) if hi > lo else max(1.0, abs(hi))
    return lo - pad, hi + pad


MAX_PATH_POINTS = 500    # iterates drawn on the landscape (every k-th beyond that, and step t)


def landscape_chart(alt, run, t: int, coords):
    """The loss over one or two coordinates through the parameters after step t, with the iterates."""
    import pandas as pd
    path = [run.params0] + [s.params for s in run.steps]
    here = path[t]
    k = max(1, (t + 1) // MAX_PATH_POINTS)
    steps = sorted(set(range(0, t + 1, k)) | {t})
    n = max(1, len(run.graph.nodes) * len(run.observations))
    if len(coords) == 1:
        c = coords[0]
        lo, hi = _span([_get(p, c) for p in path])
        xs = np.linspace(lo, hi, max(11, min(201, GRID_WORK // n)))
        curve = pd.DataFrame({"w": xs, "loss": [loss_at(run, _with(here, c, x)) for x in xs]})
        pts = pd.DataFrame({"w": [_get(path[j], c) for j in steps], "step": steps,
                            "loss": [loss_at(run, path[j]) for j in steps]})
        x = alt.X("w:Q", title=_coord_name(c), scale=alt.Scale(zero=False))     # the iterates' span
        line = alt.Chart(curve).mark_line().encode(x, alt.Y("loss:Q", title="loss"))
        red = "#d62728"
        walk = alt.Chart(pts).mark_line(point=alt.OverlayMarkDef(color=red), color=red).encode(
            x, y="loss:Q", order="step:Q", tooltip=["step", "w", "loss"])
        return readable((line + walk).properties(height=320))
    cx, cy = coords
    side = int(max(11, min(41, (GRID_WORK // n) ** 0.5)))
    xs = np.linspace(*_span([_get(p, cx) for p in path]), side)
    ys = np.linspace(*_span([_get(p, cy) for p in path]), side)
    grid = [{"x": x, "y": y, "loss": loss_at(run, _with(_with(here, cx, x), cy, y))} for x in xs for y in ys]
    dx, dy = (xs[1] - xs[0]), (ys[1] - ys[0])
    df = pd.DataFrame(grid)
    # cells centred on the grid points, 2 % wider than the spacing so that no seam shows between them
    df["x2"], df["y2"] = df.x + 0.51 * dx, df.y + 0.51 * dy
    df["x"], df["y"] = df.x - 0.51 * dx, df.y - 0.51 * dy
    heat = alt.Chart(df).mark_rect(strokeWidth=0).encode(
        # zero=False: the axes span the iterates' region (a quantitative scale includes 0 by default,
        # which left most of the plot white when the iterates stay away from 0)
        alt.X("x:Q", title=_coord_name(cx), scale=alt.Scale(nice=False, zero=False), axis=alt.Axis(grid=False)),
        alt.X2("x2"),
        alt.Y("y:Q", title=_coord_name(cy), scale=alt.Scale(nice=False, zero=False), axis=alt.Axis(grid=False)),
        alt.Y2("y2"),
        # equal-count bands: level sets near the minimum stay visible when the loss grows fast away from it
        alt.Color("loss:Q", scale=alt.Scale(type="quantile", scheme={"name": "viridis", "count": 12}),
                  legend=alt.Legend(title="loss", format=".3g")), tooltip=["loss:Q"])
    pts = pd.DataFrame({"x": [_get(path[j], cx) for j in steps], "y": [_get(path[j], cy) for j in steps],
                        "step": steps})
    red = "#ff4b4b"
    walk = alt.Chart(pts).mark_line(point=alt.OverlayMarkDef(color=red), color=red).encode(
        x="x:Q", y="y:Q", order="step:Q", tooltip=["step", "x", "y"])
    return readable((heat + walk).properties(height=380))


def readable(chart):
    """Axis and legend text a projector shows from the back of the room (Vega-Lite's 10-11 px grey
    labels are not), in the page's text colour; the same in the PNG/SVG downloads."""
    text = "#31333F"
    return (chart.configure_axis(labelFontSize=14, titleFontSize=15, labelColor=text, titleColor=text)
            .configure_legend(labelFontSize=13, titleFontSize=14, labelColor=text, titleColor=text))


def loss_chart(alt, run, t: int):
    import pandas as pd
    df = pd.DataFrame({"step": [s.t for s in run.steps], "loss": [s.loss for s in run.steps]})
    line = alt.Chart(df).mark_line(point=True).encode(alt.X("step:Q", title="step t", axis=alt.Axis(tickMinStep=1)),
                                                      alt.Y("loss:Q", title="loss before step t"),
                                                      tooltip=["step", "loss"])
    rule = alt.Chart(pd.DataFrame({"step": [max(t, 1)]})).mark_rule(color="#ff4b4b").encode(x="step:Q")
    return readable((line + rule).properties(height=260))


def _downloads(st, chart, name: str, key: str):
    try:
        import vl_convert as vlc
    except ImportError:
        st.caption("PNG/SVG download here needs vl-convert-python (pip install vl-convert-python); "
                   "the chart's ⋯ menu saves it as SVG or PNG too.")
        return
    spec = chart.to_json()
    a, b = st.columns(2)
    a.download_button("SVG", vlc.vegalite_to_svg(spec), f"{name}.svg", "image/svg+xml", key=f"{key}_{name}_svg")
    b.download_button("PNG", vlc.vegalite_to_png(spec, scale=2), f"{name}.png", "image/png", key=f"{key}_{name}_png")


def _settings(st, g, observations, key: str, limits: Limits) -> dict:
    a, b, c = st.columns(3)
    name = a.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index("sgd"), key=f"{key}_optimizer")
    s = {"name": name, "lr": b.number_input("learning rate η", value=0.1, min_value=0.0, step=0.01,
                                            format="%g", key=f"{key}_lr"),
         "steps": int(c.number_input("steps", min_value=1, max_value=limits.max_train_steps, value=DEFAULT_STEPS,
                                     step=1, key=f"{key}_steps"))}
    cols = st.columns(4)
    if name in ("momentum", "nesterov"):
        s["momentum"] = cols[0].number_input("momentum μ (α on the sheets)", 0.0, 0.999, 0.9, 0.05,
                                             format="%g", key=f"{key}_momentum")
    if name == "rmsprop":
        s["alpha"] = cols[0].number_input("α", 0.0, 0.9999, 0.99, 0.01, format="%g", key=f"{key}_alpha")
    if name == "adam":
        s["beta1"] = cols[0].number_input("β₁", 0.0, 0.9999, 0.9, 0.01, format="%g", key=f"{key}_beta1")
        s["beta2"] = cols[1].number_input("β₂", 0.0, 0.9999, 0.999, 0.001, format="%g", key=f"{key}_beta2")
        s["bias_correction"] = cols[3].checkbox("bias correction", True, key=f"{key}_bias")
    if name in ("rmsprop", "adam", "adagrad"):
        s["eps"] = cols[2].number_input("ε", 0.0, 1.0, 1e-10 if name == "adagrad" else 1e-8, format="%g",
                                        key=f"{key}_eps")
    if name in ("momentum", "nesterov", "rmsprop"):
        s["form"] = cols[3].radio("form", FORMS, horizontal=True, key=f"{key}_form")
    a, b, c = st.columns(3)
    mode = DATA_MODES[a.selectbox("Data", list(DATA_MODES), key=f"{key}_data",
                                  help="auto: gd on the full batch (mean), the others one observation a step")]
    s["batch"] = ("mean" if name == "gd" else None) if mode is None else (None if mode == "stochastic" else mode)
    labels = [o.label for o in observations] or [1]
    if s["batch"] is None and len(labels) > 1:
        text = b.text_input("order of the observations", ",".join(map(str, labels)), key=f"{key}_order")
        try:
            s["order"] = [int(k) for k in text.replace(" ", "").split(",") if k]
        except ValueError:
            raise InputError(f"order {text!r}: expected observation numbers like 2,1", kind="usage") from None
    inputs = [n.name for n in g.nodes if n.kind == "input"]
    s["wrt"] = c.multiselect("parameters", inputs, default=parameters(g) or inputs[:1], key=f"{key}_wrt")
    return s


def show_training_tab(st, program_text: str, syntax: str = "auto", key: str = "train",
                      limits: Limits | None = None) -> dict | None:
    """Draw the Training tab; return ``{"at": values, "step": t, "caption": text}`` for the Graph tab
    (also in ``st.session_state[f"{key}_at"]``), or None when there is nothing to show."""
    import altair as alt
    limits = limits or Limits.from_env()
    try:
        g, observations = read(program_text, syntax=syntax, limits=limits)
        s = _settings(st, g, observations, key, limits)
        if not s["wrt"]:
            st.info("Choose the parameters to train.")
            return None
        opt = make_optimizer(s["name"], lr=s["lr"], momentum=s.get("momentum"), alpha=s.get("alpha"),
                             beta1=s.get("beta1"), beta2=s.get("beta2"), eps=s.get("eps"),
                             form=s.get("form", "pytorch"), bias_correction=s.get("bias_correction", True))
        sig = (program_text, syntax, repr(sorted(s.items())), repr(limits))
        cached = st.session_state.get(f"{key}_run")
        if cached is not None and cached[0] == sig:        # a click on back/forward: no new run
            run = cached[1]
        else:
            run = train(g, opt, s["steps"], observations, order=s.get("order"), batch=s["batch"], wrt=s["wrt"])
            st.session_state[f"{key}_run"] = (sig, run)
    except InputError as exc:
        st.error(str(exc))
        return None
    st.markdown(f"**{opt.variant}**: ${opt.rule_tex}$  \n{data_text(run).capitalize()}.")   # no space inside $…$
    if run.diverged:
        st.warning(run.diverged)
    n = len(run.steps)
    tkey = f"{key}_t"
    if tkey not in st.session_state or st.session_state[tkey] > n:
        st.session_state[tkey] = n

    def shift(d):
        st.session_state[tkey] = min(n, max(0, st.session_state[tkey] + d))

    a, b, c = st.columns([1, 1, 6])
    a.button("◀ back", on_click=shift, args=(-1,), key=f"{key}_back", disabled=n == 0)
    b.button("forward ▶", on_click=shift, args=(1,), key=f"{key}_forward", disabled=n == 0)
    if n >= 1:
        c.slider("step", 0, n, key=tkey)
    t = min(st.session_state[tkey], n)
    table = rows(run)
    per_step = max(1, len(run.wrt))
    st.dataframe({h: [r[j] for r in table[1:1 + per_step * (t + 1)]] for j, h in enumerate(table[0])},
                 hide_index=True, width="stretch")
    st.download_button("table as CSV", to_csv(run), "training.csv", "text/csv", key=f"{key}_csv")
    params = run.steps[t - 1].params if t else run.params0
    st.caption(f"after step {t}: " + "; ".join(f"{w} = {_short(params[w])}" for w in run.wrt))
    if run.steps:
        chart = loss_chart(alt, run, t)
        st.altair_chart(chart, width="stretch")
        _downloads(st, chart, "loss", key)
    coords = _coordinates(run)
    if coords:
        names = [_coord_name(c) for c in coords]
        chosen = coords if len(coords) <= 2 else [coords[names.index(x)] for x in st.multiselect(
            "landscape over (two coordinates; the others stay at step t's values)", names, default=names[:2],
            max_selections=2, key=f"{key}_coords")]
        if chosen:
            st.caption("The loss on all observations (" + ("sum" if run.batch == "sum" else "mean") +
                       ") around the iterates; red: the path of the parameters up to step t.")
            chart = landscape_chart(alt, run, t, chosen)
            st.altair_chart(chart, width="stretch")
            _downloads(st, chart, "landscape", key)
    return _current(st, run, t, key)


def _short(v) -> str:
    from ..core.notation import fmt_value
    return fmt_value(v, 6) if np.ndim(v) else fmt_number(v, 6)


def _current(st, run, t: int, key: str) -> dict:
    """The values of row t's pass: the parameters before step t and its observation (for the Graph tab)."""
    if t >= 1:
        step, before = run.steps[t - 1], (run.steps[t - 2].params if t >= 2 else run.params0)
        label = step.observations[0] if len(step.observations) == 1 else None
        caption = f"step {t}: the pass that gave row {t} (parameters before the step" + \
            (f", observation {label})" if label is not None else ")")
    else:
        before, label, caption = run.params0, run.order[0] if run.order else None, "the start"
    at = dict(run.at)
    if label is not None:
        at.update(next(o.values for o in run.observations if o.label == label))
    at.update(before)
    out = {"at": at, "step": t, "caption": caption}
    st.session_state[f"{key}_at"] = out
    return out
