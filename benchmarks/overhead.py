"""Tracing overhead in one process: plain and traced training steps alternate, min of rounds.

The tracer is installed and removed around each traced block (the sink a no-op, or a RecordingWriter
for the lines that say so), so plain and traced steps see the same warm caches, the same allocator
state and the same machine load.
"""

from __future__ import annotations

import os
import tempfile
import time

from benchmarks.common import emit, line, per_call
from benchmarks.models import training_step

TARGETS = {("mlp20", "light"): 1.03, ("mlp20", "auto"): 1.10}
MODELS = {"mlp20": "20-layer MLP", "cnn": "small CNN", "transformer": "transformer encoder"}


def ratios(model: str, details: tuple[str, ...], rounds: int, block_seconds: float,
           recording: bool = False) -> tuple[dict[str, float], float, dict[str, float]]:
    """{detail: traced/plain step time}, the plain step time, and the share of full iterations.

    One Tracer per detail level lives through all rounds and is installed only around its own
    blocks; the auto budget's clock skips the time it was not installed, so `auto` behaves as in one
    long traced run (its first, full, iteration amortised as in real training).
    """
    from core.recording import RecordingWriter
    from core.tracer import Tracer

    step = training_step(model)
    for _ in range(5):
        step()
    calls = max(10, int(block_seconds / per_call(step, 5)))
    best = dict.fromkeys(("plain", *details), float("inf"))
    seen: dict[str, list] = {d: [] for d in details}
    with tempfile.TemporaryDirectory() as tmp:
        writers = {d: RecordingWriter(os.path.join(tmp, f"{d}.bps")) if recording else None for d in details}

        def sink_for(d):
            def sink(it):
                seen[d].append(it.detail)
                if writers[d] is not None:
                    writers[d].add_iteration(it)
            return sink

        tracers = {d: Tracer(sink_for(d), detail=d) for d in details}
        away = dict.fromkeys(details, time.perf_counter())
        for _ in range(rounds):
            best["plain"] = min(best["plain"], per_call(step, calls))
            for d in details:
                tracer = tracers[d]
                tracer.budget.started += time.perf_counter() - away[d]
                tracer.install()
                try:
                    best[d] = min(best[d], per_call(step, calls))
                finally:
                    tracer.uninstall()
                    away[d] = time.perf_counter()
        for w in writers.values():
            if w is not None:
                w.close("finished")
    share = {d: seen[d].count("full") / max(len(seen[d]), 1) for d in details}
    return {d: best[d] / best["plain"] for d in details}, best["plain"], share


def breakdown(steps: int = 60) -> str:
    """Where a light iteration's time goes on the 20-layer MLP (the profile behind the light figure)."""
    import torch

    from core import graph, naming, stats
    from core.tracer import Tracer

    spent: dict[str, float] = dict.fromkeys(("walk", "names", "norms", "_foreach_norm"), 0.0)
    patched = []

    def timed(owner, attr: str, label: str) -> None:
        real = getattr(owner, attr)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - t

        patched.append((owner, attr, real))
        setattr(owner, attr, wrapper)

    for owner, attr, label in ((graph, "walk", "walk"), (naming, "frame_names", "names"),
                               (graph, "annotate", "names"), (stats.Batch, "finish", "norms"),
                               (stats.Batch, "add", "norms"), (torch, "_foreach_norm", "_foreach_norm")):
        timed(owner, attr, label)
    step = training_step("mlp20")
    its = []
    tracer = Tracer(its.append, detail="light")
    try:
        for _ in range(5):
            step()
        plain = min(per_call(step, steps // 3) for _ in range(3))
        tracer.install()
        step()
        its.clear()
        for k in spent:
            spent[k] = 0.0
        traced = per_call(step, steps)
    finally:
        tracer.uninstall()
        for owner, attr, real in reversed(patched):
            setattr(owner, attr, real)
    n = len(its)
    own = sum(it.phase_times.get("backward", 0.0) for it in its) / n
    parts = {k: v / n * 1e3 for k, v in spent.items()}
    rest = (traced - plain) * 1e3 - parts["walk"] - parts["names"] - parts["norms"]
    return (f"step {plain * 1e3:.2f} ms plain, {traced * 1e3:.2f} ms traced (backward itself {own * 1e3:.2f} ms); "
            f"walk {parts['walk']:.2f} ms, names {parts['names']:.2f} ms, gradient norms {parts['norms']:.2f} ms "
            f"(_foreach_norm {parts['_foreach_norm']:.2f} ms), everything else {rest:.2f} ms")


def run(quick: bool = False) -> None:
    rounds, block = (3, 0.25) if quick else (7, 0.5)
    for model, name in MODELS.items():
        r, plain, share = ratios(model, ("light", "auto", "full"), rounds, block)
        for detail in ("light", "auto", "full"):
            target = TARGETS.get((model, detail))
            extra = f", {share[detail]:.0%} of iterations full" if detail == "auto" else ""
            emit(line(f"tracing overhead, {name}, detail {detail}",
                      f"{r[detail]:.3f}x (plain step {plain * 1e3:.2f} ms{extra})",
                      f"<= {target:.2f}x" if target else "report", r[detail] <= target if target else None))
    emit(line("light detail, where the time goes (20-layer MLP, per iteration)", breakdown(), "report", None))
    r, plain, _ = ratios("mlp20", ("light", "auto"), rounds, block, recording=True)
    for detail in ("light", "auto"):
        emit(line(f"tracing overhead with a RecordingWriter sink, 20-layer MLP, detail {detail}",
                  f"{r[detail]:.3f}x (plain step {plain * 1e3:.2f} ms)", "report", None))
