"""Graph extraction cost per node, new and repeated structures, beside a bare walk; a 1M-node chain."""

from __future__ import annotations

import sys
import time

import torch
from torch import nn

from benchmarks.common import emit, line

TARGET_NEW_US = 5.0
TARGET_REPEATED_US = 1.0
TARGET_BESIDE = 1.5  # or within this factor of the bare walk measured beside it
TARGET_CHAIN = 2.0


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


def bare_walk(root) -> list:
    """The floor the issue names: next_functions walked with a dict of seen nodes, an edge list and
    name() per node; no networkx, no attribute dicts."""
    seen = {root: 0}
    names = [root.name()]
    edges = []
    stack = [root]
    while stack:
        fn = stack.pop()
        k = seen[fn]
        for child, _ in fn.next_functions:
            if child is not None:
                c = seen.get(child)
                if c is None:
                    c = seen[child] = len(names)
                    names.append(child.name())
                    stack.append(child)
                edges.append((c, k))
    return edges


def plain_seconds(model: nn.Module, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        loss = model(torch.randn(4))
        t = time.perf_counter()
        edges = bare_walk(loss.grad_fn)
        best = min(best, time.perf_counter() - t)
        del edges, loss
    return best


def extraction_seconds(model: nn.Module, repeats: int = 3) -> tuple[float, float, int, dict[str, float]]:
    """Least time of the tracer's per-iteration graph work on a fresh graph (a new forward each
    time: first touches of new autograd nodes cost more than re-walks): for a new structure (walk,
    networkx, names, signature, the structure kept) and for a repeated one (walk, recognised); and the
    new structure's parts (least of each)."""
    from backprop_studio.core import gcpause
    from backprop_studio.core.trace import graph, naming

    names = naming.Names()
    names.register_root(model)
    frame = sys._getframe()
    new = repeated = float("inf")
    parts = {"walk": float("inf"), "graph": float("inf"), "names": float("inf")}
    nodes = 0
    for r in range(repeats + 1):
        known = graph.Structures()
        for first in (True, False):  # a new structure, then the same structure in the next forward
            loss = model(torch.randn(4))
            t = time.perf_counter()
            with gcpause.paused():  # as the tracer does it
                w = graph.bare_walk([loss.grad_fn])
                s = known.get(w.key)
                if s is not None and s.repeats(w):
                    graph.build(w, s)
                    s.instance({})
                else:
                    t1 = time.perf_counter()
                    edges = graph.build(w)
                    t2 = time.perf_counter()
                    by_tensor, by_fn = naming.frame_names(frame)
                    named = graph.annotate(w, names, by_tensor, by_fn, {}, {})
                    known.put(w.key, graph.Structure.of(w, named, edges))
                    if r:
                        t3 = time.perf_counter()
                        for key, v in (("walk", t1 - t), ("graph", t2 - t1), ("names", t3 - t2)):
                            parts[key] = min(parts[key], v)
            dt = time.perf_counter() - t
            assert (s is None) == first
            if r:  # the first round warms up
                new, repeated = (min(new, dt), repeated) if first else (new, min(repeated, dt))
            nodes = len(w.fns)
            del w, loss
    return new, repeated, nodes, parts


def chain_1m() -> None:
    """A 1M-node chain through the real tracer (light detail): it must not overflow the stack."""
    from backprop_studio.core.trace.tracer import Tracer

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


def chain_ratio(n: int = 10_000, rounds: int = 7) -> tuple[float, float, str]:
    """A `n`-node chain (forward and backward each iteration) recorded by default (auto detail, a
    RecordingWriter sink, as `record` does) over the same iteration untraced: rounds alternate, minima
    compared. Returns the ratio, the plain seconds and the detail of the iterations recorded."""
    import os
    import tempfile

    from backprop_studio.core.recording.store import RecordingWriter
    from backprop_studio.core.trace.tracer import Tracer

    def iteration() -> float:
        x = torch.ones(2, requires_grad=True)
        t = time.perf_counter()
        y = x
        for _ in range(n):
            y = y * 1.0001
        y.sum().backward()
        return time.perf_counter() - t

    details: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        writer = RecordingWriter(os.path.join(tmp, "chain.bps"))

        def sink(it):
            details.append(it.detail)
            writer.add_iteration(it)

        tracer = Tracer(sink)
        plain = traced = float("inf")
        for _ in range(rounds):
            plain = min(plain, iteration())
            tracer.install()
            try:
                traced = min(traced, iteration())
            finally:
                tracer.uninstall()
        writer.close("finished")
    return traced / plain, plain, f"{details.count('full')}/{len(details)} full"


def run(quick: bool = False) -> None:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    for n in sizes:
        model = Deep(max(1, (n - 66) // 3))
        new, repeated, nodes, parts = extraction_seconds(model)
        plain = plain_seconds(model)
        us_new, us_rep, us_bare = (x / nodes * 1e6 for x in (new, repeated, plain))
        beside = f"a bare walk (seen dict, edge list, name() per node) measured beside it: {us_bare:.2f} µs/node"
        split = ", ".join(f"{k} {v / nodes * 1e6:.2f}" for k, v in (("the walk (and its key)", parts["walk"]),
                          ("networkx graph and signature", parts["graph"]), ("names and the structure kept", parts["names"])))
        emit(line(f"graph extraction, new structure (walk + networkx + names + signature), {n // 1000}k nodes",
                  f"{us_new:.2f} µs/node ({nodes} nodes, {new * 1e3:.1f} ms; of it in µs/node: {split}; {beside}, "
                  f"ratio {new / plain:.2f}x)", f"<= {TARGET_NEW_US:g} µs/node", us_new <= TARGET_NEW_US))
        emit(line(f"graph extraction, repeated structure (walk, recognised, shared graph), {n // 1000}k nodes",
                  f"{us_rep:.2f} µs/node ({repeated * 1e3:.1f} ms; {beside}, ratio {repeated / plain:.2f}x)",
                  f"<= {TARGET_REPEATED_US:g} µs/node or <= {TARGET_BESIDE:g}x the bare walk",
                  us_rep <= TARGET_REPEATED_US or repeated / plain <= TARGET_BESIDE))
        del model
    ratio, plain, full = chain_ratio(rounds=3 if quick else 7)
    emit(line("a 10k-node chain recorded by default (auto, RecordingWriter sink) over plain, forward and backward",
              f"{ratio:.2f}x (plain {plain * 1e3:.1f} ms; {full})", f"<= {TARGET_CHAIN:g}x", ratio <= TARGET_CHAIN))
    if not quick:
        chain_1m()
