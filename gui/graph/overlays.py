"""Widgets floating over the graph view: the colour legend and the message banner."""

from __future__ import annotations

from html import escape

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
        self.columns = 3
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
        self._number_w = fm.horizontalAdvance("8.8e+88") + 8  # the scale's ends, left and right of the bar
        self.fit_to(self.columns)

    def size_for(self, columns: int) -> tuple[int, int]:
        """Width and height with the node kinds in `columns` columns beside the colour bar."""
        line = self.fontMetrics().height()
        rows = max(-(-6 // columns) if columns else 0, 2)  # two lines at least: the title, then the bar
        return self._bar_w + 2 * self._number_w + columns * self._kind_w + 24, rows * (line + 4) + 8

    def fit_to(self, columns: int) -> None:
        """Short and wide (it sits in the strip above the graph, where height is what the graph pays for):
        the node kinds in `columns` columns (3, 2 or 1) beside the colour bar, or none (0) where room is short."""
        self.columns = columns
        self.resize(*self.size_for(columns))
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
        nw = self._number_w
        w = self._bar_w + 2 * nw
        p.setPen(pal.windowText().color())
        title = self.tr("gradient norm ‖grad‖ (log scale)") if self.has_grads else self.tr("gradient norm: none yet")
        p.drawText(QRectF(8, 6, w, line), Qt.AlignmentFlag.AlignHCenter, title)
        bar = QRectF(8 + nw, 10 + line, self._bar_w, line * 0.9)
        stops = legend_stops(self.lo, self.hi, self.theme, 5)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for i, (_, colour) in enumerate(stops):
            grad.setColorAt(i / (len(stops) - 1), colour)
        p.fillRect(bar, QBrush(grad))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(bar)
        if self.has_grads:
            row = QRectF(8, bar.top() - 2, w, line)
            p.drawText(row.adjusted(0, 0, -nw - self._bar_w - 4, 0), Qt.AlignmentFlag.AlignRight, f"{self.lo:.2g}")
            p.drawText(row.adjusted(nw + self._bar_w + 4, 0, 0, 0), Qt.AlignmentFlag.AlignLeft, f"{self.hi:.2g}")
        colours = node_colours(self.theme)
        entries = [*KINDS, ("nonfinite", "NaN / Inf")] if self.columns else []
        for i, (kind, label) in enumerate(entries):  # in columns, right of the bar
            x = 16 + w + (i % self.columns) * self._kind_w
            yy = 6 + (i // self.columns) * (line + 4)
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
        self.full_text = ""
        self.hide()

    MAX_LINES = 2  # a longer message is cut (all of it in the tooltip): the strip stays short

    def show_text(self, text: str, width: int) -> None:
        self.full_text = text
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


class Breadcrumb(QLabel):
    """Where the module tree stands: "All modules › blocks.0 › blocks.0.attn   Collapse"; each step is a
    link (linkActivated: "top", a module path, or "collapse")."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setProperty("role", "breadcrumb")
        self.setAutoFillBackground(True)
        self.setContentsMargins(6, 2, 6, 2)
        self.hide()

    def show_path(self, opened: list[str]) -> None:
        """Shown while modules opened from the module tree are open."""
        if not opened:
            self.hide()
            return
        steps = [_link("top", translate("GraphView", "All modules"))]
        steps += [_link(p, p) for p in opened[:-1]] + [escape(p) for p in opened[-1:]]
        tail = " &nbsp; " + _link("collapse", translate("GraphView", "Collapse (Backspace)"))
        self.setText(" › ".join(steps) + tail)
        self.adjustSize()
        self.show()


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


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


def place_overlays(view, legend: Legend, left: list[QWidget]) -> None:
    """The legend (right) and the `left` widgets (the breadcrumb, the banner) stacked at the left, beside the
    legend or under it, whichever makes the strip above the view's viewport shorter: it covers no node."""
    width = view.width()
    shown = [w for w in left if not w.isHidden()]
    stack = sum(w.height() + 4 for w in shown)
    need = min(max([BANNER_MIN] + [_natural_width(w) for w in shown]), width - 12)
    # (strip height, the legend's kind columns, left widgets below the legend): the shortest strip, then
    # the most columns
    fits = [c for c in (3, 2, 1, 0) if legend.size_for(c)[0] <= width - 12 - (need if shown else 0)]
    choices = [(max(legend.size_for(c)[1], stack), -c, False) for c in fits]
    full = next((c for c in (3, 2, 1) if legend.size_for(c)[0] <= width - 12), 0)
    if shown:
        choices.append((legend.size_for(full)[1] + 4 + stack, -full, True))
    _, columns, below = min(choices)
    if legend.columns != -columns:
        legend.fit_to(-columns)
    legend_on = not legend.isHidden()
    below = below and legend_on
    y = 4 + (legend.height() + 4 if shown and below else 0)
    for w in shown:
        avail = width - 12 if below else width - legend.width() - 24
        if isinstance(w, Banner) and w.width() != avail:
            w.show_text(w.full_text, avail)
        w.move(6, y)
        y += w.height() + 4
    top = max(legend.height() + 8 if legend_on else 0, y if shown else 0)
    if top != view.viewportMargins().top():
        view.setViewportMargins(0, top, 0, 0)
    legend.move(width - legend.width() - 6, 4)


def _natural_width(widget: QWidget) -> int:
    """The width a left widget needs to show all its text (a banner's lines unelided)."""
    if isinstance(widget, Banner):
        return max(widget.fontMetrics().horizontalAdvance(line) for line in widget.full_text.split("\n")) + 20
    return widget.sizeHint().width()


def origin_text(g: nx.DiGraph, origin: str | None) -> str:
    """Where NaN/Inf came from, by op, name and file:line (not by node id)."""
    if origin is None or origin not in g:
        return translate("GraphView", "origin unknown")
    a = g.nodes[origin]
    what = node_title(a)
    if a.get("source"):
        return translate("GraphView", "first at {what}, {source}").format(what=what, source=a["source"])
    return translate("GraphView", "first at {what}, source line not recorded").format(what=what)
