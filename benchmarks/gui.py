"""GUI frame rates: a 10k-node graph panned and zoomed, and the loss plot kept live at 1M points;
and the longest stall of the UI thread while a 10k-node graph is laid out and built.

A frame is one synchronous repaint of the view after a pan or zoom step (offscreen, software
rendering: what a machine without a GPU draws). Frames per second = 1 / median frame time.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import emit, line

TARGET_FPS = 30.0


def frames(app, step, paint, count: int) -> float:
    """Frames per second: `step(i)` then a synchronous `paint()`, `count` times (median frame)."""
    times = []
    for i in range(count):
        t = time.perf_counter()
        step(i)
        paint()
        app.processEvents()
        times.append(time.perf_counter() - t)
    return 1.0 / statistics.median(times)


def wait_layout(app, view, done: list, k: int) -> None:
    t = time.perf_counter()
    while len(done) < k and time.perf_counter() - t < 120:
        app.processEvents()
        time.sleep(0.001)
    while view.busy and time.perf_counter() - t < 120:
        app.processEvents()
        time.sleep(0.001)


def graph_fps(app, count: int) -> None:
    from backprop_studio.gui.graph.view import GraphView
    from benchmarks.layouts import traced_graph

    it = traced_graph(10_000, "full")
    view = GraphView()
    view.resize(1400, 900)
    view.show()
    done: list = []
    view.sig_layout_done.connect(done.append)
    view.set_iteration(it)
    wait_layout(app, view, done, 1)
    view.expand_all()
    wait_layout(app, view, done, 2)
    boxes = len(view.items)
    paint = view.viewport().repaint
    bar = view.horizontalScrollBar(), view.verticalScrollBar()
    for label, scale in (("whole graph in view", None), ("boxes readable (1:1)", 1.0)):
        view.fit()
        if scale is not None:
            view.zoom(scale / view.transform().m11())
        start = bar[1].value()
        pan = frames(app, lambda i, s=start: bar[1].setValue(s + (i % 20) * 40 - 400), paint, count)
        zoom = frames(app, lambda i: view.zoom(1.1 if i % 2 == 0 else 1 / 1.1), paint, count)
        worst = min(pan, zoom)
        emit(line(f"graph view, {boxes} boxes, {label}: pan / zoom", f"{pan:.0f} / {zoom:.0f} frames/s",
                  f">= {TARGET_FPS:.0f} frames/s", worst >= TARGET_FPS))
    for _, a in it.graph.nodes(data=True):  # an exploded run: every box marked NaN/Inf
        a["grad"] = {**(a.get("grad") or {}), "nan": 1}
    view.set_iteration(it)
    wait_layout(app, view, done, len(done))
    view.fit()
    zoom = frames(app, lambda i: view.zoom(1.1 if i % 2 == 0 else 1 / 1.1), paint, count)
    emit(line(f"graph view, {boxes} boxes all marked NaN/Inf, whole graph in view: zoom", f"{zoom:.0f} frames/s",
              "report", None))


def layout_stall(app) -> None:
    """A 10 ms timer runs while a 10k-node graph is laid out in the background and its boxes are built:
    the longest gap between ticks is the longest the UI thread was frozen."""
    from PySide6.QtCore import QTimer

    from backprop_studio.gui.app import freeze_startup_objects
    from backprop_studio.gui.graph.view import GraphView
    from benchmarks.layouts import traced_graph

    it = traced_graph(10_000, "full")
    freeze_startup_objects()  # as the app does: torch's objects stay out of the collector's scans
    view = GraphView()
    view.resize(1200, 800)
    view.show()
    ticks = [time.perf_counter()]
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    done: list = []
    view.sig_layout_done.connect(done.append)
    view.expand_all()
    view.set_iteration(it)
    wait_layout(app, view, done, 1)
    end = time.perf_counter() + 0.3  # and the repaints after it
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    worst = max(b - a for a, b in zip(ticks, ticks[1:], strict=False)) * 1e3
    emit(line(f"UI thread while a {len(view.items)}-box graph is laid out and built: longest stall",
              f"{worst:.0f} ms ({len(ticks)} ticks)", "<= 200 ms", worst <= 200))


def plot_fps(app, count: int) -> None:
    from backprop_studio.gui.plots.view import PlotsView

    view = PlotsView()
    view.resize(1000, 700)
    view.show()
    n = 1_000_000
    t = time.perf_counter()
    for i in range(n):
        view.add_iteration(i, 1.0 / (i + 1), {})
    fill = time.perf_counter() - t
    view.flush()
    box = [n]

    def step(_i):
        view.add_iteration(box[0], 1.0 / (box[0] + 1), {})
        box[0] += 1
        view.flush()

    fps = frames(app, step, view.canvas.viewport().repaint, count)
    emit(line("loss plot live at 1M points: a new point, redraw and repaint", f"{fps:.0f} frames/s "
              f"(1M points added in {fill:.1f} s)", f">= {TARGET_FPS:.0f} frames/s", fps >= TARGET_FPS))


def run(quick: bool = False) -> None:
    from PySide6.QtWidgets import QApplication

    from backprop_studio.gui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app, "light")
    count = 20 if quick else 60
    layout_stall(app)
    graph_fps(app, count)
    plot_fps(app, count)
