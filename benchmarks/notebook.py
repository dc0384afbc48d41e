"""Notebooks: `trace()` with its live view against `record`, on the 20-layer MLP, in one process.

Blocks of plain steps, steps traced the way `record` traces (core/session/runner.Recorder, writing its
.bps) and steps traced by a notebook's `trace()` (the same Recorder writing another .bps, plus the view
that follows that file on a thread: reading it, drawing new structures, the doctor, pushing to a widget)
alternate in a shuffled order; each side's tracer is installed only around its own blocks.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile

from benchmarks.common import emit, line, per_call
from benchmarks.models import training_step


def run(quick: bool = False) -> None:
    from backprop_studio.core.notebook.trace import Run
    from backprop_studio.core.notebook.view import run_widget
    from backprop_studio.core.session.runner import Recorder

    seconds = 6 if quick else 40
    step = training_step("mlp20")
    for _ in range(5):
        step()
    plain_step = per_call(step, 5)
    block = 4
    cycles = max(10, int(seconds / (plain_step * (block + 1) * 4)))  # traced steps cost more than plain
    times: dict[str, list[float]] = {"plain": [], "record": [], "trace": []}
    streams = sys.stdout, sys.stderr
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(os.path.join(tmp, "record.bps"), {"script": "benchmark", "argv": []})
        notebook = Run(os.path.join(tmp, "trace.bps"), "auto", 0.10, []).start(show=False)
        notebook._recorder.tracer.uninstall()  # installed below around its own blocks only
        view = run_widget(notebook.path, follow=True)
        tracers = {"record": recorder.tracer, "trace": notebook._recorder.tracer}
        order = random.Random(0)
        for _ in range(cycles):
            for side in order.sample(["plain", "record", "trace"], 3):
                tracer = tracers.get(side)
                if tracer is not None:
                    tracer.install()
                try:
                    step()  # not counted: the first step after a switch
                    times[side].extend(per_call(step, 1) for _ in range(block))
                finally:
                    if tracer is not None:
                        tracer.uninstall()
        notebook.stop(None)
        sys.stdout, sys.stderr = streams
        recorder.close("finished", None, None)
        view.follower.finish()
        board = view.board
    plain = sum(times["plain"])
    r, t = sum(times["record"]) / plain, sum(times["trace"]) / plain
    emit(line("trace() with its live view vs record, 20-layer MLP, detail auto",
              f"record {r:.3f}x, trace() {t:.3f}x plain (trace/record {t / r:.3f}; plain step "
              f"{plain_step * 1e3:.2f} ms; the view read {board.state()['count']} iterations, "
              f"{len(board.graphs)} graph(s))", "trace/record <= 1.05", t / r <= 1.05))
