"""The computation graph: statements → nodes in topological order, and a networkx DAG.

One node per input, constant, named intermediate and anonymous operation. A
name used twice is one node with several out-edges; ``x*x`` is one edge
carrying both operand positions (so its local derivative is ``2*x``).
Anonymous operations are named ``a``, ``b``, ``c``, … by topological
generation, then in order of appearance, skipping names the program uses —
for ``f = x^2 + x*y + (x + y)^2`` that gives ``a = x²``, ``b = x·y``,
``c = x + y``, ``d = a + b``, ``e = c²`` as the course sheets draw it.
A scalar constant is one node per distinct value, named by its value (``2``).
"""
from __future__ import annotations

import gc
import re
from functools import cached_property
from itertools import count
from string import ascii_lowercase

from .errors import InputError
from .limits import Limits, check_deadline, current as current_limits
from .ops import OPS
from ..reading.parser import Apply, Literal, Name, Num, Statement, parse_program


class Node:
    """One vertex of the graph; see ARCHITECTURE.md for the fields."""
    __slots__ = ("index", "name", "op", "args", "params", "kind", "default", "src", "line", "column", "expr",
                 "fn")

    def __init__(self, index, name, op, args, params, kind, default, src, line, column, expr=None):
        self.index, self.name, self.op, self.args, self.params = index, name, op, args, params
        self.kind, self.default, self.src, self.line, self.column, self.expr = kind, default, src, line, column, expr
        self.fn = OPS.get(op)

    @property
    def is_leaf(self) -> bool:
        return not self.args

    def __repr__(self):
        return f"Node({self.name!r}, op={self.op!r}, args={self.args})"


# The one rule for "is this input a parameter?" (drawn with a double border, updated by an SGD or
# training step when no --wrt says otherwise): the names courses give weights, biases and kernels.
PARAMETER_NAME = re.compile(r"^(?:W|w|b|V|U|K|theta|θ|weights?|bias(?:es)?|kernel)(?:_?\d+|_\w+)?$")


def is_parameter(name: str) -> bool:
    """Whether an input's name is one courses give a weight, bias or kernel (``W1``, ``b_2``, ``θ``).

    >>> [n for n in ["W1", "w", "b_out", "x", "y", "lambda", "K", "theta"] if is_parameter(n)]
    ['W1', 'w', 'b_out', 'K', 'theta']
    """
    return PARAMETER_NAME.match(name) is not None


def parameters(g) -> list[str]:
    """The graph's parameters in program order: inputs whose names are parameter names."""
    return [n.name for n in g.nodes if n.kind == "input" and is_parameter(n.name)]


def _const_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


class ComputationGraph:
    """A program as a graph of operations. Build it with :func:`graphviz_bp.parse`.

    >>> g = parse("f = x^2 + x*y + (x + y)^2")
    >>> sorted((n.name, g.formula(n)) for n in g.nodes if n.args)
    [('a', 'x^2'), ('b', 'x·y'), ('c', 'x + y'), ('d', 'a + b'), ('e', 'c^2'), ('f', 'd + e')]
    >>> g.evaluate(at={"x": 1, "y": 2})["f"]
    12.0
    >>> g.gradients(at={"x": 1, "y": 2})
    {'x': 10.0, 'y': 7.0}
    """

    def __init__(self, nodes: list[Node], names: dict[str, int], output: int, text: str = "",
                 limits: Limits | None = None):
        self.nodes = nodes
        self._names = names          # every name the program binds (aliases too) -> node index
        self._output = output
        self.text = text
        self.limits = limits or current_limits()
        self._eval_cache = None
        self.syntax = "plain"        # "latex" when the text was translated from LaTeX
        self.tex_names: dict[str, str] = {}   # name -> its LaTeX on the sheet, e.g. W_1 -> W^{(1)}
        self.variables: list[str] = []        # f(x, y) = … on a sheet: the default --wrt

    # --- lookup -----------------------------------------------------------------------
    @property
    def output(self) -> str:
        """Name of the output node."""
        return self.nodes[self._output].name

    @property
    def leaves(self) -> list[str]:
        """Named leaves (inputs and parameters) in program order; constants excluded."""
        return [n.name for n in self.nodes if n.kind == "input"]

    def index(self, name: str) -> int:
        """Index of the node a name refers to; an unknown name is an InputError."""
        try:
            return self._names[name]
        except KeyError:
            known = [n for n in self._names if not n[:1].isdigit() and not n.startswith("-")]
            known = ", ".join(known[:30]) + (f", … ({len(known)} names)" if len(known) > 30 else "")
            raise InputError(f"no node named {name!r} in the program (names: {known})", kind="name") from None

    def node(self, name: str) -> Node:
        return self.nodes[self.index(name)]

    def with_output(self, name: str) -> "ComputationGraph":
        """The same graph with another node as the output (``--output NAME``)."""
        g = ComputationGraph(self.nodes, self._names, self.index(name), self.text, self.limits)
        g.syntax, g.tex_names, g.variables = self.syntax, self.tex_names, self.variables
        return g

    @cached_property
    def consumers(self) -> list[list[int]]:
        """For each node, the distinct nodes that use it, in topological order."""
        out: list[list[int]] = [[] for _ in self.nodes]
        for node in self.nodes:
            for j in dict.fromkeys(node.args):
                out[j].append(node.index)
        return out

    @cached_property
    def dag(self):
        """The graph as a ``networkx.DiGraph`` (node ids are names), built on first access.

        Node attributes: ``op``, ``kind``, ``label``, ``formula``, ``src``, ``line``, ``column``;
        edge attribute ``positions``: which operands of the target the source is.
        """
        import networkx as nx
        from ..showing.notation import pretty_name, sheet_names

        dag = nx.DiGraph(output=self.output)
        names = [n.name for n in self.nodes]
        with sheet_names(self):
            dag.add_nodes_from((n.name, {"op": n.op, "kind": n.kind, "label": pretty_name(n.name),
                                         "formula": self.formula(n), "src": n.src,
                                         "line": n.line, "column": n.column}) for n in self.nodes)
        for n in self.nodes:
            for j in dict.fromkeys(n.args):
                dag.add_edge(names[j], n.name,
                             positions=tuple(k for k, a in enumerate(n.args) if a == j))
        return dag

    def formula(self, node: Node | str) -> str:
        """How the node's operation is written over its operands' names, e.g. ``‖b‖₂²``."""
        from ..showing.notation import fmt_number, pretty_name
        node = node if isinstance(node, Node) else self.node(node)
        if node.is_leaf:
            return pretty_name(node.name) if node.kind != "const" else fmt_number(node.default) \
                if not hasattr(node.default, "shape") else "const"
        params = dict(node.params)
        if "index" in params:
            idx = params["index"]
            params["index"] = ", ".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)
        if "p" in params:
            params["p"] = _const_name(params["p"])
        # a scalar constant is written as its number: pretty_name would make 0.58 "0.₅₈"
        operands = [self.nodes[j].name if self.nodes[j].kind == "const" and self.nodes[j].default.__class__ is float
                    else pretty_name(self.nodes[j].name) for j in node.args]
        text = node.fn.formula.format(*operands, **params)
        if node.op == "conv2d" and params.get("stride", 1) != 1:
            text += f" (stride {params['stride']})"
        return text

    # --- algorithms (each in its own module) ------------------------------------------------
    def evaluate(self, at=None) -> dict:
        """Every node's value: ``{name: float | ndarray}``. See :mod:`graphviz_bp.core.evaluate`."""
        from .evaluate import evaluate
        return evaluate(self, at)

    def reverse(self, at=None, record: bool = False):
        """Reverse accumulation; see :func:`graphviz_bp.algorithms.reverse.reverse`."""
        from ..algorithms.reverse import reverse
        return reverse(self, at, record=record)

    def gradients(self, at=None, wrt=None, method: str = "reverse") -> dict:
        """∂output/∂leaf for each leaf in ``wrt`` (default: all named leaves), shaped like the leaf.

        ``method`` is ``"reverse"``, ``"forward"`` (one forward pass per leaf) or ``"paths"``
        (the sum over all derivative paths; refuses graphs with too many paths).
        """
        from ..algorithms.gradients import gradients
        return gradients(self, at, wrt, method)

    def local_numeric(self, u: str, v: str, at=None):
        """Numeric local derivative ∂v/∂u on edge u→v: elementwise (a float or an array shaped
        like u, or like v for a broadcast), or ``None`` for an op that only has a vector–Jacobian rule."""
        from .evaluate import local_partial
        return local_partial(self, self.index(u), self.index(v), at)

    def local_symbolic(self, u: str, v: str):
        """Symbolic local derivative ∂v/∂u as a SymPy expression in the graph's names, or None."""
        from ..algorithms.symbolic import local_symbolic
        return local_symbolic(self, self.index(u), self.index(v))

    def local_rule(self, u: str, v: str) -> str:
        """The local derivative as text: the SymPy expression when there is one, else the VJP rule."""
        from ..algorithms.symbolic import local_text
        return local_text(self, self.index(u), self.index(v))

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return f"<ComputationGraph {len(self.nodes)} nodes, output {self.output!r}>"

    def _repr_svg_(self):
        from ..showing.render import render_svg
        return render_svg(self)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self._repr_svg_(), "text/plain": repr(self)}


# --- building -----------------------------------------------------------------------------


def _anonymous_names(used):
    for letter in ascii_lowercase:
        if letter not in used:
            yield letter
    for k in count(1):
        for letter in ascii_lowercase:
            name = f"{letter}_{k}"
            if name not in used:
                yield name


def build(statements: list[Statement], text: str = "", limits: Limits | None = None,
          output: str | None = None) -> ComputationGraph:
    """Nodes from statements, operands before users; names anonymous operations."""
    limits = limits or current_limits()
    nodes: list[Node] = []
    names: dict[str, int] = {}
    defined_at: dict[str, int] = {}     # name -> line of its assignment
    used_at: dict[str, tuple] = {}      # name -> (line, col) of its first use
    consts: dict[float, int] = {}
    max_nodes = limits.max_nodes

    def new(name, op, args, params, kind, default, src, line, col, expr=None):
        if len(nodes) >= max_nodes:
            limits.refuse("max_nodes", f"a graph of more than {max_nodes} nodes", line, col)
        nodes.append(Node(len(nodes), name, op, args, params, kind, default, src, line, col, expr))
        return len(nodes) - 1

    def leaf(name_expr: Name) -> int:
        i = names.get(name_expr.id)
        if i is None:
            i = names[name_expr.id] = new(name_expr.id, "input", (), {}, "input", None, name_expr.id,
                                          name_expr.line, name_expr.col)
        used_at.setdefault(name_expr.id, (name_expr.line, name_expr.col))
        return i

    def const(e) -> int:
        if e.__class__ is Num:
            key = e.value
            if key not in consts:
                consts[key] = new(_const_name(key), "const", (), {}, "const", float(key), e.src, e.line, e.col)
                names.setdefault(nodes[consts[key]].name, consts[key])
            return consts[key]
        return new(None, "const", (), {}, "const", e.value, e.src, e.line, e.col)

    def build_expr(root, target: str | None) -> int:
        if root.__class__ is Apply and all(a.__class__ is Name for a in root.args):
            # the common one-op line (`a3 = a2 * y`): no traversal needed
            args = tuple(leaf(a) for a in root.args)
            return new(target, root.op, args, root.params, "intermediate", None, root.src, root.line, root.col,
                       root)
        # iterative post-order: a 100,000-term sum is a left-deep tree
        result: dict[int, int] = {}
        stack = [(root, False)]
        while stack:
            e, ready = stack.pop()
            cls = e.__class__
            if cls is Name:
                result[id(e)] = leaf(e)
            elif cls is Num or cls is Literal:
                result[id(e)] = const(e)
            elif not ready:
                stack.append((e, True))
                stack.extend((a, False) for a in reversed(e.args))
            else:
                args = tuple(result.pop(id(a)) for a in e.args)
                name = target if e is root else None
                result[id(e)] = new(name, e.op, args, e.params, "intermediate", None, e.src, e.line, e.col, e)
        return result[id(root)]

    for k, st in enumerate(statements):
        if not k & 4095:
            check_deadline("building the graph")
        e, target = st.expr, st.target
        if target is not None and target in defined_at:
            raise InputError(f"{target!r} is assigned twice (first on line {defined_at[target]}); "
                             f"give the new value another name", st.line, st.col)
        if target is not None and e.__class__ in (Num, Literal):
            i = names.get(target)
            if i is None:
                i = names[target] = new(target, "input", (), {}, "input", None, target, st.line, st.col)
            node = nodes[i]
            if node.kind != "input":
                raise InputError(f"{target!r} is already an operation; give the value another name",
                                 st.line, st.col)
            node.default = e.value if e.__class__ is Literal else float(e.value)
            node.line, node.column = st.line, st.col
        elif target is not None and e.__class__ is Name and target not in names:
            names[target] = leaf(e)           # an alias: yhat = h3 names the same node
        else:
            if target is not None and target in names:   # (also "a1 = y" then "y = x": y was an input)
                line, col = used_at.get(target, (st.line, st.col))
                raise InputError(f"{target!r} is used on line {line}, column {col} before it is defined "
                                 f"on line {st.line}; define names before using them", st.line, st.col)
            i = build_expr(e, target)
            if target is not None and target in names:      # f = f + 1
                line, col = used_at.get(target, (st.line, st.col))
                raise InputError(f"{target!r} is used in its own definition (line {line}, column {col}); "
                                 f"give the new value another name", st.line, st.col, kind="name")
            if target is not None:
                names[target] = i
        if target is not None:
            defined_at[target] = st.line
        last = names[target] if target is not None else i


    # name anonymous operations by generation, then order of appearance
    anonymous = [n for n in nodes if n.name is None and n.kind != "const"]
    if anonymous:
        generation = [0] * len(nodes)
        for n in nodes:
            if n.args:
                generation[n.index] = 1 + max(generation[j] for j in n.args)
        used = set(names)
        fresh = _anonymous_names(used)
        for n in sorted(anonymous, key=lambda n: (generation[n.index], n.index)):
            n.name = next(fresh)
            names[n.name] = n.index
    tensor_consts = (n for n in nodes if n.name is None)
    for k, n in enumerate(tensor_consts, 1):
        n.name = f"const_{k}"
        names[n.name] = n.index
    if output is not None and output not in names:
        raise InputError(f"--output {output!r}: no such name in the program", kind="name")
    out = names[output] if output is not None else last
    nodes[out].kind = "output" if nodes[out].kind == "intermediate" else nodes[out].kind
    return ComputationGraph(nodes, names, out, text, limits)


SYNTAXES = ("auto", "plain", "latex")


def read_program(text: str, syntax: str = "auto"):
    """``(program in the plain notation, Translation or None)``: LaTeX is translated first.

    ``syntax="auto"`` reads the text as LaTeX when it holds ``$…$`` or a backslash command.
    """
    if not isinstance(text, str):
        raise InputError(f"a program is text, not {type(text).__name__}", kind="usage")
    if syntax not in SYNTAXES:
        raise InputError(f"unknown syntax {syntax!r} (choose one of {', '.join(SYNTAXES)})", kind="usage")
    if syntax == "latex" or syntax == "auto" and ("\\" in text or "$" in text):
        from ..reading.latex import looks_like_latex, translate
        if syntax == "latex" or looks_like_latex(text):
            translation = translate(text)
            return translation.program, translation
    return text, None


def parse(text: str, limits: Limits | None = None, output: str | None = None,
          syntax: str = "auto") -> ComputationGraph:
    """Parse a program into a graph: the notation of DESIGN §1, or LaTeX pasted from a sheet.

    ``syntax="auto"`` reads the text as LaTeX when it holds ``$…$`` or a backslash command
    (``\\frac``, ``\\|``, ``\\lambda``), else as the plain notation; ``"plain"`` and ``"latex"``
    force one.  A LaTeX program is translated to the notation first (:mod:`graphviz_bp.reading.latex`);
    ``g.text`` is then the translation, ``g.tex_names`` maps names to the sheet's LaTeX and
    ``g.variables`` holds the arguments of a left side ``f(x, y) = …`` (the default ``wrt``).

    >>> g = parse("X = [[-1], [1], [-2]]; Y = [[0, -2], [0, -2], [0, -2]]; W = [[1, 1]]; lambda = -1\\n"
    ...           "L = ||X*W - Y||_2^2 + lambda*||W||_1")
    >>> g.evaluate()["L"], g.gradients(wrt=["W"])["W"].tolist()
    (14.0, [[11.0, 3.0]])
    >>> g = parse(r"$$f(x, y) = x^2 + xy + (x + y)^2.$$")
    >>> g.syntax, g.variables, g.text
    ('latex', ['x', 'y'], 'f = x^2 + x * y + (x + y)^2\\n')
    """
    limits = limits or current_limits()
    source, translation = read_program(text, syntax)
    # a long program allocates ~10 objects per term and none of them form cycles: the cyclic GC's
    # full passes over the growing heap would make parsing a 100,000-line chain about twice slower
    collect = len(source) > 100_000 and gc.isenabled()
    if collect:
        gc.disable()
    try:
        g = build(parse_program(source, limits), source, limits, output)
    except InputError as e:
        if translation:                 # a name or shape error: where it stands in the pasted text
            from ..reading.latex import at_origin
            raise at_origin(e, translation.origins) from None
        raise
    finally:
        if collect:
            gc.enable()
    if translation:
        for n in g.nodes:               # errors found later (shapes, values) point into the pasted text
            if n.line is not None and 0 < n.line <= len(translation.origins):
                n.line, n.column = translation.origins[n.line - 1]
        g.syntax = "latex"
        g.tex_names = {k: v for k, v in translation.tex_names.items() if k in g._names}
        g.variables = [v for v in translation.variables if v in g._names and g.node(v).kind == "input"]
    return g
