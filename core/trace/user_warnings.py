"""Warnings the script triggers are told once, at the script's line.

At full detail every op runs inside CaptureMode.__torch_function__, so a warning that names its
caller (PyTorch's `stacklevel=2`, or any warning raised in C++) names our frame: it was shown as
`core/trace/capture.py`, and once more at the user's line on the iterations run without the
capture. While the tracer is installed, a warning attributed to our code is issued again at the
innermost user frame, with that module's filters and registry: exactly as a plain run shows it.
"""

from __future__ import annotations

import os
import re
import sys
import warnings

from ..boot import PACKAGE, ROOT
from .naming import user_frames

_CORE = os.path.join(os.path.realpath(ROOT), "core") + os.sep


def _ours(filename: str) -> bool:
    return os.path.realpath(filename).startswith(_CORE)


def install() -> tuple:
    """Route warnings attributed to our code to the user's line; returns what `restore` needs."""
    original = warnings._showwarnmsg

    def show(msg) -> None:
        frame = next(user_frames(sys._getframe(1)), None) if _ours(msg.filename) else None
        if frame is None:
            original(msg)
            return
        g = frame.f_globals
        warnings.warn_explicit(msg.message, msg.category, frame.f_code.co_filename, frame.f_lineno,
                               module=g.get("__name__"), registry=g.setdefault("__warningregistry__", {}),
                               module_globals=g, source=msg.source)

    # every warning attributed to us reaches `show` (no registry of ours hides a second user line)
    warnings.filterwarnings("always", module=re.escape(PACKAGE) + r"\.core\.")
    entry = warnings.filters[0]
    warnings._showwarnmsg = show
    return entry, show, original


def restore(saved: tuple) -> None:
    if not saved:  # never installed
        return
    entry, show, original = saved
    if entry in warnings.filters:
        warnings.filters.remove(entry)
        warnings._filters_mutated()
    if warnings._showwarnmsg is show:
        warnings._showwarnmsg = original
