"""Parameter updates: the optimizer inspector's data, and updates made by hand between iterations.

`Updates` observes the tracer, for `record` and for live sessions alike. Read-only on the script's
tensors (clones and reductions, no writes, no random numbers), so watching a step never changes it.
All numbers of one event reach the host in one transfer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from torch.utils.weak import WeakIdKeyDictionary

from ..iteration import node_number
from . import stats
from .stepfacts import StepFacts
from .throttle import Throttle

NameOf = Callable[[torch.Tensor], str | None]


def plain(v):
    """A hyper-parameter as a msgpack/JSON-able value (tensors as numbers, odd objects as text)."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, torch.Tensor) and v.numel() == 1:
        return v.item()
    if isinstance(v, list | tuple) and all(isinstance(x, bool | int | float) for x in v):
        return list(v)
    return repr(v)


def hyper_params(group: dict) -> dict:
    """A param group's settings without its parameter list."""
    return {k: plain(v) for k, v in group.items() if k != "params"}


def _update_norms(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> list[torch.Tensor]:
    """For each (before, after): ||after - before|| and ||before||, as 0-d tensors on their device."""
    out = []
    for before, after in pairs:
        a, b = after.detach(), before.detach()
        if not a.is_floating_point() or a.dtype not in (torch.float32, torch.float64):
            a, b = a.float(), b.float()
        out += [torch.linalg.vector_norm(a - b), torch.linalg.vector_norm(b)]
    return out


def ratio_rows(names: list[str], norms: list[float]) -> list[dict]:
    """Rows {name, update_norm, param_norm, update_ratio} from `_update_norms` results on the host."""
    rows = []
    for k, name in enumerate(names):
        upd, par = norms[2 * k], norms[2 * k + 1]
        ratio = upd / par if par > 0 else (0.0 if upd == 0 else math.inf)
        rows.append({"name": name, "update_norm": upd, "param_norm": par, "update_ratio": ratio})
    return rows


class OptimizerStep:
    """One `optimizer.step()`: created at the pre hook (takes the before snapshot), read at both hooks."""

    def __init__(self, optimizer: torch.optim.Optimizer, name_of: NameOf):
        self.optimizer = optimizer
        self.cost = 0.0  # seconds spent watching this step (for throttling)
        self.entries = [(name_of(p), p, group) for group in optimizer.param_groups  # (name, param, group)
                        for p in group["params"]]
        with torch.no_grad():
            self.before = [p.detach().clone() for _, p, _ in self.entries]

    def describe(self, post: bool) -> tuple[list[dict], list[dict]]:
        """Inspector rows per parameter, and (post only) update-ratio rows; one host transfer."""
        batch = stats.Batch()
        slots = []
        with torch.no_grad():
            for (_, p, _), before in zip(self.entries, self.before, strict=True):
                s = {"before": batch.add(before)}
                if post:
                    s["after"] = batch.add(p.detach())
                if p.grad is not None:
                    s["grad"] = batch.add(p.grad.detach())
                state = self.optimizer.state.get(p, {})
                s["state"] = {k: ("tensor", batch.add(v.detach())) if isinstance(v, torch.Tensor)
                              else ("plain", plain(v)) for k, v in state.items()}
                slots.append(s)
            extra = _update_norms([(b, p) for (_, p, _), b in zip(self.entries, self.before, strict=True)]) \
                if post else []
            summaries, norms = batch.finish(extra)
        rows = ratio_rows([e[0] for e in self.entries], norms) if post else []
        params = []
        for k, ((name, p, group), s) in enumerate(zip(self.entries, slots, strict=True)):
            item = {"name": name, "shape": list(p.shape), "lr": plain(group.get("lr")),
                    "group": hyper_params(group), "before": summaries[s["before"]],
                    "grad": summaries[s["grad"]] if "grad" in s else None,
                    "state": {key: summaries[x] if tag == "tensor" else x
                              for key, (tag, x) in s["state"].items()}}
            if post:
                item["after"] = summaries[s["after"]]
                item["update_norm"] = rows[k]["update_norm"]
                item["update_ratio"] = rows[k]["update_ratio"]
            params.append(item)
        return params, rows

    def ratios(self) -> list[dict]:
        """Only the update-ratio rows (cheap: two norms per parameter, one transfer)."""
        with torch.no_grad():
            norms = _update_norms([(b, p) for (_, p, _), b in zip(self.entries, self.before, strict=True)])
            _, host = stats.Batch().finish(norms)
        return ratio_rows([e[0] for e in self.entries], host)


class ManualUpdates:
    """Parameters changed between iterations without an optimizer (`w -= lr * w.grad`)."""

    def __init__(self):
        self.snapshot: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # name -> (tensor, clone)
        self.optimizer_steps = 0

    def take(self, leaves: dict[str, torch.Tensor], optimizer_steps: int) -> None:
        """Remember the leaves' values after a backward."""
        with torch.no_grad():
            self.snapshot = {n: (t, t.detach().clone()) for n, t in leaves.items()}
        self.optimizer_steps = optimizer_steps

    def changes(self, leaves: dict[str, torch.Tensor], optimizer_steps: int) -> list[dict]:
        """Update-ratio rows for leaves that changed since `take` (none if an optimizer stepped)."""
        snap, self.snapshot = self.snapshot, {}
        if not snap or optimizer_steps != self.optimizer_steps:
            return []
        pairs, names = [], []
        with torch.no_grad():
            for name, (old, before) in snap.items():
                now = leaves.get(name, old)  # by name: `w = w - lr * w.grad` makes a new tensor
                if now.shape == before.shape and now.dtype == before.dtype and not torch.equal(now, before):
                    pairs.append((before, now))
                    names.append(name)
            if not pairs:
                return []
            _, host = stats.Batch().finish(_update_norms(pairs))
        return ratio_rows(names, host)


FIRST_STEPS = 10  # every one of a run's first optimizer steps is measured: short runs get enough to judge


def _ignore(kind: str, data: dict) -> None:
    pass


def _never() -> bool:
    return False


class Updates:
    """An observer of the tracer: every optimizer step's update ratios (sampled within a share of the
    wall time while nobody watches), its full before/after while `watching()`, and parameters changed
    by hand between iterations. Rows go to the recording and, live, to `emit` (`params_changed`)."""

    def __init__(self, tracer, writer=None, emit: Callable[[str, dict], None] = _ignore,
                 watching: Callable[[], bool] = _never, every_step: bool = False):
        """`every_step`: every optimizer step's ratios, unsampled (a distributed rank: the ranks' steps
        are compared one by one, so all ranks must have them all)."""
        self.tracer, self.writer, self.emit, self.watching = tracer, writer, emit, watching
        self.every_step = every_step
        self._leaves: dict = {}  # name -> leaf tensor of the current backward
        self._leaf_names = WeakIdKeyDictionary()  # tensor -> name, for optimizer params outside modules
        self._steps: list[OptimizerStep | None] = []
        self._manual = ManualUpdates()
        self._throttle = Throttle()  # optimizer steps
        self._hand_throttle = Throttle()  # updates by hand: its own share, so they never starve the steps
        self._compare_cost = 0.0  # seconds the last look for updates by hand took
        self._facts = StepFacts(tracer.names)

    def detach(self) -> None:
        """In a process forked from the script: record and send nothing."""
        self.writer, self.emit, self.watching = None, _ignore, _never

    def observe(self, point: str, info: dict) -> None:
        if point == "backward_begin":
            self._on_begin(info)
        elif point == "backward_end":
            self._on_end()
        elif point in ("optimizer_pre", "optimizer_post"):
            self._on_optimizer(point, info, self.tracer.index - 1)  # the step follows the last backward

    def finish(self) -> None:
        """The script ended: a last update by hand after the last backward."""
        self._report_manual(self.tracer.index - 1)

    def _on_begin(self, info: dict) -> None:
        walk, graph = info.get("walk"), info["graph"]
        self._leaves = {}
        for nid in info.get("named", ()) if walk is not None else ():  # parameter and named leaf nodes
            name, leaf = graph.nodes[nid].get("name"), walk.fns[node_number(nid)].variable
            if name:
                self._leaves[name] = leaf
                self._leaf_names[leaf] = name
        self._report_manual(info["index"] - 1)

    def _on_end(self) -> None:
        manual = {n: t for n, t in self._leaves.items() if t not in self.tracer.optimized}
        if manual and (self.watching() or self._hand_throttle.ready()):
            started = time.perf_counter()
            self._manual.take(manual, self.tracer.optimizer_steps)
            if not self.watching():  # the snapshot and the last comparison, within the throttle's share
                self._hand_throttle.charge(time.perf_counter() - started + self._compare_cost)

    def _on_optimizer(self, point: str, info: dict, index: int) -> None:
        opt = info.get("instance")
        if opt is None:
            return
        started = time.perf_counter()
        watching = self.watching()
        head = {"step": self.tracer.optimizer_steps + (point == "optimizer_pre"),
                "optimizer": info.get("optimizer", type(opt).__name__), "index": index}
        if point == "optimizer_pre":
            facts = self._facts.check(opt, info.get("closure", False))
            if facts is not None and self.writer is not None:  # the doctor's facts, when they change
                self.writer.add_step_facts(index, {"step": head["step"], **facts})
            sampled = watching or self.every_step or head["step"] <= FIRST_STEPS or self._throttle.ready()
            step = OptimizerStep(opt, self.name_of) if sampled else None
            self._steps.append(step)
            if step is not None and watching:
                self.emit("optimizer_pre", {**head, "params": step.describe(post=False)[0]})
            if step is not None:
                step.cost = time.perf_counter() - started
            return
        step = self._steps.pop() if self._steps else None
        if step is None:
            return
        if watching:
            params, rows = step.describe(post=True)
            self.emit("optimizer_post", {**head, "params": params})
        else:
            rows = step.ratios()
            self._throttle.charge(step.cost + time.perf_counter() - started)
        self._report(index, "optimizer", rows, head["step"])

    def _report_manual(self, index: int) -> None:
        if not self._manual.snapshot:
            return
        started = time.perf_counter()
        rows = self._manual.changes(self._leaves, self.tracer.optimizer_steps)
        if rows:
            self._report(index, "manual", rows)
        self._compare_cost = time.perf_counter() - started

    def _report(self, index: int, by: str, rows: list[dict], step: int | None = None) -> None:
        self.emit("params_changed", {"index": index, "by": by, "step": step, "params": rows})
        if self.writer is not None:
            self.writer.add_param_updates(index, by, rows)

    def name_of(self, t) -> str | None:
        """A parameter's or named leaf's name (core.trace.naming.Names.param)."""
        return self.tracer.names.param(t, self._leaf_names.get(t))
