"""Autograd walk: grad_fn chain -> networkx.DiGraph with forward-direction edges.

Node ids are `n<k>`, k the position in a deterministic depth-first walk from the
roots (the loss's grad_fn is `n0`). No recursion, so a 1M-node chain is fine.
The walk runs on every backward, so it touches each node once and keeps Python
work per node small (~2 µs): per-type and per-dtype facts are cached.
"""

from __future__ import annotations

import atexit
import hashlib
import math
import sys
import weakref
from array import array
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import networkx as nx
import torch
from torch.autograd.function import BackwardCFunction

from .. import gcpause
from ..iteration import node_id, node_ids, node_number
from .stats import MAX_VALUES, _names, name_of


@dataclass
class Walk:
    graph: nx.DiGraph | None  # None until built (a repeated structure's graph comes from its Structure)
    fns: list  # grad_fn objects in id order: fns[k] is node node_id(k)
    index: dict  # grad_fn -> k
    key: tuple  # the structure as the walk met it: op types, shapes, leaf identities, edges
    metas: list = field(default_factory=list)  # per node: the leaf tensor or the output's metadata (or None)
    signature: str = ""
    leaves: list = field(default_factory=list)  # k of every AccumulateGrad node (params and leaves)

    @property
    def ids(self) -> dict:
        """grad_fn -> node id."""
        return {fn: node_id(k) for fn, k in self.index.items()}


@dataclass
class Structure:
    """A structure already walked and annotated: its graph holds only the static attributes (op, kind,
    name, module, source, shape...). Every iteration that repeats it shares that graph's adjacency and
    attribute dicts, so a repeated structure costs one bare walk and no networkx, names or dicts."""

    graph: nx.DiGraph
    signature: str
    leaves: list
    named: list  # ids of param nodes and named leaves
    edges: list  # (child k, parent k)
    tensors: list  # weak references to the leaf tensors, in `leaves` order
    captured: bool = False  # walked after a captured forward: its ops have their sources and modules
    _order: tuple | None = None  # _parents_first of its nodes, for graphs of DEEP nodes or more
    _twins: dict | None = None  # see view_twins

    def release_order(self) -> tuple[list[int], int]:
        if self._order is None:
            self._order = _parents_first(len(self.graph), self.edges)
        return self._order

    def view_twins(self, fns: list) -> dict[str, str]:
        """{node id: the id of the node whose gradient, rearranged, is its own}, in walk order (consumers
        first): an op whose whole output goes into one view op (reshape, transpose, squeeze...) has that op's
        gradient; a view op of a leaf that feeds nothing else has the leaf's. The same elements, so the same
        statistics; only for more elements than stats.MAX_VALUES (a summary without values). `fns`: a walk."""
        if self._twins is None:
            uses: dict[int, list[int]] = {}
            for producer, consumer in self.edges:
                uses.setdefault(producer, []).append(consumer)
            node = self.graph._node
            twins = {}
            for k, consumers in uses.items():
                a, c = node[node_id(k)], node_id(consumers[0])
                if len(consumers) != 1 or node[c]["op"] not in VIEW_OPS or math.prod(a["shape"]) <= MAX_VALUES:
                    continue
                if a["kind"] == "op" and fns[consumers[0]].next_functions[0][1] == 0:
                    twins[node_id(k)] = c
                elif a["kind"] in ("param", "leaf"):
                    twins.setdefault(c, node_id(k))
            self._twins = {n: twins[n] for n in sorted(twins, key=node_number)}
        return self._twins

    @classmethod
    def of(cls, w: Walk, named: list, edges: list, captured: bool = False) -> Structure:
        static = {n: dict(a) for n, a in w.graph.nodes(data=True)}  # before any number is set
        tensors = [weakref.ref(w.fns[k].variable) for k in w.leaves]
        return cls(_frozen(static, w.graph), w.signature, w.leaves, named, edges, tensors, captured)

    def repeats(self, w: Walk) -> bool:
        """The same leaf tensors as when it was recorded."""
        fns = w.fns
        return all(ref() is fns[k].variable for ref, k in zip(self.tensors, self.leaves, strict=True))

    def adopt(self, w: Walk, names, by_tensor: dict) -> bool:
        """Whether `w` (the same structure over other leaf tensors: inputs made anew each iteration) names
        its leaves as this structure does (`names`: core.trace.naming.Names); if so the structure now
        stands for those tensors."""
        nodes = self.graph._node
        tensors = [w.fns[k].variable for k in self.leaves]
        if any(names.param(t, by_tensor.get(id(t))) != nodes[node_id(k)]["name"]
               for t, k in zip(tensors, self.leaves, strict=True)):
            return False
        self.tensors = [weakref.ref(t) for t in tensors]
        return True

    def own_graph(self) -> nx.DiGraph:
        """A graph of this structure with attribute dicts of its own (a full iteration writes its numbers
        there), the adjacency shared: a repeat needs no networkx build, names or module attribution."""
        g = nx.DiGraph()
        g._node = {n: dict(a) for n, a in self.graph._node.items()}
        g._succ, g._pred = self.graph._succ, self.graph._pred
        g._adj = g._succ
        return g

    def instance(self, numbers: dict[str, dict]) -> nx.DiGraph:
        """A frozen graph of this structure carrying one iteration's `numbers` (node id -> {"value":
        summary, "grad": summary}). Nodes without numbers share the structure's dicts: read, never write."""
        node = self.graph._node.copy()
        for nid, extra in numbers.items():
            node[nid] = {**node[nid], **extra}
        return _frozen(node, self.graph)


def _frozen(node: dict, like: nx.DiGraph) -> nx.DiGraph:
    """A frozen DiGraph with the attribute dicts `node` and the adjacency of `like`, shared, not copied."""
    g = nx.DiGraph()
    g._node, g._succ, g._pred = node, like._succ, like._pred
    g._adj = g._succ
    return nx.freeze(g)


class Structures:
    """Structures seen so far by walk key, least recently used dropped past LIMIT nodes in all."""

    LIMIT = 500_000

    def __init__(self):
        self._by_key: OrderedDict[tuple, Structure] = OrderedDict()
        self._nodes = 0
        self._last: tuple = ((), None)  # the last key found and its structure: most iterations repeat it

    def get(self, key: tuple) -> Structure | None:
        last, s = self._last
        if s is not None and key == last:  # one comparison, no hash of a key of thousands of items
            return s
        s = self._by_key.get(key)
        if s is not None:
            self._by_key.move_to_end(key)
            self._last = (key, s)
        return s

    def put(self, key: tuple, s: Structure) -> None:
        old = self._by_key.pop(key, None)
        self._nodes += len(s.graph) - (len(old.graph) if old is not None else 0)
        self._by_key[key] = s
        self._last = ((), None)
        while self._nodes > self.LIMIT and len(self._by_key) > 1:
            self._nodes -= len(self._by_key.popitem(last=False)[1].graph)


def grad_fn_of(t) -> object | None:
    """`t.grad_fn` for a tensor, else None; also None where reading it raises: torch rebuilds a view's
    grad_fn lazily and refuses for a view made under no_grad whose base changed in place since
    (transformers' weight init makes such views). The script never asked for it: we must not fail."""
    if not isinstance(t, torch.Tensor):
        return None
    try:
        return t.grad_fn
    except RuntimeError:
        return None


def root_fn(t: torch.Tensor):
    """The autograd node a backward from `t` starts at (AccumulateGrad for a leaf)."""
    if t.grad_fn is not None:
        return t.grad_fn
    if t.requires_grad:
        return torch.autograd.graph.get_gradient_edge(t).node
    return None


_types: dict[type, tuple[str, str | None, int]] = {}  # grad_fn class -> (op, kind unless AccumulateGrad, code)


def _type_info(cls: type) -> tuple[str, str | None, int]:
    info = _types.get(cls)
    if info is None:
        op = cls.__name__
        kind = None if op == "AccumulateGrad" else "custom" if issubclass(cls, BackwardCFunction) else "op"
        code = int.from_bytes(hashlib.blake2b(op.encode(), digest_size=7).digest(), "little")  # stable
        info = _types[cls] = (op, kind, code)
    return info


def walk(roots: list) -> Walk:
    """Walk from the root grad_fns (every node reachable through next_functions) and build the graph."""
    w = bare_walk(roots)
    build(w)
    return w


def bare_walk(roots: list) -> Walk:
    """The nodes in walk order and the structure's key, nothing built (~0.7 µs/node)."""
    if _held:
        reap()
    with gcpause.paused():
        return _bare(roots)


def build(w: Walk, known: Structure | None = None) -> list[tuple[int, int]]:
    """Give `w` its graph, signature and leaves (from `known`, the structure it repeats, when given);
    returns the edges (child k, parent k)."""
    with gcpause.paused():
        if known is None:
            edges = _build(w)
        else:
            w.graph, w.signature, w.leaves, edges = known.graph, known.signature, known.leaves, known.edges
        if len(w.fns) >= DEEP:
            order, roots = known.release_order() if known is not None else _parents_first(len(w.fns), edges)
            fns = w.fns
            _held.append(([fns[k] for k in order], roots))
            while len(_held) > 4:
                _release(_held.popleft()[0])
    return edges


# Once Python has seen an autograd node, torch frees it through its Python object, recursively: a
# chain of ~60k such nodes overflows the C stack when it dies. So the node objects of a big graph
# stay held here until the graph is gone, then are let go parents first: each frees one node.
DEEP = 10_000
_held: deque = deque()


def reap(force: bool = False) -> None:
    """Let go of held node objects whose graph is gone (all of them when `force`)."""
    alive = []
    while _held:
        fns, roots = _held.popleft()
        # a root held only by this list (and the call's argument) is no longer part of a live graph
        if force or all(sys.getrefcount(fns[i]) <= 2 for i in range(roots)):
            _release(fns)
        else:
            alive.append((fns, roots))
    _held.extend(alive)


def _parents_first(n: int, edges: list[tuple[int, int]]) -> tuple[list[int], int]:
    """The `n` nodes (by k), each before the nodes it feeds from (Kahn), and how many roots lead."""
    children: list[list[int]] = [[] for _ in range(n)]
    parents = [0] * n
    for child, parent in edges:
        children[parent].append(child)
        parents[child] += 1
    order = [k for k, n in enumerate(parents) if n == 0]
    roots = len(order)
    for k in order:  # the list grows while it is read: a breadth-first queue
        for c in children[k]:
            parents[c] -= 1
            if parents[c] == 0:
                order.append(c)
    return order, roots


def _release(fns: list) -> None:
    fns.reverse()
    fns.clear()  # clears from the end: the first (a root) goes first


atexit.register(reap, True)


def _bare(roots: list) -> Walk:
    """Depth-first from the roots; the key records every pop (a new node's type, shape and number of
    inputs, a leaf's class, dtype and device; a back-reference to a node met before; -1 for a missing input), which
    determines the structure. Node order: first pops, as `n0`, `n1`..."""
    index: dict = {}
    fns: list = []
    key: list = []
    metas: list = []
    push, extend, meta = key.append, key.extend, metas.append
    types = _types
    stack = [fn for fn in reversed(roots) if fn is not None]
    while stack:
        fn = stack.pop()
        if fn is None:
            push(-1)
            continue
        k = index.get(fn)
        if k is not None:
            push(k)
            continue
        index[fn] = len(fns)
        fns.append(fn)
        cls = type(fn)
        push(cls)
        if (types.get(cls) or _type_info(cls))[1] is None:  # AccumulateGrad
            var = fn.variable
            meta(var)
            push(var.shape)  # not its identity (the same structure may run over new leaf tensors): what it is
            push(type(var))
            push(var.dtype)
            push(var.device)
        else:
            md = fn._input_metadata
            if md:
                m = md[0]
                meta(m)
                shape = m.shape  # a list: its length, then its dims
                push(len(shape))
                extend(shape)
            else:
                meta(None)
                push(-1)
        nexts = fn.next_functions
        push(len(nexts))
        for child, _ in reversed(nexts):
            stack.append(child)
    return Walk(None, fns, index, tuple(key), metas)


def _build(w: Walk) -> list[tuple[int, int]]:
    """The graph (node attributes, forward-direction edges) and signature of walked nodes."""
    index = w.index
    attrs: list = []
    edges: list[tuple[int, int]] = []
    leaves: list = []
    sig: list[int] = []  # op code, rank, dims per node: hashed into the signature
    names = _names
    push_sig, extend_sig, add_attrs, add_edge = sig.append, sig.extend, attrs.append, edges.append
    for k, (fn, m) in enumerate(zip(w.fns, w.metas, strict=True)):
        op, kind, code = _types.get(type(fn)) or _type_info(type(fn))
        if kind is None:  # AccumulateGrad: the leaf tensor itself
            kind = "param" if isinstance(m, torch.nn.Parameter) else "leaf"
            leaves.append(k)
            shape = list(m.shape)
        elif m is not None:
            shape = m.shape  # a new list each read
        if m is not None:
            dt, dv = m.dtype, m.device
            dtype, device = names.get(dt) or name_of(dt), names.get(dv) or name_of(dv)
        else:
            shape, dtype, device = [], "", ""
        push_sig(code)
        push_sig(len(shape))
        extend_sig(shape)
        add_attrs({"op": op, "kind": kind, "shape": shape, "dtype": dtype, "device": device,
                   "name": None, "module": None, "source": None, "module_type": None,
                   "dim": _dim(fn, len(shape)) if op in DIM_OPS else None})
        for child, _ in fn.next_functions:
            if child is not None:
                add_edge((index[child], k))
    nids = node_ids(len(w.fns))
    w.graph = _digraph(nids, attrs, edges)
    h = hashlib.blake2b(array("q", sig).tobytes(), digest_size=8)
    h.update(array("q", [x for e in edges for x in e]).tobytes())
    w.signature, w.leaves = h.hexdigest(), leaves
    return edges


# ops whose input gradient is their output gradient rearranged, every element once (not expand, select, slice)
VIEW_OPS = frozenset({"ViewBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0", "AliasBackward0",
                      "TransposeBackward0", "TBackward0", "PermuteBackward0", "SqueezeBackward0", "SqueezeBackward1",
                      "SqueezeBackward2", "UnsqueezeBackward0", "CloneBackward0"})
DIM_OPS = {"SoftmaxBackward0", "LogSoftmaxBackward0"}  # ops whose `dim` the graph keeps (the doctor's softmax-dim)


def _dim(fn, ndim: int) -> int | None:
    """The op's saved `dim`, counted from 0 (autograd keeps -1 as an unsigned 64-bit number)."""
    dim = getattr(fn, "_saved_dim", None)
    if not isinstance(dim, int) or ndim == 0:
        return None
    return (dim - (1 << 64) if dim >= 1 << 63 else dim) % ndim


def _digraph(names: list[str], attrs: list[dict], edges: list[tuple[int, int]]) -> nx.DiGraph:
    """The DiGraph `add_nodes_from` + `add_edges_from` would build, filled directly (3x faster).

    networkx is pinned; tests/test_graph_perf.py checks the result equals the public-API build.
    """
    g = nx.DiGraph()
    node, succ, pred = g._node, g._succ, g._pred
    for name, a in zip(names, attrs, strict=True):
        node[name] = a
        succ[name] = {}
        pred[name] = {}
    for u, v in edges:
        su, sv = names[u], names[v]
        out = succ[su]
        if sv not in out:
            out[sv] = pred[sv][su] = {}
    return g


def set_module_types(g: nx.DiGraph, types: dict[str, str]) -> None:
    """Each node's module_type: the class names along its module's path (Names.module_types)."""
    for a in g._node.values():
        m = a["module"]
        if m is not None:
            a["module_type"] = types.get(m)


def annotate(w: Walk, names, by_tensor: dict, by_fn: dict, module_of: dict, sources: dict) -> list[str]:
    """Set names, modules and sources on the walked graph; returns the ids of param nodes and named leaves.

    Touches only the nodes that have something to set: leaves, and the ops found in
    `by_fn` (script variables), `module_of` (module outputs) and `sources`.
    """
    nodes = w.graph.nodes
    index = w.index
    named = []
    for k in w.leaves:
        nid = node_id(k)
        a = nodes[nid]
        var = w.fns[k].variable
        name = names.param(var, by_tensor.get(id(var)))  # core.trace.naming.Names: the one naming rule
        a["name"] = name
        if a["kind"] == "param" or name:
            named.append(nid)
        if name and "." in name and a["kind"] == "param":
            a["module"] = name.rsplit(".", 1)[0]
    for key, table in (("name", by_fn), ("module", module_of), ("source", sources)):
        for fn, value in table.items():
            k = index.get(fn)
            if k is not None:
                nodes[node_id(k)][key] = value
    return named
