"""The computation graph: statements → nodes in topological order, and a networkx DAG.

One node per input, constant, named intermediate and anonymous operation. A
name used twice is one node with several out-edges; ``x*x`` is one edge
carrying both operand positions (so its local derivative is ``2*x``).
Anonymous operations are named ``a``, ``b``, ``c``, … by topological
generation, then in order of appearance, skipping names the program uses —
for ``f = x^2 + x*y + (x + y)^2`` that gives ``a = x²``, ``b = x·y``,
``c = x + y``, ``d = a + b``, ``e = c²`` as the course sheets draw it.
A scalar constant is one node per distinct value, named by its value (``2``).

The graph is plain data at the bottom of the package: it imports no reader, algorithm or
renderer.  Algorithms are functions of it (:mod:`graphviz_bp.algorithms`); the public
``graphviz_bp.ComputationGraph`` adds thin methods that call them (:mod:`graphviz_bp.api`).
"""
from __future__ import annotations

import re
from functools import cached_property
from itertools import count
from string import ascii_lowercase

from .errors import InputError
from .notation import Notation
from .limits import Limits, check_deadline, current as current_limits
from .ops import OPS
from .syntax import Apply, Literal, Name, Num, Statement


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
# An element of the scalar view (W1[0, 1]) is a parameter when its tensor is.
PARAMETER_NAME = re.compile(r"^(?:W|w|b|V|U|K|theta|θ|weights?|bias(?:es)?|kernel)(?:_?\d+|_\w+)?(?:\[[\d, ]+\])?$")


def is_parameter(name: str) -> bool:
    """Whether an input's name is one courses give a weight, bias or kernel (``W1``, ``b_2``, ``θ``).

    >>> [n for n in ["W1", "w", "b_out", "x", "y", "lambda", "K", "theta", "W2[0,1]", "x[1]"] if is_parameter(n)]
    ['W1', 'w', 'b_out', 'K', 'theta', 'W2[0,1]']
    """
    return PARAMETER_NAME.match(name) is not None


def parameters(g) -> list[str]:
    """The graph's parameters in program order: inputs whose names are parameter names."""
    return [n.name for n in g.nodes if n.kind == "input" and is_parameter(n.name)]


def updated_parameters(wrt: list[str], explicit: bool) -> list[str]:
    """The leaves an SGD step updates: ``wrt`` when the user gave it, else the weights and biases among
    them by name (``W``, ``W1``, ``w``, ``b2``, ``theta``), else all of them."""
    if explicit:
        return list(wrt)
    named = [n for n in wrt if is_parameter(n)]
    return named or list(wrt)


def wrt_names(g, wrt) -> list[str]:
    """The inputs a gradient is taken with respect to: ``wrt`` (names or "a,b") checked to be inputs,
    else ``f(x, y) = …``'s variables on a sheet, else every input."""
    if wrt is None:                 # f(x, y) = … on a sheet: x and y; else every input
        return list(g.variables or g.leaves)
    if isinstance(wrt, str):
        wrt = [w for w in wrt.split(",") if w.strip()]
    out = []
    for name in wrt:
        name = name.strip()
        node = g.node(name)
        if not node.is_leaf or node.kind == "const":
            raise InputError(f"--wrt {name}: {name!r} is computed by the program; gradients are taken "
                             f"with respect to inputs ({', '.join(g.leaves)})", kind="name")
        out.append(name)
    return out


def _const_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


class Graph:
    """A program as a graph of operations: nodes in topological order (operands before users).

    Build one with :func:`graphviz_bp.parse`.  Fields: ``nodes``, ``output`` (its name),
    ``leaves``, ``text`` (the program in the plain notation), ``syntax`` (``"plain"`` or
    ``"latex"``), ``tex_names`` (name → the sheet's LaTeX), ``variables`` (``f(x, y) = …``:
    the default ``wrt``), ``declared_shapes`` (name → shape declared on the sheet, dimensions as
    ints or symbols), ``reading_notes`` (what the reader chose, one line each), ``functions``
    (``--define f=sigmoid``: name → the function chosen), ``limits``.

    >>> from graphviz_bp import parse
    >>> g = parse("f = x^2 + x*y + (x + y)^2")
    >>> sorted((n.name, n.op) for n in g.nodes if n.args)
    [('a', 'pow'), ('b', 'mul'), ('c', 'add'), ('d', 'add'), ('e', 'pow'), ('f', 'add')]
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
        self.declared_shapes: dict[str, tuple] = {}
        self.reading_notes: list[str] = []
        self.functions: dict[str, str] = {}   # --define f=sigmoid: what a function the sheet only names is

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

    def derive(self, nodes: list[Node] | None = None, names: dict | None = None, output: int | None = None):
        """A graph of the same class and sheet (names, variables) with other nodes or another output."""
        g = type(self)(self.nodes if nodes is None else nodes, self._names if names is None else names,
                       self._output if output is None else output, self.text, self.limits)
        g.syntax, g.tex_names, g.variables = self.syntax, self.tex_names, self.variables
        g.declared_shapes, g.reading_notes = self.declared_shapes, self.reading_notes
        g.functions = self.functions
        return g

    def with_output(self, name: str):
        """The same graph with another node as the output (``--output NAME``)."""
        return self.derive(output=self.index(name))

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

        Node attributes: ``op``, ``kind``, ``src``, ``line``, ``column``; edge attribute
        ``positions``: which operands of the target the source is.  (Names and formulas as on
        paper: ``g.notation``.)
        """
        import networkx as nx

        dag = nx.DiGraph(output=self.output)
        names = [n.name for n in self.nodes]
        dag.add_nodes_from((n.name, {"op": n.op, "kind": n.kind, "src": n.src,
                                     "line": n.line, "column": n.column}) for n in self.nodes)
        for n in self.nodes:
            for j in dict.fromkeys(n.args):
                dag.add_edge(names[j], n.name,
                             positions=tuple(k for k, a in enumerate(n.args) if a == j))
        return dag

    @cached_property
    def notation(self):
        """How this graph's names, numbers and formulas are written (:class:`graphviz_bp.core.notation.Notation`)."""
        return Notation(self)

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return f"<{type(self).__name__} {len(self.nodes)} nodes, output {self.output!r}>"


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
          output: str | None = None, cls: type | None = None) -> Graph:
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
    return (cls or Graph)(nodes, names, out, text, limits)
