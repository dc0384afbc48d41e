"""The graph view on synthetic Iterations (networkx only, no torch): responsiveness, collapse,
search, in-place updates, graph changes, NaN marks."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from PySide6.QtCore import QElapsedTimer, QTimer

from backprop_studio.core.iteration import Iteration
from backprop_studio.gui.app import freeze_startup_objects
from backprop_studio.gui.graph.view import GraphView

WAIT = 60_000


def summary(norm: float, nan: int = 0) -> dict:
    return {"shape": [4], "dtype": "float32", "norm": norm, "mean": norm / 2, "std": 0.0, "min": 0.0,
            "max": norm, "nan": nan, "inf": 0}


def node(op: str, kind: str = "op", name=None, module=None, grad=None, value=None) -> dict:
    return {"op": op, "kind": kind, "name": name, "module": module, "shape": [4], "dtype": "float32",
            "device": "cpu", "source": None, "value": value, "grad": grad}


def chain(n_ops: int, signature: str = "chain", modules: int = 0, depth_extra: int = 0) -> Iteration:
    """An autograd-like graph: a chain of ops (loss = n0 at the end), a parameter every third op,
    a skip connection every tenth; with `modules`, ops and parameters belong to blocks.<k>.{attn,mlp}."""
    g = nx.DiGraph()
    ids = iter(range(10**9))
    prev = None
    for i in range(n_ops + depth_extra):
        nid = f"n{next(ids)}"
        module = f"blocks.{i * modules // max(n_ops, 1)}.{'attn' if i % 2 else 'mlp'}" if modules else None
        g.add_node(nid, **node("AddmmBackward0", module=module, grad=summary(1.0 + i % 7)))
        if prev is not None:
            g.add_edge(nid, prev)  # forward direction: this op feeds the one nearer the loss
        if i % 3 == 0:
            pid = f"n{next(ids)}"
            name = f"{module}.weight" if module else f"w{i}"
            g.add_node(pid, **node("AccumulateGrad", "param", name=name, module=module, grad=summary(0.5)))
            g.add_edge(pid, nid)
        prev = nid
    return Iteration(0, 1.0, 0, signature, g, "full")


def show(qtbot, view: GraphView, it: Iteration) -> None:
    view.set_iteration(it)
    qtbot.waitUntil(lambda: not view.busy and bool(view.items), timeout=WAIT)


@pytest.fixture
def view(qtbot):
    v = GraphView()
    v.resize(1200, 800)
    qtbot.addWidget(v)
    v.show()
    return v


def test_10k_nodes_lay_out_in_the_background_while_the_ui_keeps_running(view, qtbot):
    it = chain(7500)
    assert it.graph.number_of_nodes() == 10_000
    freeze_startup_objects()  # as run_app does: torch, imported by other test modules, stays out of GC scans
    clock = QElapsedTimer()
    clock.start()
    gaps, last = [], [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    view.set_iteration(it)
    assert view.busy  # returned at once: the layout runs in a worker
    qtbot.waitUntil(lambda: not view.busy, timeout=WAIT)
    qtbot.wait(300)  # and the repaints after it
    timer.stop()
    assert len(view.items) == 10_000
    assert view.edges.path_count() == it.graph.number_of_edges()
    assert len(gaps) > 20  # the event loop kept running throughout (the longest stall: benchmarks/gui.py)
    image = view.grab()  # the zoomed-out overview paints in one go
    assert not image.isNull()


def test_collapsed_modules_expand_and_collapse(view, qtbot):
    it = chain(400, modules=12)
    assert it.graph.number_of_nodes() > 300  # big enough to open collapsed
    show(qtbot, view, it)
    boxes = sorted(view.items, key=lambda b: int(b.split(".")[1]))
    assert boxes == [f"module:blocks.{k}" for k in range(12)]  # the shallowest level with >= 12 boxes
    assert all(i.kind == "module" for i in view.items.values())
    members = sum(len(i.members) for i in view.items.values())
    assert members == it.graph.number_of_nodes()
    view.expand_module("blocks.0")
    qtbot.waitUntil(lambda: not view.busy and "module:blocks.0.attn" in view.items, timeout=WAIT)
    assert "module:blocks.0" not in view.items and "module:blocks.0.mlp" in view.items
    view.collapse_module("blocks.0")
    qtbot.waitUntil(lambda: not view.busy and "module:blocks.0" in view.items, timeout=WAIT)
    view.expand_all()
    qtbot.waitUntil(lambda: not view.busy and len(view.items) == it.graph.number_of_nodes(), timeout=WAIT)
    view.collapse_all()
    qtbot.waitUntil(lambda: not view.busy and len(view.items) == 12, timeout=WAIT)


def test_search_highlights_and_centres(view, qtbot):
    it = chain(60)
    show(qtbot, view, it)
    count = view.search("w42")
    assert count == 1
    hit = view.items[view.matches[0]]
    assert hit.found and hit.head == "w42" and view.selected_node() == hit.box_id
    assert view.visible_rect().contains(hit.sceneBoundingRect().center())
    assert view.search("AccumulateGrad") == 20
    assert sum(i.found for i in view.items.values()) == 20
    assert view.search("") == 0 and not any(i.found for i in view.items.values())


def test_same_structure_gets_new_numbers_without_a_new_layout(view, qtbot):
    it = chain(12)  # boxes with value/gradient lines (a longer chain may open compact: no lines)
    show(qtbot, view, it)
    before = dict(view.items)
    newer = chain(12)
    newer.index = 1
    newer.graph.nodes["n1"]["grad"] = summary(123.0)
    view.set_iteration(newer)
    assert not view.busy  # no layout job: same signature
    assert view.items == before and all(view.items[k] is before[k] for k in before)
    assert "grad μ 61.5 ‖·‖ 123" in view.items["n1"].text_lines()
    assert view.style_.hi == 123.0


def test_graph_change_marks_new_nodes_and_lists_removed_ones(view, qtbot):
    show(qtbot, view, chain(10, signature="short"))
    longer = chain(10, signature="long", depth_extra=3)
    show(qtbot, view, longer)
    added = [i for i in view.items.values() if i.added]
    assert len(added) == 3 + 1  # three more ops, one of them with a new parameter
    assert "3 new node" not in view.banner.text() and "4 new node(s)" in view.banner.text()
    show(qtbot, view, chain(10, signature="short"))
    assert not any(i.added for i in view.items.values())
    assert "removed: 3× AddmmBackward0" in view.banner.text()


def test_nan_gradient_is_marked(view, qtbot):
    it = chain(12)
    it.graph.nodes["n4"]["grad"] = summary(math.nan, nan=4)
    show(qtbot, view, it)
    bad = [i for i in view.items.values() if i.bad]
    assert [i.box_id for i in bad] == ["n4"]
    assert "NaN/Inf in 1 node(s)" in view.banner.text()
    assert any("NaN" in line for line in bad[0].text_lines())


def test_selecting_a_node_emits_its_id(view, qtbot):
    show(qtbot, view, chain(8))
    with qtbot.waitSignal(view.sig_node_selected) as sig:
        view.select_node("n3")
    assert sig.args == ["n3"]


def test_animate_backward_lights_nodes_loss_first_and_restores_gradients(view, qtbot):
    it = chain(4)
    show(qtbot, view, it)
    before = {k: i.norm for k, i in view.items.items()}
    lit = []
    view.animate_backward()
    assert all(i.norm is None for i in view.items.values())  # gradients hidden until their turn
    qtbot.waitUntil(lambda: (lit.append(next((i.box_id for i in view.items.values() if i.lit), None)) or
                             not view.animation.active()), timeout=WAIT)
    order = [n for k, n in enumerate(lit) if n is not None and (k == 0 or lit[k - 1] != n)]
    assert order[0] == "n0"  # the loss first, then towards the inputs
    topo = list(nx.topological_sort(it.graph))
    assert [topo.index(n) for n in order] == sorted((topo.index(n) for n in order), reverse=True)
    assert {k: i.norm for k, i in view.items.items()} == before


@pytest.mark.parametrize("presentation", [False, True])
def test_a_12_node_chain_is_readable_at_the_default_zoom(qtbot, presentation):
    """At the graph view's size in a 1600x1000 window the fitted chain keeps its text at least 12 px
    tall on screen (15 px in presentation mode); the view scrolls, with the loss in view."""
    v = GraphView()
    v.resize(900, 580)
    qtbot.addWidget(v)
    v.show()
    v.set_theme("dark" if presentation else "light", presentation)
    g = nx.DiGraph()
    for i in range(12):
        g.add_node(f"n{i}", **node("MulBackward0", grad=summary(1.0 + i)))
        if i:
            g.add_edge(f"n{i}", f"n{i - 1}")
    show(qtbot, v, Iteration(0, 1.0, 0, "chain12", g, "full"))
    v.fit()
    style = v.style_
    text_px = v.transform().m11() * style.line_h
    assert text_px >= 12 * (1.25 if presentation else 1.0) - 0.01, text_px
    assert not v.graph_scene.overview_on and all(item.isVisible() for item in v.graph_scene.items.values())
    shown = v.visible_rect()
    assert shown.contains(v.graph_scene.items["n0"].sceneBoundingRect().center())  # the loss


def test_find_selects_the_match_and_zooms_to_readable_text(view, qtbot):
    show(qtbot, view, chain(300))
    view.fit()
    assert view.transform().m11() * view.style_.line_h < 12  # 400 boxes fitted: text too small to read
    picked = []
    view.sig_node_selected.connect(picked.append)
    assert view.search("w150") == 1
    (nid,) = view.matches
    assert view.selected_node() == nid and picked[-1] == nid  # the inspector is told
    assert view.transform().m11() * view.style_.line_h >= 12 - 0.01
    assert view.visible_rect().contains(view.graph_scene.items[nid].sceneBoundingRect().center())


def test_opening_a_module_shows_it_at_a_readable_zoom(view, qtbot):
    show(qtbot, view, chain(400, modules=12))
    assert all(i.kind == "module" for i in view.items.values())
    view.expand_module("blocks.3")
    qtbot.waitUntil(lambda: not view.busy and "module:blocks.3.attn" in view.items, timeout=WAIT)
    assert view.transform().m11() * view.style_.line_h >= 12 - 0.01
    shown = view.visible_rect()
    assert any(shown.contains(i.sceneBoundingRect().center())  # a box of theirs (attn and mlp take turns
               for i in view.items.values() if i.head in ("blocks.3.attn", "blocks.3.mlp"))  # here: a box per call)


def test_the_banner_and_the_legend_hide_no_node(view, qtbot):
    it = chain(30)
    for n in list(it.graph)[:3]:
        it.graph.nodes[n]["grad"] = summary(math.nan, nan=4)  # a NaN banner
    show(qtbot, view, it)
    assert view.banner.isVisible() and view.legend.isVisible() and "NaN/Inf" in view.banner.text()
    port = view.viewport().geometry()
    for overlay in (view.banner, view.legend):
        assert overlay.geometry().bottom() < port.top(), overlay  # in the strip above the graph


def test_every_line_of_a_box_fits_in_it_also_with_an_accumulated_grad(view, qtbot):
    """A leaf whose .grad holds earlier backwards' sum (zero_grad forgotten) shows a third readout line:
    its box has room for it (the text once ran out of the box)."""
    it = chain(6)
    for _, a in it.graph.nodes(data=True):
        a["value"] = summary(2.0)
        if a["kind"] == "param":
            a["accumulated"] = summary(3.0)
    show(qtbot, view, it)
    line_h = view.style_.line_h
    for item in view.items.values():
        lines = item.text_lines()
        if item.kind == "param":
            assert any(ln.startswith(".grad ") for ln in lines)
        assert item.rect.top() + 5 + len(lines) * line_h <= item.rect.bottom() + 0.5, (item.kind, lines)
