"""What the graph view draws, computed without Qt: module grouping, labels, sizes, diffs.

An Iteration's graph becomes a *display graph*: every node, except that nodes inside a
collapsed module are folded into one box per module (id "module:<path>"). Everything here is
pure Python so the layout worker can run it off the UI thread.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

from ...core.iteration import node_number, nonfinite
from ...core.render.labels import node_label

TREE_MIN = 6  # the module tree opens its biggest box while it shows fewer boxes than this
GROUP_PREFIX = "module:"
CALL = "#"  # "module:<path>#2": the second call of a module called several times (calls())
TITLE_SLACK = 2  # characters a module box may widen by to show its class beside its path (title())
READOUT_CHARS = 26  # width reserved for a "val …" / "grad …" line, so numbers never resize a node


@dataclass
class DisplayGraph:
    """Boxes and edges to lay out: ids are graph node ids or GROUP_PREFIX + module path."""

    nodes: dict[str, dict]  # id -> {"kind", "head", "sub", "members"}
    edges: list[tuple[str, str]]
    owner: dict[str, str] = field(default_factory=dict)  # graph node id -> box id


def module_of(attrs: dict) -> str | None:
    """The module a node belongs to (parameters: their owning module)."""
    m = attrs.get("module")
    return m or None


def _prefixes(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def group_of(module: str | None, collapsed: frozenset[str]) -> str | None:
    """The outermost collapsed module containing `module`, or None when the node is shown."""
    if not module or not collapsed:
        return None
    for p in _prefixes(module):
        if p in collapsed:
            return p
    return None


def modules(g: nx.DiGraph) -> Counter:
    """Node count per module prefix (a node counts for every enclosing module)."""
    counts: Counter = Counter()
    for _, a in g.nodes(data=True):
        m = module_of(a)
        if m:
            counts.update(_prefixes(m))
    return counts


def module_tree(g: nx.DiGraph) -> frozenset[str]:
    """The modules a real model opens with, one box each: the top-level modules; a wrapper around one
    module is opened (TransformerEncoder -> its layers), and while fewer than TREE_MIN boxes show, the
    biggest box is opened (a ModuleList of blocks -> blocks.0, blocks.1, ...)."""
    members: dict[str, list[str]] = {}
    for n, a in g.nodes(data=True):
        for p in _prefixes(module_of(a) or ""):
            members.setdefault(p, []).append(n)
    held = modules(g.subgraph(n for n, a in g.nodes(data=True) if a.get("kind") == "param"))
    # a box is worth it for a module of more than one node holding parameters or one connected piece (a loss
    # module): the model's own functional calls scattered through its forward (relu, pooling, view: module
    # "Net") folded into one box would tie the drawing in knots
    counts = Counter({p: len(ns) for p, ns in members.items() if p and len(ns) > 1
                      and (p in held or nx.is_weakly_connected(g.subgraph(ns)))})
    children: dict[str, list[str]] = {}  # direct sub-modules worth a box, found once (a 10k-node model has
    for p in counts:  # thousands of modules: a scan of them all per box and per step took minutes)
        if "." in p:
            children.setdefault(p.rsplit(".", 1)[0], []).append(p)
    boxes = {p for p in counts if "." not in p}
    while True:
        openable = {p: children[p] for p in boxes if p in children}
        wrappers = {p for p, kids in openable.items() if len(kids) == 1}
        if not wrappers and (len(boxes) >= TREE_MIN or not openable):
            return frozenset(boxes)
        opened = wrappers or {max(openable, key=lambda q: (counts[q], q))}
        boxes = (boxes - opened) | {k for p in opened for k in openable[p]}


def acyclic_boxes(g: nx.DiGraph, boxes: frozenset[str]) -> frozenset[str]:
    """The modules of `boxes` whose box, folded alone, leaves the drawing without a cycle (a module called
    several times with other ops between the calls would point back at itself)."""
    return frozenset(p for p in boxes if nx.is_directed_acyclic_graph(
        nx.DiGraph(display_graph(g, frozenset([p])).edges)))


def expand(collapsed: frozenset[str], prefix: str, g: nx.DiGraph) -> frozenset[str]:
    """Open one module box: its direct sub-modules (with more than one node) stay collapsed."""
    counts = modules(g)
    depth = prefix.count(".") + 1
    children = {p for p in counts if p.startswith(prefix + ".") and p.count(".") == depth and counts[p] > 1}
    return frozenset((collapsed - {prefix}) | children)


def head_and_sub(attrs: dict) -> tuple[str, list[str]]:
    """A node's title and its static lines (variable name, shape): the same text as the exports."""
    lines = node_label(attrs).split("\n")
    static = [ln for ln in lines[1:] if not ln.startswith(("val ", "grad "))]
    return lines[0], static


def readouts(attrs: dict) -> list[str]:
    """The value/gradient lines of a node's label (they change every iteration)."""
    return [ln for ln in node_label(attrs).split("\n")[1:] if ln.startswith(("val ", "grad ", ".grad "))]


def display_graph(g: nx.DiGraph, collapsed: frozenset[str], compact: bool = False) -> DisplayGraph:
    """Fold collapsed modules into one box each and merge the edges between boxes. `compact` boxes (a graph
    that does not fit readable otherwise) have no value/gradient lines: the colour and the inspector tell."""
    nodes: dict[str, dict] = {}
    owner: dict[str, str] = {}
    grouped: dict[str, list[str]] = {}
    for n, a in g.nodes(data=True):
        grp = group_of(module_of(a), collapsed)
        if grp is not None:
            grouped.setdefault(grp, []).append(n)
    box_of = {n: box for grp, ns in grouped.items() for box, members in calls(g, grp, ns).items() for n in members}
    for n, a in g.nodes(data=True):
        box = box_of.get(n)
        if box is None:
            head, sub = head_and_sub(a)
            nodes[n] = {"kind": a.get("kind") or "op", "head": head, "sub": [" · ".join(sub)] if compact and sub
                        else sub, "members": [n], "compact": compact}
            owner[n] = n
        else:
            owner[n] = box
            if box not in nodes:
                nodes[box] = {"kind": "module", "head": box_path(box), "sub": [], "members": [], "compact": compact}
            nodes[box]["members"].append(n)
    seen: set[tuple[str, str]] = set()
    edges = []
    ends: dict[str, dict[str, list]] = {}  # module box -> shapes flowing "in" and "out"
    for u, v in g.edges():
        e = (owner[u], owner[v])
        if e[0] != e[1]:
            if e[1].startswith(GROUP_PREFIX) and g.nodes[u].get("kind") in ("op", "custom"):
                ends.setdefault(e[1], {}).setdefault("in", []).append(g.nodes[u].get("shape"))
            if e[0].startswith(GROUP_PREFIX):
                ends.setdefault(e[0], {}).setdefault("out", []).append(g.nodes[u].get("shape"))
            if e not in seen:
                seen.add(e)
                edges.append(e)
    for box, d in nodes.items():
        if d["kind"] == "module":
            d["type"] = module_class(g, d["head"], d["members"])
            d["sub"] = module_lines(g, d["members"], ends.get(box, {}))
            d["params"] = param_count(g, d["members"])
    return DisplayGraph(nodes, edges, owner)


def calls(g: nx.DiGraph, module: str, members: list[str]) -> dict[str, list[str]]:
    """The boxes of a folded module: one (GROUP_PREFIX + module); or, when its ops form several separate
    pieces (a module called several times, DynamicNet's shared middle layer), one box per call in forward
    order ("module:middle_linear", "module:middle_linear#2", ...) and its parameters left out, drawn as their
    own nodes feeding each call: one box for all would point back at itself."""
    ops = [n for n in members if g.nodes[n].get("kind") != "param"]
    pieces = list(nx.weakly_connected_components(g.subgraph(ops))) if ops else []
    if len(pieces) < 2:
        return {GROUP_PREFIX + module: members}
    pieces.sort(key=lambda c: -max(node_number(n) for n in c))  # node ids count from the loss backwards
    return {GROUP_PREFIX + module + (f"{CALL}{k + 1}" if k else ""): sorted(c, key=node_number)
            for k, c in enumerate(pieces)}


def module_class(g: nx.DiGraph, path: str, members: list[str]) -> str | None:
    """The class name of module `path` (Conv2d, Sequential...), read from a member's module_type (the class
    names along its module path); None in recordings made before it was kept."""
    depth = path.count(".")
    for n in members:
        a = g.nodes[n]
        types, module = a.get("module_type"), a.get("module") or ""
        if types and (module == path or module.startswith(path + ".")):
            parts = types.split(".")
            if len(parts) > depth:
                return parts[depth]
    return None


def box_path(box: str) -> str:
    """The module path of a module box: "module:blocks.1#2" -> "blocks.1"."""
    return box[len(GROUP_PREFIX):].split(CALL)[0]


def box_members(g: nx.DiGraph, box: str) -> list[str]:
    """The graph nodes a module box ("module:<path>", "module:<path>#2") folds, as display_graph folds them."""
    path = box_path(box)
    inside = [n for n, a in g.nodes(data=True) if (m := module_of(a)) and (m == path or m.startswith(path + "."))]
    return calls(g, path, inside).get(box, []) if inside else []


def title(box: dict) -> str:
    """A box's first line: a module's path and its class ("0 · Sequential", "conv1 · Conv2d") where that fits
    in the width its other lines take, give or take TITLE_SLACK characters (a box never widens more for it:
    the class is in the tooltip and the inspector); else its head."""
    named = module_name(box["head"], box.get("type"))
    return named if len(named) + 1 <= _chars(box, box["head"]) + TITLE_SLACK else box["head"]


def module_name(path: str, cls: str | None) -> str:
    """A module's path and class, "conv1 · Conv2d" (the path alone when the class is unknown or the same)."""
    return f"{path} · {cls}" if cls and cls != path else path


def _chars(box: dict, first: str) -> int:
    """The characters a box's widest line takes, its first line being `first`."""
    lines = [len(first) + 1] + [len(s) for s in box["sub"]]
    if box.get("compact"):  # a module's parameter count (items.py words it)
        return max(lines + [len(f"{box['params']:,} parameters") if box.get("params") else 0])
    return max(lines + [READOUT_CHARS])


def shape_text(shape) -> str:
    return "×".join(str(s) for s in shape) or "scalar"


def module_lines(g: nx.DiGraph, members: list[str], ends: dict[str, list]) -> list[str]:
    """A module box's static line: the shapes flowing into it -> out of it (two of each at most)."""
    def shapes(key: str) -> str:
        seen = dict.fromkeys(tuple(s) for s in ends.get(key, []) if s is not None)
        return ", ".join(shape_text(s) for s in list(seen)[:2])

    into, out = shapes("in"), shapes("out")
    return [f"{into} → {out}".strip()] if into or out else []


def param_count(g: nx.DiGraph, members: list[str]) -> int:
    """Elements of the parameters among `members` (AccumulateGrad nodes carry their parameter's shape)."""
    return sum(math.prod(g.nodes[n].get("shape") or ()) for n in members if g.nodes[n].get("kind") == "param")


def box_size(box: dict, char_w: float, line_h: float) -> tuple[float, float]:
    """Width and height in points of a box, from character counts (deterministic, no fonts)."""
    if box.get("compact"):  # title, static line; a module's parameter count (items.py words it)
        lines = 1 + len(box["sub"]) + bool(box.get("params"))
        return math.ceil(_chars(box, title(box)) * char_w + 10), math.ceil(lines * line_h + 6)
    chars = _chars(box, title(box))
    # readouts: val and grad; a leaf's .grad too when earlier backwards left a sum in it (zero_grad forgotten)
    # a module: its parameter count, node count and largest gradient norm (items.py words them)
    lines = 1 + len(box["sub"]) + {"module": 3, "param": 3, "leaf": 3}.get(box["kind"], 2)
    return math.ceil(chars * char_w + 16), math.ceil(lines * line_h + 10)


def grad_norm(attrs: dict) -> float | None:
    """The node's gradient norm (inf when the gradient has NaN/Inf), None when unknown."""
    s = attrs.get("grad")
    if not s:
        return None
    if nonfinite(s):
        return math.inf
    n = s.get("norm")
    return float(n) if n is not None else None


def node_key(attrs: dict) -> tuple:
    """What identifies a node across iterations, whose ids are only positions in a walk."""
    return (attrs.get("op"), attrs.get("kind"), attrs.get("name"), attrs.get("module"),
            tuple(attrs.get("shape") or ()))


def structural_diff(old: nx.DiGraph, new: nx.DiGraph) -> tuple[set[str], list[str]]:
    """Nodes of `new` that `old` did not have (by op/name/module/shape, counted), and what was removed."""
    before = Counter(node_key(a) for _, a in old.nodes(data=True))
    after: dict[tuple, list[str]] = {}
    for n, a in new.nodes(data=True):
        after.setdefault(node_key(a), []).append(n)
    added: set[str] = set()
    for key, ids in after.items():
        extra = len(ids) - before.get(key, 0)
        if extra > 0:
            # ids are positions from the loss backwards: the first ones are nearest the output
            added.update(sorted(ids, key=node_number)[:extra])
    removed = []
    for key, count in before.items():
        gone = count - len(after.get(key, ()))
        if gone > 0:
            op, _, name, module, _ = key
            label = name or op
            removed.append(f"{gone}× {label}" + (f" ({module})" if module else ""))
    return added, removed


def matches(g: nx.DiGraph, text: str) -> list[str]:
    """Node ids whose name or op contains `text` (case-insensitive), in forward order."""
    t = text.strip().lower()
    if not t:
        return []
    hits = [n for n, a in g.nodes(data=True)
            if t in (a.get("name") or "").lower() or t in (a.get("op") or "").lower()
            or t in (a.get("module") or "").lower()]
    return sorted(hits, key=node_number, reverse=True)
