"""Full detail's forward capture: each op's output tensor and the user line that made it, and which
module each op belongs to."""

from __future__ import annotations

import sys

import torch
from torch.overrides import TorchFunctionMode

from ..iteration import node_id
from . import naming
from .graph import grad_fn_of

_Tensor = torch.Tensor
_Attribute = type(torch.Tensor.grad.__get__)  # a tensor attribute's __get__/__set__, as the mode sees it


class CaptureMode(TorchFunctionMode):
    """Full detail: remember every op's output tensor and the user line that made it."""

    def __init__(self, control):
        super().__init__()
        self.control = control  # asked at each new op while it is stepping (core/trace/control.py)
        self.outputs: dict = {}  # grad_fn -> tensor
        self.sources: dict = {}  # grad_fn -> "file:line"

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
        self.outputs[fn] = t
        self.sources[fn] = naming.user_source(sys._getframe(2))


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
