"""Every graph opens readable: the boxes of every lesson, example and model script are drawn inside the
view at the default zoom with text at least 12 px tall; real models (a CNN, transformers) open as their
module tree, open a module in place and go back, and keep the user's view across iterations; presentation
mode shows the graph large. Scripts are traced in-process once (module fixture), first iterations only."""

from __future__ import annotations

import glob
import os
import runpy
import sys

import networkx as nx
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor

from backprop_studio.core.iteration import Iteration
from backprop_studio.core.lessons import load as load_lessons
from backprop_studio.core.trace.tracer import Tracer
from backprop_studio.gui.graph import model as gm
from backprop_studio.gui.graph.items import NodeItem
from backprop_studio.gui.graph.view import PRESENTATION_TEXT, READABLE_PX, GraphView
from tests.util import LESSONS, ROOT

WAIT = 60_000
MODELS = os.path.join(ROOT, "tests", "scripts", "models")
SCRIPTS = sorted(glob.glob(os.path.join(LESSONS, "*.py")) + glob.glob(os.path.join(ROOT, "resources", "examples",
                                                                                     "*.py"))
                 + glob.glob(os.path.join(MODELS, "*.py")))
# the graph's part of a window, beside a lesson's narration or not (measured)
PANES = {(1600, 1000): {"lesson": (759, 643), "script": (1034, 643)},
         (1280, 720): {"lesson": (602, 419), "script": (826, 419)}}


class Enough(BaseException):
    """Stops a traced script once it has given the iterations wanted (not an Exception: the tracer lets it by)."""


def record(path: str, iterations: int = 2) -> list[Iteration]:
    """The first `iterations` iterations of the script at `path`, traced in this process at full detail."""
    its: list[Iteration] = []

    def sink(it: Iteration) -> None:
        its.append(it)
        if len(its) >= iterations:
            raise Enough

    tracer = Tracer(sink, detail="full")
    argv, path_before = sys.argv, list(sys.path)
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))
    tracer.install()
    try:
        runpy.run_path(path, run_name="__main__")
    except Enough:
        pass
    finally:
        tracer.uninstall()
        sys.argv, sys.path[:] = argv, path_before
    return its


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[Iteration]]:
    """Script name -> its first iterations (scripts with no backward pass are left out)."""
    out = {}
    for path in SCRIPTS:
        its = record(path, 3 if path.startswith(MODELS) else 1)
        if its:
            out[os.path.basename(path)[:-3]] = its
    return out


def make_view(qtbot, size=PANES[1600, 1000]["script"], presentation: bool = False, theme: str = "light") -> GraphView:
    v = GraphView()
    v.resize(*size)
    qtbot.addWidget(v)
    v.show()
    v.set_theme(theme, presentation)
    return v


def show(qtbot, view: GraphView, it: Iteration) -> None:
    view.set_iteration(it)
    qtbot.waitUntil(lambda: not view.busy and bool(view.items) and view.iteration is it, timeout=WAIT)


def text_px(view: GraphView) -> float:
    return view.transform().m11() * view.style_.line_h


def on_screen(view: GraphView, item: NodeItem) -> QRect:
    """The box's outline in viewport pixels."""
    return view.mapFromScene(item.mapRectToScene(item.rect)).boundingRect()


def drawn(view: GraphView) -> list[str]:
    """Boxes painted whole inside the viewport: outline within it, and its title band not background."""
    port = view.viewport().rect().adjusted(-1, -1, 1, 1)
    image = view.viewport().grab().toImage()
    background = view.style_.colours["background"]
    ratio = image.width() / max(view.viewport().width(), 1)
    out = []
    for box, item in view.items.items():
        rect = on_screen(view, item)
        if not (item.isVisible() and port.contains(rect)):
            continue
        band = QPoint(int(rect.center().x() * ratio), int((rect.top() + 3) * ratio))
        if QColor(image.pixel(band)) != background:
            out.append(box)
    return out


def test_the_scripts_give_the_graphs_the_issue_names(recorded):
    assert {"while_doubling", "transformer_encoder", "cnn6", "transformer", "lstm"} <= set(recorded)
    assert recorded["cnn6"][0].graph.number_of_nodes() >= 50
    assert recorded["transformer"][0].graph.number_of_nodes() >= 200
    assert recorded["while_doubling"][0].graph.number_of_nodes() == 12


@pytest.mark.parametrize("window", list(PANES), ids=["1600x1000", "1280x720"])
@pytest.mark.parametrize("name", [os.path.basename(p)[:-3] for p in SCRIPTS])
def test_every_graph_is_drawn_inside_the_view_with_readable_text(qtbot, recorded, name, window):
    path = next(p for p in SCRIPTS if os.path.basename(p) == name + ".py")
    if name not in recorded:  # a lesson about tensors themselves or numpy: no graph (the window says so)
        with open(path, encoding="utf-8") as f:
            assert ".backward(" not in f.read()
        return
    view = make_view(qtbot, PANES[window]["lesson" if path.startswith(LESSONS) else "script"])
    show(qtbot, view, recorded[name][0])
    assert text_px(view) >= READABLE_PX - 0.01
    assert not view.graph_scene.overview_on
    assert sorted(drawn(view)) == sorted(view.items), name  # the whole graph in view
    port = view.viewport().rect().adjusted(-1, -1, 1, 1)  # below the legend's strip
    for _, path in view.graph_scene.placed.edge_chunks:  # the edges too: a folded drawing's connectors
        assert port.contains(view.mapFromScene(path.boundingRect()).boundingRect()), name  # into a column's top


# the class beside the path where it fits the box's width (TransformerEncoderLayer does not: the path alone)
@pytest.mark.parametrize("name, blocks", [("transformer", {f"blocks.{k}": "Block" for k in range(4)}),
                                          ("transformer_encoder", {f"encoder.layers.{k}": None for k in range(6)}),
                                          ("cnn6", {str(k): "Sequential" for k in range(6)}),
                                          ("lenet_cifar", {"conv1": "Conv2d", "conv2": "Conv2d", "fc1": "Linear",
                                                           "fc2": "Linear", "fc3": "Linear"})])
def test_a_real_model_opens_as_its_module_tree_with_readable_names(qtbot, recorded, name, blocks):
    view = make_view(qtbot)
    show(qtbot, view, recorded[name][0])
    modules = {i.head: i for i in view.items.values() if i.kind == "module"}
    assert set(blocks) <= set(modules), sorted(modules)
    assert len(view.items) <= 16 and text_px(view) >= READABLE_PX - 0.01
    for block, cls in blocks.items():  # named by module path and class, with shapes, parameter count and a colour
        lines = modules[block].text_lines()
        assert lines[0] == (f"{block} · {cls}" if cls else block) and "→" in lines[1] and "parameters" in lines[2], lines
        assert modules[block].tooltip().startswith(f"module {block} · "), modules[block].tooltip()  # always the class
        assert modules[block].norm is not None and modules[block].norm > 0
    assert set(drawn(view)) == set(view.items)
    assert view.graph_scene.item_of("n0").box_id in drawn(view)  # the loss (its op, or the loss module's box)
    assert not view.breadcrumb.isVisible()  # it shows once a module is opened


def test_a_module_opens_in_place_and_the_breadcrumb_goes_back(qtbot, recorded):
    view = make_view(qtbot)
    show(qtbot, view, recorded["transformer"][0])
    tree = set(view.items)
    box = view.items["module:blocks.1"]
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=on_screen(view, box).center())
    qtbot.waitUntil(lambda: not view.busy and "module:blocks.1" not in view.items, timeout=WAIT)
    opened = set(view.items)
    assert {"module:blocks.1.attn", "module:blocks.1.mlp"} <= opened  # its sub-modules, still folded
    assert "module:blocks.0" in opened and "module:blocks.2" in opened  # the rest of the tree stays
    assert text_px(view) >= READABLE_PX - 0.01
    assert "blocks.1" in view.breadcrumb.text() and "Collapse" in view.breadcrumb.text()
    qtbot.keyClick(view, Qt.Key.Key_Backspace)  # the breadcrumb's "Collapse"
    qtbot.waitUntil(lambda: not view.busy and "module:blocks.1" in view.items, timeout=WAIT)
    assert set(view.items) == tree and view.opened == []
    view.select_node("module:blocks.2", centre=False)
    qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter opens the selected module
    qtbot.waitUntil(lambda: not view.busy and "module:blocks.2.attn" in view.items, timeout=WAIT)
    view.breadcrumb.linkActivated.emit("top")
    qtbot.waitUntil(lambda: not view.busy and set(view.items) == tree, timeout=WAIT)


def test_the_next_iteration_of_the_same_structure_keeps_opened_modules_zoom_and_selection(qtbot, recorded):
    first, second = recorded["cnn6"][:2]
    assert first.signature == second.signature and first.graph is not second.graph
    view = make_view(qtbot)
    show(qtbot, view, first)
    view.expand_module("2")
    qtbot.waitUntil(lambda: not view.busy and "module:2" not in view.items, timeout=WAIT)
    relu = next(b for b, i in view.items.items() if i.attrs.get("op") == "ReluBackward0"
                and i.attrs.get("module") == "2.2")
    view.zoom(1.3)
    view.select_node(relu)
    items, transform, centre = dict(view.items), view.transform(), view.visible_rect().center()
    view.set_iteration(second)
    assert not view.busy  # no new layout
    assert view.items == items and all(view.items[b] is items[b] for b in items)
    assert view.transform() == transform and view.visible_rect().center() == centre
    assert view.selected_node() == relu and view.items[relu].isSelected()
    assert view.items[relu].attrs is second.graph.nodes[relu]  # the new iteration's numbers
    assert view.opened == ["2"]


def chain_texts(view: GraphView) -> list[float]:
    """The on-screen text height of each MulBackward0 box drawn whole in the view."""
    inside = set(drawn(view))
    return [text_px(view) for b, i in view.items.items() if i.head == "MulBackward0" and b in inside]


def open_chain(make_main_window, qtbot, recorded, size, **kwargs):
    """A window of `size` showing the while-loop lesson's graph beside its narration."""
    w = make_main_window(**kwargs)
    w.resize(*size)
    w.show_narration(load_lessons().get("while_doubling"), None)
    qtbot.wait(50)
    show(qtbot, w.graph, recorded["while_doubling"][0])
    return w


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_while_loop_chain_reads_in_both_modes_and_larger_in_presentation(make_main_window, qtbot, recorded,
                                                                              theme):
    heights = {}
    for presentation in (False, True):
        w = open_chain(make_main_window, qtbot, recorded, (1600, 1000), theme=theme, presentation=presentation)
        texts = chain_texts(w.graph)
        assert len(texts) == 11 and min(texts) >= READABLE_PX - 0.01  # 11 MulBackward0 and the leaf x
        assert set(drawn(w.graph)) == set(w.graph.items)  # nothing scrolled out of view
        heights[presentation] = texts[0]
        w.close()
    assert heights[True] >= PRESENTATION_TEXT * heights[False] - 0.01, heights


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1600, 1000), (1280, 720)])
def test_presentation_mode_gives_the_graph_the_screen(make_main_window, qtbot, recorded, theme, size):
    w = open_chain(make_main_window, qtbot, recorded, size, theme=theme, presentation=True)
    assert not any(d.isVisible() for d in w.docks.values())  # the graph dominant
    assert w.lesson_panel.width() >= 0.25 * w.width()  # the narration a readable column
    assert w.graph.width() >= 0.65 * w.width() and w.graph.height() >= 0.7 * w.height()
    texts = chain_texts(w.graph)
    assert len(texts) == 11 and min(texts) >= PRESENTATION_TEXT * READABLE_PX - 0.01
    assert set(drawn(w.graph)) == set(w.graph.items)  # nothing of the graph scrolled out of view
    w.commands.panels.trigger()  # F9 brings the panels back
    assert all(d.isVisible() for d in w.docks.values())
    w.commands.presentation.trigger()  # and normal mode shows them as before
    assert all(d.isVisible() for d in w.docks.values()) and not w.presentation


def _chain_of_modules(modules: list[str]) -> nx.DiGraph:
    """A chain of op nodes, two per module, each module holding a parameter (a model drawn as a line)."""
    g = nx.DiGraph()
    prev = None
    for k, m in enumerate(modules):
        for j in range(2):
            n = f"n{2 * k + j}"
            g.add_node(n, kind="op", op="AddBackward0", module=m)
            if prev:
                g.add_edge(prev, n)
            prev = n
        g.add_node(f"p{k}", kind="param", op="AccumulateGrad", module=m)
        g.add_edge(f"p{k}", f"n{2 * k}")
    return g


def test_module_tree_opens_wrappers_and_the_biggest_box():
    """Wrappers around one module open (model -> model.body -> its blocks); then the biggest box opens while
    fewer than TREE_MIN show. With thousands of modules nested in wrappers (a 10k-node model) it is computed
    in one pass over the modules (benchmarks/layouts.py times the view on such a graph)."""
    blocks = [f"model.body.blocks.{i}" for i in range(3)]
    g = _chain_of_modules(["model.embed"] + blocks + ["model.head"])
    assert gm.module_tree(g) == frozenset(["model.embed", "model.head", *blocks])
    many = [f"net.{i}.inner" for i in range(3000)]  # 3000 wrappers, each around one module
    assert gm.module_tree(_chain_of_modules(many)) == frozenset(many)


def test_a_module_called_several_times_gets_a_box_per_call():
    """DynamicNet's shared layer: m's ops form two pieces (clamp between the calls) around one weight. Folded,
    each call is a box in forward order and the weight is drawn once, feeding both; no cycle."""
    g = nx.DiGraph()
    g.add_node("n4", kind="param", op="AccumulateGrad", module="m", name="m.weight", shape=[4, 4])
    for n, op, module in (("n3", "AddmmBackward0", "m"), ("n2", "ClampBackward1", None),
                          ("n1", "AddmmBackward0", "m"), ("n0", "SumBackward0", None)):
        g.add_node(n, kind="op", op=op, module=module, shape=[2, 4])
    g.add_edges_from([("n4", "n3"), ("n3", "n2"), ("n2", "n1"), ("n4", "n1"), ("n1", "n0")])
    dg = gm.display_graph(g, frozenset(["m"]))
    assert dg.owner == {"n4": "n4", "n3": "module:m", "n2": "n2", "n1": "module:m#2", "n0": "n0"}
    assert dg.nodes["module:m#2"]["head"] == "m" and nx.is_directed_acyclic_graph(nx.DiGraph(dg.edges))
    assert gm.acyclic_boxes(g, frozenset(["m"])) == {"m"}


def test_a_resized_view_chooses_again(qtbot, recorded):
    """The automatic choice follows the view's shape until the user zooms: a two-layer net beside its narration
    at 1280x720 is compact (no value/gradient lines), at 1600x1000 it gets them back, and compact again."""
    view = make_view(qtbot, PANES[1280, 720]["lesson"])
    show(qtbot, view, recorded["twolayer_nn"][0])
    assert all(i.compact for i in view.items.values())
    for size, compact in ((PANES[1600, 1000]["lesson"], False), (PANES[1280, 720]["lesson"], True)):
        view.resize(*size)
        qtbot.waitUntil(lambda c=compact: not view.busy and all(i.compact == c for i in view.items.values()),
                        timeout=WAIT)
        assert sorted(drawn(view)) == sorted(view.items) and text_px(view) >= READABLE_PX - 0.01


def test_the_choices_tried_in_order():
    """Whole, tree, compact: a small graph folds its modules only last; from TREE_FROM nodes the tree comes
    after the whole graph; above TREE_ABOVE it comes first; presentation mode's tree is compact at once."""
    from backprop_studio.gui.graph.choices import BOXES_AT_MOST, TREE_ABOVE, TREE_FROM, ladder

    def graph(nodes: int) -> nx.DiGraph:
        return _chain_of_modules([f"blocks.{i}" for i in range(nodes // 3)])

    none = frozenset()
    small, medium, big = graph(TREE_FROM - 3), graph(TREE_FROM + 3), graph(TREE_ABOVE + 3)
    tree = frozenset(f"blocks.{i}" for i in range(small.number_of_nodes() // 3))
    assert ladder(small, False) == [(none, False), (none, True), (tree, True)]
    tree = frozenset(f"blocks.{i}" for i in range(medium.number_of_nodes() // 3))
    assert ladder(medium, False) == [(none, False), (tree, False), (tree, True)]
    assert ladder(medium, True) == [(none, False), (tree, True)]
    assert [c[1] for c in ladder(big, False)] == [False, True] and all(c[0] for c in ladder(big, False))
    flat = nx.DiGraph()  # more nodes than TREE_ABOVE and no module: more boxes than any window reads whole
    flat.add_nodes_from((f"n{i}", {"kind": "op", "op": "AddBackward0"}) for i in range(BOXES_AT_MOST + 1))
    assert ladder(flat, True) == [(none, False)]
