"""Child entry point: run the user's script as __main__ under the tracer.

    python -c BOOT --record OUT.bps [--detail auto] [--break-on COND]... -- SCRIPT.py [ARGS...]
    python -c BOOT --record OUT.bps --connect FD [--paused] [--parent PID] ... -- SCRIPT.py [ARGS...]

The first form records headlessly; the second is an interactive session driven over the socket FD
(core/session.py is the other end). Exit codes: 0 finished, 1 failed or stopped, 3 stopped at a breakpoint.
"""

from __future__ import annotations

import argparse
import os
import runpy
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque

from core import naming

EXIT_OK, EXIT_FAILED, EXIT_BREAK = 0, 1, 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = f"import sys; sys.path.append({ROOT!r}); from core.runner import main; sys.exit(main())"


def child_command(python: str, options: list[str], script: str, args: list[str]) -> list[str]:
    """The command line that runs `script` under the tracer in a fresh interpreter."""
    return [python, "-c", BOOT, *options, "--", script, *args]


class Tee:
    """Keeps a copy of a stream's text for the recording, passes it on (`echo`) and to `listener`."""

    def __init__(self, stream, name: str, echo: bool = True, listener=None):
        self.stream = stream
        self.name = name
        self.echo = echo
        self.listener = listener
        self.pending: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.pending.append(text)
        if self.listener is not None:
            self.listener(self.name, text)
        return self.stream.write(text) if self.echo else len(text)

    def flush(self) -> None:
        if self.echo:
            self.stream.flush()

    def drain(self) -> str:
        with self.lock:
            text, self.pending = "".join(self.pending), []
        return text

    def __getattr__(self, name):
        return getattr(self.stream, name)


def error_info(exc: BaseException, script: str) -> dict:
    """Type, message, and the user's file and line where it happened."""
    file = line = None
    if isinstance(exc, SyntaxError) and exc.filename:
        file, line = exc.filename, exc.lineno
    else:
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            name = frame.f_code.co_filename
            if naming.is_user_file(name) and not name.startswith("<"):
                file, line = name, lineno
    if file is None:
        file = script
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    if isinstance(exc, SystemExit):
        message = f"script exited with code {exc.code}"
    return {"type": type(exc).__name__, "message": message, "file": os.path.abspath(file), "line": line}


def print_user_traceback(exc: BaseException) -> None:
    """The script's traceback without our runner's or runpy's frames."""
    te = traceback.TracebackException.from_exception(exc)
    frames = [f for f in te.stack if naming.is_user_file(f.filename) and not f.filename.startswith("<")]
    te.stack = traceback.StackSummary.from_list(frames or list(te.stack)[-1:])
    print("".join(te.format()), end="", file=sys.stderr)


def run_script(script: str, args: list[str]) -> None:
    """Run `script` like `python script.py args` would, in this process."""
    script = os.path.abspath(script)
    sys.argv = [script, *args]
    sys.path[0:1] = [os.path.dirname(script)]
    os.environ.setdefault("MPLBACKEND", "Agg")
    runpy.run_path(script, run_name="__main__")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("runner: usage: ... -- SCRIPT.py [ARGS...]", file=sys.stderr)
        return 2
    cut = argv.index("--")
    p = argparse.ArgumentParser(prog="backprop-studio-runner")
    p.add_argument("--record", required=True)
    p.add_argument("--detail", default="auto")
    p.add_argument("--overhead", type=float, default=0.10)
    p.add_argument("--break-on", action="append", default=[])
    p.add_argument("--connect", type=int, default=None, help="socket fd of an interactive session")
    p.add_argument("--paused", action="store_true", help="interactive: stop at the first pause point")
    p.add_argument("--parent", type=int, default=0, help="interactive: die with this parent process")
    opts = p.parse_args(argv[:cut])
    script, args = argv[cut + 1], argv[cut + 2:]
    if opts.connect is not None:
        return interactive(script, args, opts.connect, opts.record, opts.detail, opts.overhead,
                           opts.break_on, opts.paused, opts.parent)
    return record(script, args, opts.record, opts.detail, opts.overhead, opts.break_on)


def execute(script: str, args: list[str], tracer, tees: list[Tee]) -> tuple[str, dict | None, dict | None, int]:
    """Run `script` under `tracer`: (status, error, break, exit code); the tracer is removed after."""
    from core.control import BreakHit, StopRun

    status, error, brk, code = "finished", None, None, EXIT_OK
    tracer.install()
    try:
        run_script(script, args)
    except BreakHit as hit:
        status, brk, code = "stopped", hit.info, EXIT_BREAK
    except (StopRun, KeyboardInterrupt):
        status, code = "stopped", EXIT_FAILED
    except SystemExit as e:
        if e.code not in (None, 0):
            status, error, code = "failed", error_info(e, script), EXIT_FAILED
    except BaseException as e:  # noqa: BLE001 - any script failure is a result, not our crash
        status, error, code = "failed", error_info(e, script), EXIT_FAILED
        print_user_traceback(e)
    finally:
        tracer.uninstall()
        sys.stdout, sys.stderr = tees[0].stream, tees[1].stream
    return status, error, brk, code


def report(error: dict | None, brk: dict | None) -> None:
    """One line on stderr for a failure or a breakpoint."""
    if error:
        where = f"{error['file']}:{error['line']}" if error["line"] else error["file"]
        print(f"backprop-studio: {error['type']}: {error['message']} ({where})", file=sys.stderr)
    if brk:
        print(f"backprop-studio: break: {brk['reason']} at iteration {brk['iteration']}"
              f" node {brk.get('node')} {brk.get('op') or ''} {brk.get('name') or ''}"
              f" ({brk.get('source') or 'source unknown'})", file=sys.stderr)


def record(script: str, args: list[str], out: str, detail: str = "auto", overhead: float = 0.10,
           break_on: list[str] | None = None) -> int:
    """Trace `script` into the recording `out`; the exit code says how it ended."""
    from core.control import Breakpoints
    from core.recording import RecordingWriter
    from core.tracer import Tracer

    writer = RecordingWriter(out, {"script": os.path.abspath(script), "argv": args, "detail": detail})
    tees = [Tee(sys.stdout, "stdout"), Tee(sys.stderr, "stderr")]
    sys.stdout, sys.stderr = tees

    def sink(it) -> None:
        drain_console(tees, writer)
        writer.add_iteration(it)

    control = Breakpoints(break_on or [])
    if control.needs_full and detail == "auto":
        detail = "full"  # naming the first non-finite op needs every op's forward value
    tracer = Tracer(sink, detail=detail, overhead=overhead, control=control)
    status, error, brk, code = execute(script, args, tracer, tees)
    drain_console(tees, writer)
    writer.close(status, error, brk)
    report(error, brk)
    return code


def drain_console(tees: list[Tee], writer) -> None:
    """Move the console text written so far into the recording."""
    for t in tees:
        text = t.drain()
        if text:
            writer.add_console(t.name, text)


def ignore_interrupts() -> None:
    """After the script: a late Stop must not cut our own clean-up short."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---- interactive mode ----------------------------------------------------------


class Outbox:
    """Events to the parent, sent by one thread, so an interrupted script never cuts a frame in half.

    Console text is coalesced; a full queue makes the script wait (the GUI is behind).
    """

    LIMIT = 1024

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.broken = False
        self._items: deque = deque()  # [kind, data, born]; born > 0 for console chunks
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="backprop-studio-events", daemon=True)
        self._thread.start()

    def emit(self, kind: str, data: dict) -> None:
        self._put([kind, data, 0.0])

    def console(self, stream: str, text: str) -> None:
        with self._cond:
            last = self._items[-1] if self._items else None
            if last is not None and last[0] == stream and len(last[1]["text"]) < 65536:
                last[1]["text"] += text
                return
        self._put([stream, {"text": text}, time.monotonic()])

    def _put(self, item: list) -> None:
        with self._cond:
            while len(self._items) >= self.LIMIT and not self.broken:
                self._cond.wait(0.1)
            if not self.broken:
                self._items.append(item)
                self._cond.notify_all()

    def _next(self) -> tuple[str, dict] | None:
        with self._cond:
            while True:
                if self._items:
                    kind, data, born = self._items[0]
                    # a lone console chunk waits a moment to gather the rest of the line
                    wait = born + 0.02 - time.monotonic() if born and len(self._items) == 1 else 0
                    if wait <= 0 or self._closing:
                        self._items.popleft()
                        self._cond.notify_all()
                        return kind, data
                    self._cond.wait(wait)
                elif self._closing:
                    return None
                else:
                    self._cond.wait()

    def _run(self) -> None:
        from core.protocol import Event, ProtocolError, encode

        while (item := self._next()) is not None:
            try:
                try:
                    frame = encode(Event(*item))
                except ProtocolError as e:  # too big for one frame: say so instead
                    frame = encode(Event("protocol_error", {"message": f"not sent: {e}"}))
                self.sock.sendall(frame)
            except OSError:  # the parent is gone
                with self._cond:
                    self.broken = True
                    self._items.clear()
                    self._cond.notify_all()
                return

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (up to `timeout`), then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)


def die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when its parent dies (PR_SET_PDEATHSIG)."""
    if not parent:
        return
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before we could ask
        os._exit(EXIT_FAILED)


def read_commands(sock: socket.socket, control, outbox: Outbox, running: threading.Event) -> None:
    """The command thread: apply each command; bad frames become `protocol_error` events."""
    from core.protocol import Command, FrameReader, ProtocolError

    def interrupt() -> None:
        # a script in a long Python loop (no pause point) gets KeyboardInterrupt; if it is
        # stuck in C code the parent kills us after its grace period
        if running.is_set() and not control.blocked:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    reader = FrameReader(Command)
    while True:
        try:
            data = sock.recv(1 << 16)
        except OSError:
            data = b""
        for m in reader.feed(data) if data else reader.eof():
            if isinstance(m, ProtocolError):
                outbox.emit("protocol_error", {"message": str(m)})
                continue
            control.command(m.kind, m.args, m.seq)
            if m.kind == "stop":
                interrupt()
        if not data:  # the parent closed the socket or died: stop, and exit soon whatever happens
            control.stop()
            interrupt()
            timer = threading.Timer(2.0, os._exit, (EXIT_FAILED,))
            timer.daemon = True
            timer.start()
            return


def interactive(script: str, args: list[str], fd: int, out: str, detail: str = "full", overhead: float = 0.10,
                break_on: list[str] | None = None, paused: bool = True, parent: int = 0) -> int:
    """Run `script` under the tracer, driven by commands on socket `fd`, recording into `out`."""
    from core.control import Stepper
    from core.recording import RecordingWriter
    from core.tracer import Tracer

    die_with_parent(parent)
    sock = socket.socket(fileno=fd)
    outbox = Outbox(sock)
    control = Stepper(outbox.emit, break_on or [], paused=paused)
    if detail == "auto" and any(c[0] == "nonfinite" for c in control.conditions):
        detail = "full"
    writer = RecordingWriter(out, {"script": os.path.abspath(script), "argv": args, "detail": detail})
    tees = [Tee(sys.stdout, "stdout", echo=False, listener=outbox.console),
            Tee(sys.stderr, "stderr", echo=False, listener=outbox.console)]
    sys.stdout, sys.stderr = tees

    def sink(it) -> None:
        drain_console(tees, writer)
        writer.add_iteration(it)

    tracer = Tracer(sink, detail=detail, overhead=overhead, control=control)
    control.attach(tracer, writer)
    running = threading.Event()
    running.set()
    threading.Thread(target=read_commands, args=(sock, control, outbox, running), daemon=True,
                     name="backprop-studio-commands").start()
    outbox.emit("started", {"script": os.path.abspath(script), "argv": list(args), "pid": os.getpid(),
                            "record": os.path.abspath(out)})
    status, error, brk, code = execute(script, args, tracer, tees)
    running.clear()
    ignore_interrupts()
    try:
        control.finish()
    except Exception:  # noqa: BLE001 - the last update check is best effort
        pass
    if status == "stopped" and brk is None:
        brk = control.last_break
    if error:
        outbox.emit("error", error)
    drain_console(tees, writer)
    writer.close(status, error, brk)
    outbox.emit("finished", {"status": status, "error": error, "break": brk, "exit_code": code})
    outbox.close()
    sock.close()
    return code
