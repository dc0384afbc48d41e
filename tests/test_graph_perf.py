"""core.graph's fast paths give exactly what the plain, obvious code gives (no timing here)."""

from __future__ import annotations

import sys

import networkx as nx
import torch
from torch import nn
from torch.autograd.function import BackwardCFunction

from backprop_studio.core.trace import graph as graph_mod
from backprop_studio.core.trace.graph import walk
from backprop_studio.core.trace.naming import Names


def node_kind(fn) -> str:
    """The oracle's own kind rule (core/trace/graph.py decides it per grad_fn class)."""
    if isinstance(fn, BackwardCFunction):
        return "custom"
    if type(fn).__name__ == "AccumulateGrad":
        return "param" if isinstance(fn.variable, torch.nn.Parameter) else "leaf"
    return "op"


def reference_walk(roots: list) -> tuple[nx.DiGraph, dict]:
    """The obvious walk: public networkx API, str() of dtypes, next_functions read twice."""
    ids, fns, nodes = {}, [], []
    stack = [fn for fn in reversed(roots) if fn is not None]
    while stack:
        fn = stack.pop()
        if fn in ids:
            continue
        ids[fn] = f"n{len(fns)}"
        fns.append(fn)
        op = type(fn).__name__
        if op == "AccumulateGrad":
            t = fn.variable
            shape, dtype, device = list(t.shape), str(t.dtype), str(t.device)
        elif fn._input_metadata:
            m = fn._input_metadata[0]
            shape, dtype, device = list(m.shape), str(m.dtype), str(m.device)
        else:
            shape, dtype, device = [], "", ""
        dim = None
        if op in ("SoftmaxBackward0", "LogSoftmaxBackward0"):  # autograd keeps dim -1 as 2**64 - 1
            dim = (fn._saved_dim - 2 ** 64 if fn._saved_dim >= 2 ** 63 else fn._saved_dim) % len(shape)
        nodes.append((ids[fn], {"op": op, "kind": node_kind(fn), "shape": shape, "device": device,
                                "dtype": dtype.removeprefix("torch."), "name": None, "module": None,
                                "source": None, "module_type": None, "dim": dim}))
        stack.extend(c for c, _ in reversed(fn.next_functions) if c is not None and c not in ids)
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from((ids[c], ids[fn]) for fn in fns for c, _ in fn.next_functions if c is not None)
    return g, ids


def same_graph(a: nx.DiGraph, b: nx.DiGraph) -> None:
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges()) == list(b.edges())
    assert [list(a.predecessors(n)) for n in a] == [list(b.predecessors(n)) for n in b]
    assert nx.utils.graphs_equal(a, b)
    assert all(a.succ[u][v] is a.pred[v][u] for u, v in a.edges())  # one data dict per edge


def mixed_graph():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    x = torch.randn(3, 4, requires_grad=True)
    h = net(x)
    h2 = h * h  # the same input twice: a duplicate edge
    z = torch.complex(h2, h2).abs().double().sum() + x.sum()
    return z


def test_walk_equals_the_reference_walk():
    z = mixed_graph()
    w = walk([z.grad_fn])
    ref, ids = reference_walk([z.grad_fn])
    same_graph(w.graph, ref)
    assert w.ids == ids
    assert [w.fns[k] for k in w.leaves] == [fn for fn in ids if type(fn).__name__ == "AccumulateGrad"]


def test_fast_digraph_supports_mutation_like_a_normal_one():
    w = walk([mixed_graph().grad_fn])
    ref, _ = reference_walk([mixed_graph().grad_fn])
    for g in (w.graph, ref):
        g.add_edge("n0", "extra")
        g.remove_node("n1")
        g.nodes["n0"]["name"] = "loss"
    same_graph(w.graph, ref)
    assert nx.is_directed_acyclic_graph(w.graph)


def test_signature_tracks_structure_not_values():
    def build(scale: float, depth: int):
        x = torch.ones(3, requires_grad=True)
        for _ in range(depth):
            x = x * scale
        return walk([x.sum().grad_fn]).signature

    assert build(2.0, 3) == build(5.0, 3)
    assert build(2.0, 3) != build(2.0, 4)
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.ones(3, 2, requires_grad=True)
    assert walk([a.sum().grad_fn]).signature != walk([b.sum().grad_fn]).signature  # shapes count


def test_deep_chain_walk_does_not_recurse():
    x = torch.ones(2, requires_grad=True)
    y = x
    n = 50 * sys.getrecursionlimit()
    for _ in range(n):
        y = y * 1.0001
    w = walk([y.grad_fn])
    assert w.graph.number_of_nodes() == n + 1
    assert w.graph.number_of_edges() == n
    assert w.graph.in_degree("n0") == 1 and w.graph.out_degree(f"n{n}") == 1
    assert w.graph.nodes[f"n{n}"]["kind"] == "leaf"


def test_annotate_sets_only_what_it_knows():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    x = torch.randn(4, 3, requires_grad=True)
    out = net(x)
    loss = out.pow(2).sum()
    w = walk([loss.grad_fn])
    names = Names()
    names.param_name[net.weight], names.param_name[net.bias] = "weight", "bias"
    named = graph_mod.annotate(w, names, {id(x): "x"},
                               {out.grad_fn: "out"}, {out.grad_fn: "Linear"}, {loss.grad_fn: "t.py:3"})
    g = w.graph
    assert sorted(g.nodes[n]["name"] for n in named) == ["bias", "weight", "x"]
    assert g.nodes[w.ids[out.grad_fn]]["name"] == "out"
    assert g.nodes[w.ids[out.grad_fn]]["module"] == "Linear"
    assert g.nodes[w.ids[loss.grad_fn]]["source"] == "t.py:3"
    assert [a["name"] for _, a in g.nodes(data=True) if a["op"] == "PowBackward0"] == [None]


def test_idmap_is_a_weak_identity_map():
    import gc
    import weakref

    from backprop_studio.core.trace.naming import IdMap

    m = IdMap()
    a, b = torch.ones(2), torch.ones(2)  # equal values, different tensors
    m[a] = "a"
    assert m.get(a) == "a" and m.get(b) is None and a in m and b not in m
    m[a] = "again"
    assert m.get(a) == "again" and len(m) == 1
    probe = weakref.ref(a)
    del a
    gc.collect()
    assert probe() is None and len(m) == 0  # the map neither keeps its keys alive nor their entries
    for _ in range(200):  # a new object at a freed address is never mistaken for the old key
        t = torch.zeros(2)
        assert m.get(t) is None
        m[t] = "t"
        del t
    gc.collect()
    assert len(m) == 0


def test_record_parent_and_gui_side_do_not_import_torch():
    """`main.py record` only spawns the traced child, the GUI never computes: neither pays torch's import."""
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys; import tests, backprop_studio.main, backprop_studio.core.session.session, backprop_studio.core.conditions, "
            "backprop_studio.core.render.export, backprop_studio.gui.bridge; assert 'torch' not in sys.modules, 'torch imported'; "
            "import backprop_studio.core.trace.control; assert 'torch' in sys.modules")  # the check itself can fail
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    assert done.returncode == 0, done.stderr


def test_recording_stores_a_repeated_structure_once_and_tells_changes_apart(tmp_path):
    """The writer's shortcut for repeated structures keeps every iteration's own names and shapes."""
    from backprop_studio.core.iteration import Iteration
    from backprop_studio.core.recording.store import Recording, RecordingWriter

    def iteration(index: int, width: int, name: str) -> Iteration:
        x = torch.ones(width, requires_grad=True)
        w = walk([(x * 2).sum().grad_fn])
        w.graph.nodes[f"n{len(w.graph) - 1}"]["name"] = name
        return Iteration(index, float(index), 0, w.signature, w.graph, "light")

    path = str(tmp_path / "r.bps")
    writer = RecordingWriter(path)
    plan = [(3, "x"), (3, "x"), (4, "x"), (3, "y"), (3, "x")]
    for i, (width, name) in enumerate(plan):
        writer.add_iteration(iteration(i, width, name))
    writer.close("finished")
    rec = Recording(path)
    assert rec.db.execute("SELECT COUNT(*) FROM graphs").fetchone()[0] == 3
    for i, (width, name) in enumerate(plan):
        g = rec.iteration(i).graph
        leaf = g.nodes[f"n{len(g) - 1}"]
        assert (leaf["name"], leaf["shape"]) == (name, [width])


def test_a_deep_graph_seen_by_the_walk_dies_without_overflowing_the_c_stack():
    """torch frees nodes that Python has seen recursively (a 100k chain overflows 8 MB of C stack);
    the walk holds their objects until the graph is gone and lets them go root first."""
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = """if True:
        import torch
        from backprop_studio.core.trace import graph
        def chain():
            y = torch.ones(2, requires_grad=True)
            for _ in range(100_000):
                y = y * 1.0001
            return y
        y = chain()
        w = graph.walk([y.grad_fn])
        assert len(graph._held) == 1 and w.graph.number_of_nodes() == 100_001
        y.sum().backward()
        del w, y                                 # the graph dies while its node objects are held
        graph.walk([chain().grad_fn])            # the next walk lets the dead one go, holds the new one
        assert len(graph._held) == 1
        print("ok")
    """
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr[-2000:])
