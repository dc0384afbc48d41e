"""The tracer: patches the backward entry points and turns each backward into an Iteration.

It never changes the run: no extra forward, no random numbers, hooks only read.
"""

from __future__ import annotations

import functools
import math
import sys
import threading
import time
from collections.abc import Callable

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch.utils.weak import WeakIdKeyDictionary

from .. import gcpause
from ..iteration import DEFAULT_DETAIL, DETAILS, Iteration, iteration_nonfinite
from . import graph as graph_mod
from . import naming, patches, stats, user_warnings
from .backward import Backward
from .budget import Budget
from .capture import CaptureMode, attribute_modules
from .control import Control, NoControl
from .graph import grad_fn_of
from .naming import Names


def _keep_static(g, known) -> None:
    """Fill `g`'s missing source lines and modules from the same structure recorded before (an iteration
    made full at its backward ran its forward without the capture that records them)."""
    for n, a in g.nodes(data=True):
        old = known.nodes[n]
        for key in ("source", "module"):
            if a[key] is None and old[key] is not None:
                a[key] = old[key]


def _tracing(roots: list) -> bool:
    """True inside torch.compile's tracing (fake/functional tensors), which is not a real iteration."""
    if torch.compiler.is_compiling():
        return True
    return any(isinstance(t, torch.Tensor) and type(t) not in (torch.Tensor, torch.nn.Parameter) for t in roots)


class Tracer:
    """Installs the hooks; calls `sink(iteration)` after every completed backward."""

    def __init__(self, sink: Callable[[Iteration], None], detail: str = DEFAULT_DETAIL,
                 overhead: float = 0.10, control: Control | None = None):
        """`control` is asked at each pause point; `observers` (see add_observer) see each point first."""
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {DETAILS}")
        self.sink = sink
        self.budget = Budget(detail, overhead)
        self.control = control or NoControl()
        self.observers: list = []
        self.names = Names()
        self.index = 0
        self.optimizer_steps = 0
        self.module_outputs: dict = {}  # grad_fn -> module path (forward hooks)
        self.module_calls: list = []  # (path, output fns, input fns)
        self._depth = 0
        self._local = threading.local()
        self._mode: CaptureMode | None = None
        self._stepping_mode: CaptureMode | None = None  # the capture suspended during an optimizer step
        self._saved: dict = {}
        self._warnings: tuple = ()
        self._handles: list = []
        self._boundary = time.perf_counter()
        self.wrapper_time = 0.0  # spent in the module-call wrapper since the last iteration ended
        self.failures = 0  # backwards the tracer failed on (the script went on)
        self._failed_kinds: set[str] = set()
        self._module_call = None
        self._detail = "light"  # predicted for the iteration under way: full or light
        self.structures = graph_mod.Structures()
        self._signatures: set[str] = set()  # structures recorded so far (new ones get full detail)
        self._nonfinite_loss = False  # a non-finite loss or iteration was seen (the first got full detail)
        self._full_next = False  # the next iteration is full whatever the budget
        self._scaled = WeakIdKeyDictionary()  # outputs of GradScaler.scale -> the scaler
        self.optimized = WeakIdKeyDictionary()  # parameters the script's optimizers hold
        self._held = naming.IdMap()  # optimizer -> its parameter lists as last held (see _hold)
        self._all_in = None  # (leaf tensors of a structure, len(optimized)) whose graph holds every optimized one

    def add_observer(self, observer) -> None:
        """`observer.observe(point, info)` at each pause point but forward ops and backward nodes, before
        the control; `observer.finish()` when the tracer is removed (core/trace/updates.py)."""
        self.observers.append(observer)

    def set_detail(self, detail: str) -> None:
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {DETAILS}")
        self.budget.detail = detail

    def _point(self, point: str, info: dict) -> None:
        for o in self.observers:
            try:
                o.observe(point, info)
            except Exception as e:  # noqa: BLE001 - an observer's bug must not change the run
                self._say_failed(f"watching {point}", e)
        self.control.pause(point, info)

    # ---- install / remove -------------------------------------------------
    def install(self) -> None:
        self._saved = patches.patch(self)
        self._warnings = user_warnings.install()
        self._module_call = torch.nn.Module.__call__
        self.names.install()
        self._handles = [
            register_optimizer_step_pre_hook(self._on_optimizer_pre),
            register_optimizer_step_post_hook(self._on_optimizer_post),
        ]
        self._start_iteration()

    def uninstall(self) -> None:
        self._set_capture(False)
        patches.restore(self._saved)
        self._saved = {}
        user_warnings.restore(self._warnings)
        for h in self._handles:
            h.remove()
        self._handles = []
        self.names.uninstall()
        for o in self.observers:
            try:
                o.finish()
            except Exception as e:  # noqa: BLE001 - the last look at the parameters is best effort
                self._say_failed("the script's end", e)

    # ---- forward-time capture --------------------------------------------
    def _set_capture(self, on: bool) -> None:
        if on and self._mode is None:
            self._mode = CaptureMode(self.control, self._summarising)
            self._mode.__enter__()
        elif not on and self._mode is not None:
            mode, self._mode = self._mode, None
            try:
                mode.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - the script left another mode above ours
                pass

    def capture_forward(self) -> None:
        """Capture forward ops from now on (the user began stepping them after this iteration began)."""
        self._set_capture(True)
        torch.nn.Module.__call__ = self._module_call

    def _outside_capture(self, compiled):
        """Compiled regions run without our TorchFunctionMode (dynamo manages the mode stack);
        they show as one node (CompiledFunctionBackward)."""
        if isinstance(compiled, torch.nn.Module):
            compiled.register_forward_pre_hook(lambda m, a: self._set_capture(False))
            compiled.register_forward_hook(lambda m, a, o: self._set_capture(self._capturing()))
            return compiled

        @functools.wraps(compiled)
        def call(*args, **kwargs):
            self._set_capture(False)
            try:
                return compiled(*args, **kwargs)
            finally:
                self._set_capture(self._capturing())

        return call

    def _summarising(self) -> bool:
        """Whether the capture summarises a large host output as it is made (see CaptureMode): in a full
        iteration that nobody steps through value by value (they see the tensors)."""
        return self._detail == "full" and not self.control.stepping and not self.control.wants_node_events()

    def _capturing(self) -> bool:
        return self._detail == "full" or self.control.stepping

    def _start_iteration(self) -> None:
        self._detail = self.budget.next_detail()
        self._set_capture(self._capturing())
        if torch.nn.Module.__call__ is not self._module_call:
            torch.nn.Module.__call__ = self._module_call
        self._boundary = time.perf_counter()

    def _on_module_pre(self, module, args):
        if self._depth == 0 and not self.names.is_root(module):
            self.names.register_root(module)
        self._depth += 1

    def _on_module_post(self, module, args, output):
        self._depth = max(self._depth - 1, 0)
        if self._mode is None:
            self._module_output(module, args, output)
        else:  # tensor attributes read outside our mode's own calls: ~1 µs each through it
            with torch._C.DisableTorchFunction():
                self._module_output(module, args, output)

    def _module_output(self, module, args, output):
        fn = grad_fn_of(output)
        if fn is None:
            return
        path = self.names.module_path.get(module)
        if path is None:
            return
        ins = [grad_fn_of(a) for a in args]
        if fn in ins:
            return  # the module passed its input through (Dropout(p=0), Identity): it made no op
        self.module_outputs[fn] = path
        if len(self.module_outputs) > 100_000:  # forward passes with no backward (evaluation)
            self.module_outputs.clear()
        if self._detail == "full":
            self.module_calls.append((path, fn, [f for f in ins if f is not None]))

    def _hold(self, optimizer) -> None:
        """Remember every parameter `optimizer` holds, gradient or not (see _no_gradient); once per change
        of its parameter lists (it runs before every step)."""
        lists = [(id(g["params"]), len(g["params"])) for g in optimizer.param_groups]
        if self._held.get(optimizer) == lists:
            return
        self._held[optimizer] = lists
        for group in optimizer.param_groups:
            for p in group["params"]:
                self.optimized[p] = True
        self.names.hold(optimizer)

    def _on_optimizer_pre(self, optimizer, args, kwargs):
        self._hold(optimizer)  # an optimizer made before the tracer was installed
        mode = self._mode
        closure = kwargs.get("closure", args[1] if len(args) > 1 else None)  # args: (optimizer, closure?)
        if mode is not None and closure is None:  # a closure's forward is captured
            self._set_capture(False)  # the update's own tensor calls are no forward ops: not through the mode
            self._stepping_mode = mode
        self._point("optimizer_pre", {"optimizer": type(optimizer).__name__, "instance": optimizer,
                                      "closure": len(args) > 1 or kwargs.get("closure") is not None})

    def _on_optimizer_post(self, optimizer, args, kwargs):
        self.optimizer_steps += 1
        mode, self._stepping_mode = self._stepping_mode, None
        if mode is not None and self._mode is None:
            self._mode = mode  # the same mode again: what the forward captured so far stays
            mode.__enter__()
        self._point("optimizer_post", {"optimizer": type(optimizer).__name__, "instance": optimizer})

    # ---- one backward = one iteration ------------------------------------
    def _around(self, roots: list, run: Callable, grad_inputs=None):
        if getattr(self._local, "busy", False) or _tracing(roots):
            return run()  # re-entry (mode dispatch, backward inside a hook) or a compiler's own tracing
        self._local.busy = True
        box: dict = {}

        def user_run():
            box["ran"] = True
            try:
                box["result"] = run()
            except BaseException as e:
                box["raised"] = e  # the script's own error: it goes to the script unchanged
                raise
            return box["result"]

        try:
            return self._iteration(roots, user_run, grad_inputs)
        except Exception as e:
            if "raised" in box:
                if box["raised"] is e:
                    raise
                raise box["raised"] from None  # our cleanup failed after it: the script's error wins
            self._failed(e)  # our bug must not end the user's training
            return box["result"] if box.get("ran") else run()
        finally:
            self._local.busy = False

    def _failed(self, error: Exception) -> None:
        """The tracer itself failed in this backward: say so once per kind, drop the iteration, go on."""
        self._say_failed(f"backward {self.index}", error, "this backward is not recorded")
        self._forget_forward(self._mode)
        self._start_iteration()

    def _say_failed(self, what: str, error: Exception, lost: str = "") -> None:
        """Count a failure of ours and say so on stderr, once per kind."""
        self.failures += 1
        kind = f"{type(error).__name__}: {error}"
        if kind not in self._failed_kinds:
            self._failed_kinds.add(kind)
            print(f"backprop-studio: tracing failed in {what} ({kind}); the script goes on"
                  + (f", {lost}" if lost else ""), file=sys.stderr)

    def _forget_forward(self, mode: CaptureMode | None) -> None:
        """Drop what the forward of the iteration just ended left behind."""
        if mode is not None:
            mode.clear()
        self.module_outputs.clear()
        self.module_calls.clear()

    def _iteration(self, roots: list, run: Callable, grad_inputs):
        t_begin = time.perf_counter()
        forward_time = t_begin - self._boundary
        mode = self._mode
        self._set_capture(False)
        b = self._prepare(roots, grad_inputs, mode)
        shown = b.structure.graph if b.shared else b.w.graph  # what a watcher sees during the backward (frozen)
        own = time.perf_counter() - t_begin
        self._point("backward_begin", {"index": self.index, "graph": shown, "walk": b.w, "detail": b.detail,
                                       "values": b.values, "summaries": b.summaries, "named": b.named})
        t_back = time.perf_counter()
        try:
            result = run()
        finally:
            b.unhook()
        t_after = time.perf_counter()
        if grad_inputs is not None and result is not None:
            b.grads_of_inputs(grad_inputs, result)
        self._forget_forward(mode)
        self._deliver(self._finish(b, {"forward": forward_time, "backward": t_after - t_back}))
        end = time.perf_counter()
        self._charge(b.detail, end, own + end - t_after)
        return result

    def _prepare(self, roots: list, grad_inputs, mode: CaptureMode | None) -> Backward:
        """Walk this backward's graph and queue the numbers it records (hooks on its nodes)."""
        root = roots[0] if roots and isinstance(roots[0], torch.Tensor) else None
        detail = self._detail
        if self.budget.detail == "auto" and detail != "full" and root is not None and root.numel() == 1 \
                and not self._nonfinite_loss and root.device.type == "cpu" \
                and not math.isfinite(stats.cpu_value(root)):  # no transfer on the CPU; see _nonfinite
            detail = "full"  # the first non-finite loss: the whole graph's numbers, before its backward
        fns = [graph_mod.root_fn(t) for t in roots if isinstance(t, torch.Tensor)]
        outputs = mode.outputs if mode is not None else {}
        w, structure, shared, named, detail = self._walk(fns, detail, mode.sources if mode is not None else {})
        b = Backward(w, structure, shared, named, detail, root)
        plain = grad_inputs is None and not self.control.wants_node_events()  # a leaf's .grad tells its gradient
        if detail == "full":
            b.watch_full(outputs, mode.summaries if mode is not None else {}, plain, self._grad_hook)
        else:  # a hook only where .grad cannot tell (accumulating, autograd.grad, node events)
            b.watch_light(plain, self._grad_hook)
        if grad_inputs is None:
            b.watch_accumulated()
        return b

    def _finish(self, b: Backward, phase_times: dict) -> Iteration:
        """The numbers read in one transfer, on the iteration's graph."""
        scaler = self._scaled.get(b.root) if b.scalar and len(self._scaled) else None
        scale = getattr(scaler, "_scale", None) if scaler is not None else None
        numbers, loss, grad_scale = b.read(scale)
        g = b.graph(numbers)
        params = b.params(g, numbers, grad_scale)
        if self.optimized:
            self._no_gradient(params, b)
        bad = iteration_nonfinite(loss, params, numbers.values())  # numbers: the nodes that have any
        if bad:
            self._nonfinite(b.detail)
        return Iteration(index=self.index, loss=loss, optimizer_steps=self.optimizer_steps,
                         signature=b.w.signature, graph=g, detail=b.detail, structure=b.structure,
                         grad_scale=grad_scale, phase_times=phase_times, params=params, nonfinite=bad)

    def _walk(self, fns: list, detail: str, sources: dict):
        """The walk of this backward's graph; its Structure; whether the iteration shares that Structure's
        graph (a repeat at light detail) or got a graph of its own (new structure, or full detail); the ids
        of its parameter and named leaf nodes; the detail (full for a new structure)."""
        with gcpause.paused():  # walk, names, annotation: no collector pass scanning it all meanwhile
            w = graph_mod.bare_walk(fns)
            known = self.structures.get(w.key)
            frame = sys._getframe(3)
            if known is not None and not known.repeats(w) \
                    and not known.adopt(w, self.names, naming.frame_names(frame)[0]):
                known = None
            if known is not None and (detail != "full" or known.captured):
                graph_mod.build(w, known)
                if detail != "full":
                    return w, known, True, known.named, detail
                w.graph = known.own_graph()  # a full repeat: the static attributes as recorded
                return w, known, False, known.named, detail
            edges = graph_mod.build(w)  # a full iteration writes its numbers into a graph of its own
            if known is None and w.signature not in self._signatures and self.budget.detail == "auto":
                detail = "full"  # a structure never recorded: all its numbers, whatever the budget
            by_tensor, by_fn = naming.frame_names(frame)
            named = graph_mod.annotate(w, self.names, by_tensor, by_fn, self.module_outputs, sources)
            if detail == "full":
                attribute_modules(w.graph, w.index, self.module_calls)
            if known is not None:
                _keep_static(w.graph, known.graph)  # sources and modules a capture-less forward lacks
            graph_mod.set_module_types(w.graph, self.names.module_types)
            if known is None or w.graph._node != known.graph._node:  # new, or now with sources and modules
                known = graph_mod.Structure.of(w, named, edges, bool(sources))  # static attributes only
                self.structures.put(w.key, known)
            self._signatures.add(w.signature)
            return w, known, False, named, detail

    def _no_gradient(self, params: dict, b: Backward) -> None:
        """Optimizer parameters this backward gave no gradient (unused, frozen by mistake): listed with
        grad_norm None, so they are seen, not silently missing. Skipped for a structure over the same leaf
        tensors (Structure.tensors, replaced when it adopts others) whose graph held every one of them, as
        long as no optimizer took a parameter since (see _hold)."""
        held = (b.structure.tensors, len(self.optimized))
        if self._all_in is not None and self._all_in[0] is held[0] and self._all_in[1] == held[1]:
            return
        in_graph = {id(fn.variable) for _, fn in b.leaves}
        outside = [p for p in list(self.optimized.keys()) if id(p) not in in_graph]
        self._all_in = None if outside else held
        for p in outside:
            if p.requires_grad:
                # a module's parameter gets its name when the module is first called: until then its place in
                # the optimizer would be a second name for it (one that never gets a gradient)
                name = self.names.param_name.get(p) if isinstance(p, torch.nn.Parameter) else self.names.param(p)
                if name is not None and name not in params:
                    params[name] = {"grad_norm": None, "nan": 0, "inf": 0}

    def _nonfinite(self, detail: str) -> None:
        """Auto detail: a loss on an accelerator is read after its backward (one transfer an iteration),
        so the first non-finite iteration (core.iteration.iteration_nonfinite) that was not full gets the
        next iteration full."""
        if not self._nonfinite_loss and detail != "full" and self.budget.detail == "auto":
            self._full_next = True
        self._nonfinite_loss = True

    def _deliver(self, it: Iteration) -> None:
        self.index += 1
        self.sink(it)
        self._point("backward_end", {"iteration": it})

    def _charge(self, detail: str, end: float, own: float) -> None:
        self.budget.charge(detail, end - self._boundary, own + self.wrapper_time)
        self.wrapper_time = 0.0
        self._start_iteration()
        if self._full_next:
            self._full_next = False
            self._detail = "full"
            self._set_capture(True)

    def _grad_hook(self, nid: str, grads: dict):
        control = self.control

        def hook(grad_outputs):
            for gr in grad_outputs:
                if gr is not None:
                    grads.setdefault(nid, gr)
                    break
            if control.wants_node_events():
                control.pause("backward_node", {"node": nid, "grad": grads.get(nid)})

        return hook
