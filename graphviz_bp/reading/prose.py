r"""Prose around the formulas of a pasted sheet: which math spans are statements, which are mentions.

A sheet mixes definitions (``$$L = \|Xw - y\|^2$$``) with math that only *mentions* something
inside a sentence (``where $x$ is the input``, ``Find the inverse $f^{-1}(t)$.``).  The rules:

* A span is *inline in prose* when it is ``$…$`` or ``\(…\)`` with words beside it on its line.
  Inline, a formula without ``=`` is a mention (a question, a name, a size) and is not read;
  neither is a claim whose left side is not a name (``$\ln \sigma(x) = -softplus(-x)$``) or a
  question (``$L = ?$``).  Display math (``$$…$$``, ``\[…\]``) and text without ``$`` are read.
* Sizes stated in prose are shape declarations: ``$a$ and $x$ are vectors of size $1 \times n$``,
  ``$W$ is a $3 \times 2$ matrix`` (like ``W \in \mathbb{R}^{3 \times 2}`` in a formula).

Nothing here evaluates anything.
"""
from __future__ import annotations

import re

_OPENER = re.compile(r"(?<!\\)(\$\$|\$|\\\[|\\\()")
_CLOSERS = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}


class SpanError(Exception):
    """An unterminated math span: (message, offset)."""


def spans(text: str) -> list[tuple[int, int, bool]]:
    """``(start, end, inline_in_prose)`` of each math span; with no ``$`` at all, each line with a
    ``=`` or a backslash (never prose)."""
    if not _OPENER.search(text):
        return [(m.start(), m.end(), False) for m in re.finditer(r"[^\n]*[=\\][^\n]*", text)]
    out, i = [], 0
    lines = {} if "\\(" not in text else None    # per line (with \( spans a line's answer depends on the span)
    while m := _OPENER.search(text, i):
        end = re.compile(r"(?<!\\)" + re.escape(_CLOSERS[m.group()])).search(text, m.end())
        if end is None or (m.group() == "$" and "\n" in text[m.end():end.start()]):
            raise SpanError(f"unterminated {m.group()}", m.start())
        inline = m.group() in ("$", "\\(") and _words_beside(text, m.start(), end.end(), lines)
        out.append((m.end(), end.start(), inline))
        i = end.end()
    return out


def _words_beside(text, start, end, lines: dict | None = None) -> bool:
    """Words on the span's line outside any math: the span sits in a sentence.  ``lines`` keeps the
    answer per line (issue 19: 10⁵ spans on one line were read 10⁵ times, quadratic)."""
    lo = text.rfind("\n", 0, start) + 1
    if lines is not None and lo in lines:
        return lines[lo]
    hi = text.find("\n", end)
    line = text[lo:start] + " " + text[end:hi if hi >= 0 else len(text)]
    line = re.sub(r"(?<!\\)\$[^$]*\$", " ", line)
    found = re.search(r"[^\W\d_]{2,}", line) is not None
    if lines is not None:
        lines[lo] = found
    return found


_NAME = r"\$\s*(?:\\(?:mathbf|boldsymbol|bm|vec)\s*\{\s*)?([A-Za-z])\s*\}?\s*\$"
_SIZE = re.compile(
    # issue 19: one way to read the spaces between names, and at most 20 names, so a text of
    # 10⁵ "$x$ " is read in linear time (the old (?:$x$\s*(?:,|and)?\s*)+ backtracked: 2^n)
    r"((?:" + _NAME + r"(?:\s*(?:,|and|et|und|и))?\s*){1,20})"
    r"(?:(?:is|are|est|sont|ist|sind|—|-)\s+)?(?:an?|un|une|des|ein|eine)?\s*"
    r"(?P<noun>(?:(?:column|row)\s+)?(?:vectors?|matri(?:x|ces)|vecteurs?|tensors?|вектор\w*|матриц\w*))?\s*"
    r"(?P<size>of\s+(?:size|shape|dimension)s?|de\s+(?:taille|dimension)|размер\w*)?\s*"
    r"\$\s*([A-Za-z0-9_{}\\ ]+?)\s*\\times\s*([A-Za-z0-9_{}\\ ]+?)\s*\$", re.IGNORECASE)


def _dim(text):
    text = text.strip().strip("{}").strip()
    return int(text) if text.isdigit() else text


def size_declarations(text: str) -> dict[str, tuple]:
    r"""Names given a size in a sentence: ``$a$ and $x$ are vectors of size $1 \times n$`` →
    ``{"a": (1, "n"), "x": (1, "n")}`` (a whole number where the sheet writes one).

    >>> size_declarations(r"where $a$ and $x$ are vectors of size $1 \times n$.")
    {'a': (1, 'n'), 'x': (1, 'n')}
    """
    from ..core.limits import check_deadline
    out = {}
    for t in re.finditer(r"\\times", text):     # issue 19: only near a \times, under the time budget
        check_deadline("reading the sheet's sizes")
        for m in _SIZE.finditer(text, max(0, t.start() - 600), t.end() + 80):
            if not (m["noun"] or m["size"]):
                continue
            shape = (_dim(m.group(m.lastindex - 1)), _dim(m.group(m.lastindex)))
            for name in re.findall(_NAME, m.group(1)):
                out[name] = shape
    return out


def mentions_convolution(text: str) -> bool:
    """The sheet speaks of a convolution (then ``O = I * K`` of two matrices is one)."""
    return re.search(r"convol|свёртк|свертк|faltung", text, re.IGNORECASE) is not None
