"""What the app shows, in one Qt-free object: the bridge and the user's choices write it, the views
subscribe to its events and read it; no view keeps a copy (napari's Dims and its events are the model).

Setting a field that changed emits its event with the new value: `view.events.shown.connect(cb)`.
"""

from __future__ import annotations

from collections.abc import Callable

from .iteration import Iteration, kept_graph

# fields whose changes are announced; `bare` is read with `count` (mark() announces both)
EVENTS = ("mode", "state", "count", "shown", "following", "phase", "optimizer_steps", "selection", "iteration")


class Emitter:
    """One event: its callbacks, called in the order connected with the new value."""

    def __init__(self):
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable) -> None:
        self._callbacks.remove(callback)

    def __call__(self, value) -> None:
        for callback in list(self._callbacks):
            callback(value)


class Events:
    """One Emitter per field of EVENTS."""

    def __init__(self):
        for name in EVENTS:
            setattr(self, name, Emitter())


class ViewState:
    mode: str  # idle | live | replay
    state: str  # running | paused | finished | idle
    count: int  # iterations known: 0..count-1
    shown: int | None  # the iteration on screen (one without a graph: the graph shown is an earlier one)
    following: bool  # each new iteration is shown as it arrives
    phase: str  # of the live iteration under way (FULL_PHASES in gui/bridge.py)
    optimizer_steps: int
    selection: str | None  # the selected graph box: a node id, "module:<path>", or None
    iteration: Iteration | None  # the Iteration whose graph is on screen
    bare: set[int]  # iterations without a graph (recorded by older versions)

    def __init__(self):
        object.__setattr__(self, "events", Events())
        self.mode = self.state = "idle"
        self.count, self.shown, self.following = 0, None, True
        self.phase, self.optimizer_steps = "", 0
        self.selection, self.iteration = None, None
        self.bare = set()

    def __setattr__(self, name: str, value) -> None:
        old = self.__dict__.get(name, value)
        object.__setattr__(self, name, value)
        # an Iteration by identity (comparing graphs is costly), the rest by value
        if name in EVENTS and (old is not value if name == "iteration" else old != value):
            getattr(self.events, name)(value)

    def begin(self, mode: str, state: str) -> None:
        """A new run or recording: nothing known yet."""
        self.bare = set()
        self.mode, self.state = mode, state
        self.count, self.shown, self.following = 0, None, True
        self.phase, self.optimizer_steps = "", 0
        self.iteration = None

    def mark(self, index: int, detail: str) -> None:
        if kept_graph(detail):
            self.bare.discard(index)
        else:
            self.bare.add(index)
        self.count = max(self.count, index + 1)

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
