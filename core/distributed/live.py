"""A live distributed session: torchrun runs the script with our runner as every worker's entry point
(as `record --nproc-per-node` does, core/distributed/launch.py), and each rank is driven over its own connection.

    this process  <-- DIR/control.sock --  rank r (a torchrun worker: core/session/runner.py --connect-path)

Each worker connects to the socket we listen on and says `started` with its rank; from then on it is a
Channel like a single-process session. Every event we hand out carries "rank". Commands that move the
job go to every rank (run, pause, step_iteration, run_to, stop, settings); finer steps (phase, backward
node, forward op) go to the rank in `focus` while the others wait where they are paused (a running one
is paused at its next pause point, or waits in its next collective for the stepped rank). The workers'
collective timeout is raised (COLLECTIVE_TIMEOUT), so a paused rank never times the others out.

When every rank has finished, a job-level `finished` event ("rank": None) follows, and the ranks' files
are merged into `record_path` (core/distributed/merge.py).
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ..iteration import LIVE_DETAIL
from ..recording.store import RecordingError, remove
from ..session.channel import Channel
from ..session.launch import check_options, child_env, runner_options
from ..session.protocol import Event
from ..session.rank import part_path, rank_files
from .launch import torchrun_command
from .merge import MergeError, merge, status_of_job

COLLECTIVE_TIMEOUT = 7 * 24 * 3600.0  # seconds: a rank may stay paused for a week
STOP_WITHIN = 1.5  # seconds from Stop until torchrun and every rank are gone
MOVES = ("run", "pause", "step_iteration", "run_to", "stop", "set_detail", "set_breakpoints")
FINE_STEPS = ("step_phase", "step_node", "step_forward_op")
AFTER_ITERATION = ("backward_end", "optimizer_pre", "optimizer_post")  # pause points past the backward


class Rank(Channel):
    """One worker's connection: its rank and pid (from `started`) and where it last paused."""

    def __init__(self, sock: socket.socket):
        super().__init__()
        self._attach(sock)
        self.rank: int | None = None
        self.pid: int | None = None
        self.last_pause: tuple[str, int] | None = None  # (point, iteration) of the last pause
        self.paused = False

    def next_boundary(self) -> int:
        """The iteration whose backward end is this rank's next iteration boundary."""
        if self.last_pause is None:
            return 0
        point, index = self.last_pause
        return index + 1 if point in AFTER_ITERATION else index


class DistributedSession:
    """`nproc` ranks of `script` under torchrun, each traced and driven live (no Qt here).

    The interface is Session's (start, events, fileno, send, stop, close, discard, restart, finished,
    record_path), plus `focus` (the rank finer steps act on), `ranks` and `rank_record(rank)`.
    """

    def __init__(self, script: str, args: list[str] = (), nproc: int = 2, *, detail: str = LIVE_DETAIL,
                 break_on: list[str] = (), record: str | None = None, paused: bool = True,
                 python: str | None = None, overhead: float = 0.10,
                 collective_timeout: float = COLLECTIVE_TIMEOUT):
        check_options(script, detail, break_on)
        if nproc < 1:
            raise ValueError("a distributed session needs at least one rank")
        self.script = os.path.abspath(script)
        self.args = list(args)
        self.nproc = nproc
        self.detail = detail
        self.break_on = list(break_on)
        self.paused = paused
        self.python = python or sys.executable
        self.overhead = overhead
        self.collective_timeout = collective_timeout
        self.temporary = record is None
        if record is None:
            fd, record = tempfile.mkstemp(prefix="backprop-studio-", suffix=".bps")
            os.close(fd)
        self.record_path = os.path.abspath(record)  # the merged recording, once the job has ended
        self.parts = self.record_path + ".ranks"  # each rank's own file while it runs
        self.focus = 0
        self.proc: subprocess.Popen | None = None
        self.finished: Event | None = None
        self.ranks: dict[int, Rank] = {}
        self._channels: list[Rank] = []
        self._queue: list[Event] = []
        self._selector: selectors.BaseSelector | None = None
        self._listener: socket.socket | None = None
        self._agent_fd: int | None = None
        self._dir: str | None = None
        self._stopping = False
        self._early: list[tuple[str, dict]] = []  # commands sent before every rank had started
        self._timers: list[threading.Timer] = []
        self._log = None

    # ---- life cycle -----------------------------------------------------------
    def start(self) -> None:
        """Launch torchrun; each rank sends `started`, then stops at its first pause point if `paused`."""
        if self.alive:
            raise RuntimeError("session already running")
        shutil.rmtree(self.parts, ignore_errors=True)
        self._dir = tempfile.mkdtemp(prefix="bps-")  # short: a socket path has ~100 characters at most
        path = os.path.join(self._dir, "control.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(self.nproc)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, "listener")
        options = runner_options(self.parts, self.detail, self.overhead, self.break_on, self.paused)
        options += ["--connect-path", path, "--collective-timeout", str(self.collective_timeout)]
        # torchrun waits 1 s (not 30) for workers to end after a signal before it kills them
        cmd = torchrun_command(self.python, options, self.script, self.args, self.nproc,
                               launcher=["--shutdown-timeout=1", "--monitor-interval=0.1",
                                         f"--log-dir={os.path.join(self._dir, 'logs')}"])  # not a torchelastic_* of its own
        self._log = open(os.path.join(self._dir, "torchrun.log"), "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(cmd, env=child_env(), stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=os.path.dirname(self.script))
        if hasattr(os, "pidfd_open"):  # readable when torchrun exits, even before any rank connects
            self._agent_fd = os.pidfd_open(self.proc.pid)
            self._selector.register(self._agent_fd, selectors.EVENT_READ, "agent")
        self.finished = None
        self._stopping = False

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def fileno(self) -> int:
        """Readable when any rank has events, connects, or torchrun exits (for a QSocketNotifier)."""
        return self._selector.fileno() if self._selector is not None else -1

    def where(self) -> dict[int, tuple[str, int | None]]:
        """rank -> (paused | running | how it ended, the iteration of its last pause)."""
        return {r: (ch.finished.data["status"] if ch.finished else "paused" if ch.paused else "running",
                    ch.last_pause[1] if ch.last_pause else None) for r, ch in sorted(self.ranks.items())}

    def rank_record(self, rank: int) -> str:
        """The recording rank `rank` writes while the job runs."""
        return part_path(self.parts, rank)

    def close(self) -> None:
        """Kill torchrun and every rank if they still run, and release the connections."""
        if self.proc is None:
            return
        self._stopping = self._stopping or self.finished is None
        self._kill(signal.SIGKILL)
        self.proc.wait()
        self._collect()
        for ch in self._channels:
            ch._close_socket()
        self._end_job()
        self._release()

    def discard(self) -> None:
        """close(), and delete the recordings if they were temporary files of ours."""
        self.close()
        shutil.rmtree(self.parts, ignore_errors=True)
        if self.temporary:
            remove(self.record_path)

    def restart(self) -> None:
        """Stop every rank and run the job again from the start (same options, same recording paths)."""
        if self.proc is not None:
            self.stop(timeout=1.5)
            self.close()
        self.ranks, self._channels, self._queue, self._early = {}, [], [], []
        self.start()

    def __enter__(self) -> DistributedSession:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _kill(self, sig: int) -> None:
        """Signal torchrun, and with SIGKILL every rank still connected (they run in sessions of their own)."""
        pids = [self.proc.pid] if self.proc.poll() is None else []
        if sig == signal.SIGKILL:
            pids += [ch.pid for ch in self._channels if ch.pid and ch._sock is not None]
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass

    def _release(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers = []
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        for closing in (self._listener, self._log):
            if closing is not None:
                closing.close()
        self._listener = None
        if self._agent_fd is not None:
            os.close(self._agent_fd)
            self._agent_fd = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # ---- events ----------------------------------------------------------------
    def events(self, timeout: float = 0.0) -> list[Event]:
        """Events of every rank received so far (each with its "rank"); waits up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self._collect()
        while not self._queue and self._wait(deadline):
            self._collect()
        out, self._queue = self._queue, []
        return out

    def _wait(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if self._selector is None or self.finished is not None or left <= 0:
            return False
        self._selector.select(left)
        return True

    def _collect(self) -> None:
        """Accept new ranks, read every rank's events into the queue, notice the job's end."""
        if self._selector is None:
            return
        self._accept()
        for ch in self._channels:
            for ev in ch.events():
                self._on_event(ch, ev)
            if ch._eof and ch._sock is not None:
                self._selector.unregister(ch._sock)
                ch._close_socket()
        if self._agent_fd is not None and self.proc.poll() is not None:
            self._selector.unregister(self._agent_fd)
            os.close(self._agent_fd)
            self._agent_fd = None
        self._end_job()

    def _accept(self) -> None:
        while self._listener is not None:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            ch = Rank(sock)
            self._channels.append(ch)
            self._selector.register(sock, selectors.EVENT_READ, ch)
            if len(self._channels) == self.nproc:  # everyone is here
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None

    def _on_event(self, ch: Rank, ev: Event) -> None:
        d = ev.data
        if ev.kind == "started":
            ch.rank, ch.pid = d.get("rank"), d.get("pid")
            if ch.rank is not None:
                self.ranks[ch.rank] = ch
            for command, args in self._early:  # what every rank was told before this one was there
                self._send_each([ch], command, **args)
            if len(self.ranks) == self.nproc:
                self._early = []
        elif ev.kind == "paused":
            ch.last_pause = (d["point"], d["index"])
            ch.paused = (d.get("seq") or 0) >= ch._seq  # not a pause from before the last command
            if d.get("reason") == "break":  # one rank stopped at a breakpoint: the others wait too
                self._send_each([c for c in self._live() if c is not ch and not c.paused], "pause")
        self._queue.append(Event(ev.kind, {**d, "rank": ch.rank}))

    def _live(self) -> list[Rank]:
        """The ranks that said `started` and have not ended."""
        return [ch for ch in self.ranks.values() if ch.finished is None and ch._sock is not None]

    def _end_job(self) -> None:
        """After every rank has finished (or torchrun is gone and with it every rank): the job's
        `finished` event, and the ranks' files merged into `record_path`."""
        if self.finished is not None:
            return
        everyone = len(self.ranks) == self.nproc and all(ch.finished for ch in self.ranks.values())
        agent_gone = self.proc is not None and self.proc.poll() is not None
        if not everyone and not (agent_gone and all(ch.finished for ch in self._channels)):
            return
        ranks = {ch.rank: ch.finished.data for ch in self._channels if ch.rank is not None}
        status, error = status_of_job(ranks)
        if len(ranks) < self.nproc:  # some rank never started
            status = "stopped" if self._stopping else "failed"
            if not self._stopping and error is None:
                error = {"type": "LaunchError", "message": self._launch_failure(), "file": self.script, "line": None}
        breaks = [d["break"] for d in ranks.values() if d.get("break")]
        self.finished = Event("finished", {"status": status, "error": error, "break": breaks[0] if breaks else None,
                                           "exit_code": self.proc.poll(), "rank": None,
                                           "ranks": {str(r): d["status"] for r, d in sorted(ranks.items())},
                                           "merged": self._merge()})
        self._queue.append(self.finished)

    def _launch_failure(self) -> str:
        """What torchrun said when ranks never connected (the end of its log)."""
        try:
            with open(os.path.join(self._dir, "torchrun.log"), "rb") as f:
                tail = f.read()[-2000:].decode(errors="replace").strip()
        except (OSError, TypeError):
            tail = ""
        return f"torchrun ended before every rank started ({len(self.ranks)} of {self.nproc}): {tail}"

    def _merge(self) -> str | None:
        """Merge the ranks' files into `record_path`; None when done, else why not."""
        files = rank_files(self.parts)
        if not files:
            return "no rank wrote a recording"
        try:
            merge(files, self.record_path)
        except (MergeError, RecordingError, OSError) as e:
            return str(e)
        return None

    # ---- commands --------------------------------------------------------------
    def send(self, command: str, **args) -> None:
        """A command for the job (MOVES: every rank) or for the rank in `focus` (FINE_STEPS);
        `restart` runs the job again. ValueError for a bad command."""
        if command == "restart":
            self.restart()
            return
        if self._selector is None:
            raise RuntimeError("session not started")
        if command in FINE_STEPS:  # nothing when the rank in focus is not (or no longer) there
            target = self.ranks.get(self.focus)
            if target in self._live():
                self._send_each([target], command)
                self._send_each([c for c in self._live() if c is not target and not c.paused], "pause")
        elif command == "step_iteration" and len(self.ranks) == self.nproc:
            self.step_all()
        elif command in MOVES:
            self._move(command, **args)
            if command == "stop":
                self._stopping = True
                self._arm_kill(STOP_WITHIN)
        else:
            raise ValueError(f"unknown command {command!r}")

    def _move(self, command: str, **args) -> None:
        """`command` to every rank, also to those that have not said `started` yet (when they do)."""
        self._send_each(self._live(), command, **args)
        if len(self.ranks) < self.nproc:
            self._early.append((command, args))

    def step_all(self) -> None:
        """Every rank to its next iteration boundary, the same one for all: a plain step_iteration when
        they are paused at one boundary, else run_to the furthest rank's next boundary."""
        live = self._live()
        nexts = {ch.next_boundary() for ch in live}
        if len(nexts) == 1 and all(ch.paused for ch in live):
            self._send_each(live, "step_iteration")
        elif live:
            self._send_each(live, "run_to", iteration=max(nexts))

    def _send_each(self, channels: list[Rank], command: str, **args) -> None:
        for ch in channels:
            ch.send(command, **args)
            if command != "pause" and not command.startswith("set_"):
                ch.paused = False

    def _arm_kill(self, within: float) -> None:
        """Make sure torchrun and every rank are gone within `within` seconds: the ranks stop when asked
        (each finishes its recording itself within 0.3 s even when stuck in C code, core/session/runner.py);
        at 50 % torchrun gets SIGTERM (it passes it on to the ranks, and kills them 1 s later), at 90 %
        torchrun and every rank we know get SIGKILL."""
        for frac, sig in ((0.5, signal.SIGTERM), (0.9, signal.SIGKILL)):
            t = threading.Timer(within * frac, self._kill, (sig,))  # cancelled by close()
            t.daemon = True
            t.start()
            self._timers.append(t)

    def stop(self, timeout: float = STOP_WITHIN) -> Event:
        """Stop every rank; torchrun and the ranks are gone within `timeout` seconds. Returns the job's
        `finished` event."""
        deadline = time.monotonic() + timeout
        if self.proc is None:
            raise RuntimeError("session not started")
        self._move("stop")
        self._stopping = True
        self._arm_kill(timeout)
        while (self.alive or not all(ch.finished for ch in self._channels)) and time.monotonic() < deadline:
            self._selector.select(min(0.05, max(0.0, deadline - time.monotonic())))
            self._collect()
        if self.alive:
            self._kill(signal.SIGKILL)
        self.proc.wait()
        for ch in self._channels:
            ch._close_socket()  # a rank that never said goodbye: stopped (or killed, its file says)
        self._collect()
        self._end_job()
        return self.finished
