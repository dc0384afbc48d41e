"""Running a script in a child process: headless recording (and, later, interactive sessions)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from core.recording import Recording, RecordingError, mark_status
from core.runner import EXIT_FAILED, child_command


def record_in_child(script: str, args: list[str], out: str, detail: str = "auto", overhead: float = 0.10,
                    break_on: list[str] | None = None, python: str | None = None) -> int:
    """Trace `script` in a child process into `out`; returns 0 finished, 1 failed, 3 breakpoint."""
    options = ["--record", os.path.abspath(out), "--detail", detail, "--overhead", str(overhead)]
    for cond in break_on or []:
        options += ["--break-on", cond]
    cmd = child_command(python or sys.executable, options, script, args)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env)
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
        name = signal.Signals(-code).name
        status = "stopped" if -code in (signal.SIGINT, signal.SIGTERM) else "failed"
        error = None if status == "stopped" else {"type": name, "message": f"child process killed by {name}",
                                                  "file": os.path.abspath(script), "line": None}
        try:
            mark_status(out, status, error)
        except Exception as e:  # noqa: BLE001 - report, the recording may not exist
            print(f"backprop-studio: could not finish {out}: {e}", file=sys.stderr)
        print(f"backprop-studio: the run was {'stopped' if status == 'stopped' else 'killed'} ({name})",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        Recording(out).close()
    except RecordingError as e:
        print(f"backprop-studio: {e}", file=sys.stderr)
        return EXIT_FAILED
    return code
