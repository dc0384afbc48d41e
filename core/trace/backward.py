"""One backward under way: the tensors whose numbers the tracer reads, and what they make.

Before the backward runs, `watch_full` / `watch_light` queue forward values and hook gradients;
after it, `read` reduces everything in one batch (one host transfer) into per-node numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import torch

from ..iteration import SINK, node_id, node_number
from . import stats
from .graph import root_fn

Hook = Callable[[str, dict], Callable]  # (node id, grads) -> a grad_fn pre-hook


@dataclass
class Backward:
    w: object  # core.graph.Walk
    structure: object  # core.graph.Structure
    shared: bool  # the iteration shares the structure's graph (a light repeat)
    named: list  # ids of parameter and named leaf nodes
    detail: str
    root: torch.Tensor | None
    batch: stats.Batch = None
    value_slot: dict = field(default_factory=dict)  # node id -> batch slot of its forward value
    summaries: dict = field(default_factory=dict)  # node id -> its value's summary, taken in the forward
    values: dict = field(default_factory=dict)  # node id -> forward output (full detail)
    grads: dict = field(default_factory=dict)  # node id -> gradient tensor
    hooks: list = field(default_factory=list)
    after: list = field(default_factory=list)  # (node id, leaf) whose .grad after this backward is its own
    accumulating: list = field(default_factory=list)  # (node id, leaf) whose .grad held an earlier sum
    twins: dict = field(default_factory=dict)  # node id -> the view op whose gradient, rearranged, is its own
    leaves: list = field(init=False)  # (node id, AccumulateGrad node) of the `named` nodes

    def __post_init__(self):
        self.batch = stats.Batch(light=self.detail != "full")
        fns = self.w.fns
        self.leaves = [(nid, fns[node_number(nid)]) for nid in self.named]

    @property
    def scalar(self) -> bool:
        return self.root is not None and self.root.numel() == 1

    def watch_full(self, outputs: dict, summaries: dict, plain: bool, hook: Hook) -> None:
        """Every node's forward value (in forward order; `summaries`: those the capture took as the op ran)
        and gradient; where `plain` (no node events, no autograd.grad), a leaf's gradient read from its .grad
        after the backward when that tells it (see _after) and an op's that is a view op's gradient
        rearranged taken from that op (Structure.view_twins), the others hooked."""
        node = self.w.graph._node
        order = {fn: i for i, fn in enumerate(outputs)} if outputs else {}
        twins = self.structure.view_twins(self.w.fns) if plain else {}
        for k, fn in enumerate(self.w.fns):
            nid = node_id(k)
            attrs = node[nid]
            tensor = fn.variable if attrs["kind"] in ("param", "leaf") else outputs.get(fn)
            if fn in order:
                attrs["seq"] = order[fn]
            summary = summaries.get(fn) if tensor is None else None
            if summary is not None:
                self.summaries[nid] = summary
            elif tensor is None and k == 0:
                tensor = self.root
            if tensor is not None:
                self.value_slot[nid] = self.batch.add(tensor)
                self.values[nid] = tensor
            if nid in twins:
                self.twins[nid] = twins[nid]
            elif not (plain and attrs["kind"] in ("param", "leaf") and _after(tensor)):
                self.hooks.append(fn.register_prehook(hook(nid, self.grads)))
            else:
                self.after.append((nid, tensor))

    def watch_light(self, plain: bool, hook: Hook) -> None:
        """Parameter gradients: read from .grad after the backward where it can tell (`plain`), else
        hooked; and the loss's own value, for its NaN/Inf flag."""
        for nid, fn in self.leaves:
            var = fn.variable
            if plain and _after(var):
                self.after.append((nid, var))
            else:
                self.hooks.append(fn.register_prehook(hook(nid, self.grads)))
        if self.root is not None and self.w.fns:
            self.value_slot[SINK] = self.batch.add(self.root.detach())

    def watch_accumulated(self) -> None:
        """Leaves whose .grad already holds earlier backwards' sums (a forgotten zero_grad, accumulation):
        the optimizer will use that sum, so it is recorded beside this backward's own gradient."""
        self.accumulating = [(nid, var) for nid, fn in self.leaves if (var := fn.variable).grad is not None]

    def unhook(self) -> None:
        for h in self.hooks:
            h.remove()

    def grads_of_inputs(self, inputs, result) -> None:
        """autograd.grad: the gradients it returned are the inputs' gradients."""
        inputs = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
        for t, gr in zip(inputs, result, strict=False):
            if isinstance(t, torch.Tensor) and gr is not None and t.grad_fn is None and t.requires_grad:
                k = self.w.index.get(root_fn(t))
                if k is not None:
                    self.grads.setdefault(node_id(k), gr)

    def read(self, scale: torch.Tensor | None) -> tuple[dict, float | None, float | None]:
        """Per-node numbers {node id: {"value"?, "grad"?, "accumulated"?}}, the loss, and a GradScaler's
        factor (`scale`), all in one transfer."""
        for nid, var in self.after:
            if var.grad is not None:
                self.grads.setdefault(nid, var.grad)
        full = self.detail == "full"
        grad_slot = {nid: self.batch.add(t, values=full) for nid, t in self.grads.items()}
        total_slot = {nid: self.batch.add(var.grad, values=full) for nid, var in self.accumulating
                      if var.grad is not None}
        extra = [self.root.detach()] if self.scalar else []
        if scale is not None:
            extra.append(scale.detach().reshape(-1)[:1])  # the factor, in the same transfer
        summaries, host = self.batch.finish(extra)
        numbers: dict[str, dict] = {nid: {"value": summaries[i]} for nid, i in self.value_slot.items()}
        for nid, summary in self.summaries.items():
            numbers[nid] = {"value": summary}
        for nid, i in grad_slot.items():
            numbers.setdefault(nid, {})["grad"] = summaries[i]
        for nid, i in total_slot.items():
            numbers.setdefault(nid, {})["accumulated"] = summaries[i]
        node = self.w.graph._node
        for nid in self.twins:  # in walk order, consumers first: a chain of views resolves from its end
            grad = numbers.get(self.twins[nid], {}).get("grad")
            if grad is not None:
                numbers.setdefault(nid, {})["grad"] = {**grad, "shape": list(node[nid]["shape"])}
        grad_scale = host[1] if len(host) > 1 and host[1] else None
        loss = host[0] if self.scalar else None
        if loss is not None and grad_scale:
            loss /= grad_scale  # the script's loss (a power of two: exact)
        return numbers, loss, grad_scale

    def graph(self, numbers: dict) -> nx.DiGraph:
        """The iteration's frozen graph: its own with the numbers written in, or the structure's shared."""
        if self.shared:
            return self.structure.instance(numbers)
        nodes = self.w.graph.nodes
        for nid, extra in numbers.items():
            nodes[nid].update(extra)
        return nx.freeze(self.w.graph)

    def params(self, g: nx.DiGraph, numbers: dict, grad_scale: float | None) -> dict:
        """Iteration.params: each parameter's gradient norm (unscaled), accumulated .grad norm, NaN/Inf."""
        params = {}
        node = g._node  # not g.nodes: a view made on every read
        for nid in self.named:
            got = numbers.get(nid)
            if got is not None and got.get("grad") is not None:
                params[node[nid]["name"] or nid] = param_row(got["grad"], got.get("accumulated"), grad_scale)
        return params


def _after(var: torch.Tensor) -> bool:
    """Whether `var.grad` after the backward will be this backward's gradient of leaf `var`: no earlier
    sum in it, no hook that may change or take it."""
    return var.grad is None and not getattr(var, "_post_accumulate_grad_hooks", None)


def param_row(grad: dict, accumulated: dict | None, scale: float | None) -> dict:
    """A parameter's line in Iteration.params: this backward's gradient norm, the accumulated .grad's
    norm when earlier backwards left one, NaN/Inf counts; norms unscaled by a GradScaler's factor."""
    row = {"grad_norm": _unscaled(grad.get("norm"), scale), "nan": grad.get("nan", 0), "inf": grad.get("inf", 0)}
    if accumulated is not None:
        row["accumulated_norm"] = _unscaled(accumulated.get("norm"), scale)
    return row


def _unscaled(norm: float | None, scale: float | None) -> float | None:
    return norm / scale if scale and norm is not None else norm
