"""Child entry point: run the user's script as __main__ under the tracer.

    python -c BOOT --record OUT.bps [--detail auto] [--break-on COND]... -- SCRIPT.py [ARGS...]

Exit codes: 0 finished, 1 failed, 3 stopped at a breakpoint.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import threading
import traceback

from core import naming

EXIT_OK, EXIT_FAILED, EXIT_BREAK = 0, 1, 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = f"import sys; sys.path.append({ROOT!r}); from core.runner import main; sys.exit(main())"


def child_command(python: str, options: list[str], script: str, args: list[str]) -> list[str]:
    """The command line that runs `script` under the tracer in a fresh interpreter."""
    return [python, "-c", BOOT, *options, "--", script, *args]


class Tee:
    """Passes a stream through and keeps a copy for the recording (thread-safe)."""

    def __init__(self, stream, name: str):
        self.stream = stream
        self.name = name
        self.pending: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.pending.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
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
    opts = p.parse_args(argv[:cut])
    script, args = argv[cut + 1], argv[cut + 2:]
    return record(script, args, opts.record, opts.detail, opts.overhead, opts.break_on)


def record(script: str, args: list[str], out: str, detail: str = "auto", overhead: float = 0.10,
           break_on: list[str] | None = None) -> int:
    """Trace `script` into the recording `out`; the exit code says how it ended."""
    from core.control import BreakHit, Breakpoints
    from core.recording import RecordingWriter
    from core.tracer import Tracer

    writer = RecordingWriter(out, {"script": os.path.abspath(script), "argv": args, "detail": detail})
    tees = [Tee(sys.stdout, "stdout"), Tee(sys.stderr, "stderr")]
    sys.stdout, sys.stderr = tees

    def drain() -> None:
        for t in tees:
            text = t.drain()
            if text:
                writer.add_console(t.name, text)

    def sink(it) -> None:
        drain()
        writer.add_iteration(it)

    control = Breakpoints(break_on or [])
    if control.needs_full and detail == "auto":
        detail = "full"  # naming the first non-finite op needs every op's forward value
    tracer = Tracer(sink, detail=detail, overhead=overhead, control=control)
    status, error, brk, code = "finished", None, None, EXIT_OK
    tracer.install()
    try:
        run_script(script, args)
    except BreakHit as hit:
        status, brk, code = "stopped", hit.info, EXIT_BREAK
    except SystemExit as e:
        if e.code not in (None, 0):
            status, error, code = "failed", error_info(e, script), EXIT_FAILED
    except KeyboardInterrupt:
        status, code = "stopped", EXIT_FAILED
    except BaseException as e:  # noqa: BLE001 - any script failure is a result, not our crash
        status, error, code = "failed", error_info(e, script), EXIT_FAILED
        print_user_traceback(e)
    finally:
        tracer.uninstall()
        sys.stdout, sys.stderr = tees[0].stream, tees[1].stream
    drain()
    writer.close(status, error, brk)
    if error:
        where = f"{error['file']}:{error['line']}" if error["line"] else error["file"]
        print(f"backprop-studio: {error['type']}: {error['message']} ({where})", file=sys.stderr)
    if brk:
        print(f"backprop-studio: break: {brk['reason']} at iteration {brk['iteration']}"
              f" node {brk.get('node')} {brk.get('op') or ''} {brk.get('name') or ''}"
              f" ({brk.get('source') or 'source unknown'})", file=sys.stderr)
    return code
