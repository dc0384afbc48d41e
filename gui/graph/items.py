"""Node boxes of the graph view and the style they share (edges and the overview: batch.py).

A NodeItem caches its bounding rect, computes its text lazily from the node's attributes and
paints only a coloured box when the view is zoomed far out (level of detail).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ...core.iteration import node_nonfinite
from ..i18n import translate
from ..theme import grad_colour, node_colours, text_colour_on, ui_font
from . import model as gm

MIN_TEXT_PX = 6.0  # a line of node text smaller than this on screen is unreadable: plain boxes instead
BASE_FONT_PT = 9


class Style:
    """What every node shares: theme colours, fonts, and the gradient colour scale."""

    def __init__(self, theme: str = "light", scale: float = 1.0):
        self.theme = theme
        self.scale = scale
        self.colours = node_colours(theme)
        self.font = ui_font(round(BASE_FONT_PT * scale))
        self.bold = QFont(self.font)
        self.bold.setBold(True)
        # measured once here on the UI thread; the layout worker sizes boxes from these numbers
        sample = "MeanBackward0 AddmmBackward0 blocks.0.weight 0.123"
        self.char_w = QFontMetricsF(self.bold).horizontalAdvance(sample) / len(sample) * 1.08
        self.line_h = QFontMetricsF(self.font).height() * 1.1
        self.text_lod = MIN_TEXT_PX / self.line_h  # the zoom below which text would be unreadable
        self._fills: dict = {}
        self.set_range(1e-8, 1.0)

    def set_range(self, lo: float, hi: float) -> None:
        """The gradient-norm range of the shown iteration (the ends of the colour scale)."""
        self.lo, self.hi = lo, hi
        self._log_lo = math.log10(max(lo, 1e-30))
        self._log_span = (math.log10(max(hi, 1e-30)) - self._log_lo) or 1.0
        self._fills.clear()

    def fill_key(self, norm: float | None):
        """Which of the 65 quantised colours a norm gets (None: no gradient, "inf": NaN/Inf)."""
        if norm is None or norm <= 0:
            return None
        if not math.isfinite(norm):
            return "inf"
        return round((math.log10(norm) - self._log_lo) / self._log_span * 64)

    def fill(self, norm: float | None) -> QColor:
        """The colour of a gradient norm, quantised to 1/64 of the log range (10k boxes, few QColors)."""
        key = self.fill_key(norm)
        colour = self._fills.get(key)
        if colour is None:
            colour = self._fills[key] = grad_colour(norm, self.lo, self.hi, self.theme)
        return colour


class NodeItem(QGraphicsItem):
    """One box: a graph node, or a collapsed module (kind "module")."""

    def __init__(self, box_id: str, box: dict, size: tuple[float, float], style: Style):
        super().__init__()
        self.box_id = box_id
        self.kind = box["kind"]
        self.head = box["head"]  # a module box: the module's path
        self.title = gm.title(box)
        self.module_class = box.get("type")  # a module box: its class, in the tooltip whether the title has it or not
        self.sub = box["sub"]
        self.members = box["members"]
        self.params = box.get("params", 0)  # a module's parameter count
        self.compact = box.get("compact", False)  # no readouts (model.display_graph)
        self.style = style
        w, h = size
        self.rect = QRectF(-w / 2, -h / 2, w, h)
        pad = style.line_h + 14  # room for outlines, the origin's outer frame and the badges above
        self._bounds = self.rect.adjusted(-14, -pad, 14, 14)
        self.attrs: dict = {}
        self.norm: float | None = None
        self.bad = False
        self.origin = False  # the first NaN/Inf in forward order: where it came from, not where it spread
        self.added = False
        self.found = False
        self.lit = False
        self.flag: str | None = None  # the level of the worst doctor finding naming this node (gui/diagnostics.py)
        self._text: list[str] | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(False)

    # -- data -----------------------------------------------------------------------------
    def set_attrs(self, attrs: dict, repaint: bool = True) -> None:
        """New numbers for this node (a graph node's attribute dict, or a module's aggregate)."""
        self.attrs = attrs
        self.norm = attrs.get("_norm") if self.kind == "module" else gm.grad_norm(attrs)
        self.bad = bool(attrs.get("_bad")) if self.kind == "module" else node_nonfinite(attrs)
        self._text = None
        if repaint:
            self.update()

    def text_lines(self) -> list[str]:
        """The lines drawn in the box: title, static lines, value/grad readouts."""
        if self._text is None:
            if self.kind == "module":  # shapes from model.py; the words (no Qt there) translated here
                sub = [*self.sub, translate("NodeItem", "{count} parameters").format(count=f"{self.params:,}")] \
                    if self.params else list(self.sub)
                if not self.compact:
                    sub.append(translate("NodeItem", "{count} nodes (collapsed)").format(count=len(self.members)))
                extra = [translate("NodeItem", "max ‖grad‖ {norm}").format(norm=f"{self.norm:.3g}")] \
                    if self.norm is not None and not self.compact else []
            else:
                sub, extra = self.sub, [] if self.compact else gm.readouts(self.attrs)
            self._text = [self.title, *sub, *extra]
        return self._text

    def tooltip(self) -> str:
        """Op, kind, name, module and source line (the view shows it on hover)."""
        a = self.attrs
        if self.kind == "module":
            return translate("NodeItem", "module {module}: {count} nodes (double-click to expand)").format(
                module=gm.module_name(self.head, self.module_class), count=len(self.members))
        labels = {"name": translate("NodeItem", "name"), "module": translate("NodeItem", "module"),
                  "source": translate("NodeItem", "source")}
        parts = [a.get("op") or "", translate("NodeItem", "kind {kind}").format(kind=a.get("kind"))]
        for key, label in labels.items():
            if a.get(key):
                parts.append(f"{label} {a[key]}")
        return "\n".join(p for p in parts if p)

    # -- QGraphicsItem -------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        st = self.style
        c = st.colours
        lod = option.levelOfDetailFromTransform(p.worldTransform())
        fill = c["nonfinite"] if self.bad else st.fill(self.norm)
        kind_colour = c.get(self.kind, c["op"])
        if lod < st.text_lod:
            p.fillRect(self.rect, fill)
            if self.bad or self.flag or self.added or self.found or self.lit or self.isSelected():
                p.setPen(QPen(self.mark_colour(), 3 / max(lod, 0.02)))
                p.drawRect(self.rect)
            return
        r = self.rect
        p.setPen(QPen(kind_colour.darker(150), 1.2))
        p.setBrush(fill)
        self._draw_shape(p, r)
        band = QRectF(r.left(), r.top(), r.width(), st.line_h + 4)
        self._draw_band(p, band, kind_colour)
        self._draw_text(p, r, band, fill)
        self._draw_marks(p, r)

    def _draw_shape(self, p: QPainter, r: QRectF) -> None:
        if self.kind == "leaf":
            p.drawRoundedRect(r, 12, 12)
        elif self.kind in ("param", "module"):
            p.drawRoundedRect(r, 5, 5)
        else:
            p.drawRect(r)
        if self.kind == "custom":  # a custom Function gets a double outline
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(r.adjusted(3, 3, -3, -3))
        if self.kind == "module":
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(self.style.colours["edge"], 1, Qt.PenStyle.DashLine))
            p.drawRoundedRect(r.adjusted(-4, -4, 4, 4), 7, 7)

    def _draw_band(self, p: QPainter, band: QRectF, colour: QColor) -> None:
        path = QPainterPath()
        radius = {"leaf": 12, "param": 5, "module": 5}.get(self.kind, 0)
        path.addRoundedRect(band, radius, radius)
        p.fillPath(path, QBrush(colour))

    def _draw_text(self, p: QPainter, r: QRectF, band: QRectF, fill: QColor) -> None:
        st = self.style
        lines = self.text_lines()
        band_colour = st.colours.get(self.kind, st.colours["op"])
        p.setFont(st.bold)
        p.setPen(text_colour_on(band_colour))
        flags = Qt.AlignmentFlag.AlignCenter
        p.drawText(band.adjusted(4, 0, -4, 0), flags, _elide(lines[0], r.width(), st.char_w))
        p.setFont(st.font)
        p.setPen(text_colour_on(fill))
        room = r.bottom() - band.bottom() - 1 - (len(lines) - 1) * st.line_h
        y = band.bottom() + 1 + max(room, 0) / 2  # centred: a parameter's box keeps a line for .grad
        for line in lines[1:]:
            p.drawText(QRectF(r.left() + 4, y, r.width() - 8, st.line_h), flags, _elide(line, r.width(), st.char_w))
            y += st.line_h

    def _draw_marks(self, p: QPainter, r: QRectF) -> None:
        c = self.style.colours
        if self.lit or self.found or self.isSelected():
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(self.mark_colour(), 4))
            p.drawRoundedRect(r.adjusted(-4, -4, 4, 4), 6, 6)
        if self.bad:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(c["nonfinite"], 4))
            p.drawRect(r.adjusted(-2, -2, 2, 2))
        if self.flag and not self.bad:  # a doctor's finding names it: a frame in the finding's level colour
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(c[self.flag], 3))
            p.drawRect(r.adjusted(-2, -2, 2, 2))
        if self.origin:  # a second, outer frame: it stands out among the poisoned nodes
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(c["origin"], 5, Qt.PenStyle.DashLine))
            p.drawRect(r.adjusted(-9, -9, 9, 9))
        badges = [("!", c[self.flag])] if self.flag else []
        if self.origin:
            badges.append((translate("NodeItem", "NaN/Inf ORIGIN"), c["origin"]))
        elif self.bad:
            badges.append(("NaN/Inf", c["nonfinite"]))
        if self.added:
            badges.append((translate("NodeItem", "NEW"), c["added"]))
        x = r.right() + (9 if self.origin else 0)
        top = r.top() - (9 if self.origin else 0)
        p.setFont(self.style.bold)
        for text, colour in badges:  # over the frames
            w = max(QFontMetricsF(self.style.bold).horizontalAdvance(text) + 8,  # measured: CJK glyphs are wide
                    self.style.line_h * 1.4)  # a lone "!" still a clear square
            tag = QRectF(x - w, top - self.style.line_h - 2, w, self.style.line_h + 2)
            p.fillRect(tag, colour)
            p.setPen(text_colour_on(colour))
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
            x -= w + 3

    def mark_colour(self) -> QColor:
        c = self.style.colours
        if self.isSelected():
            return c["selected"]
        if self.bad:
            return c["nonfinite"]
        if self.flag:
            return c[self.flag]
        if self.found or self.lit:
            return QColor("#ffb000")
        return c["added"]


def _elide(text: str, width: float, char_w: float) -> str:
    room = max(int((width - 8) / char_w), 3)
    return text if len(text) <= room else text[: room - 1] + "…"
