"""The run below a notebook cell: an anywidget (graph of an iteration with a slider, loss and gradient-norm
plots, the doctor's findings) following the recording as it grows; static HTML where widgets are not
available (the same display's text/html, also what nbconvert and GitHub show).

A thread reads the committed part of the file every POLL seconds and pushes what changed (the kernel's
main thread is busy training: nothing is done there). The slider works in the browser alone while the
cell runs; once the kernel is idle, the iteration chosen is also drawn with its own numbers.
"""

from __future__ import annotations

import math
import pathlib
import threading

from ..trace.throttle import Throttle
from .board import Board
from .figures import page

POLL = 0.5  # seconds between reads of the growing recording
DOCTOR_SHARE = 0.02  # at most this share of the time goes to the live doctor (it shares the GIL)
HERE = pathlib.Path(__file__).parent


def _json_safe(values: list) -> list:
    """Non-finite floats as strings (Jupyter messages are strict JSON)."""
    return [v if v is None or math.isfinite(v) else str(v) for v in values]


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (displays reach a front end)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widgets_available() -> bool:
    try:
        import anywidget  # noqa: F401
    except ImportError:
        return False
    return True


class Follower:
    """Reads the recording every POLL seconds on a thread and hands the board to `publish` when it
    changed; `finish()` makes the last read (with the doctor) after the file is closed."""

    def __init__(self, board: Board, publish):
        self.board, self.publish = board, publish
        self.doctor = Throttle(rate=1 / (4 * POLL), share=DOCTOR_SHARE)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="backprop-studio-view")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(POLL):
            doctor = self.doctor.ready()
            try:
                changed = self.board.update(doctor=doctor)
            except Exception:  # noqa: BLE001 - a half-written file: read it at the next poll
                continue
            if doctor:
                self.doctor.charge(self.board.doctor_time)
            if changed:
                self.publish(self.board)

    def finish(self) -> None:
        self._stop.set()
        self._thread.join()
        self.board.update()
        if self.board.losses:
            self.board.show(len(self.board.losses) - 1)
        self.publish(self.board)


def _widget_class():
    import anywidget
    import traitlets

    class RunWidget(anywidget.AnyWidget):
        """A run's view: slider over iterations, graph, plots, findings (see core/notebook/widget.js)."""

        _esm = HERE / "widget.js"
        _css = HERE / "widget.css"
        path = traitlets.Unicode("").tag(sync=True)
        status = traitlets.Unicode("running").tag(sync=True)
        error = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
        count = traitlets.Int(0).tag(sync=True)
        losses = traitlets.List([]).tag(sync=True)
        grad_norms = traitlets.List([]).tag(sync=True)
        structure = traitlets.List([]).tag(sync=True)
        graphs = traitlets.List([]).tag(sync=True)
        shown = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
        findings = traitlets.List([]).tag(sync=True)
        loss_plot = traitlets.Unicode("").tag(sync=True)
        grad_plot = traitlets.Unicode("").tag(sync=True)
        iteration = traitlets.Int(-1).tag(sync=True)  # chosen with the slider (-1: follow the newest)

        def __init__(self, board: Board, **kwargs):
            super().__init__(**kwargs)
            self.board = board
            self.observe(self._on_iteration, names="iteration")

        def push(self, board: Board) -> None:
            s = board.state()
            with self.hold_sync():
                self.path, self.status, self.error = s["path"], s["status"], s["error"]
                self.losses, self.grad_norms = _json_safe(s["losses"]), _json_safe(s["grad_norms"])
                self.structure, self.graphs, self.shown = s["structure"], s["graphs"], s["shown"]
                self.findings, self.loss_plot, self.grad_plot = s["findings"], s["loss_plot"], s["grad_plot"]
                self.count = s["count"]

        def __repr__(self) -> str:
            return f"<backprop_studio run view: {self.status}, {self.count} iterations, {self.path}>"

        def _on_iteration(self, change) -> None:
            if self.board.status != "running" and change["new"] >= 0:
                self.shown = self.board.show(change["new"])

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            data["text/html"] = page(self.board.state())  # where no widget manager runs
            return bundle

    return RunWidget


def run_widget(path: str, follow: bool):
    """A RunWidget on the recording at `path`; `follow`: keep reading it as it grows."""
    board = Board(path)
    widget = _widget_class()(board)
    if follow:
        widget.follower = Follower(board, widget.push)
    else:
        board.update()
        if board.losses:
            board.show(len(board.losses) - 1)
        widget.push(board)
    return widget


class LiveView:
    """What a traced cell displays: the widget (or HTML, updated in place) following its recording."""

    def __init__(self, run):
        from IPython.display import HTML, display

        self.board = Board(run.path)
        if widgets_available():
            self.widget = _widget_class()(self.board)
            self.handle = display(self.widget, display_id=True)
            publish = self.widget.push
        else:
            self.widget = None
            self.handle = display(HTML(page(self.board.state())), display_id=True)

            def publish(board):
                self.handle.update(HTML(page(board.state())))
        self.follower = Follower(self.board, publish)

    def finish(self) -> None:
        self.follower.finish()
        if self.widget is not None:  # the saved notebook's text/html: the final state
            self.handle.update(self.widget)


def live_view(run) -> LiveView | None:
    """Display `run` below the running cell when this is a Jupyter kernel."""
    return LiveView(run) if in_kernel() else None
