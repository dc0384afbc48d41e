"""Running a script in a child process: headless recording, and interactive sessions driven by commands.

`Session` is the parent's end of core/protocol.py (no Qt here; gui/bridge.py wraps it).
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque

from backprop_studio.core.budget import DETAILS
from backprop_studio.core.conditions import parse_condition
from backprop_studio.core.protocol import (
    Command,
    Event,
    FrameReader,
    ProtocolError,
    check_command,
    encode,
)
from backprop_studio.core.recording import Recording, RecordingError, mark_status, remove
from backprop_studio.core.runner import EXIT_FAILED, child_command

__all__ = ["Event", "Session", "record_in_child"]

def _child_env() -> dict:
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}


def _killed_status(code: int, script: str, stopping: bool) -> tuple[str, dict | None]:
    """Status and error of a child that ended without saying how (killed, crashed)."""
    if code < 0:
        name = signal.Signals(-code).name
        if stopping or -code in (signal.SIGINT, signal.SIGTERM):
            return "stopped", None
        return "failed", {"type": name, "message": f"child process killed by {name}",
                          "file": os.path.abspath(script), "line": None}
    if stopping:
        return "stopped", None
    return "failed", {"type": "ChildExit", "message": f"child process exited with code {code} without a result",
                      "file": os.path.abspath(script), "line": None}


def record_in_child(script: str, args: list[str], out: str, detail: str = "auto", overhead: float = 0.10,
                    break_on: list[str] | None = None, python: str | None = None) -> int:
    """Trace `script` in a child process into `out`; returns 0 finished, 1 failed, 3 breakpoint."""
    options = ["--record", os.path.abspath(out), "--detail", detail, "--overhead", str(overhead)]
    for cond in break_on or []:
        options += ["--break-on", cond]
    cmd = child_command(python or sys.executable, options, script, args)
    proc = subprocess.Popen(cmd, env=_child_env())
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    if code < 0:  # killed by a signal: the child could not finish the file itself
        status, error = _killed_status(code, script, stopping=False)
        try:
            mark_status(out, status, error)
        except Exception as e:  # noqa: BLE001 - report, the recording may not exist
            print(f"backprop-studio: could not finish {out}: {e}", file=sys.stderr)
        print(f"backprop-studio: the run was {'stopped' if status == 'stopped' else 'killed'}"
              f" ({signal.Signals(-code).name})", file=sys.stderr)
        return EXIT_FAILED
    try:
        Recording(out).close()
    except RecordingError as e:
        print(f"backprop-studio: {e}", file=sys.stderr)
        return EXIT_FAILED
    return code


class Session:
    """A script running in a child process under the tracer, driven by commands (no Qt here).

    Call `start()` from a long-lived thread (the GUI's main thread): on Linux the child is killed
    when the thread that started it ends. Events arrive on `fileno()`; read them with `events()`.
    """

    def __init__(self, script: str, args: list[str] = (), *, detail: str = "full", break_on: list[str] = (),
                 record: str | None = None, paused: bool = True, python: str | None = None,
                 overhead: float = 0.10):
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {DETAILS}, not {detail!r}")
        for cond in break_on:
            parse_condition(cond)  # ValueError with a clear message
        if not os.path.isfile(script):
            raise ValueError(f"{script}: no such script")
        self.script = os.path.abspath(script)
        self.args = list(args)
        self.detail = detail
        self.break_on = list(break_on)
        self.paused = paused
        self.python = python or sys.executable
        self.overhead = overhead
        self.temporary = record is None  # a file of ours: deleted by discard() unless saved elsewhere
        if record is None:
            fd, record = tempfile.mkstemp(prefix="backprop-studio-", suffix=".bps")
            os.close(fd)
        self.record_path = os.path.abspath(record)
        self.proc: subprocess.Popen | None = None
        self.finished: Event | None = None
        self._sock: socket.socket | None = None
        self._reader = FrameReader(Event)
        self._queue: deque[Event] = deque()
        self._seq = 0
        self._stopping = False
        self._eof = False
        self._timers: list[threading.Timer] = []

    # ---- life cycle -----------------------------------------------------------
    def start(self) -> None:
        """Spawn the child; it sends `started`, then stops at its first pause point if `paused`."""
        if self.alive:
            raise RuntimeError("session already running")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        options = ["--record", self.record_path, "--detail", self.detail, "--overhead", str(self.overhead),
                   "--connect", str(theirs.fileno())]
        for cond in self.break_on:
            options += ["--break-on", cond]
        if self.paused:
            options.append("--paused")
        if threading.current_thread() is threading.main_thread():
            options += ["--parent", str(os.getpid())]  # PR_SET_PDEATHSIG follows the starting thread
        cmd = child_command(self.python, options, self.script, self.args)
        try:
            self.proc = subprocess.Popen(cmd, env=_child_env(), pass_fds=(theirs.fileno(),),
                                         stdin=subprocess.DEVNULL, cwd=os.path.dirname(self.script))
        finally:
            theirs.close()
        self._attach(ours)

    def _attach(self, sock: socket.socket) -> None:
        """Use `sock` as the event/command channel (start() does this; tests attach a fake child)."""
        sock.setblocking(False)
        self._sock = sock
        self._eof = False
        self._reader = FrameReader(Event)
        self.finished = None
        self._stopping = False
        self._seq = 0  # commands are numbered per child

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def fileno(self) -> int:
        """Readable when events are waiting (for a QSocketNotifier). It stays readable after the child
        has gone (end of stream) until close(): stop watching it once `finished` arrives."""
        return self._sock.fileno() if self._sock is not None else -1

    def close(self) -> None:
        """Kill the child if it still runs and release the channel."""
        if self.alive:
            self._stopping = self._stopping or self.finished is None
            self.proc.kill()
            self.proc.wait()
        if self._sock is not None and not self._eof:
            self._pump()
            if not self._eof:
                self._child_gone()
        for t in self._timers:
            t.cancel()
        self._timers = []
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def discard(self) -> None:
        """close(), and delete the recording if it was a temporary file of ours."""
        self.close()
        if self.temporary:
            remove(self.record_path)

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- events ----------------------------------------------------------------
    def events(self, timeout: float = 0.0) -> list[Event]:
        """Events received so far; waits up to `timeout` seconds for at least one."""
        deadline = time.monotonic() + timeout
        self._pump()
        while not self._queue and self._wait_readable(deadline):
            self._pump()
        out = list(self._queue)
        self._queue.clear()
        return out

    def _wait_readable(self, deadline: float) -> bool:
        """Wait for bytes from the child until `deadline`; False if there is nothing more to wait for."""
        left = deadline - time.monotonic()
        if self._sock is None or self._eof or left <= 0:
            return False
        select.select([self._sock], [], [], left)
        return True

    def _pump(self) -> None:
        """Read everything waiting on the socket into the queue (never blocks)."""
        while self._sock is not None and not self._eof:
            try:
                data = self._sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            for m in self._reader.feed(data) if data else self._reader.eof():
                if isinstance(m, ProtocolError):
                    self._queue.append(Event("protocol_error", {"message": str(m)}))
                else:
                    self._queue.append(m)
                    if m.kind == "finished":
                        self.finished = m
            if not data:
                self._child_gone()

    def _child_gone(self) -> None:
        """End of stream: if the child could not say how it ended, say it for it."""
        self._eof = True
        code = self.proc.poll() if self.proc is not None else None
        if self.finished is not None:
            return
        if self.proc is not None and code is None:
            try:
                code = self.proc.wait(timeout=2.0)  # its socket closed: it is exiting
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
        status, error = _killed_status(code if code is not None else -signal.SIGKILL, self.script,
                                       self._stopping)
        try:
            mark_status(self.record_path, status, error)
        except Exception:  # noqa: BLE001 - the child may have died before creating the file
            pass
        self.finished = Event("finished", {"status": status, "error": error, "break": None, "exit_code": code})
        self._queue.append(self.finished)

    # ---- commands --------------------------------------------------------------
    def send(self, command: str, **args) -> None:
        """Send a command (see core.protocol.COMMANDS); `restart` respawns the script.

        `stop` makes sure the child is gone within a second (it is killed if it does not stop)."""
        if command == "restart":
            self.restart()
            return
        if command == "set_breakpoints":
            for cond in args.get("conditions") or []:
                parse_condition(cond)
        cmd = Command(command, args, self._seq + 1)
        try:
            check_command(cmd)
        except ProtocolError as e:
            raise ValueError(str(e)) from None
        if self._sock is None:
            raise RuntimeError("session not started")
        self._seq += 1
        if command == "stop":
            self._stopping = True
            self._arm_kill(1.0)
        self._write(encode(cmd))

    def _write(self, frame: bytes) -> None:
        view = memoryview(frame)
        deadline = time.monotonic() + 5.0
        while view and self._sock is not None and not self._eof:
            try:
                view = view[self._sock.send(view):]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the child does not read its commands") from None
                select.select([], [self._sock], [], 0.1)
            except OSError:
                return  # the child is gone; its end of stream says how

    def _arm_kill(self, within: float) -> None:
        """Make sure the child is gone within `within` seconds (it finishes its recording itself after
        0.3 s even when the script is stuck in C code): SIGTERM at 70 %, SIGKILL at 85 %."""
        if self.proc is None:
            return
        for frac, sig in ((0.7, signal.SIGTERM), (0.85, signal.SIGKILL)):
            t = threading.Timer(within * frac, _signal_if_alive, (self.proc, sig))
            t.daemon = True
            t.start()
            self._timers.append(t)

    def restart(self) -> None:
        """Kill the child and run the script again from the start (same options, same recording path).
        The channel is new: watch the new `fileno()` after `started`."""
        if self.proc is not None:
            self.stop(timeout=0.5)
            self.close()
        self.start()

    # ---- blocking helpers (tests, scripts) -------------------------------------
    def _until_pause(self, timeout: float) -> list[Event]:
        """Events up to and including the next `paused` (after the last command) or `finished`."""
        want = self._seq
        out: list[Event] = []
        deadline = time.monotonic() + timeout
        while True:
            self._pump()
            while self._queue:
                ev = self._queue.popleft()
                out.append(ev)
                if ev is self.finished or (ev.kind == "paused" and (ev.data.get("seq") or 0) >= want):
                    return out
            if not self._wait_readable(deadline):
                self._queue.extendleft(reversed(out))
                raise TimeoutError(f"no pause within {timeout} s")

    def _step(self, command: str, timeout: float, **args) -> list[Event]:
        self.send(command, **args)
        return self._until_pause(timeout)

    def step_node(self, timeout: float = 10) -> list[Event]:
        """Run to the next backward node (or the end of the backward)."""
        return self._step("step_node", timeout)

    def step_phase(self, timeout: float = 10) -> list[Event]:
        """Run to the next phase boundary: backward begin/end, optimizer pre/post."""
        return self._step("step_phase", timeout)

    def step_iteration(self, timeout: float = 10) -> list[Event]:
        """Run to the end of the next backward."""
        return self._step("step_iteration", timeout)

    def step_forward_op(self, timeout: float = 10) -> list[Event]:
        """Run to the next forward op (or the start of the backward)."""
        return self._step("step_forward_op", timeout)

    def run_to(self, iteration: int, timeout: float = 60) -> list[Event]:
        """Run to the end of backward `iteration`."""
        return self._step("run_to", timeout, iteration=iteration)

    def run(self, rate: float | None = None) -> None:
        self.send("run", rate=rate)

    def pause(self) -> None:
        self.send("pause")

    def wait_paused(self, timeout: float = 10) -> list[Event]:
        """Events up to the next `paused` or `finished` (e.g. the first pause after start)."""
        return self._until_pause(timeout)

    def wait_finished(self, timeout: float) -> Event:
        """The `finished` event (other events stay queued for `events()`)."""
        deadline = time.monotonic() + timeout
        while self.finished is None:
            self._pump()
            if self.finished is None and not self._wait_readable(deadline):
                raise TimeoutError(f"the script did not finish within {timeout} s")
        return self.finished

    def stop(self, timeout: float = 1.0) -> Event:
        """Stop the script; the child is gone within `timeout` seconds. Returns the `finished` event."""
        deadline = time.monotonic() + timeout
        if self.finished is None and self._sock is not None and not self._eof:
            self._stopping = True
            self._seq += 1
            self._write(encode(Command("stop", {}, self._seq)))
            self._arm_kill(timeout)
            while self.finished is None and self._wait_readable(deadline):
                self._pump()
        if self.alive:  # said goodbye (or not): make sure it is gone
            try:
                self.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.finished is None:
            self._pump()
            if self.finished is None:
                self._child_gone()
        return self.finished


def _signal_if_alive(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except OSError:
            pass
