"""Tracing overhead in one process: plain and traced training steps alternate, min of rounds.

The tracer is installed and removed around each traced block (a fresh Tracer each time, the
recording sink a no-op or a RecordingWriter), so plain and traced steps see the same warm caches,
the same allocator state and the same machine load.
"""

from __future__ import annotations

import os
import tempfile

from benchmarks.common import emit, line, per_call
from benchmarks.models import training_step

TARGETS = {("mlp20", "light"): 1.03, ("mlp20", "auto"): 1.10}
MODELS = {"mlp20": "20-layer MLP", "cnn": "small CNN", "transformer": "transformer encoder"}


def ratios(model: str, details: tuple[str, ...], rounds: int, block_seconds: float,
           recording: bool = False) -> tuple[dict[str, float], float, dict[str, float]]:
    """{detail: traced/plain step time}, the plain step time, and the share of full iterations."""
    from core.recording import RecordingWriter
    from core.tracer import Tracer

    step = training_step(model)
    for _ in range(5):
        step()
    calls = max(10, int(block_seconds / per_call(step, 5)))
    best = dict.fromkeys(("plain", *details), float("inf"))
    full_share = dict.fromkeys(details, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for mode in ("plain", *details):
                if mode == "plain":
                    best[mode] = min(best[mode], per_call(step, calls))
                    continue
                writer = RecordingWriter(os.path.join(tmp, f"{mode}{r}.bps")) if recording else None
                seen = []

                def sink(it, seen=seen, writer=writer):
                    seen.append(it.detail)
                    if writer is not None:
                        writer.add_iteration(it)

                tracer = Tracer(sink, detail=mode)
                tracer.install()
                try:
                    best[mode] = min(best[mode], per_call(step, calls))
                finally:
                    tracer.uninstall()
                    if writer is not None:
                        writer.close("finished")
                full_share[mode] = max(full_share[mode], seen.count("full") / max(len(seen), 1))
    return {d: best[d] / best["plain"] for d in details}, best["plain"], full_share


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
    r, plain, _ = ratios("mlp20", ("light", "auto"), rounds, block, recording=True)
    for detail in ("light", "auto"):
        emit(line(f"tracing overhead with a RecordingWriter sink, 20-layer MLP, detail {detail}",
                  f"{r[detail]:.3f}x (plain step {plain * 1e3:.2f} ms)", "report", None))
