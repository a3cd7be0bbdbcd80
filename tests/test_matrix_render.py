"""The graph's formulas layer (issue 14): each node's adjoint in node names, checked, on the node."""
from __future__ import annotations

from pathlib import Path

import pytest

import graphviz_bp as gbp
from graphviz_bp.core.errors import InputError
from graphviz_bp.showing.render import parse_show, render, render_svg

EXAMPLES = Path(gbp.__file__).parent / "examples"


def test_formulas_layer_on_seed000():
    g = gbp.parse((EXAMPLES / "l1_least_squares.txt").read_text())
    src = render(g, show="values,formulas").source
    assert "∂L/∂W = 2Xᵀc + λ·sign(W)" in src
    assert "∂L/∂c = 2c" in src
    assert "<svg" in render_svg(g, show="formulas")


def test_formulas_spell_names_as_the_sheet_and_the_nodes_do():
    # before: nodes read W⁽¹⁾, a⁽¹⁾ while their formulas said W₂, a₁ (two spellings on one slide)
    import re
    g = gbp.parse((EXAMPLES / "sheet_relu_network.tex").read_text())
    src = render(g, show="values,grads,formulas").source
    formulas = re.findall(r"∂J/∂W⁽¹⁾ = ([^<]+?)<", src)
    assert formulas and any("W⁽²⁾ᵀ" in f and "a⁽¹⁾" in f for f in formulas), formulas
    assert not re.search(r"[Wah][₁₂₃]", src), re.search(r".{40}[Wah][₁₂₃].{40}", src).group(0)


def test_formulas_layer_is_not_part_of_all_and_scalar_programs_have_none():
    assert "formulas" not in parse_show("all")
    assert "formulas" in parse_show("all,formulas") and "formulas" in parse_show("formula")
    g = gbp.parse("f = x^2 + x*y")
    src = render(g, at={"x": 1, "y": 2}, show="values,formulas").source
    assert "∂f/∂x =" not in src
    with pytest.raises(InputError):
        parse_show("formulaz")


def test_conv2d_formulas_say_numbers_only_and_the_picture_is_drawn():
    g = gbp.parse((EXAMPLES / "convolution.txt").read_text())
    src = render(g, show="values,grads,formulas").source
    assert "numbers only" in src
