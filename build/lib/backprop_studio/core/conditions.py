"""Breakpoint conditions (`--break-on`): parsed without torch, so the parent process and the GUI,
which only validate them, never pay torch's import (seconds)."""

from __future__ import annotations

import re

_COND = re.compile(r"^\s*(loss|grad_norm|iteration)\s*(>=|<=|>|<|=|==)\s*([-+0-9.eE]+|inf|nan)\s*$")
_USAGE = "use nonfinite, 'loss>X', 'loss<X', 'grad_norm>X', 'grad_norm<X', 'iteration=N'"


def parse_condition(text: str) -> tuple[str, str, float]:
    """`nonfinite`, `loss>X`, `loss<X`, `grad_norm>X`, `grad_norm<X`, `iteration=N`."""
    if text.strip() == "nonfinite":
        return ("nonfinite", "", 0.0)
    m = _COND.match(text)
    try:
        what, op, value = m.groups() if m else ("", "", "")
        number = float(value)
    except ValueError:
        raise ValueError(f"bad breakpoint {text!r}: {_USAGE}") from None
    return (what, "=" if op == "==" else op, number)
