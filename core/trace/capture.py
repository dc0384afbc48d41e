"""Full detail's forward capture: each op's output tensor and the user line that made it, and which
module each op belongs to."""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from ..iteration import node_id
from . import naming, stats
from .graph import grad_fn_of

_Tensor = torch.Tensor
_Attribute = type(torch.Tensor.grad.__get__)  # a tensor attribute's __get__/__set__, as the mode sees it


EARLY = 1 << 17  # elements (512 KB of float32): outputs this large are summarised as they are made. Below it
# holding them costs little, and summarising them with the others (stacked by size, views once) costs less


class CaptureMode(TorchFunctionMode):
    """Full detail: remember every op's output tensor and the user line that made it."""

    def __init__(self, control, summarise: Callable[[], bool] = lambda: False):
        """`summarise()`: whether a large host output is summarised as it is made and let go (a full
        iteration nobody watches value by value), rather than held until the backward ends."""
        super().__init__()
        self.control = control  # asked at each new op while it is stepping (core/trace/control.py)
        self.summarise = summarise
        self.outputs: dict = {}  # grad_fn -> tensor (None once summarised)
        self.sources: dict = {}  # grad_fn -> "file:line"
        self.summaries: dict = {}  # grad_fn -> its output's summary, taken as it was made
        self._latest = WeakIdKeyDictionary()  # tensor -> (its latest summary, version): a view of all of it reuses it

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if type(func) is _Attribute:  # a tensor attribute read or set (.grad, .grad_fn, .shape): no op
            return func(*args, **(kwargs or {}))
        outputs = self.outputs
        for a in args:  # outputs made outside the mode (custom Function.apply) seen as inputs
            if type(a) is _Tensor and a.requires_grad:
                fn = grad_fn_of(a)
                if fn is not None and fn not in outputs:
                    self._keep(a, fn)
        out = func(*args, **(kwargs or {}))
        if type(out) is _Tensor and not out.requires_grad:
            return out  # most calls of a step: nothing autograd will see
        fn = grad_fn_of(out)
        if fn is None and isinstance(out, tuple | list):
            for o in out:
                if (f := grad_fn_of(o)) is not None:
                    self._keep(o, f)
        elif fn is not None and fn not in self.outputs:
            self._keep(out, fn)
            if self.control.stepping:
                self.control.pause("forward_op", {"op": type(fn).__name__, "source": self.sources.get(fn),
                                                  "outputs": self.outputs})
        return out

    def _keep(self, t: torch.Tensor, fn) -> None:
        self.sources[fn] = naming.user_source(sys._getframe(2))
        if t.numel() >= EARLY and self.summarise():
            summary = self._summary(t)  # the value as the op made it; autograd keeps what it needs
            if summary is not None:
                self.summaries[fn] = summary
                self.outputs[fn] = None
                return
        self.outputs[fn] = t

    def _summary(self, t: torch.Tensor) -> dict | None:
        """stats.host_summary of `t`, or its base's (the same elements: a reshape, a transpose)."""
        base = t._base
        if base is not None:
            known = self._latest.get(base)  # and the version of its elements then (in-place ops count)
            if known is not None and known[1] == base._version and stats.same_elements(t, base):
                return {**known[0], **stats.describe(t)}
        summary = stats.host_summary(t)
        if summary is not None:
            self._latest[t] = (summary, t._version)
        return summary

    def clear(self) -> None:
        self.outputs.clear()
        self.sources.clear()
        self.summaries.clear()
        self._latest = WeakIdKeyDictionary()


def attribute_modules(g, index: dict, module_calls: list) -> None:
    """Each op between a module call's inputs and its output belongs to that module."""
    for path, out_fn, in_fns in reversed(module_calls):  # outer first: inner calls win
        k = index.get(out_fn)
        if k is None:
            continue
        start = node_id(k)
        stop = {node_id(index[f]) for f in in_fns if f in index}
        seen = {start}
        todo = [start]
        while todo:
            n = todo.pop()
            if g.nodes[n]["kind"] in ("op", "custom"):
                g.nodes[n]["module"] = path
            for p in g.predecessors(n):
                if p not in seen and p not in stop and g.nodes[p]["kind"] in ("op", "custom"):
                    seen.add(p)
                    todo.append(p)
