"""Layered (top-to-bottom) graph layout: node sizes in, node centres out.

    layout(nodes, edges, engine="auto") -> {node id: (x, y)}

`nodes` are (id, width, height) in points, `edges` (source, target) pairs. The
result places every node's centre so that edges point down (y grows downward,
as on screen) and boxes do not overlap; the drawing's top-left corner is (0, 0).

Engines: "dot" (graphviz, nicest, superlinear: small graphs), "ogdf" (OGDF's
Sugiyama through the `ogdf-py` wheel: 10k nodes in ~0.1 s), "layered" (pure
Python longest-path layering and barycentre ordering, the last resort), and
"auto" (dot up to DOT_MAX_NODES, OGDF above, "layered" if neither works).
Pure Python, no Qt: safe to call from a worker thread.
"""

from __future__ import annotations

import shutil
import subprocess
import threading

ENGINES = ("auto", "dot", "ogdf", "layered")
DOT_MAX_NODES = 300  # dot is superlinear: 0.07 s at 500 nodes, 7 s at 5k
DOT_TIMEOUT = 20.0  # seconds before dot is abandoned for the next engine
H_GAP = 24.0  # points between neighbouring boxes in a layer
V_GAP = 24.0  # points between layers

Nodes = list[tuple[str, float, float]]
Edges = list[tuple[str, str]]
Positions = dict[str, tuple[float, float]]


class LayoutError(Exception):
    """An engine could not lay the graph out (missing, failed, or timed out)."""


def layout(nodes: Nodes, edges: Edges, engine: str = "auto") -> Positions:
    """Centres of `nodes` in a top-to-bottom layered drawing of `edges` (see module doc)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown layout engine {engine!r}; choose one of {', '.join(ENGINES)}")
    sizes, pairs = _check(nodes, edges)
    if not sizes:
        return {}
    if engine == "auto":
        order = ["dot", "ogdf"] if len(sizes) <= DOT_MAX_NODES else ["ogdf"]
    elif engine == "layered":
        order = []
    else:
        order = [engine]
    for name in order:
        try:
            return _normalise(_RUN[name](sizes, pairs), sizes)
        except LayoutError:
            if engine != "auto":
                raise
    return _normalise(layered(sizes, pairs), sizes)


def available(engine: str) -> bool:
    """True when `engine` can run here (dot on PATH, ogdf importable)."""
    if engine == "dot":
        return shutil.which("dot") is not None
    if engine == "ogdf":
        try:
            import ogdf  # noqa: F401
        except ImportError:
            return False
    return engine in ENGINES


# ---- input -----------------------------------------------------------------
def _check(nodes: Nodes, edges: Edges) -> tuple[dict, list]:
    """Sizes by id and de-duplicated edges without self-loops; clear errors for bad input."""
    sizes: dict[str, tuple[float, float]] = {}
    for item in nodes:
        try:
            nid, w, h = item
            w, h = float(w), float(h)
        except (TypeError, ValueError):
            raise ValueError(f"layout: a node must be (id, width, height), got {item!r}") from None
        if nid in sizes:
            raise ValueError(f"layout: node {nid!r} given twice")
        if not (w >= 0 and h >= 0):
            raise ValueError(f"layout: node {nid!r} has a negative or NaN size {w} x {h}")
        sizes[nid] = (w, h)
    pairs = []
    seen = set()
    for e in edges:
        try:
            u, v = e
        except (TypeError, ValueError):
            raise ValueError(f"layout: an edge must be (source, target), got {e!r}") from None
        for end in (u, v):
            if end not in sizes:
                raise ValueError(f"layout: edge {e!r} names an unknown node {end!r}")
        if u != v and (u, v) not in seen:
            seen.add((u, v))
            pairs.append((u, v))
    return sizes, pairs


def _normalise(pos: dict, sizes: dict) -> Positions:
    """Shift so the drawing's top-left corner is (0, 0)."""
    left = min(pos[n][0] - sizes[n][0] / 2 for n in sizes)
    top = min(pos[n][1] - sizes[n][1] / 2 for n in sizes)
    return {n: (pos[n][0] - left, pos[n][1] - top) for n in sizes}


# ---- graphviz dot ------------------------------------------------------------
def dot(sizes: dict, pairs: list, timeout: float = DOT_TIMEOUT) -> dict:
    """Centres from `dot -Tplain` (inches, y up) converted to points, y down."""
    exe = shutil.which("dot")
    if exe is None:
        raise LayoutError("graphviz `dot` is not installed")
    index = {n: i for i, n in enumerate(sizes)}
    lines = ["digraph G {", f"rankdir=TB; nodesep={H_GAP / 72:.3f}; ranksep={V_GAP / 72:.3f};",
             'node [shape=box, fixedsize=true, label=""];']
    lines += [f"v{i} [width={w / 72:.4f}, height={h / 72:.4f}];" for i, (w, h) in enumerate(sizes.values())]
    # edges between ops weigh more than a parameter's or leaf's edge (from a source): the chain of ops
    # stays straight instead of drifting sideways past each layer's parameters (a CNN: 3x narrower)
    sources = set(sizes) - {v for _, v in pairs}
    lines += [f"v{index[u]} -> v{index[v]}" + ("" if u in sources else " [weight=8]") + ";" for u, v in pairs]
    lines.append("}")
    try:
        done = subprocess.run([exe, "-Tplain"], input="\n".join(lines), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LayoutError(f"dot took longer than {timeout:g} s") from None
    except OSError as e:
        raise LayoutError(f"dot could not run: {e}") from None
    if done.returncode != 0:
        raise LayoutError(f"dot failed: {done.stderr.strip()[:300]}")
    names = list(sizes)
    height = 0.0
    pos = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "graph":
            height = float(parts[3])
        elif parts and parts[0] == "node":
            pos[names[int(parts[1][1:])]] = (float(parts[2]) * 72, (height - float(parts[3])) * 72)
    if len(pos) != len(sizes):
        raise LayoutError(f"dot placed {len(pos)} of {len(sizes)} nodes")
    return pos


# ---- OGDF Sugiyama -----------------------------------------------------------
_ogdf_lock = threading.Lock()  # OGDF has one process-wide random engine


def ogdf(sizes: dict, pairs: list, runs: int = 1) -> dict:
    """Centres from OGDF's Sugiyama layout (y grows downward, sources on top)."""
    try:
        import ogdf as og
    except ImportError:
        raise LayoutError("the ogdf-py package is not installed") from None
    with _ogdf_lock:
        try:
            with og.seeded(1):  # the same graph always gets the same drawing
                g = og.Graph()
                vs = {n: g.new_node() for n in sizes}
                for u, v in pairs:
                    g.new_edge(vs[u], vs[v])
                ga = og.GraphAttributes(g, og.NODE_GRAPHICS | og.EDGE_GRAPHICS)
                for n, (w, h) in sizes.items():
                    ga.set_width(vs[n], w + H_GAP)  # OGDF packs boxes nearly touching
                    ga.set_height(vs[n], h + V_GAP)
                sugiyama = og.SugiyamaLayout()
                sugiyama.set_runs(runs)
                sugiyama.call(ga)
                return {n: (ga.x(v), ga.y(v)) for n, v in vs.items()}
        except og.OGDFError as e:
            raise LayoutError(f"OGDF failed: {e}") from None


# ---- pure Python fallback ----------------------------------------------------
def layered(sizes: dict, pairs: list, sweeps: int = 4) -> dict:
    """Longest-path layering, barycentre ordering, left-to-right packing. O(sweeps * (V + E))."""
    names = list(sizes)
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    succ: list[list[int]] = [[] for _ in range(n)]
    for u, v in pairs:
        succ[index[u]].append(index[v])
    succ = _acyclic(succ)
    pred: list[list[int]] = [[] for _ in range(n)]
    for u in range(n):
        for v in succ[u]:
            pred[v].append(u)
    layer = _longest_path(succ, pred)
    layers: list[list[int]] = [[] for _ in range(max(layer) + 1)]
    for v in _dfs_order(succ, pred):
        layers[layer[v]].append(v)
    slot = [0.0] * n
    for row in layers:
        for i, v in enumerate(row):
            slot[v] = float(i)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        for row in layers[1:] if down else reversed(layers[:-1]):
            near = pred if down else succ
            keys = {v: (sum(slot[u] for u in near[v]) / len(near[v]) if near[v] else slot[v]) for v in row}
            row.sort(key=keys.__getitem__)
            for i, v in enumerate(row):
                slot[v] = float(i)
    return _place(names, sizes, layers, pred)


def _acyclic(succ: list[list[int]]) -> list[list[int]]:
    """The same graph with each back edge of an iterative DFS reversed."""
    n = len(succ)
    state = [0] * n  # 0 new, 1 on the stack, 2 done
    back = set()
    for start in range(n):
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, 0)]
        while stack:
            v, i = stack[-1]
            if i < len(succ[v]):
                stack[-1] = (v, i + 1)
                w = succ[v][i]
                if state[w] == 1:
                    back.add((v, w))
                elif state[w] == 0:
                    state[w] = 1
                    stack.append((w, 0))
            else:
                state[v] = 2
                stack.pop()
    if not back:
        return succ
    out: list[list[int]] = [[] for _ in range(n)]
    for v in range(n):
        for w in succ[v]:
            if (v, w) in back:
                if v not in out[w]:
                    out[w].append(v)
            elif w not in out[v]:
                out[v].append(w)
    return out


def _longest_path(succ: list[list[int]], pred: list[list[int]]) -> list[int]:
    """Layer = longest path from a source; sources then move down next to their first consumer."""
    n = len(succ)
    indeg = [len(p) for p in pred]
    todo = [v for v in range(n) if indeg[v] == 0]
    layer = [0] * n
    order = []
    while todo:
        v = todo.pop()
        order.append(v)
        for w in succ[v]:
            if layer[v] + 1 > layer[w]:
                layer[w] = layer[v] + 1
            indeg[w] -= 1
            if indeg[w] == 0:
                todo.append(w)
    for v in order:  # parameter leaves sit just above the op that uses them
        if not pred[v] and succ[v]:
            layer[v] = min(layer[w] for w in succ[v]) - 1
    return layer


def _dfs_order(succ: list[list[int]], pred: list[list[int]]) -> list[int]:
    """Nodes in an iterative DFS order from the sources: a decent initial ordering."""
    seen = [False] * len(succ)
    out = []
    for start in [v for v in range(len(succ)) if not pred[v]] + list(range(len(succ))):
        if seen[start]:
            continue
        seen[start] = True
        stack = [start]
        while stack:
            v = stack.pop()
            out.append(v)
            for w in reversed(succ[v]):
                if not seen[w]:
                    seen[w] = True
                    stack.append(w)
    return out


def _place(names: list, sizes: dict, layers: list[list[int]], pred: list[list[int]]) -> dict:
    """x: under the mean of the predecessors, pushed right to clear the left neighbour; y: by layer."""
    wh = [sizes[name] for name in names]
    x = [0.0] * len(names)
    pos = {}
    top = 0.0
    for row in layers:
        if not row:
            continue
        tall = max(wh[v][1] for v in row)
        right = -H_GAP  # right edge of the previous box in this row
        for v in row:
            half = wh[v][0] / 2
            least = right + H_GAP + half
            x[v] = max(sum(x[u] for u in pred[v]) / len(pred[v]), least) if pred[v] else least
            right = x[v] + half
            pos[names[v]] = (x[v], top + tall / 2)
        top += tall + V_GAP
    return pos


_RUN = {"dot": dot, "ogdf": ogdf}
