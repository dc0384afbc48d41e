"""Pause points and breakpoints: what the tracer asks at each point of an iteration."""

from __future__ import annotations

import math
import re

from core.iteration import Iteration, first_nonfinite
from core.tracer import Control

_COND = re.compile(r"^\s*(loss|grad_norm|iteration)\s*(>=|<=|>|<|=|==)\s*([-+0-9.eE]+|inf|nan)\s*$")


class BreakHit(BaseException):
    """Raised inside the script to stop it at a breakpoint (BaseException: scripts don't catch it)."""

    def __init__(self, info: dict):
        super().__init__(info["reason"])
        self.info = info


def parse_condition(text: str) -> tuple[str, str, float]:
    """`nonfinite`, `loss>X`, `loss<X`, `grad_norm>X`, `grad_norm<X`, `iteration=N`."""
    if text.strip() == "nonfinite":
        return ("nonfinite", "", 0.0)
    m = _COND.match(text)
    if not m:
        raise ValueError(f"bad breakpoint {text!r}: use nonfinite, 'loss>X', 'grad_norm>X', 'iteration=N'")
    what, op, value = m.groups()
    return (what, "=" if op == "==" else op, float(value))


def _compare(x: float, op: str, y: float) -> bool:
    return {">": x > y, "<": x < y, ">=": x >= y, "<=": x <= y, "=": x == y}[op]


def total_grad_norm(it: Iteration) -> float | None:
    norms = [p["grad_norm"] for p in it.params.values() if p.get("grad_norm") is not None]
    return math.sqrt(sum(n * n for n in norms)) if norms else None


def check(conditions: list[tuple[str, str, float]], it: Iteration) -> dict | None:
    """The first condition `it` meets, as a break record, or None."""
    for what, op, value in conditions:
        node = None
        if what == "nonfinite":
            node = first_nonfinite(it.graph)
            if node is None and it.loss is not None and not math.isfinite(it.loss):
                node = _root(it)
            if node is None:
                continue
            reason = "nonfinite"
        elif what == "loss":
            if it.loss is None or not _compare(it.loss, op, value):
                continue
            node, reason = _root(it), f"loss{op}{value:g} (loss={it.loss:g})"
        elif what == "grad_norm":
            norm = total_grad_norm(it)
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
    return "n0" if "n0" in it.graph else None


class Breakpoints(Control):
    """Headless control: never pauses; stops the script at the first breakpoint hit."""

    def __init__(self, conditions: list[str]):
        self.conditions = [parse_condition(c) for c in conditions]
        self.needs_full = any(c[0] == "nonfinite" for c in self.conditions)

    def pause(self, point: str, info: dict) -> None:
        if point == "backward_end" and self.conditions:
            hit = check(self.conditions, info["iteration"])
            if hit:
                raise BreakHit(hit)
