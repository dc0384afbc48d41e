"""The controls toolbar: run, pause, stepping, stop, restart, with shortcuts, tooltips and a speed choice."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QWidget

from ..core.iteration import DETAILS

# (command, text, shortcut, tooltip); texts are translated when the toolbar is built
ACTIONS = (
    ("run", QT_TRANSLATE_NOOP("ControlsToolbar", "Run"), "F5",
     QT_TRANSLATE_NOOP("ControlsToolbar", "Run the script (in a recording: play it back)")),
    ("pause", QT_TRANSLATE_NOOP("ControlsToolbar", "Pause"), "F6",
     QT_TRANSLATE_NOOP("ControlsToolbar", "Pause at the next pause point")),
    ("step_iteration", QT_TRANSLATE_NOOP("ControlsToolbar", "Step iteration"), "F10",
     QT_TRANSLATE_NOOP("ControlsToolbar", "Run to the end of the next backward pass")),
    ("step_phase", QT_TRANSLATE_NOOP("ControlsToolbar", "Step phase"), "F8",
     QT_TRANSLATE_NOOP("ControlsToolbar", "Run to the next phase: backward begin/end, optimizer before/after")),
    ("step_node", QT_TRANSLATE_NOOP("ControlsToolbar", "Step backward node"), "F11",
     QT_TRANSLATE_NOOP("ControlsToolbar",
                       "Compute the gradient of the next node of the backward pass (in autograd's order)")),
    ("step_forward_op", QT_TRANSLATE_NOOP("ControlsToolbar", "Step forward op"), "F7",
     QT_TRANSLATE_NOOP("ControlsToolbar", "Run the forward pass one operation at a time")),
    ("stop", QT_TRANSLATE_NOOP("ControlsToolbar", "Stop"), "Shift+F5",
     QT_TRANSLATE_NOOP("ControlsToolbar", "Stop the script (the recording keeps every finished iteration)")),
    ("restart", QT_TRANSLATE_NOOP("ControlsToolbar", "Restart"), "Ctrl+Shift+F5",
     QT_TRANSLATE_NOOP("ControlsToolbar", "Run the script again from the start")),
)
SPEEDS = ((QT_TRANSLATE_NOOP("ControlsToolbar", "full speed"), None),
          (QT_TRANSLATE_NOOP("ControlsToolbar", "10 it/s"), 10.0), (QT_TRANSLATE_NOOP("ControlsToolbar", "2 it/s"), 2.0),
          (QT_TRANSLATE_NOOP("ControlsToolbar", "1 it/s"), 1.0), (QT_TRANSLATE_NOOP("ControlsToolbar", "0.5 it/s"), 0.5))
LIVE_ONLY = ("step_phase", "step_node", "step_forward_op")


class ControlsToolbar(QToolBar):
    """Emits sig_command(name) for the user's choice; `rate()` is the chosen run speed (None: full)."""

    sig_command = Signal(str)
    sig_detail = Signal(str)  # the user chose a detail level for the live run

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Controls"))
        self.setObjectName("controls")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, keys, tip in ACTIONS:
            text, tip = self.tr(text), self.tr(tip)
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"{text} ({keys}): {tip}")
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, n=name: self.sig_command.emit(n))
            self.addAction(action)
            self.actions_by_name[name] = action
            if name in ("pause", "step_forward_op"):
                self.addSeparator()
        self.addSeparator()
        self.addWidget(QLabel(" " + self.tr("Speed") + " ", self))
        self.speed = QComboBox(self)
        for text, _ in SPEEDS:
            self.speed.addItem(self.tr(text))
        self.speed.setToolTip(self.tr("Run speed: slow it down to watch each iteration (and its backward) in a lecture"))
        self.addWidget(self.speed)
        self.addWidget(QLabel(" " + self.tr("Detail") + " ", self))
        self.detail = QComboBox(self)
        self.detail.addItems(DETAILS)  # the levels' own names, as --detail takes them
        self.detail.setToolTip(self.tr("What each iteration records: auto (full where the overhead budget allows, "
                                       "light elsewhere), full (every node's values and gradients), light (the graph, "
                                       "parameter gradient norms, NaN/Inf)"))
        self.detail.activated.connect(lambda i: self.sig_detail.emit(DETAILS[i]))
        self.addWidget(self.detail)
        self.set_state({"mode": "idle", "state": "idle"})
        self._paint_icons()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._paint_icons()  # drawn in the text colour: visible on light, dark and black themes

    def _paint_icons(self) -> None:
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        for name, action in self.actions_by_name.items():
            action.setIcon(draw_icon(name, colour))

    def rate(self) -> float | None:
        return SPEEDS[self.speed.currentIndex()][1]

    def show_detail(self, detail: str) -> None:
        """Show the run's detail level (no signal: it is not the user's choice)."""
        if detail in DETAILS:
            self.detail.setCurrentIndex(DETAILS.index(detail))

    def set_lecture_pace(self) -> None:
        """One iteration per second: the pace of a lecture."""
        self.speed.setCurrentIndex([r for _, r in SPEEDS].index(1.0))

    def set_state(self, status: dict) -> None:
        """Enable what makes sense for the bridge's status (mode live/replay/idle, state)."""
        mode, state = status.get("mode"), status.get("state")
        live = mode == "live" and state != "finished"
        enabled = {
            "run": (live and state != "running") or (mode == "replay" and state != "running"),
            "pause": state == "running",
            "step_iteration": live or mode == "replay",
            "stop": live or (mode == "replay" and state == "running"),
            "restart": mode in ("live", "replay"),
        }
        for name in LIVE_ONLY:
            enabled[name] = live
        for name, action in self.actions_by_name.items():
            action.setEnabled(bool(enabled.get(name)))


def draw_icon(name: str, colour: QColor, size: int = 32) -> QIcon:
    """A flat icon for a control, in `colour` (the theme's text colour)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    u = size / 32

    def triangle(x: float, w: float = 14) -> None:
        path = QPainterPath(QPointF(x * u, 7 * u))
        path.lineTo((x + w) * u, 16 * u)
        path.lineTo(x * u, 25 * u)
        path.closeSubpath()
        p.drawPath(path)

    if name == "run":
        triangle(10, 16)
    elif name == "pause":
        p.drawRect(QRectF(9 * u, 7 * u, 5 * u, 18 * u))
        p.drawRect(QRectF(18 * u, 7 * u, 5 * u, 18 * u))
    elif name == "step_iteration":
        triangle(7)
        p.drawRect(QRectF(22 * u, 7 * u, 4 * u, 18 * u))
    elif name == "step_phase":
        triangle(4, 12)
        triangle(16, 12)
    elif name == "step_node":  # a node, and an arrow down to the next
        p.drawEllipse(QRectF(11 * u, 3 * u, 10 * u, 10 * u))
        p.setPen(QPen(colour, 3 * u))
        p.drawLine(QPointF(16 * u, 13 * u), QPointF(16 * u, 25 * u))
        p.setPen(Qt.PenStyle.NoPen)
        path = QPainterPath(QPointF(10 * u, 21 * u))
        path.lineTo(22 * u, 21 * u)
        path.lineTo(16 * u, 29 * u)
        path.closeSubpath()
        p.drawPath(path)
    elif name == "step_forward_op":
        p.setPen(QPen(colour, 3 * u))
        p.drawLine(QPointF(5 * u, 16 * u), QPointF(20 * u, 16 * u))
        p.setPen(Qt.PenStyle.NoPen)
        triangle(18, 10)
    elif name == "stop":
        p.drawRect(QRectF(9 * u, 9 * u, 14 * u, 14 * u))
    elif name == "dot":  # a finding's level (gui/diagnostics.py)
        p.drawEllipse(QRectF(2 * u, 2 * u, 28 * u, 28 * u))
    elif name == "restart":
        p.setPen(QPen(colour, 3 * u))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(QRectF(7 * u, 7 * u, 18 * u, 18 * u), 90 * 16, 270 * 16)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        path = QPainterPath(QPointF(16 * u, 2 * u))
        path.lineTo(23 * u, 7 * u)
        path.lineTo(16 * u, 12 * u)
        path.closeSubpath()
        p.drawPath(path)
    p.end()
    return QIcon(pix)
