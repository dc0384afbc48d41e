"""Exports of a recording: JSON, DOT, SVG/PNG (graphviz), CSV of per-iteration scalars."""

from __future__ import annotations

import csv
import json
import math

import networkx as nx

from ..doctor.diagnose import diagnose_recording
from ..iteration import kept_graph
from ..recording.store import Recording
from .labels import node_fill, node_label
from .layout import DOT_MAX_NODES
from .svg import to_svg

FORMATS = ("json", "dot", "svg", "png", "csv")


def _clean(obj):
    """JSON without NaN/Infinity tokens: non-finite floats become strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def to_json(rec: Recording) -> dict:
    iterations = []
    for i in rec.indices():
        iterations.append(rec.iteration(i).to_json())
    return _clean({
        "status": rec.status, "error": rec.meta.get("error"), "break": rec.meta.get("break"),
        "script": rec.meta.get("script"), "argv": rec.meta.get("argv"),
        "console": "".join(t for _, _, t in rec.console()),
        "rank": rec.rank, "world_size": rec.world_size, "ranks": rec.ranks,
        "findings": diagnose_recording(rec),  # the doctor's, ranks-diverge across every rank included
        "iterations": iterations,
    })


def _quoted(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, lines as `\\n`, every other character as it is (DOT
    reads UTF-8; JSON's `\\u00d7` escapes would be drawn as `u00d7`)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(g: nx.DiGraph, title: str = "") -> str:
    """Graphviz source of one iteration's graph, forward edges top to bottom."""
    out = ["digraph G {", '  rankdir=TB; node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    if title:
        out.append(f"  label={_quoted(title)};")
    for n, a in g.nodes(data=True):
        out.append(f"  {n} [label={_quoted(node_label(a))}, fillcolor={_quoted(node_fill(a))}];")
    out.extend(f"  {u} -> {v};" for u, v in g.edges())
    out.append("}")
    return "\n".join(out) + "\n"


SCALAR_COLUMNS = ("index", "loss", "optimizer_steps", "signature", "detail", "forward_time", "backward_time")


def write(rec: Recording, fmt: str, out: str, iteration: int | None = None) -> None:
    """Write the recording (or one iteration of it) in `fmt` to `out`."""
    if fmt == "json":
        with open(out, "w", encoding="utf-8") as f:
            json.dump(to_json(rec), f, ensure_ascii=False)
        return
    if fmt == "csv":
        with open(out, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=SCALAR_COLUMNS, extrasaction="ignore")
            w.writeheader()
            w.writerows(rec.scalars())
        return
    indices = rec.indices()
    if not indices:
        raise ValueError("the recording has no iterations to draw")
    if iteration is not None and iteration not in indices:
        raise ValueError(f"no iteration {iteration} (the recording has {indices[0]}..{indices[-1]})")
    kept = [r["index"] for r in rec.scalars() if kept_graph(r["detail"])]  # older recordings: not all
    if iteration is None:
        index = kept[-1] if kept else indices[-1]
    elif iteration in kept or not kept:
        index = iteration
    else:
        before = [i for i in kept if i < iteration]
        raise ValueError(f"iteration {iteration} kept only its loss (recorded by an older version), no graph; "
                         f"the nearest with one: {before[-1] if before else kept[0]}")
    g = rec.iteration(index).graph
    if fmt in ("svg", "dot"):
        with open(out, "w", encoding="utf-8") as f:
            f.write(svg_of(g, f"iteration {index}") if fmt == "svg" else to_dot(g, f"iteration {index}"))
        return
    import graphviz

    data = graphviz.Source(to_dot(g, f"iteration {index}")).pipe(format=fmt)
    with open(out, "wb") as f:
        f.write(data)


def svg_of(g: nx.DiGraph, title: str) -> str:
    """The graph as an SVG document: graphviz's drawing, or ours above DOT_MAX_NODES nodes (dot is
    superlinear: ~80 s at 10k nodes)."""
    if g.number_of_nodes() > DOT_MAX_NODES:
        return to_svg(g, title, node_label, node_fill)
    import graphviz

    return graphviz.Source(to_dot(g, title)).pipe(format="svg", encoding="utf-8")
