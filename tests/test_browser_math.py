"""The dashboard's math in a real Chromium: what KaTeX draws is not clipped away (QA: the bars of
b̄ and d̄ on the one-line equations of the worked solution vanished at 1× zoom).

Same server and browser as tests/test_browser.py (its fixtures); slow, not in ``-m "not slow"``.
"""
from __future__ import annotations

import os

import pytest
from test_browser import CHROMIUM, app_url, browser, page  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

# Each accent glyph of a display equation (the bar of b̄), its ink measured with the glyph's own font,
# against the box of every ancestor inside the Markdown that clips (Streamlit's .katex-display has overflow-y hidden).
ACCENT_INK_JS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const out = [];
  for (const d of document.querySelectorAll('.katex-display')) {
    for (const el of d.querySelectorAll('.accent-body')) {
      const r = el.getBoundingClientRect();
      if (!r.height) continue;
      ctx.font = getComputedStyle(el).font;
      const m = ctx.measureText(el.textContent);
      const base = r.top + m.fontBoundingBoxAscent;
      const ink = [base - m.actualBoundingBoxAscent, base + m.actualBoundingBoxDescent];
      let top = -Infinity, bottom = Infinity;
      const md = d.closest('[data-testid="stMarkdownContainer"]');   // not the page's own scrolling
      for (let a = el.parentElement; a && a !== md; a = a.parentElement) {
        if (getComputedStyle(a).overflowY !== 'visible') {
          const b = a.getBoundingClientRect();
          top = Math.max(top, b.top); bottom = Math.min(bottom, b.bottom);
        }
      }
      out.push({equation: d.textContent.slice(0, 40), ink, clip: [top, bottom]});
    }
  }
  return out;
}"""


def test_adjoint_bars_are_inside_their_equation_box(page):  # noqa: F811  (the fixture)
    assert CHROMIUM
    page.get_by_role("tab", name="Worked solution").click()
    page.get_by_text("Gradient in matrix form, step by step").first.wait_for()
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    accents = page.evaluate(ACCENT_INK_JS)
    assert len(accents) > 20                                   # E2's sections 4 and 5
    clipped = [a for a in accents if a["ink"][0] < a["clip"][0] + 0.5 or a["ink"][1] > a["clip"][1] - 0.5]
    assert not clipped, clipped[:3]
