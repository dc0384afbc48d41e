"""The graph view: one QGraphicsScene showing an iteration's autograd graph, top to bottom.

Layouts run in a worker (gui/graph_layout.py) and are cached by (signature, collapsed modules,
detail, font scale), so an unchanged graph only gets new numbers: no re-layout, no flicker.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import networkx as nx
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QMenu, QToolTip, QWidget

from core.iteration import Iteration
from gui import graph_model as gm
from gui.graph_batch import EdgesItem, OverviewItem
from gui.graph_items import TEXT_LOD, NodeItem, Style
from gui.graph_layout import LayoutJob, LayoutRelay, Placed, pause_gc, resume_gc
from gui.graph_overlays import Banner, Legend

CACHE_SIZE = 24
BUILD_CHUNK = 800  # node items created per event-loop turn, so a 10k-node graph never freezes the UI
MAX_FIT_SCALE = 1.6
ANIMATE_MS = 220
OVERVIEW_ABOVE = 400  # boxes; zoomed out beyond text, bigger graphs are drawn by one OverviewItem


class GraphView(QGraphicsView):
    """Draws Iterations; emits the selected node id (a graph node id, "module:<path>", or None)."""

    sig_node_selected = Signal(object)
    sig_layout_done = Signal(int)  # number of boxes drawn
    sig_message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # pan by dragging
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.style_ = Style()
        self.iteration: Iteration | None = None
        self.items: dict[str, NodeItem] = {}
        self.placed: Placed | None = None
        self.shown_key = None
        self.wanted_key = None
        self.collapsed: frozenset[str] | None = None  # None: automatic (large graphs collapsed)
        self.added: set[str] = set()
        self.removed: list[str] = []
        self.matches: list[str] = []
        self._match_at = -1
        self._selected: str | None = None
        self._auto_fit = True
        self.nonfinite_count = 0
        self._gc_paused = False
        self._cache: OrderedDict = OrderedDict()
        self._structure_of: dict[tuple, nx.DiGraph] = {}  # full-detail graph per signature (modules)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = LayoutRelay(self)
        self._relay.sig_done.connect(self._on_layout_done)
        self._relay.sig_failed.connect(self._on_layout_failed)
        self._pending_jobs: set = set()
        self._build: list | None = None
        self._build_timer = QTimer(self, interval=0)
        self._build_timer.timeout.connect(self._on_build_chunk)
        self._lit: NodeItem | None = None
        self._lit_id: str | None = None
        self._animation: list[str] = []
        self._anim_timer = QTimer(self, interval=ANIMATE_MS)
        self._anim_timer.timeout.connect(self._on_animate_step)
        self.edges = EdgesItem(self.style_)
        self.scene().addItem(self.edges)
        self.overview = OverviewItem()
        self.overview.setVisible(False)
        self.scene().addItem(self.overview)
        self._overview_on = False
        self.legend = Legend(self)
        self.banner = Banner(self)
        self.scene().selectionChanged.connect(self._on_selection)

    # -- public interface -------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a layout or an item build is under way."""
        return self.wanted_key != self.shown_key or self._build is not None

    def set_iteration(self, it: Iteration) -> None:
        """Show `it`: new numbers in place when its structure is already drawn, else lay it out."""
        old = self.iteration
        self.iteration = it
        if it.detail == "full":
            self._structure_of[it.signature] = it.graph
        if old is None or old.index != it.index:
            self._lit_id = None
        if old is not None and old.signature != it.signature:
            self.added, self.removed = gm.structural_diff(old.graph, it.graph)
        elif old is None:
            self.added, self.removed = set(), []
        self._animation = []
        self._anim_timer.stop()
        self._request()

    def clear(self) -> None:
        """Forget the shown graph (a new run)."""
        self.iteration = None
        self.collapsed = None
        self.added, self.removed = set(), []
        self._set_items({})
        self.shown_key = self.wanted_key = None
        self.placed = None
        self.banner.hide()

    def set_theme(self, theme: str, presentation: bool) -> None:
        """Restyle nodes (presentation mode: bigger text, so boxes are re-laid out)."""
        self.style_ = Style(theme, 1.6 if presentation else 1.0)
        self.edges.set_style(self.style_)
        self.setBackgroundBrush(self.style_.colours["background"])
        for item in self.items.values():
            item.style = self.style_
        self._request()
        self.viewport().update()

    def fit(self) -> None:
        """Zoom to show the whole graph beside the legend (never magnified beyond MAX_FIT_SCALE)."""
        rect = self._bounds()
        if rect.isEmpty():
            return
        view = self.viewport().rect()
        side = self.legend.width() + 16 if self.legend.isVisible() else 0  # the legend floats top-right
        if side > view.width() / 2:
            side = 0  # a narrow view: let the legend cover a corner instead
        s = min((view.width() - side - 20) / max(rect.width(), 1.0), (view.height() - 20) / max(rect.height(), 1.0))
        s = max(min(s, MAX_FIT_SCALE), 1e-4)
        self.resetTransform()
        self.scale(s, s)
        self.centerOn(rect.center() + QPointF(side / 2 / s, 0))  # centred in the space left of the legend
        self._auto_fit = True  # keep fitting on resize until the user zooms
        self._update_lod()

    def _bounds(self) -> QRectF:
        """The drawing's extent (from the layout: no boundingRect() call per item)."""
        return QRectF(self.placed.bounds) if self.placed is not None else QRectF()

    def zoom(self, factor: float) -> None:
        self._auto_fit = False
        self.scale(factor, factor)
        self._update_lod()

    def selected_node(self) -> str | None:
        return self._selected

    def select_node(self, box_id: str, centre: bool = True) -> bool:
        """Select a node (or the module box holding it) and centre on it."""
        box = self.placed.graph.owner.get(box_id, box_id) if self.placed else box_id
        item = self.items.get(box)
        if item is None:
            return False
        self.scene().clearSelection()
        item.setSelected(True)
        if centre:
            self.centerOn(item)
        return True

    def search(self, text: str) -> int:
        """Highlight nodes whose name/op/module contains `text`; centre on the first. Returns the count."""
        for item in self.items.values():
            item.found = False
        g = self.iteration.graph if self.iteration else nx.DiGraph()
        self.matches = gm.matches(g, text)
        self._match_at = -1
        owner = self.placed.graph.owner if self.placed else {}
        for n in self.matches:
            item = self.items.get(owner.get(n, n))
            if item is not None:
                item.found = True
        self._refresh_overview()
        self.viewport().update()
        if self.matches:
            self.search_next()
        return len(self.matches)

    def search_next(self) -> None:
        if not self.matches:
            return
        self._match_at = (self._match_at + 1) % len(self.matches)
        self.select_node(self.matches[self._match_at])

    def modules(self) -> list[str]:
        """Module paths of the shown graph, outermost first."""
        return sorted(gm.modules(self._module_graph()))

    def collapse_all(self) -> None:
        self._set_collapsed(gm.collapse_all(self._module_graph()))

    def expand_all(self) -> None:
        self._set_collapsed(frozenset())

    def collapse_module(self, prefix: str) -> None:
        base = self.collapsed if self.collapsed is not None else self._auto_collapsed()
        self._set_collapsed(frozenset(p for p in base if not p.startswith(prefix + ".")) | {prefix})

    def expand_module(self, prefix: str) -> None:
        base = self.collapsed if self.collapsed is not None else self._auto_collapsed()
        self._set_collapsed(gm.expand(base, prefix, self._module_graph()))

    def light_node(self, node_id: str, grad: dict | None) -> None:
        """Backward stepping/animation: `node_id` just received its gradient."""
        if self.iteration is None or node_id not in self.iteration.graph:
            return
        attrs = self.iteration.graph.nodes[node_id]
        if grad is not None:
            attrs["grad"] = grad
        self._lit_id = node_id
        if self.busy:
            return  # the layout being built shows it when done (_apply_numbers)
        item = self._mark_lit()
        if item is None:
            return
        if item.kind == "module":
            self._apply_numbers()
        else:
            item.set_attrs(attrs)
        self.ensureVisible(item, 40, 40)

    def _mark_lit(self) -> NodeItem | None:
        """Light the box of the node whose gradient came last; unlight the previous one."""
        owner = self.placed.graph.owner if self.placed else {}
        item = self.items.get(owner.get(self._lit_id, "")) if self._lit_id else None
        if self._lit is not None and self._lit is not item:
            self._lit.lit = False
            self._lit.update()
        if item is not None:
            item.lit = True
            item.update()
        self._lit = item
        return item

    def animate_backward(self) -> None:
        """Replay the shown iteration's backward: clear gradients, then light nodes loss-first."""
        if self.iteration is None:
            return
        g = self.iteration.graph
        self._grads = {n: a.get("grad") for n, a in g.nodes(data=True)}
        for item in self.items.values():
            plain = {k: v for k, v in item.attrs.items() if k != "grad"} if item.kind != "module" else {}
            item.set_attrs(plain)
        self._animation = list(reversed(list(nx.topological_sort(g))))
        self._anim_timer.start()

    # -- layout -------------------------------------------------------------------------------
    def _module_graph(self) -> nx.DiGraph:
        """The graph whose module attribution counts: a full-detail one with the same structure."""
        if self.iteration is None:
            return nx.DiGraph()
        return self._structure_of.get(self.iteration.signature, self.iteration.graph)

    def _auto_collapsed(self) -> frozenset[str]:
        return gm.default_collapsed(self._module_graph())

    def _set_collapsed(self, collapsed: frozenset[str]) -> None:
        self.collapsed = frozenset(collapsed)
        self._request()

    def _key(self) -> tuple:
        it = self.iteration
        collapsed = self.collapsed if self.collapsed is not None else self._auto_collapsed()
        source = "full" if it.signature in self._structure_of else it.detail
        return (it.signature, collapsed, source, self.style_.font.pointSize())

    def _request(self) -> None:
        if self.iteration is None:
            return
        key = self._key()
        self.wanted_key = key
        if key == self.shown_key and self._build is None:
            self._apply_numbers()
            self._show_banner()
            return
        if key in self._cache:
            self._cache.move_to_end(key)
            self._show(key, self._cache[key])
            return
        if key not in self._pending_jobs:
            self._pending_jobs.add(key)
            n = self._module_graph().number_of_nodes()
            self.banner.show_text(f"laying out {n} nodes…", self.width() // 2)
            self._pool.start(LayoutJob(key, self._module_graph(), key[1], self.style_.char_w,
                                       self.style_.line_h, self._relay))

    def _on_layout_done(self, key, placed: Placed) -> None:
        self._pending_jobs.discard(key)
        self._cache[key] = placed
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        if key == self.wanted_key:
            self._show(key, placed)

    def _on_layout_failed(self, key, message: str) -> None:
        self._pending_jobs.discard(key)
        if key == self.wanted_key:
            self.banner.show_text(message, self.width() - 40)
            self.sig_message.emit(message)

    def _show(self, key, placed: Placed) -> None:
        """Replace the drawn boxes by `placed`: big graphs in steps, one per event-loop turn."""
        self._set_items({})
        self.placed = placed
        self.shown_key = key
        boxes = list(placed.graph.nodes.items())
        big = len(boxes) > OVERVIEW_ABOVE
        self._overview_on = big  # big graphs are built hidden; _update_lod decides after the fit
        if big and not self._gc_paused:
            pause_gc()  # building allocates ~10 objects per box (see graph_layout.pause_gc)
            self._gc_paused = True
        steps = [lambda c=boxes[i:i + BUILD_CHUNK]: self._add_boxes(c, hidden=big)
                 for i in range(0, len(boxes), BUILD_CHUNK)]
        self._build = [*steps, self._apply_numbers, self._finish_view]
        if len(boxes) > BUILD_CHUNK:
            self.banner.show_text(f"drawing {len(boxes)} boxes…", self.width() // 2)
            self._build_timer.start()
        else:
            while self._build:
                self._on_build_chunk()

    def _on_build_chunk(self) -> None:
        if not self._build or self.placed is None:
            self._build_timer.stop()
            self._build = None
            return
        step = self._build.pop(0)
        if not self._build:
            self._build = None
            self._build_timer.stop()
        step()

    def _add_boxes(self, chunk: list, hidden: bool) -> None:
        scene = self.scene()
        for box_id, box in chunk:
            item = NodeItem(box_id, box, self.placed.sizes[box_id], self.style_)
            item.setPos(self.placed.rects[box_id].center())
            if hidden:
                item.setVisible(False)
            scene.addItem(item)
            self.items[box_id] = item

    def _finish_view(self) -> None:
        self._resume_gc()
        rect = self._bounds()
        pad = max(rect.width(), rect.height(), 1500.0)  # room to centre anywhere, beside the legend too
        self.scene().setSceneRect(rect.adjusted(-pad, -pad, pad, pad))
        self.edges.set_geometry(self.placed.edge_chunks, self.placed.edge_lines)  # after the fit's zoom
        self._show_banner()
        self.fit()
        self._update_lod(force=True)
        if self._selected is not None and not self.select_node(self._selected, centre=False):
            self._selected = None
            self.sig_node_selected.emit(None)
        self.sig_layout_done.emit(len(self.items))

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            resume_gc()

    def _set_items(self, items: dict) -> None:
        self._build_timer.stop()
        self._build = None
        self._resume_gc()
        self._lit = None
        scene = self.scene()
        scene.blockSignals(True)  # removing the selected item is not a user's deselection
        for item in self.items.values():
            scene.removeItem(item)
        scene.blockSignals(False)
        self.items = items
        self.edges.set_geometry([], [])
        self._overview_on = False
        self.edges.coarse = False
        self.overview.setVisible(False)
        self.overview.set_boxes([], {}, QRectF(), self.style_)

    # -- numbers --------------------------------------------------------------------------------
    def _apply_numbers(self) -> None:
        """Put the shown iteration's values and gradients on the boxes (no layout change). One pass:
        a 10k-node graph gets new numbers in well under 0.1 s."""
        if self.iteration is None or self.placed is None:
            return
        owner, items = self.placed.graph.owner, self.items
        groups: dict[str, dict] = {}
        lo, hi, bad_count = math.inf, 0.0, 0
        for n, a in self.iteration.graph.nodes(data=True):
            box = owner.get(n)
            item = items.get(box)
            if item is None:
                continue
            if box == n:
                item.set_attrs(a, repaint=False)
                norm, bad = item.norm, item.bad
            else:
                agg = groups.setdefault(box, {"_norm": None, "_bad": False})
                norm, bad = gm.grad_norm(a), gm.nonfinite(a)
                if norm is not None and (agg["_norm"] is None or norm > agg["_norm"]):
                    agg["_norm"] = norm
                agg["_bad"] = agg["_bad"] or bad
            bad_count += bad
            if norm is not None and 0 < norm < math.inf:
                lo, hi = min(lo, norm), max(hi, norm)
        for box, agg in groups.items():
            items[box].set_attrs(agg, repaint=False)
        self.nonfinite_count = bad_count
        has_grads = hi > 0
        if has_grads:
            self.style_.set_range(lo, hi)
        else:
            self.style_.set_range(1e-8, 1.0)
        for item in items.values():
            item.added = False
        for n in self.added:
            item = items.get(owner.get(n, ""))
            if item is not None:
                item.added = True
        self._mark_lit()
        self.legend.set_range(self.style_.lo, self.style_.hi, has_grads, self.style_.theme)
        self._place_overlays()
        self._refresh_overview()
        self.viewport().update()

    def _show_banner(self) -> None:
        it = self.iteration
        if it is None:
            return
        parts = []
        if self.added or self.removed:
            parts.append(f"iteration {it.index}: the graph changed: {len(self.added)} new node(s) marked NEW")
            if self.removed:
                parts.append("removed: " + ", ".join(self.removed[:8]) + (" …" if len(self.removed) > 8 else ""))
        if self.nonfinite_count:
            parts.append(f"NaN/Inf in {self.nonfinite_count} node(s)")
        self.banner.show_text("\n".join(parts), max(self.width() - self.legend.width() - 40, 200))

    def _on_animate_step(self) -> None:
        if not self._animation or self.iteration is None:
            self._anim_timer.stop()
            return
        n = self._animation.pop(0)
        self.light_node(n, self._grads.get(n))

    def _update_lod(self, force: bool = False) -> None:
        """Big graph zoomed out past readable text: hide the node items, show the overview."""
        if self._build is not None:
            return
        want = len(self.items) > OVERVIEW_ABOVE and self.transform().m11() < TEXT_LOD
        if want == self._overview_on and not force:
            return
        self._overview_on = want
        for item in self.items.values():
            item.setVisible(not want)
        self.overview.setVisible(want)
        self.edges.coarse = want
        self.edges.update()
        self._refresh_overview()

    def _refresh_overview(self) -> None:
        if self._overview_on and self.placed is not None and self._build is None:
            self.overview.set_boxes(list(self.items.values()), self.placed.rects, self.placed.bounds, self.style_,
                                   self.items.get(self._selected))

    # -- interaction ---------------------------------------------------------------------------
    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ToolTip:
            item = self.itemAt(event.pos())
            if isinstance(item, NodeItem):
                QToolTip.showText(event.globalPos(), item.tooltip(), self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._overview_on and event.button() == Qt.MouseButton.LeftButton:
            # an overview is too small to aim at: zoom in where the user clicked
            at = self.mapToScene(event.position().toPoint())
            self._auto_fit = False
            self.resetTransform()
            self.scale(0.8, 0.8)
            self.centerOn(at)
            self._update_lod()
            return
        super().mousePressEvent(event)

    def _on_selection(self) -> None:
        sel = [i for i in self.scene().selectedItems() if isinstance(i, NodeItem)]
        box = sel[0].box_id if sel else None
        self._refresh_overview()
        if box != self._selected:
            self._selected = box
            self.sig_node_selected.emit(box)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(1.15 ** steps)  # anchored under the mouse (see the constructor)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom(0.8)
        else:
            super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, NodeItem) and item.kind == "module":
            self.expand_module(item.head)
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        item = self.itemAt(event.pos())
        menu = QMenu(self)
        if isinstance(item, NodeItem) and item.kind == "module":
            menu.addAction(f"Expand {item.head}", lambda: self.expand_module(item.head))
        elif isinstance(item, NodeItem) and gm.module_of(item.attrs):
            parts = gm.module_of(item.attrs).split(".")
            for depth in range(len(parts), 0, -1):
                path = ".".join(parts[:depth])
                menu.addAction(f"Collapse {path}", lambda p=path: self.collapse_module(p))
        menu.addSeparator()
        for text, slot in (("Fit to view", self.fit), ("Collapse all modules", self.collapse_all),
                           ("Expand all modules", self.expand_all), ("Animate backward", self.animate_backward)):
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.exec(event.globalPos())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._auto_fit and self.items and self._build is None:
            self.fit()
        self._place_overlays()

    def _place_overlays(self) -> None:
        self.legend.move(self.viewport().width() - self.legend.width() - 8, 8)
        self.banner.move(8, 8)

    def visible_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()
