"""The scene of the graph view: the boxes and edges of one laid-out graph, and the numbers on them.

Big graphs are built in steps (one per event-loop turn) so the UI never freezes; zoomed far out,
their boxes are drawn by one OverviewItem instead of thousands of NodeItems.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene

from ...core import gcpause
from ...core.iteration import Iteration, first_nonfinite, node_nonfinite
from . import model as gm
from .batch import EdgesItem, OverviewItem
from .items import NodeItem, Style
from .layout import Placed

BUILD_CHUNK = 800  # node items created per event-loop turn
OVERVIEW_ABOVE = 400  # boxes; zoomed out beyond text, bigger graphs are drawn by one OverviewItem


class GraphScene(QGraphicsScene):
    """Holds NodeItems by box id; `sig_built` fires when a new layout's boxes all exist with numbers."""

    sig_built = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.style_ = Style()
        self.items: dict[str, NodeItem] = {}
        self.placed: Placed | None = None
        self.iteration: Iteration | None = None
        self.added: set[str] = set()
        self.marks: dict[str, str] = {}  # graph node id -> the level of a doctor's finding naming it
        self.lit_id: str | None = None
        self.nonfinite_count = 0
        self.origin: str | None = None  # where NaN/Inf first appeared (core.iteration.first_nonfinite)
        self.has_grads = False
        self.overview_on = False
        self._lit: NodeItem | None = None
        self._steps: list | None = None
        self._gc_paused = False
        self._timer = QTimer(self, interval=0)
        self._timer.timeout.connect(self._on_step)
        # a fixed depth: by default Qt re-sizes the BSP tree as items arrive, re-indexing every
        # item each time (a Python boundingRect() call per item): 0.1 s stalls at 10k boxes
        self.setBspTreeDepth(10)
        self.edges = EdgesItem(self.style_)
        self.addItem(self.edges)
        self.overview = OverviewItem()
        self.overview.setVisible(False)
        self.addItem(self.overview)

    @property
    def building(self) -> bool:
        return self._steps is not None

    def item_of(self, node_id: str | None) -> NodeItem | None:
        """The box showing graph node `node_id` (its own, or its collapsed module's)."""
        if node_id is None or self.placed is None:
            return None
        return self.items.get(self.placed.graph.owner.get(node_id, node_id))

    def bounds(self) -> QRectF:
        """The drawing's extent (from the layout: no boundingRect() call per item)."""
        return QRectF(self.placed.bounds) if self.placed is not None else QRectF()

    def set_style(self, style: Style) -> None:
        self.style_ = style
        self.edges.set_style(style)
        for item in self.items.values():
            item.style = style
        self.refresh_overview()

    # -- building ---------------------------------------------------------------------------
    def show_placed(self, placed: Placed) -> None:
        """Replace the boxes by `placed`; numbers come from `self.iteration`. Emits sig_built when done."""
        self.clear_boxes()
        self.placed = placed
        rect = self.bounds()
        pad = max(rect.width(), rect.height(), 1500.0)  # room to centre anywhere, beside the legend too
        self.setSceneRect(rect.adjusted(-pad, -pad, pad, pad))  # before the items: a new rect re-indexes all
        boxes = list(placed.graph.nodes.items())
        big = len(boxes) > OVERVIEW_ABOVE
        self.overview_on = big  # big graphs are built hidden; the view picks the level of detail after
        if big:
            gcpause.pause()  # building allocates ~10 objects per box (see core/gcpause.py)
            self._gc_paused = True
        steps = [lambda c=boxes[i:i + BUILD_CHUNK]: self._add_boxes(c, hidden=big)
                 for i in range(0, len(boxes), BUILD_CHUNK)]
        self._steps = [*steps, self.apply_numbers, self._finish]
        if len(boxes) > BUILD_CHUNK:
            self._timer.start()
        else:
            while self._steps:
                self._on_step()

    def _on_step(self) -> None:
        if not self._steps:
            self._timer.stop()
            self._steps = None
            return
        step = self._steps.pop(0)
        if not self._steps:
            self._steps = None
            self._timer.stop()
        step()

    def _add_boxes(self, chunk: list, hidden: bool) -> None:
        for box_id, box in chunk:
            item = NodeItem(box_id, box, self.placed.sizes[box_id], self.style_)
            item.setPos(self.placed.rects[box_id].center())
            if hidden:
                item.setVisible(False)
            self.addItem(item)
            self.items[box_id] = item

    def _finish(self) -> None:
        self._resume_gc()
        self.edges.set_geometry(self.placed.edge_chunks, self.placed.edge_lines)
        self.sig_built.emit()

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gcpause.resume()

    def clear_boxes(self) -> None:
        """Remove every box and edge (the selection change is not the user's: no signal)."""
        self._timer.stop()
        self._steps = None
        self._resume_gc()
        self._lit = None
        self.blockSignals(True)
        for item in self.items.values():
            self.removeItem(item)
        self.blockSignals(False)
        self.items = {}
        self.placed = None
        self.edges.set_geometry([], [])
        self.edges.coarse = False
        self.overview_on = False
        self.overview.setVisible(False)
        self.overview.set_boxes([], {}, QRectF(), self.style_)

    # -- numbers ----------------------------------------------------------------------------
    def apply_numbers(self) -> None:
        """Put `self.iteration`'s values and gradients on the boxes (no layout change). One pass:
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
                norm, bad = gm.grad_norm(a), node_nonfinite(a)
                if norm is not None and (agg["_norm"] is None or norm > agg["_norm"]):
                    agg["_norm"] = norm
                agg["_bad"] = agg["_bad"] or bad
            bad_count += bad
            if norm is not None and 0 < norm < math.inf:
                lo, hi = min(lo, norm), max(hi, norm)
        for box, agg in groups.items():
            items[box].set_attrs(agg, repaint=False)
        self.nonfinite_count = bad_count
        self.origin = first_nonfinite(self.iteration.graph) if bad_count else None
        for item in items.values():
            item.origin = self.origin is not None and self.origin in item.members
        self.has_grads = hi > 0
        if self.has_grads:
            self.style_.set_range(lo, hi)
        else:
            self.style_.set_range(1e-8, 1.0)
        for item in items.values():
            item.added = False
        for n in self.added:
            item = self.item_of(n)
            if item is not None:
                item.added = True
        self._apply_marks()
        self.mark_lit()
        self.refresh_overview()
        self.update()

    def set_marks(self, marks: dict[str, str], now: bool = True) -> None:
        """Frame and badge the nodes doctor findings name ({node id: level}): now (unless the boxes shown are
        another layout's) and after each layout."""
        self.marks = dict(marks)
        if not now:
            return
        self._apply_marks()
        self.refresh_overview()
        self.update()

    def _apply_marks(self) -> None:
        rank = {"info": 0, "warning": 1, "error": 2}
        for item in self.items.values():
            item.flag = None
        for n, level in self.marks.items():
            item = self.item_of(n)
            if item is not None and rank[level] > rank.get(item.flag, -1):
                item.flag = level

    def mark_lit(self) -> NodeItem | None:
        """Light the box of the node whose gradient came last (`lit_id`); unlight the previous one."""
        item = self.item_of(self.lit_id)
        if self._lit is not None and self._lit is not item:
            self._lit.lit = False
            self._lit.update()
        if item is not None:
            item.lit = True
            item.update()
        self._lit = item
        return item

    # -- level of detail ----------------------------------------------------------------------
    def set_overview(self, on: bool, force: bool = False) -> None:
        """Zoomed far out on a big graph: hide the node items, draw the overview and plain edges."""
        if self.building:
            return
        on = on and len(self.items) > OVERVIEW_ABOVE
        if on == self.overview_on and not force:
            return
        self.overview_on = on
        for item in self.items.values():
            item.setVisible(not on)
        self.overview.setVisible(on)
        self.edges.coarse = on
        self.edges.update()
        self.refresh_overview()

    def refresh_overview(self) -> None:
        if self.overview_on and self.placed is not None and not self.building:
            selected = next((i for i in self.selectedItems() if isinstance(i, NodeItem)), None)
            self.overview.set_boxes(list(self.items.values()), self.placed.rects, self.placed.bounds,
                                    self.style_, selected)
