"""Shared helpers: result lines, timing, child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable


def line(measure: str, figure: str, target: str, ok: bool | None) -> str:
    """One result line: `measure: figure (target: X) MET|MISSED` (REPORTED when there is no target)."""
    verdict = "REPORTED" if ok is None else ("MET" if ok else "MISSED")
    return f"{measure}: {figure} (target: {target}) {verdict}"


def emit(text: str) -> None:
    print(text, flush=True)


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Mean seconds per call of `fn` over `calls` calls."""
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t) / calls


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Least wall time of `repeats` calls of `fn` (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run_child(args: list[str], cwd: str | None = None, timeout: float = 600,
              env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Run a command to the end; (wall seconds, completed process)."""
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    t = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)
    return time.perf_counter() - t, done


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for row in f:
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    return float("nan")
