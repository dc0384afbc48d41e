"""Layout of large graphs in a child process, kept between layouts.

OGDF's Sugiyama holds the GIL for its whole call (~0.15-0.3 s at 10k nodes), which would freeze
the app's UI thread, and starting Python and importing OGDF costs more than the layout: one child
is started at the first large graph and reused. A new request cancels a stale one still running
(the child is killed and a fresh one takes the new request), so the wanted drawing never waits
behind one nobody wants any more. Runs as `python -c BOOT` (core/boot.py).
"""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
import threading

from ..boot import python_command
from .layout import layout

MODULE = "core.render.layout_worker"  # this module, run in the layout process

SUBPROCESS_ABOVE = 1000  # boxes; below this the in-process call is short enough (a few ms)
TIMEOUT = 180.0


class Cancelled(RuntimeError):
    """A newer request took the layout process."""


def run_layout(nodes: list[tuple[str, float, float]], edges: list[tuple[str, str]]) -> dict:
    """core.layout.layout, in the layout process for large graphs."""
    if len(nodes) <= SUBPROCESS_ABOVE:
        return layout(nodes, edges)
    return _worker.layout(nodes, edges)


class Worker:
    """The layout child process: one request at a time; a new request cancels a running one."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()  # guards turn and running
        self.free = threading.Lock()  # held by the request being answered
        self.turn = 0  # the newest request's number
        self.running: subprocess.Popen | None = None  # the process answering a request now

    def layout(self, nodes: list, edges: list) -> dict:
        with self.lock:
            self.turn += 1
            mine, stale = self.turn, self.running
        if stale is not None:
            _kill(stale)  # the stale request reads EOF and gives up
        with self.free:
            if mine != self.turn:
                raise Cancelled("layout cancelled by a newer one")
            return self._ask(nodes, edges, mine)

    def _ask(self, nodes: list, edges: list, mine: int) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(python_command(sys.executable, MODULE), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        proc, ready = self.proc, False
        with self.lock:
            self.running = proc
        try:
            proc.stdin.write(json.dumps({"nodes": nodes, "edges": edges}) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
            line = proc.stdout.readline() if ready else ""
        except (OSError, ValueError):
            line = ""
        finally:
            with self.lock:
                self.running = None
        if not line:
            self.stop()
            if mine != self.turn:
                raise Cancelled("layout cancelled by a newer one")
            raise RuntimeError("layout process failed" if ready else f"layout took over {TIMEOUT:.0f} s")
        out = json.loads(line)
        if "error" in out:
            raise RuntimeError(out["error"])
        return {k: tuple(v) for k, v in out["centres"].items()}

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def main() -> int:
    for line in sys.stdin:  # one request per line; ends when the app closes our stdin or dies
        d = json.loads(line)
        try:
            out = {"centres": layout([tuple(n) for n in d["nodes"]], [tuple(e) for e in d["edges"]])}
        except Exception as e:  # noqa: BLE001 - sent back to the app
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


_worker = Worker()
atexit.register(_worker.stop)
