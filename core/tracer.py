"""The tracer: patches the backward entry points and turns each backward into an Iteration.

It never changes the run: no extra forward, no random numbers, hooks only read.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable

import networkx as nx
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch.overrides import TorchFunctionMode

from core import graph as graph_mod
from core import naming, stats
from core.iteration import Iteration
from core.naming import Names

DETAILS = ("full", "light", "auto")


class Control:
    """Pause points the tracer calls; the default never pauses (see core/control.py)."""

    stepping = False  # while True the forward is captured op by op

    def pause(self, point: str, info: dict) -> None:
        pass

    def wants_node_events(self) -> bool:
        return False


class CaptureMode(TorchFunctionMode):
    """Full detail: remember every op's output tensor and the user line that made it."""

    def __init__(self, tracer: Tracer):
        super().__init__()
        self.tracer = tracer
        self.outputs: dict = {}  # grad_fn -> tensor
        self.sources: dict = {}  # grad_fn -> "file:line"

    def __torch_function__(self, func, types, args=(), kwargs=None):
        for a in args:  # outputs made outside the mode (custom Function.apply) seen as inputs
            if type(a) is torch.Tensor and a.grad_fn is not None and a.grad_fn not in self.outputs:
                self._keep(a)
        out = func(*args, **(kwargs or {}))
        fn = getattr(out, "grad_fn", None) if isinstance(out, torch.Tensor) else None
        if fn is None and isinstance(out, tuple | list):
            for o in out:
                if isinstance(o, torch.Tensor) and o.grad_fn is not None:
                    self._keep(o)
        elif fn is not None and fn not in self.outputs:
            self._keep(out)
            if self.tracer.control.stepping:
                self.tracer.control.pause("forward_op", {"op": type(fn).__name__,
                                                         "source": self.sources.get(fn), "outputs": self.outputs})
        return out

    def _keep(self, t: torch.Tensor) -> None:
        self.outputs[t.grad_fn] = t
        self.sources[t.grad_fn] = naming.user_source(sys._getframe(2))


class Budget:
    """Decides each iteration's detail so tracing stays within an overhead fraction.

    `auto` has three tiers: `full`, `light`, and `loss` (the loss and phase times only, no graph: what
    is left when the budget is spent). The budget is split so neither rich tier starves the other:
    light iterations (and the small cost of loss-only ones) may take up to 1 - FULL_SHARE of it, full
    iterations the rest, and what light ones leave. Overhead is relative to the untraced run:
    traced time <= (1 + overhead) x untraced time.
    """

    FULL_SHARE = 0.3
    # What even loss-only iterations cost and no clock inside sees (patched entry points, evicted
    # caches): benchmarks/overhead.py measures it ("auto's floor"), 2-3.5% on its three models.
    FLOOR = 0.03

    def __init__(self, detail: str = "auto", overhead: float = 0.10):
        self.detail = detail
        self.overhead = max(overhead - self.FLOOR, overhead / 3)
        # the check on the whole: every iteration's wall time against loss-only iterations that
        # follow loss-only ones (the nearest to untraced), which catches costs that land later
        # (collections of the graph objects, evicted caches) and that no per-iteration price sees
        self.charged = 0
        self.walls = 0.0  # of the iterations after the two learning ones
        self.clean = [0.0, 0]  # total wall time and count of those loss-only iterations
        self._last = ""
        self.started = time.perf_counter()
        self.spent = {"full": 0.0, "light": 0.0}
        self.cost: dict[str, float | None] = {"full": None, "light": None}  # extra time of one such iteration
        # an iteration's time without the tracer's clocked work: from loss-only iterations (nearly
        # untraced) once there are some, from light ones before
        self.plain: float | None = None
        self.light_work: float | None = None

    @property
    def base(self) -> float | None:
        return self.plain if self.plain is not None else self.light_work

    def next_detail(self) -> str:
        if self.detail != "auto":
            return self.detail
        if self.cost["full"] is None:
            return "full"  # the first iteration is full (a script's first graph, with values), the next light
        if self.cost["light"] is None:
            return "light"
        if self._over():
            return "loss"
        spent = self.spent["full"] + self.spent["light"]
        work = time.perf_counter() - self.started - spent
        light_share = (1.0 - self.FULL_SHARE) * self.overhead
        if self.base:  # full iterations may use what light ones leave over
            light_share = min(light_share, self.cost["light"] / self.base)
        if self.spent["full"] + self.cost["full"] <= (self.overhead - light_share) * work:
            return "full"
        if self.spent["light"] + self.cost["light"] <= (1.0 - self.FULL_SHARE) * self.overhead * work:
            return "light"
        return "loss"

    def _over(self) -> bool:
        total, n = self.clean
        if n < 8:
            return False
        # means on both sides (not a median): the machine's slow spikes land in both alike
        return self.walls > (1.0 + self.overhead) * total / n * (self.charged - 2)

    def charge(self, detail: str, wall: float, own: float) -> None:
        """`wall`: the iteration's whole time; `own`: time clocked inside the tracer.

        A light or full iteration costs what it adds to a loss-only one's wall time when there are
        such (that counts what the clock misses: the script running slower on caches the tracer
        evicted), else at least its own time."""
        self.charged += 1
        if self.charged > 2:  # past the two learning iterations
            self.walls += wall
            if detail == "loss" and self._last == "loss":
                self.clean[0] += wall
                self.clean[1] += 1
        self._last = detail
        work = max(wall - own, 0.0)
        if detail == "loss":
            self.spent["light"] += own
            self.plain = _ema(self.plain, work, 0.2)
            return
        base = self.base
        # before a plain wall time is known (the first iterations, whose walls hold the script's own
        # warm-up: lazy initialisation, first allocations), only the clocked time is the tracer's
        cost = max(wall - base, own) if base is not None else own
        if detail == "full":
            self.spent["full"] += cost
            self.cost["full"] = _ema(self.cost["full"], cost, 0.3)
            return
        self.spent["light"] += cost
        self.cost["light"] = _ema(self.cost["light"], cost, 0.2)
        self.light_work = _ema(self.light_work, work, 0.2)


def _ema(old: float | None, new: float, weight: float) -> float:
    return new if old is None else (1.0 - weight) * old + weight * new


def _tracing(roots: list) -> bool:
    """True inside torch.compile's tracing (fake/functional tensors), which is not a real iteration."""
    if torch.compiler.is_compiling():
        return True
    return any(isinstance(t, torch.Tensor) and type(t) not in (torch.Tensor, torch.nn.Parameter) for t in roots)


class Tracer:
    """Installs the hooks; calls `sink(iteration)` after every completed backward."""

    def __init__(self, sink: Callable[[Iteration], None], detail: str = "auto",
                 overhead: float = 0.10, control: Control | None = None):
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {DETAILS}")
        self.sink = sink
        self.budget = Budget(detail, overhead)
        self.control = control or Control()
        self.names = Names()
        self.index = 0
        self.optimizer_steps = 0
        self.module_outputs: dict = {}  # grad_fn -> module path (forward hooks)
        self.module_calls: list = []  # (path, output fns, input fns)
        self._depth = 0
        self._local = threading.local()
        self._mode: CaptureMode | None = None
        self._saved: dict = {}
        self._handles: list = []
        self._boundary = time.perf_counter()
        self.wrapper_time = 0.0  # spent in the module-call wrapper since the last iteration ended
        self.failures = 0  # backwards the tracer failed on (the script went on)
        self._failed_kinds: set[str] = set()
        self._module_call = None
        self._detail = "light"  # of the iteration under way: full, light or loss (auto's budget spent)

    # ---- install / remove -------------------------------------------------
    def install(self) -> None:
        self._saved = {
            "Tensor.backward": torch.Tensor.backward,
            "autograd.backward": torch.autograd.backward,
            "autograd.grad": torch.autograd.grad,
        }
        orig_tb, orig_ab, orig_g = (self._saved[k] for k in self._saved)
        tracer = self

        def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
            return tracer._around([self], lambda: orig_tb(self, gradient, retain_graph, create_graph, inputs))

        def autograd_backward(tensors, *args, **kwargs):
            ts = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
            return tracer._around(ts, lambda: orig_ab(tensors, *args, **kwargs))

        def autograd_grad(outputs, inputs, *args, **kwargs):
            ts = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
            return tracer._around(ts, lambda: orig_g(outputs, inputs, *args, **kwargs), inputs)

        torch.Tensor.backward = tensor_backward
        torch.autograd.backward = autograd_backward
        torch.autograd.grad = autograd_grad
        self._saved["compile"] = orig_compile = torch.compile

        def compile(model=None, **kwargs):
            if model is None:  # used as @torch.compile(...)
                return lambda m: compile(m, **kwargs)
            return tracer._outside_capture(orig_compile(model, **kwargs))

        torch.compile = functools.wraps(orig_compile)(compile)
        self._saved["Module.__call__"] = orig_call = torch.nn.Module.__call__
        clock, is_compiling = time.perf_counter, torch.compiler.is_compiling

        def module_call(module, *args, **kwargs):
            # instead of global module hooks: any global hook sends every module call down torch's
            # slow path (~6 µs per call, 2-3% of a 20-layer-MLP step); this wrapper costs ~1 µs
            if is_compiling():  # dynamo inlines module calls: stay out of its way
                return orig_call(module, *args, **kwargs)
            t0 = clock()
            tracer._on_module_pre(module, args)
            out = None
            t1 = clock()
            try:
                out = orig_call(module, *args, **kwargs)
                return out
            finally:
                t2 = clock()
                tracer._on_module_post(module, args, out)
                tracer.wrapper_time += clock() - t2 + t1 - t0  # charged to the budget with the iteration

        self._module_call = module_call
        self._handles = [
            register_optimizer_step_pre_hook(self._on_optimizer_pre),
            register_optimizer_step_post_hook(self._on_optimizer_post),
        ]
        self._start_iteration()

    def uninstall(self) -> None:
        self._set_capture(False)
        if self._saved:
            torch.Tensor.backward = self._saved["Tensor.backward"]
            torch.autograd.backward = self._saved["autograd.backward"]
            torch.autograd.grad = self._saved["autograd.grad"]
            torch.compile = self._saved["compile"]
            torch.nn.Module.__call__ = self._saved["Module.__call__"]
            self._saved = {}
        for h in self._handles:
            h.remove()
        self._handles = []

    # ---- forward-time capture --------------------------------------------
    def _set_capture(self, on: bool) -> None:
        if on and self._mode is None:
            self._mode = CaptureMode(self)
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

    def _capturing(self) -> bool:
        return self._detail == "full" or self.control.stepping

    def _start_iteration(self) -> None:
        self._detail = self.budget.next_detail()
        if self._detail == "loss" and self._needs_graph():
            self._detail = "light"
        self._set_capture(self._capturing())
        # the module-call wrapper (names, module of each op) only where a graph will be kept: a
        # loss-only iteration runs the script's module calls untouched
        wrap = self._module_call if self._detail != "loss" else self._saved["Module.__call__"]
        if torch.nn.Module.__call__ is not wrap:
            torch.nn.Module.__call__ = wrap
        self._boundary = time.perf_counter()

    def _on_module_pre(self, module, args):
        if self._depth == 0 and not self.names.is_root(module):
            self.names.register_root(module)
        self._depth += 1

    def _on_module_post(self, module, args, output):
        self._depth = max(self._depth - 1, 0)
        fn = getattr(output, "grad_fn", None) if isinstance(output, torch.Tensor) else None
        if fn is None:
            return
        path = self.names.module_path.get(module)
        if path is None:
            return
        if any(isinstance(a, torch.Tensor) and a.grad_fn is fn for a in args):
            return  # the module passed its input through (Dropout(p=0), Identity): it made no op
        self.module_outputs[fn] = path
        if len(self.module_outputs) > 100_000:  # forward passes with no backward (evaluation)
            self.module_outputs.clear()
        if self._detail == "full":
            ins = [a.grad_fn for a in args if isinstance(a, torch.Tensor) and a.grad_fn is not None]
            self.module_calls.append((path, fn, ins))

    def _on_optimizer_pre(self, optimizer, args, kwargs):
        self.control.pause("optimizer_pre", {"optimizer": type(optimizer).__name__, "instance": optimizer})

    def _on_optimizer_post(self, optimizer, args, kwargs):
        self.optimizer_steps += 1
        self.control.pause("optimizer_post", {"optimizer": type(optimizer).__name__, "instance": optimizer})

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
        self.failures += 1
        where = f"{type(error).__name__}: {error}"
        if where not in self._failed_kinds:
            self._failed_kinds.add(where)
            print(f"backprop-studio: tracing failed in backward {self.index} ({where}); the script goes on, "
                  f"this backward is not recorded", file=sys.stderr)
        self._forget_forward(self._mode)
        self._start_iteration()

    def _forget_forward(self, mode: CaptureMode | None) -> None:
        """Drop what the forward of the iteration just ended left behind."""
        if mode is not None:
            mode.outputs.clear()
            mode.sources.clear()
        self.module_outputs.clear()
        self.module_calls.clear()

    def _iteration(self, roots: list, run: Callable, grad_inputs):
        t_begin = time.perf_counter()
        forward_time = t_begin - self._boundary
        mode = self._mode
        self._set_capture(False)
        detail = self._detail
        root = roots[0] if roots and isinstance(roots[0], torch.Tensor) else None
        if detail == "loss" and not self._needs_graph():
            return self._loss_only(root, run, t_begin, forward_time)
        detail = "light" if detail == "loss" else detail
        full = detail == "full"
        fns = [graph_mod.root_fn(t) for t in roots if isinstance(t, torch.Tensor)]
        outputs = mode.outputs if mode is not None else {}
        sources = mode.sources if mode is not None else {}
        with graph_mod.paused_gc():  # walk, names, annotation: no collector pass scanning it all meanwhile
            w = graph_mod.walk(fns)
            by_tensor, by_fn = naming.frame_names(sys._getframe(2))
            param_nodes = graph_mod.annotate(w, self.names.param_name, by_tensor, by_fn, self.module_outputs,
                                             sources)
        g = w.graph
        order = {fn: i for i, fn in enumerate(outputs)} if outputs else {}  # forward execution order
        batch = stats.Batch(light=not full)
        value_slot: dict[str, int] = {}
        values: dict[str, torch.Tensor] = {}  # node id -> forward output (full detail)
        grads: dict[str, torch.Tensor] = {}
        hooks = []
        after: list = []  # (node id, leaf) whose .grad after this backward is exactly its contribution
        if full:
            for k, fn in enumerate(w.fns):
                nid = f"n{k}"
                attrs = g.nodes[nid]
                tensor = fn.variable if attrs["kind"] in ("param", "leaf") else outputs.get(fn)
                if fn in order:
                    attrs["seq"] = order[fn]
                if tensor is None and k == 0:
                    tensor = root
                if tensor is not None:
                    value_slot[nid] = batch.add(tensor)
                    values[nid] = tensor
                hooks.append(fn.register_prehook(self._grad_hook(nid, grads)))
        else:  # light: a hook only where .grad cannot tell (accumulating, autograd.grad, node events)
            plain = grad_inputs is None and not self.control.wants_node_events()
            for nid in param_nodes:
                fn = w.fns[int(nid[1:])]
                var = fn.variable
                if plain and var.grad is None and not getattr(var, "_post_accumulate_grad_hooks", None):
                    after.append((nid, var))
                else:
                    hooks.append(fn.register_prehook(self._grad_hook(nid, grads)))
        if full:
            self._attribute_modules(g, w.ids)
        own = time.perf_counter() - t_begin
        self.control.pause("backward_begin", {"index": self.index, "graph": g, "walk": w, "detail": detail,
                                              "values": values})
        t_back = time.perf_counter()
        try:
            result = run()
        finally:
            for h in hooks:
                h.remove()
        t_after = time.perf_counter()
        for nid, var in after:
            if var.grad is not None:
                grads.setdefault(nid, var.grad)
        if grad_inputs is not None and result is not None:
            self._grads_of_inputs(w, grad_inputs, result, grads)
        grad_slot = {nid: batch.add(t, values=full) for nid, t in grads.items()}
        extra = [root.detach()] if root is not None and root.numel() == 1 else []
        summaries, host = batch.finish(extra)
        for nid, i in value_slot.items():
            g.nodes[nid]["value"] = summaries[i]
        for nid, i in grad_slot.items():
            g.nodes[nid]["grad"] = summaries[i]
        params = {}
        for nid in param_nodes:
            s = g.nodes[nid].get("grad")
            label = g.nodes[nid]["name"] or nid
            if s is not None:
                params[label] = {"grad_norm": s.get("norm"), "nan": s.get("nan", 0), "inf": s.get("inf", 0)}
        self._forget_forward(mode)
        self._deliver(Iteration(
            index=self.index, loss=host[0] if extra else None, optimizer_steps=self.optimizer_steps,
            signature=w.signature, graph=g, detail=detail,
            phase_times={"forward": forward_time, "backward": t_after - t_back}, params=params,
        ))
        end = time.perf_counter()
        own += end - t_after
        self._charge(detail, end, own)
        return result

    def _deliver(self, it: Iteration) -> None:
        self.index += 1
        self.sink(it)
        self.control.pause("backward_end", {"iteration": it})

    def _charge(self, detail: str, end: float, own: float) -> None:
        self.budget.charge(detail, end - self._boundary, own + self.wrapper_time)
        self.wrapper_time = 0.0
        self._start_iteration()

    def _needs_graph(self) -> bool:
        """A loss-only iteration will not do: someone watches, or a breakpoint reads gradient norms."""
        control = self.control
        return control.stepping or control.wants_node_events() \
            or any(c[0] == "grad_norm" for c in getattr(control, "conditions", ()))

    def _loss_only(self, root, run: Callable, t_begin: float, forward_time: float):
        """Auto detail with its budget spent: run the backward, keep the loss (one transfer), no graph."""
        t_back = time.perf_counter()
        result = run()
        t_after = time.perf_counter()
        extra = [root.detach()] if root is not None and root.numel() == 1 else []
        loss = stats.Batch(light=True).finish(extra)[1][0] if extra else None
        self._forget_forward(None)
        self._deliver(Iteration(index=self.index, loss=loss, optimizer_steps=self.optimizer_steps, signature="",
                                graph=nx.DiGraph(), detail="loss",
                                phase_times={"forward": forward_time, "backward": t_after - t_back}))
        end = time.perf_counter()
        self._charge("loss", end, (t_back - t_begin) + (end - t_after))
        return result

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

    def _grads_of_inputs(self, w, inputs, result, grads: dict) -> None:
        inputs = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
        for t, gr in zip(inputs, result, strict=False):
            if isinstance(t, torch.Tensor) and gr is not None and t.grad_fn is None and t.requires_grad:
                node = graph_mod.root_fn(t)
                nid = w.ids.get(node)
                if nid is not None:
                    grads.setdefault(nid, gr)

    def _attribute_modules(self, g, ids: dict) -> None:
        """Each op between a module call's inputs and its output belongs to that module."""
        for path, out_fn, in_fns in reversed(self.module_calls):  # outer first: inner calls win
            start = ids.get(out_fn)
            if start is None:
                continue
            stop = {ids[f] for f in in_fns if f in ids}
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
