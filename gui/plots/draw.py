"""Drawing helpers of the plots: styling, axes, curve data and point marks."""

from __future__ import annotations

import html
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication

from ..theme import current_theme, pen_colours

MAX_CURVES = 20  # per parameter plot: the 19 largest, the rest folded into one "others" curve
MIN_TICK_PX = 5  # ticks closer than this on screen are a smudge, not a scale: the finer one is left out


def style_plot(plot: pg.PlotItem, view: pg.GraphicsView, palette: QPalette) -> None:
    """Colours and tick font of a pyqtgraph plot from a widget palette and the application font."""
    bg, fg = pen_colours(palette)
    view.setBackground(bg)
    font = QFont(QApplication.font())
    font.setPointSizeF(max(font.pointSizeF() * (0.75 if current_theme()[1] else 0.9), 7))
    plot.titleLabel.opts["size"] = f"{QApplication.font().pointSizeF():g}pt"
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.labelStyle = {"font-size": f"{font.pointSizeF():g}pt"}
        axis.setPen(fg)
        axis.setTextPen(fg)
        axis.setTickFont(font)
        axis.enableAutoSIPrefix(False)  # "iteration (x0.001)" confuses more than it helps
    # One fixed width for every left axis keeps the x-linked plots aligned; wide enough for "0.0001".
    plot.getAxis("left").setWidth(QFontMetrics(font).horizontalAdvance("0.0001") + 16)


class TimedCanvas(pg.GraphicsLayoutWidget):
    """Remembers how long its last paint took (the redraw timer adapts to it)."""

    last_paint_s = 0.0

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - started


class LogAxis(pg.AxisItem):
    """A value axis whose labels are never closer than a line of text (a short plot at 1280x720). In log
    mode: plain labels (20, 0.01, 1e-06), only at 1, 2 and 5 x 10^k when there are enough of those (the
    3..9 minor labels pile up otherwise), 10^k first, then 5 and 2 x 10^k where they fit; in linear mode
    every k-th label (4.0, 4.4, 4.8 instead of 4.0 4.2 4.4 4.6 4.8 in 40 px). Ticks closer than MIN_TICK_PX
    are left out (the minor ticks of a decade in 40 px)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph override)
        per = size / (maxVal - minVal) if maxVal > minVal else 0.0
        if not per:
            return super().tickValues(minVal, maxVal, size)
        placed: list[float] = []
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):  # coarsest level first
            rank = (lambda v: {1: 0, 5: 1, 2: 2}.get(mantissa(v), 3)) if self.logMode else (lambda v: 0)
            for v in sorted(values, key=lambda v: (rank(v), v)):  # a log decade's 1, 5 and 2 first
                if all(abs(v - p) * per >= MIN_TICK_PX for p in placed):
                    placed.append(v)
            levels.append((spacing, [v for v in values if v in placed]))
        return levels

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        strings = super().tickStrings(values, scale, spacing)
        if self.logMode or not spacing:
            return strings
        per, line = self._pixels()
        every = math.ceil(line / (spacing * per)) if per > 0 else 1
        return [s if round(float(v) / spacing) % every == 0 else "" for v, s in zip(values, strings, strict=True)]

    def _pixels(self) -> tuple[float, float]:
        """Pixels per axis unit (0 before the axis has a size), and the height of a label."""
        lo, hi = self.range
        length = self.geometry().height() if self.orientation in ("left", "right") else self.geometry().width()
        line = QFontMetrics(self.style["tickFont"] or QFont()).height()
        return (length / (hi - lo) if hi > lo and length > 0 else 0.0), line

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        strings = [f"{10 ** float(v) * scale:g}" for v in values]
        keep = [s if mantissa(v) in (1, 2, 5) else "" for v, s in zip(values, strings, strict=True)]
        return self._apart(values, keep if sum(1 for s in keep if s) >= 2 else strings, spacing)

    def _apart(self, values, strings: list[str], spacing: float | None) -> list[str]:
        """`strings` with those too close to a label already placed blanked (this level's or, for a minor
        level, the decades' labels of the level above when it does not hold them itself)."""
        per, line = self._pixels()  # pixels per decade
        if per <= 0:
            return strings
        lo, hi = self.range
        mine = {round(float(v), 6) for v in values}
        placed = [] if spacing is not None and spacing >= 1 else \
            [float(k) for k in range(math.ceil(lo), math.floor(hi) + 1) if round(float(k), 6) not in mine]
        out = [""] * len(values)
        for i in sorted(range(len(values)), key=lambda i: ({1: 0, 5: 1, 2: 2}.get(mantissa(values[i]), 3), values[i])):
            if strings[i] and all(abs(float(values[i]) - p) * per >= line for p in placed):
                out[i] = strings[i]
                placed.append(float(values[i]))
        return out


class IterationAxis(pg.AxisItem):
    """Iterations are whole numbers: no ticks at 0.2, 0.4 ... when zoomed in on a few."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph override)
        levels = [(spacing, [v for v in values if float(v).is_integer()])
                  for spacing, values in super().tickValues(minVal, maxVal, size) if spacing >= 1]
        return levels or [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]


class PlotNote(pg.TextItem):
    """Why a plot is empty, written in its middle ("after the first optimizer step"), wrapped to its width;
    not drawn in a plot too short for it (it would cover the title)."""

    def __init__(self, plot: pg.PlotItem):
        super().__init__("", anchor=(0.5, 0.5))
        self.setParentItem(plot.vb)  # the view box's pixels, not the data's coordinates
        self.said = ""
        self.vb = plot.vb
        self.textItem.document().setDocumentMargin(0)
        plot.vb.sigResized.connect(lambda vb: self._place())

    def _place(self) -> None:
        rect = self.vb.rect()
        self.textItem.setTextWidth(max(rect.width() - 4, 40))
        self.setPos(rect.center())
        self.updateTextPos()
        self.setVisible(bool(self.said) and self.textItem.boundingRect().height() <= rect.height())

    def say(self, text: str, colour: QColor, font: QFont) -> None:
        """Show `text` (nothing: "") in the axes' tick font."""
        if text != self.said or colour != self.color or font != self.textItem.font():
            self.said = text
            self.setColor(colour)
            self.textItem.setFont(font)
            self.setHtml(f"<div align='center'>{html.escape(text)}</div>")
        self._place()


def mantissa(log_value: float) -> int:
    """The leading digit of 10**log_value."""
    v = 10 ** float(log_value)
    return int(round(v / 10 ** math.floor(math.log10(v)))) if v > 0 and math.isfinite(v) else 0


def line_width() -> float:
    """1 px normally (wider lines go through Qt's stroker and paint ~6x slower), 2.5 px on a projector."""
    return 2.5 if current_theme()[1] else 1.0


def set_data(curve: pg.PlotDataItem, x, y, log: bool = False) -> None:
    """setData, but a curve with no point to draw gets none (pyqtgraph's scatter bounds warn on all-NaN;
    a log scale cannot draw values <= 0)."""
    y = np.asarray(y)
    drawable = np.isfinite(y) & (y > 0) if log else np.isfinite(y)
    if y.size and not drawable.any():
        x, y = [], []
    curve.setData(x, y)


def mark_points(curve: pg.PlotDataItem, n: int, sampled: bool, few: int = 40) -> None:
    """Mark each point while there are few (a single iteration has no line to show); a sampled series
    (update ratios: measured on some optimizer steps only) is markers only, no line suggesting the rest."""
    want = "o" if n <= few or sampled else None
    if curve.opts.get("symbol") != want:
        pen = curve.opts["pen"]
        colour = pen.color() if isinstance(pen, QPen) else QColor("#888888")
        curve.setSymbol(want)
        curve.setSymbolSize(5 if not sampled else 4)
        curve.setSymbolPen(colour)
        curve.setSymbolBrush(colour)
        if sampled:
            curve.setPen(None)


def split(names: list[str]) -> tuple[list[str], list[str]]:
    """At most MAX_CURVES curves: all names if they fit, else the first MAX_CURVES-1 and the rest."""
    if len(names) <= MAX_CURVES:
        return names, []
    return names[:MAX_CURVES - 1], names[MAX_CURVES - 1:]


def swatch(colour: QColor) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(colour)
    return QIcon(pix)
