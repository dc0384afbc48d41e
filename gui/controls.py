"""The controls toolbar: run, pause, stepping, stop, restart, with shortcuts, tooltips and a speed choice."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QStyle, QToolBar, QWidget

# (command, text, shortcut, tooltip, standard icon)
ACTIONS = (
    ("run", "Run", "F5", "Run the script (in a recording: play it back)", "SP_MediaPlay"),
    ("pause", "Pause", "F6", "Pause at the next pause point", "SP_MediaPause"),
    ("step_iteration", "Step iteration", "F10", "Run to the end of the next backward pass", "SP_MediaSkipForward"),
    ("step_phase", "Step phase", "F8",
     "Run to the next phase: backward begin/end, optimizer before/after", "SP_MediaSeekForward"),
    ("step_node", "Step backward node", "F11",
     "Compute the gradient of the next node of the backward pass (in autograd's order)", "SP_ArrowDown"),
    ("step_forward_op", "Step forward op", "F7", "Run the forward pass one operation at a time", "SP_ArrowRight"),
    ("stop", "Stop", "Shift+F5", "Stop the script (the recording keeps every finished iteration)",
     "SP_MediaStop"),
    ("restart", "Restart", "Ctrl+Shift+F5", "Run the script again from the start", "SP_BrowserReload"),
)
SPEEDS = (("full speed", None), ("10 it/s", 10.0), ("2 it/s", 2.0), ("1 it/s", 1.0), ("0.5 it/s", 0.5))
LIVE_ONLY = ("step_phase", "step_node", "step_forward_op")


class ControlsToolbar(QToolBar):
    """Emits sig_command(name) for the user's choice; `rate()` is the chosen run speed (None: full)."""

    sig_command = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Controls", parent)
        self.setObjectName("controls")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, keys, tip, icon in ACTIONS:
            action = QAction(self.style().standardIcon(getattr(QStyle.StandardPixmap, icon)), text, self)
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"{text} ({keys}): {tip}")
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, n=name: self.sig_command.emit(n))
            self.addAction(action)
            self.actions_by_name[name] = action
            if name in ("pause", "step_forward_op"):
                self.addSeparator()
        self.addSeparator()
        self.addWidget(QLabel(" Speed ", self))
        self.speed = QComboBox(self)
        for text, _ in SPEEDS:
            self.speed.addItem(text)
        self.speed.setToolTip("Run speed: slow it down to watch each iteration (and its backward) in a lecture")
        self.addWidget(self.speed)
        self.set_state({"mode": "idle", "state": "idle"})

    def rate(self) -> float | None:
        return SPEEDS[self.speed.currentIndex()][1]

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
