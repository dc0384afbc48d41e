"""What the app shows, in one Qt-free object: the bridge writes it, the views read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .iteration import kept_graph


@dataclass
class ViewState:
    mode: str = "idle"  # idle | live | replay
    state: str = "idle"  # running | paused | finished | idle
    count: int = 0  # iterations known: 0..count-1
    shown: int | None = None  # the iteration on screen
    following: bool = True  # each new iteration is shown as it arrives
    phase: str = ""  # of the live iteration under way (FULL_PHASES in gui/bridge.py)
    optimizer_steps: int = 0
    selection: str | None = None  # the selected graph box: a node id, "module:<path>", or None
    bare: set[int] = field(default_factory=set)  # iterations without a graph (recorded by older versions)

    def begin(self, mode: str, state: str) -> None:
        """A new run or recording: nothing known yet."""
        self.mode, self.state = mode, state
        self.count, self.shown, self.following = 0, None, True
        self.phase, self.optimizer_steps = "", 0
        self.bare = set()

    def mark(self, index: int, detail: str) -> None:
        self.count = max(self.count, index + 1)
        if kept_graph(detail):
            self.bare.discard(index)
        else:
            self.bare.add(index)

    def last_graph(self, index: int) -> int | None:
        """The last iteration at or before `index` that kept a graph."""
        index = min(index, self.count - 1)
        while index >= 0 and index in self.bare:
            index -= 1
        return index if index >= 0 else None

    def status(self, it_per_s: float = 0.0) -> dict:
        return {"mode": self.mode, "state": self.state, "iteration": self.shown, "count": self.count,
                "phase": self.phase, "following": self.following, "optimizer_steps": self.optimizer_steps,
                "it_per_s": it_per_s}
