"""Backprop Studio benchmarks (issue 8): one line per measure, `measure: figure (target: X) MET|MISSED`.

    .venv/bin/python benchmarks/run.py [--quick] [--only overhead|extraction|layouts|processes|notebook|doctor ...]

Every ratio compares two things measured side by side in the same run (min of several runs).
Each group runs in its own child process. Run it alone on the machine: a second torch-heavy
process on 2 cores makes every figure meaningless.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUPS = ("overhead", "extraction", "layouts", "gui", "processes", "transfers", "peers", "notebook", "doctor")


def transfers(quick: bool = False) -> None:
    """Host transfers per traced iteration, counted (the CUDA promise, checked on CPU)."""
    from backprop_studio.core.trace import stats
    from backprop_studio.core.trace.tracer import Tracer
    from benchmarks.common import emit, line
    from benchmarks.models import training_step

    step = training_step("mlp20")
    for detail in ("light", "full"):
        its = []
        tracer = Tracer(its.append, detail=detail)
        before = stats.host_transfers
        tracer.install()
        try:
            for _ in range(5):
                step()
        finally:
            tracer.uninstall()
        per = (stats.host_transfers - before) / len(its)
        emit(line(f"host transfers per iteration, 20-layer MLP, detail {detail}", f"{per:.2f}", "1 per device",
                  per == 1.0))


def child(group: str, quick: bool) -> None:
    sys.path.insert(0, ROOT)
    import benchmarks  # noqa: F401 - registers this checkout as backprop_studio
    if group == "transfers":
        transfers(quick)
        return
    importlib.import_module(f"benchmarks.{group}").run(quick)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer rounds and sizes (a smoke run, not the figures)")
    p.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    p.add_argument("--child", choices=GROUPS, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(a.child, a.quick)
        return 0
    started = time.perf_counter()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ROOT}
    failed = 0
    for group in a.only:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", group] + (["--quick"] if a.quick else [])
        done = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            failed += 1
            tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
            print(f"{group}: benchmark group failed ({tail[0]}) MISSED", flush=True)
    total = time.perf_counter() - started
    print(f"whole benchmark run: {total / 60:.1f} min (target: < 10 min) {'MET' if total < 600 else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
