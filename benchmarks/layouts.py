"""Layout and SVG export of big graphs: OGDF for 10k / 100k nodes, dot for small ones, the cache."""

from __future__ import annotations

import json
import os
import tempfile

import torch
from torch import nn

from benchmarks.common import PYTHON, ROOT, best_of, emit, line, run_child

CHAR_W, LINE_H = 7.0, 14.0  # the graph view's default font metrics (gui/graph/model.box_size)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)
        self.act = nn.ReLU()
        with torch.no_grad():  # small steps: 1,666 blocks stay finite (no NaN/Inf marks everywhere)
            self.lin.weight.normal_(0.0, 0.001)
            self.lin.bias.zero_()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.act(self.lin(h))


def residual_net(nodes: int) -> nn.Sequential:
    """Residual blocks of Linear + ReLU: 6 autograd nodes per block (addmm, t, weight, bias, relu, add)."""
    return nn.Sequential(*(Block() for _ in range(max(1, nodes // 6))))


def traced_graph(nodes: int, detail: str):
    """The Iteration of one backward through a `nodes`-node residual net, as the tracer records it."""
    from backprop_studio.core.trace.tracer import Tracer

    torch.manual_seed(0)
    net = residual_net(nodes)
    its = []
    tracer = Tracer(its.append, detail=detail)
    tracer.install()
    try:
        net(torch.randn(2, 8)).pow(2).mean().backward()
    finally:
        tracer.uninstall()
    return its[0]


def boxes(g, collapsed: frozenset = frozenset()):
    """(nodes with sizes, edges) as the graph view lays them out."""
    from backprop_studio.gui.graph import model as gm

    dg = gm.display_graph(g, collapsed)
    nodes = [(b, *map(float, gm.box_size(d, CHAR_W, LINE_H))) for b, d in dg.nodes.items()]
    return nodes, dg.edges


def gui_seconds(it_json: str, expand: bool = True) -> tuple[float, float, int, int]:
    """Seconds until the graph view has drawn the iteration (default view, then all expanded), in a child."""
    code = f"""
import json, sys, time
sys.path.insert(0, {ROOT!r})
import benchmarks
from PySide6.QtWidgets import QApplication
from backprop_studio.core.iteration import Iteration
from backprop_studio.gui.graph.view import GraphView
app = QApplication([])
it = Iteration.from_json(json.load(open({it_json!r})))
view = GraphView(); view.resize(1400, 900); view.show(); app.processEvents()
done = []
view.sig_layout_done.connect(lambda n: done.append(n))
def wait(k):
    t = time.perf_counter()
    while len(done) < k and time.perf_counter() - t < 120:
        app.processEvents()
        time.sleep(0.001)
    app.processEvents()
    return time.perf_counter() - t
t = time.perf_counter(); view.set_iteration(it); first = wait(1)
second = 0.0
if {expand!r}:
    view.expand_all(); second = wait(2)
print(json.dumps([first, second] + done + [0]))
"""
    seconds, done = run_child([PYTHON, "-c", code], timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    first, second, n1, n2 = json.loads(done.stdout.strip().splitlines()[-1])[:4]
    return first, second, n1, n2


def run(quick: bool = False) -> None:
    from backprop_studio.core.recording.store import Recording, RecordingWriter
    from backprop_studio.core.render import export, layout
    from backprop_studio.gui.graph import model as gm

    small = traced_graph(250, "full")
    nodes, edges = boxes(small.graph)
    t = best_of(lambda: layout.layout(nodes, edges, "dot"), 3)
    emit(line(f"layout, dot, {len(nodes)}-node graph", f"{t:.2f} s", "<= 1 s", t <= 1.0))

    big = traced_graph(10_000, "full")
    nodes, edges = boxes(big.graph)
    t = best_of(lambda: layout.layout(nodes, edges, "ogdf"), 3)
    emit(line(f"layout, OGDF, {len(nodes)}-node graph, every node shown", f"{t:.2f} s", "<= 1 s", t <= 1.0))

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "it.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(big.to_json(), f)
        try:
            first, second, n1, n2 = gui_seconds(path)
            emit(line(f"graph view, {big.graph.number_of_nodes()}-node iteration on screen (default view: "
                      f"{n1} boxes, modules collapsed)", f"{first:.2f} s", "<= 1 s", first <= 1.0))
            emit(line(f"graph view, same iteration, all {n2} nodes expanded", f"{second:.2f} s", "<= 1 s",
                      second <= 1.0))
        except Exception as e:  # noqa: BLE001 - the GUI part is measured when it runs here
            emit(line("graph view, 10k-node iteration on screen", f"could not run ({e})", "<= 1 s", False))

        bps = os.path.join(tmp, "big.bps")
        writer = RecordingWriter(bps)
        writer.add_iteration(big)
        writer.close("finished")
        svg = os.path.join(tmp, "big.svg")
        t = best_of(lambda: export.write(Recording(bps), "svg", svg), 2)
        emit(line(f"SVG export, {big.graph.number_of_nodes()}-node graph", f"{t:.2f} s "
                  f"({os.path.getsize(svg) / 1e6:.1f} MB)", "<= 3 s", t <= 3.0))

    if quick:
        return
    huge = traced_graph(100_000, "light")
    g = huge.graph
    collapsed = gm.module_tree(g)
    nodes, edges = boxes(g, collapsed)
    t = best_of(lambda: layout.layout(nodes, edges), 2)
    emit(line(f"layout, {g.number_of_nodes()}-node graph collapsed by module ({len(nodes)} boxes)",
              f"{t:.2f} s", "report", None))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "huge.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(huge.to_json(), f)
        try:
            first, _, n1, _ = gui_seconds(path, expand=False)
            emit(line(f"graph view, {g.number_of_nodes()}-node iteration opens (default view: {n1} boxes)",
                      f"{first:.2f} s", "opens, <= 10 s", first <= 10.0))
        except Exception as e:  # noqa: BLE001
            emit(line("graph view, 100k-node iteration opens", f"could not run ({e})", "opens, <= 10 s", False))
    nodes, edges = boxes(g)
    t = best_of(lambda: layout.layout(nodes, edges, "ogdf"), 1)
    emit(line(f"layout, OGDF, {g.number_of_nodes()}-node graph, every node shown", f"{t:.2f} s",
              "report (the view opens it collapsed)", None))
