"""SVG export of large graphs: written directly from core.layout positions (no dot), valid and complete."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import torch

from backprop_studio.core.iteration import Iteration
from backprop_studio.core.recording.store import Recording, RecordingWriter
from backprop_studio.core.render import export, labels
from backprop_studio.core.render.layout import DOT_MAX_NODES
from backprop_studio.core.trace.graph import walk

SVG = "{http://www.w3.org/2000/svg}"


def recording_of(tmp_path, n_ops: int) -> tuple[str, Iteration]:
    x = torch.ones(3, requires_grad=True)
    y = x
    for i in range(n_ops):
        y = torch.tanh(y) if i % 2 else y * 1.5
    w = walk([y.sum().grad_fn])
    g = w.graph
    g.nodes[f"n{len(g) - 1}"]["name"] = "x<&>\"名\""  # text that must be escaped, and CJK
    g.nodes["n1"]["grad"] = {"shape": [3], "dtype": "float32", "device": "cpu", "norm": float("nan"),
                             "nan": 3, "inf": 0}
    it = Iteration(0, 1.0, 0, w.signature, g, "light")
    path = str(tmp_path / "run.bps")
    writer = RecordingWriter(path)
    writer.add_iteration(it)
    writer.close("finished")
    return path, it


def test_large_graph_svg_is_complete_and_points_down(tmp_path):
    path, it = recording_of(tmp_path, DOT_MAX_NODES + 100)
    out = str(tmp_path / "g.svg")
    export.write(Recording(path), "svg", out)
    root = ET.parse(out).getroot()
    assert "graphviz" not in open(out, encoding="utf-8").read(2000).lower()
    boxes = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}
    assert set(boxes) == set(it.graph.nodes)
    lines = {p.get("id"): p.get("d") for p in root.iter(f"{SVG}path") if p.get("id")}
    assert set(lines) == {f"{u}->{v}" for u, v in it.graph.edges()}
    for d in lines.values():  # "Mx1,y1 Lx2,y2": every edge points down
        (_, y1), (_, y2) = (map(float, p[1:].split(",")) for p in d.split())
        assert y1 < y2
    leaf = boxes[f"n{len(it.graph) - 1}"]
    assert "".join(leaf.itertext()).startswith('x<&>"名"')
    assert boxes["n1"].find(f"{SVG}rect").get("fill") == "#ff8080"  # NaN gradient
    assert boxes["n0"].find(f"{SVG}rect").get("fill") == labels.node_fill(it.graph.nodes["n0"])
    rects = [b.find(f"{SVG}rect") for b in boxes.values()]
    spans = [(float(r.get("x")), float(r.get("x")) + float(r.get("width")),
              float(r.get("y")), float(r.get("y")) + float(r.get("height"))) for r in rects]
    by_row: dict = {}
    for s in spans:
        by_row.setdefault(round(s[2] + s[3], 1), []).append(s)
    for row in by_row.values():  # boxes in one layer do not overlap
        row.sort()
        assert all(a[1] <= b[0] + 1e-6 for a, b in zip(row, row[1:], strict=False))


def test_small_graph_svg_still_comes_from_dot(tmp_path):
    path, _ = recording_of(tmp_path, 20)
    out = str(tmp_path / "g.svg")
    export.write(Recording(path), "svg", out)
    assert "graphviz" in open(out, encoding="utf-8").read(2000).lower()
