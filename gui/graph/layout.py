"""Background layout for the graph view: a QRunnable that builds the display graph, places it and
builds the edge geometry (QPainterPath and QLineF are plain data, safe off the UI thread).

Nothing here runs on the UI thread. Large graphs are laid out in a child process
(core/render/layout_worker.py).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

import networkx as nx
from PySide6.QtCore import QLineF, QObject, QRectF, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QPainterPath

from ...core import gcpause
from ...core.render.layout_worker import run_layout
from ..i18n import translate
from . import model as gm
from .fold import COLUMN_GAP, ENTRY, LEAVE, ROOM_ABOVE, fold

CACHE_SIZE = 24  # laid-out graphs kept per view
GC_PAUSE_ABOVE = 400  # nodes; see core/gcpause.py
ARROW = 6.0  # arrowhead length, points
CURVES_UP_TO = 400  # boxes; bigger graphs get straight edges (cheaper to stroke)
EDGE_CHUNK = 256  # edges per path piece: a zoomed-in repaint strokes only the pieces on screen


@dataclass
class Placed:
    """A laid-out display graph: boxes, their sizes and centres (points, y down), and the drawn edges."""

    graph: gm.DisplayGraph
    sizes: dict[str, tuple[float, float]]
    centres: dict[str, tuple[float, float]]
    rects: dict[str, QRectF] = field(default_factory=dict)  # box outlines in scene coordinates
    edge_chunks: list[tuple[QRectF, QPainterPath]] = field(default_factory=list)  # (bounds, path) pieces
    edge_lines: list[QLineF] = field(default_factory=list)  # straight, for the zoomed-out overview
    bounds: QRectF = field(default_factory=QRectF)  # the whole drawing
    columns: int = 1  # the drawing folded into this many columns (fold.py)
    column: dict[str, int] = field(default_factory=dict)  # box id -> its column (folded drawings)
    unfolded: dict[str, tuple[float, float]] = field(default_factory=dict)  # the layout's own centres


class LayoutRelay(QObject):
    """Carries results from the worker thread back to the UI thread (queued signals)."""

    sig_done = Signal(object, object)  # key, Placed
    sig_failed = Signal(object, str)  # key, message


class Layouts(QObject):
    """Layout jobs of one view, one at a time in a worker thread, and the last CACHE_SIZE results."""

    sig_done = Signal(object, object)  # key, Placed
    sig_failed = Signal(object, str)  # key, message

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = LayoutRelay(self)
        self._relay.sig_done.connect(self._on_done)
        self._relay.sig_failed.connect(self._on_failed)
        self._running: dict = {}  # key -> its LayoutJob (held: Python must not collect it meanwhile)
        self._cache: OrderedDict = OrderedDict()

    def cached(self, key) -> Placed | None:
        placed = self._cache.get(key)
        if placed is not None:
            self._cache.move_to_end(key)
        return placed

    def folded(self, key, placed: Placed, columns: int) -> Placed:
        """`placed` (the layout of `key`) in `columns` columns, kept in the cache beside it."""
        if columns == placed.columns:
            return placed
        fkey = (key, "columns", columns)
        out = self.cached(fkey)
        if out is None:
            out = self._cache[fkey] = folded(placed, columns)
            self._trim()
        return out

    def running(self, key) -> bool:
        return key in self._running

    def start(self, key, graph: nx.DiGraph, collapsed: frozenset[str], compact: bool, char_w: float,
              line_h: float) -> None:
        job = self._running[key] = LayoutJob(key, graph, collapsed, compact, char_w, line_h, self._relay)
        self._pool.start(job)

    def shutdown(self) -> None:
        """Queued jobs dropped, a running one waited for (the view closes)."""
        self._pool.clear()
        self._pool.waitForDone(10_000)
        self._running.clear()

    def _on_done(self, key, placed: Placed) -> None:
        self._running.pop(key, None)
        self._cache[key] = placed
        self._trim()
        self.sig_done.emit(key, placed)

    def _trim(self) -> None:
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _on_failed(self, key, message: str) -> None:
        self._running.pop(key, None)
        self.sig_failed.emit(key, message)


class LayoutJob(QRunnable):
    """Fold modules, size the boxes and lay them out, off the UI thread."""

    def __init__(self, key, graph: nx.DiGraph, collapsed: frozenset[str], compact: bool, char_w: float,
                 line_h: float, relay: LayoutRelay):
        super().__init__()
        self.key = key
        self.graph = graph
        self.collapsed = collapsed
        self.compact = compact
        self.char_w = char_w
        self.line_h = line_h
        self.relay = relay

    def run(self) -> None:
        big = self.graph.number_of_nodes() > GC_PAUSE_ABOVE
        if big:
            gcpause.pause()
        try:
            placed = place(self.graph, self.collapsed, self.char_w, self.line_h, self.compact)
        except Exception as e:  # noqa: BLE001 - reported to the view, never lost in a thread
            self.relay.sig_failed.emit(self.key, translate("LayoutJob", "layout failed: {error}").format(error=e))
            return
        finally:
            if big:
                gcpause.resume()
        self.relay.sig_done.emit(self.key, placed)


def place(g: nx.DiGraph, collapsed: frozenset[str], char_w: float, line_h: float, compact: bool = False) -> Placed:
    """The display graph of `g` with `collapsed` modules folded (`compact` boxes), sized and laid out."""
    dg = gm.display_graph(g, collapsed, compact)
    sizes = {b: gm.box_size(d, char_w, line_h) for b, d in dg.nodes.items()}
    nodes = [(b, float(w), float(h)) for b, (w, h) in sizes.items()]
    centres = run_layout(nodes, dg.edges)
    placed = Placed(dg, sizes, centres, unfolded=centres)
    _draw_edges(placed)
    return placed


def folded(placed: Placed, columns: int) -> Placed:
    """`placed` cut into `columns` columns side by side (fold.py), its edges drawn again."""
    centres, column = fold(placed.unfolded, placed.sizes, columns)
    out = Placed(placed.graph, placed.sizes, centres, columns=columns, column=column, unfolded=placed.unfolded)
    _draw_edges(out)
    return out


def _draw_edges(placed: Placed) -> None:
    """Box rects and edge geometry, built here so the UI thread only hands them to Qt."""
    rects = placed.rects
    for b, (x, y) in placed.centres.items():
        w, h = placed.sizes[b]
        rects[b] = QRectF(x - w / 2, y - h / 2, w, h)
    if rects:
        left = min(r.left() for r in rects.values())
        top = min(r.top() for r in rects.values()) - (ROOM_ABOVE if placed.columns > 1 else 0.0)  # connectors
        placed.bounds = QRectF(left, top, max(r.right() for r in rects.values()) - left,
                               max(r.bottom() for r in rects.values()) - top)
    curved = len(rects) <= CURVES_UP_TO
    spread = ARROW * math.tan(math.radians(28))
    column = placed.column
    right: dict[int, float] = {}  # each column's right edge: edges to a later column run down its gap
    for b, c in column.items():
        right[c] = max(right.get(c, -math.inf), rects[b].right())
    ends = sorted(((rects[u].center().x(), rects[u].bottom(), rects[v].center().x(), rects[v].top(),
                    column.get(u, 0), column.get(v, 0)) for u, v in placed.graph.edges), key=lambda e: (e[1], e[0]))
    for i in range(0, len(ends), EDGE_CHUNK):
        path = QPainterPath()
        for x0, y0, x1, y1, c0, c1 in ends[i:i + EDGE_CHUNK]:
            placed.edge_lines.append(QLineF(x0, y0, x1, y1))
            path.moveTo(x0, y0)
            if c0 != c1:  # down out of the box, along the gap after its column, then into the target from above
                gap = right[c0] + COLUMN_GAP / 2 if c1 > c0 else right.get(c1, x1) + COLUMN_GAP / 2
                for x, y in ((x0, y0 + LEAVE), (gap, y0 + LEAVE), (gap, y1 - ENTRY), (x1, y1 - ENTRY), (x1, y1)):
                    path.lineTo(x, y)
            elif curved:
                bend = max(abs(y1 - y0) * 0.5, 12.0)
                path.cubicTo(x0, y0 + bend, x1, y1 - bend, x1, y1)
            else:
                path.lineTo(x1, y1)
            path.moveTo(x1 - spread, y1 - ARROW)
            path.lineTo(x1, y1)
            path.lineTo(x1 + spread, y1 - ARROW)
        placed.edge_chunks.append((path.controlPointRect(), path))
