"""One curve per rank on the loss and gradient-norm plots of a distributed run (gui/plots/view.py
draws the rank in focus as any run; these overlay every rank)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer

from ...core.iteration import total_grad_norm
from ..theme import pen_colours
from .series import Series

RANK_COLOURS = ["#222222", "#e6007e", "#00a087", "#7e57c2", "#b8860b", "#0077bb", "#cc3311", "#555555"]  # not
# the parameters' colours
REDRAW_MS = 100


class RankCurves(QObject):
    """Per rank: its losses on the loss plot and its total gradient norm (all parameters) on the
    gradient-norm plot, dashed, in the rank's colour; `set_visible(False)` hides them."""

    def __init__(self, plots):
        super().__init__(plots)
        self.plots = plots
        self.visible = True
        self.series: dict[str, dict[int, Series]] = {"loss": {}, "grad": {}}
        self.curves: dict[str, dict[int, pg.PlotDataItem]] = {"loss": {}, "grad": {}}
        self._timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._timer.timeout.connect(self.redraw)

    def add(self, rank: int, d: dict) -> None:
        """Bridge.sig_rank_scalars: one rank's iteration {index, loss, params}."""
        norm = total_grad_norm(d.get("params") or {})
        for which, value in (("loss", d.get("loss")), ("grad", norm)):
            if value is not None:
                self.series[which].setdefault(rank, Series()).append(d["index"], float(value))
        if not self._timer.isActive():
            self._timer.start()

    def set_visible(self, on: bool) -> None:
        self.visible = on
        for curves in self.curves.values():
            for curve in curves.values():
                curve.setVisible(on)

    def clear(self) -> None:
        self._timer.stop()
        for which, plot in (("loss", self.plots.loss_plot), ("grad", self.plots.grad_plot)):
            for curve in self.curves[which].values():
                plot.removeItem(curve)
            self.curves[which].clear()
            self.series[which].clear()

    def redraw(self) -> None:
        for which, plot in (("loss", self.plots.loss_plot), ("grad", self.plots.grad_plot)):
            for rank, series in self.series[which].items():
                curve = self.curves[which].get(rank)
                if curve is None:
                    colour = RANK_COLOURS[rank % len(RANK_COLOURS)]
                    name = self.tr("rank {rank}").format(rank=rank) if which == "loss" else \
                        self.tr("rank {rank}: all parameters").format(rank=rank)
                    curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                                            symbol="o", symbolSize=4, symbolPen=colour, symbolBrush=colour,
                                            connect="finite", name=name)
                    if plot.legend is None:
                        bg, fg = pen_colours(self.plots.palette())
                        bg.setAlpha(200)
                        plot.addLegend(offset=(-10, 10), labelTextSize="8pt", labelTextColor=fg, brush=bg)
                    plot.addItem(curve)
                    self.curves[which][rank] = curve
                x, y = series.data()
                drawable = np.isfinite(y) & (y > 0 if which == "grad" else True)
                curve.setData(x[drawable], y[drawable])
                curve.setVisible(self.visible)

