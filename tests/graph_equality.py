"""Graph equality for the tests: two ComputationGraphs are the same when their nodes match one to
one (op, params, kind, default value, operands) up to the names of anonymous nodes."""
from collections import Counter

import numpy as np

from graphviz_bp.reading.parser import parse_program


def _program_names(g) -> set:
    """Names the program binds (targets, aliases, inputs): the nodes that must keep their names."""
    return {s.target for s in parse_program(g.text) if s.target} | {n.name for n in g.nodes if n.kind == "input"}


def _value_key(v):
    if v is None:
        return None
    a = np.asarray(v, dtype=float)
    return a.shape, tuple(a.ravel().tolist())


def signature(g, intern: dict, rename=None):
    """Each node as a small int: equal ints are equal nodes (op, params, kind, default value,
    operands), with the name only for named nodes; anonymous ones (a, b, …, const_k) are unnamed.
    ``rename`` maps names of ``g`` to the names they must match (``W1`` → ``W_1``)."""
    named, rename = _program_names(g), rename or {}
    ids = []
    for n in g.nodes:
        key = (rename.get(n.name, n.name) if n.name in named and n.kind != "const" else None, n.op,
               tuple(sorted(n.params.items())), n.kind, _value_key(n.default), tuple(ids[j] for j in n.args))
        ids.append(intern.setdefault(key, len(intern)))
    names = {rename.get(name, name): ids[i] for name, i in g._names.items() if name in named}
    return Counter(ids), names, ids[g._output]


def assert_same_graph(a, b, rename=None):
    """The same graph up to the names of anonymous nodes (``rename``: names of ``a`` → of ``b``)."""
    intern: dict = {}
    sa, sb = signature(a, intern, rename), signature(b, intern)
    assert sa[2] == sb[2] and sa[1] == sb[1] and sa[0] == sb[0], \
        f"different graphs:\n{a.text}\n---\n{b.text}"
