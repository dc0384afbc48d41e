"""Live plots: loss, gradient norm per parameter, update/parameter ratio per parameter.

Data goes into growable numpy buffers (gui/plots/series.py); curves are redrawn by one coalescing
timer (at most ~30 Hz) with peak downsampling and clip-to-view, so a million points stay live.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..theme import pen_colours
from .draw import (
    IterationAxis,
    LogAxis,
    PlotNote,
    TimedCanvas,
    line_width,
    mark_points,
    set_data,
    split,
    style_plot,
    swatch,
)
from .series import ParamTable, Series

REDRAW_MS = 33
MAX_REDRAW_MS = 1000
RERANK_S = 1.0  # which parameters get their own curve is decided at most once a second
MAX_REGIONS = 50  # shaded NaN/Inf spans drawn on the loss plot
NONFINITE_COLOUR = QColor("#e0002a")
# tab20-like, strong hues first; a parameter keeps its colour (by first appearance) in both plots.
CURVE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
                 "#f7b6d2", "#9edae5", "#dbdb8d", "#393b79"]


class PlotsView(QWidget):
    """Three x-linked plots and a legend list (click a name to show/hide its curves). A cursor marks the
    iteration shown; a click in a plot asks for the iteration under it (`sig_jump`)."""

    sig_jump = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss = Series()
        self.nonfinite_spans: list[list[float]] = []  # [first, last] iteration of runs of non-finite iterations
        self.grads = ParamTable()
        self.ratios = ParamTable()
        self.hidden: set[str] = set()
        self._groups: dict[str, tuple[list[str], list[str]]] = {}
        self._ranked_at = 0.0
        self._others: dict[str, tuple[tuple, int, np.ndarray]] = {}  # cache: rest names, rows done, curve
        self.curves: dict[str, dict[str, pg.PlotDataItem]] = {"grad": {}, "ratio": {}}
        self._regions: list[pg.LinearRegionItem] = []
        self.redraws = 0

        self.canvas = TimedCanvas(self)
        self.loss_plot = self.canvas.addPlot(row=0, col=0, axisItems={"bottom": IterationAxis("bottom"),
                                                                      "left": LogAxis("left")})
        self.grad_plot = self.canvas.addPlot(row=1, col=0, axisItems={"bottom": IterationAxis("bottom"),
                                                                      "left": LogAxis("left")})
        self.ratio_plot = self.canvas.addPlot(row=2, col=0, axisItems={"bottom": IterationAxis("bottom"),
                                                                       "left": LogAxis("left")})
        for plot in (self.grad_plot, self.ratio_plot):
            plot.setXLink(self.loss_plot)
            plot.setLogMode(x=False, y=True)
        # No grid: on a raster surface it costs more than the curves.
        self.ratio_plot.setLabel("bottom", self.tr("iteration"))
        self.loss_curve = self._make_curve(self.loss_plot, QColor("#1f77b4"))
        self._cursors = []
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ff7f0e", width=1))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self._cursors.append(line)
        self.canvas.scene().sigMouseClicked.connect(self._on_plot_click)
        self.seen = False  # an iteration arrived (a loss of None then means: no scalar loss)
        self._notes = {plot: PlotNote(plot) for plot in (self.loss_plot, self.grad_plot, self.ratio_plot)}
        self._pinned: set = set()  # (plot, axis) ranges set here while a plot has too little to range on

        self._zero_marks: pg.ScatterPlotItem | None = None  # zero updates on the ratio plot
        self.no_gradient: set[str] = set()  # parameters the last backward gave no gradient
        self.legend = QListWidget(self)
        self.legend.setMaximumWidth(180)
        self.legend.setToolTip(self.tr("Parameters with their own curve (largest gradient norms). Untick to hide."))
        self.legend.itemChanged.connect(self._on_legend_item)
        self.log_loss = QCheckBox(self.tr("log loss"), self)
        self.log_loss.setToolTip(self.tr("Logarithmic loss axis"))
        self.log_loss.toggled.connect(self._on_log_loss)
        reset = QPushButton(self.tr("Fit"), self)
        reset.setToolTip(self.tr("Fit all data and follow new points again"))
        reset.clicked.connect(self._on_reset_zoom)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.log_loss)
        bar.addWidget(reset)
        bar.addStretch(1)
        side = QVBoxLayout()
        side.addLayout(bar)
        side.addWidget(self.legend, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(side)

        self._scheduled = [False]
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_redraw)
        self._restyle()
        self._update_titles()

    # -- public interface --------------------------------------------------------------------
    def add_iteration(self, index: int, loss: float | None, params: dict[str, dict], nonfinite: bool = False) -> None:
        """One iteration: its loss (None when the root was not a scalar), per-parameter grad norms, and
        whether it is non-finite (core.iteration.iteration_nonfinite; shaded on the loss plot)."""
        self.seen = True
        if loss is not None:
            try:
                v = float(loss)
            except (TypeError, ValueError):
                v = math.nan  # not a number: shown as a gap, like NaN
            if v - v == 0 and index > self.loss.last:  # the common case, kept cheap for floods
                self.loss.append(index, v)
            else:
                self._add_loss(index, v)
        if nonfinite:
            self._mark_nonfinite(index)
        if params:
            row = {k: v.get("grad_norm") if isinstance(v, dict) else None for k, v in params.items()}
            for k, v in row.items():  # an optimizer parameter this backward gave no gradient
                (self.no_gradient.add if v is None else self.no_gradient.discard)(k)
            # the accumulated .grad (a forgotten zero_grad): what the optimizer uses, its own curve
            row.update({f"{k} (.grad)": v["accumulated_norm"] for k, v in params.items()
                        if isinstance(v, dict) and v.get("accumulated_norm") is not None})
            self.grads.add_row(index, row)
        self._schedule()

    def add_update_ratios(self, index: int, ratios: dict[str, float]) -> None:
        """||update|| / ||parameter|| per parameter after an optimizer step (or a manual update)."""
        if ratios:
            self.ratios.add_row(index, ratios)
            self._schedule()

    def set_history(self, rows: list[dict], params: dict[str, list[tuple[int, float]]]) -> None:
        """Replace everything by a recording's history (Recording.scalars(), Recording.param_stats())."""
        self.clear()
        self.seen = bool(rows)
        pts = sorted((int(r["index"]), r["loss"]) for r in rows if r.get("loss") is not None)
        if pts:
            xs = np.array([i for i, _ in pts], dtype=np.float64)
            ys = np.array([float(v) for _, v in pts], dtype=np.float64)
            self.loss.extend(xs, ys)
        for i in sorted(int(r["index"]) for r in rows if r.get("nonfinite")):
            self._mark_nonfinite(i)
        self.grads.load(params or {})
        self._schedule()

    def clear(self) -> None:
        """Forget all data (a restart or a new run)."""
        self.loss = Series()
        self.seen = False
        self.nonfinite_spans = []
        self.grads, self.ratios = ParamTable(), ParamTable()
        self.no_gradient.clear()
        self._groups.clear()
        self._others.clear()
        self._ranked_at = 0.0
        self._schedule()

    def flush(self) -> None:
        """Redraw now instead of waiting for the timer."""
        self._timer.stop()
        self._on_redraw()

    # -- data --------------------------------------------------------------------------------
    def _add_loss(self, index: int, v: float) -> None:
        if index <= self.loss.last:
            self.nonfinite_spans = [s for s in self.nonfinite_spans if s[0] < index]
            if self.nonfinite_spans and self.nonfinite_spans[-1][1] >= index:
                self.nonfinite_spans[-1][1] = index - 1
        self.loss.append(index, v)

    def _mark_nonfinite(self, index: int) -> None:
        spans = self.nonfinite_spans
        if spans and spans[-1][1] >= index - 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])

    def _schedule(self) -> None:
        if not self._scheduled[0]:  # a plain list: cheaper than QTimer.isActive() or a QWidget setattr
            self._scheduled[0] = True
            self._timer.start()

    # -- drawing -----------------------------------------------------------------------------
    def _on_redraw(self) -> None:
        started = time.perf_counter()
        self._scheduled[0] = False
        self.redraws += 1
        set_data(self.loss_curve, *self.loss.shown_data())
        mark_points(self.loss_curve, self.loss.n, sampled=False)
        self._explain_empty()
        self._loss_range()
        self._draw_regions()
        listed = sum(len(part) for part in self._groups.get("grad", ((), ())))
        # re-rank now and then, and at once when parameters arrived that no curve or list has yet
        if time.monotonic() - self._ranked_at > RERANK_S or listed != len(self.grads.names):
            self._ranked_at = time.monotonic()
            self._groups = {"grad": split(self.grads.ranked()), "ratio": self._ratio_groups()}
            self._fill_legend()
        self._draw_params("grad", self.grads, self.grad_plot, "norm")
        self._draw_params("ratio", self.ratios, self.ratio_plot, "median")
        self._draw_zero_updates()
        self._x_range()
        self._update_titles()
        # Redraw less often when drawing is slow (many curves, slow machine): at most ~1/4 of the UI thread.
        cost_ms = (time.perf_counter() - started + self.canvas.last_paint_s) * 1000
        self._timer.setInterval(int(min(MAX_REDRAW_MS, max(REDRAW_MS, 4 * cost_ms))))

    def set_cursor(self, index: int | None) -> None:
        """Mark the iteration the window shows (None: no mark)."""
        for line in self._cursors:
            line.setVisible(index is not None)
            if index is not None:
                line.setValue(index)
        self._x_range()

    def notes(self) -> dict[str, str]:
        """What each empty plot says in its place, as drawn ("" when it has data or no room for it)."""
        return {name: self._notes[plot].said if self._notes[plot].isVisible() else ""
                for name, plot in (("loss", self.loss_plot), ("grad", self.grad_plot), ("ratio", self.ratio_plot))}

    def _explain_empty(self) -> None:
        """An empty plot says why in its place, over a y range with a labelled tick (a log plot: one decade
        around 1, or 0.001 for update ratios) instead of pyqtgraph's bare 1..10."""
        colour = pen_colours(self.palette())[1]
        waiting = self.tr("after the first backward pass")
        y = self.loss.shown_data()[1]
        grads = self.grads.values[:, :self.grads.n]
        empty = {self.loss_plot: (not np.isfinite(y).any(), self.tr("no scalar loss") if self.seen else waiting, 0.5),
                 self.grad_plot: (not (np.isfinite(grads) & (grads > 0)).any(),
                                  self.tr("no parameter gradient") if self.seen else waiting, 0.0),
                 self.ratio_plot: (not self.ratios.n, self.tr("after the first optimizer step"), -3.0)}
        for plot, (none, why, middle) in empty.items():
            self._notes[plot].say(why if none else "", colour, plot.getAxis("left").style["tickFont"] or self.font())
            if none and not (plot is self.loss_plot and self.log_loss.isChecked()):
                self._pin(plot, "y", middle - 0.5, middle + 0.5)
            else:
                self._unpin(plot, "y")

    def _x_range(self) -> None:
        """While the plots hold one iteration or none, the iterations shown are the cursor's and the data's,
        half an iteration either side (a labelled tick, the cursor inside the axes, not on the y axis)."""
        xs = [float(v) for t in (self.loss, self.grads, self.ratios) if t.n for v in (t.x[0], t.x[t.n - 1])]
        if self._cursors[0].isVisible():
            xs.append(float(self._cursors[0].value()))
        lo, hi = (min(xs), max(xs)) if xs else (0.0, 0.0)
        if hi - lo < 1:
            self._pin(self.loss_plot, "x", lo - 0.5, hi + 0.5)
        elif (self.loss_plot, "x") in self._pinned:  # the curves were clipped to the pinned range: all in view
            self.loss_plot.setXRange(lo, hi)
            self._unpin(self.loss_plot, "x")

    def _pin(self, plot: pg.PlotItem, axis: str, lo: float, hi: float) -> None:
        self._pinned.add((plot, axis))
        if [round(v, 9) for v in plot.viewRange()[axis == "y"]] != [round(lo, 9), round(hi, 9)]:
            (plot.setYRange if axis == "y" else plot.setXRange)(lo, hi, padding=0)

    def _unpin(self, plot: pg.PlotItem, axis: str) -> None:
        """Auto-range again an axis _pin set (not one the user zoomed)."""
        if (plot, axis) in self._pinned:
            self._pinned.discard((plot, axis))
            plot.enableAutoRange(axis=axis)

    def cursor(self) -> float | None:
        return self._cursors[0].value() if self._cursors[0].isVisible() else None

    def _on_plot_click(self, event) -> None:
        pos = event.scenePos()
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            if plot.vb.sceneBoundingRect().contains(pos):
                self.sig_jump.emit(max(int(round(plot.vb.mapSceneToView(pos).x())), 0))
                return

    def _loss_range(self) -> None:
        """One loss value (or all equal): auto-range would span ±0.5 around it, and every tick of a loss
        of 2.9e7 would read 2.9e+07; show ±10% instead. More values: auto-range again."""
        if self.log_loss.isChecked():
            return
        y = self.loss.shown_data()[1]
        y = y[np.isfinite(y)]
        if not y.size:
            return
        lo, hi = float(y.min()), float(y.max())
        if hi - lo <= 1e-9 * max(abs(hi), 1.0):
            pad = 0.1 * abs(hi) or 1.0
            self.loss_plot.setYRange(hi - pad, hi + pad, padding=0)
        elif not self.loss_plot.getViewBox().autoRangeEnabled()[1]:
            self.loss_plot.enableAutoRange(axis="y")

    def zero_update_floor(self) -> float:
        """Where zero updates are drawn on the log-scale ratio plot: a decade under its least ratio."""
        v = self.ratios.values[:, :self.ratios.n]
        positive = v[np.isfinite(v) & (v > 0)]
        return float(positive.min()) / 10 if positive.size else 1e-8

    def _draw_zero_updates(self) -> None:
        """A log scale cannot draw 0: zero updates (lr 0, a frozen parameter) as marks at the axis floor."""
        t = self.ratios
        cols, idx = np.nonzero(t.values[:, :t.n] == 0)
        if self._zero_marks is None:
            self._zero_marks = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen("#d62728", width=1.5))
            self._zero_marks.setToolTip(self.tr("update 0: drawn at the floor of the log scale"))
            self.ratio_plot.addItem(self._zero_marks)
        floor = self.zero_update_floor()
        self._zero_marks.setData(t.x[idx].astype(float), np.full(len(idx), np.log10(floor)))

    def _ratio_groups(self) -> tuple[list[str], list[str]]:
        """The ratio plot follows the gradient plot's choice so a colour means one parameter."""
        shown_grad = set(self._groups.get("grad", ([], []))[0])
        names = self.ratios.ranked()
        if not shown_grad:
            return split(names)
        return [n for n in names if n in shown_grad], [n for n in names if n not in shown_grad]

    def _draw_params(self, which: str, table: ParamTable, plot: pg.PlotItem, how: str) -> None:
        shown, rest = self._groups.get(which, ([], []))
        shown = [n for n in shown if n in table.column]
        rest = [n for n in rest if n in table.column]
        curves = self.curves[which]
        wanted = set(shown) | ({"others"} if rest else set())
        for name in list(curves):
            if name not in wanted:
                plot.removeItem(curves.pop(name))
        for name in shown:
            if name not in curves:
                curves[name] = self._make_curve(plot, self._colour(name))
            set_data(curves[name], *table.curve(name), log=True)
            mark_points(curves[name], table.n, which == "ratio")
            curves[name].setVisible(name not in self.hidden)
        if rest:
            if "others" not in curves:
                curves["others"] = self._make_curve(plot, QColor("#999999"), Qt.PenStyle.DashLine)
            set_data(curves["others"], table.x[:table.n], self._combined(which, table, rest, how), log=True)
            mark_points(curves["others"], table.n, which == "ratio")
            curves["others"].setVisible("others" not in self.hidden)

    def _combined(self, which: str, table: ParamTable, rest: list[str], how: str) -> np.ndarray:
        """The "others" curve, extended incrementally while the grouping stays the same."""
        key = (table.generation, tuple(rest))
        cached = self._others.get(which)
        if cached and cached[0] == key and cached[1] <= table.n and cached[1] > 0:
            _, done, curve = cached
            curve = np.concatenate([curve[:done - 1], table.combined(rest, how, start=done - 1)])
        else:
            curve = table.combined(rest, how)
        self._others[which] = (key, table.n, curve)
        return curve

    def _draw_regions(self) -> None:
        spans = self.nonfinite_spans
        if len(spans) > MAX_REGIONS:  # fold the oldest together so drawing stays cheap
            spans = [[spans[0][0], spans[-MAX_REGIONS][1]]] + spans[-MAX_REGIONS + 1:]
        while len(self._regions) > len(spans):
            self.loss_plot.removeItem(self._regions.pop())
        brush = QColor(NONFINITE_COLOUR)
        brush.setAlpha(70)
        while len(self._regions) < len(spans):
            region = pg.LinearRegionItem(movable=False, brush=brush, pen=pg.mkPen(NONFINITE_COLOUR, width=2))
            region.setZValue(-10)
            region.setToolTip(self.tr("NaN or Inf in these iterations (loss, a gradient or a value)"))
            self.loss_plot.addItem(region, ignoreBounds=True)
            self._regions.append(region)
        for region, (a, b) in zip(self._regions, spans, strict=True):
            region.setRegion((a - 0.5, b + 0.5))

    def _update_titles(self) -> None:
        fg = pen_colours(self.palette())[1].name()
        bad = sum(int(b - a) + 1 for a, b in self.nonfinite_spans)
        loss_title = self.tr("loss")
        if bad:
            first = int(self.nonfinite_spans[0][0]) if self.nonfinite_spans else 0
            loss_title += (f"  <span style='color:{NONFINITE_COLOUR.name()}; font-weight:bold'>"
                           + self.tr("{count} NaN/Inf (first at iteration {index})").format(count=bad, index=first)
                           + "</span>")
        self.loss_plot.setTitle(loss_title, color=fg)
        self.grad_plot.setTitle(self.tr("gradient norm ‖grad‖"), color=fg)
        self.ratio_plot.setTitle(self.tr("update ratio ‖Δw‖/‖w‖"), color=fg)

    def _make_curve(self, plot: pg.PlotItem, colour: QColor,
                    style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> pg.PlotDataItem:
        curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=line_width(), style=style), connect="finite")
        plot.addItem(curve)
        curve.setDownsampling(auto=True, method="peak")  # after addItem: clip-to-view needs the ViewBox
        curve.setClipToView(True)
        return curve

    def _colour(self, name: str) -> QColor:
        col = self.grads.column.get(name)
        if col is None:
            col = len(self.grads.names) + self.ratios.column.get(name, 0)
        return QColor(CURVE_COLOURS[col % len(CURVE_COLOURS)])

    def _fill_legend(self) -> None:
        shown, rest = self._groups["grad"]
        if not shown:
            shown, rest = self._groups["ratio"]
        others = self.tr("others ({count})").format(count=len(rest))
        entries = [(n, self._colour(n)) for n in shown] + ([(others, QColor("#999999"))] if rest else [])
        labels = [self.tr("{name} — no gradient").format(name=n) if n in self.no_gradient else n for n, _ in entries]
        if [self.legend.item(i).text() for i in range(self.legend.count())] == labels:
            return
        self.legend.blockSignals(True)
        self.legend.clear()
        for (name, colour), label in zip(entries, labels, strict=True):
            key = "others" if rest and name == others else name
            item = QListWidgetItem(swatch(colour), label)
            if name in self.no_gradient:
                item.setToolTip(self.tr("The optimizer holds this parameter, but the last backward pass gave it no "
                                        "gradient (not used in the forward, or cut off by detach / no_grad)"))
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if key in self.hidden else Qt.CheckState.Checked)
            if key == "others":
                item.setToolTip(self.tr("Parameters without their own curve: the norm of all their gradients "
                                        "together (gradient plot), the median ratio (ratio plot): ")
                                + ", ".join(rest[:30]) + (" ..." if len(rest) > 30 else ""))
            self.legend.addItem(item)
        self.legend.blockSignals(False)

    # -- slots and theming -------------------------------------------------------------------
    def _on_legend_item(self, item: QListWidgetItem) -> None:
        key = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            self.hidden.discard(key)
        else:
            self.hidden.add(key)
        for curves in self.curves.values():
            if key in curves:
                curves[key].setVisible(key not in self.hidden)

    def _on_log_loss(self, on: bool) -> None:
        self.loss_plot.setLogMode(x=False, y=on)

    def _on_reset_zoom(self) -> None:
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            plot.enableAutoRange()

    def _restyle(self) -> None:
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            style_plot(plot, self.canvas, self.palette())
        dark = pen_colours(self.palette())[0].lightnessF() < 0.5
        width = line_width()
        self.loss_curve.setPen(pg.mkPen("#5fb0ff" if dark else "#1f5fa8", width=width))
        for curves in self.curves.values():
            for curve in curves.values():
                pen = QPen(curve.opts["pen"])
                pen.setWidthF(width)
                curve.setPen(pen)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == event.Type.PaletteChange:
            self._restyle()
            self._update_titles()
        super().changeEvent(event)
