"""Batched drawing for big graphs: all edges in one item, all boxes in one overview item.

Neither calls Python per node or per edge when painting: a repaint is a few C++ calls.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .items import NodeItem, Style


class EdgesItem(QGraphicsItem):
    """Every edge, as paths built by the layout worker.

    The path is cut into spatial chunks (one for small graphs) so a zoomed-in repaint strokes
    only the chunks on screen; zoomed out (`coarse`), plain unsmoothed lines are drawn instead.
    """

    def __init__(self, style: Style):
        super().__init__()
        self.setZValue(-1)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # for exposedRect
        self.chunks: list[tuple[QRectF, QPainterPath]] = []
        self.lines: list[QLineF] = []
        self.coarse = False
        self._bounds = QRectF()
        self.set_style(style)

    def set_style(self, style: Style) -> None:
        self.pen = QPen(style.colours["edge"], 1.3)
        self.pen.setCosmetic(True)  # stays visible when zoomed out
        self.update()

    def set_geometry(self, chunks: list[tuple[QRectF, QPainterPath]], lines: list[QLineF]) -> None:
        self.prepareGeometryChange()
        self.chunks, self.lines = chunks, lines
        bounds = QRectF()
        for rect, _ in chunks:
            bounds = bounds.united(rect)
        self._bounds = bounds.adjusted(-4, -4, 4, 4)
        self.update()

    def path_count(self) -> int:
        """Edges drawn (one line per edge)."""
        return len(self.lines)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        p.setPen(self.pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self.coarse:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.drawLines(self.lines)
            return
        exposed = option.exposedRect
        for rect, path in self.chunks:
            if rect.intersects(exposed):
                p.drawPath(path)


class OverviewItem(QGraphicsItem):
    """Every box as a plain rectangle in a few batched calls: a zoomed-out view of a big graph.

    While it is shown the NodeItems are hidden, so a repaint costs a handful of C++ calls
    instead of one Python paint() per node.
    """

    def __init__(self):
        super().__init__()
        self._bounds = QRectF()
        self.fills: list[tuple[QColor, list[QRectF]]] = []
        self.marks: list[tuple[QColor, list[QRectF]]] = []
        self.setZValue(1)

    def set_boxes(self, items: list[NodeItem], rects: dict[str, QRectF], bounds: QRectF, style: Style,
                  selected: NodeItem | None = None) -> None:
        """Group the boxes by colour (and marks: NaN/Inf, a doctor's finding, new, found, lit, selected)."""
        self.prepareGeometryChange()
        fills: dict = {}
        colours: dict = {}
        marks: dict[int, tuple[QColor, list]] = {}
        for item in items:
            key = "bad" if item.bad else style.fill_key(item.norm)
            bucket = fills.get(key)
            if bucket is None:
                bucket = fills[key] = []
                colours[key] = style.colours["nonfinite"] if item.bad else style.fill(item.norm)
            bucket.append(rects[item.box_id])
            if item.bad or item.flag or item.added or item.found or item.lit:
                mark = item.mark_colour()
                marks.setdefault(mark.rgba(), (mark, []))[1].append(rects[item.box_id])
        if selected is not None:
            mark = style.colours["selected"]
            marks.setdefault(mark.rgba(), (mark, []))[1].append(rects[selected.box_id])
        self.fills = [(colours[k], v) for k, v in fills.items()]
        self.marks = list(marks.values())
        self._bounds = bounds.adjusted(-10, -10, 10, 10)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # boxes a few pixels wide: ~2x faster
        p.setPen(Qt.PenStyle.NoPen)
        for colour, rects in self.fills:
            p.setBrush(colour)
            p.drawRects(rects)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for colour, rects in self.marks:
            pen = QPen(colour, 3)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawRects(rects)
