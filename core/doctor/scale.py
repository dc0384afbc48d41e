"""The doctor's rules about sizes: exploding, vanishing (pure functions of a `doctor.Run`, findings out)."""

from __future__ import annotations

import math
import statistics

import networkx as nx

from ..iteration import total_grad_norm
from .rules import LOSS, PASS_THROUGH, base_op, finding, node_ref, node_subject, param_ref

GROWTH = 1e3  # "orders of magnitude": the loss or gradient norm this many times its starting size
RATIO_HIGH = 0.1  # update/weight ratio far above the usual ~1e-3
VANISHED = 1e-4  # early layers' gradient (per element) this far below the last layers'
MIN_DEPTH = 4  # a deep stack: weights at this many distinct distances from the loss


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def growth(series: list[tuple[int, float]]) -> tuple[int, float, float, float] | None:
    """(iteration, factor, start, value) where |value| first reaches GROWTH x its start (the median of the
    first three)."""
    values = [(i, abs(v)) for i, v in series if _finite(v)]
    if len(values) < 3:
        return None
    base = statistics.median(v for _, v in values[:3])
    if base <= 0:
        return None
    for i, v in values:
        if v >= GROWTH * base:
            return i, v / base, base, v
    return None


def exploding(run) -> list[dict]:
    """The loss or the total gradient norm grows by orders of magnitude (a warning). A weight's update/weight
    ratio far above ~1e-3 with neither growing is only info: healthy runs with batch norm and momentum
    show it too."""
    hint = "lower the learning rate (by 10x at a time), normalise the inputs, or clip gradients"
    for what, curve, series in (("loss", "loss", [(s["index"], s.get("loss")) for s in run.steps]),
                                ("gradient norm", "grad_norm", [(s["index"], total_grad_norm(s["params"]))
                                                                for s in run.steps])):
        hit = growth(series)
        if hit is not None:
            index, factor, base, value = hit
            return [finding("exploding", "warning", index, what,
                            f"the {what} grew {factor:.3g}x from its start ({base:.3g}) to {value:.3g} by "
                            f"iteration {index}", hint, node=dict(LOSS) if what == "loss" else None,
                            evidence={"start": base, "value": value, "factor": factor}, curve=curve)]
    shapes = _shapes(run)
    for name, rows in run.updates.items():
        ratios = [(i, r) for i, r in rows if _finite(r)]
        if len(shapes.get(name) or ()) < 2 or len(ratios) < 3:
            continue  # weights only: a bias starting at zero has a huge ratio at first, rightly
        median = statistics.median(r for _, r in ratios)
        if median > RATIO_HIGH:
            index = next(i for i, r in ratios if r > RATIO_HIGH)
            return [finding("exploding", "info", index, name,
                            f"each step changes {name} by {median:.3g} of its size (median update/weight ratio "
                            f"over {len(ratios)} steps; ~1e-3 is usual), but neither the loss nor the gradient "
                            "norm grows: fine if the loss falls", hint, node=param_ref(name),
                            evidence={"median_update_ratio": median, "steps": len(ratios)},
                            curve="update_ratio")]
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
                    "residual connections", node=param_ref(early),
                    evidence={"ratio": ratio, "iterations": len(hits), "of": counted}, curve="grad_norm")]


# ---- lr-too-small ----------------------------------------------------------------
TINY = 1e-6  # update/weight ratio: a step this small moves a weight by a millionth of its size
MIN_STEPS = 2  # sampled optimizer steps needed to call it (steps are sampled: ~30 a second at most) ...
MIN_RUN = 10  # ... out of at least this many steps
RISING = 10.0  # the last steps' ratio this many times the first steps': a warm-up, not a fault


def lr_too_small(run) -> list[dict]:
    """Every sampled step moves every weight by less than TINY of its size, and the steps do not grow (a
    warm-up) and did not shrink from normal sizes (a decayed schedule): the learning rate cannot move the
    loss. Weights without a gradient (frozen) are left out."""
    shapes = _shapes(run)
    fed = {(s["index"], n) for s in run.steps for n, row in s["params"].items() if (row.get("grad_norm") or 0) > 0}
    per_step: dict[int, float] = {}  # iteration -> the largest ratio of a weight that had a gradient
    for name, rows in run.updates.items():
        if len(shapes.get(name) or ()) < 2:
            continue
        for i, r in rows:  # 0 with a gradient: a step below float precision (w + 1e-9 == w)
            if _finite(r) and (i, name) in fed:
                per_step[i] = max(per_step.get(i, 0.0), r)
    steps = sorted(per_step.items())
    if len(steps) < MIN_STEPS or not run.steps or run.steps[-1]["optimizer_steps"] + 1 < MIN_RUN:
        return []
    largest = max(r for _, r in steps)
    third = max(1, len(steps) // 3)
    head = statistics.median(r for _, r in steps[:third])
    tail = statistics.median(r for _, r in steps[-third:])
    if largest >= TINY or tail > RISING * max(head, TINY / 100):  # a warm-up rising out of the tiny range
        return []
    losses = [s["loss"] for s in run.steps if _finite(s.get("loss"))]
    first, last = (losses[0], losses[-1]) if losses else (None, None)
    moved = f"; the loss went from {first:.6g} to {last:.6g}" if losses else ""
    median = statistics.median(r for _, r in steps)
    total = run.steps[-1]["optimizer_steps"] + 1
    return [finding("lr-too-small", "warning", steps[0][0], "loss",
                    f"in {len(steps)} sampled optimizer steps (of about {total}) every weight moved by at most "
                    f"{largest:.2g} of its size (median {median:.2g}; ~1e-3 is usual){moved}: the learning rate is too small "
                    "for anything to learn", "raise the learning rate (1e-3 for Adam, 1e-2 to 1e-1 for SGD are "
                    "usual starts); check the scheduler's factor and the loss scale",
                    node=dict(LOSS), curve="update_ratio",
                    evidence={"largest_update_ratio": largest, "median_update_ratio": median, "steps": len(steps),
                              "loss_first": first, "loss_last": last})]


# ---- dead-units ------------------------------------------------------------------
DEAD_SHARE = 0.8  # a parameter's gradient exactly zero in this share of its iterations
MIN_DEAD = 3  # ... and in at least this many
ZEROING = {"Relu", "Threshold", "Hardtanh", "Relu6", "Hardsigmoid", "Hardswish"}  # ops that output flat zeros


def _silent(run) -> dict[str, tuple[int, int, int]]:
    """Parameters in the graph whose gradient is exactly zero in most iterations while others' are not:
    name -> (first such iteration, zero iterations, iterations seen)."""
    out: dict[str, list[int]] = {}
    for s in run.steps:
        if not any(_finite(r.get("grad_norm")) and r["grad_norm"] > 0 for r in s["params"].values()):
            continue  # nothing learns in this backward: no contrast
        for name, row in s["params"].items():
            if _finite(row.get("grad_norm")):
                seen = out.setdefault(name, [None, 0, 0])
                seen[2] += 1
                if row["grad_norm"] == 0:
                    seen[1] += 1
                    seen[0] = s["index"] if seen[0] is None else seen[0]
    return {n: (f, z, k) for n, (f, z, k) in out.items() if z >= MIN_DEAD and z >= DEAD_SHARE * k}


def dead_activation(g: nx.DiGraph, name: str) -> str | None:
    """The ReLU-family op whose all-zero output (forward values of a full-detail iteration) silences
    parameter `name`: one on its way to the loss, or the input of the op it feeds (a layer after it)."""
    start = next((n for n, a in g.nodes(data=True) if a.get("kind") == "param" and a.get("name") == name), None)
    if start is None:
        return None
    dead = [n for n, a in g.nodes(data=True) if base_op(a.get("op")) in ZEROING
            and (a.get("value") or {}).get("max") == 0 and (a.get("value") or {}).get("min") == 0]
    after = nx.descendants(g, start)
    feeds = _consumers(g, start)
    return next((n for n in dead if n in after or feeds & _consumers(g, n)), None)


def _consumers(g: nx.DiGraph, n: str) -> set[str]:
    """The ops that use `n`'s output, looking through shape-only ops (a weight's transpose)."""
    out, todo = set(), list(g.successors(n))
    while todo:
        m = todo.pop()
        if base_op(g.nodes[m].get("op")) in PASS_THROUGH:
            todo.extend(g.successors(m))
        else:
            out.add(m)
    return out


def dead_units(run) -> list[dict]:
    """A layer's output is all zero (a dead ReLU, saturated hard activation) for the whole batch over many
    iterations: every parameter before it gets an exactly zero gradient and never learns."""
    silent = _silent(run)
    if not silent:
        return []
    graphs = sorted(run.graphs.values(), key=lambda x: x[0])
    found: dict[str, tuple[int, str, list]] = {}  # dead op's subject -> (iteration, node id, graph)
    for name in sorted(silent, key=lambda n: silent[n][0]):
        hit = next(((g, n) for _, g in graphs if (n := dead_activation(g, name)) is not None), None)
        key = node_subject(hit[0].nodes[hit[1]]) if hit else name
        found.setdefault(key, (silent[name][0], hit, []))[2].append(name)
    out = []
    for key, (index, hit, names) in found.items():
        zero, seen = max(silent[n][1] for n in names), max(silent[n][2] for n in names)
        layer = f"{key} outputs zero for every sample, so " if hit else ""
        out.append(finding("dead-units", "warning", index, key,
                           f"{layer}the gradient of {', '.join(names[:3])}{' and more' if len(names) > 3 else ''} "
                           f"is exactly zero in {zero} of {seen} iterations: the layers before it never learn",
                           "check the initialisation (biases far below zero, weights of one sign), lower the "
                           "learning rate, or use LeakyReLU / GELU; normalise the inputs",
                           node=node_ref(*hit) if hit else param_ref(names[0]),
                           evidence={"zero_gradient_iterations": zero, "iterations": seen, "parameters": names},
                           curve="grad_norm"))
    return out

