"""The backward pass replayed node by node, loss first, on a timer."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
from PySide6.QtCore import QObject, QTimer

ANIMATE_MS = 220  # per node, unless the whole pass must fit in a given time


class BackwardAnimation(QObject):
    """Calls `light(node, grad)` for each node of a graph in backward order, one per tick."""

    def __init__(self, parent: QObject, light: Callable[[str, dict | None], None]):
        super().__init__(parent)
        self.light = light
        self._steps: list[str] = []
        self._grads: dict = {}
        self._timer = QTimer(self, interval=ANIMATE_MS)
        self._timer.timeout.connect(self._step)

    def start(self, g: nx.DiGraph, within_ms: int | None = None) -> None:
        steps = max(g.number_of_nodes(), 1)
        self._timer.setInterval(ANIMATE_MS if within_ms is None else max(15, min(ANIMATE_MS, within_ms // steps)))
        self._grads = {n: a.get("grad") for n, a in g.nodes(data=True)}
        self._steps = list(reversed(list(nx.topological_sort(g))))
        self._timer.start()

    def stop(self) -> None:
        self._steps = []
        self._timer.stop()

    def active(self) -> bool:
        return self._timer.isActive()

    def _step(self) -> None:
        if not self._steps:
            self._timer.stop()
            return
        n = self._steps.pop(0)
        self.light(n, self._grads.get(n))
