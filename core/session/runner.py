"""Child entry point: run the user's script as __main__ under the tracer.

    python -c BOOT --record OUT.bps [--detail auto] [--break-on COND]... -- SCRIPT.py [ARGS...]
    python -c BOOT --record OUT.bps --connect FD [--paused] [--parent PID] ... -- SCRIPT.py [ARGS...]
    ... --distributed --record PARTS/ [--connect-path SOCKET] ... -- SCRIPT.py [ARGS...]   (a torchrun worker)

The first form records headlessly; the second is an interactive session driven over the socket FD
(core/session/session.py is the other end); a torchrun worker records its rank, or with --connect-path connects
to the Unix socket SOCKET and is driven over it (core/distributed/live.py is the other end).
Exit codes: 0 finished, 1 failed or stopped, 3 stopped at a breakpoint.
"""

from __future__ import annotations

import argparse
import datetime
import os
import runpy
import signal
import socket
import sys
import threading
import time
import traceback

from ..iteration import DEFAULT_DETAIL, LIVE_DETAIL
from ..trace import naming
from .launch import ExitCode


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
        return ExitCode.USAGE
    cut = argv.index("--")
    p = argparse.ArgumentParser(prog="backprop-studio-runner")
    p.add_argument("--record", required=True)
    p.add_argument("--detail", default=DEFAULT_DETAIL)
    p.add_argument("--overhead", type=float, default=0.10)
    p.add_argument("--break-on", action="append", default=[])
    p.add_argument("--connect", type=int, default=None, help="socket fd of an interactive session")
    p.add_argument("--connect-path", default=None, help="distributed: Unix socket of a live session")
    p.add_argument("--paused", action="store_true", help="interactive: stop at the first pause point")
    p.add_argument("--parent", type=int, default=0, help="interactive: die with this parent process")
    p.add_argument("--distributed", action="store_true",
                   help="a torchrun worker: --record is a folder, this rank records into its own file there")
    p.add_argument("--collective-timeout", type=float, default=None,
                   help="distributed: seconds a collective may wait (process groups without their own timeout)")
    opts = p.parse_args(argv[:cut])
    script, args = argv[cut + 1], argv[cut + 2:]
    if opts.distributed:
        from .rank import stop_on_sigterm, worker

        try:
            path, rank = worker(opts.record)
        except KeyError as e:
            print(f"runner: --distributed outside torchrun (no {e} in the environment)", file=sys.stderr)
            return ExitCode.USAGE
        stop_on_sigterm()
        if opts.collective_timeout:
            raise_collective_timeout(opts.collective_timeout)
        if opts.connect_path:
            try:
                fd = connect(opts.connect_path)
            except OSError as e:  # the session is gone already
                print(f"runner: cannot connect to {opts.connect_path}: {e}", file=sys.stderr)
                return ExitCode.FAILED
            return interactive(script, args, fd, path, opts.detail, opts.overhead, opts.break_on, opts.paused,
                               os.getppid(), rank)
        return record(script, args, path, opts.detail, opts.overhead, opts.break_on, rank)
    if opts.connect is not None:
        return interactive(script, args, opts.connect, opts.record, opts.detail, opts.overhead,
                           opts.break_on, opts.paused, opts.parent)
    return record(script, args, opts.record, opts.detail, opts.overhead, opts.break_on)


def raise_collective_timeout(seconds: float) -> None:
    """Process groups created without an explicit timeout wait `seconds` in a collective (torch's default
    is 30 min for gloo, 10 min for NCCL): a rank paused in a live session then never times the others out.
    An explicit `timeout=` in the script is the user's choice and stays."""
    from torch.distributed import distributed_c10d as c10d

    c10d.default_pg_timeout = c10d.default_pg_nccl_timeout = datetime.timedelta(seconds=seconds)


def execute(script: str, args: list[str], tracer, tees: list[Tee]) -> tuple[str, dict | None, dict | None, int, float]:
    """Run `script` under `tracer`: (status, error, break, exit code, when it ended); the tracer is removed
    after. The end is taken as the script stops, before any cleanup: of a distributed job's failing ranks,
    the one that failed first ended first (its peers fail after it), whichever finishes its file first."""
    from ..trace.control import BreakHit, StopRun

    status, error, brk, code = "finished", None, None, ExitCode.OK
    tracer.install()
    try:
        run_script(script, args)
    except BreakHit as hit:
        status, brk, code = "stopped", hit.info, ExitCode.BREAK
    except (StopRun, KeyboardInterrupt):
        status, code = "stopped", ExitCode.FAILED
    except SystemExit as e:
        if e.code not in (None, 0):
            status, error, code = "failed", error_info(e, script), ExitCode.FAILED
    except BaseException as e:  # noqa: BLE001 - any script failure is a result, not our crash
        status, error, code = "failed", error_info(e, script), ExitCode.FAILED
        print_user_traceback(e)
    finally:
        ended = time.time()
        tracer.uninstall()
        sys.stdout, sys.stderr = tees[0].stream, tees[1].stream
    return status, error, brk, code, ended


def report(error: dict | None, brk: dict | None) -> None:
    """One line on stderr for a failure or a breakpoint."""
    if error:
        where = f"{error['file']}:{error['line']}" if error["line"] else error["file"]
        print(f"backprop-studio: {error['type']}: {error['message']} ({where})", file=sys.stderr)
    if brk:
        print(f"backprop-studio: break: {brk['reason']} at iteration {brk['iteration']}"
              f" node {brk.get('node')} {brk.get('op') or ''} {brk.get('name') or ''}"
              f" ({brk.get('source') or 'source unknown'})", file=sys.stderr)


class Recorder:
    """A headless recording under way: the writer, the console copied into it, the tracer with breakpoints
    (installed by the caller). `record` runs a script under it; a notebook's `trace()` a cell."""

    def __init__(self, out: str, meta: dict, detail: str = DEFAULT_DETAIL, overhead: float = 0.10,
                 break_on: list[str] | None = None, rank: dict | None = None):
        from ..recording.store import RecordingWriter
        from ..trace.control import Breakpoints, detail_for
        from ..trace.tracer import Tracer
        from ..trace.updates import Updates

        self.writer = RecordingWriter(out, {**meta, "detail": detail, **(rank or {})},
                                      rank=(rank or {}).get("rank", 0))
        self.tees = [Tee(sys.stdout, "stdout"), Tee(sys.stderr, "stderr")]
        sys.stdout, sys.stderr = self.tees
        control = Breakpoints(break_on or [])
        self.tracer = Tracer(self._sink, detail=detail_for(detail, control.conditions), overhead=overhead,
                             control=control)
        self.tracer.add_observer(Updates(self.tracer, self.writer, every_step=bool(rank)))

    def _sink(self, it) -> None:
        drain_console(self.tees, self.writer)
        self.writer.add_iteration(it)

    def close(self, status: str, error: dict | None, brk: dict | None, ended: float | None = None) -> None:
        """Finish the file (the tracer is removed and the streams restored already); `ended`: when the
        traced code stopped."""
        drain_console(self.tees, self.writer)
        self.writer.close(status, error, brk, ended)


def record(script: str, args: list[str], out: str, detail: str = DEFAULT_DETAIL, overhead: float = 0.10,
           break_on: list[str] | None = None, rank: dict | None = None) -> int:
    """Trace `script` into the recording `out`; the exit code says how it ended. `rank`: a distributed
    worker's rank, job and whereabouts (core/session/rank.py), kept in the recording."""
    recorder = Recorder(out, {"script": os.path.abspath(script), "argv": args}, detail, overhead, break_on, rank)
    status, error, brk, code, ended = execute(script, args, recorder.tracer, recorder.tees)
    recorder.close(status, error, brk, ended)
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


def connect(path: str) -> int:
    """A connected Unix socket to `path`, as a file descriptor."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock.detach()


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
        os._exit(ExitCode.FAILED)


class Interactive:
    """The child of an interactive session: runs the script, obeys commands, sends events."""

    def __init__(self, script: str, args: list[str], fd: int, out: str, detail: str, overhead: float,
                 break_on: list[str], paused: bool, rank: dict | None = None):
        from ..recording.store import RecordingWriter
        from ..trace.control import Stepper
        from ..trace.tracer import Tracer
        from ..trace.updates import Updates
        from .protocol import Outbox

        self.script, self.args = script, args
        self.sock = socket.socket(fileno=fd)
        self.outbox = Outbox(self.sock)
        # no detail_for here: the app pauses on NaN/Inf by default, and auto already gives the first
        # non-finite loss's iteration full detail; forcing full would trace every app run at 2-8x
        self.control = Stepper(self.outbox.emit, break_on, paused=paused)
        self.out = os.path.abspath(out)
        self.rank = rank or {}  # a torchrun worker's rank and whereabouts (core/session/rank.py)
        self.ended = None  # when the script stopped (execute)
        self.writer = RecordingWriter(self.out, {"script": os.path.abspath(script), "argv": args, "detail": detail,
                                                 **self.rank}, rank=self.rank.get("rank", 0))
        self.tees = [Tee(sys.stdout, "stdout", echo=False, listener=self.outbox.console),
                     Tee(sys.stderr, "stderr", echo=False, listener=self.outbox.console)]
        self.tracer = Tracer(self._sink, detail=detail, overhead=overhead, control=self.control)
        self.updates = Updates(self.tracer, self.writer, self.outbox.emit, lambda: self.control.watching,
                               every_step=bool(self.rank))
        self.tracer.add_observer(self.updates)
        self.control.attach(self.tracer, self.writer, self.updates.name_of)
        self.running = threading.Event()  # the script runs (it may be interrupted)
        self.lock = threading.Lock()  # whoever finishes the recording holds it: the script or a take-over

    def _sink(self, it) -> None:
        with self.lock:
            drain_console(self.tees, self.writer)
            self.writer.add_iteration(it)

    def run(self) -> int:
        os.register_at_fork(after_in_child=self._forked)
        sys.stdout, sys.stderr = self.tees
        self.running.set()
        threading.Thread(target=self._read_commands, daemon=True, name="backprop-studio-commands").start()
        self.outbox.emit("started", {"script": os.path.abspath(self.script), "argv": list(self.args),
                                     "pid": os.getpid(), "record": self.out, **self.rank})
        status, error, brk, code, self.ended = execute(self.script, self.args, self.tracer, self.tees)
        with self.lock:
            self.running.clear()
            ignore_interrupts()
            self.control.finish()
            if status == "stopped" and brk is None:
                brk = self.control.last_break
            if error:
                self.outbox.emit("error", error)
            self._finish(status, error, brk, code)
        return code

    def _finish(self, status: str, error: dict | None, brk: dict | None, code: int) -> None:
        drain_console(self.tees, self.writer)
        self.writer.close(status, error, brk, self.ended)
        self.outbox.emit("finished", {"status": status, "error": error, "break": brk, "exit_code": code})
        self.outbox.close()
        self.sock.close()
        if status == "stopped":  # the user wants it gone: skip the slow interpreter teardown (~0.5 s with torch)
            for t in self.tees:
                t.stream.flush()
            os._exit(code)

    def _take_over(self) -> None:
        """Stop was asked but the script is stuck in C code: finish the recording from this thread."""
        if self.running.is_set() and self.lock.acquire(timeout=0.2):
            if self.running.is_set():  # still stuck (else the script thread finished it meanwhile)
                self._finish("stopped", None, self.control.last_break, ExitCode.FAILED)
            self.lock.release()

    def _stop(self) -> None:
        # a Python loop gets KeyboardInterrupt; C code that does not return is taken over a bit later
        # (the parent kills us at 70 % of its stop timeout)
        if self.running.is_set() and not self.control.blocked:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        timer = threading.Timer(0.3, self._take_over)
        timer.daemon = True
        timer.start()

    def _read_commands(self) -> None:
        """The command thread: apply each command; bad frames become `protocol_error` events."""
        from .protocol import Command, FrameReader, ProtocolError

        reader = FrameReader(Command)
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            for m in reader.feed(data) if data else reader.eof():
                if isinstance(m, ProtocolError):
                    self.outbox.emit("protocol_error", {"message": str(m)})
                    continue
                self.control.command(m.kind, m.args, m.seq)
                if m.kind == "stop":
                    self._stop()
            if not data:  # the parent closed the socket or died: stop, and exit soon whatever happens
                self.control.stop()
                self._stop()
                timer = threading.Timer(2.0, os._exit, (ExitCode.FAILED,))
                timer.daemon = True
                timer.start()
                return

    def _forked(self) -> None:
        """In a worker the script forks (DataLoader): not part of the session."""
        self.control.detach()
        self.updates.detach()
        self.outbox.broken = True
        for t in self.tees:
            t.listener, t.echo = None, True
        os.close(self.sock.detach())


def interactive(script: str, args: list[str], fd: int, out: str, detail: str = LIVE_DETAIL, overhead: float = 0.10,
                break_on: list[str] | None = None, paused: bool = True, parent: int = 0,
                rank: dict | None = None) -> int:
    """Run `script` under the tracer, driven by commands on socket `fd`, recording into `out`."""
    die_with_parent(parent)
    return Interactive(script, args, fd, out, detail, overhead, break_on or [], paused, rank).run()
