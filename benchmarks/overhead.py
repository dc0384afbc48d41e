"""Tracing overhead in one process: plain and traced training steps alternate one by one.

The tracer is installed and removed around each traced block (the sink a no-op, or a RecordingWriter
for the lines that say so), so plain and traced steps see the same warm caches, the same allocator
state and the same machine load.
"""

from __future__ import annotations

import os
import random
import tempfile
import time

from benchmarks.common import emit, line, per_call
from benchmarks.models import training_step

MODELS = {"mlp20": "20-layer MLP", "cnn": "small CNN", "transformer": "transformer encoder"}
# issue 25: full detail <= 2x everywhere; light (and auto) <= 1.10x where one pass over the gradients is
# small against a step; on the MLP (1.3M parameters, ~15 % of a step for that pass alone) light is held
# to its floor instead (FLOOR_TARGET, measured by breakdown())
TARGETS = {**{(m, "full"): 2.0 for m in MODELS}, **{(m, d): 1.10 for m in ("cnn", "transformer") for d in ("light", "auto")}}
FLOOR_TARGET = 1.3


def ratios(model: str, details: tuple[str, ...], seconds: float,
           recording: bool = False) -> tuple[dict[str, float], float, dict[str, float], dict[str, str]]:
    """{detail: traced/plain step time}, the plain step time, the share of full iterations, and
    "N/M": how many of the M iterations traced per detail level kept a graph.

    Short blocks alternate: plain steps, then traced steps per detail level, in a shuffled order,
    again and again for about `seconds`; each block's first step (after a switch, on caches the
    previous block left) is not counted. The ratio is total traced time over total plain time.
    Alternating in short blocks, the machine's slow drifts (a shared VM whose speed wanders by 30%
    over seconds) hit both sides alike; totals, not medians, because auto mixes cheap and dear
    iterations.
    One Tracer per detail level lives through the whole run and is installed only around its own
    steps; the auto budget counts only the iterations it traced, so `auto` behaves as in one long
    traced run (its first, full, iteration amortised as in real training).
    """
    import statistics

    from backprop_studio.core.recording.store import RecordingWriter
    from backprop_studio.core.trace.tracer import Tracer

    step = training_step(model)
    for _ in range(5):
        step()
    plain_step = per_call(step, 5)
    block = 4  # measured steps per block, after one step not counted
    cycles = max(10, int(seconds / (plain_step * (block + 1) * (1 + 3 * len(details)))))
    order = random.Random(0)
    seen: dict[str, list] = {d: [] for d in details}
    times: dict[str, list[float]] = {d: [] for d in ("plain", *details)}
    with tempfile.TemporaryDirectory() as tmp:
        writers = {d: RecordingWriter(os.path.join(tmp, f"{d}.bps")) if recording else None for d in details}

        def sink_for(d):
            def sink(it):
                seen[d].append(it.detail if it.graph.number_of_nodes() else "none")
                if writers[d] is not None:
                    writers[d].add_iteration(it)
            return sink

        tracers = {d: Tracer(sink_for(d), detail=d) for d in details}
        def measure(into: list) -> None:
            step()
            into.extend(per_call(step, 1) for _ in range(block))

        for _ in range(cycles):
            for d in order.sample(["plain", *details], 1 + len(details)):
                if d == "plain":
                    measure(times["plain"])
                    continue
                tracer = tracers[d]
                tracer.install()
                try:
                    measure(times[d])
                finally:
                    tracer.uninstall()
        for w in writers.values():
            if w is not None:
                w.close("finished")
    share = {d: seen[d].count("full") / max(len(seen[d]), 1) for d in details}
    graphs = {d: f"{len(seen[d]) - seen[d].count('none')}/{len(seen[d])}" for d in details}
    plain = times["plain"]
    r = {d: sum(times[d]) / sum(plain) for d in details}
    return r, statistics.median(plain), share, graphs


def breakdown(repeats: int = 40) -> tuple[str, float]:
    """Where a light iteration's time goes on the 20-layer MLP: each part timed on its own, on fresh
    graphs and fresh gradients (median of `repeats`), and the tracer's whole own time per iteration;
    and that time over its floor: a bare walk of the graph (benchmarks.extraction.bare_walk) plus one
    fused pass over the gradients (one _foreach_norm, one host read), measured beside it."""
    import statistics
    import sys

    import torch
    from torch import nn

    from backprop_studio.core.trace import graph, naming, stats
    from backprop_studio.core.trace import tracer as tracer_mod
    from benchmarks.extraction import bare_walk
    from benchmarks.models import mlp

    torch.manual_seed(0)
    model = mlp()
    x, y = torch.randn(64, 256), torch.randn(64, 256)
    names = naming.Names()
    names.register_root(model)
    frame = sys._getframe()
    known = graph.Structures()
    parts: dict[str, list[float]] = {"forward": [], "walk": [], "names": [], "norms": [], "floor": []}
    for _ in range(repeats):
        model.zero_grad()
        t0 = time.perf_counter()
        loss = nn.functional.mse_loss(model(x), y)
        t1 = time.perf_counter()
        w = graph.bare_walk([loss.grad_fn])
        s = known.get(w.key)
        t2 = time.perf_counter()
        if s is None:
            edges = graph.build(w)
            by_tensor, by_fn = naming.frame_names(frame)
            known.put(w.key, graph.Structure.of(w, graph.annotate(w, names, by_tensor, by_fn, {}, {}),
                                                edges))
        else:
            graph.build(w, s)
            s.instance({})
        t3 = time.perf_counter()
        loss.backward()
        t4 = time.perf_counter()
        batch = stats.Batch(light=True)
        for p in model.parameters():
            batch.add(p.grad)
        batch.finish([loss.detach()])
        t5 = time.perf_counter()
        model.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        t6 = time.perf_counter()
        bare_walk(loss.grad_fn)
        t7 = time.perf_counter()
        loss.backward()
        t8 = time.perf_counter()
        torch.stack(torch._foreach_norm([p.grad for p in model.parameters()])).tolist()
        parts["floor"].append(time.perf_counter() - t8 + t7 - t6)
        for key, v in (("forward", t1 - t0), ("walk", t2 - t1), ("names", t3 - t2), ("norms", t5 - t4)):
            parts[key].append(v)
    parts.pop("forward")
    forwards: dict[bool, list[float]] = {False: [], True: []}
    own: list[float] = []
    real = tracer_mod.Tracer._iteration

    def timed_iteration(self, roots, run, grad_inputs):
        box = [0.0]

        def timed_run():
            t = time.perf_counter()
            try:
                return run()
            finally:
                box[0] = time.perf_counter() - t

        t = time.perf_counter()
        try:
            return real(self, roots, timed_run, grad_inputs)
        finally:
            own.append(time.perf_counter() - t - box[0])

    tracer_mod.Tracer._iteration = timed_iteration
    tracer = tracer_mod.Tracer(lambda it: None, detail="light")
    try:
        for r in range(2 * repeats):  # traced and plain forwards alternate
            traced = r % 2 == 1
            if traced:
                tracer.install()
            model.zero_grad()
            t0 = time.perf_counter()
            loss = nn.functional.mse_loss(model(x), y)
            forwards[traced].append(time.perf_counter() - t0)
            loss.backward()
            if traced:
                tracer.uninstall()
    finally:
        tracer.uninstall()
        tracer_mod.Tracer._iteration = real
    ms = {k: min(v) * 1e3 for k, v in parts.items()}
    wrapper = max(min(forwards[True]) - min(forwards[False]), 0.0) * 1e3
    mine = min(own) * 1e3 + wrapper
    text = (f"tracer's time per iteration {mine:.2f} ms (own {min(own) * 1e3:.2f} ms, median "
            f"{statistics.median(own) * 1e3:.2f}; module-call wrapper {wrapper:.2f} ms per forward); alone on "
            f"fresh graphs of a repeated structure: walk {ms['walk']:.2f} ms, recognised and shared "
            f"{ms['names']:.2f} ms, gradient norms (the NaN/Inf check) of 1.3M parameters {ms['norms']:.2f} ms; "
            f"floor (bare walk + one _foreach_norm pass) {ms['floor']:.2f} ms (minima)")
    return text, mine / ms["floor"]


def full_breakdown(model: str, rounds: int = 30) -> str:
    """Where a full iteration's extra time goes on `model`: each part clocked inside the real tracer (medians
    over `rounds` traced steps); the forward's and the backward's own slow-down from traced and plain steps
    alternating."""
    import statistics

    import torch

    from backprop_studio.core.trace import backward, stats
    from backprop_studio.core.trace import tracer as tracer_mod
    from benchmarks.models import build

    net, x, loss_of = build(model)
    opt = torch.optim.SGD(net.parameters(), lr=1e-4)
    clocks: dict[str, list[float]] = {}
    batch: list[tuple[int, int]] = []  # (tensors, elements) of each full batch

    def clock(label: str, orig):
        def timed(*args, **kwargs):
            if label == "stats":
                items = args[0]._items
                batch.append((len(items), sum(t.numel() for _, t, _ in items if t is not None)))
            t = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                clocks.setdefault(label, []).append(time.perf_counter() - t)
        return timed

    def around(self, roots, run, grad_inputs):  # the backward itself, apart from the tracer's own work
        def timed_run():
            t = time.perf_counter()
            try:
                return run()
            finally:
                clocks.setdefault("backward", []).append(time.perf_counter() - t)
        return clock("iteration", real["_iteration"])(self, roots, timed_run, grad_inputs)

    def charge(self, detail, end, own):
        clocks.setdefault("wrapper", []).append(self.wrapper_time)
        return real["_charge"](self, detail, end, own)

    owners = {"_walk": tracer_mod.Tracer, "watch_full": backward.Backward, "finish": stats.Batch,
              "_finish": tracer_mod.Tracer, "_iteration": tracer_mod.Tracer, "_charge": tracer_mod.Tracer}
    real = {name: getattr(owner, name) for name, owner in owners.items()}
    tracer = tracer_mod.Tracer(lambda it: None, detail="full")
    plain: dict[str, list[float]] = {"forward": [], "backward": []}
    try:
        for name, label in (("_walk", "walk"), ("watch_full", "queue"), ("finish", "stats"), ("_finish", "finish")):
            setattr(owners[name], name, clock(label, real[name]))
        tracer_mod.Tracer._iteration, tracer_mod.Tracer._charge = around, charge
        for r in range(2 * rounds + 4):  # traced and plain steps alternate; the first four warm up
            traced = r % 2 == 1
            if traced:
                tracer.install()
            try:
                opt.zero_grad()
                t0 = time.perf_counter()
                loss = loss_of(net(x))
                t1 = time.perf_counter()
                loss.backward()
                t2 = time.perf_counter()
                opt.step()
            finally:
                if traced:
                    tracer.uninstall()
            if r >= 4:
                if traced:
                    clocks.setdefault("forward", []).append(t1 - t0)
                else:
                    plain["forward"].append(t1 - t0)
                    plain["backward"].append(t2 - t1)
    finally:
        for name, owner in owners.items():
            setattr(owner, name, real[name])
    ms = {k: statistics.median(v[-rounds:]) * 1e3 for k, v in clocks.items()}
    base = {k: statistics.median(v) * 1e3 for k, v in plain.items()}
    tensors, elements = batch[-1]
    own = ms["iteration"] - ms["backward"]
    other = own - ms["walk"] - ms["queue"] - ms["finish"]
    return (f"forward with the capture +{ms['forward'] - base['forward']:.2f} ms (module-call wrapper "
            f"{ms['wrapper']:.2f} of it), backward with its hooks +{ms['backward'] - base['backward']:.2f} ms; "
            f"the tracer's own {own:.2f} ms: walk {ms['walk']:.2f}, values queued and hooks set {ms['queue']:.2f}, "
            f"statistics of {tensors} tensors ({elements / 1e6:.1f}M elements, one transfer) {ms['stats']:.2f}, "
            f"graph, parameter rows and the NaN/Inf rule {ms['finish'] - ms['stats']:.2f}, the rest {other:.2f} "
            f"(plain forward {base['forward']:.2f} ms, backward {base['backward']:.2f} ms; medians)")


def run(quick: bool = False) -> None:
    seconds = 4 if quick else 25
    for model, name in MODELS.items():
        r, plain, share, graphs = ratios(model, ("light", "auto", "full"), seconds)
        for detail in ("light", "auto", "full"):
            target = TARGETS.get((model, detail))
            extra = f", {share[detail]:.0%} of iterations full" if detail == "auto" else ""
            emit(line(f"tracing overhead, {name}, detail {detail}",
                      f"{r[detail]:.3f}x (plain step {plain * 1e3:.2f} ms{extra}; graphs {graphs[detail]})",
                      f"<= {target:.2f}x, every graph" if target else "report, every graph",
                      (r[detail] <= target if target else True) and _every(graphs[detail])))
    for model, name in MODELS.items():
        emit(line(f"full detail, where the time goes ({name}, per iteration)", full_breakdown(model, 10 if quick else 30),
                  "report", None))
    text, over_floor = breakdown()
    emit(line("light detail, where the time goes (20-layer MLP, per iteration)", text, "report", None))
    emit(line("light detail, 20-layer MLP: the tracer's time over its floor (bare walk + one fused pass over "
              "the gradients, beside it)", f"{over_floor:.2f}x", f"<= {FLOOR_TARGET:g}x", over_floor <= FLOOR_TARGET))
    r, plain, _, graphs = ratios("mlp20", ("light", "auto"), seconds, recording=True)
    for detail in ("light", "auto"):
        emit(line(f"tracing overhead with a RecordingWriter sink, 20-layer MLP, detail {detail}",
                  f"{r[detail]:.3f}x (plain step {plain * 1e3:.2f} ms; graphs {graphs[detail]})", "report", None))


def _every(graphs: str) -> bool:
    kept, total = graphs.split("/")
    return kept == total
