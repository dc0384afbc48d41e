"""The Iteration record every layer shares (no torch, no Qt: the GUI imports this)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: `record`'s parent process never needs it (~0.12 s)
    import networkx as nx

# accumulated: a leaf's .grad after this backward when earlier ones had left a sum in it (else absent)
# dim: the dimension a softmax / log_softmax normalises over (None for other ops; recordings before it lack it)
# module_type: the class names along the node's module path, one per part ("0.1" -> "Sequential.BatchNorm2d")
NODE_FIELDS = ("op", "kind", "name", "module", "shape", "dtype", "device", "source", "dim", "value", "grad",
               "accumulated", "module_type")
STATIC_FIELDS = ("op", "kind", "name", "module", "shape", "dtype", "device", "source", "dim", "module_type")
PENDING = "grad_pending"  # a node attribute (not recorded): its gradient is still to come in this backward
DETAILS = ("auto", "full", "light")  # auto: full where the budget allows, light elsewhere
DEFAULT_DETAIL = "auto"  # record, scripts opened in the app
LIVE_DETAIL = "full"  # lessons and interactive sessions: every node's value and gradient
SINK = "n0"  # the node of the backward's root (the loss); node k of a walk is node_id(k)


def node_id(k: int) -> str:
    return f"n{k}"


def node_ids(count: int) -> list[str]:
    """[node_id(k) for k in range(count)], without a call per node (the graph build's hot loop)."""
    return [f"n{k}" for k in range(count)]


def node_number(nid: str) -> int:
    """k of node_id(k) (0 for ids of another form, e.g. collapsed modules)."""
    return int(nid[1:]) if nid[1:].isdigit() else 0


def kept_graph(detail: str) -> bool:
    """Whether an iteration recorded at `detail` has a graph (all do but "loss", from older versions)."""
    return detail != "loss"


def nonfinite(summary: dict | None) -> bool:
    """Whether a value/gradient summary reports any NaN or Inf element (anything but a summary: no)."""
    return isinstance(summary, dict) and bool(summary.get("nan") or summary.get("inf"))


def value_nonfinite(attrs: dict) -> bool:
    """Whether a node's forward value counts as non-finite: a NaN in it; or an infinity unless the node's
    gradient is known and finite, or is still to come (PENDING: the graph of a backward under way). A causal mask's -inf (masked_fill before a softmax, which turns it into
    0) is expected: its backward stays finite. An infinity that does harm shows as a non-finite loss or
    gradient, or as NaN (iteration_nonfinite)."""
    v = attrs.get("value")
    if not nonfinite(v):
        return False
    g = attrs.get("grad")
    if not isinstance(g, dict):  # unknown: never computed, or still on its way (a backward under way)
        return bool(v.get("nan")) or not attrs.get(PENDING)
    return bool(v.get("nan")) or nonfinite(g)


def node_nonfinite(attrs: dict) -> bool:
    """Whether a node is flagged NaN/Inf (the graph, the exports, the inspector): a NaN or an infinity in its
    gradient, or a non-finite forward value (value_nonfinite)."""
    return nonfinite(attrs.get("grad")) or value_nonfinite(attrs)


def iteration_nonfinite(loss: float | None, params: dict, nodes: Iterable[dict]) -> bool:
    """The one rule for "this iteration is non-finite": its loss or a parameter's gradient (`params` as in
    Iteration.params) holds NaN or Inf, or a node is (node_nonfinite; `nodes`: dicts with "value"/"grad"
    summaries). The breakpoint, the doctor, the recording's flag and the plots read it."""
    if loss is not None and not math.isfinite(loss):
        return True
    for row in params.values():
        norm = row.get("grad_norm")
        if row.get("nan") or row.get("inf") or (norm is not None and not math.isfinite(norm)):
            return True
    return any(node_nonfinite(a) for a in nodes)


def total_grad_norm(params: dict) -> float | None:
    """The gradient norm of all parameters together (`params` as in Iteration.params): the root of the
    sum of their squared norms, NaN/Inf when one is (as torch.nn.utils.clip_grad_norm_ reports it);
    None when no parameter has a gradient."""
    norms = [row["grad_norm"] for row in params.values() if isinstance(row, dict) and row.get("grad_norm") is not None]
    return math.sqrt(sum(n * n for n in norms)) if norms else None


@dataclass
class Iteration:
    """One backward pass: its graph (forward-direction edges) and numbers."""

    index: int
    loss: float | None
    optimizer_steps: int
    signature: str
    graph: nx.DiGraph
    detail: str = "light"
    phase_times: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # name -> {"grad_norm", "nan", "inf", "accumulated_norm"?}
    # a GradScaler's factor when the backward ran from scaler.scale(loss): node gradients are scaled by
    # it; `loss` and the params' grad_norm are unscaled
    grad_scale: float | None = None
    # the tracer's core.graph.Structure whose static attributes `graph` shares (not serialised): a
    # recording recognises a repeated structure by it without reading the graph
    structure: object = field(default=None, repr=False, compare=False)
    # iteration_nonfinite of this iteration; computed from the graph when not given (the tracer and
    # the recording pass theirs)
    nonfinite: bool | None = None

    def __post_init__(self):
        if self.nonfinite is None:
            self.nonfinite = iteration_nonfinite(self.loss, self.params, (a for _, a in self.graph.nodes(data=True)))

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "loss": self.loss,
            "optimizer_steps": self.optimizer_steps,
            "signature": self.signature,
            "detail": self.detail,
            "phase_times": self.phase_times,
            "params": self.params,
            "grad_scale": self.grad_scale,
            "nonfinite": self.nonfinite,
            "graph": graph_to_json(self.graph),
        }

    @classmethod
    def from_json(cls, d: dict) -> Iteration:
        """`d` from to_json; with "grads_pending" (the graph sent as a backward begins), every node without a
        gradient is marked PENDING until its gradient arrives."""
        g = graph_from_json(d["graph"])
        pending = bool(d.get("grads_pending"))
        if pending:
            for a in g._node.values():
                if a.get("grad") is None:
                    a[PENDING] = True
        return cls(
            index=d["index"], loss=d.get("loss"), optimizer_steps=d.get("optimizer_steps", 0),
            signature=d.get("signature", ""), graph=g,
            detail=d.get("detail", "light"), phase_times=d.get("phase_times") or {},
            params=d.get("params") or {}, grad_scale=d.get("grad_scale"),
            nonfinite=None if pending else d.get("nonfinite"),
        )


def graph_to_json(g: nx.DiGraph) -> dict:
    nodes = [{"id": n, **{k: a.get(k) for k in NODE_FIELDS}} for n, a in g.nodes(data=True)]
    edges = [{"source": u, "target": v} for u, v in g.edges()]
    return {"nodes": nodes, "edges": edges}


def graph_from_json(d: dict) -> nx.DiGraph:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from((n["id"], {k: n.get(k) for k in NODE_FIELDS}) for n in d.get("nodes", []))
    g.add_edges_from((e["source"], e["target"]) for e in d.get("edges", []))
    return g


def first_nonfinite(g: nx.DiGraph) -> str | None:
    """Where a NaN/Inf first appeared: the first node in forward order whose value is non-finite;
    failing that, the op whose backward turned a finite gradient into a non-finite one.

    Forward order: leaves, then ops in the order they ran (the tracer's `seq`, when captured),
    then the rest topologically.
    """
    import networkx as nx

    topo = list(nx.lexicographical_topological_sort(g, key=lambda n: -node_number(n)))
    order = sorted(topo, key=lambda n: _run_order(g.nodes[n]))  # stable: topological among equals
    by_value = next((n for n in order if value_nonfinite(g.nodes[n])), None)
    # the op whose backward turned a finite gradient into a non-finite one (backward order)
    by_grad = next((n for n in reversed(order) if g.nodes[n].get("grad") and not nonfinite(g.nodes[n]["grad"])
                    and any(nonfinite(g.nodes[p].get("grad")) for p in g.predecessors(n))), None)
    ops_valued = any(a.get("value") for n, a in g.nodes(data=True) if a.get("kind") in ("op", "custom") and n != SINK)
    # forward values name the origin when ops have them; without (light detail, an iteration made full at
    # its backward) the first bad value is just the loss, and the gradients say more
    first = (by_value or by_grad) if ops_valued else (by_grad or by_value)
    if first is not None:
        return first
    return next((n for n in reversed(order) if nonfinite(g.nodes[n].get("grad"))), None)


def _run_order(a: dict) -> float:
    if a.get("kind") in ("param", "leaf"):
        return -1
    return a["seq"] if a.get("seq") is not None else float("inf")
