"""How a traced child is started: its command line, options, environment, and what its exit code means."""

from __future__ import annotations

import enum
import os

from ..boot import python_command
from ..conditions import parse_condition
from ..iteration import DETAILS

RUNNER = "core.session.runner"  # the traced child's entry point (its main())


class ExitCode(enum.IntEnum):
    """Exit codes of `record`, the runner and the command line."""
    OK = 0  # the script finished
    FAILED = 1  # the script failed or was stopped, or a file could not be read
    USAGE = 2  # the command line was wrong
    BREAK = 3  # a breakpoint stopped the script
    FINDINGS = 4  # doctor: a warning or an error found


def check_options(script: str, detail: str, break_on: list[str]) -> None:
    """ValueError with a clear message for a run that could not start."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {DETAILS}, not {detail!r}")
    for cond in break_on:
        parse_condition(cond)  # ValueError with a clear message
    if not os.path.isfile(script):
        raise ValueError(f"{script}: no such script")


def runner_options(record: str, detail: str, overhead: float, break_on: list[str], paused: bool = False) -> list[str]:
    """The runner's options (a connection, when there is one, is added by the caller)."""
    options = ["--record", record, "--detail", detail, "--overhead", str(overhead)]
    for cond in break_on:
        options += ["--break-on", cond]
    return options + (["--paused"] if paused else [])


def child_command(python: str, options: list[str], script: str, args: list[str]) -> list[str]:
    """The command line that runs `script` under the tracer in a fresh interpreter."""
    return python_command(python, RUNNER, [*options, "--", script, *args])


def child_env() -> dict:
    """The traced child's environment: plotting never blocks, output is not held back."""
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
