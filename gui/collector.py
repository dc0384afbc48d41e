"""Python's cyclic collector runs on the GUI thread only (pyqtgraph's GarbageCollector does the same).

A collection may happen on whichever thread allocates: on a worker (the doctor's, a layout's) it can free
a cycle holding Qt widgets there, and a Qt object destroyed off the GUI thread deadlocks or crashes (seen: a
QMenu freed by a collection in the doctor's thread deadlocked QApplication.setStyle on the GUI thread).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500

_collector: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    """Turns the automatic collector off and collects on a timer, by the collector's own thresholds."""

    def __init__(self, app: QCoreApplication):
        super().__init__(app)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._collect)
        self._timer.start(INTERVAL_MS)

    def _collect(self) -> None:
        counts, limits = gc.get_count(), gc.get_threshold()
        gen = max((g for g in range(3) if counts[g] > limits[g]), default=None)
        if gen is not None:
            gc.collect(gen)


def collect_on_gui_thread() -> None:
    """Install the collector once for the running application (call on the GUI thread)."""
    global _collector
    app = QCoreApplication.instance()
    if _collector is None and app is not None:
        _collector = GuiThreadCollector(app)
    gc.disable()
