r"""The words of a pasted sheet: LaTeX tokens, the items the reader builds from them, and what
every math span of one sheet shares (:class:`Sheet`: reading notes, functions defined on the sheet,
names chosen with ``--define``, shapes of values given with ``--at``).

The function names a sheet may write as words come from the op table (``core.ops.FUNCTIONS``).
"""
from __future__ import annotations

import re

from ..core.ops import FUNCTIONS
from .resolve import SHEET_PRODUCT

# the function names a sheet may write as words (``tanh``, ``softmax``, ``\\text{ReLU}``): the op table's
FUNCS = {name.lower() for name in FUNCTIONS if name.isascii()}
GREEK = set("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
            "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())
_VAR = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho", "varsigma": "sigma"}
_FUNC_CMDS = set("exp log ln sin cos tanh max min det".split())
_STYLES = set("mathbf boldsymbol bm vec mathit mathcal mathsf mathbb pmb".split())
_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
            "widetilde": "tilde"}
_OPS = {"cdot": SHEET_PRODUCT, "times": SHEET_PRODUCT, "odot": "*", "ast": "*", "div": "/"}
_BOLD = {"mathbf", "boldsymbol", "bm", "vec", "pmb"}           # a vector or a matrix, on a sheet
_SKIP = set(",;:! ") | set("displaystyle textstyle limits nonumber notag big Big bigg Bigg bigl bigr "
                           "Bigl Bigr biggl biggr".split())
_TRANSPARENT = set("align aligned gather gathered equation split".split())   # environments read through
_SEPARATORS = {("sym", ";"), ("sym", ","), ("cmd", "quad"), ("cmd", "qquad"), ("cmd", "\\")}
_TOKEN = re.compile(r"""(?P<ws>\s+|%[^\n]*|~|\\(?:tag|label)\*?\s*\{[^{}]*\})
  | \\(?P<env>begin|end)\s*\{\s*(?P<envname>[a-zA-Z]+\*?)\s*\}
  | (?:\\(?P<lr>left|right)\s*)?(?P<delim>\|\||[()\[\]|]|\\[{}|]|\\[lr]?[vV]ert(?![a-zA-Z]))
  | \\(?:text|operatorname\*?|mathrm|textrm|mbox)\s*\{(?P<text>[^{}]*)\}
  | \\(?P<cmd>[a-zA-Z]+|.)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<word>[^\W\d_][^\W_]*)
  | (?P<sym>.)""", re.VERBOSE | re.DOTALL)
_VALEND, _VALSTART = {"name", "val", "close"}, {"name", "val", "open", "func"}


# single letters a sheet uses for a function it names but may not define: f(…) is never a product
_FUNCTION_LETTERS = set("f g F G L J R P E phi psi Phi Psi".split())


def _is_differential(toks) -> bool:
    """``d``, ``dx``, ``d \\ sigmoid``, ``\\mathrm{d}x``: the parts of a derivative d…/dx."""
    words = [v for k, v, _ in toks if k in ("word", "text")]
    return bool(words) and (words[0] == "d" or re.fullmatch(r"d[a-zA-Z]", words[0]) is not None)


def _unknown_function(written, name=None):
    name = name or written
    return (f"{written}(…) calls a function the sheet does not define: define it on the sheet "
            f"({written}(x) = …) or choose one with --define {name}=sigmoid (relu, tanh, exp, …); "
            f"for a product write {written} \\cdot (…)")


class _Sheet:
    """What every span of one sheet shares while it is read."""

    def __init__(self, define=None, given=None):
        self.notes: list[str] = []           # "read as: …" where the reader chose a meaning
        self.functions: dict = {}            # f -> (converter, params, rhs span): f(x; w) = …
        self.called: set = set()             # functions called somewhere (not statements then)
        self.calling: list = []              # the calls being expanded (recursion guard)
        self.define = dict(define or {})     # f -> function name chosen by the user
        self.labels: set = set()             # (base, letter): h^a, o^s are names, not powers
        self.data: dict = {}                 # name -> shape of a value the sheet or the user gives
        self.numbers: dict = {}              # name -> a number the sheet gives (N = 3)
        self.given = dict(given or {})       # name -> shape of a value given with --at
        self.implied: dict = {}              # N -> (count, offset): a sum's limit that the data give
        self.declared: dict = {}             # name -> shape declared on the sheet (ints or symbols)
        self.convolution = False             # the sheet speaks of a convolution: O = I * K
        self.entries: dict = {}              # o -> (o_y, offset): a name with a letter subscript
        self.summed: dict = {}               # o -> offset: a vector whose entries a sum runs over

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)


class _Fail(Exception):
    """Untranslatable input at an offset of the pasted text (becomes an InputError)."""


class _Item:
    """A piece of output: kind is name, val, func, open, close, op or sep."""
    __slots__ = ("kind", "text", "pos", "atomic", "suffix", "post", "transposed", "bold", "tex")

    def __init__(self, kind, text, pos, atomic=True):
        self.kind, self.text, self.pos, self.atomic = kind, text, pos, atomic
        self.suffix, self.post, self.transposed = "", "", False   # W^{(1)} → "_1"; x^2 → "^2"
        self.bold, self.tex = False, None          # \mathbf{w}; the sheet's LaTeX of a name, W^{(1)}

    def render(self):
        return self.text + self.suffix + self.post


def looks_like_latex(text: str) -> bool:
    """True when ``text`` has a ``$`` or a backslash command (``\\frac``, ``\\|``, ``\\lambda``…)."""
    return "$" in text or re.search(r"\\(?:[a-zA-Z]+|\|)", text) is not None


def _tokens(text, lo, hi):
    """(kind, value, offset) triples; delimiters become open/close (value ( [ {) or bar/lbar/rbar (| ||)."""
    out, pos = [], lo
    while pos < hi:
        m = _TOKEN.match(text, pos, hi)
        kind, v, start, pos = m.lastgroup, m.group(m.lastgroup), m.start(), m.end()
        if kind == "envname":
            if v.rstrip("*") not in _TRANSPARENT:
                out.append((m["env"], v, start))
        elif kind == "delim" and v[-1] in "([{)]}":
            out.append(("open" if v[-1] in "([{" else "close", v[-1], start))
        elif kind == "delim":
            side = {"l": "lbar", "r": "rbar"}.get((m["lr"] or v.lstrip("\\"))[0], "bar")
            out.append((side, "||" if v in ("\\|", "||") or "V" in v else "|", start))
        elif kind != "ws" and not (kind == "cmd" and v in _SKIP):
            out.append((kind, v, start))
    return out


def _tex_of(item) -> str:
    """The LaTeX of a name item as read so far: ``W``, ``\\beta``, ``\\hat{y}``, ``\\mathbf{x}_{1}``."""
    base, sub = item.text, item.suffix.lstrip("_")
    hat = base.endswith("hat") and len(base) > 3
    core = base[:-3] if hat else base
    core = "\\" + core if core in GREEK else core
    core = "\\hat{" + core + "}" if hat else core
    core = "\\mathbf{" + core + "}" if item.bold else core
    return core + (f"_{{{sub}}}" if sub else "")
