"""Peers side by side (issue 25): the per-step cost of other tools' capture on the benchmark models,
against our light and full detail, measured in the same run and printed as one table.

Each tool watches its own copy of the model (built and seeded alike) and runs in short blocks that
alternate with plain steps in a shuffled order; a ratio is a tool's time per step over the plain time
per step of the same rounds. The peers are an optional extra (`pip install '.[peers]'`); one that is
not installed, or fails to start here, is reported as skipped with the reason.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable

import torch

from benchmarks.common import emit, line
from benchmarks.models import training_step
from benchmarks.overhead import MODELS


class Peer:
    """A tool watching one copy of a model: `forward(loss)` after the forward, `backward(loss)` after it."""

    def forward(self, loss):
        pass

    def backward(self, loss):
        pass


class Torchviz(Peer):
    name = "torchviz make_dot, every step"
    captures = "graph (ops, parameter names); no values, no gradients"

    def __init__(self, model, x):
        from torchviz import make_dot

        self.make_dot, self.params = make_dot, dict(model.named_parameters())

    def forward(self, loss):
        return self.make_dot(loss, params=self.params).source  # the DOT text, as a notebook shows it


class Torchview(Peer):
    name = "torchview draw_graph, every step"
    captures = "module/op graph with shapes, from an extra forward of its own; no values, no gradients"

    def __init__(self, model, x):
        from torchview import draw_graph

        self.draw, self.model, self.x = draw_graph, model, x

    def forward(self, loss):
        return self.draw(self.model, input_data=self.x, expand_nested=True, save_graph=False).visual_graph.source


class TorchLens(Peer):
    name = "TorchLens trace, every step"
    captures = "every op's output tensor, from an extra forward of its own; no gradients"

    def __init__(self, model, x):
        import torchlens

        self.trace, self.model, self.x = torchlens.trace, model, x

    def forward(self, loss):
        self.trace(self.model, self.x)


class Wandb(Peer):
    name = 'wandb.watch(log="all", log_freq=1), offline'
    captures = "histograms of every parameter and gradient, every step; no graph"

    def __init__(self, model, x):
        import wandb

        if wandb.run is None:
            wandb.init(mode="offline", dir=_scratch(), project="peers", settings=wandb.Settings(silent=True))
        wandb.watch(model, log="all", log_freq=1)
        self.log = wandb.log

    def backward(self, loss):
        self.log({"loss": loss.item()})


class TensorBoard(Peer):
    name = "TensorBoard add_histogram of every gradient, every step"
    captures = "a histogram of every parameter's gradient, every step; no graph"

    def __init__(self, model, x):
        from torch.utils.tensorboard import SummaryWriter

        self.writer, self.params, self.step = SummaryWriter(_scratch()), list(model.named_parameters()), 0

    def backward(self, loss):
        for name, p in self.params:
            self.writer.add_histogram(name, p.grad, self.step)
        self.step += 1


PEERS = (Torchviz, Torchview, TorchLens, Wandb, TensorBoard)
OURS = {"light": "graph of every iteration, loss, per-parameter gradient norms, NaN/Inf counts",
        "full": "graph, and value and gradient summaries (norm, mean, std, min, max, NaN/Inf) at every node"}
ANOMALY = "a NaN check of every backward op's output (and forward tracebacks); no graph, no numbers"
_dirs: list = []


def _scratch() -> str:
    d = tempfile.TemporaryDirectory()
    _dirs.append(d)
    return d.name


class Variant:
    """One way of running the model's training step, switched on only around its own blocks."""

    def __init__(self, step: Callable, on: Callable = lambda: None, off: Callable = lambda: None):
        self.step, self.on, self.off = step, on, off
        self.seconds, self.steps, self.per_block = 0.0, 0, 1

    def block(self) -> None:
        self.on()
        try:
            self.step()  # the first step after a switch is not counted
            t = time.perf_counter()
            for _ in range(self.per_block):
                self.step()
            self.seconds += time.perf_counter() - t
            self.steps += self.per_block
        finally:
            self.off()


def variants(model: str) -> tuple[dict[str, Variant], dict[str, str], dict[str, str]]:
    """The ways of running `model` that start here, what each captures, and why the others were skipped."""
    from backprop_studio.core.trace.tracer import Tracer

    out: dict[str, Variant] = {"plain": Variant(training_step(model))}
    captures, skipped = {}, {}
    for detail, what in OURS.items():
        tracer = Tracer(lambda it: None, detail=detail)
        out[f"Backprop Studio, {detail}"] = Variant(training_step(model), tracer.install, tracer.uninstall)
        captures[f"Backprop Studio, {detail}"] = what
    anomaly = "anomaly mode (torch.autograd.set_detect_anomaly)"
    out[anomaly] = Variant(training_step(model), lambda: torch.autograd.set_detect_anomaly(True),
                           lambda: torch.autograd.set_detect_anomaly(False))
    captures[anomaly] = ANOMALY
    for peer in PEERS:
        try:
            v = Variant(training_step(model, peer))
            v.step()
        except Exception as e:  # noqa: BLE001 - a peer missing or broken here is reported, not fatal
            skipped[peer.name] = f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
            continue
        out[peer.name] = v
        captures[peer.name] = peer.captures
    return out, captures, skipped


def ratios(model: str, seconds: float) -> tuple[dict[str, float], float, dict[str, str], dict[str, str]]:
    """{way: time per step / plain time per step}, the plain step time, captures, skipped.

    Each way's blocks are paired with plain blocks run right beside them (which goes first drawn at
    random), and its ratio is over those plain blocks alone: a heavy tool leaves the caches and the
    allocator disturbed for whatever runs next, so one plain figure shared by all would be too slow
    (it made torchviz look faster than no tool at all)."""
    ways, captures, skipped = variants(model)
    plain_step = ways.pop("plain").step
    beside = {name: Variant(plain_step) for name in ways}  # the plain blocks paired with each way
    for v in [*ways.values(), *beside.values()]:  # warm up; blocks of about 0.1 s each
        v.step()
        t = time.perf_counter()
        v.step()
        v.per_block = max(1, min(8, int(0.1 / max(time.perf_counter() - t, 1e-6))))
    order = random.Random(0)
    names = list(ways)
    start = time.perf_counter()
    rounds = 0
    while rounds < 3 or (time.perf_counter() - start < seconds and rounds < 200):
        for name in order.sample(names, len(names)):
            pair = [beside[name], ways[name]]
            for v in pair if order.random() < 0.5 else reversed(pair):
                v.block()
        rounds += 1
    per_step = {n: v.seconds / v.steps for n, v in ways.items()}
    plain = {n: v.seconds / v.steps for n, v in beside.items()}
    return ({n: per_step[n] / plain[n] for n in ways}, sum(plain.values()) / len(plain), captures, skipped)


def run(quick: bool = False) -> None:
    seconds = 3 if quick else 10
    table: dict[str, dict[str, float]] = {}
    captures: dict[str, str] = {}
    skipped: dict[str, str] = {}
    plains = {}
    for model in MODELS:
        r, plains[model], c, s = ratios(model, seconds)
        for name, ratio in r.items():
            table.setdefault(name, {})[model] = ratio
        captures.update(c)
        skipped.update(s)
    for peer, why in skipped.items():
        emit(f"peer skipped: {peer} ({why}; install the extra: pip install '.[peers]')")
    head = " | ".join(f"{MODELS[m]} ({plains[m] * 1e3:.1f} ms)" for m in MODELS)
    emit(f"peers side by side, per-step time over plain | {head} | what it captures")
    for name, by_model in table.items():
        cells = " | ".join(f"{by_model[m]:.2f}x" if m in by_model else "-" for m in MODELS)
        emit(f"  {name} | {cells} | {captures[name]}")
    emit(line("peers measured side by side with our light and full (table above)",
              f"{len(table) - 3} peers and anomaly mode, {len(skipped)} skipped", "report", None))
    if "wandb" in sys.modules:
        sys.modules["wandb"].finish()
    for d in _dirs:
        d.cleanup()
