"""Autograd walk: grad_fn chain -> networkx.DiGraph with forward-direction edges.

Node ids are `n<k>`, k the position in a deterministic depth-first walk from the
roots (the loss's grad_fn is `n0`). No recursion, so a 1M-node chain is fine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import networkx as nx
import torch
from torch.autograd.function import BackwardCFunction


@dataclass
class Walk:
    graph: nx.DiGraph
    fns: list  # grad_fn objects in id order: fns[k] is node f"n{k}"
    ids: dict  # grad_fn -> node id
    signature: str


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


def _meta(fn, op: str) -> tuple[list, str, str]:
    if op == "AccumulateGrad":
        v = fn.variable
        return list(v.shape), str(v.dtype), str(v.device)
    md = fn._input_metadata
    if not md:
        return [], "", ""
    m = md[0]
    return list(m.shape), str(m.dtype), str(m.device)


def walk(roots: list) -> Walk:
    """Walk from the root grad_fns; every node reachable through next_functions."""
    ids: dict = {}
    fns: list = []
    nodes: list = []
    edges: list = []
    stack = [fn for fn in reversed(roots) if fn is not None]
    while stack:
        fn = stack.pop()
        if fn in ids:
            continue
        nid = f"n{len(fns)}"
        ids[fn] = nid
        fns.append(fn)
        op = type(fn).__name__
        shape, dtype, device = _meta(fn, op)
        nodes.append((nid, {"op": op, "kind": node_kind(fn), "shape": shape,
                            "dtype": dtype.removeprefix("torch."), "device": device}))
        nexts = fn.next_functions
        for child, _ in reversed(nexts):
            if child is not None and child not in ids:
                stack.append(child)
    for fn in fns:
        target = ids[fn]
        for child, _ in fn.next_functions:
            if child is not None:
                edges.append((ids[child], target))
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return Walk(g, fns, ids, structure_signature(nodes, edges))


def structure_signature(nodes: list, edges: list) -> str:
    """Hash of ops, shapes and edges: equal for the same graph structure."""
    h = hashlib.blake2b(digest_size=8)
    h.update(repr([(a["op"], a["shape"]) for _, a in nodes]).encode())
    h.update(repr(edges).encode())
    return h.hexdigest()
