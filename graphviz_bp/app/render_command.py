"""``graphviz-bp render``: the command's options turned into a call of the renderer.

Format from ``-o FILE``'s extension or ``--format``; SVG/DOT to standard output without ``-o``;
``--path K`` highlights the K-th path from ``--from``; ``--frames DIR`` writes one picture per
reverse step (and per path with ``--paths``).
"""
from __future__ import annotations

import os
import sys
from itertools import islice

from ..algorithms.paths import count_paths, derivative_paths
from ..algorithms.scalar_view import scalar_view
from ..core.errors import InputError
from ..showing.layout import choose
from ..showing.render import _EXTENSIONS, _write, file_bytes, frames, parse_show


def _cli_format(args) -> str:
    fmt = args.format
    if fmt is None and args.outfile:
        fmt = _EXTENSIONS.get(os.path.splitext(args.outfile)[1].lower())
        if fmt is None:
            raise InputError(f"cannot tell the format from {args.outfile!r}: use .svg, .png, .pdf or .dot, "
                             f"or --format", kind="usage")
    fmt = fmt or "svg"
    if fmt == "tex":
        raise InputError("render writes svg, png, pdf or dot; for LaTeX use 'graphviz-bp explain --format tex'",
                         kind="usage")
    return fmt


def _cli_highlight(args, g, at) -> list | None:
    if args.path_nodes:
        return [s.strip() for s in args.path_nodes.split(",") if s.strip()]
    if args.path is None:
        return None
    src = args.source or (g.leaves[0] if g.leaves else None)
    if src is None:
        raise InputError("--path: the graph has no inputs", kind="usage")
    n = count_paths(g, src)
    if not 1 <= args.path <= n:
        raise InputError(f"--path {args.path}: there {'is' if n == 1 else 'are'} {n} path{'s' if n != 1 else ''} "
                         f"from {src!r} to {g.output!r}", kind="usage")
    path = next(islice(derivative_paths(g, src, at=at, values=False), args.path - 1, None))
    return path.nodes


def render_cli(args, g, at) -> int:
    """``graphviz-bp render``: write the picture to ``-o FILE`` (format from its name or ``--format``),
    SVG/DOT to standard output without ``-o``, and frames with ``--frames DIR``."""
    fmt = _cli_format(args)
    choose(args.engine)                      # a missing engine is a clear error before any work
    if args.scalar:
        g, at = scalar_view(g, at=at), None
    kw = dict(at=at, show=parse_show(args.show), highlight=_cli_highlight(args, g, at), step=args.step,
              theme=args.theme, rankdir=args.rankdir)
    if args.frames:
        files = frames(g, args.frames, fmt, paths=args.paths, source=args.source, engine=args.engine,
                       **{k: v for k, v in kw.items() if k not in ("step", "highlight")})
        print(f"wrote {len(files)} pictures to {args.frames}", file=sys.stderr)
        if not args.outfile:
            return 0
    if not args.outfile and fmt in ("png", "pdf"):
        raise InputError(f"{fmt} output needs -o FILE", kind="usage")
    data, notes = file_bytes(g, fmt, engine=args.engine, **kw)    # SVG portable (issue 18)
    for note in notes:
        print(f"graphviz-bp: note: {note}", file=sys.stderr)
    if args.outfile:
        _write(args.outfile, data)
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0
