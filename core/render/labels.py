"""A node in words and colour, the one definition: graph boxes, DOT/SVG exports, the inspector, messages.

Pure functions of a node's attributes (core/iteration.py NODE_FIELDS); the GUI imports this module alone.
"""

from __future__ import annotations

from ..iteration import node_nonfinite, nonfinite

FILLS = {"param": "#cfe8ff", "leaf": "#d9f2d9", "custom": "#ffe0b3", "op": "#f2f2f2"}
NONFINITE_FILL = "#ff8080"


def node_name(a: dict) -> str:
    """A node's short name: its variable or parameter name, else its op."""
    return a.get("name") or a.get("op") or "?"


def node_title(a: dict) -> str:
    """A node in one line: its op and, when it has one, its name in brackets (`AddmmBackward0 (h)`)."""
    return " ".join(x for x in (a.get("op"), f"({a['name']})" if a.get("name") else None) if x) or "?"


def node_label(a: dict) -> str:
    """Text of a node's box: op (or name for leaves), shape, and a short value/grad readout."""
    head = a.get("name") if a.get("kind") in ("param", "leaf") and a.get("name") else a.get("op", "?")
    lines = [head]
    if a.get("kind") not in ("param", "leaf") and a.get("name"):
        lines.append(f"= {a['name']}")
    if a.get("shape") is not None:
        lines.append("×".join(str(s) for s in a["shape"]) or "scalar")
    # accumulated: earlier backwards' sum still in .grad, what the optimizer uses
    for key, tag in (("value", "val"), ("grad", "grad"), ("accumulated", ".grad")):
        s = a.get(key)
        if s and (s.get("mean") is not None or s.get("norm") is not None or nonfinite(s)):
            lines.append(f"{tag} {_short(s)}")
    return "\n".join(lines)


def _short(s: dict) -> str:
    """A summary in a few characters; a light one (norm and NaN/Inf counts only) by its norm."""
    if nonfinite(s):
        return f"NaN×{s.get('nan', 0)} Inf×{s.get('inf', 0)}"
    if s.get("mean") is None:
        return f"‖·‖ {s['norm']:.3g}"
    if s.get("min") == s.get("max"):
        return f"{s['min']:.4g}"
    return f"μ {s['mean']:.3g} ‖·‖ {s['norm']:.3g}"


def node_fill(a: dict) -> str:
    """Fill colour of a node in the exports: by kind, red when its value or gradient has NaN/Inf."""
    return NONFINITE_FILL if node_nonfinite(a) else FILLS.get(a.get("kind"), FILLS["op"])
