"""Autograd walk: grad_fn chain -> networkx.DiGraph with forward-direction edges.

Node ids are `n<k>`, k the position in a deterministic depth-first walk from the
roots (the loss's grad_fn is `n0`). No recursion, so a 1M-node chain is fine.
The walk runs on every backward, so it touches each node once and keeps Python
work per node small (~2 µs): per-type and per-dtype facts are cached.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import sys
from array import array
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field

import networkx as nx
import torch
from torch.autograd.function import BackwardCFunction

from core.stats import _names, name_of


@dataclass
class Walk:
    graph: nx.DiGraph
    fns: list  # grad_fn objects in id order: fns[k] is node f"n{k}"
    ids: dict  # grad_fn -> node id
    signature: str
    leaves: list = field(default_factory=list)  # k of every AccumulateGrad node (params and leaves)


def root_fn(t: torch.Tensor):
    """The autograd node a backward from `t` starts at (AccumulateGrad for a leaf)."""
    if t.grad_fn is not None:
        return t.grad_fn
    if t.requires_grad:
        return torch.autograd.graph.get_gradient_edge(t).node
    return None


def node_kind(fn) -> str:
    if isinstance(fn, BackwardCFunction):
        return "custom"
    if type(fn).__name__ == "AccumulateGrad":
        return "param" if isinstance(fn.variable, torch.nn.Parameter) else "leaf"
    return "op"


_types: dict[type, tuple[str, str | None, int]] = {}  # grad_fn class -> (op, kind unless AccumulateGrad, code)


def _type_info(cls: type) -> tuple[str, str | None, int]:
    info = _types.get(cls)
    if info is None:
        op = cls.__name__
        kind = None if op == "AccumulateGrad" else "custom" if issubclass(cls, BackwardCFunction) else "op"
        code = int.from_bytes(hashlib.blake2b(op.encode(), digest_size=7).digest(), "little")  # stable
        info = _types[cls] = (op, kind, code)
    return info


@contextmanager
def paused_gc():
    """No cyclic collection inside: the walk allocates ~5 containers per node, and each pass of the
    collector would also scan every graph still alive (2-3x the walk). Allocations still count, so
    at most one pass follows. Nests."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def walk(roots: list) -> Walk:
    """Walk from the root grad_fns; every node reachable through next_functions."""
    if _held:
        reap()
    with paused_gc():
        w, edges = _walk(roots)
        if len(w.fns) >= DEEP:
            _held.append(_parents_first(w.fns, edges))
            while len(_held) > 4:
                _release(_held.popleft()[0])
    return w


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


def _parents_first(fns: list, edges: list[tuple[int, int]]) -> tuple[list, int]:
    """The node objects, each before the nodes it feeds from (Kahn), and how many roots lead."""
    children: list[list[int]] = [[] for _ in fns]
    parents = [0] * len(fns)
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
    return [fns[k] for k in order], roots


def _release(fns: list) -> None:
    fns.reverse()
    fns.clear()  # clears from the end: the first (a root) goes first


atexit.register(reap, True)


def _walk(roots: list) -> Walk:
    ids: dict = {}
    fns: list = []
    attrs: list = []
    nexts_of: list = []
    leaves: list = []
    sig: list[int] = []  # op code, rank, dims per node: hashed into the signature
    names = _names
    stack = [fn for fn in reversed(roots) if fn is not None]
    while stack:
        fn = stack.pop()
        if fn in ids:
            continue
        k = len(fns)
        ids[fn] = k
        fns.append(fn)
        op, kind, code = _types.get(type(fn)) or _type_info(type(fn))
        if kind is None:  # AccumulateGrad: the leaf tensor itself
            m = fn.variable
            kind = "param" if isinstance(m, torch.nn.Parameter) else "leaf"
            leaves.append(k)
        else:
            md = fn._input_metadata
            m = md[0] if md else None
        if m is not None:
            shape, dt, dv = list(m.shape), m.dtype, m.device
            dtype, device = names.get(dt) or name_of(dt), names.get(dv) or name_of(dv)
        else:
            shape, dtype, device = [], "", ""
        sig.append(code)
        sig.append(len(shape))
        sig.extend(shape)
        attrs.append({"op": op, "kind": kind, "shape": shape, "dtype": dtype, "device": device,
                      "name": None, "module": None, "source": None})
        nexts = fn.next_functions
        nexts_of.append(nexts)
        for child, _ in reversed(nexts):
            if child is not None and child not in ids:
                stack.append(child)
    nids = [f"n{k}" for k in range(len(fns))]
    edges = [(ids[child], k) for k, nexts in enumerate(nexts_of) for child, _ in nexts if child is not None]
    g = _digraph(nids, attrs, edges)
    h = hashlib.blake2b(array("q", sig).tobytes(), digest_size=8)
    h.update(array("q", [x for e in edges for x in e]).tobytes())
    return Walk(g, fns, {fn: nids[k] for fn, k in ids.items()}, h.hexdigest(), leaves), edges


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


def annotate(w: Walk, param_name, by_tensor: dict, by_fn: dict, module_of: dict, sources: dict) -> list[str]:
    """Set names, modules and sources on the walked graph; returns the ids of param nodes and named leaves.

    Touches only the nodes that have something to set: leaves, and the ops found in
    `by_fn` (script variables), `module_of` (module outputs) and `sources`.
    """
    nodes = w.graph.nodes
    ids = w.ids
    named = []
    for k in w.leaves:
        nid = f"n{k}"
        a = nodes[nid]
        var = w.fns[k].variable
        name = param_name.get(var) or by_tensor.get(id(var))
        a["name"] = name
        if a["kind"] == "param" or name:
            named.append(nid)
        if name and "." in name and a["kind"] == "param":
            a["module"] = name.rsplit(".", 1)[0]
    for key, table in (("name", by_fn), ("module", module_of), ("source", sources)):
        for fn, value in table.items():
            nid = ids.get(fn)
            if nid is not None:
                nodes[nid][key] = value
    return named
