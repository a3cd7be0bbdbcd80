"""Rendering (DESIGN §6, issue #4): DOT, SVG, PNG, PDF; layers, themes, paths, reverse steps, caps.

Golden DOT files live in tests/golden/; regenerate them with
``GRAPHVIZ_BP_REGEN_GOLDEN=1 python -m pytest tests/test_render.py`` and review the diff.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from graphviz_bp.showing.render import notes_of

import graphviz_bp as gbp
from conftest import load_example as graph
from graphviz_bp.showing import layout as engine
from graphviz_bp.core.errors import InputError
from graphviz_bp.core.limits import Limits
from graphviz_bp.showing.render import (parse_show, produce, render, render_bytes, render_svg, role, summary,
                                to_png)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("GRAPHVIZ_BP_REGEN_GOLDEN") == "1"
SVG_NS = "{http://www.w3.org/2000/svg}"
E1, E2, E3, E7 = (ROOT / "graphviz_bp" / "examples" / f for f in ("chain_rule_paths.txt", "l1_least_squares.txt",
                                                 "relu_network_sgd.txt", "mlp_relu_softmax.txt"))
ALL_LOCALS = {"values", "locals", "numeric", "grads"}


def svg_texts(svg: str):
    """(title text, {node: [texts]}, {(u, v): label text}) of an SVG from Graphviz."""
    root = ET.fromstring(svg)
    nodes, edges, title = {}, {}, []
    for g in root.iter(f"{SVG_NS}g"):
        cls = g.get("class", "")
        name = g.findtext(f"{SVG_NS}title")
        texts = ["".join(t.itertext()).replace("\u00a0", " ") for t in g.iter(f"{SVG_NS}text")]
        if cls == "node":
            nodes[name] = texts
        elif cls.startswith("edge"):
            u, v = name.split("->")
            edges[(u, v)] = " ".join(texts)
        elif cls == "graph":
            title = [("".join(t.itertext())).replace("\u00a0", " ") for t in g.findall(f"{SVG_NS}text")]
    return title, nodes, edges


def all_text(svg: str) -> str:
    return " | ".join("".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG_NS}text")).replace("\u00a0", " ")


def check_golden(name: str, text: str):
    path = GOLDEN / f"{name}.dot"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with GRAPHVIZ_BP_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), \
        f"DOT of {name} changed; if on purpose, regenerate with GRAPHVIZ_BP_REGEN_GOLDEN=1"


# --- golden DOT ------------------------------------------------------------------------------------

GOLDEN_CASES = {
    "e1": (E1, dict(show=ALL_LOCALS, highlight=["x", "c", "e", "f"], rankdir="LR")),
    "e2": (E2, dict(show={"values", "shapes", "locals", "grads"}, highlight=["W", "b", "d", "L"], rankdir="LR")),
    "e3": (E3, dict(show={"values", "locals", "grads"}, step=5, rankdir="TB")),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_dot(name):
    path, kw = GOLDEN_CASES[name]
    check_golden(name, render(graph(path), **kw).source)


# --- what the pictures say (EXERCISES.md) -------------------------------------------------------

def test_e2_svg_values_gradient_and_edge_labels():
    svg = render_svg(graph(E2), show={"values", "locals", "grads"}, rankdir="LR")
    title, nodes, edges = svg_texts(svg)
    assert "L = 14" in " ".join(title)
    assert set(nodes) >= {"X", "Y", "W", "lambda", "a", "b", "c", "d", "e", "L"}
    assert nodes["L"][:2] == ["L = e + d", "14"]
    assert "∂L/∂W = [[11, 3]]" in nodes["W"]            # ∇_W L = [[11, 3]]
    assert "∂L/∂λ = 2" in nodes["lambda"]
    assert nodes["c"][0] == "c = a − Y" and nodes["c"][1:4] == ["[[-1, 1],", " [ 1, 3],", " [-2, 0]]"]
    # the local derivatives, one on each edge
    assert edges[("W", "b")] == "sign(W)"
    assert edges[("c", "e")] == "2c"
    assert edges[("b", "d")] == "λ" and edges[("lambda", "d")] == "b"
    assert edges[("Y", "c")] == "−1" and edges[("a", "c")] == "1"
    assert edges[("X", "a")] == "W" and edges[("W", "a")] == "X"
    assert edges[("e", "L")] == "1" and edges[("d", "L")] == "1"


def test_e1_numbers_and_numeric_locals():
    svg = render_svg(graph(E1), show=ALL_LOCALS, highlight=["x", "c", "e", "f"])
    title, nodes, edges = svg_texts(svg)
    assert "at x = 1, y = 2:  f = 12" in title[0]
    assert "∂f/∂x = 2 + 2 + 6 = 10  (3 paths)" in title
    assert "path x → c → e → f:  1 · 2c · 1 = 6" in title
    assert nodes["x"] == ["x", "1", "∂f/∂x = 10"] and nodes["y"] == ["y", "2", "∂f/∂y = 7"]
    assert nodes["a"][0] == "a = x²"                      # the constant 2 is folded, not drawn
    assert "2" not in nodes
    assert edges == {("x", "a"): "2x = 2", ("x", "b"): "y = 2", ("y", "b"): "x = 1", ("a", "d"): "1",
                     ("b", "d"): "1", ("x", "c"): "1", ("y", "c"): "1", ("c", "e"): "2c = 6",
                     ("d", "f"): "1", ("e", "f"): "1"}


def test_e3_gradients_and_rules():
    svg = render_svg(graph(E3), rankdir="TB")
    title, nodes, edges = svg_texts(svg)
    assert "J = (y − ŷ)²" in title[0] and "J = [[9]]" in title[0]
    assert "∂J/∂W₃ = [[0, -18]]" in nodes["W3"]
    assert "∂J/∂x = −6" in nodes["x"]
    assert nodes["W2"][:3] == ["W₂", "[[-1,  1],", " [ 1, -1]]"]
    assert nodes["W2"][3:] == ["∂J/∂W₂ =", "[[  0, 0],", " [-18, 0]]"]
    assert edges[("a1", "h1")] == "1{a₁ > 0}"
    assert edges[("W2", "a2")] == "ḡ ↦ ḡ·h₁ᵀ" and edges[("h1", "a2")] == "ḡ ↦ W₂ᵀ·ḡ"
    assert edges[("a", "J")] == "2a"


def test_e7_renders_with_softmax_rule():
    svg = render_svg(graph(E7))
    title, nodes, edges = svg_texts(svg)
    assert title[0] == "L = −log(softmax(oa)[1]) = 0.5716"
    assert "∂L/∂b₂ = [0.4354, -0.4354]" in " ".join(nodes["b2"])
    assert edges[("oa", "c")] == "ḡ ↦ c ⊙ (ḡ − ⟨ḡ, c⟩)"
    assert edges[("d", "e")] == "1/d"


# --- themes and formats ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark", "print"])
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot"])
def test_every_theme_and_format(theme, fmt):
    data = render_bytes(graph(E2), fmt, theme=theme, show="all", highlight=["W", "a", "c", "e", "L"])
    if fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag == f"{SVG_NS}svg" and "[[11, 3]]" in all_text(data.decode())
    elif fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    elif fmt == "pdf":
        assert data[:5] == b"%PDF-" and b"%%EOF" in data[-1024:]
    else:
        assert data.startswith(b"digraph L {") and b"[[11, 3]]" in data


def test_print_theme_has_no_fills_and_tells_roles_apart():
    src = render(graph(E2), theme="print").source
    assert "filled" not in src and "fillcolor" not in src
    w = next(line for line in src.splitlines() if line.lstrip().startswith("W ["))
    L_ = next(line for line in src.splitlines() if line.lstrip().startswith("L ["))
    assert "peripheries=2" in w                        # parameter: double border
    assert "penwidth=2.8" in L_                         # output: thick border


def test_roles_and_dark_colours():
    g = graph(E3)
    assert [role(g, g.node(n)) for n in ("x", "W1", "a1", "J")] == ["input", "param", "intermediate", "output"]
    assert role(g, g.node("x"), params={"x"}) == "param"
    src = render(g, theme="dark").source
    assert 'bgcolor="#15181D"' in src


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_rankdir(rankdir):
    assert f"rankdir={rankdir}" in render(graph(E1), rankdir=rankdir).source


def test_auto_rankdir_turns_deep_graphs_top_to_bottom():
    assert "rankdir=LR" in render(graph(E1)).source
    assert "rankdir=TB" in render(graph(E7)).source


@pytest.mark.slow
def test_png_is_the_svg_rasterised_with_glyph_complete_fonts():
    svg = render_svg(graph(E2))
    raster = engine.raster_fonts(svg)
    if "DejaVu Sans Condensed" in engine._installed_families():
        assert 'font-family="DejaVu Sans Condensed"' in raster and "Helvetica" not in raster
    png = to_png(svg)
    from PIL import Image
    import io
    width, height = Image.open(io.BytesIO(png)).size
    assert 1500 < width < 3500 and 800 < height < 2500


# --- the engine ----------------------------------------------------------------------------------------

def test_runs_without_any_system_graphviz(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))          # no `dot` anywhere on PATH
    assert engine.system_binary() is None
    chosen = engine.choose("auto")
    assert chosen.name == "graphviz-pure" and Path(chosen.binary).parent == Path(sys.executable).parent
    with pytest.raises(InputError, match="no system Graphviz"):
        engine.choose("system")
    assert render_svg(graph(E2), engine="auto").lstrip().startswith("<?xml")
    assert render_bytes(graph(E2), "pdf")[:5] == b"%PDF-"          # cairosvg, not dot
    import graphviz.backend.dot_command as dc
    before = dc.DOT_BINARY
    render_svg(graph(E1))
    assert dc.DOT_BINARY == before          # the binary is passed to the layout, no global is changed


def test_unknown_engine_is_a_usage_error():
    with pytest.raises(InputError):
        engine.choose("neato")


def test_center_text_recentres_runs_of_a_line():
    svg = ('<g>\n<text xml:space="preserve" text-anchor="start" x="10" y="-5" font-family="Helvetica,sans-Serif" '
           'font-weight="bold" font-size="14.00">a</text>\n'
           f'<text xml:space="preserve" text-anchor="start" x="{10 + engine.text_width("a", 14, bold=True):.2f}" '
           'y="-5" font-family="Helvetica,sans-Serif" font-size="14.00"> = ∂x</text>\n</g>')
    out = engine.center_text(svg)
    total = engine.text_width("a", 14, bold=True) + engine.text_width(" = ∂x", 14)
    m = re.search(r'text-anchor="middle" x="([\d.]+)"', out)
    assert m and float(m.group(1)) == pytest.approx(10 + total / 2, abs=0.01)
    assert out.count("<tspan") == 2 and out.count("<text") == 1
    assert engine.text_width("∂", 10) == pytest.approx(3 * 2.78)      # graphviz-pure: a space per byte


def test_layout_timeout_falls_back_to_a_summary(monkeypatch):
    real = engine.layout
    calls = []

    def slow_first(source, fmt="svg", eng="auto", timeout=None):
        calls.append(timeout)
        if len(calls) == 1:
            raise engine.LayoutTimeout("the layout took longer than 10 s")
        return real(source, fmt, eng, timeout)
    monkeypatch.setattr(engine, "layout", slow_first)
    data, notes = produce(graph(E3), "svg")
    assert calls == [10.0, 10.0]                        # Limits.time_budget_s, both times
    assert any("longer than 10 s" in n for n in notes)
    assert "summary" in all_text(data.decode())


# --- layers, paths, steps --------------------------------------------------------------------------

def test_show_layers():
    assert parse_show("values, grads") == {"values", "grads"}
    assert parse_show("all") == {"values", "shapes", "locals", "numeric", "grads", "tangents"}
    with pytest.raises(InputError, match="unknown layer 'gradz'"):
        parse_show("values,gradz")
    bare = render(graph(E1), show="").source
    assert "∂f/∂x" not in bare and "2x" not in bare and "label=<<TABLE" in bare
    symbolic = render(graph(E1), show="locals").source
    numeric = render(graph(E1), show="numeric").source
    assert ">2c<" in symbolic and "2c = 6" not in symbolic
    assert ">6<" in numeric and "2c" not in numeric
    shapes = render(graph(E2), show="values,shapes").source
    assert "3×2" in shapes and "3×2" not in render(graph(E2), show="values").source


def test_tangents_layer_is_forward_mode():
    src = render(graph(E1), show="values,tangents", tangent="x").source
    assert "∂e/∂x = 6" in src and "∂f/∂x = 10" in src and "∂c/∂x = 1" in src
    assert "∂f/∂y" not in src


def test_a_small_jacobian_is_drawn_entry_by_entry():
    # ∂a/∂X of E2's a = X·W (3×2 by a 3×1 X) is 6×3: its entries, not "6×3 · min 0 · max 1 · mean …"
    from graphviz_bp.showing.labels import matrix_lines
    g = graph(E2)
    src = render(g, show="values,tangents", tangent="X").source
    W = np.asarray(g.node("W").default, dtype=float)
    jacobian = np.kron(np.eye(3), W.T)          # ∂a[i, j]/∂X[k] = W[j] if i = k: rows (i, j), columns k
    assert "min" not in src and "mean" not in src
    assert all(line in src for line in matrix_lines(jacobian)), matrix_lines(jacobian)


def test_highlighted_path_edges_in_dot():
    src = render(graph(E1), highlight=["x", "c", "e", "f"], rankdir="LR").source
    path_edges = re.findall(r"^\s*(\w+) -> (\w+) \[.*class=path.*penwidth=3.2", src, re.M)
    assert path_edges == [("x", "c"), ("c", "e"), ("e", "f")]
    others = re.findall(r"^\s*(\w+) -> (\w+) \[", src, re.M)
    assert len(others) == 10
    with pytest.raises(InputError, match="not an edge"):
        render(graph(E1), highlight=["x", "e"])


def test_step_marks_done_current_pending():
    g = graph(E1)
    order = [s.node for s in g.reverse(record=True).steps]
    assert order == ["f", "e", "c", "d", "b", "a", "y", "x"]
    src = render(g, step=3, show="values,grads").source
    labels = {m.group(1): m.group(2) for m in re.finditer(r"^\s*(\w+) \[label=<(.*)$", src, re.M)}
    assert "reverse step 3" in labels["c"] and "∂f/∂c = 6" in labels["c"]
    for done, value in (("f", "1"), ("e", "1")):
        assert f"∂f/∂{done} = {value}<" in labels[done] and "reverse step" not in labels[done]
    for pending in ("d", "b", "a", "y", "x"):
        assert f"∂f/∂{pending} = ?" in labels[pending]
    current_edges = re.findall(r"^\s*(\w+) -> (\w+) \[.*class=\"step-current\"", src, re.M)
    assert current_edges == [("c", "e")]
    assert "step 3 of 8" in src
    with pytest.raises(InputError, match="steps 1 to 8"):
        render(g, step=9)


# --- big graphs -------------------------------------------------------------------------------------

def _chain(n):
    """The shared bench workload ``chain n`` (shared/bench/workloads.py): x → sin → tanh → (·y) → (+x) → …"""
    lines, prev = [], "x"
    for i in range(n):
        op = ("sin({})", "tanh({})", "{} * y", "{} + x")[i % 4].format(prev)
        lines.append(f"a{i + 1} = {op}")
        prev = f"a{i + 1}"
    return "\n".join(lines)


AT = {"x": 0.7, "y": 0.9}


def test_chain_300_above_the_cap_gives_a_summary():
    g = gbp.parse(_chain(300))
    dot = render(g, at=AT)
    assert any("302 nodes > max_render_nodes = 300" in n for n in notes_of(dot))
    svg = render_svg(g, at=AT)
    text = all_text(svg)
    assert "a₁ … a₃₀₀" in text and "300 ops: sin 75 · tanh 75 · mul 75 · add 75" in text
    ET.fromstring(svg)


@pytest.mark.slow
def test_chain_300_below_a_raised_cap_draws_reference_nodes():
    g = gbp.parse(_chain(300), limits=Limits(max_render_nodes=400))
    dot = render(g, at=AT, show="values,grads")
    refs = re.findall(r'^\s*"x#\d+" \[label=x .*style="filled,dashed"', dot.source, re.M)
    assert len(refs) == 75                              # x feeds 76 ops: one real edge, 75 references
    svg = render_svg(g, at=AT, show="values,grads")
    _, nodes, _ = svg_texts(svg)
    assert len(nodes) == 302 + 75 + 74 and nodes["a300"][0] == "a₃₀₀ = a₂₉₉ + x"


def test_summary_card_when_chains_do_not_shrink_the_graph():
    lines = ["a0 = 2*x"] + [f"a{i} = sin(a{i-1}) + tanh(a{i-1})" for i in range(1, 101)]
    g = gbp.parse("\n".join(lines), limits=Limits(max_render_nodes=100))
    dot = summary(g, {"x": 0.3}, reason="test")
    assert "counts per operation" in notes_of(dot)[0] and "summary" in dot.source
    assert "sin 100 · tanh 100 · add 100 · mul 1" in dot.source


def test_scalar_view_render():
    try:
        from graphviz_bp.algorithms.scalar_view import scalar_view
    except ImportError:
        pytest.skip("scalar view not there yet")
    s = scalar_view(graph(E3))
    svg = render_svg(s, highlight=["x", "a1[0]", "h1[0]", "a2[0]", "h2[0]", "yhat", "a", "J"])
    title, nodes, _ = svg_texts(svg)
    assert "(4 paths)" in " ".join(title)
    assert "W₂[1,0]" in nodes["W2[1,0]"] and "∂J/∂W₂[1,0] = −18" in nodes["W2[1,0]"]


def test_scalar_view_edges_into_a_reduction_carry_their_number():
    # e = ‖c‖₂² element by element: the edge c[i,j] → e has no formula of its own; before it read
    # only "∂e/∂c[0,0]", now also its value 2·c[i,j]
    from graphviz_bp.algorithms.scalar_view import scalar_view
    g = graph(E2)
    c = g.evaluate()["c"]
    src = render(scalar_view(g), show="values,locals,grads").source
    for (i, j), v in np.ndenumerate(c):
        assert f"∂e/∂c[{i},{j}] = {L_num(2 * v)}" in src


def L_num(x) -> str:
    from graphviz_bp.showing.labels import num
    return num(x)


# --- the command line ---------------------------------------------------------------------------------

def cli(*args):
    return subprocess.run([sys.executable, "-m", "graphviz_bp", "render", *map(str, args)], capture_output=True,
                          text=False, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_cli_done_criterion(tmp_path):
    r = cli(E2, "-o", tmp_path / "e2.svg", "--show", "values,locals,grads")
    assert r.returncode == 0, r.stderr
    svg = (tmp_path / "e2.svg").read_text()
    text = all_text(svg)
    assert "L = 14" in text and "[[11, 3]]" in text and "sign(W)" in text and "2c" in text
    r = cli(E2, "-o", tmp_path / "e2.png")
    assert r.returncode == 0 and (tmp_path / "e2.png").read_bytes()[:4] == b"\x89PNG"
    r = cli(E2, "-o", tmp_path / "e2d.png", "--theme", "dark")
    assert r.returncode == 0 and (tmp_path / "e2d.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_cli_formats_paths_and_stdout(tmp_path):
    r = cli(E1, "--format", "dot", "--path", "3", "--show", "values,locals,numeric")
    assert r.returncode == 0 and b"class=path" in r.stdout and b"2c = 6" in r.stdout
    r = cli(E1, "-o", tmp_path / "e1.pdf", "--path-nodes", "y,c,e,f", "--theme", "print")
    assert r.returncode == 0 and (tmp_path / "e1.pdf").read_bytes()[:5] == b"%PDF-"
    r = cli(E1, "--step", "2", "--rankdir", "TB")
    assert r.returncode == 0 and r.stdout.lstrip().startswith(b"<?xml") and "step 2 of 8".encode() in r.stdout


@pytest.mark.slow
def test_cli_frames(tmp_path):
    r = cli(E1, "--frames", tmp_path / "frames", "--paths", "--format", "svg")
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert files == [f"path_{k:03d}.svg" for k in (1, 2, 3)] + [f"step_{k:03d}.svg" for k in range(1, 9)]
    assert "step 5 of 8" in all_text((tmp_path / "frames" / "step_005.svg").read_text())
    # a frame is the same file as `render --step 5 -o …svg`: portable (fonts with fallbacks, runs
    # placed), so it does not overlap its text in cairosvg or Inkscape (before: Helvetica, runs split)
    r = cli(E1, "--step", "5", "-o", tmp_path / "step5.svg")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "frames" / "step_005.svg").read_text() == (tmp_path / "step5.svg").read_text()


@pytest.mark.parametrize("args, message", [
    (("--path", "9"), "there are 3 paths from 'x' to 'f'"),
    (("--show", "values,nope"), "unknown layer 'nope'"),
    (("-o", "picture.xyz"), "cannot tell the format"),
    (("--format", "tex"), "explain --format tex"),
    (("--format", "png"), "png output needs -o FILE"),
    (("--step", "0"), "steps 1 to 8"),
    (("--path-nodes", "x,f"), "not an edge"),
])
@pytest.mark.slow
def test_cli_errors_are_one_line(args, message):
    r = cli(E1, *args)
    err = r.stderr.decode()
    assert r.returncode == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_without_cairosvg_png_falls_back_and_pdf_refuses_in_one_line(monkeypatch):
    monkeypatch.setattr(engine, "_cairosvg", lambda: None)
    monkeypatch.setenv("PATH", "/nonexistent")                 # and no system dot
    data, notes = produce(graph(E1), "png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and any("pip install cairosvg" in n for n in notes)
    with pytest.raises(InputError, match=r"^PDF output needs a system Graphviz \(apt install graphviz\) "
                                         r"or cairosvg \(pip install cairosvg\)$"):
        produce(graph(E1), "pdf")


def test_a_summary_of_huge_entries_has_a_mean_not_an_overflow():
    # found by the long fuzz run: entries near 1e308 made the mean and the norm overflow with a
    # RuntimeWarning while drawing
    import warnings
    from graphviz_bp.showing.labels import summary_lines
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lines = summary_lines(np.full((6, 6), 1e308))
        assert "mean 1e+308" in lines[1]
        assert summary_lines(np.arange(36.0).reshape(6, 6))[1] == "mean 17.5 · ‖·‖ 122.1"
