"""SVG of a large iteration graph, written directly: OGDF positions, boxes, straight edges.

graphviz `dot` needs ~80 s for a 10k-node graph (superlinear); this takes well under a
second, so `export --format svg` uses it above core.layout.DOT_MAX_NODES nodes.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from .layout import layout

CHAR_W = 7.0  # points per character of the 12 pt label font (generous for Helvetica)
LINE_H = 15.0
PAD = 6.0
ARROW = 7.0  # arrowhead length
FONT = "Helvetica, Arial, 'WenQuanYi Micro Hei', sans-serif"


def box_size(label: str) -> tuple[float, float]:
    """Width and height in points of a node box holding `label` (one line per row)."""
    lines = label.split("\n")
    return max(len(s) for s in lines) * CHAR_W + 2 * PAD, len(lines) * LINE_H + 2 * PAD


def to_svg(g: nx.DiGraph, title: str, label, fill) -> str:
    """The graph as an SVG document; `label(attrs)` and `fill(attrs)` give each node's text and colour."""
    labels = {n: label(a) for n, a in g.nodes(data=True)}
    sizes = {n: box_size(t) for n, t in labels.items()}
    pos = layout([(n, w, h) for n, (w, h) in sizes.items()], list(g.edges()))
    margin, head = 20.0, (30.0 if title else 0.0)
    right = max((pos[n][0] + sizes[n][0] / 2 for n in pos), default=0.0)
    bottom = max((pos[n][1] + sizes[n][1] / 2 for n in pos), default=0.0)
    width, height = right + 2 * margin, bottom + 2 * margin + head
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.1f} {height:.1f}" font-family={quoteattr(FONT)} font-size="12">',
        f'<rect width="{width:.1f}" height="{height:.1f}" fill="white"/>',
    ]
    if title:
        out.append(f'<text x="{width / 2:.1f}" y="{margin + 14:.1f}" text-anchor="middle" '
                   f'font-size="16">{escape(title)}</text>')
    out.append(f'<g transform="translate({margin:.1f},{margin + head:.1f})">')
    out.append('<g class="edges">')
    for u, v in g.edges():  # a line and its arrowhead per edge (no markers: SVG Tiny viewers lack them)
        x1, y1 = pos[u][0], pos[u][1] + sizes[u][1] / 2
        x2, y2 = pos[v][0], pos[v][1] - sizes[v][1] / 2
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        bx, by = x2 - ARROW * ux, y2 - ARROW * uy
        out.append(f'<path id={quoteattr(f"{u}->{v}")} d="M{x1:.1f},{y1:.1f} L{bx:.1f},{by:.1f}" stroke="#555"/>'
                   f'<path d="M{x2:.1f},{y2:.1f} L{bx - 0.45 * ARROW * uy:.1f},{by + 0.45 * ARROW * ux:.1f} '
                   f'L{bx + 0.45 * ARROW * uy:.1f},{by - 0.45 * ARROW * ux:.1f} z" fill="#555"/>')
    out.append('</g><g class="nodes">')
    for n, a in g.nodes(data=True):
        (x, y), (w, h) = pos[n], sizes[n]
        top = y - h / 2 + PAD + LINE_H * 0.8
        texts = "".join(f'<text x="{x:.1f}" y="{top + i * LINE_H:.1f}" text-anchor="middle">{escape(s)}</text>'
                        for i, s in enumerate(labels[n].split("\n")))
        out.append(f'<g id={quoteattr(n)}><rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" '
                   f'height="{h:.1f}" rx="4" fill={quoteattr(fill(a))} stroke="#333"/>{texts}</g>')
    out.append("</g></g></svg>")
    return "\n".join(out) + "\n"
