"""Tracing in-process: `with trace() as run:` records what the block trains into the same .bps as
`record` (the same tracer, detail rules, breakpoints and sink), and removes every hook on the way out.

In a Jupyter kernel the run shows itself below the cell and follows it live (core/notebook/view.py).
A KeyboardInterrupt or an exception ends the recording (stopped / failed, every iteration kept) and goes
on to the caller; a breakpoint stops the block quietly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from ..iteration import DEFAULT_DETAIL
from ..session.runner import Recorder, error_info, report

_active: list[Run] = []  # the run being traced (one at a time)


class Run:
    """A recording made in this process: `path` is an ordinary .bps (open, export, doctor read it)."""

    def __init__(self, path: str, detail: str, overhead: float, break_on: list[str]):
        self.path = os.path.abspath(path)
        self.detail, self.overhead, self.break_on = detail, overhead, list(break_on)
        self.status = "running"
        self.error: dict | None = None
        self.brk: dict | None = None
        self._recorder: Recorder | None = None
        self._view = None

    # ---- the recording ---------------------------------------------------------------------------
    def start(self, show: bool = True) -> Run:
        if _active:
            raise RuntimeError("backprop_studio.trace(): a run is being traced already (no nesting)")
        self._recorder = Recorder(self.path, {"script": _where(), "argv": []}, self.detail, self.overhead,
                                  self.break_on)
        _active.append(self)
        if show:
            from .view import live_view

            self._view = live_view(self)
        self._recorder.tracer.install()
        return self

    def stop(self, exc: BaseException | None) -> bool:
        """Remove the tracer, finish the file; True when `exc` (a breakpoint) is handled here."""
        from ..trace.control import BreakHit, StopRun

        recorder, self._recorder = self._recorder, None
        try:
            recorder.tracer.uninstall()
        finally:
            sys.stdout, sys.stderr = recorder.tees[0].stream, recorder.tees[1].stream
            _active.remove(self)
        if isinstance(exc, BreakHit):
            self.status, self.brk = "stopped", exc.info
        elif isinstance(exc, KeyboardInterrupt | StopRun):
            self.status = "stopped"
        elif exc is not None:
            self.status, self.error = "failed", error_info(exc, _where())
        else:
            self.status = "finished"
        recorder.close(self.status, self.error, self.brk)
        report(None, self.brk)
        if self._view is not None:
            self._view.finish()
        return isinstance(exc, BreakHit)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        return self.stop(exc)

    # ---- looking at it ---------------------------------------------------------------------------
    def board(self):
        """The run's data as the notebook views show it (core/notebook/board.py), read from the file."""
        from .board import Board

        board = Board(self.path)
        board.update()
        if board.losses:
            board.show(len(board.losses) - 1)
        return board

    def findings(self) -> list[dict]:
        """The training doctor's findings on the recording."""
        return self.board().findings

    def losses(self) -> list[float | None]:
        return self.board().losses

    def widget(self):
        """An interactive view of the run (anywidget); it follows the file while the run goes on."""
        from .view import run_widget

        return run_widget(self.path, follow=self.status == "running")

    def open(self) -> subprocess.Popen:
        """Open the desktop app on the recording (it follows the file while the run goes on)."""
        from ..boot import python_command

        for _ in range(50):  # the file exists once the run started; wait briefly if asked right away
            if os.path.isfile(self.path):
                break
            time.sleep(0.05)
        return subprocess.Popen(python_command(sys.executable, "main", ["open", self.path]),
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a kernel with widgets: the widget (and the static page for front ends without them)."""
        from .figures import page
        from .view import in_kernel, widgets_available

        if in_kernel() and widgets_available():
            return self.widget()._repr_mimebundle_(include=include, exclude=exclude)
        return {"text/html": page(self.board().state()), "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<backprop_studio run {self.status}: {self.path}>"


def _where() -> str:
    """What the recording names as its script: the notebook's folder (a cell has no file of its own)."""
    return os.path.join(os.getcwd(), "<notebook>")


def default_path() -> str:
    """A new file for a recording: runs/ in the system's temporary folder."""
    folder = os.path.join(tempfile.gettempdir(), "backprop-studio-runs")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, time.strftime("run-%Y%m%d-%H%M%S-") + f"{time.time_ns() % 10**6:06d}.bps")


def trace(path: str | None = None, detail: str = DEFAULT_DETAIL, overhead: float = 0.10,
          break_on: list[str] | tuple = (), show: bool = True) -> Run:
    """Record every backward pass inside a `with` block into `path` (default: a new file in the temporary
    folder), at `detail` (auto, full or light, as `record --detail`), stopping at `break_on` conditions
    (as `record --break-on`). `show`: in a Jupyter kernel, display the run below the cell, live."""
    return Run(path or default_path(), detail, overhead, list(break_on)).start(show=show)
