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
    while m := _OPENER.search(text, i):
        end = re.compile(r"(?<!\\)" + re.escape(_CLOSERS[m.group()])).search(text, m.end())
        if end is None or (m.group() == "$" and "\n" in text[m.end():end.start()]):
            raise SpanError(f"unterminated {m.group()}", m.start())
        inline = m.group() in ("$", "\\(") and _words_beside(text, m.start(), end.end())
        out.append((m.end(), end.start(), inline))
        i = end.end()
    return out


def _words_beside(text, start, end) -> bool:
    """Words on the span's line outside any math: the span sits in a sentence."""
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    line = text[lo:start] + " " + text[end:hi if hi >= 0 else len(text)]
    line = re.sub(r"(?<!\\)\$[^$]*\$", " ", line)
    return re.search(r"[^\W\d_]{2,}", line) is not None


_NAME = r"\$\s*(?:\\(?:mathbf|boldsymbol|bm|vec)\s*\{\s*)?([A-Za-z])\s*\}?\s*\$"
_SIZE = re.compile(
    r"((?:" + _NAME + r"\s*(?:,|and|et|und|и)?\s*)+)"
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
    out = {}
    for m in _SIZE.finditer(text):
        if not (m["noun"] or m["size"]):
            continue
        shape = (_dim(m.group(m.lastindex - 1)), _dim(m.group(m.lastindex)))
        for name in re.findall(_NAME, m.group(1)):
            out[name] = shape
    return out


def mentions_convolution(text: str) -> bool:
    """The sheet speaks of a convolution (then ``O = I * K`` of two matrices is one)."""
    return re.search(r"convol|свёртк|свертк|faltung", text, re.IGNORECASE) is not None
