"""Where the shown iterations come from, behind one interface: a live run or a recording.

The bridge forwards the user's commands to its source without asking which it is; each source
updates the shared ViewState (core/view_state.py).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer

from ..core.recording.store import Recording
from ..core.session.session import Session

REPLAY_RATE = 8.0  # iterations per second when "run" plays a recording


class Source:
    """Nothing open: every command does nothing."""

    mode = "idle"

    def __init__(self, bridge):
        self.bridge = bridge
        self.view = bridge.view

    def run(self, rate: float | None) -> None:
        pass

    def pause(self) -> None:
        pass

    def step(self, kind: str) -> None:
        pass

    def run_to(self, iteration: int) -> None:
        pass

    def stop(self) -> None:
        pass

    def restart(self) -> None:
        pass

    def send(self, command: str, **args) -> None:
        """A setting for the run (breakpoints, detail): live runs only."""

    def close(self) -> None:
        pass


class LiveSource(Source):
    """A script traced in a child process (core.session.Session)."""

    mode = "live"

    def __init__(self, bridge, session: Session):
        super().__init__(bridge)
        self.session = session

    def can_send(self) -> bool:
        s = self.session
        return s.finished is None and s.fileno() >= 0

    def send(self, command: str, **args) -> None:
        if self.can_send():
            self.session.send(command, **args)

    def _go(self, command: str, **args) -> None:
        """A command that lets the script run on: following the newest iteration again."""
        if self.can_send():
            self.view.following = True
            self.session.send(command, **args)
            self.view.state = "running"

    def run(self, rate: float | None) -> None:
        self._go("run", rate=rate)

    def pause(self) -> None:
        self.send("pause")

    def step(self, kind: str) -> None:
        self._go(kind)

    def run_to(self, iteration: int) -> None:
        self._go("run_to", iteration=int(iteration))

    def stop(self) -> None:
        self.send("stop")

    def restart(self) -> None:
        self.session.restart()
        self.view.state = "paused" if self.session.paused else "running"

    def close(self) -> None:
        self.session.discard()  # an unsaved live run leaves no file behind


class ReplaySource(Source):
    """A .bps recording, played on a timer."""

    mode = "replay"

    def __init__(self, bridge, recording: Recording):
        super().__init__(bridge)
        self.recording = recording
        self.timer = QTimer(bridge)
        self.timer.timeout.connect(self._tick)

    def run(self, rate: float | None) -> None:
        if self.view.count:
            self.view.following = False
            self.timer.start(int(1000 / (rate or REPLAY_RATE)))
            self.view.state = "running"

    def pause(self) -> None:
        self.timer.stop()
        self.view.state = "paused"

    def step(self, kind: str) -> None:
        if kind == "step_iteration" and self.view.count:
            self.pause()
            shown = self.view.shown
            self.bridge.show(min((shown if shown is not None else -1) + 1, self.view.count - 1))

    def stop(self) -> None:
        self.pause()

    def restart(self) -> None:
        if self.view.count:
            self.pause()
            self.bridge.show(0)

    def close(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        shown = self.view.shown
        nxt = (shown if shown is not None else -1) + 1
        if nxt >= self.view.count or not self.bridge.show(nxt):
            self.pause()
            self.bridge.emit_status()
