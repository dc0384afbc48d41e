"""Work done while a script runs freely, kept within a rate and a share of the wall time."""

from __future__ import annotations

import time


class Throttle:
    """At most `rate` times a second, and at most `share` of the wall time spent on the work."""

    def __init__(self, rate: float = 30.0, share: float = 0.02):
        self.interval = 1.0 / rate
        self.share = share
        self._next = 0.0

    def ready(self) -> bool:
        return time.perf_counter() >= self._next

    def charge(self, cost: float) -> None:
        """The work took `cost` seconds: wait long enough to keep it within the share."""
        self._next = time.perf_counter() + max(self.interval, cost / self.share)
