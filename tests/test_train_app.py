"""The dashboard's Training tab (graphviz_bp/app/tab_training.py) through Streamlit's AppTest,
with a tiny script that calls show_training_tab as the page does."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytest.importorskip("altair")
from streamlit.testing.v1 import AppTest  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "graphviz_bp" / "examples"

SCRIPT = """
import streamlit as st
from graphviz_bp.app.tab_training import show_training_tab
program = st.session_state.get("program_text", "")
out = show_training_tab(st, program)
if out is not None:
    st.session_state["returned"] = out
"""


def start(program: str) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.session_state["program_text"] = program
    return at.run()


def cell_column(at, header):
    df = at.dataframe[0].value
    return [str(x) for x in df[header]]


def no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.slow
def test_two_sgd_steps_of_the_sheet_then_back_and_forward():
    at = start((EXAMPLES / "linear_regression_steps.txt").read_text())
    no_exception(at)
    assert cell_column(at, "new w") == ["0", "0.4", "1.28"]       # sgd, η = 0.1, observation 1 then 2
    assert at.session_state["returned"]["step"] == 2
    assert at.session_state["returned"]["at"]["w"] == pytest.approx(0.4)    # row 2's pass: before step 2
    assert at.session_state["returned"]["at"]["x"] == 2.0
    at.button(key="train_back").click().run()
    no_exception(at)
    assert cell_column(at, "new w") == ["0", "0.4"]
    assert at.session_state["returned"]["step"] == 1
    at.button(key="train_forward").click().run()
    assert cell_column(at, "new w") == ["0", "0.4", "1.28"]
    assert len(at.get("vega_lite_chart")) == 2       # the loss per step and the landscape


@pytest.mark.slow
def test_choosing_adam_with_the_sheets_constants():
    at = start((EXAMPLES / "linear_regression_steps.txt").read_text())
    at.selectbox(key="train_optimizer").select("adam").run()
    at.number_input(key="train_beta2").set_value(0.9).run()
    no_exception(at)
    assert cell_column(at, "new w") == ["0", "0.1", "0.190797"]
    assert cell_column(at, "m") == ["", "-0.4", "-1.48"]


@pytest.mark.slow
def test_gd_is_the_full_batch_mean():
    at = start((EXAMPLES / "linear_regression_steps.txt").read_text())
    at.selectbox(key="train_optimizer").select("gd").run()
    no_exception(at)
    assert cell_column(at, "new w") == ["0", "0.8", "1.2"]
    assert cell_column(at, "obs") == ["", "1,2", "1,2"]


@pytest.mark.slow
def test_two_parameters_draw_the_landscape_and_a_bad_program_is_an_error():
    at = start("x_1 = 1; x_2 = 2; y_1 = 2; y_2 = 3\nw = 0; b = 0\nL = (y - w*x - b)^2\n")
    no_exception(at)
    assert len(at.get("vega_lite_chart")) == 2
    import json
    for chart in at.get("vega_lite_chart"):   # readable from the back of a room (Vega-Lite's default: 10-11 px)
        axis = json.loads(chart.proto.spec)["config"]["axis"]
        assert axis["labelFontSize"] >= 14 and axis["titleFontSize"] >= 14
    # the landscape's axes span the iterates (w, b stay in (−0.6, 2)), not [0, …] with most of it white
    spec = json.loads(at.get("vega_lite_chart")[1].proto.spec)
    heat = spec["layer"][0]["encoding"]
    assert heat["x"]["scale"]["zero"] is False and heat["y"]["scale"]["zero"] is False
    assert not at.error
    at = start("L = (y - w*x")
    no_exception(at)
    assert at.error and "line 1" in at.error[0].value


@pytest.mark.slow
def test_divergence_is_a_warning_not_a_traceback():
    at = start((EXAMPLES / "linear_regression_steps.txt").read_text())
    at.number_input(key="train_lr").set_value(10.0).run()
    at.number_input(key="train_steps").set_value(500).run()
    no_exception(at)
    assert at.warning and "diverged at step 98" in at.warning[0].value
