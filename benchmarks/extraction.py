"""Graph extraction cost: walk + networkx graph + signature + names, per node; a 1M-node chain."""

from __future__ import annotations

import sys
import time

import networkx as nx
import torch
from torch import nn

from benchmarks.common import emit, line

TARGET_US = 5.0


class Deep(nn.Module):
    """Residual chain of small ops sharing 64 named parameters: ~3 autograd nodes per block."""

    def __init__(self, blocks: int):
        super().__init__()
        self.blocks = blocks
        self.scales = nn.ParameterList(nn.Parameter(torch.full((4,), 0.5)) for _ in range(64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i in range(self.blocks):
            a = h * self.scales[i % 64]
            h = torch.tanh(a) + h
        return h.sum()


def plain_walk(root) -> nx.DiGraph:
    """The floor the issue names: next_functions walked into a networkx graph, nothing else."""
    g = nx.DiGraph()
    seen = {root}
    stack = [root]
    while stack:
        fn = stack.pop()
        g.add_node(fn)
        for child, _ in fn.next_functions:
            if child is not None:
                g.add_edge(child, fn)
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    return g


def plain_seconds(model: nn.Module, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        loss = model(torch.randn(4))
        t = time.perf_counter()
        g = plain_walk(loss.grad_fn)
        best = min(best, time.perf_counter() - t)
        del g, loss
    return best


def extraction_seconds(model: nn.Module, repeats: int = 3) -> tuple[float, float, int]:
    """Least time of the tracer's per-iteration graph work (walk, names, annotate) on a fresh graph
    (a new forward each time: first touches of new autograd nodes cost more than re-walks)."""
    from core import graph, naming

    names = naming.Names()
    names.register_root(model)
    frame = sys._getframe()
    fresh = again = float("inf")
    nodes = 0
    for _ in range(repeats):
        loss = model(torch.randn(4))
        for first in (True, False):  # a new graph, then the same graph walked again
            t = time.perf_counter()
            with graph.paused_gc():  # as the tracer does it
                w = graph.walk([loss.grad_fn])
                by_tensor, by_fn = naming.frame_names(frame)
                graph.annotate(w, names.param_name, by_tensor, by_fn, {}, {})
            dt = time.perf_counter() - t
            fresh, again = (min(fresh, dt), again) if first else (fresh, min(again, dt))
            nodes = w.graph.number_of_nodes()
            del w
        del loss
    return fresh, again, nodes


def chain_1m() -> None:
    """A 1M-node chain through the real tracer (light detail): it must not overflow the stack."""
    from core.tracer import Tracer

    x = torch.ones(2, requires_grad=True)
    y = x
    t = time.perf_counter()
    for _ in range(1_000_000):
        y = y * 1.0001
    built = time.perf_counter() - t
    its = []
    tracer = Tracer(its.append, detail="light")
    tracer.install()
    try:
        t = time.perf_counter()
        y.sum().backward()
        traced = time.perf_counter() - t
    except RecursionError as e:
        emit(line("1M-node chain traced", f"RecursionError: {e}", "no stack overflow", False))
        return
    finally:
        tracer.uninstall()
    n = its[0].graph.number_of_nodes()
    ok = n == 1_000_002 and x.grad is not None
    emit(line("1M-node chain traced (light detail, backward included)",
              f"{n} nodes in {traced:.1f} s ({traced / n * 1e6:.2f} µs/node; chain built in {built:.1f} s)",
              "no stack overflow, every node", ok))


def run(quick: bool = False) -> None:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    for n in sizes:
        model = Deep(max(1, (n - 66) // 3))
        seconds, again, nodes = extraction_seconds(model)
        plain = plain_seconds(model)
        us = seconds / nodes * 1e6
        emit(line(f"graph extraction (walk + networkx + signature + names), {n // 1000}k nodes",
                  f"{us:.2f} µs/node on a new graph ({nodes} nodes, {seconds * 1e3:.1f} ms; walking the same "
                  f"graph again {again / nodes * 1e6:.2f} µs/node; a bare next_functions walk into networkx, "
                  f"measured beside it: {plain / nodes * 1e6:.2f} µs/node, ratio {seconds / plain:.2f}x)",
                  f"<= {TARGET_US:g} µs/node", us <= TARGET_US))
        del model
    if not quick:
        chain_1m()
