"""The doctor's rules about sizes: exploding, vanishing (pure functions of a `doctor.Run`, findings out)."""

from __future__ import annotations

import math
import statistics

import networkx as nx

from ..iteration import total_grad_norm
from .rules import finding

GROWTH = 1e3  # "orders of magnitude": the loss or gradient norm this many times its starting size
RATIO_HIGH = 0.1  # update/weight ratio far above the usual ~1e-3
VANISHED = 1e-4  # early layers' gradient (per element) this far below the last layers'
MIN_DEPTH = 4  # a deep stack: weights at this many distinct distances from the loss


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def growth(series: list[tuple[int, float]]) -> tuple[int, float] | None:
    """(iteration, factor) where |value| first reaches GROWTH x its start (the median of the first three)."""
    values = [(i, abs(v)) for i, v in series if _finite(v)]
    if len(values) < 3:
        return None
    base = statistics.median(v for _, v in values[:3])
    if base <= 0:
        return None
    for i, v in values:
        if v >= GROWTH * base:
            return i, v / base
    return None


def exploding(run) -> list[dict]:
    """The loss or the total gradient norm grows by orders of magnitude; or a weight's update/weight ratio
    stays far above ~1e-3."""
    hint = "lower the learning rate (by 10x at a time), normalise the inputs, or clip gradients"
    for what, series in (("loss", [(s["index"], s.get("loss")) for s in run.steps]),
                         ("gradient norm", [(s["index"], total_grad_norm(s["params"])) for s in run.steps])):
        hit = growth(series)
        if hit is not None:
            index, factor = hit
            return [finding("exploding", "warning", index, what,
                            f"the {what} grew {factor:.3g}x from its start by iteration {index}", hint)]
    shapes = _shapes(run)
    for name, rows in run.updates.items():
        ratios = [(i, r) for i, r in rows if _finite(r)]
        if len(shapes.get(name) or ()) < 2 or len(ratios) < 3:
            continue  # weights only: a bias starting at zero has a huge ratio at first, rightly
        median = statistics.median(r for _, r in ratios)
        if median > RATIO_HIGH:
            index = next(i for i, r in ratios if r > RATIO_HIGH)
            return [finding("exploding", "warning", index, name,
                            f"each step changes {name} by {median:.3g} of its size (median update/weight "
                            f"ratio; healthy training is near 1e-3)", hint)]
    return []


def _shapes(run) -> dict[str, list]:
    return {a["name"]: a.get("shape") for _, g in run.graphs.values() for _, a in g.nodes(data=True)
            if a.get("kind") == "param" and a.get("name")}


def depths(g: nx.DiGraph) -> dict[str, tuple[int, int]]:
    """Weight parameters (2+ dimensions) of a graph: name -> (edges to the nearest loss, elements)."""
    rev = g.reverse(copy=False)
    dist: dict[str, int] = {}
    for sink in (n for n in g if g.out_degree(n) == 0):
        for n, d in nx.single_source_shortest_path_length(rev, sink).items():
            dist[n] = min(d, dist.get(n, d))
    out = {}
    for n, a in g.nodes(data=True):
        shape = a.get("shape") or []
        if a.get("kind") == "param" and a.get("name") and len(shape) >= 2 and n in dist:
            out[a["name"]] = (dist[n], math.prod(shape))
    return out


def vanishing(run) -> list[dict]:
    """On a deep stack, the earliest weights' gradients (per element) are zero or many orders of magnitude
    below the last weights', in most iterations."""
    by_sig = {sig: depths(g) for sig, (_, g) in run.graphs.items()}
    hits, counted = [], 0
    for s in run.steps:
        layers = by_sig.get(s["signature"]) or {}
        if len({d for d, _ in layers.values()}) < MIN_DEPTH:
            continue
        rms = {n: s["params"][n]["grad_norm"] / math.sqrt(k) for n, (_, k) in layers.items()
               if n in s["params"] and _finite(s["params"][n].get("grad_norm"))}
        if len(rms) < 2:
            continue
        counted += 1
        early = max(rms, key=lambda n: layers[n][0])
        late = min(rms, key=lambda n: layers[n][0])
        if rms[late] > 0 and rms[early] <= VANISHED * rms[late]:
            hits.append((s["index"], early, late, rms[early] / rms[late]))
    if not hits or len(hits) * 2 < counted:
        return []
    index, early, late, ratio = hits[0]
    size = "zero" if ratio == 0 else f"{ratio:.2g} of"
    return [finding("vanishing", "warning", index, early,
                    f"the gradient reaching {early} (the earliest layer) is {size} the one at {late} "
                    f"(per element) in {len(hits)} of {counted} iterations: the early layers barely learn",
                    "use ReLU-family activations, a proper init (kaiming/xavier), normalisation layers or "
                    "residual connections")]

