"""What the tracer replaces in torch while a script runs, and how it is put back.

Every backward entry point (one backward = one iteration), torch.compile (compiled regions run
outside the forward capture), nn.Module.__call__ (module names and calls, instead of global module
hooks: any global hook sends every module call down torch's slow path, ~6 µs per call, where this
wrapper costs ~1 µs), GradScaler.scale (its backward's gradients are scaled) and
Optimizer.add_param_group (which parameters the optimizers hold).
"""

from __future__ import annotations

import functools
import time

import torch

Saved = dict  # (owner, attribute) -> the original


def patch(tracer) -> Saved:
    """Install the tracer's wrappers; returns the originals for `restore`."""
    saved: Saved = {}

    def replace(owner, name: str, make):
        orig = saved[(owner, name)] = getattr(owner, name)
        setattr(owner, name, make(orig))

    def tensor_backward(orig):
        def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
            return tracer._around([self], lambda: orig(self, gradient, retain_graph, create_graph, inputs))
        return backward

    def autograd_backward(orig):
        def backward(tensors, *args, **kwargs):
            ts = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
            return tracer._around(ts, lambda: orig(tensors, *args, **kwargs))
        return backward

    def autograd_grad(orig):
        def grad(outputs, inputs, *args, **kwargs):
            ts = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
            return tracer._around(ts, lambda: orig(outputs, inputs, *args, **kwargs), inputs)
        return grad

    def compile_(orig):
        def compile(model=None, **kwargs):
            if model is None:  # used as @torch.compile(...)
                return lambda m: compile(m, **kwargs)
            return tracer._outside_capture(orig(model, **kwargs))
        return functools.wraps(orig)(compile)

    def module_call(orig):
        clock, is_compiling = time.perf_counter, torch.compiler.is_compiling

        def call(module, *args, **kwargs):
            if is_compiling():  # dynamo inlines module calls: stay out of its way
                return orig(module, *args, **kwargs)
            t0 = clock()
            tracer._on_module_pre(module, args)
            out = None
            t1 = clock()
            try:
                out = orig(module, *args, **kwargs)
                return out
            finally:
                t2 = clock()
                tracer._on_module_post(module, args, out)
                tracer.wrapper_time += clock() - t2 + t1 - t0  # charged to the budget with the iteration
        return call

    def scale(orig):
        def scaled(scaler, outputs):
            out = orig(scaler, outputs)
            if isinstance(out, torch.Tensor) and out is not outputs:
                tracer._scaled[out] = scaler  # its backward's gradients are scaled
            return out
        return functools.wraps(orig)(scaled)

    def add_param_group(orig):
        def add(optimizer, group):
            orig(optimizer, group)
            tracer._hold(optimizer)
        return functools.wraps(orig)(add)

    replace(torch.Tensor, "backward", tensor_backward)
    replace(torch.autograd, "backward", autograd_backward)
    replace(torch.autograd, "grad", autograd_grad)
    replace(torch, "compile", compile_)
    replace(torch.nn.Module, "__call__", module_call)
    replace(torch.amp.GradScaler, "scale", scale)
    replace(torch.optim.Optimizer, "add_param_group", add_param_group)
    return saved


def restore(saved: Saved) -> None:
    for (owner, name), orig in saved.items():
        setattr(owner, name, orig)
