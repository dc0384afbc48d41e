"""Background layout for the graph view: a QRunnable that builds the display graph and places it.

Nothing here runs on the UI thread. Large graphs are laid out in a short-lived child process:
OGDF's Sugiyama holds the GIL for its whole call (~0.15-0.3 s at 10k nodes), which would freeze
the UI thread just as surely as calling it there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import networkx as nx
from PySide6.QtCore import QObject, QRunnable, Signal

from core.layout import layout
from gui import graph_model as gm

SUBPROCESS_ABOVE = 1000  # boxes; below this the in-process call is short enough (a few ms)
TIMEOUT = 180.0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = (f"import sys, json; sys.path.insert(0, {ROOT!r}); from core.layout import layout; "
        "d = json.load(sys.stdin); "
        "json.dump(layout([tuple(n) for n in d['nodes']], [tuple(e) for e in d['edges']]), sys.stdout)")


@dataclass
class Placed:
    """A laid-out display graph: boxes, their sizes and centres (points, y down)."""

    graph: gm.DisplayGraph
    sizes: dict[str, tuple[float, float]]
    centres: dict[str, tuple[float, float]]


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
        try:
            placed = place(self.graph, self.collapsed, self.char_w, self.line_h)
        except Exception as e:  # noqa: BLE001 - reported to the view, never lost in a thread
            self.relay.sig_failed.emit(self.key, f"layout failed: {e}")
            return
        self.relay.sig_done.emit(self.key, placed)


def place(g: nx.DiGraph, collapsed: frozenset[str], char_w: float, line_h: float) -> Placed:
    """The display graph of `g` with `collapsed` modules folded, sized and laid out."""
    dg = gm.display_graph(g, collapsed)
    sizes = {b: gm.box_size(d, char_w, line_h) for b, d in dg.nodes.items()}
    nodes = [(b, float(w), float(h)) for b, (w, h) in sizes.items()]
    return Placed(dg, sizes, run_layout(nodes, dg.edges))


def run_layout(nodes: list[tuple[str, float, float]], edges: list[tuple[str, str]]) -> dict:
    """core.layout.layout, in a child process for large graphs (see the module docstring)."""
    if len(nodes) <= SUBPROCESS_ABOVE:
        return layout(nodes, edges)
    data = json.dumps({"nodes": nodes, "edges": edges})
    done = subprocess.run([sys.executable, "-c", BOOT], input=data, capture_output=True, text=True,
                          timeout=TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "layout process failed")
    return {k: tuple(v) for k, v in json.loads(done.stdout).items()}
