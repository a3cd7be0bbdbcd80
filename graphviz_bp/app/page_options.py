"""The dashboard's drawing options and page styles: the layers, theme, direction, size, presentation,
scalar-view and layout controls above the views, and the CSS of the page and of presentation mode."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

LAYERS = {                       # renderer layer -> what the toggle says
    "values": "values",
    "shapes": "shapes",
    "locals": "local derivatives (symbolic)",
    "numeric": "local derivatives (at the point)",
    "grads": "gradients (adjoints)",
}
DEFAULT_LAYERS = ["values", "locals", "grads"]
try:                               # issue 14's matrix-form layer, where the renderer has it
    from graphviz_bp.showing.render import FORMULAS as _FORMULAS
    LAYERS[_FORMULAS] = "formulas (matrix form)"
except ImportError:
    pass
SIZES = {"fit": None, "100 %": 1.0, "150 %": 1.5, "200 %": 2.0}
SVG_ENGINE = "Graphviz SVG (server)"
BROWSER_ENGINE = "in the browser"

CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 2.2rem; padding-bottom: 2rem;
                                      padding-left: 2.5rem; padding-right: 2.5rem;}
.st-key-program textarea {font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.95rem;}
[data-testid="stMarkdownContainer"] .katex-display {padding-top: 0.25em; padding-bottom: 0.25em;}
</style>"""
# The padding: Streamlit clips display math vertically (overflow-y hidden, so that a wide formula
# scrolls sideways) at the formula's own height, where KaTeX puts the bar of b̄ or d̄ right on the
# edge; at 1× zoom the bar's one pixel row fell outside and "b̄ = d̄λ" read "b = dλ". The padding is
# inside the clipped box.

# Presentation: the editor column and Streamlit's header are hidden, the views take the whole
# width and the graph the whole height (browser full screen, F11, hides the rest). The editor
# column is still built, hidden, because the program and its values live there.
PRESENTATION_CSS = """<style>
div[data-testid="stColumn"]:has(.st-key-editor) {display: none;}
div[data-testid="stColumn"]:has(.st-key-views) {width: 100% !important; flex: 1 1 100% !important;
                                                 max-width: 100% !important;}
header[data-testid="stHeader"] {display: none;}
[data-testid="stMainBlockContainer"] {padding-top: 0.8rem; padding-left: 1.2rem; padding-right: 1.2rem;}
</style>"""


def apply_styles() -> bool:
    """The page's CSS, and presentation mode's when it is on; True in presentation mode."""
    st.markdown(CSS, unsafe_allow_html=True)
    presenting = bool(st.session_state.get("present"))
    if presenting:
        st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)
    return presenting


@dataclass
class DrawingOptions:
    layers: list
    theme: str
    rankdir: str
    size: str
    scalar: bool
    engine: str


def drawing_options() -> DrawingOptions:
    """The compact block of controls above the views (in the current container)."""
    layers = st.pills("Layers", list(LAYERS), selection_mode="multi", default=DEFAULT_LAYERS,
                      format_func=LAYERS.get, key="layers")
    c = st.columns([5, 8, 7, 4, 4, 5], vertical_alignment="bottom")
    theme = c[0].segmented_control("Theme", ["light", "dark", "print"], default="light", key="theme",
                                   required=True)
    rankdir = c[1].segmented_control("Direction", ["auto", "LR", "TB"], default="auto", key="rankdir",
                                     required=True,
                                     format_func={"auto": "auto", "LR": "left → right", "TB": "top → bottom"}.get,
                                     help="auto: left → right for graphs up to six steps deep, top → bottom "
                                          "for deeper ones (they stay readable on a 16:9 slide)")
    size = c[2].segmented_control("Size", list(SIZES), default="fit", key="size", required=True,
                                  help="fit: as wide as the column and as tall as the screen, but never "
                                       "smaller than 12 px text (a bigger graph scrolls); 100 % – 200 %: the "
                                       "graph at that size, drag the scroll bars or use the wheel to pan")
    c[3].toggle("Presentation", key="present",
                help="For the projector: hides the editor, the graph takes the whole width and height. "
                     "Add the browser's full screen (F11) to hide the rest.")
    scalar = c[4].toggle("Scalar view", key="scalar",
                         help="Tensor programs as neurons and weights: every tensor operation expanded "
                              "into element nodes (W₁[0,0], h[1], …).")
    engine = c[5].selectbox("Layout", [SVG_ENGINE, BROWSER_ENGINE], key="engine",
                            help="Graphviz SVG made on the server keeps Graphviz's own font metrics, so "
                                 "the matrices in the labels line up; st.graphviz_chart lays the graph "
                                 "out in the browser in Streamlit's font, where they do not.")
    return DrawingOptions(layers, theme, rankdir, size, scalar, engine)
