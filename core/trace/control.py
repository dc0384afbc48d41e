"""Pause points and breakpoints: what the tracer asks at each point of an iteration.

`Control` is what the tracer calls; `NoControl` never pauses. `Breakpoints` is the headless control
(`record --break-on`); `Stepper` is the interactive one: it blocks the script thread inside the hook
while paused, and a command thread tells it what to do next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from ..conditions import parse_condition
from ..iteration import SINK, Iteration, first_nonfinite, node_id, total_grad_norm
from . import graph as graph_mod
from . import stats
from .throttle import Throttle

# Which pause points end each step command.
STEP_TARGETS = {
    "step_forward_op": frozenset({"forward_op", "backward_begin"}),
    "step_node": frozenset({"backward_node", "backward_end"}),
    "step_phase": frozenset({"backward_begin", "backward_end", "optimizer_pre", "optimizer_post"}),
    "step_iteration": frozenset({"backward_end"}),
}


class Control(Protocol):
    """What the tracer asks at each pause point (POINTS in core/session/protocol.py)."""

    stepping: bool  # while True the forward is captured op by op

    def pause(self, point: str, info: dict) -> None: ...

    def wants_node_events(self) -> bool: ...


class NoControl:
    """Never pauses."""

    stepping = False

    def pause(self, point: str, info: dict) -> None:
        pass

    def wants_node_events(self) -> bool:
        return False


class BreakHit(BaseException):
    """Raised inside the script to stop it at a breakpoint (BaseException: scripts don't catch it)."""

    def __init__(self, info: dict):
        super().__init__(info["reason"])
        self.info = info


class StopRun(BaseException):
    """Raised inside the script at a pause point when the user pressed Stop."""


def _compare(x: float, op: str, y: float) -> bool:
    return {">": x > y, "<": x < y, ">=": x >= y, "<=": x <= y, "=": x == y}[op]


def check(conditions: list[tuple[str, str, float]], it: Iteration) -> dict | None:
    """The first condition `it` meets, as a break record, or None."""
    for what, op, value in conditions:
        node = None
        if what == "nonfinite":
            if not it.nonfinite:
                continue
            node, reason = first_nonfinite(it.graph) or _root(it), "nonfinite"
        elif what == "loss":
            if it.loss is None or not _compare(it.loss, op, value):
                continue
            node, reason = _root(it), f"loss{op}{value:g} (loss={it.loss:g})"
        elif what == "grad_norm":
            norm = total_grad_norm(it.params)
            if norm is None or not _compare(norm, op, value):
                continue
            reason = f"grad_norm{op}{value:g} (grad_norm={norm:g})"
        else:
            if not _compare(it.index, op, value):
                continue
            reason = f"iteration{op}{int(value)}"
        a = it.graph.nodes[node] if node is not None else {}
        return {"reason": reason, "iteration": it.index, "node": node, "op": a.get("op"),
                "name": a.get("name"), "source": a.get("source")}
    return None


def _root(it: Iteration) -> str | None:
    return SINK if SINK in it.graph else None


def _fill_values(graph, tensors: dict) -> None:
    """Value summaries of `tensors` (node id -> tensor) onto the graph's nodes (one transfer)."""
    for nid, summary in zip(tensors, stats.summarize(list(tensors.values())), strict=True):
        graph.nodes[nid]["value"] = summary


def detail_for(detail: str, conditions: list[tuple[str, str, float]]) -> str:
    """`auto` becomes `full` under a nonfinite breakpoint: naming the first non-finite op needs
    every op's forward value."""
    if detail == "auto" and any(c[0] == "nonfinite" for c in conditions):
        return "full"
    return detail


class Breakpoints(NoControl):
    """Headless control: never pauses; stops the script at the first breakpoint hit."""

    def __init__(self, conditions: list[str]):
        self.conditions = [parse_condition(c) for c in conditions]

    def pause(self, point: str, info: dict) -> None:
        if point == "backward_end" and self.conditions:
            hit = check(self.conditions, info["iteration"])
            if hit:
                raise BreakHit(hit)


Emit = Callable[[str, dict], None]


def _ignore(kind: str, data: dict) -> None:
    pass


class Stepper:
    """Interactive control: run / pause / step / run-to, breakpoints, events for the GUI.

    `pause()` runs in the script thread; `command()` and `stop()` in the command thread.
    """

    def __init__(self, emit: Emit, conditions: list[str] = (), paused: bool = True):
        self.emit = emit
        self.conditions = [parse_condition(c) for c in conditions]
        self.mode = "pause" if paused else "run"  # pause | step | run | run_to
        self.targets: frozenset = frozenset()
        self.until = 0
        self.rate: float | None = None
        self.seq = 0  # the last command applied; `paused` events carry it
        self.stopping = False
        self.blocked = False
        self.last_break: dict | None = None
        self.tracer = None
        self.writer = None
        self._name_of: Callable = lambda t: None
        self._cond = threading.Condition()
        self._reason = "start" if paused else ""
        self._hit: dict | None = None
        self._graph = None
        self._index = 0
        self._pending_done: Iteration | None = None
        self._done_throttle = Throttle()
        self._last_end = 0.0

    def attach(self, tracer, writer=None, name_of: Callable | None = None) -> None:
        """The tracer whose counters we read, the recording to add to, and who names leaf tensors."""
        self.tracer = tracer
        self.writer = writer
        self._name_of = name_of or tracer.names.param

    def detach(self) -> None:
        """In a process forked from the script: never pause, send and record nothing."""
        self.mode, self.rate, self.conditions, self.writer = "run", None, [], None
        self.emit = _ignore

    @property
    def stepping(self) -> bool:
        return self.mode in ("pause", "step")

    @property
    def watching(self) -> bool:
        """The user looks at every step: send full data for each pause point."""
        return self.mode in ("pause", "step") or (self.mode == "run" and self.rate is not None)

    def wants_node_events(self) -> bool:
        return self.watching

    # ---- command thread ------------------------------------------------------
    def command(self, kind: str, args: dict, seq: int) -> None:
        """Apply one command (already validated by core.protocol)."""
        with self._cond:
            self.seq = seq
            if kind == "pause":
                self.mode, self._reason = "pause", "pause"
            elif kind == "run":
                self.mode, self.rate = "run", args.get("rate")
            elif kind in STEP_TARGETS:
                self.mode, self.targets, self._reason = "step", STEP_TARGETS[kind], kind
            elif kind == "run_to":
                self.mode, self.until, self._reason = "run_to", args["iteration"], "run_to"
            elif kind == "stop":
                self.stopping = True
            elif kind == "set_detail" and self.tracer is not None:
                self.tracer.set_detail(args["detail"])
            elif kind == "set_breakpoints":
                try:
                    self.conditions = [parse_condition(c) for c in args["conditions"]]
                except ValueError as e:
                    self.emit("protocol_error", {"message": str(e)})
            self._cond.notify_all()

    def stop(self) -> bool:
        """Stop at the next pause point; True when the script is blocked in one right now."""
        with self._cond:
            self.stopping = True
            self._cond.notify_all()
            return self.blocked

    # ---- script thread -------------------------------------------------------
    def pause(self, point: str, info: dict) -> None:
        if self.stopping:
            raise StopRun()
        if point == "forward_op":
            index = self.tracer.index
        elif point == "backward_begin":
            index = self._on_begin(info)
        elif point == "backward_node":
            index = self._on_node(info)
        elif point == "backward_end":
            index = self._on_end(info["iteration"])
        else:
            index = self.tracer.index - 1  # the optimizer step follows the last backward
        self._maybe_block(point, index, info)

    def _maybe_block(self, point: str, index: int, info: dict) -> None:
        with self._cond:
            if point == "backward_end" and self.mode == "run" and self.rate:
                self._wait_rate()
            hit, self._hit = self._hit, None
            stop_here = hit is not None or self.mode == "pause" \
                or (self.mode == "step" and point in self.targets) \
                or (self.mode == "run_to" and point == "backward_end" and index >= self.until)
            if self.stopping:
                raise StopRun()
            if not stop_here:
                return
            reason = "break" if hit else self._reason
            self.mode, self._reason, self.blocked = "pause", "pause", True
            seq = self.seq
        try:
            self._flush_done()
            if self.writer is not None:
                self.writer.commit()  # a paused run's recording is complete up to here, for the timeline
            data = {"point": point, "index": index, "seq": seq, "reason": reason}
            data.update(self._where(point, info))
            self.emit("paused", data)
            with self._cond:
                while self.mode == "pause" and not self.stopping:
                    self._cond.wait()
        finally:
            self.blocked = False
        if self.stopping:
            raise StopRun()
        if point.startswith("optimizer") and self.stepping:
            self.tracer.capture_forward()  # the next forward was to run uncaptured (free run before)

    def _wait_rate(self) -> None:
        deadline = self._last_end + 1.0 / self.rate
        while self.mode == "run" and self.rate and not self.stopping:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            self._cond.wait(left)
        self._last_end = time.perf_counter()

    def _where(self, point: str, info: dict) -> dict:
        if point == "forward_op":
            return {"op": info.get("op"), "source": info.get("source"),
                    "graph": self._partial(info.get("outputs") or {})}
        if point == "backward_node":
            a = self._graph.nodes[info["node"]] if self._graph is not None else {}
            return {"node": info["node"], "op": a.get("op"), "name": a.get("name")}
        if point in ("optimizer_pre", "optimizer_post"):
            return {"op": info.get("optimizer")}
        return {}

    def _partial(self, outputs: dict) -> dict:
        """The forward graph so far (while stepping op by op), as Iteration-json with values."""
        fns = list(outputs)[::-1]
        w = graph_mod.walk(fns)
        tensors = {}
        for k, fn in enumerate(w.fns):
            leaf = getattr(fn, "variable", None)  # AccumulateGrad's tensor
            if leaf is not None:
                w.graph.nodes[node_id(k)]["name"] = self._name_of(leaf)
            if (t := leaf if leaf is not None else outputs.get(fn)) is not None:
                tensors[node_id(k)] = t
        _fill_values(w.graph, tensors)
        # detail "forward": a graph still growing (views compare structures of complete graphs only)
        it = Iteration(self.tracer.index, None, self.tracer.optimizer_steps, w.signature, w.graph, "forward")
        return it.to_json()

    def _on_begin(self, info: dict) -> int:
        self._index, self._graph = info["index"], info["graph"]
        walk = info.get("walk")
        if self.watching:
            _fill_values(self._graph, info.get("values") or {})  # forward values on screen during backward
            for nid, summary in (info.get("summaries") or {}).items():  # taken in the forward (before watching)
                self._graph.nodes[nid]["value"] = summary
            sig = walk.signature if walk is not None else ""
            it = Iteration(self._index, None, self.tracer.optimizer_steps, sig, self._graph,
                           info.get("detail", "full"))
            self.emit("graph_ready", {"iteration": {**it.to_json(), "grads_pending": True}})
        return self._index

    def _on_node(self, info: dict) -> int:
        grad = info.get("grad")
        summary = stats.summarize([grad])[0] if grad is not None else None
        a = self._graph.nodes[info["node"]] if self._graph is not None else {}
        self.emit("node_grad", {"index": self._index, "node": info["node"], "op": a.get("op"),
                                "grad": summary})
        return self._index

    def _on_end(self, it: Iteration) -> int:
        self.emit("iteration", {"index": it.index, "loss": it.loss, "optimizer_steps": it.optimizer_steps,
                                "signature": it.signature, "detail": it.detail, "params": it.params,
                                "nonfinite": it.nonfinite})
        self._pending_done = it
        if self.watching or self._done_throttle.ready():
            self._flush_done()
        hit = check(self.conditions, it) if self.conditions else None
        if hit:
            self._hit = self.last_break = hit
            self.emit("break", hit)
        return it.index

    def _flush_done(self) -> None:
        """Send the last finished iteration's graph (throttled while running freely)."""
        it, self._pending_done = self._pending_done, None
        if it is not None:
            started = time.perf_counter()
            self.emit("backward_done", {"iteration": it.to_json()})
            self._done_throttle.charge(time.perf_counter() - started)

    def finish(self) -> None:
        """The script ended: send what is still pending."""
        self._flush_done()
