"""Holding off Python's cyclic collector while many objects are allocated (reference counting
still frees almost everything).

Walking a big autograd graph or building 10k boxes allocates hundreds of thousands of objects,
which triggers full collections of ~0.1 s each, on whichever thread allocates, while it holds the
GIL. Pauses nest and may come from several threads: the collector comes back on after the last.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_holds = [0, False]  # pauses outstanding, whether the collector was on before the first


def pause() -> None:
    with _lock:
        if _holds[0] == 0:
            _holds[1] = gc.isenabled()
            gc.disable()
        _holds[0] += 1


def resume() -> None:
    with _lock:
        if _holds[0] == 0:
            return
        _holds[0] -= 1
        if _holds[0] == 0 and _holds[1]:
            gc.enable()


@contextmanager
def paused():
    pause()
    try:
        yield
    finally:
        resume()
