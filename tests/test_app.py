"""The dashboard (graphviz_bp/app/page.py), panel by panel, through Streamlit's AppTest.

Every number the page shows is compared with the library's own result for the
same program and inputs, formatted the way the page formats it.
"""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import graphviz_bp as gbp  # noqa: E402
from graphviz_bp.app import dashboard as dash  # noqa: E402
from graphviz_bp.core.notation import fmt_value  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "graphviz_bp" / "app" / "page.py")
EXAMPLES = ROOT / "graphviz_bp" / "examples"
E2 = (EXAMPLES / "l1_least_squares.txt").read_text(encoding="utf-8")
E7 = (EXAMPLES / "mlp_relu_softmax.txt").read_text(encoding="utf-8")
HAVE_RENDER = importlib.util.find_spec("graphviz_bp.showing.render") is not None
needs_render = pytest.mark.skipif(not HAVE_RENDER, reason="graphviz_bp.showing.render has not landed yet")


def ladder(layers: int) -> str:
    """x → (sin + tanh) → … : 2^layers paths from x to the output."""
    lines, prev = ["x = 0.3"], "x"
    for k in range(1, layers + 1):
        lines += [f"s{k} = sin({prev})", f"t{k} = tanh({prev})", f"a{k} = s{k} + t{k}"]
        prev = f"a{k}"
    return "\n".join(lines)


def start(program: str | None = None, view: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    if program is not None:
        at.text_area(key="program").set_value(program)
    if view is not None:
        at.session_state["view"] = view
    if program is not None or view is not None:
        at.run()
    assert not at.exception
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def page_text(at) -> str:
    return "\n".join(texts(at.markdown) + texts(at.caption) + texts(at.info) + texts(at.success)
                     + texts(at.warning) + texts(at.error))


def input_box(at, name):
    (box,) = [t for t in at.text_input if t.key.startswith(f"input:{name}:")]
    return box


def svgs(at) -> list[str]:
    return [m.value for m in at.markdown if "<svg" in m.value]


def svg_words(svg: str) -> list[str]:
    """The words the drawing shows (text of its <text> elements)."""
    import html as _html
    import re
    text = " ".join(re.sub(r"<[^>]+>", " ", t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))
    return _html.unescape(text).replace("\u2212", "-").split()          # a typographic minus is a minus


def no_traceback(at):
    assert not at.exception
    for e in at.error:
        assert "Traceback" not in e.value and 'File "' not in e.value


# --- opening ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_opens_on_e2_with_its_value_and_gradients():
    at = start()
    assert at.selectbox(key="example").value.startswith("E2 ·")
    assert "lambda = -1" in at.text_area(key="program").value
    assert not at.error
    g = gbp.parse(E2)
    value = g.evaluate()["L"]
    grads = g.gradients()
    text = page_text(at)
    assert f"= {dash.latex_value(value)}$" in text                       # L = 14
    for name in g.leaves:                                                # one row per input, shaped
        assert dash.latex_value(grads[name]) in text
    assert dash.latex_value(grads["W"]) == r"\begin{bmatrix}11 & 3\end{bmatrix}"
    assert [t.label for t in at.tabs][:5] == ["Graph", "Paths", "Backward pass", "Forward mode", "Worked solution"]


def test_inputs_are_detected_with_their_defaults():
    at = start()
    g = gbp.parse(E2)
    for name in g.leaves:
        assert input_box(at, name).value == dash.value_literal(g.node(name).default)


def test_gallery_lists_every_example_by_name():
    at = start()
    files = sorted(EXAMPLES.glob("*.txt")) + sorted(EXAMPLES.glob("*.tex"))
    options = at.selectbox(key="example").options
    assert len(options) == len(files)
    assert options == [e.title for e in dash.gallery()]
    for f in files:
        if f.suffix == ".txt":                  # the file's first comment line, lettered when numbers repeat
            first = f.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
            number, _, rest = first.partition(" ")
            assert any(o == first or (o.startswith(number) and o.endswith(" " + rest)) for o in options), first


@pytest.mark.slow
def test_every_example_loads_without_an_error():
    at = start()
    for title in at.selectbox(key="example").options:
        t0 = time.perf_counter()
        at.selectbox(key="example").set_value(title).run()
        dt = time.perf_counter() - t0
        no_traceback(at)
        assert not at.error, (title, texts(at.error))
        print(f"{title[:40]:40s} {dt:.2f} s")


@pytest.mark.slow
def test_example_without_defaults_is_symbolic_until_given_values():
    at = start((EXAMPLES / "lp_penalty.txt").read_text(encoding="utf-8"))
    assert not at.error
    assert any("No value yet" in i.value for i in at.info)
    g = gbp.parse((EXAMPLES / "lp_penalty.txt").read_text(encoding="utf-8"))
    from graphviz_bp.algorithms.symbolic import symbolic_gradients
    sym = symbolic_gradients(g)
    assert g.notation.expr(str(sym["w"])) in page_text(at)                # as the graph writes it
    input_box(at, "w").set_value("[1, 2]")
    input_box(at, "alpha").set_value("0.5")
    input_box(at, "p").set_value("3").run()
    assert not at.error and not any("No value yet" in i.value for i in at.info)
    grads = g.gradients(at={"w": np.array([1.0, 2.0]), "alpha": 0.5, "p": 3.0})
    assert dash.latex_value(grads["w"]) in page_text(at)
    assert dash.latex_value(grads["w"]) == r"\begin{bmatrix}1.5 \\ 6\end{bmatrix}"


# --- editing ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_editing_the_program_updates_values_and_gradients():
    edited = E2.replace("lambda = -1", "lambda = 2")
    at = start(edited)
    g = gbp.parse(edited)
    assert input_box(at, "lambda").value == "2"
    text = page_text(at)
    assert f"= {dash.latex_value(g.evaluate()['L'])}$" in text
    assert dash.latex_value(g.gradients()["W"]) in text
    assert dash.latex_value(g.gradients()["W"]) != dash.latex_value(gbp.parse(E2).gradients()["W"])


@pytest.mark.slow
def test_editing_an_input_keeps_the_program():
    at = start()
    input_box(at, "W").set_value("[[2, -1]]").run()
    assert not at.error
    g = gbp.parse(E2)
    at_w = {"W": np.array([[2.0, -1.0]])}
    assert f"= {dash.latex_value(g.evaluate(at_w)['L'])}$" in page_text(at)
    assert dash.latex_value(g.gradients(at=at_w)["W"]) in page_text(at)
    assert "W = [[1, 1]]" in at.text_area(key="program").value


@pytest.mark.slow
def test_a_bad_input_value_is_an_error_never_evaluated():
    at = start()
    input_box(at, "W").set_value('__import__("os").system("true")').run()
    no_traceback(at)
    assert any("input W" in e.value for e in at.error)
    # consistent: the inputs as typed, the drawing of the same program without values, said so
    assert "= 14$" not in page_text(at)
    assert any("without values until the error above is fixed" in w.value for w in at.warning)
    (svg,) = svgs(at)
    assert "W" in svg_words(svg) and "14" not in svg_words(svg)


@pytest.mark.slow
def test_a_bad_program_shows_line_and_column_and_keeps_the_last_graph():
    at = start()
    at.text_area(key="program").set_value("x = 1\ny = x +* 2").run()
    no_traceback(at)
    (err,) = at.error
    assert err.value.startswith("line 2, column 8:")
    assert any("last program that worked" in w.value for w in at.warning)   # a warning box, not a caption
    assert "= 14$" in page_text(at)                                      # E2's table is still there
    assert sorted(t.key.split(":")[1] for t in at.text_input) == sorted(gbp.parse(E2).leaves)   # E2's inputs
    # the library's own message, word for word
    with pytest.raises(gbp.InputError) as exc:
        gbp.parse("x = 1\ny = x +* 2")
    assert err.value == dash.md_escape(str(exc.value))     # issue 19: shown as text, not Markdown


def shown_inputs(at) -> list[str]:
    return sorted(t.key.split(":")[1] for t in at.text_input if t.key.startswith("input:"))


def assert_one_program(at):
    """Inputs, drawing and table belong to one program (issue 18: they used to mix two)."""
    names = shown_inputs(at)
    for svg in svgs(at):
        assert set(names) <= set(svg_words(svg)), (names, svg_words(svg)[:30])
    table = [r for r in page_text(at).splitlines() if r.startswith("| $")]
    assert len(table) == len(names)


@pytest.mark.slow
def test_a_shape_error_names_the_place():
    at = start("A = [[1, 2]]\nB = [[1, 2, 3]]\nf = sum(A @ B)")
    no_traceback(at)
    assert at.error and at.error[0].value.startswith("line 3")
    # one line, our words: no NumPy internals, no repetition
    (err,) = at.error
    assert "\n" not in err.value and "gufunc" not in err.value and "signature" not in err.value
    assert "1×2" in err.value and "1×3" in err.value
    # consistent: either the new program without values, or the last good one, said in a warning box
    assert_one_program(at)
    if shown_inputs(at) == ["A", "B"]:
        assert "= 14$" not in page_text(at)
    else:
        assert any("last program that worked" in w.value for w in at.warning) and "= 14$" in page_text(at)


def test_python_is_never_run():
    at = start('f = __import__("os").system("touch /tmp/gbp-pwned")')
    no_traceback(at)
    assert at.error
    assert not Path("/tmp/gbp-pwned").exists()


# --- paths -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_paths_panel_lists_factors_contributions_and_the_running_sum():
    at = start(view="Paths")
    g = gbp.parse(E2)
    assert at.selectbox(key="path-src-False").value == "W"               # the input with the most paths
    text = page_text(at)
    assert f"**{gbp.count_paths(g, 'W')}** paths from W to L" in text
    paths = list(gbp.derivative_paths(g, "W"))
    radio = at.selectbox(key="path-choice-W-0")
    assert len(radio.options) == len(paths) == 2
    first = paths[0]
    for factor in first.factors:
        assert f"`{factor}`" in text
    for u, v in first.edges:
        num = g.local_numeric(u, v)
        if num is not None:
            assert dash.latex_value(num) in text
    assert f"Contribution of path 1: ${dash.latex_value(first.value)}$" in text
    assert not at.success                                                # 1 of 2 paths: not yet the total
    radio.set_value(1).run()
    text = page_text(at)
    assert f"Contribution of path 2: ${dash.latex_value(paths[1].value)}$" in text
    total = paths[0].value + paths[1].value
    assert dash.latex_value(total) in text
    np.testing.assert_allclose(total, g.gradients()["W"])
    assert any("equals the reverse-mode gradient" in s.value for s in at.success)


@pytest.mark.slow
def test_paths_of_a_ladder_with_2_to_the_60_paths_stay_instant():
    at = start(ladder(60), view="Paths")
    g = gbp.parse(ladder(60))
    assert gbp.count_paths(g, "x") == 2 ** 60
    assert f"**{2 ** 60:,}** paths from x to a₆₀ (= 2⁶⁰)" in page_text(at)
    assert "path 1: x → s₁ → a₁ → s₂" in page_text(at)
    page = at.number_input(key="path-page-x")
    assert page.max == g.limits.max_paths_listed // dash.PAGE_SIZE
    t0 = time.perf_counter()
    page.set_value(3).run()
    dt = time.perf_counter() - t0
    no_traceback(at)
    assert len(at.selectbox(key="path-choice-x-2").options) == dash.PAGE_SIZE
    assert at.selectbox(key="path-choice-x-2").options[0].startswith("21. x → ")
    print(f"ladder 2^60, page 3: {dt:.2f} s")


# --- backward pass and forward mode ---------------------------------------------------------

@pytest.mark.slow
def test_backward_stepper_walks_the_recorded_steps():
    at = start(view="Backward pass")
    g = gbp.parse(E2)
    steps = g.reverse(record=True).steps
    assert at.slider(key="step").value == 1
    assert steps[0].equation() in page_text(at) or any(steps[0].equation() in h.value for h in at.markdown)
    at.button(key="step-next").click().run()
    assert at.slider(key="step").value == 2
    assert any(steps[1].equation().replace("<", "&lt;") in m.value for m in at.markdown)
    at.slider(key="step").set_value(len(steps)).run()
    assert any(steps[-1].equation() in m.value for m in at.markdown)
    assert f"Step {len(steps)} of {len(steps)}" in page_text(at)
    at.button(key="step-next").click().run()                             # stays at the end
    assert at.slider(key="step").value == len(steps)
    at.button(key="step-prev").click().run()
    assert at.slider(key="step").value == len(steps) - 1


@pytest.mark.slow
def test_forward_mode_gives_the_same_gradient():
    from graphviz_bp.algorithms.forward import forward
    at = start(view="Forward mode")
    g = gbp.parse(E2)
    at.selectbox(key="fwd-src-False").set_value("lambda").run()
    tangents = forward(g, "lambda")
    text = page_text(at)
    for t in tangents.values():
        assert dash.latex_value(t) in text
    assert f"reverse mode ∂L/∂λ: ${dash.latex_value(g.gradients()['lambda'])}$" in text
    assert tangents["L"] == g.gradients()["lambda"]


# --- scalar view, solution, downloads, graph -----------------------------------------------------

@pytest.mark.slow
def test_scalar_view_of_a_tensor_program():
    at = start(E7, view="Paths")
    at.toggle(key="scalar").set_value(True).run()
    no_traceback(at)
    assert not at.error
    from graphviz_bp.algorithms.scalar_view import scalar_view
    g = gbp.parse(E7)
    s = scalar_view(g)
    src = at.selectbox(key="path-src-True")
    assert len(src.options) == len(s.leaves)
    name = src.value
    assert name in s.leaves
    assert f"**{gbp.count_paths(s, name):,}** path" in page_text(at)
    if len(s) > g.limits.max_render_nodes:
        assert any("scalar view has" in i.value for i in at.info)


@pytest.mark.slow
def test_worked_solution_tab_is_there():
    at = start(view="Worked solution")
    no_traceback(at)
    text = page_text(at)
    if importlib.util.find_spec("graphviz_bp.showing.explain") is None:
        assert "worked solution (graphviz_bp.showing.explain) is coming" in text
        return
    from graphviz_bp.showing.explain import explain
    assert not at.error
    assert explain(gbp.parse(E2), fmt="md").strip() in [m.strip() for m in texts(at.markdown)]
    at.number_input(key="sgd-lr").set_value(0.1).run()
    assert explain(gbp.parse(E2), fmt="md", sgd_lr=0.1).strip() in [m.strip() for m in texts(at.markdown)]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("graphviz_bp.showing.check") is None, reason="graphviz_bp.showing.check not there yet")
def test_checker_finds_the_wrong_step():
    from graphviz_bp.showing.check import check
    at = start(view="Worked solution")
    g = gbp.parse(E2)
    at.text_area(key="answers").set_value("||W||_1 = 2\nL = 30").run()
    no_traceback(at)
    report = check(g, "||W||_1 = 2\nL = 30")
    assert not report.ok
    assert at.warning and at.warning[0].value == report.text().partition("\n")[0]
    at.text_area(key="answers").set_value("L = 14\ngrad W = [[11, 3]]").run()
    assert check(g, "L = 14\ngrad W = [[11, 3]]").ok
    assert at.success and not at.warning
    sheets = sorted(p.name for p in EXAMPLES.glob("l1_least_squares*.answers"))
    if sheets:                                                       # the example's own hand solutions
        at.selectbox(key="answers-file").set_value(sheets[0]).run()
        assert at.text_area(key="answers").value == (EXAMPLES / sheets[0]).read_text(encoding="utf-8")


@pytest.mark.slow
def test_an_internal_failure_is_a_short_message_not_a_traceback(monkeypatch):
    import graphviz_bp.algorithms.reverse as reverse_module
    at = start()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug deep inside")
    monkeypatch.setattr(reverse_module, "reverse", broken)
    at.text_area(key="program").set_value(E2 + "\n# a program nothing has cached yet").run()
    assert not at.exception
    (err,) = at.error
    assert "Something went wrong" in err.value and "a bug deep inside" not in err.value
    # consistent: the new program's drawing without values (the failure is in the gradients)
    assert "= 14$" not in page_text(at) and svgs(at)


def test_gradients_json_is_the_cli_document():
    import json
    g = gbp.parse(E2)
    doc = json.loads(dash.gradients_json("L", g.evaluate()["L"], g.gradients()))
    assert doc["value"] == 14 and doc["gradients"]["W"] == [[11, 3]] and doc["output"] == "L"


@pytest.mark.slow
@needs_render
def test_graph_tab_draws_the_svg_with_downloads():
    at = start()
    (h,) = svgs(at)
    assert "14" in svg_words(h)
    labels = [b.label for b in at.get("download_button")]
    assert labels[:3] == ["SVG", "PNG", "DOT"] and "Gradients (JSON)" in labels


@pytest.mark.slow
@needs_render
def test_display_controls_change_the_drawing():
    at = start()
    (before,) = svgs(at)
    grads = gbp.parse(E2).gradients()
    assert "∂L/∂W" in "".join(svg_words(before))
    at.pills(key="layers").set_value(["values"]).run()               # gradients off
    (h,) = svgs(at)
    assert "∂L/∂W" not in "".join(svg_words(h)) and fmt_value(grads["W"]) not in " ".join(svg_words(h))
    at.segmented_control(key="rankdir").set_value("TB").run()
    at.segmented_control(key="theme").set_value("dark").run()
    (tb,) = svgs(at)
    assert not at.error and tb != h
    at.segmented_control(key="size").set_value("150 %").run()
    (big_,) = svgs(at)
    assert 'width="' in big_ and "clamp(" not in big_ and "clamp(" in tb     # 150 %: a fixed size; fit: clamped
    at.selectbox(key="engine").set_value("in the browser").run()
    assert not svgs(at) and len(at.get("graphviz_chart")) == 1
    assert not at.error


@pytest.mark.slow
@needs_render
def test_graph_follows_the_edited_program():
    at = start(E2 + "\nM = L * lambda")
    (h,) = svgs(at)
    g = gbp.parse(E2 + "\nM = L * lambda")
    words = svg_words(h)
    assert g.output == "M" and "M" in words
    assert fmt_value(g.evaluate()["M"]) in words


@needs_render
@pytest.mark.parametrize("view", ["Paths", "Backward pass", "Forward mode"])
def test_every_view_draws_its_graph(view):
    at = start(view=view)
    no_traceback(at)
    assert not at.error
    assert len(svgs(at)) == 1


@needs_render
def test_e7_server_side_work_is_well_under_a_second():
    at = start()
    at.text_area(key="program").set_value(E7 + "\n")                      # a new program: nothing cached
    t0 = time.perf_counter()
    at.run()
    dt = time.perf_counter() - t0
    assert not at.error and len(svgs(at)) == 1
    print(f"E7 edit → graph in AppTest: {dt:.2f} s")


# --- LaTeX pasted from a sheet, the notation switch -------------------------------------------------

SEED_000 = Path("/work/shared/seeds/000_9b6579242660973a.txt")
# seed 000, lines 6 and 18, exactly as they stand in the sheet (formula first, then the data)
SHEET_FORMULA = r"$$L = \|X * W - Y\|_2^2 + \lambda * \|W\|_1$$"
SHEET_DATA = (r"$$X = \begin{bmatrix} -1 \\ 1 \\ -2 \end{bmatrix}; \quad Y = \begin{bmatrix} 0 & -2 \\ 0 & -2 "
              r"\\ 0 & -2 \end{bmatrix}; \quad W = \begin{bmatrix} 1 & 1 \end{bmatrix}; \quad \lambda = -1$$")
PASTED = SHEET_FORMULA + "\n" + SHEET_DATA
W_GRAD_14 = r"\begin{bmatrix}11 & 3\end{bmatrix}"


def error_of(text: str, syntax: str = "auto") -> gbp.InputError:
    with pytest.raises(gbp.InputError) as exc:
        gbp.parse(text, syntax=syntax)
    return exc.value


def test_the_pasted_lines_are_the_seed_sheet_word_for_word():
    if not SEED_000.exists():
        pytest.skip(f"{SEED_000} is not here")
    lines = SEED_000.read_text(encoding="utf-8").splitlines()
    assert lines[5] == SHEET_FORMULA and lines[17] == SHEET_DATA


@pytest.mark.slow
def test_latex_pasted_from_the_sheet_gives_l_14_and_the_gradient():
    at = start(PASTED)
    no_traceback(at)
    assert not at.error
    assert at.segmented_control(key="syntax").value == "auto"
    g = gbp.parse(PASTED)
    assert g.syntax == "latex" and g.evaluate()["L"] == 14.0
    text = page_text(at)
    assert "Read as LaTeX (auto-detected)" in text
    assert "$\\mathrm{L} = 14$" in text or "L = 14$" in text
    assert W_GRAD_14 in text                                            # ∂L/∂W = [[11, 3]]
    np.testing.assert_array_equal(g.gradients()["W"], [[11.0, 3.0]])
    for name in ("X", "Y", "W", "lambda"):                               # inputs detected with their defaults
        assert input_box(at, name).value == dash.value_literal(g.node(name).default)
    assert input_box(at, "W").value == "[[1, 1]]" and input_box(at, "lambda").value == "-1"
    (exp,) = at.expander
    assert exp.label == "In the plain notation"
    (code,) = at.code
    assert code.value == g.text.rstrip("\n")
    assert "L = ||X * W - Y||_2^2 + lambda * ||W||_1" in code.value
    if HAVE_RENDER:
        (h,) = svgs(at)
        words = svg_words(h)
        assert "14" in words and "[[11," in words and "3]]" in words


@pytest.mark.slow
def test_plain_notation_on_the_pasted_latex_names_line_and_column():
    at = start(PASTED)
    at.segmented_control(key="syntax").set_value("plain").run()
    no_traceback(at)
    (err,) = at.error
    exc = error_of(PASTED, "plain")
    assert (exc.line, exc.column) == (1, 1)
    assert err.value == dash.md_escape(str(exc)) and err.value.startswith("line 1, column 1: ")
    assert any("looks like LaTeX but Notation is Plain" in i.value for i in at.info)
    assert any("last program that worked" in w.value for w in at.warning)
    assert "= 14$" in page_text(at) and W_GRAD_14 in page_text(at)    # the last good graph stays
    assert "Read as LaTeX" not in page_text(at)
    at.segmented_control(key="syntax").set_value("latex").run()         # forced LaTeX reads it again
    assert not at.error and "Read as LaTeX (as chosen)" in page_text(at)
    at.segmented_control(key="syntax").set_value("auto").run()
    assert not at.error and "Read as LaTeX (auto-detected)" in page_text(at)


@pytest.mark.slow
def test_latex_notation_on_a_plain_program():
    # what a user expects: a formula without LaTeX commands means the same in both readings …
    at = start("f = x^2 + x*y")
    assert "Read as LaTeX" not in page_text(at) and not at.expander   # auto reads it as plain
    at.segmented_control(key="syntax").set_value("latex").run()
    no_traceback(at)
    assert not at.error
    assert "Read as LaTeX (as chosen)" in page_text(at)
    (code,) = at.code
    assert code.value == "f = x^2 + x * y"
    input_box(at, "x").set_value("1")
    input_box(at, "y").set_value("2").run()
    g = gbp.parse("f = x^2 + x*y", syntax="latex")
    grads = g.gradients(at={"x": 1.0, "y": 2.0})
    assert grads == {"x": 4.0, "y": 1.0}
    text = page_text(at)
    assert "= 3$" in text and "$4$" in text and "$1$" in text
    # … but juxtaposition is a product in LaTeX and one name in the plain notation
    at.text_area(key="program").set_value("f = xy").run()
    assert sorted(t.key.split(":")[1] for t in at.text_input) == ["x", "y"]
    at.segmented_control(key="syntax").set_value("plain").run()
    assert [t.key.split(":")[1] for t in at.text_input] == ["xy"]


@pytest.mark.slow
def test_latex_notation_on_plain_only_syntax_is_a_clear_error():
    at = start()                                                         # E2 in the plain notation
    at.segmented_control(key="syntax").set_value("latex").run()
    no_traceback(at)
    (err,) = at.error
    exc = error_of(E2, "latex")
    assert err.value == dash.md_escape(str(exc)) and err.value.startswith(f"line {exc.line}, column {exc.column}: ")
    assert any("Notation is LaTeX: choose Auto or Plain" in i.value for i in at.info)
    assert "= 14$" in page_text(at)


MALFORMED = {
    "unbalanced brace": SHEET_DATA + "\n" + r"$$L = \frac{\|X * W - Y\|_2^2 + \lambda * \|W\|_1$$",
    "begin without end": r"$$X = \begin{bmatrix} -1 \\ 1 \\ -2; \quad W = 1$$" + "\n" + r"$$L = X * W$$",
    "unknown command": SHEET_DATA + "\n" + r"$$L = \foo{X * W - Y}_2^2$$",
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_latex_is_one_error_line_and_keeps_the_graph(case):
    at = start(PASTED)
    assert not at.error
    bad = MALFORMED[case]
    at.text_area(key="program").set_value(bad).run()
    no_traceback(at)
    (err,) = at.error
    exc = error_of(bad)
    assert exc.line is not None and exc.column is not None
    assert err.value == dash.md_escape(str(exc))
    assert err.value.startswith(f"line {exc.line}, column {exc.column}: ") and "\n" not in err.value
    assert any("last program that worked" in w.value for w in at.warning)
    assert "= 14$" in page_text(at) and W_GRAD_14 in page_text(at)
    assert at.text_area(key="program").value == bad                    # the text stays as typed


@pytest.mark.slow
def test_a_shape_error_in_pasted_latex_names_the_place():
    bad = (r"$$A = \begin{bmatrix}1 & 2\end{bmatrix}; \quad B = \begin{bmatrix}1 & 2 & 3\end{bmatrix}$$" "\n"
           r"$$f = \sum(A \cdot B)$$")
    at = start(PASTED)
    at.text_area(key="program").set_value(bad).run()
    no_traceback(at)
    (err,) = at.error
    g = gbp.parse(bad)                                                   # it parses; evaluating fails
    with pytest.raises(gbp.InputError) as exc:
        g.evaluate()
    assert err.value == dash.md_escape(str(exc.value)) and err.value.startswith(f"line {exc.value.line}, column ")
    assert "= 14$" not in page_text(at)                  # the new program's graph, without values


def sheet_title(stem: str) -> str:
    return next(e.title for e in dash.gallery() if e.file == f"{stem}.tex")


def test_gallery_labels_the_latex_sheets():
    at = start()
    options = at.selectbox(key="example").options
    tex = sorted(EXAMPLES.glob("*.tex"))
    assert tex
    for f in tex:
        title = sheet_title(f.stem)
        assert title in options and "LaTeX" in title
    assert options.index(sheet_title("sheet_l1_least_squares")) > options.index(
        next(o for o in options if o.startswith("E12")))                 # E13a after E12


@pytest.mark.slow
def test_gallery_sheet_l1_least_squares():
    at = start()
    at.segmented_control(key="syntax").set_value("plain").run()
    at.selectbox(key="example").set_value(sheet_title("sheet_l1_least_squares")).run()
    no_traceback(at)
    assert not at.error
    assert at.segmented_control(key="syntax").value == "auto"          # a gallery program is read as written
    text = page_text(at)
    assert "Read as LaTeX (auto-detected)" in text and "= 14$" in text and W_GRAD_14 in text
    assert input_box(at, "W").value == "[[1, 1]]"


@pytest.mark.slow
def test_gallery_sheet_chain_rule_needs_x_and_y():
    at = start()
    at.selectbox(key="example").set_value(sheet_title("sheet_chain_rule")).run()
    no_traceback(at)
    assert not at.error
    assert any("No value yet" in i.value for i in at.info)
    assert input_box(at, "x").value == "" and input_box(at, "y").value == ""
    input_box(at, "x").set_value("1")
    input_box(at, "y").set_value("2").run()
    assert not at.error
    g = gbp.parse((EXAMPLES / "sheet_chain_rule.tex").read_text(encoding="utf-8"))
    assert g.variables == ["x", "y"]
    assert g.evaluate({"x": 1, "y": 2})["f"] == 12.0
    assert g.gradients(at={"x": 1, "y": 2}) == {"x": 10.0, "y": 7.0}
    text = page_text(at)
    assert "= 12$" in text
    rows = {r.split("|")[1].strip(): r.split("|")[4].strip() for r in text.splitlines() if r.startswith("| $")}
    assert rows == {"$x$": "$10$", "$y$": "$7$"}


@pytest.mark.slow
def test_gallery_sheet_relu_network():
    at = start()
    at.selectbox(key="example").set_value(sheet_title("sheet_relu_network")).run()
    no_traceback(at)
    assert not at.error
    g = gbp.parse((EXAMPLES / "sheet_relu_network.tex").read_text(encoding="utf-8"))
    J = g.evaluate()["J"]
    assert np.shape(J) == (1, 1) and float(np.squeeze(J)) == 9.0        # W³·h² is 1×1: J = [[9]]
    text = page_text(at)
    assert f"= {dash.latex_value(J)}$" in text and dash.latex_value(J) == r"\begin{bmatrix}9\end{bmatrix}"
    grads = g.gradients()
    for name in g.leaves:
        assert input_box(at, name).value == dash.value_literal(g.node(name).default)
        if name in grads:
            assert dash.latex_value(grads[name]) in text
    # the inputs are labelled as the sheet writes them, like the graph: W⁽¹⁾, not W₁
    assert input_box(at, "W_1").label.startswith("W⁽¹⁾")
    assert input_box(at, "x").label.startswith("x")


@pytest.mark.slow
def test_gallery_sheet_bipolar_unit_with_its_point():
    at = start()
    at.selectbox(key="example").set_value(sheet_title("sheet_bipolar_unit")).run()
    no_traceback(at)
    assert "Read as LaTeX (auto-detected)" in page_text(at)
    input_box(at, "w").set_value("[0.5, -0.25]")
    input_box(at, "x").set_value("[1, 2]").run()
    assert not at.error
    g = gbp.parse((EXAMPLES / "sheet_bipolar_unit.tex").read_text(encoding="utf-8"))
    point = {"w": np.array([0.5, -0.25]), "x": np.array([1.0, 2.0])}
    assert g.evaluate(point)["f"] == 0.0
    grads = g.gradients(at=point)
    np.testing.assert_allclose(grads["w"], [0.5, 1.0])
    text = page_text(at)
    assert "= 0$" in text
    assert dash.latex_value(grads["w"]) in text and dash.latex_value(grads["w"]) == r"\begin{bmatrix}0.5 \\ 1\end{bmatrix}"


def _svg_size(svg: str) -> tuple[float, float]:
    import re as _re
    m = _re.search(r'<svg[^>]*viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"', svg)
    return float(m.group(1)), float(m.group(2))


@pytest.mark.slow
def test_direction_auto_draws_deep_networks_top_to_bottom():
    """Direction defaults to auto: E2 (5 steps deep) left → right, the ReLU sheet (8) top → bottom,
    as render.auto_rankdir decides for slides."""
    at = start()
    assert at.segmented_control(key="rankdir").value == "auto"
    w, h = _svg_size(svgs(at)[0])
    assert w > h
    at.selectbox(key="example").set_value(sheet_title("sheet_relu_network")).run()
    w, h = _svg_size(svgs(at)[0])
    assert h > w and not at.error


# --- issue 18: what a teacher noticed ----------------------------------------------------------

def test_gallery_titles_are_unique_and_numbered():
    titles = [e.title for e in dash.gallery()]
    assert len(set(titles)) == len(titles)
    numbers = [t.split(" ")[0] for t in titles if t.startswith("E")]
    assert len(set(numbers)) == len(numbers), numbers                  # E8a … E8e, not five "E8"
    assert {"E8a", "E8b"} <= set(numbers)


@pytest.mark.slow
def test_the_example_title_follows_the_program():
    at = start()
    assert at.selectbox(key="example").value.startswith("E2 ·")
    at.text_area(key="program").set_value("f = x^2\nx = 3").run()
    assert at.selectbox(key="example").value is None                   # no stale "E2 …" title
    e7 = next(e for e in dash.gallery() if e.file == "mlp_relu_softmax.txt")
    at.selectbox(key="example").set_value(e7.title).run()
    assert at.text_area(key="program").value == e7.text and not at.error


def test_the_editor_shows_a_long_program_whole():
    for file in ("relu_network_sgd.txt", "mlp_relu_softmax.txt"):
        text = (EXAMPLES / file).read_text(encoding="utf-8")
        rows = sum(max(1, -(-len(line) // 46)) for line in text.splitlines())
        assert dash.editor_height(text) >= min(620, 24 * rows)         # E3, E7: no scrolling in the editor
    assert dash.editor_height("f = x") == 250


@pytest.mark.slow
def test_checker_headline_keeps_the_students_star():
    at = start(view="Worked solution")
    at.text_area(key="answers").set_value("X*W - Y = [[0, 0], [0, 0], [0, 0]]").run()
    no_traceback(at)
    heads = [w.value for w in at.warning] + [s.value for s in at.success]
    claim = [h for h in heads if "X" in h and "W" in h]
    assert claim, heads
    # escaped for Markdown: the rendered text is X*W - Y, not X<em>W - Y
    assert any("X\\*W" in h for h in claim), claim


@pytest.mark.slow
def test_symbolic_gradients_in_the_table_as_on_the_graph():
    at = start("f = x^2 + 3*x*y")                                     # no values: symbolic
    no_traceback(at)
    text = page_text(at)
    assert "`2x + 3y`" in text and "*" not in text.split("∂f/∂input")[1].split("\n")[2]
    (svg,) = svgs(at)
    assert "2x" in "".join(svg_words(svg))


def test_training_and_prove_tabs_are_there_when_installed():
    at = start()
    labels = [t.label for t in at.tabs]
    if importlib.util.find_spec("graphviz_bp.app.tab_training"):
        assert "Training" in labels
    if importlib.util.find_spec("graphviz_bp.app.panel_prove"):
        assert "Prove / solve" in labels


@pytest.mark.slow
def test_backward_pass_bar_covers_a_multi_letter_name():
    g = gbp.parse(E7)
    steps = g.reverse(record=True).steps
    k = next(i for i, s in enumerate(steps, 1) if s.node == "oa")
    at = start(E7, view="Backward pass")
    at.session_state["step"] = k
    at.run()
    shown = [m.value for m in at.markdown if "o\u0305a\u0305 = " in m.value]
    assert shown, [m.value[:80] for m in at.markdown if " = " in m.value][:5]    # o̅a̅, over both letters
    assert not any("oa\u0304 =" in m.value for m in at.markdown)                 # not oā


@pytest.mark.slow
def test_scalar_view_keeps_index_order():
    """W₁[0] is drawn before W₁[1] (left of it top → bottom, above it left → right), as on paper."""
    import re
    from collections import defaultdict
    e3 = (EXAMPLES / "relu_network_sgd.txt").read_text(encoding="utf-8")
    for rankdir in ("TB", "LR"):
        at = start(e3)
        at.segmented_control(key="rankdir").set_value(rankdir).run()
        at.toggle(key="scalar").set_value(True).run()
        (svg,) = svgs(at)
        svg = svg.replace("&#45;", "-")
        pos = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in re.finditer(
            r'<g id="node-([^"]+)" class="node">.*?<text[^>]* x="([-\d.]+)" y="([-\d.]+)"', svg, re.S)}
        assert "W1[0]" in pos and "W1[1]" in pos
        across = 0 if rankdir == "TB" else 1          # the coordinate along a rank
        ranks = defaultdict(list)
        for name, xy in pos.items():
            if "[" in name:
                ranks[(name.split("[")[0], round(xy[1 - across]))].append((xy[across], name))
        for members in ranks.values():
            names = [n for _, n in sorted(members)]
            assert names == sorted(names), (rankdir, names)


@pytest.mark.slow
def test_softmax_cross_entropy_png_is_not_a_strip():
    """E6 is a chain of five steps: drawn top to bottom by auto, its PNG is no 10:1 strip."""
    import io

    from PIL import Image

    from graphviz_bp.showing.render import render_bytes
    png = render_bytes(gbp.parse((EXAMPLES / "softmax_cross_entropy.txt").read_text(encoding="utf-8")), "png")
    w, h = Image.open(io.BytesIO(png)).size
    assert 1 / 3 <= w / h <= 3, (w, h)                  # was 3611 × 360


@pytest.mark.slow
def test_edge_labels_print_symbolic_numbers_short():
    """A symbolic 0.5 is written 0.5 on the edges, never 0.500000000000000 (SymPy's Float)."""
    import re
    at = start("L = 0.5*(y - w*x)^2 + 0.25*w^2")                       # symbolic: no values
    (svg,) = svgs(at)
    words = " ".join(svg_words(svg))
    assert not re.search(r"\d\.\d{6,}", words), words
    assert re.search(r"(?<![\d.])0\.5(?!\d)", words), words


def test_graphviz_bp_app_passes_the_checkout_settings():
    """`graphviz-bp app` (any directory) passes as flags exactly what .streamlit/config.toml sets for
    `streamlit run streamlit_app.py` in a checkout, and runs the packaged page."""
    import tomllib

    from graphviz_bp.app import launch
    assert tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")) == launch.SETTINGS
    cmd = launch.command(address="127.0.0.1", port=8765)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(launch.PAGE) and launch.PAGE.is_file()
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags["--server.port"] == "8765" and flags["--client.showErrorDetails"] == "none"
    assert flags["--browser.gatherUsageStats"] == "false"


@pytest.mark.slow
def test_graph_tab_shows_the_training_steps_values():
    """After steps on the Training tab, the Graph tab can draw the program at that step's parameters
    (seed 002 §3 ex. 1: two SGD steps from w = 0, η = 0.1: w is 0.4 before step 2)."""
    import re
    text = (EXAMPLES / "linear_regression_steps.txt").read_text()
    at = start(text, view="Training")
    at.number_input(key="train_lr").set_value(0.1)
    at.number_input(key="train_steps").set_value(2)
    at.run()                                       # step 2 of 2 is shown: it starts at w = 0 − 0.1·(−4) = 0.4
    assert at.session_state["train_at"]["step"] == 2
    assert at.session_state["train_at"]["at"]["w"] == pytest.approx(0.4)
    at.session_state["view"] = "Graph"
    at.run()
    before = [m.value for m in at.markdown if "<svg" in m.value]
    at.toggle(key="graph-train-step").set_value(True)
    at.run()
    assert not at.exception and not at.error
    drawn = [m.value for m in at.markdown if "<svg" in m.value]
    assert drawn and drawn != before
    assert re.search(r">0\.4<", drawn[0]), "the drawing shows w = 0.4 of the training step"


@pytest.mark.slow
def test_an_activation_the_sheet_only_names_is_asked_for_then_used():
    """Issue 15: f(f(X W_1) W_2) with f not defined is refused, the page asks which function f is,
    and the choice is read in (never f as a product)."""
    sheet = (r"$$X = \begin{bmatrix} 1 & -2 \end{bmatrix}, \quad W_1 = \begin{bmatrix} 1 \\ 1 \end{bmatrix},"
             r" \quad W_2 = 2$$" "\n" r"$$y = f(f(X \cdot W_1) \cdot W_2)$$")
    at = start(sheet)
    assert at.error and "--define f=" in at.error[0].value
    (box,) = [s for s in at.selectbox if s.key == "define-f"]
    box.set_value("tanh")
    at.run()
    at.run()
    assert not at.exception and not at.error
    expected = np.tanh(np.tanh(1 - 2) * 2)                 # f(f(X W₁) W₂) with f = tanh
    assert gbp.parse(sheet, define={"f": "tanh"}).evaluate()["y"] == pytest.approx(expected)
    assert fmt_value(expected) in page_text(at)


# --- Prove / solve panel -----------------------------------------------------------------------

def _solve_panel_script():
    import streamlit as st

    from graphviz_bp.app.panel_prove import show_prove_panel
    show_prove_panel(st, "x = [1, 2]\ny = [2, 3]\nw = 1\nL = sum((y - w*x)^2)", key="p")


def test_solve_output_stays_when_another_panel_input_changes(monkeypatch):
    """QA: Solve, then a function typed into "Facts of a function" erased the solve output. Each
    result persists until its own inputs change (the unknowns, the maximum box, the program)."""
    monkeypatch.setenv("GRAPHVIZ_BP_WORKERS", "0")          # in the test's process: no fork server
    at = AppTest.from_function(_solve_panel_script, default_timeout=120)
    at.run()
    at.text_input(key="p_wrt").input("w").run()
    at.button(key="p_solve").click().run()

    def solved():
        return "w = 1.6" in "\n".join(m.value for m in at.markdown)      # Σxy/Σx² = 8/5

    assert solved()
    at.text_input(key="p_fn").input("sigmoid(t)").run()
    assert not at.exception and solved()
    at.text_area(key="p_claim").input("sigmoid(-t) = 1 - sigmoid(t)").run()
    assert solved()
    at.checkbox(key="p_max").check().run()                  # its own input changed: the old answer goes
    assert not solved()
