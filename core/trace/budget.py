"""How much of each iteration the tracer records: the detail levels and the `auto` budget."""

from __future__ import annotations

from ..iteration import DEFAULT_DETAIL


class Budget:
    """Decides each iteration's detail under `auto`: every iteration is at least `light` (its graph, the
    loss, parameter gradient norms and NaN/Inf counts); `full` (values and gradients of every node)
    goes where the budget allows.

    The budget: tracing may make an iteration take (1 + overhead) x its untraced time, or ALLOWANCE
    (absolute) where that is more, so scripts with sub-millisecond steps (lessons, students' scripts)
    get `full` on every iteration while a 10 ms step keeps its 10%. Light iterations are charged what
    the tracer clocks; full ones what they add to a light iteration's untraced time.
    """

    ALLOWANCE = 3e-3  # seconds: a lesson-sized graph recorded at full detail takes 1.5-2.5 ms here

    def __init__(self, detail: str = DEFAULT_DETAIL, overhead: float = 0.10):
        self.detail = detail
        self.overhead = overhead
        self.allowed = 0.0  # what tracing may have cost so far
        self.spent = 0.0  # what it did cost
        self.plain: float | None = None  # an iteration's untraced time (light iterations, less own time)
        self.full_cost: float | None = None  # what a full iteration adds
        self._first_own: float | None = None  # the first iteration's clocked time, until a full one is measured

    def next_detail(self) -> str:
        if self.detail != "auto":
            return self.detail
        if self.full_cost is None:
            return "full"  # the script's first graph, with values
        if self.plain is None:
            return "light"  # learn the untraced time
        return "full" if self.spent + self.full_cost <= self.allowed else "light"

    def allowance(self, plain: float) -> float:
        return max(self.overhead * plain, self.ALLOWANCE - plain)

    def charge(self, detail: str, wall: float, own: float) -> None:
        """`wall`: the iteration's whole time; `own`: time clocked inside the tracer."""
        work = max(wall - own, 0.0)
        if detail == "full":
            # before a plain time is known (the first iteration, whose wall holds the script's warm-up)
            # only the clocked time is the tracer's; the first measured full iteration then charges
            # what the first one must have cost beyond that
            if self.plain is None:
                cost = own
                self._first_own = own
            else:
                cost = max(wall - self.plain, own)
                if self._first_own is not None:
                    self.spent += max(cost - self._first_own, 0.0)
                    self._first_own = None
            self.full_cost = _ema(self.full_cost, cost, 0.3)
        else:
            cost = own
            self.plain = _ema(self.plain, work, 0.2)
        self.spent += cost
        self.allowed += self.allowance(self.plain if self.plain is not None else work)


def _ema(old: float | None, new: float, weight: float) -> float:
    return new if old is None else (1.0 - weight) * old + weight * new
