"""Blocking waits on a traced script, for tests and benchmarks: the app never blocks on its child (it
watches the socket), so these live here, not in core/session. They read a Channel's queue (a Session,
a DistributedSession's rank) or a DistributedSession's ranks."""

from __future__ import annotations

import time

from backprop_studio.core.distributed.live import DistributedSession
from backprop_studio.core.session.protocol import Event


def wait_paused(s, timeout: float = 10) -> list[Event]:
    """Events up to and including the next `paused` after the last command (every rank's, for a
    DistributedSession), or `finished`; TimeoutError if none comes within `timeout` seconds."""
    if isinstance(s, DistributedSession):
        return _ranks_paused(s, timeout)
    want = s._seq
    out: list[Event] = []
    deadline = time.monotonic() + timeout
    while True:
        s._pump()
        while s._queue:
            ev = s._queue.popleft()
            out.append(ev)
            if ev is s.finished or (ev.kind == "paused" and (ev.data.get("seq") or 0) >= want):
                return out
        if not s._wait_readable(deadline):
            s._queue.extendleft(reversed(out))
            raise TimeoutError(f"no pause within {timeout} s")


def _ranks_paused(s: DistributedSession, timeout: float) -> list[Event]:
    deadline = time.monotonic() + timeout
    out = s.events()
    while s.finished is None and not (len(s.ranks) == s.nproc and all(c.paused for c in s._live())):
        if not s._wait(deadline):
            raise TimeoutError(f"the ranks did not all pause within {timeout} s")
        out += s.events()
    return out


def send_and_wait(s, command: str, timeout: float = 10, **args) -> list[Event]:
    """Send `command` (step_node, step_phase, step_iteration, step_forward_op, run_to) and wait for
    the pause it ends in."""
    s.send(command, **args)
    return wait_paused(s, timeout)


def wait_finished(s, timeout: float) -> Event:
    """The `finished` event (a Session's other events stay queued for `events()`; a
    DistributedSession's are dropped)."""
    deadline = time.monotonic() + timeout
    if isinstance(s, DistributedSession):
        while s.finished is None and s._wait(deadline):
            s.events()
    else:
        while s.finished is None:
            s._pump()
            if s.finished is None and not s._wait_readable(deadline):
                break
    if s.finished is None:
        raise TimeoutError(f"the script did not finish within {timeout} s")
    return s.finished
