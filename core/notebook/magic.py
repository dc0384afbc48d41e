"""`%%trace` for IPython: `%load_ext backprop_studio`, then a cell starting with

    %%trace [-o RUN.bps] [--detail auto|full|light] [--break-on COND]... [--name VAR]

runs under `trace()` and leaves the Run in the variable VAR (default `run`)."""

from __future__ import annotations

import argparse
import shlex

from ..iteration import DETAILS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="%%trace", add_help=False)
    p.add_argument("-o", "--output", default=None)
    p.add_argument("--detail", choices=DETAILS, default="auto")
    p.add_argument("--break-on", action="append", default=[])
    p.add_argument("--name", default="run")
    return p


def trace_cell(shell, line: str, cell: str) -> None:
    """Run `cell` in the user's namespace under trace(); the Run goes into the namespace first, so it is
    there even when the cell fails or is interrupted."""
    from .trace import trace

    try:
        a = _parser().parse_args(shlex.split(line))
    except SystemExit:
        raise ValueError(f"%%trace: bad options {line!r}; use {_parser().format_usage().strip()}") from None
    source = shell.transform_cell(cell)
    code = shell.compile(source, shell.compile.cache(source), "exec")  # tracebacks show the cell's lines
    with trace(a.output, detail=a.detail, break_on=a.break_on) as run:
        shell.user_ns[a.name] = run
        exec(code, shell.user_ns)


def load_ipython_extension(shell) -> None:
    shell.register_magic_function(lambda line, cell: trace_cell(shell, line, cell), "cell", "trace")
