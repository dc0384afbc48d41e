"""The doctor's rules about shapes on the way to the loss (pure functions of a `doctor.Run`, read from
each structure's graph): broadcast, softmax-dim."""

from __future__ import annotations

import math

import networkx as nx

from .rules import PASS_THROUGH, base_op, finding, node_ref, node_subject

ELEMENTWISE = {"Sub", "Add", "Rsub", "Mul", "Div", "Expand", "Pow", "Where", "Maximum", "Minimum",
               "MseLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BinaryCrossEntropy"}
# ops that keep or reduce a tensor on its way to a loss: a broadcast result that only passes these is the loss
TO_LOSS = PASS_THROUGH | {"Pow", "Abs", "Mean", "Sum", "Mul", "Div", "Neg", "Sqrt", "Add", "Sub", "MseLoss",
                          "L1Loss", "SmoothL1Loss", "HuberLoss", "BinaryCrossEntropy"}


def reaches_loss(g: nx.DiGraph, start: str, through) -> bool:
    """Whether a path leads from `start` to the loss (a sink) through nodes `through(g, node)` accepts."""
    todo, seen = [start], {start}
    while todo:
        n = todo.pop()
        if g.out_degree(n) == 0:
            return True
        for s in g.successors(n):
            if s not in seen and through(g, s):
                seen.add(s)
                todo.append(s)
    return False


def outer(shape: list, out: list) -> bool:
    """Whether broadcasting `shape` to `out` pairs one size with itself: a size-1 (or missing) dimension
    expanded to the length of another dimension the operand already has, as (N, 1) against (N,) -> (N, N)."""
    padded = [1] * (len(out) - len(shape)) + list(shape)
    kept = {o for p, o in zip(padded, out, strict=True) if p == o > 1}
    return any(p == 1 and o in kept for p, o in zip(padded, out, strict=True))


def _named(g: nx.DiGraph, n: str) -> str:
    """The node as a finding names it; one made inside a library call (no line of the script) by the call
    that made it: `ExpandBackward0 in MseLossBackward0 at train.py:12`."""
    a = g.nodes[n]
    if a.get("source"):
        return node_subject(a)
    caller = next((g.nodes[s] for s in nx.bfs_tree(g, n) if g.nodes[s].get("source")), None)
    return f"{a.get('op')} in {node_subject(caller)}" if caller else node_subject(a)


def _towards_loss(g: nx.DiGraph, n: str) -> bool:
    return base_op(g.nodes[n].get("op")) in TO_LOSS


def _alone(g: nx.DiGraph, n: str) -> bool:
    """No other tensor with a gradient joins here."""
    return g.in_degree(n) == 1


def _size(shape) -> int:
    return math.prod(shape) if shape else 1


def broadcast(run) -> list[dict]:
    """An elementwise op on the way to the loss whose result is bigger than every operand that reaches it,
    by pairing a dimension with itself: a prediction (N, 1) against a target (N,) gives (N, N), and the loss
    compares every prediction with every target."""
    out, seen = [], set()
    for first, g in sorted(run.graphs.values(), key=lambda x: x[0]):
        for n, a in g.nodes(data=True):
            shape = a.get("shape") or []
            if base_op(a.get("op")) not in ELEMENTWISE or len(shape) < 2:
                continue
            ins = [g.nodes[p].get("shape") or [] for p in g.predecessors(n)]
            if not ins or max(map(_size, ins)) >= _size(shape) or not any(outer(s, shape) for s in ins):
                continue
            if not reaches_loss(g, n, _towards_loss):
                continue
            subject = _named(g, n)
            if subject in seen:
                continue
            seen.add(subject)
            small = next(s for s in ins if outer(s, shape))
            out.append(finding("broadcast", "warning", first, subject,
                               f"{subject} broadcasts an operand of shape {tuple(small)} into a {tuple(shape)} "
                               f"result on the way to the loss: the other operand's shape differs (e.g. "
                               f"({shape[0]},) against ({shape[0]}, 1)), so every prediction is compared with "
                               "every target", "make the shapes equal before the loss: pred.squeeze(-1) for an "
                               "(N,) target, or target.unsqueeze(-1) / target.view_as(pred)",
                               node=node_ref(g, n), evidence={"operand_shape": list(small), "result_shape": shape}))
    return out


def softmax_dim(run) -> list[dict]:
    """softmax / log_softmax over dimension 0 of a batch (N, C...) whose result goes straight into the loss
    (no other learnt tensor joins it on the way): the probabilities are normalised across the samples
    instead of across the classes."""
    out, seen = [], set()
    for first, g in sorted(run.graphs.values(), key=lambda x: x[0]):
        for n, a in g.nodes(data=True):
            shape = a.get("shape") or []
            if base_op(a.get("op")) not in ("Softmax", "LogSoftmax") or a.get("dim") != 0 or len(shape) < 2 \
                    or shape[0] < 2:
                continue
            if not reaches_loss(g, n, _alone):
                continue  # attention weights and the like: they meet other tensors before the loss
            subject = node_subject(a)
            if subject in seen:
                continue
            seen.add(subject)
            out.append(finding("softmax-dim", "warning", first, subject,
                               f"{subject} normalises over dimension 0 of a {tuple(shape)} tensor, the batch: "
                               "each class's scores are turned into probabilities across the samples, and the "
                               "loss reads them as probabilities across the classes",
                               "use dim=1 (or dim=-1) for (N, C) scores: F.log_softmax(logits, dim=1), "
                               "nn.Softmax(dim=1)", node=node_ref(g, n), evidence={"dim": 0, "shape": shape}))
    return out
