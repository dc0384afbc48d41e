"""Background layout for the graph view: a QRunnable that builds the display graph, places it and
builds the edge geometry (QPainterPath and QLineF are plain data, safe off the UI thread).

Nothing here runs on the UI thread. Large graphs are laid out in a child process, started at the
first such graph and kept for the next ones (starting Python and importing OGDF costs more than
the layout): OGDF's Sugiyama holds the GIL for its whole call (~0.15-0.3 s at 10k nodes), which
would freeze the UI thread just as surely as calling it there.
"""

from __future__ import annotations

import atexit
import gc
import json
import math
import select
import subprocess
import sys
import threading
from dataclasses import dataclass, field

import networkx as nx
from PySide6.QtCore import QLineF, QObject, QRectF, QRunnable, Signal
from PySide6.QtGui import QPainterPath

from backprop_studio.core.layout import layout
from backprop_studio.gui import graph_model as gm

GC_PAUSE_ABOVE = 400  # nodes; see pause_gc
SUBPROCESS_ABOVE = 1000  # boxes; below this the in-process call is short enough (a few ms)
TIMEOUT = 180.0
ARROW = 6.0  # arrowhead length, points
CURVES_UP_TO = 400  # boxes; bigger graphs get straight edges (cheaper to stroke)
EDGE_CHUNK = 256  # edges per path piece: a zoomed-in repaint strokes only the pieces on screen
WORKER = """
import json, sys
from backprop_studio.core.layout import layout
for line in sys.stdin:  # one request per line; ends when the app closes our stdin or dies
    d = json.loads(line)
    try:
        out = {"centres": layout([tuple(n) for n in d["nodes"]], [tuple(e) for e in d["edges"]])}
    except Exception as e:
        out = {"error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\\n")
    sys.stdout.flush()
"""


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


_gc_lock = threading.Lock()
_gc_holds = [0, False]  # pauses outstanding, whether the collector was on before the first


def pause_gc() -> None:
    """Hold off Python's cyclic collector (reference counting still frees almost everything).

    Laying out or building 10k boxes allocates hundreds of thousands of objects, which triggers
    full collections of ~0.1 s each, on whichever thread allocates, while it holds the GIL:
    the UI would stutter. Calls nest and may come from several threads; see resume_gc.
    """
    with _gc_lock:
        if _gc_holds[0] == 0:
            _gc_holds[1] = gc.isenabled()
            gc.disable()
        _gc_holds[0] += 1


def resume_gc() -> None:
    with _gc_lock:
        if _gc_holds[0] == 0:
            return
        _gc_holds[0] -= 1
        if _gc_holds[0] == 0 and _gc_holds[1]:
            gc.enable()


class LayoutRelay(QObject):
    """Carries results from the worker thread back to the UI thread (queued signals)."""

    sig_done = Signal(object, object)  # key, Placed
    sig_failed = Signal(object, str)  # key, message


class LayoutJob(QRunnable):
    """Fold modules, size the boxes and lay them out, off the UI thread."""

    def __init__(self, key, graph: nx.DiGraph, collapsed: frozenset[str], char_w: float, line_h: float,
                 relay: LayoutRelay):
        super().__init__()
        self.key = key
        self.graph = graph
        self.collapsed = collapsed
        self.char_w = char_w
        self.line_h = line_h
        self.relay = relay

    def run(self) -> None:
        big = self.graph.number_of_nodes() > GC_PAUSE_ABOVE
        if big:
            pause_gc()
        try:
            placed = place(self.graph, self.collapsed, self.char_w, self.line_h)
        except Exception as e:  # noqa: BLE001 - reported to the view, never lost in a thread
            self.relay.sig_failed.emit(self.key, f"layout failed: {e}")
            return
        finally:
            if big:
                resume_gc()
        self.relay.sig_done.emit(self.key, placed)


def place(g: nx.DiGraph, collapsed: frozenset[str], char_w: float, line_h: float) -> Placed:
    """The display graph of `g` with `collapsed` modules folded, sized and laid out."""
    dg = gm.display_graph(g, collapsed)
    sizes = {b: gm.box_size(d, char_w, line_h) for b, d in dg.nodes.items()}
    nodes = [(b, float(w), float(h)) for b, (w, h) in sizes.items()]
    placed = Placed(dg, sizes, run_layout(nodes, dg.edges))
    _draw_edges(placed)
    return placed


def _draw_edges(placed: Placed) -> None:
    """Box rects and edge geometry, built here so the UI thread only hands them to Qt."""
    rects = placed.rects
    for b, (x, y) in placed.centres.items():
        w, h = placed.sizes[b]
        rects[b] = QRectF(x - w / 2, y - h / 2, w, h)
    if rects:
        left = min(r.left() for r in rects.values())
        top = min(r.top() for r in rects.values())
        placed.bounds = QRectF(left, top, max(r.right() for r in rects.values()) - left,
                               max(r.bottom() for r in rects.values()) - top)
    curved = len(rects) <= CURVES_UP_TO
    spread = ARROW * math.tan(math.radians(28))
    ends = sorted(((rects[u].center().x(), rects[u].bottom(), rects[v].center().x(), rects[v].top())
                   for u, v in placed.graph.edges), key=lambda e: (e[1], e[0]))
    for i in range(0, len(ends), EDGE_CHUNK):
        path = QPainterPath()
        for x0, y0, x1, y1 in ends[i:i + EDGE_CHUNK]:
            placed.edge_lines.append(QLineF(x0, y0, x1, y1))
            path.moveTo(x0, y0)
            if curved:
                bend = max(abs(y1 - y0) * 0.5, 12.0)
                path.cubicTo(x0, y0 + bend, x1, y1 - bend, x1, y1)
            else:
                path.lineTo(x1, y1)
            path.moveTo(x1 - spread, y1 - ARROW)
            path.lineTo(x1, y1)
            path.lineTo(x1 + spread, y1 - ARROW)
        placed.edge_chunks.append((path.controlPointRect(), path))


def run_layout(nodes: list[tuple[str, float, float]], edges: list[tuple[str, str]]) -> dict:
    """core.layout.layout, in the layout process for large graphs (see the module docstring)."""
    if len(nodes) <= SUBPROCESS_ABOVE:
        return layout(nodes, edges)
    return _worker.layout(nodes, edges)


class _Worker:
    """The layout child process: one at a time, reused, started again if it died or hung."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def layout(self, nodes: list, edges: list) -> dict:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.proc = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            proc, ready = self.proc, False
            try:
                proc.stdin.write(json.dumps({"nodes": nodes, "edges": edges}) + "\n")
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
                line = proc.stdout.readline() if ready else ""
            except OSError:
                line = ""
            if not line:
                self.stop()
                raise RuntimeError("layout process failed" if ready else f"layout took over {TIMEOUT:.0f} s")
        out = json.loads(line)
        if "error" in out:
            raise RuntimeError(out["error"])
        return {k: tuple(v) for k, v in out["centres"].items()}

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


_worker = _Worker()
atexit.register(_worker.stop)
