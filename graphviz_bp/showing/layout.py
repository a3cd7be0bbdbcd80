"""Which Graphviz binary lays a picture out, with a time budget, and how SVG becomes PNG or PDF.

* ``graphviz-pure`` (PyPI; its executable sits next to ``sys.executable``) is the default:
  a plain ``pip install`` can then write SVG with no system package. ``engine="system"``
  (or a missing graphviz-pure) uses the system's ``dot``.
* Every layout runs in a subprocess with a timeout (:class:`LayoutTimeout` when it expires).
* PNG is the SVG rasterised by ``cairosvg`` (graphviz-pure's own PNG lacks glyphs such as ``↦``);
  PDF comes from a system ``dot`` when there is one, else from the SVG through ``cairosvg``.
* graphviz-pure measures text with the Adobe metrics of Helvetica, Helvetica-Bold and
  Courier and counts every byte of a non-ASCII character as a space, so it under-measures
  ``∂``, ``‖``, ``W₁``. :func:`text_width` gives that estimate, :func:`ink_width` the width
  the glyphs really take, and :func:`center_text` re-anchors the SVG's text at the centres
  Graphviz meant, so labels stay centred whatever font the viewer draws them with.
"""
from __future__ import annotations

import functools
import html
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError

__all__ = ["Engine", "LayoutTimeout", "choose", "layout", "svg_to_png", "svg_to_pdf",
           "center_text", "text_width", "ink_width", "pure_binary", "system_binary"]

ENGINES = ("auto", "pure", "system")


class LayoutTimeout(Exception):
    """The layout ran past its time budget (the process has been killed)."""


@dataclass(frozen=True)
class Engine:
    name: str          #: "graphviz-pure" or "system"
    binary: str        #: path of the executable

    def __str__(self):
        return f"{self.name} ({self.binary})"


def pure_binary() -> str | None:
    """Path of the ``graphviz-pure`` executable (scripts folder of this Python, then PATH), or None."""
    here = Path(sys.executable).parent
    for name in ("graphviz-pure", "graphviz-pure.exe"):
        candidate = here / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("graphviz-pure")


def system_binary() -> str | None:
    """Path of the system's ``dot``, or None."""
    return shutil.which("dot")


def choose(engine: str = "auto") -> Engine:
    """The engine to run: ``"pure"``, ``"system"`` or ``"auto"`` (graphviz-pure, else system dot).

    A requested engine that is not installed is an :class:`InputError` saying what to install.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown Graphviz engine {engine!r} (choose one of {', '.join(ENGINES)})", kind="usage")
    pure, system = (pure_binary() if engine != "system" else None), \
        (system_binary() if engine != "pure" else None)
    if engine in ("auto", "pure") and pure:
        return Engine("graphviz-pure", pure)
    if engine in ("auto", "system") and system:
        return Engine("system", system)
    if engine == "pure":
        raise InputError("graphviz-pure is not installed: pip install graphviz-pure", kind="usage")
    if engine == "system":
        raise InputError("no system Graphviz 'dot' on PATH: install Graphviz (e.g. apt install graphviz) "
                         "or use --engine pure", kind="usage")
    raise InputError("no Graphviz to lay out the graph: pip install graphviz-pure "
                     "(or install a system Graphviz)", kind="usage")


def layout(source: str, fmt: str = "svg", engine: str | Engine = "auto", timeout: float | None = None) -> bytes:
    """Run the engine on DOT ``source`` and return its output (``-T<fmt>``).

    Raises :class:`LayoutTimeout` after ``timeout`` seconds (the process is killed).
    """
    chosen = engine if isinstance(engine, Engine) else choose(engine)
    try:
        proc = subprocess.run([chosen.binary, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LayoutTimeout(f"the layout took longer than {timeout:g} s") from None
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        errors = [line for line in err if "Warning" not in line] or err
        raise RuntimeError(f"{chosen} failed (exit {proc.returncode}): {' '.join(errors)[:500]}")
    return proc.stdout


# --- text metrics ---------------------------------------------------------------------------
# Widths in 1/1000 em of the ASCII characters 32..126, as graphviz-pure measures them
# (the Adobe AFM widths of Helvetica and Helvetica-Bold; Courier is 600 throughout).
_HELVETICA = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
    722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
    278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584)
_HELVETICA_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778,
    722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333,
    278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584)

# Widths (1/1000 em) of the non-ASCII glyphs this package draws, as DejaVu Sans draws them
# (the face PNG and PDF are rasterised with); other characters count 750.
_GLYPHS = {
    "∂": 490, "‖": 450, "λ": 570, "σ": 700, "→": 760, "↦": 760, "·": 340, "−": 760, "×": 760, "≈": 760,
    "⊙": 760, "⟨": 410, "⟩": 410, "Σ": 620, "√": 600, "⋆": 570, "…": 900, "ᵀ": 390, "ᵢ": 200, "ₖ": 400,
    "η": 640, "α": 620, "θ": 620, "μ": 660, "ŷ": 590, "ḡ": 640, "✓": 760, "●": 790, "○": 790, "▶": 700,
    "⁻": 400, "¹": 400, "ε": 560, "π": 640, "ρ": 640, "τ": 560, "φ": 700, "ω": 760, "Δ": 760,
    "γ": 600, "β": 620, "δ": 600, "ξ": 540, "ψ": 760, "χ": 600, "ζ": 540, "κ": 600, "ν": 580, "ι": 320,
    "Γ": 620, "Θ": 790, "Λ": 700, "Φ": 790, "Ω": 780,
}
# ASCII characters DejaVu Sans Condensed draws wider than Helvetica
_WIDER = {"=": 760, "+": 760, "<": 760, ">": 760, "~": 760, "[": 360, "]": 360, "f": 320, "t": 360,
          "i": 250, "j": 250, "l": 250, "(": 400, ")": 400, "{": 640, "}": 640, "|": 340, "^": 760, "*": 480}
for _c in "₀₁₂₃₄₅₆₇₈₉⁰²³⁴⁵⁶⁷⁸⁹":
    _GLYPHS[_c] = 400


def text_width(text: str, size: float, face: str = "Helvetica", bold: bool = False) -> float:
    """Width in points graphviz-pure gives ``text`` (its layout uses this, not the real glyphs)."""
    if face.startswith("Courier"):
        return 0.6 * size * len(text.encode("utf-8"))
    table = _HELVETICA_BOLD if bold else _HELVETICA
    total = 0
    for c in text:
        o = ord(c)
        total += table[o - 32] if 32 <= o < 127 else 278 * len(c.encode("utf-8"))
    return total * size / 1000.0


def ink_width(text: str, size: float, face: str = "Helvetica", bold: bool = False) -> float:
    """A generous estimate of the width the glyphs really take (DejaVu Sans / Helvetica / Arial)."""
    if face.startswith("Courier"):
        return 0.61 * size * sum(0 if unicodedata.combining(c) else 1 for c in text)
    table = _HELVETICA_BOLD if bold else _HELVETICA
    total = 0.0
    for c in text:
        o = ord(c)
        if 32 <= o < 127:
            total += max(table[o - 32] * 1.07, _WIDER.get(c, 0))
        elif unicodedata.combining(c):
            continue
        else:
            total += _GLYPHS.get(c, 750) * (1.05 if bold else 1.0)
    return total * size / 1000.0


# --- SVG post-processing ------------------------------------------------------------------------

_TEXT = re.compile(r'<text xml:space="preserve" text-anchor="start" x="([-\d.]+)" y="([-\d.]+)"'
                   r'((?: [a-z-]+="[^"]*")*)>([^<]*)</text>\n?')
_ATTR = re.compile(r' ([a-z-]+)="([^"]*)"')


def _span_width(attrs: dict, raw: str) -> float:
    text = html.unescape(raw).replace("\u00a0", " ")
    face = attrs.get("font-family", "Times").split(",")[0]
    size = float(attrs.get("font-size", "14"))
    return text_width(text, size, face, attrs.get("font-weight") == "bold")


def center_text(svg: str) -> str:
    """Re-anchor the left-anchored text runs of HTML labels at their centres.

    Graphviz writes each run of an HTML-like label as ``text-anchor="start"`` at
    ``x = centre − (its width estimate)/2``, and the runs of one line one after another.
    A viewer whose glyphs are wider (any non-ASCII character) would push the text off
    centre and over its neighbours. Each line (runs on one baseline that abut by the
    estimate) becomes one ``text-anchor="middle"`` element with a ``tspan`` per run.
    """
    out, pos = [], 0
    pending: list = []          # runs of the current line: (x, y, attrs_text, attrs, raw, width)

    def flush():
        if not pending:
            return
        x0, y = pending[0][0], pending[0][1]
        total = sum(r[5] for r in pending)
        centre = x0 + total / 2
        first_attrs = pending[0][2]
        if len(pending) == 1:
            out.append(f'<text xml:space="preserve" text-anchor="middle" x="{centre:.2f}" y="{y}"'
                       f'{first_attrs}>{pending[0][4]}</text>\n')
        else:
            common = {k: v for k, v in pending[0][3].items() if k in ("font-family", "font-size")}
            head = "".join(f' {k}="{v}"' for k, v in common.items())
            spans = "".join(
                "<tspan" + "".join(f' {k}="{v}"' for k, v in r[3].items() if k not in common) + f">{r[4]}</tspan>"
                for r in pending)
            out.append(f'<text xml:space="preserve" text-anchor="middle" x="{centre:.2f}" y="{y}"{head}>'
                       f'{spans}</text>\n')
        pending.clear()

    for m in _TEXT.finditer(svg):
        between = svg[pos:m.start()]
        x, y, attrs_text, raw = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        attrs = dict(_ATTR.findall(attrs_text))
        width = _span_width(attrs, raw)
        if pending and (between.strip() or y != pending[-1][1]
                        or abs(pending[-1][0] + pending[-1][5] - x) > 0.05 + 0.002 * abs(x)):
            flush()
        if not pending:
            out.append(between)
        elif between:
            out.append(between)
        pending.append((x, y, attrs_text, attrs, raw, width))
        pos = m.end()
    flush()
    out.append(svg[pos:])
    return "".join(out)


# --- rasterising ------------------------------------------------------------------------------

_SANS_PREFERENCE = ("DejaVu Sans Condensed", "DejaVu Sans", "Noto Sans", "Arial Unicode MS", "Segoe UI")
_MONO_PREFERENCE = ("DejaVu Sans Mono", "Noto Sans Mono", "Menlo", "Consolas")


@functools.lru_cache(maxsize=1)
def _installed_families() -> frozenset:
    fc = shutil.which("fc-list")
    if not fc:
        return frozenset()
    try:
        out = subprocess.run([fc, ":", "family"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(f.strip() for line in out.splitlines() for f in line.split(","))


def raster_fonts(svg: str) -> str:
    """The SVG with Helvetica/Courier replaced by installed faces that have ∂ ‖ ₂ λ σ → ↦.

    cairosvg draws each text with the first family named and no fallback for missing
    glyphs; fontconfig maps Helvetica to Liberation Sans, which lacks ‖, ₁, ↦.
    DejaVu Sans Condensed has them and is as wide as Helvetica.
    """
    families = _installed_families()
    sans = next((f for f in _SANS_PREFERENCE if f in families), None)
    mono = next((f for f in _MONO_PREFERENCE if f in families), None)
    if sans:
        svg = svg.replace('font-family="Helvetica,sans-Serif"', f'font-family="{sans}"')
    if mono:
        svg = svg.replace('font-family="Courier,monospace"', f'font-family="{mono}"')
    return svg


_MIDDLE = re.compile(r'<text xml:space="preserve" text-anchor="middle" x="([-\d.]+)" y="([-\d.]+)"'
                     r'((?: [a-z-]+="[^"]*")*)>((?:<tspan[^>]*>[^<]*</tspan>)+)</text>')
_TSPAN = re.compile(r'<tspan((?: [a-z-]+="[^"]*")*)>([^<]*)</tspan>')


def _cairo_measure(scale: float | None = 1.0):
    """``measure(attrs, text)``: the advance cairo's toy font API (what cairosvg draws with) gives,
    with glyph advances hinted at ``scale`` device pixels per point (None: unhinted, as in PDF)."""
    import cairocffi
    ctx = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, 1, 1))
    if scale is None:
        options = cairocffi.FontOptions()
        options.set_hint_metrics(cairocffi.HINT_METRICS_OFF)
        ctx.set_font_options(options)
    else:
        ctx.scale(scale, scale)

    def measure(attrs: dict, text: str) -> float:
        family = attrs.get("font-family", "sans-serif").split(",")[0].strip("'\" ")
        weight = cairocffi.FONT_WEIGHT_BOLD if attrs.get("font-weight") == "bold" else cairocffi.FONT_WEIGHT_NORMAL
        ctx.select_font_face(family, cairocffi.FONT_SLANT_NORMAL, weight)
        ctx.set_font_size(float(attrs.get("font-size", "14")))
        return ctx.text_extents(html.unescape(text).replace("\u00a0", " "))[4]
    return measure


def place_runs(svg: str, measure) -> str:
    """Lines written as ``tspan`` runs (see :func:`center_text`) as separate left-anchored texts,
    placed with ``measure`` — for rasterisers (cairosvg) that anchor each run on its own."""
    def split(m):
        x, y, attrs_text, body = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        common = dict(_ATTR.findall(attrs_text))
        runs = [({**common, **dict(_ATTR.findall(a))}, raw) for a, raw in _TSPAN.findall(body)]
        widths = [measure(a, raw) for a, raw in runs]
        left = x - sum(widths) / 2
        out = []
        for (attrs, raw), w in zip(runs, widths):
            attr_text = "".join(f' {k}="{v}"' for k, v in attrs.items())
            out.append(f'<text xml:space="preserve" text-anchor="start" x="{left:.2f}" y="{y}"{attr_text}>{raw}</text>')
            left += w
        return "\n".join(out)
    return _MIDDLE.sub(split, svg)


def _cairosvg():
    try:
        import cairosvg
        return cairosvg
    except (ImportError, OSError):
        return None


def svg_rasteriser():
    """The cairosvg module, or None when it (or the cairo library) is not installed."""
    return _cairosvg()


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    """PNG of an SVG (cairosvg, with fonts that have every glyph); ``scale`` 2 suits slides."""
    cairosvg = _cairosvg()
    if cairosvg is None:
        raise InputError("PNG output needs cairosvg and the cairo library: pip install cairosvg "
                         "(and e.g. apt install libcairo2)", kind="usage")
    return cairosvg.svg2png(bytestring=_for_raster(svg, scale).encode("utf-8"), scale=scale)


def svg_to_pdf(svg: str) -> bytes:
    """PDF of an SVG through cairosvg."""
    cairosvg = _cairosvg()
    if cairosvg is None:
        raise InputError("PDF output needs a system Graphviz (apt install graphviz) or cairosvg "
                         "(pip install cairosvg)", kind="usage")
    return cairosvg.svg2pdf(bytestring=_for_raster(svg, None).encode("utf-8"))


# --- SVG files that look the same outside a browser (issue 18) -------------------------------------

PORTABLE_SANS = "DejaVu Sans Condensed,DejaVu Sans,Helvetica,Arial,sans-serif"
PORTABLE_MONO = "DejaVu Sans Mono,Courier New,Courier,monospace"


def portable_svg(svg: str) -> str:
    """The SVG as a file to hand on: renders the same in a browser and in cairosvg, Inkscape or
    LibreOffice (which draw a text with the first family named, and each ``tspan`` run anchored on
    its own).

    * fonts are declared with fallbacks, a face with ∂ ‖ ₂ λ σ ↦ first (DejaVu Sans Condensed is as
      wide as Helvetica, whose metrics the layout used);
    * lines of several runs (:func:`center_text`) become left-anchored runs placed with the first
      face's own advances (cairo's, unhinted), so no run is drawn over its neighbour.

    >>> s = '<text xml:space="preserve" text-anchor="middle" x="50.00" y="10" font-family="Helvetica,sans-Serif" font-size="14.00"><tspan>‖W‖</tspan><tspan fill="red">₁</tspan></text>'
    >>> out = portable_svg(s)
    >>> out.count('text-anchor="start"'), 'font-family="DejaVu Sans Condensed,' in out
    (2, True)
    """
    svg = svg.replace('font-family="Helvetica,sans-Serif"', f'font-family="{PORTABLE_SANS}"')
    svg = svg.replace('font-family="Courier,monospace"', f'font-family="{PORTABLE_MONO}"')
    try:
        measure = _cairo_measure(None)
    except (ImportError, OSError):
        return svg
    return place_runs(svg, measure)


def _for_raster(svg: str, scale: float | None) -> str:
    svg = raster_fonts(svg)
    try:
        measure = _cairo_measure(scale)
    except (ImportError, OSError):
        return svg
    return place_runs(svg, measure)
