"""core.layout: every engine places every node, edges point down, boxes never overlap."""

from __future__ import annotations

import math
import threading
from collections import defaultdict

import pytest

from backprop_studio.core.render import layout as L

ENGINES = ("dot", "ogdf", "layered")


def autograd_like(n: int) -> tuple[list, list]:
    """A chain with residual skips and a parameter leaf feeding every third op (like an MLP)."""
    nodes = [(f"n{i}", 60 + (i % 3) * 25, 28 + (i % 2) * 12) for i in range(n)]
    edges = []
    for i in range(1, n):
        if i % 3 == 0:
            edges.append((f"n{i}", f"n{i - 1}"))  # a leaf into the chain
        else:
            edges.append((f"n{i - 1}", f"n{i}"))
        if i % 7 == 0 and i > 5:
            edges.append((f"n{i - 5}", f"n{i}"))
    return nodes, edges


def overlaps(pos: dict, nodes: list) -> list:
    """Pairs of boxes that intersect (grid buckets, so 10k nodes are cheap)."""
    size = {n: (w, h) for n, w, h in nodes}
    cell = max(max(w, h) for _, w, h in nodes) + 1
    grid = defaultdict(list)
    for n, (x, y) in pos.items():
        w, h = size[n]
        for gx in range(int((x - w / 2) // cell), int((x + w / 2) // cell) + 1):
            for gy in range(int((y - h / 2) // cell), int((y + h / 2) // cell) + 1):
                grid[gx, gy].append(n)
    bad = set()
    for members in grid.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                (xa, ya), (xb, yb) = pos[a], pos[b]
                if (abs(xa - xb) < (size[a][0] + size[b][0]) / 2 - 1e-6
                        and abs(ya - yb) < (size[a][1] + size[b][1]) / 2 - 1e-6):
                    bad.add((min(a, b), max(a, b)))
    return sorted(bad)


def check_drawing(pos: dict, nodes: list, edges: list) -> None:
    assert set(pos) == {n for n, _, _ in nodes}
    assert all(math.isfinite(x) and math.isfinite(y) for x, y in pos.values())
    up = [(u, v) for u, v in edges if not pos[u][1] < pos[v][1]]
    assert up == [], f"{len(up)} edges do not point down, e.g. {up[:3]}"
    assert overlaps(pos, nodes) == []
    size = {n: (w, h) for n, w, h in nodes}
    assert min(pos[n][0] - size[n][0] / 2 for n in pos) == pytest.approx(0, abs=1e-6)
    assert min(pos[n][1] - size[n][1] / 2 for n in pos) == pytest.approx(0, abs=1e-6)


def longest_path(nodes: list, edges: list) -> int:
    succ = defaultdict(list)
    indeg = {n: 0 for n, _, _ in nodes}
    for u, v in edges:
        succ[u].append(v)
        indeg[v] += 1
    depth = dict.fromkeys(indeg, 0)
    todo = [n for n, d in indeg.items() if d == 0]
    while todo:
        u = todo.pop()
        for v in succ[u]:
            depth[v] = max(depth[v], depth[u] + 1)
            indeg[v] -= 1
            if indeg[v] == 0:
                todo.append(v)
    return max(depth.values())


def test_engines_are_available_here():
    assert L.available("dot") and L.available("ogdf") and L.available("layered")


@pytest.mark.parametrize("engine", ENGINES)
def test_single_node_and_no_edges(engine):
    assert L.layout([("a", 50, 20)], [], engine) == {"a": (25.0, 10.0)}
    nodes = [(f"x{i}", 40, 20) for i in range(5)]
    check_drawing(L.layout(nodes, [], engine), nodes, [])


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_graph(engine):
    assert L.layout([], [], engine) == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_disconnected_diamonds(engine):
    nodes, edges = [], []
    for k in range(3):
        a, b, c, d = (f"{k}{s}" for s in "abcd")
        nodes += [(a, 50, 20), (b, 70, 30), (c, 30, 20), (d, 50, 40)]
        edges += [(a, b), (a, c), (b, d), (c, d)]
    pos = L.layout(nodes, edges, engine)
    check_drawing(pos, nodes, edges)
    for k in range(3):  # b and c share a layer between a and d
        assert pos[f"{k}b"][1] == pytest.approx(pos[f"{k}c"][1], abs=10)


@pytest.mark.parametrize("engine", ENGINES)
def test_duplicate_edges_and_self_loops_are_harmless(engine):
    nodes = [("a", 40, 20), ("b", 40, 20)]
    pos = L.layout(nodes, [("a", "b"), ("a", "b"), ("b", "b")], engine)
    check_drawing(pos, nodes, [("a", "b")])


@pytest.mark.parametrize("engine", ENGINES)
def test_cycle_is_drawn_with_one_edge_up(engine):
    nodes = [(c, 40, 20) for c in "abcd"]
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")]
    pos = L.layout(nodes, edges, engine)
    assert set(pos) == set("abcd") and overlaps(pos, nodes) == []
    assert sum(pos[u][1] < pos[v][1] for u, v in edges) == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_layering_invariants_agree_across_engines(engine):
    nodes, edges = autograd_like(120)
    pos = L.layout(nodes, edges, engine)
    check_drawing(pos, nodes, edges)
    levels = sorted({round(y, 3) for y in (p[1] for p in pos.values())})
    assert len(levels) >= longest_path(nodes, edges) + 1
    chain = [(f"c{i}", 50, 20) for i in range(30)]
    cpos = L.layout(chain, [(f"c{i}", f"c{i + 1}") for i in range(29)], engine)
    assert [n for n, _ in sorted(cpos.items(), key=lambda kv: kv[1][1])] == [f"c{i}" for i in range(30)]
    assert len({round(x, 3) for x, _ in cpos.values()}) == 1  # a chain is a straight column


@pytest.mark.parametrize("engine", ("ogdf", "layered"))
def test_ten_thousand_nodes(engine):
    nodes, edges = autograd_like(10_000)
    check_drawing(L.layout(nodes, edges, engine), nodes, edges)


def test_auto_uses_dot_for_small_and_ogdf_for_large_graphs():
    small = autograd_like(40)
    assert L.layout(*small) == L.layout(*small, engine="dot")
    big = autograd_like(L.DOT_MAX_NODES + 50)
    assert L.layout(*big) == L.layout(*big, engine="ogdf")


def test_auto_falls_back_when_engines_fail(monkeypatch):
    nodes, edges = autograd_like(30)

    def broken(sizes, pairs):
        raise L.LayoutError("broken")

    monkeypatch.setitem(L._RUN, "dot", broken)
    assert L.layout(nodes, edges) == L.layout(nodes, edges, "ogdf")
    monkeypatch.setitem(L._RUN, "ogdf", broken)
    pos = L.layout(nodes, edges)
    assert pos == L.layout(nodes, edges, "layered")
    check_drawing(pos, nodes, edges)
    with pytest.raises(L.LayoutError):
        L.layout(nodes, edges, "dot")  # an engine asked for by name reports its failure


def test_dot_timeout_is_a_layout_error():
    nodes, edges = autograd_like(200)
    sizes, pairs = L._check(nodes, edges)
    with pytest.raises(L.LayoutError, match="longer than"):
        L.dot(sizes, pairs, timeout=1e-4)


@pytest.mark.parametrize(("nodes", "edges", "message"), [
    ([("a", 1, 1)], [("a", "zz")], "unknown node 'zz'"),
    ([("a", 1, 1), ("a", 2, 2)], [], "given twice"),
    ([("a", 1)], [], "must be \\(id, width, height\\)"),
    ([("a", -1, 1)], [], "negative"),
    ([("a", 1, 1)], [("a",)], "must be \\(source, target\\)"),
])
def test_bad_input_gets_a_clear_message(nodes, edges, message):
    with pytest.raises(ValueError, match=message):
        L.layout(nodes, edges)


def test_unknown_engine():
    with pytest.raises(ValueError, match="unknown layout engine 'neato'"):
        L.layout([("a", 1, 1)], [], "neato")


def test_worker_threads_get_the_same_drawing():
    nodes, edges = autograd_like(3000)
    expected = L.layout(nodes, edges, "ogdf")
    results = []
    threads = [threading.Thread(target=lambda: results.append(L.layout(nodes, edges, "ogdf"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 3


def test_the_layout_process_is_reused_and_restarted_when_it_dies():
    """Big graphs are laid out in one child process kept between layouts (what a 10k-node view
    waits for is the layout, not a Python start); killed, the next layout starts a new one."""
    from backprop_studio.core.render import layout_worker as GL

    nodes, edges = autograd_like(GL.SUBPROCESS_ABOVE + 200)
    worker = GL._worker
    first = GL.run_layout(nodes, edges)
    proc = worker.proc
    assert proc is not None and proc.poll() is None
    assert first == {k: tuple(v) for k, v in L.layout(nodes, edges).items()}  # same as in process
    assert GL.run_layout(nodes, edges) == first and worker.proc is proc
    proc.kill()
    proc.wait()
    assert GL.run_layout(nodes, edges) == first and worker.proc is not proc
    with pytest.raises(RuntimeError, match="unknown node"):
        GL.run_layout(nodes, edges + [("n0", "nowhere")])
    assert worker.proc.poll() is None  # a bad request does not cost the process
    worker.stop()
    assert worker.proc is None


def test_a_new_large_layout_cancels_a_stale_one_still_running():
    """The wanted drawing never waits behind one nobody wants any more (up to 180 s before)."""
    from backprop_studio.core.render import layout_worker as GL

    worker = GL.Worker()
    nodes, edges = autograd_like(GL.SUBPROCESS_ABOVE + 200)
    worker.layout(nodes, edges)  # the process is up
    results = []

    def stale():
        try:
            results.append(worker.layout(*autograd_like(8000)))
        except GL.Cancelled as e:
            results.append(e)

    t = threading.Thread(target=stale)
    t.start()
    while worker.running is None and t.is_alive():
        threading.Event().wait(0.005)
    wanted = worker.layout(nodes, edges)
    t.join(60)
    assert isinstance(results[0], GL.Cancelled)
    assert wanted == {k: tuple(v) for k, v in L.layout(nodes, edges).items()}
    worker.stop()
