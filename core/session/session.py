"""Running a script in a child process: headless recording, and interactive sessions driven by commands.

`Session` is the parent's end of core/session/protocol.py (no Qt here; gui/bridge.py wraps it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ..iteration import DEFAULT_DETAIL, LIVE_DETAIL
from ..recording.store import Recording, RecordingError, mark_status, remove
from .channel import Channel
from .launch import ExitCode, check_options, child_command, child_env, runner_options
from .protocol import Command, Event, encode

__all__ = ["Event", "Session", "record_in_child"]

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


def record_in_child(script: str, args: list[str], out: str, detail: str = DEFAULT_DETAIL, overhead: float = 0.10,
                    break_on: list[str] | None = None, python: str | None = None) -> int:
    """Trace `script` in a child process into `out`; returns 0 finished, 1 failed, 3 breakpoint."""
    options = runner_options(os.path.abspath(out), detail, overhead, break_on or [])
    cmd = child_command(python or sys.executable, options, script, args)
    proc = subprocess.Popen(cmd, env=child_env())
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
        return ExitCode.FAILED
    try:
        Recording(out).close()
    except RecordingError as e:
        print(f"backprop-studio: {e}", file=sys.stderr)
        return ExitCode.FAILED
    return code


class Session(Channel):
    """A script running in a child process under the tracer, driven by commands (no Qt here).

    Call `start()` from a long-lived thread (the GUI's main thread): on Linux the child is killed
    when the thread that started it ends. Events arrive on `fileno()`; read them with `events()`.
    """

    def __init__(self, script: str, args: list[str] = (), *, detail: str = LIVE_DETAIL, break_on: list[str] = (),
                 record: str | None = None, paused: bool = True, python: str | None = None,
                 overhead: float = 0.10):
        super().__init__()
        check_options(script, detail, break_on)
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
        self._timers: list[threading.Timer] = []

    # ---- life cycle -----------------------------------------------------------
    def start(self) -> None:
        """Spawn the child; it sends `started`, then stops at its first pause point if `paused`."""
        if self.alive:
            raise RuntimeError("session already running")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        options = runner_options(self.record_path, self.detail, self.overhead, self.break_on, self.paused)
        options += ["--connect", str(theirs.fileno())]
        if threading.current_thread() is threading.main_thread():
            options += ["--parent", str(os.getpid())]  # PR_SET_PDEATHSIG follows the starting thread
        cmd = child_command(self.python, options, self.script, self.args)
        try:
            self.proc = subprocess.Popen(cmd, env=child_env(), pass_fds=(theirs.fileno(),),
                                         stdin=subprocess.DEVNULL, cwd=os.path.dirname(self.script))
        finally:
            theirs.close()
        self._attach(ours)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Kill the child if it still runs and release the channel."""
        if self.alive:
            self._stopping = self._stopping or self.finished is None
            self.proc.kill()
            self.proc.wait()
        for t in self._timers:
            t.cancel()
        self._timers = []
        self._close_socket()

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

    def _ending(self) -> tuple[str, dict | None, int | None]:
        """The child closed its end without saying how it ended: ask the process, finish the recording."""
        code = self.proc.poll() if self.proc is not None else None
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
        return status, error, code

    # ---- commands --------------------------------------------------------------
    def send(self, command: str, **args) -> None:
        """Send a command (see core.protocol.COMMANDS); `restart` respawns the script.

        `stop` makes sure the child is gone within a second (it is killed if it does not stop)."""
        if command == "restart":
            self.restart()
            return
        super().send(command, **args)
        if command == "stop":
            self._arm_kill(1.0)

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
