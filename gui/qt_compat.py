"""Work-arounds for the pinned Qt binding, applied once when `gui` is imported.

PySide6 6.12.0 on CPython 3.11 hands back None from every void method (QWidget.update,
QPainter.setPen, ...) and True from some virtual-method round trips without taking a new
reference, so each call lowers that object's reference count by one; after about 16,000 calls the
interpreter aborts ("Fatal Python error: none_dealloc: deallocating None", or bool_dealloc).
CPython 3.12 made these singletons immortal (their count never matters); we do the same by hand
by giving them a reference count that no number of such calls can exhaust.
"""

from __future__ import annotations

import ctypes
import sys

_RESERVE = 1 << 60  # ~1e18 lost references before it could matter
_SINGLETONS = (None, True, False, Ellipsis, NotImplemented)


def pin_singletons() -> None:
    """Make None, True, False, ... effectively immortal (CPython < 3.12 only; a no-op elsewhere)."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    for obj in _SINGLETONS:
        refcount = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field of every object
        if refcount.value < _RESERVE // 2:
            refcount.value += _RESERVE
