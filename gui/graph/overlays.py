"""Widgets floating over the graph view: the colour legend and the message banner."""

from __future__ import annotations

import networkx as nx
from PySide6.QtCore import QT_TRANSLATE_NOOP, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from ...core.render.labels import node_title
from ..i18n import translate
from ..theme import legend_stops, node_colours

LEGEND_MAX_PT = 11.0
KINDS = (("op", QT_TRANSLATE_NOOP("Legend", "op")), ("param", QT_TRANSLATE_NOOP("Legend", "parameter")),
         ("leaf", QT_TRANSLATE_NOOP("Legend", "leaf")), ("custom", QT_TRANSLATE_NOOP("Legend", "custom Function")),
         ("module", QT_TRANSLATE_NOOP("Legend", "module")))


class Legend(QWidget):
    """Gradient-norm colour bar (log scale) and the node kinds, at the right of the strip above the graph."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.theme = "light"
        self.lo, self.hi = 1e-8, 1.0
        self.has_grads = False
        self.room = 10_000  # the width the strip offers (fit_to)
        self.resize_for_font()

    def set_range(self, lo: float, hi: float, has_grads: bool, theme: str) -> None:
        self.lo, self.hi, self.has_grads, self.theme = lo, hi, has_grads, theme
        self.resize_for_font()
        self.update()

    def resize_for_font(self) -> None:
        font = QApplication.font()
        font.setPointSizeF(min(font.pointSizeF() * 0.85, LEGEND_MAX_PT))  # a key, not the content
        self.setFont(font)
        fm = self.fontMetrics()
        line = fm.height()
        self._bar_w = max(fm.horizontalAdvance(self.tr("gradient norm ‖grad‖ (log scale)")),
                          fm.horizontalAdvance(self.tr("gradient norm: none yet"))) + 8
        self._kind_w = max(fm.horizontalAdvance(self.tr(label)) for _, label in KINDS) + line * 2
        self.fit_to(self.room)

    def fit_to(self, width: int) -> None:
        """Short and wide (it sits in the strip above the graph, where height is what the graph pays for):
        the node kinds in as many columns (3, 2 or 1) as `width` allows beside the colour bar."""
        self.room = width
        line = self.fontMetrics().height()
        self._columns = next((c for c in (3, 2) if self._bar_w + c * self._kind_w + 24 <= width), 1)
        rows = -(-6 // self._columns)
        self.resize(self._bar_w + self._columns * self._kind_w + 24, int(max(3.2, rows * 1.25) * line) + 10)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        bg = QColor(pal.window().color())
        bg.setAlpha(225)
        p.setPen(QPen(pal.mid().color(), 1))
        p.setBrush(bg)
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        fm = self.fontMetrics()
        line = fm.height()
        w = self._bar_w
        p.setPen(pal.windowText().color())
        title = self.tr("gradient norm ‖grad‖ (log scale)") if self.has_grads else self.tr("gradient norm: none yet")
        p.drawText(QRectF(8, 4, w, line), Qt.AlignmentFlag.AlignLeft, title)
        bar = QRectF(8, 6 + line, w, line * 0.9)
        stops = legend_stops(self.lo, self.hi, self.theme, 5)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for i, (_, colour) in enumerate(stops):
            grad.setColorAt(i / (len(stops) - 1), colour)
        p.fillRect(bar, QBrush(grad))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(bar)
        y = bar.bottom() + 2
        if self.has_grads:
            p.drawText(QRectF(8, y, w, line), Qt.AlignmentFlag.AlignLeft, f"{self.lo:.2g}")
            p.drawText(QRectF(8, y, w, line), Qt.AlignmentFlag.AlignRight, f"{self.hi:.2g}")
        colours = node_colours(self.theme)
        entries = [*KINDS, ("nonfinite", "NaN / Inf")]
        for i, (kind, label) in enumerate(entries):  # in columns, right of the bar
            x = 16 + w + (i % self._columns) * self._kind_w
            yy = 6 + (i // self._columns) * (line + 4)
            swatch = QRectF(x, yy + 2, line * 1.2, line - 4)
            p.fillRect(swatch, colours.get(kind, colours["edge"]))
            p.setPen(pal.windowText().color())
            p.drawText(QRectF(x + line * 1.4, yy, self._kind_w - line * 1.4, line), Qt.AlignmentFlag.AlignLeft,
                       self.tr(label))
        p.end()


class Banner(QLabel):
    """A one-line message over the top-left of the view (graph changes, layout progress, errors)."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setStyleSheet("QLabel { background: rgba(255, 236, 179, 235); color: #202020;"
                           " border: 1px solid #d0a000; border-radius: 4px; padding: 3px 6px; }")
        self.hide()

    MAX_LINES = 2  # a longer message is cut (all of it in the tooltip): the strip stays short

    def show_text(self, text: str, width: int) -> None:
        if not text:
            self.hide()
            return
        width = max(width, 100)
        metrics = self.fontMetrics()
        lines = []
        for line in text.split("\n"):
            lines.append(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width - 16))
        shown = lines[:self.MAX_LINES]
        if len(lines) > self.MAX_LINES:
            shown[-1] = metrics.elidedText(shown[-1] + " …", Qt.TextElideMode.ElideRight, width - 16)
        self.setWordWrap(False)
        self.setText("\n".join(shown))
        self.setToolTip(text if shown != text.split("\n") else "")
        self.setFixedWidth(width)
        self.adjustSize()
        self.show()


BANNER_MIN = 240  # px beside the legend; narrower, the banner goes under it


def banner_text(it, added: set, removed: list[str], nonfinite_count: int, origin: str | None) -> str:
    """What the banner says about the shown iteration: a changed graph, NaN/Inf and where it came from."""
    parts = []
    if added or removed:
        parts.append(translate("GraphView", "iteration {index}: the graph changed: {count} new node(s) marked NEW")
                     .format(index=it.index, count=len(added)) if added else
                     translate("GraphView", "iteration {index}: the graph changed").format(index=it.index))
        if removed:
            parts.append(translate("GraphView", "removed: {nodes}").format(
                nodes=", ".join(removed[:8]) + (" …" if len(removed) > 8 else "")))
    if nonfinite_count:
        parts.append(translate("GraphView", "NaN/Inf in {count} node(s); {origin}").format(
            count=nonfinite_count, origin=origin_text(it.graph, origin)))
    return "\n".join(parts)


def banner_width(width: int, legend: Legend) -> int:
    room = width - legend.width() - 24
    return room if room >= BANNER_MIN else width - 12


def place_overlays(view, legend: Legend, banner: Banner) -> None:
    """The legend (right) and the banner (left, or under the legend in a narrow view) in a strip above
    the view's viewport: over no node."""
    width = view.width()
    if legend.room != width - 12:
        legend.fit_to(width - 12)
    shown, said = not legend.isHidden(), not banner.isHidden()
    under = said and width - legend.width() - 24 < BANNER_MIN
    heights = [legend.height() + 8] if shown else []
    if said:
        heights.append(banner.height() + 8 + (heights[0] if under and heights else 0))
    top = max(heights or [0])
    if top != view.viewportMargins().top():
        view.setViewportMargins(0, top, 0, 0)
    legend.move(width - legend.width() - 6, 4)
    banner.move(6, 4 + (legend.height() + 4 if under and shown else 0))


def origin_text(g: nx.DiGraph, origin: str | None) -> str:
    """Where NaN/Inf came from, by op, name and file:line (not by node id)."""
    if origin is None or origin not in g:
        return translate("GraphView", "origin unknown")
    a = g.nodes[origin]
    what = node_title(a)
    if a.get("source"):
        return translate("GraphView", "first at {what}, {source}").format(what=what, source=a["source"])
    return translate("GraphView", "first at {what}, source line not recorded").format(what=what)
